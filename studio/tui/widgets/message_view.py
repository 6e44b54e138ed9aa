"""One message of a conversation: who said it, attachments, the text, and its fate."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message as TextualMessage
from textual.widget import Widget
from textual.widgets import Button, Static

from studio.api.types import finish_note
from studio.jobs import Job, JobState
from studio.store import Attachment, Message, MessageStatus, Role
from studio.textsafe import clean, clean_line
from studio.tui import previews
from studio.tui.widgets.streaming import StreamingMarkdown

STATUS_MARKS = {
    MessageStatus.STOPPED: "■ stopped",
    MessageStatus.CUT: "✂ response cut off",
    MessageStatus.ERROR: "✖ failed",
    MessageStatus.STREAMING: "… writing",
}
JOB_MARKS = {
    JobState.SUCCEEDED: "✔ done",
    JobState.FAILED: "✖ failed",
    JobState.TIMED_OUT: "⏱ timed out",
    JobState.SUBMISSION_UNCERTAIN: "? not confirmed",
    JobState.CANCELLED: "■ cancelled",
}
"""The header mark of a job's message once the job has ended."""
FINISH_HINTS = {
    "length": ("✂", "raise max tokens (f3) and regenerate (r) for a longer reply"),
    "content_filter": ("⚠", "what is shown may be incomplete"),
}
"""A complete reply the model did not finish (``finish_reason``): a note under it says why."""


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} MB"


def chip_label(name: str, width: int | None, height: int | None, size: int) -> str:
    """An attachment chip: name, pixel size and file size (the name made safe to show: it may
    come from a URL)."""
    dims = f" · {width}×{height}" if width and height else ""
    return f"▣ {clean_line(name)}{dims}" + (f" · {human_size(size)}" if size else "")


def attachment_label(att: Attachment) -> str:
    return chip_label(att.name, att.width, att.height, att.size)


SPINNER = "◐◓◑◒"
BAR = 10


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def job_state_text(job: Job) -> str:
    """What a running job is doing, in a few words (its message's live line)."""
    error = clean_line(job.last_error) if job.last_error else ""
    if job.state is JobState.PENDING:
        return f"waiting to send again: {error}" if error else "sending…"
    if error:
        return f"checking again: {error}"
    if job.state is JobState.QUEUED:
        return "queued at the gateway"
    if job.state is JobState.RUNNING:
        filled = round(max(0, min(100, job.progress)) * BAR / 100)
        return f"running {'█' * filled}{'░' * (BAR - filled)} {job.progress}%"
    if job.state is JobState.DOWNLOADING:
        done, total = job.bytes_done, job.bytes_total
        if done is not None and total:
            return f"saving the result {min(100, done * 100 // total)}%"
        return "saving the result"
    return job.state.value.replace("_", " ")


def job_line(job: Job, now: float) -> str:
    """``◓ running ███░░░░░░░ 30% · 0:12 · about 0:20 left``: a running job in its message."""
    line = f"{SPINNER[int(now) % len(SPINNER)]} {job_state_text(job)} · {_clock(job.elapsed(now))}"
    eta = job.eta(now)
    if eta is not None:
        line += f" · about {_clock(eta)} left"
    return line


class MessageView(Vertical, can_focus=True):
    """A message in the log. Focus it (alt+up from the prompt) to act on it with one key."""

    BINDINGS = [
        Binding("c", "copy", "Copy", tooltip="Copy this message", id="message.copy"),
        Binding("e", "edit", "Edit", tooltip="Edit this message and resend", id="message.edit"),
        Binding("d", "delete", "Delete", tooltip="Delete this message", id="message.delete"),
        Binding("r", "retry", "Retry", tooltip="Regenerate this reply", id="message.retry"),
        Binding("up", "move(-1)", "Previous", show=False, id="message.previous"),
        Binding("down", "move(1)", "Next", show=False, id="message.next"),
        Binding("escape", "leave", "Back to prompt", show=False, id="message.leave"),
    ]

    @dataclass
    class Action(TextualMessage):
        """The user asked for ``action`` (copy, edit, delete, retry) on this message."""

        view: MessageView
        action: str

    @dataclass
    class Move(TextualMessage):
        """Move the selection ``step`` messages (or leave the log when ``step`` is 0)."""

        view: MessageView
        step: int

    def __init__(self, message: Message, *, streaming: bool = False) -> None:
        super().__init__(classes=f"message -{message.role.value}")
        self.message = message
        self._streaming = streaming
        self._job_text = ""

    @property
    def message_id(self) -> int:
        return self.message.id

    @property
    def text(self) -> str:
        if self.message.role is Role.ASSISTANT:
            return self.query_one(StreamingMarkdown).text
        return self.message.content

    def compose(self) -> ComposeResult:
        classes = self._status_classes()
        self.update_classes(classes, update=False)
        status = " ".join(name for name, on in classes.items() if on)
        with Horizontal(classes=f"message-header {status}"):
            yield Static(self._who(), classes="who", markup=False)
            yield Static(self._mark(), classes="mark", markup=False)
        if self.message.attachments:
            with Horizontal(classes="attachments"):
                for att in self.message.attachments:
                    yield Static(attachment_label(att), classes="chip", markup=False)
            shown = [p for p in map(self._preview, self.message.attachments) if p is not None]
            if shown:
                with Horizontal(classes="previews"):
                    yield from shown
        if self.is_job:
            # The job's live state while it runs (the pane updates only this line).
            live = Static("", classes="job-live", markup=False)
            live.display = False
            yield live
        if self.message.role is Role.ASSISTANT:
            yield StreamingMarkdown(self.message.content, streaming=self._streaming)
            if note := self._finish_note():
                yield Static(note, classes="finish-note", markup=False)
        else:
            yield Static(clean(self.message.content), classes="body", markup=False)
        if self.message.error:  # mounted later if an error comes (most messages have none)
            yield self._error_row(status)

    @property
    def is_job(self) -> bool:
        """Whether this message stands for a job (live while the job runs)."""
        return self.message.job_id is not None and self.message.role is Role.ASSISTANT

    def _job(self) -> Job | None:
        """The job this message stands for, as the app knows it (or as stored)."""
        job_id = self.message.job_id or 0
        jobs = getattr(self.app, "jobs", None)
        job: Job | None = jobs.jobs.get(job_id) if jobs is not None else None
        if job is None:  # the engine is not started yet: as stored
            job = self.app.store.get_job(job_id)  # type: ignore[attr-defined]
        return job

    def on_mount(self) -> None:
        if self.is_job:
            self.show_job(self._job(), time.time())

    def show_job(self, job: Job | None, now: float) -> bool:
        """Show ``job``'s live state (state, progress, elapsed, ETA) while it is active;
        nothing once it has ended. Returns whether the line shows anything."""
        text = job_line(job, now) if job is not None and job.state.is_active else ""
        live = next(iter(self.query_children(".job-live").results(Static)), None)
        if live is None:  # attached but not composed yet: on_mount shows it
            return bool(text)
        if text != self._job_text:
            self._job_text = text
            live.update(text)
            live.display = bool(text)
        return bool(text)

    def _error_row(self, status: str) -> Horizontal:
        return ErrorRow(
            Static(clean(self.message.error or ""), classes="error-text", markup=False),
            Button("Retry", variant="warning", classes="retry", compact=True),
            classes=f"error-row {status}",
        )

    def _preview(self, att: Attachment) -> Widget | None:
        if not previews.available() or att.url is not None:
            return None
        data = self.app.store.attachment_data(att.id)  # type: ignore[attr-defined]
        return previews.preview(data or b"")

    def _who(self) -> str:
        when = datetime.fromtimestamp(self.message.created_at).strftime("%H:%M")
        if self.message.role is Role.USER:
            return f"You · {when}"
        if self.message.role is Role.SYSTEM:
            return "System"
        return f"{clean_line(self.message.model or 'assistant')} · {when}"

    def _mark(self) -> str:
        if self.is_job:
            job = self._job()
            if job is not None and not job.state.is_active:
                return JOB_MARKS.get(job.state, "")
            if job is not None:
                return ""  # the live line says it
        mark = STATUS_MARKS.get(self.message.status, "")
        if self.message.usage and self.message.status is MessageStatus.COMPLETE:
            mark = f"{self.message.usage.completion_tokens} tokens"
        return mark

    def _finish_note(self) -> str:
        """``✂ Cut at the max-tokens limit — …`` under a reply the model was made to end."""
        message = self.message
        note = finish_note(message.finish_reason)
        if note is None or message.status is not MessageStatus.COMPLETE:
            return ""
        symbol, hint = FINISH_HINTS.get(message.finish_reason or "", ("⚠", ""))
        return f"{symbol} {note[:1].upper()}{note[1:]}" + (f" — {hint}" if hint else "")

    def _status_classes(self) -> dict[str, bool]:
        """The state classes: ``-streaming``, ``-complete`` and so on, and ``-has-error``."""
        status = self.message.status
        classes = {f"-{state.value}": status is state for state in MessageStatus}
        classes["-has-error"] = bool(self.message.error)
        return classes

    def _apply_status(self) -> None:
        """Set the state classes on the message, its header and its error row.

        Restyling a widget restyles all its descendants and repaints them, a long reply
        included, twice when a stream ends. So the message keeps its classes for queries only,
        unstyled, and the styles that follow the state select the small header and error row
        instead (``app.tcss``)."""
        classes = self._status_classes()
        self.update_classes(classes, update=False)
        for part in self.query_children(".message-header, .error-row"):
            part.update_classes(classes)

    def update_message(self, message: Message) -> None:
        """Show the stored state of this message (status, usage, error) after a change."""
        self.message = message
        # Search the header and the error row only.
        header = self.query_children(".message-header").first()
        header.query_one(".mark", Static).update(self._mark())
        note = self._finish_note()
        if note and not self.query_children(".finish-note"):
            markdown = self.query_children(StreamingMarkdown).first()
            self.mount(Static(note, classes="finish-note", markup=False), after=markdown)
        error_row = self.query_one_optional(".error-row", Horizontal)
        if error_row is not None:
            error_row.query_one(".error-text", Static).update(clean(message.error or ""))
        elif message.error:
            self.mount(self._error_row(""))
        self._apply_status()

    @on(Button.Pressed, ".retry")
    def _retry_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Action(self, "retry"))

    def action_copy(self) -> None:
        self.post_message(self.Action(self, "copy"))

    def action_edit(self) -> None:
        self.post_message(self.Action(self, "edit"))

    def action_delete(self) -> None:
        self.post_message(self.Action(self, "delete"))

    def action_retry(self) -> None:
        self.post_message(self.Action(self, "retry"))

    def action_move(self, step: int) -> None:
        self.post_message(self.Move(self, step))

    def action_leave(self) -> None:
        self.post_message(self.Move(self, 0))


class ErrorRow(Horizontal):
    """A message's error beside its Retry button; in a narrow pane (the split view, the job
    queue open at 80 columns) the button goes under the text, which then keeps the width
    instead of wrapping a word per line."""

    NARROW = 48

    def on_resize(self) -> None:
        self.set_class(self.size.width < self.NARROW, "-narrow")
