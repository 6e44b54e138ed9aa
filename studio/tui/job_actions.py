"""What the user asks of jobs: new image or video requests (F10/F12 and ``/image``/``/video``),
and the actions on a job (retry, cancel, check again, send again, attach a task id, copy, open,
remove), asking first where money is at stake.

The :class:`~studio.tui.jobs.JobsController` owns the engine; this object turns a request from a
screen into an engine call and tells the user what happened. Screens call it through the app.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from studio.api.errors import AnyFastError, MediaInputError, describe
from studio.jobs import Job, JobState
from studio.store.models import NotFoundError, StoreError
from studio.textsafe import clean_line
from studio.tui import job_questions as questions

if TYPE_CHECKING:
    from textual.screen import Screen

    from studio.jobs.requests import MediaRequest
    from studio.tui.app import StudioApp

T = TypeVar("T")
log = logging.getLogger("studio.tui.job_actions")


class JobActions:
    """Carries out the user's job requests for the app (composed into :class:`StudioApp`)."""

    def __init__(self, app: StudioApp) -> None:
        self.app = app
        self._busy: set[int] = set()
        """Jobs with a question open or an action running: more requests for them wait."""
        self._asking: dict[int, Screen[Any]] = {}
        """The question open about each job (withdrawn when another window removes it)."""
        self._withdrawn: set[int] = set()
        """Jobs whose question was closed because the job went: their answer does nothing."""

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
        from studio.jobs.requests import default_request

        settings = self.app.settings
        model = settings.image_model if kind == "image" else settings.video_model
        job = None
        try:
            job = await self.submit(default_request(kind, model, prompt), cid)
        finally:
            if job is None:  # refused before a job existed: the command stands for nothing
                self.app.jobs.reporter.drop_command(cid, kind, prompt)

    async def submit(self, request: MediaRequest, cid: int | None = None) -> Job | None:
        """Start a job for ``request`` and say how sending it went; ``None`` when it was
        refused before a job existed (said in a toast)."""
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
            return None
        app.jobs.reporter.submitted(job)  # sent, waiting to be sent again, or uncertain
        return job

    # -- actions on a job --------------------------------------------------------------------------

    async def act(self, job_id: int, action: str) -> None:
        """Carry out ``action`` on job ``job_id`` (from its detail view, the queue or its message
        in a conversation) and tell the user what happened, in a toast, whatever happened.

        Retry, cancel and send again cost money or give up on something paid for: each asks
        first (y or Enter goes ahead, n or esc backs out). While a job's question is open or
        its action runs, further requests for that job are ignored, so pressing r three times
        asks once and makes at most one new job. Runs in a worker (dialogs wait there)."""
        if job_id in self._busy:
            return
        self._busy.add(job_id)
        # A failure is said in a toast (see _guarded), never allowed to end the app.
        self.app.run_worker(self._guarded(job_id, action), group="job-action", exit_on_error=False)

    async def _guarded(self, job_id: int, action: str) -> None:
        try:
            await self._run(job_id, action)
        except Exception as exc:  # whatever it was, the app carries on and says so
            log.exception("job action %s on job %d failed", action, job_id)
            self._say(f"Job #{job_id}: {action.replace('_', ' ')} did not work: {exc}", "error")
        finally:
            self._busy.discard(job_id)
            self._asking.pop(job_id, None)
            self._withdrawn.discard(job_id)

    async def _run(self, job_id: int, action: str) -> None:
        from studio.tui.screens.dialogs import Choice

        app = self.app
        job = app.store.get_job(job_id)  # as stored: what each answer is checked against
        if job is None:
            self._say(f"Job #{job_id} is gone.", "warning")
            return
        if action == "remove":
            await self.remove(job)
            return
        retries: set[int] | None = self._retries(job)
        if action == "recheck" and job.state is JobState.SUBMISSION_UNCERTAIN and not job.task_id:
            question = f"Job #{job_id}: did the gateway get this request?"
            choice = Choice(question, questions.uncertain_answers(job), questions.UNCERTAIN_CHOICE)
            answer = await self._ask(job, choice)
            if answer is None:
                return
            action = answer  # chosen knowingly: no second question
        elif action in ("retry", "cancel", "resend"):
            if not await self._confirmed(job, action):
                return
        else:
            retries = None  # nothing was asked: nothing can have changed meanwhile
        if retries is not None:  # an answer came: another window may have acted meanwhile
            current = self._still(job, retries if action == "retry" else None)
            if current is None:
                return
            job = current
        if action == "attach":
            await self.attach(job)
            return
        try:
            said, severity = await self._carry_out(job, action)
        except AnyFastError as exc:
            said, severity = describe(exc), "error"
        except NotFoundError:
            self._gone(job.id)
            return
        except (ValueError, StoreError) as exc:  # JobActionError: it says why and what to do
            said, severity = str(exc), "warning"
        if said:
            self._say(said, severity)

    async def _ask(self, job: Job, dialog: Screen[T]) -> T | None:
        """Put ``dialog`` about ``job`` in front and wait for the answer."""
        self._asking[job.id] = dialog
        try:
            return await self.app.push_screen_wait(dialog)
        finally:
            self._asking.pop(job.id, None)

    def withdraw(self, job_id: int) -> bool:
        """Job ``job_id`` was removed in another window: close the question about it if it is
        in front (its answer would act on nothing). Returns whether one was closed; one that
        is not in front stays, and its answer does nothing (see :meth:`_still`)."""
        dialog = self._asking.get(job_id)
        if dialog is None or dialog is not self.app.screen:
            return False
        self._withdrawn.add(job_id)
        dialog.dismiss(None)
        return True

    def _retries(self, job: Job) -> set[int]:
        """The jobs made so far as retries of ``job``, as this window knows them."""
        return {j.id for j in self.app.jobs.jobs.values() if j.retry_of == job.id}

    def _gone(self, job_id: int) -> None:
        """The job was removed in another window while this one was about to act on it."""
        from studio.tui.screens.job_detail import JobDetail

        self.app.jobs.forget(job_id)  # said here: the next sync has nothing to announce
        screen = self.app.screen
        if isinstance(screen, JobDetail) and screen.job.id == job_id:
            screen.dismiss()
        self._say(
            f"Job #{job_id} was already removed (in another window): nothing was done here.",
            "warning",
        )

    def _still(
        self, asked: Job, retries: set[int] | None = None, *, strict: bool = True
    ) -> Job | None:
        """The job as stored now, if it still stands as it did when the question about it was
        asked; otherwise ``None``, having said what became of it. Another window may have
        removed it, sent it again, checked it again or retried it meanwhile: acting on the
        answer then could pay twice for one request, so nothing is done. Not ``strict`` (for
        removing it), a job that only ended meanwhile still stands."""
        if asked.id in self._withdrawn:
            return None  # closed because it was removed elsewhere, which was said
        now = self.app.store.get_job(asked.id)
        if now is None:
            self._gone(asked.id)
            return None
        where, _ = questions.where_now(now)
        if strict:
            moved = now.state is not asked.state and not (
                now.state.is_active and asked.state.is_active
            )
        else:  # running again: the warning it was asked with did not say so
            moved = now.state.is_active and not asked.state.is_active
        if moved or now.task_id != asked.task_id:
            if asked.state is JobState.SUBMISSION_UNCERTAIN and now.state.is_active:
                said = f"Job #{now.id} was sent again meanwhile (in another window):"
            elif not asked.state.is_active and now.state.is_active:
                said = f"Job #{now.id} was checked again meanwhile (in another window):"
            else:
                said = f"Job #{now.id} changed meanwhile:"
            self._say(f"{said} {where}. Nothing was done here.", "warning")
            return None
        if retries is None:
            return now
        self.app.jobs.sync()  # what other windows committed up to now, their retries included
        made = sorted(self._retries(now) - retries)
        if made:
            ids = ", ".join(f"#{i}" for i in made)
            self._say(
                f"Job #{now.id} was retried meanwhile (in another window) as job {ids}. "
                "Nothing was done here.",
                "warning",
            )
            return None
        return now

    async def _confirmed(self, job: Job, action: str) -> bool:
        from studio.tui.screens.dialogs import Confirm

        if action == "retry":
            q = questions.retry_question(job, self.app.jobs.jobs.values())
        elif action == "cancel":
            if not job.state.is_active:
                return True  # the engine says it has already ended
            q = questions.cancel_question(job)
        else:
            q = questions.resend_question(job)
        confirm = Confirm(q.question, q.detail, yes=q.yes, no=q.no, default_yes=True)
        if await self._ask(job, confirm):
            return True
        if job.id not in self._withdrawn:  # else its removal elsewhere was said
            self._say(f"Job #{job.id}: nothing was done.", "information")
        return False

    async def _carry_out(self, job: Job, action: str) -> tuple[str, str]:
        app = self.app
        engine = await app.jobs.ensure_started()
        if action == "cancel":
            cancelled = await engine.cancel(job.id)
            app.jobs.record(cancelled)
            return questions.cancel_said(cancelled), "information"
        if action == "retry":
            new = await engine.retry(job.id)
            app.jobs.record(new)
            said, severity = questions.where_now(new)
            said = f"Sent again as job #{new.id} (a new request, billed separately): {said}."
            return said, severity
        if action == "resend":
            sent = await engine.resend(job.id)
            app.jobs.record(sent)
            return questions.resend_said(sent)
        if action == "recheck":
            after = await engine.recheck(job.id)
            app.jobs.record(after)
            return questions.recheck_said(job, after)
        if action == "copy_url":
            await app.copy_text("\n".join(f.url for f in job.files if f.url), "URL")
            return "", ""
        if action == "copy_path":
            await app.copy_text("\n".join(f.path for f in job.files if f.done), "path")
            return "", ""
        if action == "open_file":
            done = [f.path for f in job.files if f.done]
            return (open_file(done[0]), "information") if done else ("Nothing saved yet.", "")
        return f"Unknown job action {action!r}.", "error"

    async def attach(self, job: Job) -> None:
        """Ask for a task id found in the AnyFast console and adopt it into ``job``."""
        from studio.tui.screens.dialogs import TextPrompt

        app = self.app
        prompt = TextPrompt(
            f"Attach a task id to job #{job.id}",
            hint="The id of the task in your AnyFast console, such as "
            "cgt-20260312231129-7db6s or 860260753860210752. Studio asks the gateway about it "
            "first: a wrong id changes nothing. Enter attaches, esc backs out.",
        )
        task_id = await self._ask(job, prompt)
        if not task_id or self._still(job) is None:
            return
        engine = await app.jobs.ensure_started()
        try:
            attached = await engine.attach_task(job.id, task_id)
        except NotFoundError:
            self._gone(job.id)
            return
        except (ValueError, StoreError) as exc:
            self._say(str(exc), "warning")
            return
        app.jobs.record(attached)
        self._say(*questions.attach_said(attached))

    def _say(self, message: str, severity: str = "information") -> None:
        self.app.notify(
            clean_line(message),
            severity=severity,  # type: ignore[arg-type]
            timeout=10,
            markup=False,
        )

    async def remove(self, job: Job) -> None:
        from studio.tui.screens.dialogs import Choice
        from studio.tui.screens.job_detail import JobDetail

        app = self.app
        answer = await self._ask(
            job,
            Choice(
                f"Remove job #{job.id} from the list?",
                [
                    ("delete", "Remove and delete its files"),
                    ("keep", "Remove, keep the files"),
                    ("cancel", "Back (esc)"),
                ],
                questions.remove_warning(job),
            ),
        )
        if answer not in ("delete", "keep"):
            return
        if self._still(job, strict=False) is None:
            return
        delete_files = answer == "delete"
        engine = await app.jobs.ensure_started()
        try:
            removed = await engine.remove(job.id, delete_files)
        except NotFoundError:
            self._gone(job.id)
            return
        except (StoreError, OSError, ValueError) as exc:
            self._say(f"Job #{job.id} could not be removed: {exc}", "error")
            return
        app.jobs.forget(job.id)
        if delete_files:
            self._say(f"Removed job #{job.id} and deleted {len(removed)} file(s).")
        else:
            self._say(f"Removed job #{job.id}; its files stay in the media folder.")
        screen = app.screen
        if isinstance(screen, JobDetail) and screen.job.id == job.id:
            screen.dismiss()  # only the screen in front can be dismissed


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
