"""One job in full: parameters, state history, files, URL and expiry, the raw last response,
and buttons for the actions that apply to the job as it stands."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Static

from studio.jobs import Job, JobKind, JobState
from studio.jobs.describe import item_errors
from studio.textsafe import clean
from studio.tui import previews
from studio.tui.job_styles import STATE_STYLE, duration

if TYPE_CHECKING:
    from studio.tui.app import StudioApp
    from studio.tui.jobs import JobsChanged

ACTIONS = (
    ("u", "copy_url", "Copy URL", "Copy the result links"),
    ("p", "copy_path", "Copy path", "Copy where the results are saved"),
    ("o", "open_file", "Open", "Open the result with the system opener"),
    ("k", "recheck", "Check again", "Ask the gateway about the task now; save its result"),
    ("s", "resend", "Send again", "Send an uncertain request again, same idempotency key"),
    ("t", "attach", "Attach task id", "Attach a task id found in the AnyFast console"),
    ("r", "retry", "Retry", "Send the request again as a new, separately billed job"),
    ("c", "cancel", "Cancel", "Stop tracking (the gateway has no cancel: it may be billed)"),
    ("x", "remove", "Remove", "Remove the job from the list (its files: you choose)"),
)
BUTTON_CELLS = 20
"""The width of one action button; the buttons wrap onto more rows when the dialog is narrow."""
_BREAKS = re.compile(r"(?<=[/?&])")
"""Where a path or link may be folded: after a slash, a ``?`` or an ``&``, never mid-name."""
_DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+)?[^,]*,")


def when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else "–"


def files_missing(job: Job) -> bool:
    """Whether a saved result has gone from disk (checking again saves it again)."""
    return any(f.done and not Path(f.path).exists() for f in job.files)


def applies(job: Job, action: str) -> bool:
    """Whether ``action`` can do something for ``job`` as it stands (its button shows)."""
    state = job.state
    taskless = not job.task_id
    if action == "copy_url":
        return any(f.url for f in job.files)
    if action in ("copy_path", "open_file"):
        return any(f.done for f in job.files)
    if action == "recheck":
        if state is JobState.PENDING:
            return False
        if state is JobState.SUCCEEDED:
            return files_missing(job)
        return not taskless or any(not f.done and f.url for f in job.files)
    if action == "resend":
        return state is JobState.SUBMISSION_UNCERTAIN and taskless
    if action == "attach":
        ended = state in (JobState.SUBMISSION_UNCERTAIN, JobState.CANCELLED)
        return ended and taskless and job.kind is JobKind.VIDEO
    if action == "retry":
        return state.is_final
    if action == "cancel":
        return state.is_active
    return action == "remove"


def shown_value(value: Any) -> str:
    """A parameter as shown: inline images summarised (``<image/png inline, 1,950 bytes>``)
    instead of their base64, a list of one value without brackets."""

    def short(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {str(k): short(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [short(v) for v in item]
        if isinstance(item, str):
            found = _DATA_URI.match(item)
            if found:
                size = (len(item) - found.end()) * 3 // 4
                return f"<{found.group(1) or 'data'} inline, {size:,} bytes>"
            if len(item) > 512 and " " not in item:
                return f"<inline data, {len(item):,} characters>"
        return item

    value = short(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str | int | float | bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def summarised(raw: Any) -> Any:
    """A server answer with its inline data (data URIs, long base64) summarised."""
    if isinstance(raw, Mapping):
        return {str(k): summarised(v) for k, v in raw.items()}
    if isinstance(raw, list | tuple):
        return [summarised(v) for v in raw]
    if isinstance(raw, str) and (_DATA_URI.match(raw) or (len(raw) > 512 and " " not in raw)):
        return shown_value(raw)
    return raw


def fold(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` cells after a ``/``, ``?`` or ``&`` (a
    piece longer than a line is cut where it must)."""
    width = max(8, width)
    lines: list[str] = []
    line = ""
    for piece in _BREAKS.split(text):
        while len(piece) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(piece[:width])
            piece = piece[width:]
        if len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    if line or not lines:
        lines.append(line)
    return lines


def describe_job(job: Job, now: float, width: int = 0) -> Text:
    """The detail text, built as styled spans (no markup: values are shown as they are), every
    part made safe to show: prompts, failure reasons, file names, URLs and ids come from the
    user and the gateway. With ``width``, paths and links are folded only after a ``/``."""
    label, style = STATE_STYLE[job.state]
    text = Text()

    def line(*parts: str | tuple[str, str]) -> None:
        for part in parts:
            if isinstance(part, tuple):
                text.append(clean(part[0]), part[1])
            else:
                text.append(clean(part))
        text.append("\n")

    def long(value: str, indent: int, style: str = "") -> None:
        """A path or link on lines of its own, folded at its slashes."""
        room = (width or 10_000) - indent
        for piece in fold(clean(value), room):
            line(" " * indent, (piece, style))

    line(
        (f"#{job.id} ", "bold"),
        f"{job.kind.value} · {job.provider.value} {job.action} · ",
        (job.model, "bold"),
    )
    eta = job.eta(now)
    line(
        "State: ",
        (label, style),
        f" · progress {job.progress}% · elapsed ",
        duration(job.elapsed(now)),
        f" · ETA ~{duration(eta)}" if eta is not None else "",
    )
    if job.message:
        line((job.message, "italic"))
    if job.failure_reason:
        line(("Failure: ", "bold red"), job.failure_reason)
    line()
    line(("Prompt", "bold"))
    line(job.prompt or "(none)")
    line()
    line(("Parameters", "bold"))
    shown = {
        k: v for k, v in sorted(job.params.items()) if k != "prompt" and v not in (None, [], "")
    }
    for key, value in shown.items():
        value_text = shown_value(value)
        line(f"  {key}: ", value_text[:400] + ("…" if len(value_text) > 400 else ""))
    if not shown:
        line(("  (the model's defaults)", "dim"))
    line()
    line(("Task", "bold"))
    line(f"  task id: {job.task_id or '(not assigned)'}")
    line(f"  created {when(job.created_at)} · submitted {when(job.submitted_at)}")
    line(f"  started {when(job.started_at)} · finished {when(job.finished_at)}")
    if job.urls_expire_at:
        left = job.urls_expire_at - now
        status = (f"in {duration(left)}", "") if left > 0 else ("expired", "bold red")
        line(f"  result links expire {when(job.urls_expire_at)} (", status, ")")
    if job.files:
        line()
        line(("Files", "bold"))
        for file in job.files:
            gone = file.done and not Path(file.path).exists()
            mark = ("✓ ", "green") if file.done else (("✖ ", "red") if file.error else ("… ", ""))
            size = f"{file.size:,} bytes" if file.size else ""
            note = ("  missing from disk: check again (k) to save it again", "bold red")
            line(
                "  ",
                mark,
                f"result {file.index + 1}",
                f" · {size}" if size else "",
                *([note] if gone else []),
            )
            long(file.path, 4)
            if file.url:
                long(file.url, 4, "dim")
            if file.error:
                line(("    " + file.error, "red"))
    failed = item_errors(job)
    if failed:
        line()
        line(("Images that failed", "bold yellow"))
        for error in failed:
            index = int(str(error.get("index", 0))) + 1
            line(f"  ✖ image {index}: {error.get('message')} ", (f"({error.get('code')})", "dim"))
    line()
    line(("History", "bold"))
    for state, at in job.history:
        line(f"  {when(at)}  {state}")
    return text


class JobText(Widget):
    """The detail text, laid out for the width it has (paths folded at their slashes)."""

    DEFAULT_CSS = "JobText { height: auto; }"

    def __init__(self, job: Job, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.job = job

    def show(self, job: Job) -> None:
        self.job = job
        self.refresh(layout=True)

    def text(self, width: int) -> Text:
        return describe_job(self.job, time.time(), width)

    def render(self) -> Text:
        return self.text(self.content_size.width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.text(width).wrap(self.app.console, max(1, width)))


class JobButtons(Container):
    """The buttons of the actions that apply, in as many rows as the width needs."""

    DEFAULT_CSS = """
    JobButtons { layout: grid; grid-size: 4; grid-gutter: 0 1; grid-rows: 1; height: auto; }
    JobButtons Button { width: 1fr; }
    """

    def __init__(self, actions: list[str]) -> None:
        super().__init__(classes="job-buttons")
        self.actions = actions

    def compose(self) -> ComposeResult:
        labels = {action: (key, label) for key, action, label, _ in ACTIONS}
        for action in self.actions:
            key, label = labels[action]
            yield Button(f"{label} ({key})", id=action, compact=True)

    async def show(self, actions: list[str]) -> None:
        if actions != self.actions:
            self.actions = actions
            await self.recompose()
            self._columns(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._columns(event.size.width)

    def _columns(self, width: int) -> None:
        fit = max(1, (width + 1) // (BUTTON_CELLS + 1))
        self.styles.grid_size_columns = max(1, min(len(self.actions), fit))


def open_details(app: StudioApp, job_id: int) -> None:
    """Show the details of job ``job_id`` as it stands (nothing if it is gone)."""
    job = app.jobs.jobs.get(job_id)
    if job is not None:
        app.push_screen(JobDetail(job))


class JobDetail(ModalScreen[None]):
    """Shows one job and posts the user's action on it; the app carries it out. It follows
    the job's changes while it is open, and closes when another window removes the job."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="job.close", tooltip="Close the job's details"),
        *(
            Binding(key, action, label, id=f"job.{action}", tooltip=tip)
            for key, action, label, tip in ACTIONS
        ),
    ]

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def actions(self) -> list[str]:
        """The actions with a button: those that apply to the job as it stands."""
        return [action for _, action, _, _ in ACTIONS if applies(self.job, action)]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog job-detail"):
            yield Static(f"Job #{self.job.id}", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield JobText(self.job, id="job-text")
                shown = [
                    p
                    for f in self.job.files
                    if f.done and f.path.lower().endswith((".png", ".jpg", ".jpeg", ".webp"))
                    for p in [previews.preview(_read(f.path))]
                    if p is not None
                ]
                if shown:
                    with Horizontal(classes="previews"):
                        yield from shown
                yield Static("[b]Last response[/b]", classes="dialog-hint")
                yield Static(self._raw(), markup=False, classes="raw", id="job-raw")
            yield JobButtons(self.actions())

    def on_mount(self) -> None:
        from studio.tui.jobs import JobsChanged

        jobs = self.app.jobs  # type: ignore[attr-defined]
        jobs.changed.subscribe(self, self._jobs_changed)
        if self.job.id in jobs.removed_elsewhere:  # the news came while this screen came up
            self._jobs_changed(JobsChanged(jobs.jobs, removed=frozenset({self.job.id})))

    def on_unmount(self) -> None:
        self.app.jobs.changed.unsubscribe(self)  # type: ignore[attr-defined]

    def _jobs_changed(self, change: JobsChanged) -> None:
        job_id = self.job.id
        if job_id in change.removed:
            if self.app.screen is self:  # only the screen in front can be dismissed
                self.dismiss()
                if job_id not in change.told:
                    self.notify(
                        f"Job #{job_id} was removed in another window", timeout=5, markup=False
                    )
            return
        job = change.jobs.get(job_id)
        if job is not None:
            self.update_job(job)

    def _raw(self) -> str:
        if not self.job.last_response:
            return "(none yet)"
        return clean(json.dumps(summarised(self.job.last_response), indent=2, ensure_ascii=False))

    def update_job(self, job: Job) -> None:
        """Show the job as it now is: its text, and the buttons and keys that now apply."""
        self.job = job
        self.refresh_bindings()
        text = self.query_one_optional(JobText)
        if text is None:  # not composed yet: it will be, from this job
            return
        text.show(job)
        self.query_one("#job-raw", Static).update(self._raw())
        self.call_later(self._show_buttons)

    async def _show_buttons(self) -> None:
        row = self.query_one_optional(JobButtons)
        if row is not None:
            await row.show(self.actions())

    @on(Button.Pressed)
    async def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id:
            await self.run_action(event.button.id)

    async def _ask(self, action: str) -> None:
        await self.app.job_action(self.job.id, action)  # type: ignore[attr-defined]

    async def action_copy_url(self) -> None:
        await self._ask("copy_url")

    async def action_copy_path(self) -> None:
        await self._ask("copy_path")

    async def action_open_file(self) -> None:
        await self._ask("open_file")

    async def action_retry(self) -> None:
        await self._ask("retry")

    async def action_cancel(self) -> None:
        await self._ask("cancel")

    async def action_recheck(self) -> None:
        await self._ask("recheck")

    async def action_resend(self) -> None:
        await self._ask("resend")

    async def action_attach(self) -> None:
        await self._ask("attach")

    async def action_remove(self) -> None:
        await self._ask("remove")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "recheck":
            return True  # always answers: a toast says what was checked, or why nothing was
        if action in {a for _, a, _, _ in ACTIONS}:
            return applies(self.job, action)  # False: neither on the key bar nor working
        return True


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""
