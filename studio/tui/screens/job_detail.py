"""One job in full: parameters, state history, files, URL and expiry, the raw last response,
and buttons for the actions that apply to the job as it stands."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

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
from studio.jobs.describe import summarised
from studio.textsafe import clean
from studio.tui import previews
from studio.tui.job_text import describe_job
from studio.tui.themes import job_colours

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
        return describe_job(self.job, time.time(), width, job_colours(self.app))

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
