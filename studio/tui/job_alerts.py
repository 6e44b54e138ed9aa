"""Getting the user's attention when a job this window ran ends: the bell, the terminal's
desktop notification (OSC 9 / OSC 777, :mod:`studio.termnotify`) and the ``notify_command``
setting (:class:`~studio.jobs.notify.JobNotifier`).

A job that ended while Studio was closed (its task finished on the gateway before this window
opened; the engine only found out on resuming it) gets its toast and bell but no notification
and no command: opening Studio after a night of jobs must not set off a storm of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import TYPE_CHECKING

from studio.jobs import Job
from studio.jobs.notify import JobNotifier, desktop_notification, ended_before, is_reported_end

if TYPE_CHECKING:
    from studio.config import Settings
    from studio.tui.app import StudioApp

CLOSE_GRACE = 2.0
"""Seconds a closing window gives ``notify_command``\\s still running before killing them."""


class JobAlerts:
    """The bell, desktop notification and ``notify_command`` for jobs that end (composed into
    the job reporter)."""

    def __init__(self, app: StudioApp) -> None:
        self.app = app
        self.opened_at = time.time()
        self._notifier: JobNotifier | None = None
        self._retired: list[JobNotifier] = []
        """Notifiers of an earlier ``notify_command``, kept while their commands may run."""

    def ended(self, job: Job) -> None:
        """``job``, held by this window's engine, reached an end (reported once)."""
        if not is_reported_end(job):
            return
        app = self.app
        if app.settings.bell:
            app.bell()
        if ended_before(job, self.opened_at):
            return
        sequence = desktop_notification(job, app.settings, os.environ)
        if sequence:
            app.write_to_terminal(sequence)
        notifier = self._current()
        if notifier.enabled:
            app.run_worker(notifier.job_ended(job), group="job-notify", exit_on_error=False)

    async def close(self) -> None:
        """The window closes: let running commands finish for a moment, then kill them."""
        notifiers = [*self._retired, *([self._notifier] if self._notifier else [])]
        if not notifiers:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_GRACE):
                await asyncio.gather(*(notifier.drain() for notifier in notifiers))

    def _current(self) -> JobNotifier:
        """The notifier for the current ``notify_command`` and key (kept out of the command's
        environment): the settings may change while Studio runs."""
        settings = self.app.settings
        notifier = self._notifier
        if notifier is None or _held(notifier.settings) != _held(settings):
            if self._notifier is not None:
                self._retired.append(self._notifier)
            notifier = JobNotifier(settings, on_problem=self._problem)
            self._notifier = notifier
        return notifier

    def _problem(self, message: str) -> None:
        if self.app.is_running:
            self.app.notify(message, severity="warning", timeout=10, markup=False)


def _held(settings: Settings) -> tuple[str | None, str | None]:
    """What a notifier keeps from the settings: the command, and the key it keeps out."""
    return settings.notify_command, settings.api_key
