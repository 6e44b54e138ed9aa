"""The app's side of the job engine: start it, throttle its updates, tell the user about jobs.

The engine (``studio.jobs``) knows nothing of Textual; it calls ``on_change(job)`` after every
committed change. This controller records the change and redraws at most
:data:`REDRAW_HZ` times a second, never once per poll response. When a job finishes or fails
it shows a toast, rings the bell (``bell`` setting) and, for jobs started from a conversation,
adds the result there.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from studio.api.errors import AnyFastError, describe
from studio.jobs import Job, JobKind, JobState
from studio.paths import media_dir
from studio.store import MessageStatus, NewAttachment, Role

if TYPE_CHECKING:
    from studio.jobs import EngineConfig, JobEngine
    from studio.tui.app import StudioApp
    from studio.tui.screens.media_forms import MediaRequest

REDRAW_HZ = 4
PREVIEW_LIMIT = 8 * 1024 * 1024
"""Images up to this size are copied into the conversation (for its preview)."""
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
            self._finished(job)

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

    def _finished(self, job: Job) -> None:
        app = self.app
        what = f"{job.kind.value.capitalize()} job #{job.id}"
        if job.state is JobState.SUCCEEDED:
            saved = [f.path for f in job.files if f.done]
            where = f" — saved {Path(saved[0]).name}" if saved else ""
            extra = f" (+{len(saved) - 1} more)" if len(saved) > 1 else ""
            app.notify(
                f"{what} is done{where}{extra}", title="Job finished", timeout=8, markup=False
            )
        else:
            reason = job.failure_reason or job.message or job.state.value
            app.notify(
                f"{what} {job.state.value.replace('_', ' ')}: {reason}",
                title="Job failed",
                severity="error",
                timeout=12,
                markup=False,
            )
        if app.settings.bell:
            app.bell()
        if job.conversation_id is not None:
            self._report_in_conversation(job)

    def _report_in_conversation(self, job: Job) -> None:
        store = self.app.store
        if store.get_conversation(job.conversation_id or 0) is None:
            return
        attachments: list[NewAttachment] = []
        if job.state is JobState.SUCCEEDED:
            lines = [f"{job.kind.value.capitalize()} job #{job.id} is done ({job.model})."]
            for file in job.files:
                if not file.done:
                    continue
                lines.append(f"- `{file.path}`")
                if job.kind is JobKind.IMAGE and _small(file.path):
                    attachments.append(_attachment(file.path))
            from studio.tui.widgets.job_sidebar import item_errors

            for item in item_errors(job):
                index = int(str(item.get("index", 0))) + 1
                lines.append(f"- image {index} failed: {item.get('message')} ({item.get('code')})")
            status, error = MessageStatus.COMPLETE, None
        else:
            lines = [f"{job.kind.value.capitalize()} job #{job.id} did not finish."]
            status = MessageStatus.ERROR
            error = job.failure_reason or job.message or job.state.value
        message = store.add_message(
            job.conversation_id or 0,
            Role.ASSISTANT,
            "\n".join(lines),
            attachments=attachments,
            model=job.model,
            status=status,
            error=error,
        )
        self.app.message_added(message)

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

    async def act(self, job_id: int, action: str) -> str:
        """Carry out a job action from the detail view; returns what to tell the user."""
        engine = await self.ensure_started()
        job = self.jobs.get(job_id) or self.app.store.get_job(job_id)
        if job is None:
            return f"Job #{job_id} is gone."
        try:
            if action == "cancel":
                job = await engine.cancel(job_id)
                return (
                    f"Job #{job_id} is no longer tracked. The gateway has no cancel: "
                    "the task may still finish, and be billed."
                )
            if action == "retry":
                new = await engine.retry(job_id)
                self._changed(new)
                return f"Resubmitted as job #{new.id} with the same parameters."
            if action == "recheck":
                job = await engine.recheck(job_id)
                return f"Job #{job_id}: {job.message or job.state.value}"
            if action == "copy_url":
                urls = [f.url for f in job.files if f.url]
                await self.app.copy_text("\n".join(urls), "URL")
                return ""
            if action == "copy_path":
                paths = [f.path for f in job.files if f.done]
                await self.app.copy_text("\n".join(paths), "path")
                return ""
            if action == "open_file":
                return open_file(next(f.path for f in job.files if f.done))
        except AnyFastError as exc:
            return describe(exc)
        except ValueError as exc:
            return str(exc)
        return ""

    async def remove(self, job_id: int, delete_files: bool) -> str:
        engine = await self.ensure_started()
        removed = await engine.remove(job_id, delete_files)
        self.jobs.pop(job_id, None)
        self.dirty = True
        if delete_files:
            return f"Removed job #{job_id} and deleted {len(removed)} file(s)."
        return f"Removed job #{job_id}; its files stay in the media folder."


def _small(path: str) -> bool:
    try:
        return os.path.getsize(path) <= PREVIEW_LIMIT
    except OSError:
        return False


def _attachment(path: str) -> NewAttachment:
    from studio.api import media

    info = media.describe_image(path)
    data = Path(path).read_bytes()
    return NewAttachment(
        name=Path(path).name,
        mime=info.mime or "image/png",
        data=data,
        width=info.width,
        height=info.height,
    )


def open_file(path: str) -> str:
    """Open with the system opener where there is a local display; otherwise say where it is."""
    from studio.clipboard import has_local_display

    if not has_local_display(os.environ):
        return f"No local display here (over SSH?). The file is at {path}"
    opener = {"darwin": "open", "win32": "start"}.get(sys.platform, "xdg-open")
    if shutil.which(opener) is None:
        return f"No '{opener}' on this machine. The file is at {path}"
    try:
        subprocess.Popen([opener, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as exc:
        return f"Could not open it ({exc.strerror}). The file is at {path}"
    return f"Opening {Path(path).name}"
