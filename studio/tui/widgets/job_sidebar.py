"""The job-queue sidebar: every image and video job, newest first, with live progress."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.css.styles import RulesMap
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from studio.jobs import Job, JobKind, JobState
from studio.textsafe import clean_line

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
BAR_WIDTH = 8
ROW_HEIGHT = 2
"""Lines per job in the list: :func:`job_label` always makes two."""


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


def rough_duration(seconds: float) -> str:
    """A duration to the nearest minute (seconds under a minute): ETAs are estimates."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def job_label(job: Job, now: float) -> Text:
    """Two lines: kind, short prompt; state, bar, progress, elapsed and ETA.

    The second line fits the sidebar's 46 columns (about 40 of text) in every state, ETA
    included: rows have a fixed height, so a longer line would be cut."""
    label, style = STATE_STYLE[job.state]
    icon = "▣" if job.kind is JobKind.IMAGE else "▶"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{icon} #{job.id} ", "bold")
    text.append(clean_line(job.prompt[:60]) or "(no prompt)")  # a Text: never markup
    text.append("\n  ")
    if job.state in (JobState.QUEUED, JobState.RUNNING, JobState.DOWNLOADING):
        text.append(f"{label:<8}", style)
        text.append(f"{progress_bar(job.progress)} {job.progress}%", "cyan")
        gap = " "
    else:
        text.append(f"{label:<10}", style)
        gap = "  "
    failed = item_errors(job)
    if failed and job.state is JobState.SUCCEEDED:
        text.append(f" {len(failed)} of {job.result.get('count', '?')} failed", "yellow")
    text.append(f"{gap}{duration(job.elapsed(now))}", "dim")
    eta = job.eta(now)
    if eta is not None:
        text.append(f" ~{rough_duration(eta)} left", "dim")
    return text


def ticking(job: Job) -> bool:
    """Whether the job's label changes with the clock alone (elapsed time, ETA)."""
    return job.finished_at is None or job.state in (JobState.QUEUED, JobState.RUNNING)


class JobRow(Visual):
    """One job as an option: always :data:`ROW_HEIGHT` lines, each cut with an ellipsis.

    The label is built the first time the row is drawn, so a list of hundreds of jobs costs only
    the rows on screen; the height is known without building it, so the option list never has
    to measure a row.
    """

    def __init__(self, job: Job, now: float) -> None:
        self.job = job
        self.now = now
        self._content: Content | None = None

    def update(self, job: Job, now: float) -> bool:
        """Show ``job`` as of ``now``; whether that reads differently from before."""
        if (job is self.job or job == self.job) and (now == self.now or not ticking(job)):
            return False
        self.job, self.now, self._content = job, now, None
        return True

    @property
    def content(self) -> Content:
        if self._content is None:
            self._content = Content.from_rich_text(job_label(self.job, self.now))
        return self._content

    def __str__(self) -> str:
        return self.content.plain

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        rules = RulesMap(
            text_align=options.rules.get("text_align", "left"),
            line_pad=options.rules.get("line_pad", 0),
            text_wrap="nowrap",
            text_overflow="ellipsis",
        )
        return self.content.render_strips(width, ROW_HEIGHT, style, replace(options, rules=rules))

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.content.get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return ROW_HEIGHT


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
        self._rows: list[JobRow] = []
        """The prompts of the list's options, in the same order as ``_shown``."""
        self._texts: dict[str, str] = {}
        self._keep: int | None = None
        """The job last highlighted, to highlight again when it is back in the list."""

    def compose(self) -> ComposeResult:
        yield Static("Jobs", classes="sidebar-title")
        yield OptionList(classes="jobs")
        yield Static("", classes="jobs-hint")

    def show(self, jobs: Iterable[Job]) -> None:
        """Redraw with these jobs (newest first); cheap enough for hundreds of jobs."""
        self._jobs = sorted(jobs, key=lambda j: j.id, reverse=True)
        self._redraw()

    def _redraw(self, *, new_filter: bool = False) -> None:
        name, states = FILTERS[self.filter_index]
        shown = [j for j in self._jobs if states is None or j.state in states]
        options = self.query_one(OptionList)
        now = self.clock()
        if [j.id for j in shown] == [j.id for j in self._shown]:
            self._update_rows(options, shown, now)
        else:
            self._replace_rows(options, shown, now, new_filter)
        self._shown = shown
        active = sum(1 for j in self._jobs if j.state.is_active)
        title = f"Jobs · {active} running" if active else "Jobs"
        self._set_text(".sidebar-title", f"{title} · showing {name}")
        self._set_text(".jobs-hint", "Enter: details · f: filter" if shown else _EMPTY[name])

    def _set_text(self, selector: str, text: str) -> None:
        """Update a line of text only when it changes (an update lays out the screen again)."""
        if self._texts.get(selector) != text:
            self._texts[selector] = text
            self.query_one(selector, Static).update(text)

    def _update_rows(self, options: OptionList, shown: list[Job], now: float) -> None:
        """The same jobs in the same order: the options, highlight and scroll position stay.

        Rows that read differently are updated in place, which costs nothing until they are
        drawn; then one prompt replacement makes the list drop its cached renders (of every
        row, so one call does for all: tests/tui/test_job_sidebar.py checks that this holds)
        and redraw the rows on screen. Nothing is measured.
        """
        rows = self._rows
        changed = [index for index, job in enumerate(shown) if rows[index].update(job, now)]
        if changed:
            options.replace_option_prompt_at_index(changed[0], rows[changed[0]])

    def _replace_rows(
        self, options: OptionList, shown: list[Job], now: float, new_filter: bool
    ) -> None:
        """Other jobs: new options, keeping the highlighted job (and where it sits on screen)."""
        old = options.highlighted
        if old is not None and old < len(self._shown):
            self._keep = self._shown[old].id
        keep = self._keep
        top = options.scroll_y
        reuse = {row.job.id: row for row in self._rows}
        self._rows = []
        for job in shown:
            row = reuse.get(job.id)
            if row is None:
                row = JobRow(job, now)
            else:
                row.update(job, now)
            self._rows.append(row)
        options.set_options(
            Option(row, id=str(job.id)) for job, row in zip(shown, self._rows, strict=True)
        )
        if not shown:
            return
        ids = [j.id for j in shown]
        if keep in ids:
            index = ids.index(keep)
        elif old is not None and not new_filter:
            index = min(old, len(ids) - 1)  # the job below the one that left, if any
        else:
            index = 0
        options.highlighted = index
        if old is not None and (keep in ids or not new_filter):
            options.scroll_to(y=top + (index - old) * ROW_HEIGHT, animate=False, immediate=True)

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self._redraw(new_filter=True)

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
