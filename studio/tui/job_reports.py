"""Telling the user what became of a job: the toast when its request was sent (or may not have
arrived), the toast, bell and notification (:mod:`studio.tui.job_alerts`) when it ends, and,
for a job started from a conversation, its message there: live while it runs (the pane redraws
it), then its result or why it failed, in the same place.

A job's message is linked to the job (``Message.job_id``), as is the ``/image`` or ``/video``
command that made it; neither is ever sent to the chat model, and "regenerate" on them retries
the job. Each end of a job is reported once, however often the engine or another window says
so."""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from studio.jobs import Job, JobKind, JobState
from studio.store import Message, MessageStatus, NewAttachment, NotFoundError, Role
from studio.tui.job_alerts import JobAlerts

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

PREVIEW_LIMIT = 8 * 1024 * 1024
"""Images up to this size are copied into their job's message (for its preview)."""

UNCERTAIN = "the gateway may not have received it"


def job_label(job: Job) -> str:
    """``Video job #4``."""
    return f"{job.kind.value.capitalize()} job #{job.id}"


def uncertain_advice(job: Job) -> str:
    """What the user can do about a submission of unknown fate."""
    return f"{job_label(job)}: {UNCERTAIN} — open it (ctrl+g) to send again or attach a task id"


def placeholder_text(job: Job) -> str:
    """The text of a job's message while the job runs (its live line shows the state)."""
    prompt = " ".join(job.prompt.split())
    if len(prompt) > 120:
        prompt = prompt[:119] + "…"
    return f"{job_label(job)} ({job.model})" + (f": {prompt}" if prompt else "")


class JobReporter:
    """Reports what became of jobs (composed into the jobs controller)."""

    def __init__(self, app: StudioApp) -> None:
        self.app = app
        self.alerts = JobAlerts(app)
        self._reported: dict[int, JobState] = {}
        """The end each job was last reported in (each is reported once)."""
        self._commands: deque[tuple[int, str, str, int]] = deque(maxlen=64)
        """``/image``/``/video`` commands waiting for their job: (conversation, kind, prompt,
        message id)."""

    # -- from the conversation and the controller --------------------------------------------------

    def expect_command(self, message: Message, kind: str, prompt: str) -> None:
        """The user's command ``message`` is about to make a ``kind`` job with ``prompt``: the
        job, once created, is linked to it."""
        self._commands.append((message.conversation_id, kind, prompt, message.id))

    def drop_command(self, cid: int, kind: str, prompt: str) -> None:
        """The command expected to make a ``kind`` job with ``prompt`` in conversation ``cid``
        was refused before its job existed: a later identical command is not linked to it."""
        for entry in self._commands:
            if entry[:3] == (cid, kind, prompt):
                self._commands.remove(entry)
                return

    def started(self, job: Job) -> None:
        """A job this window sees for the first time, or one that ended and runs again (sent
        again, checked again): link its command, and give it its message in its conversation,
        live until it ends."""
        if job.conversation_id is None:
            return
        store = self.app.store
        for entry in self._commands:
            cid, kind, prompt, mid = entry
            if (cid, kind, prompt) == (job.conversation_id, job.kind.value, job.prompt):
                self._commands.remove(entry)
                store.link_job(mid, job.id)
                break
        else:
            if job.retry_of is not None:  # the command now stands for its retry
                store.relink_commands(job.retry_of, job.id)
        if job.state.is_active:
            self._reported.pop(job.id, None)  # sent again or checked again: its end is news
            message = self._job_message(job)
            if message is not None and message.content != placeholder_text(job):
                # It showed an end (not confirmed, timed out...): live again, in place.
                live = self.app.store.show_job_outcome(
                    message.id, placeholder_text(job), status=MessageStatus.COMPLETE, error=None
                )
                if self.app.is_running:
                    self.app.message_added(live)

    def submitted(self, job: Job) -> None:
        """Say what came of sending a job this window submitted (F10/F12, ``/image``,
        ``/video``): sent, waiting to be sent again, or of unknown fate."""
        app = self.app
        if job.state.is_active:
            if job.state is JobState.PENDING and job.message:
                text = f"{job_label(job)} is waiting to be sent: {job.message} — ctrl+g shows it"
                app.notify(text, severity="warning", timeout=10, markup=False)
            else:
                app.notify(f"{job_label(job)} submitted — ctrl+g shows it", markup=False)
        else:
            self.finished(job)  # said already, unless the engine's word has not come yet

    def finished(self, job: Job) -> None:
        """A job reached an end (done, failed, timed out, uncertain, cancelled): toast, bell,
        and its outcome in its conversation. Nothing when this end was reported already."""
        if self._reported.get(job.id) is job.state:
            return
        self._reported[job.id] = job.state
        app = self.app
        what = job_label(job)
        if not app.is_running:  # quitting (a submission cut short): the conversation only
            if job.conversation_id is not None:
                self._report_in_conversation(job)
            return
        if job.state is JobState.SUCCEEDED:
            saved = [f.path for f in job.files if f.done]
            where = f" — saved {Path(saved[0]).name}" if saved else ""
            extra = f" (+{len(saved) - 1} more)" if len(saved) > 1 else ""
            app.notify(
                f"{what} is done{where}{extra}", title="Job finished", timeout=8, markup=False
            )
        elif job.state is JobState.SUBMISSION_UNCERTAIN:
            app.notify(
                uncertain_advice(job),
                title="Job not confirmed",
                severity="warning",
                timeout=15,
                markup=False,
            )
        elif job.state is not JobState.CANCELLED:  # a cancel was asked for, and said so
            reason = job.failure_reason or job.message or job.state.value
            app.notify(
                f"{what} {job.state.value.replace('_', ' ')}: {reason}",
                title="Job failed",
                severity="error",
                timeout=12,
                markup=False,
            )
        self.alerts.ended(job)  # bell, desktop notification, notify_command
        if job.conversation_id is not None:
            self._report_in_conversation(job)

    # -- the job's message -------------------------------------------------------------------------

    def _job_message(self, job: Job) -> Message | None:
        """The job's message in its conversation, added now if it has none."""
        store = self.app.store
        existing = store.job_message(job.id)
        if existing is not None:
            return existing
        if store.get_conversation(job.conversation_id or 0) is None:
            return None
        added = store.add_job_message(
            job.conversation_id or 0, job.id, placeholder_text(job), model=job.model
        )
        if added is None:  # another window added it meanwhile
            return store.job_message(job.id)
        if self.app.is_running:
            self.app.message_added(added)
        return added

    def _report_in_conversation(self, job: Job) -> None:
        store = self.app.store
        if store.get_conversation(job.conversation_id or 0) is None:
            return
        content, status, error, attachments = outcome(job)
        message = store.job_message(job.id)
        try:
            if message is None:
                raise NotFoundError("no message for this job yet")
            shown = store.show_job_outcome(
                message.id, content, status=status, error=error, attachments=attachments
            )
        except NotFoundError:  # none yet, or deleted meanwhile: the outcome goes at the end
            shown = store.add_message(
                job.conversation_id or 0,
                Role.ASSISTANT,
                content,
                attachments=attachments,
                model=job.model,
                status=status,
                error=error,
                job_id=job.id,
            )
        if self.app.is_running:
            self.app.message_added(shown)


def outcome(job: Job) -> tuple[str, MessageStatus, str | None, list[NewAttachment]]:
    """A job's ended state as its message shows it: text, status, error, result images."""
    what = job_label(job)
    attachments: list[NewAttachment] = []
    if job.state is JobState.SUCCEEDED:
        lines = [f"{what} is done ({job.model})."]
        for file in job.files:
            if not file.done:
                continue
            lines.append(f"- `{file.path}`")
            if job.kind is JobKind.IMAGE and _small(file.path):
                preview = _attachment(file.path)
                if preview is not None:
                    attachments.append(preview)
        from studio.jobs.describe import item_errors

        for item in item_errors(job):
            index = int(str(item.get("index", 0))) + 1
            lines.append(f"- image {index} failed: {item.get('message')} ({item.get('code')})")
        return "\n".join(lines), MessageStatus.COMPLETE, None, attachments
    if job.state is JobState.SUBMISSION_UNCERTAIN:
        reason = job.failure_reason or job.message
        advice = uncertain_advice(job).removeprefix(f"{what}: ")
        error = advice[:1].upper() + advice[1:] + (f" ({reason})" if reason else "")
        text = f"{what} ({job.model}) was sent, but no answer came back."
        return text, MessageStatus.ERROR, error, []
    if job.state is JobState.CANCELLED:
        text = f"{what} was cancelled." + (f" {job.message}" if job.message else "")
        return text, MessageStatus.STOPPED, None, []
    if job.state is JobState.TIMED_OUT:
        error = job.message or job.failure_reason or "still unfinished at its deadline"
        error += " — k in its details (ctrl+g, Enter) checks again"
        return f"{what} timed out ({job.model}).", MessageStatus.ERROR, error, []
    error = job.failure_reason or job.message or job.state.value
    return f"{what} did not finish ({job.model}).", MessageStatus.ERROR, error, []


def _small(path: str) -> bool:
    try:
        return os.path.getsize(path) <= PREVIEW_LIMIT
    except OSError:
        return False


def _attachment(path: str) -> NewAttachment | None:
    """The saved image as a preview for its job's message; ``None`` when it cannot be read as
    an image (moved or deleted meanwhile, not an image after all): its path is still listed."""
    from studio.api import media
    from studio.api.errors import MediaInputError

    try:
        info = media.describe_image(path)
        data = Path(path).read_bytes()
    except (OSError, MediaInputError):
        return None
    return NewAttachment(
        name=Path(path).name,
        mime=info.mime or "image/png",
        data=data,
        width=info.width,
        height=info.height,
    )
