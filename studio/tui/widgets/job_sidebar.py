"""The job-queue sidebar: every image and video job, newest first, with live progress."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from studio.jobs import Job, JobKind, JobState

FILTERS: tuple[tuple[str, frozenset[JobState] | None], ...] = (
    ("all", None),
    (
        "active",
        frozenset({JobState.PENDING, JobState.QUEUED, JobState.RUNNING, JobState.DOWNLOADING}),
    ),
    ("done", frozenset({JobState.SUCCEEDED})),
    (
        "problems",
        frozenset({JobState.FAILED, JobState.TIMED_OUT, JobState.SUBMISSION_UNCERTAIN}),
    ),
    ("cancelled", frozenset({JobState.CANCELLED})),
)

STATE_STYLE = {
    JobState.PENDING: ("pending", "dim"),
    JobState.SUBMISSION_UNCERTAIN: ("uncertain!", "bold yellow"),
    JobState.QUEUED: ("queued", "cyan"),
    JobState.RUNNING: ("running", "bold cyan"),
    JobState.DOWNLOADING: ("saving", "bold cyan"),
    JobState.SUCCEEDED: ("done", "bold green"),
    JobState.FAILED: ("failed", "bold red"),
    JobState.TIMED_OUT: ("timed out", "yellow"),
    JobState.CANCELLED: ("cancelled", "dim"),
}
BAR_WIDTH = 12


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_bar(progress: int, width: int = BAR_WIDTH) -> str:
    filled = round(max(0, min(100, progress)) * width / 100)
    return "█" * filled + "░" * (width - filled)


def item_errors(job: Job) -> list[dict[str, object]]:
    """The failed images of a group (the rest succeeded), as recorded by the engine."""
    errors = job.result.get("errors") if isinstance(job.result, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def job_label(job: Job, now: float) -> Text:
    """Two lines: kind, short prompt; state, bar, progress, elapsed and ETA."""
    label, style = STATE_STYLE[job.state]
    icon = "▣" if job.kind is JobKind.IMAGE else "▶"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{icon} #{job.id} ", "bold")
    text.append(job.prompt.replace("\n", " ")[:60] or "(no prompt)")
    text.append("\n  ")
    text.append(f"{label:<10}", style)
    if job.state in (JobState.QUEUED, JobState.RUNNING, JobState.DOWNLOADING):
        text.append(f" {progress_bar(job.progress)} {job.progress:>3}%", "cyan")
    failed = item_errors(job)
    if failed and job.state is JobState.SUCCEEDED:
        text.append(f" {len(failed)} of {job.result.get('count', '?')} failed", "yellow")
    text.append(f"  {duration(job.elapsed(now))}", "dim")
    eta = job.eta(now)
    if eta is not None:
        text.append(f" · ~{duration(eta)} left", "dim")
    return text


class JobSidebar(Vertical):
    """Shows jobs; the screen feeds it with :meth:`show`. Posts :class:`Selected` on Enter."""

    clock = staticmethod(time.time)
    """Where "now" comes from for elapsed times and ETAs (tests pin it)."""

    BINDINGS = [
        Binding(
            "f",
            "cycle_filter",
            "Filter",
            tooltip="Show all / active / done / problems",
            id="jobs.filter",
        ),
    ]

    @dataclass
    class Selected(Message):
        job_id: int

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.filter_index = 0
        self._jobs: list[Job] = []
        self._shown: list[Job] = []

    def compose(self) -> ComposeResult:
        yield Static("Jobs", classes="sidebar-title")
        yield OptionList(classes="jobs")
        yield Static("", classes="jobs-hint")

    def show(self, jobs: Iterable[Job]) -> None:
        """Redraw with these jobs (newest first); cheap enough for hundreds of jobs."""
        self._jobs = sorted(jobs, key=lambda j: j.id, reverse=True)
        self._redraw()

    def _redraw(self) -> None:
        name, states = FILTERS[self.filter_index]
        shown = [j for j in self._jobs if states is None or j.state in states]
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        keep = (
            self._shown[highlighted].id
            if highlighted is not None and highlighted < len(self._shown)
            else None
        )
        self._shown = shown
        now = self.clock()
        options.clear_options()
        options.add_options([Option(job_label(j, now), id=str(j.id)) for j in shown])
        ids = [j.id for j in shown]
        if keep in ids:
            options.highlighted = ids.index(keep)
        elif ids:
            options.highlighted = 0
        active = sum(1 for j in self._jobs if j.state.is_active)
        title = f"Jobs · {active} running" if active else "Jobs"
        self.query_one(".sidebar-title", Static).update(f"{title} · showing {name}")
        hint = "Enter: details · f: filter" if shown else _EMPTY[name]
        self.query_one(".jobs-hint", Static).update(hint)

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self._redraw()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Selected(int(event.option.id)))


_EMPTY = {
    "all": "No jobs yet. f10 makes an image, f12 a video; or type /image or /video and a "
    "prompt in a conversation.",
    "active": "Nothing running.",
    "done": "No finished jobs yet.",
    "problems": "No failed or timed-out jobs.",
    "cancelled": "Nothing cancelled.",
}
