"""The app's side of the job engine: start it, throttle its updates, tell the user about jobs.

The engine (``studio.jobs``) knows nothing of Textual; it calls ``on_change(job)`` after every
committed change. This controller records the change and redraws at most
:data:`REDRAW_HZ` times a second, never once per poll response. When a job finishes or fails
:class:`~studio.tui.job_reports.JobReporter` tells the user; what the user asks of jobs is
carried out by :class:`~studio.tui.job_actions.JobActions`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from studio.jobs import Job, JobState
from studio.paths import media_dir
from studio.tui.job_reports import JobReporter

if TYPE_CHECKING:
    from studio.jobs import EngineConfig, JobEngine
    from studio.tui.app import StudioApp
    from studio.tui.screens.media_forms import MediaRequest

REDRAW_HZ = 4
FINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.TIMED_OUT})


class JobsController:
    """Owns the :class:`JobEngine` for the app; screens call it, it calls the screens back."""

    def __init__(self, app: StudioApp, config: EngineConfig | None = None) -> None:
        self.app = app
        self.config = config
        self.engine: JobEngine | None = None
        self.jobs: dict[int, Job] = {}
        self.dirty = False
        self.listeners: list[Callable[[], None]] = []
        self._starting: asyncio.Lock | None = None
        self.error: str | None = None
        self._title = "AnyFast Studio"
        self.reporter = JobReporter(app)

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
        from studio.jobs import EngineConfig, JobEngine

        app = self.app
        for job in app.store.list_jobs(limit=500):
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

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.stop()

    # -- changes -------------------------------------------------------------------------------

    def _changed(self, job: Job) -> None:
        before = self.jobs.get(job.id)
        self.jobs[job.id] = job
        self.dirty = True
        if job.state in FINAL and (before is None or before.state != job.state):
            self.reporter.finished(job)

    def _redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        running = sum(1 for j in self.jobs.values() if j.state.is_active)
        title = (
            f"AnyFast Studio — {running} job{'s' * (running != 1)} running"
            if running
            else "AnyFast Studio"
        )
        if title != self._title:
            self._title = title
            self.app.set_terminal_title(title)
        for listener in list(self.listeners):
            listener()

    # -- requests from screens -------------------------------------------------------------------

    async def submit(self, request: MediaRequest, conversation_id: int | None = None) -> Job:
        engine = await self.ensure_started()
        params = dict(request.params)
        if request.provider == "seedream":
            job = await engine.submit_image(
                request.model, request.prompt, conversation_id=conversation_id, **params
            )
        elif request.provider == "seedance":
            job = await engine.submit_seedance(
                request.model, request.prompt, conversation_id=conversation_id, **params
            )
        else:
            params.pop("model_name", None)
            job = await engine.submit_kling(
                request.action,
                prompt=request.prompt,
                model_name=request.model,
                conversation_id=conversation_id,
                **params,
            )
        self._changed(job)
        return job

    def record(self, job: Job) -> None:
        """A job this window created or changed outside the engine's callback (e.g. a retry)."""
        self._changed(job)

    def forget(self, job_id: int) -> None:
        """A job was removed."""
        self.jobs.pop(job_id, None)
        self.dirty = True
