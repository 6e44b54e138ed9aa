"""The app's side of the job engine: start it, throttle its updates, tell the user about jobs.

The engine (``studio.jobs``) knows nothing of Textual; it calls ``on_change(job)`` after every
committed change. This controller records the change and publishes :class:`JobsChanged` on
its :attr:`~JobsController.changed` signal at most :data:`REDRAW_HZ` times a second, never once
per poll response; the screens and widgets that show jobs subscribe to it while they are
mounted (the controller never calls a screen). Messages written for jobs go out on
:attr:`~JobsController.messages`. When a job finishes or fails
:class:`~studio.tui.job_reports.JobReporter` tells the user; what the user asks of jobs is
carried out by :class:`~studio.tui.job_actions.JobActions`.

Other windows (and headless commands) change jobs too. On the same tick the controller asks a
:class:`~studio.store.watch.JobWatcher` what other connections committed (one ``PRAGMA`` when
nothing did) and merges the jobs that changed, so every window shows every job as it stands.
A job this window's engine does not hold is reported by the window that holds it; here it only
earns a quiet toast, and its result message is shown in the conversation if that is open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.signal import Signal

from studio.api.errors import AnyFastError
from studio.config import Settings
from studio.jobs import Job, JobState
from studio.paths import media_dir
from studio.store import Message, StoreError
from studio.store.watch import JobChanges, JobWatcher
from studio.tui.job_reports import JobReporter, placeholder_text

if TYPE_CHECKING:
    from studio.jobs import EngineConfig
    from studio.jobs.engine import JobEngine
    from studio.jobs.requests import MediaRequest
    from studio.tui.app import StudioApp

REDRAW_HZ = 4
FINAL = frozenset(
    {
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.TIMED_OUT,
        JobState.SUBMISSION_UNCERTAIN,
        JobState.CANCELLED,
    }
)
REPORT_WAIT = 30.0
"""Seconds a window waits for another window to rewrite the message of a job it saw start,
run again or end."""

log = logging.getLogger("studio.tui.jobs")


@dataclass(frozen=True)
class JobsChanged:
    """Jobs changed (here or in another window) since the last redraw."""

    jobs: Mapping[int, Job]
    """Every job as it stands, by id (the controller's own mapping: read, never change it)."""
    removed: frozenset[int] = frozenset()
    """Jobs removed in another window since: their details close if they are in front."""
    told: frozenset[int] = frozenset()
    """Of those, the ones whose removal the user was already told of (a question closed)."""

    @property
    def running(self) -> int:
        """How many jobs an engine works on."""
        return sum(1 for job in self.jobs.values() if job.state.is_active)


@dataclass(frozen=True)
class MessageWritten:
    """A message was added or rewritten outside a pane (a job's): show it where it is open."""

    message: Message
    elsewhere: bool = False
    """Written by another window: what it added just before (the command) comes with it."""


def window_title(running: int) -> str:
    """The terminal window's title while ``running`` jobs run."""
    if not running:
        return "AnyFast Studio"
    return f"AnyFast Studio — {running} job{'s' * (running != 1)} running"


class JobsController:
    """Owns the :class:`JobEngine` for the app; screens call it and subscribe to its signals."""

    def __init__(self, app: StudioApp, config: EngineConfig | None = None) -> None:
        self.app = app
        self.config = config
        self.engine: JobEngine | None = None
        self.jobs: dict[int, Job] = {}
        self.dirty = False
        self.changed: Signal[JobsChanged] = Signal(app, "jobs-changed")
        """Published at most :data:`REDRAW_HZ` times a second when jobs changed."""
        self.messages: Signal[MessageWritten] = Signal(app, "job-messages")
        """Published when a job's message is added or rewritten (here or in another window)."""
        self._starting: asyncio.Lock | None = None
        self.error: str | None = None
        self._removed: set[int] = set()
        self.removed_elsewhere: set[int] = set()
        """Every job removed in another window this session (a detail opened just before
        the news came closes as it opens)."""
        self._told: set[int] = set()
        self.reporter = JobReporter(app)
        self.watcher = JobWatcher(app.store)
        self._awaiting: dict[int, float] = {}
        """Jobs in a conversation that another window started, ran again or finished: job id
        -> when to stop looking for the message that window writes for it."""

    # -- lifecycle ---------------------------------------------------------------------------

    async def ensure_started(self) -> JobEngine:
        """Start the engine (resuming unfinished jobs) on first use."""
        if self.engine is not None:
            return self.engine
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self.engine is None:
                self.engine = await self._start()
        return self.engine

    async def _start(self) -> JobEngine:
        # The engine's modules bring httpx: loaded here, after the first frame.
        from studio.api.download import Downloader
        from studio.jobs import EngineConfig
        from studio.jobs.engine import JobEngine

        app = self.app
        first = self.watcher.poll()  # every job in the store (the newest 500)
        if first is not None:
            for job in reversed(first.changed):
                self.jobs[job.id] = job
        client = await app.gateway.client()
        folder = media_dir(app.settings.media_dir)
        if self.config is not None:
            config = self.config
        elif app.gateway.demo:
            config = EngineConfig.demo(folder)
        else:
            config = EngineConfig.from_settings(app.settings, media_dir=folder)
        engine = JobEngine(app.store, client, Downloader(), config, on_change=self._changed)
        await engine.start()
        self.dirty = True
        app.set_interval(1 / REDRAW_HZ, self._redraw)
        return engine

    async def use_settings(self, before: Settings, after: Settings) -> None:
        """Saved settings apply at once: a new media folder or job deadline, and the
        gateway's new client (a new key, base URL, retries or timeouts)."""
        changes: dict[str, Any] = {}
        if media_dir(after.media_dir) != media_dir(before.media_dir):
            changes["media_dir"] = media_dir(after.media_dir)
        if after.job_deadline_minutes != before.job_deadline_minutes:
            changes["deadline"] = after.job_deadline_minutes * 60.0
        if self.config is not None and changes:
            self.config = dataclasses.replace(self.config, **changes)
        engine = self.engine
        if engine is None:
            return  # it starts from the settings as they are then
        client = None
        if not self.app.gateway.needs_key:
            try:
                client = await self.app.gateway.client()
            except (AnyFastError, OSError):  # no demo emulator: the old client stays
                log.warning("could not make the new client for the jobs", exc_info=True)
        config = dataclasses.replace(engine.config, **changes) if changes else None
        engine.reconfigure(config, client)

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.stop()
        await self.reporter.alerts.close()

    # -- changes -------------------------------------------------------------------------------

    def _changed(self, job: Job) -> None:
        before = self.jobs.get(job.id)
        self.jobs[job.id] = job
        self.watcher.seen([job])
        self.dirty = True
        if job.state in FINAL and (before is None or before.state != job.state):
            self.reporter.finished(job)
        elif before is None or (before.state in FINAL and job.state.is_active):
            self.reporter.started(job)  # its message in its conversation, live while it runs

    def sync(self) -> bool:
        """Merge the jobs other windows (or commands) changed since the last look; return
        whether anything did. Cheap when nothing did: one ``PRAGMA``."""
        try:
            changes = self.watcher.poll()
            if self._awaiting:
                self._follow_reports()
        except StoreError:  # the store says so where it matters; the tick carries on
            log.warning("could not read the jobs other windows changed", exc_info=True)
            return False
        if not changes:
            return False
        self._merge(changes)
        return True

    def _merge(self, changes: JobChanges) -> None:
        for job in reversed(changes.changed):  # oldest first, as they happened
            before = self.jobs.get(job.id)
            if before == job:
                continue
            if before is not None and before.updated_at > job.updated_at:
                continue  # this window already has a newer copy
            self.jobs[job.id] = job
            self.dirty = True
            if self._holds(job.id):
                continue  # this window's reporter tells of it
            ended = job.state in FINAL and (before is None or before.state != job.state)
            if ended:
                self._ended_elsewhere(job)
            again = before is not None and before.state in FINAL and job.state.is_active
            if (ended or again or before is None) and job.conversation_id is not None:
                # Its message is rewritten there (added, live again, its outcome): show it.
                self._awaiting[job.id] = time.monotonic() + REPORT_WAIT
        for job_id in changes.removed:
            self._awaiting.pop(job_id, None)
            if self.jobs.pop(job_id, None) is not None:
                self.dirty = True
                self._close_details(job_id)

    def _holds(self, job_id: int) -> bool:
        """Whether this window's engine works on the job (and so reports it itself)."""
        return self.engine is not None and job_id in self.engine.book

    def _ended_elsewhere(self, job: Job) -> None:
        """A quiet toast: no bell, no message written (the window that ran it writes it)."""
        what = f"{job.kind.value.capitalize()} job #{job.id}"
        if job.state is JobState.SUCCEEDED:
            self.app.notify(f"{what} is done (in another window)", timeout=5, markup=False)
        else:
            state = job.state.value.replace("_", " ")
            self.app.notify(
                f"{what} {state} (in another window)",
                severity="warning",
                timeout=8,
                markup=False,
            )

    def _follow_reports(self) -> None:
        """Publish what another window wrote for a job it started, ran again or finished,
        once it has: the job's message (added at the end, then rewritten in place: live
        again, then its outcome). An open conversation shows it, and the command before it."""
        now = time.monotonic()
        store = self.app.store
        for job_id, until in list(self._awaiting.items()):
            job = self.jobs.get(job_id)
            if job is None or now > until:  # never written: it loads with its conversation
                del self._awaiting[job_id]
                continue
            own = store.job_message(job_id)
            if own is None or (own.content != placeholder_text(job)) != (job.state in FINAL):
                continue  # that window has not written it yet (its outcome, or live again)
            del self._awaiting[job_id]
            self.messages.publish(MessageWritten(own, elsewhere=True))

    def _close_details(self, job_id: int) -> None:
        """A job removed in another window: close the question about it (a question left open
        does nothing when answered); its details close themselves (:class:`JobsChanged`)."""
        self._removed.add(job_id)
        self.removed_elsewhere.add(job_id)
        if self.app.job_actions.withdraw(job_id):
            self._told.add(job_id)
            self.app.notify(f"Job #{job_id} was removed in another window", timeout=5, markup=False)

    def _redraw(self) -> None:
        self.sync()
        if not self.dirty:
            return
        self.dirty = False
        removed, told = frozenset(self._removed), frozenset(self._told)
        self._removed.clear()
        self._told.clear()
        self.changed.publish(JobsChanged(self.jobs, removed, told))

    # -- requests from screens -------------------------------------------------------------------

    async def submit(self, request: MediaRequest, conversation_id: int | None = None) -> Job:
        engine = await self.ensure_started()
        job = await engine.submit_request(request, conversation_id)
        self._changed(job)
        return job

    def record(self, job: Job) -> None:
        """A job this window created or changed outside the engine's callback (e.g. a retry)."""
        self._changed(job)

    def forget(self, job_id: int) -> None:
        """A job was removed."""
        self.jobs.pop(job_id, None)
        self.watcher.forget(job_id)
        self.dirty = True
