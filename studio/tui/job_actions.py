"""What the user asks of jobs: new image or video requests (F10/F12 and ``/image``/``/video``),
and the actions of a job's detail view (retry, cancel, check again, copy, open, remove).

The :class:`~studio.tui.jobs.JobsController` owns the engine; this object turns a request from a
screen into an engine call and tells the user what happened. Screens call it through the app.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from studio.api.errors import AnyFastError, MediaInputError, describe

if TYPE_CHECKING:
    from studio.tui.app import StudioApp
    from studio.tui.screens.media_forms import MediaRequest


class JobActions:
    """Carries out the user's job requests for the app (composed into :class:`StudioApp`)."""

    def __init__(self, app: StudioApp) -> None:
        self.app = app

    # -- new jobs --------------------------------------------------------------------------------

    def new_media(self, kind: str, prompt: str = "", cid: int | None = None) -> None:
        """Open the image (F10) or video (F12) form and submit what it returns.

        The form is pushed here and now, in the key's handler (not from a worker a moment
        later), so keys typed right after F10/F12 reach the form instead of the screen below.
        """
        from studio.tui.screens.media_forms import ImageForm, VideoForm

        app = self.app
        if app.gateway.needs_key:
            app.notify("Set a key or start the demo first (see the welcome panel).", markup=False)
            return
        if isinstance(app.screen, ImageForm | VideoForm):
            return  # one form at a time
        form = (
            ImageForm(app.settings.image_model, prompt)
            if kind == "image"
            else VideoForm(app.settings.video_model, prompt)
        )

        def submitted(request: MediaRequest | None) -> None:
            if request is not None:
                app.run_worker(self.submit(request, cid), group="media-submit")

        app.push_screen(form, submitted)

    async def media_command(self, kind: str, prompt: str, cid: int) -> None:
        """``/image PROMPT`` or ``/video PROMPT`` typed in conversation ``cid``, with the
        forms' defaults made explicit (so the job and its sidecar record duration, ratio...)."""
        from studio.tui.screens.media_forms import default_request

        settings = self.app.settings
        model = settings.image_model if kind == "image" else settings.video_model
        await self.submit(default_request(kind, model, prompt), cid)

    async def submit(self, request: MediaRequest, cid: int | None = None) -> None:
        from studio.jobs.submission import JobRequestError

        app = self.app
        try:
            job = await app.jobs.submit(request, cid)
        except (AnyFastError, JobRequestError, MediaInputError) as exc:
            app.notify(
                describe(exc) if isinstance(exc, AnyFastError) else str(exc),
                severity="error",
                timeout=10,
                markup=False,
            )
            return
        app.jobs.reporter.submitted(job)  # sent, waiting to be sent again, or uncertain

    # -- actions on a job --------------------------------------------------------------------------

    async def act(self, job_id: int, action: str) -> None:
        """Carry out ``action`` on job ``job_id`` and tell the user what happened."""
        if action == "remove":
            self.app.run_worker(self.remove(job_id), group="job-remove")
            return
        message = await self._act(job_id, action)
        if message:
            self.app.notify(message, timeout=10, markup=False)

    async def _act(self, job_id: int, action: str) -> str:
        app = self.app
        engine = await app.jobs.ensure_started()
        job = app.jobs.jobs.get(job_id) or app.store.get_job(job_id)
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
                app.jobs.record(new)
                return f"Resubmitted as job #{new.id} with the same parameters."
            if action == "recheck":
                job = await engine.recheck(job_id)
                return f"Job #{job_id}: {job.message or job.state.value}"
            if action == "copy_url":
                urls = [f.url for f in job.files if f.url]
                await app.copy_text("\n".join(urls), "URL")
                return ""
            if action == "copy_path":
                paths = [f.path for f in job.files if f.done]
                await app.copy_text("\n".join(paths), "path")
                return ""
            if action == "open_file":
                return open_file(next(f.path for f in job.files if f.done))
        except AnyFastError as exc:
            return describe(exc)
        except ValueError as exc:
            return str(exc)
        return ""

    async def remove(self, job_id: int) -> None:
        from studio.tui.screens.dialogs import Choice
        from studio.tui.screens.job_detail import JobDetail

        app = self.app
        answer = await app.push_screen_wait(
            Choice(
                f"Remove job #{job_id} from the list?",
                [
                    ("delete", "Remove and delete its files"),
                    ("keep", "Remove, keep the files"),
                    ("cancel", "Cancel"),
                ],
            )
        )
        if answer not in ("delete", "keep"):
            return
        delete_files = answer == "delete"
        engine = await app.jobs.ensure_started()
        removed = await engine.remove(job_id, delete_files)
        app.jobs.forget(job_id)
        if delete_files:
            app.notify(f"Removed job #{job_id} and deleted {len(removed)} file(s).", markup=False)
        else:
            app.notify(f"Removed job #{job_id}; its files stay in the media folder.", markup=False)
        if isinstance(app.screen, JobDetail):
            app.screen.dismiss()


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
