"""What a job command runs on: the shared store, a gateway (real or the persistent demo one) and
a :class:`~studio.jobs.engine.JobEngine`, as the TUI runs them; and how a job's end is told
(``notify_command``, a terminal notification and the bell).

Two kinds of engine. One that *takes up* every unfinished job nobody holds (``jobs run``,
``jobs watch``), exactly like a TUI window's; and one that works only on the jobs it creates or
is asked about (``image``, ``video``, ``jobs wait|retry|cancel|check``: ``JobEngine.take_up``),
so a short command never claims other jobs only to drop them when it ends. Either way the
claims keep two processes from polling or saving the same job.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from studio.commands.common import open_gateway, say
from studio.config import Settings
from studio.jobs import EngineConfig, Job
from studio.jobs.notify import COMMAND_TIMEOUT, JobNotifier, terminal_alert
from studio.paths import media_dir
from studio.store import Store

if TYPE_CHECKING:
    from studio.jobs.engine import JobEngine


def engine_config(settings: Settings, *, demo: bool, take_up: bool) -> EngineConfig:
    """The engine's pacing, as a TUI window would use it (the demo's quick pacing for
    ``--demo``); ``take_up=False`` claims no job it did not create."""
    if demo:
        config = EngineConfig.demo(media_dir(settings.media_dir))
    else:
        config = EngineConfig.from_settings(settings)
    return config if take_up else dataclasses.replace(config, claim_batch=0)


@dataclass
class JobRuntime:
    """An open store, gateway and running engine; ``alerts`` tells of a job's end."""

    settings: Settings
    store: Store
    engine: JobEngine
    alerts: JobAlerts


@asynccontextmanager
async def job_runtime(
    settings: Settings,
    *,
    demo: bool,
    take_up: bool,
    on_change: Callable[[Job], None] | None = None,
) -> AsyncIterator[JobRuntime]:
    """Open the store and the gateway and start an engine; everything is stopped and closed
    (claims released) on the way out, ctrl+c included."""
    from studio.api.download import Downloader  # httpx: only for the commands that need it
    from studio.jobs.engine import JobEngine

    store = Store.open()
    try:
        async with open_gateway(settings, demo=demo) as gateway:
            client = await gateway.client()
            config = engine_config(settings, demo=demo, take_up=take_up)
            engine = JobEngine(store, client, Downloader(), config, on_change=on_change)
            alerts = JobAlerts(settings)
            try:
                async with engine:
                    yield JobRuntime(settings, store, engine, alerts)
            finally:
                await alerts.drain()
    finally:
        store.close()


def open_store() -> Store:
    """The shared store, for the commands that only read it or change it directly."""
    return Store.open()


class JobAlerts:
    """Tells of a job's end: ``notify_command`` for the jobs this process ended (the process
    that ends a job runs it, so it runs once) and, when ``stream`` is a terminal, the bell and
    the terminal's desktop notification (settings ``bell`` and ``notify``)."""

    def __init__(
        self,
        settings: Settings,
        stream: TextIO | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._stream = sys.stderr if stream is None else stream
        self._env = os.environ if env is None else env
        try:
            self.terminal = self._stream.isatty()
        except (AttributeError, ValueError):
            self.terminal = False
        self.notifier = JobNotifier(settings, on_problem=say)

    async def ended(self, job: Job, *, here: bool) -> None:
        """``job`` ended; ``here`` when this process's engine ended it."""
        if here:
            await self.notifier.job_ended(job)
        alert = terminal_alert(job, self.settings, self._env) if self.terminal else ""
        if alert:
            with contextlib.suppress(OSError, ValueError):
                self._stream.write(alert)
                self._stream.flush()

    async def drain(self) -> None:
        """Let the ``notify_command``s still running finish (killed after their timeout)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(COMMAND_TIMEOUT + 1):
                await self.notifier.drain()
