"""The job-queue sidebar: every image and video job, newest first, with live progress."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
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
from studio.jobs.describe import item_errors
from studio.textsafe import clean_line

if TYPE_CHECKING:
    from textual.timer import Timer

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


def rough_duration(seconds: float) -> str:
    """A duration to the nearest minute (seconds under a minute): ETAs are estimates."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


TICK_SECONDS = 1.0
"""How often elapsed times, ETAs and countdowns move while the sidebar shows active jobs."""
LABEL_WIDTH = 41
"""The text width of a row in the 46-column sidebar with its scrollbar: what rows are measured
at before they are drawn."""
STALLED_AFTER = 10.0
"""Seconds without a new byte after which a download reads "stalled" instead of its rate."""
SENDING_FOR = 3.0
"""Seconds a new request reads "sending…"; after that the job waits for the gateway's answer."""


def human_bytes(size: float) -> str:
    """``812 B``, ``8.1 kB``, ``12.4 MB``, ``74 MB``, ``1.2 GB`` (powers of 1000, as
    download tools show them)."""
    value = float(max(0, size))
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            break
        value /= 1000
    if unit == "B":
        return f"{int(value)} B"
    text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return f"{text.removesuffix('.0')} {unit}"


def _countdown(at: float | None, now: float) -> str:
    """`` in 9 s`` until ``at``, or nothing once it is due."""
    left = None if at is None else at - now
    if left is None or left < 1:
        return ""
    return f" in {math.ceil(left)} s" if left < 60 else f" in {rough_duration(left)}"


def saving_text(job: Job, width: int, still: float = 0.0) -> str:
    """``saving 12.4 MB of 74 MB · 3.1 MB/s``, shortened to fit ``width`` when it can;
    ``· stalled 12 s`` instead of the rate once no byte came for ``still`` ≥
    :data:`STALLED_AFTER` seconds."""
    done, total, rate = job.bytes_done, job.bytes_total, job.bytes_rate
    if done is None:
        return "saving…"
    speed = f" · {human_bytes(rate)}/s" if rate else ""
    if still >= STALLED_AFTER:
        speed = f" · stalled {rough_duration(still).replace('s', ' s')}"
    if total is None:
        return f"saving {human_bytes(done)}{speed}"
    full = f"saving {human_bytes(done)} of {human_bytes(total)}{speed}"
    have, want = human_bytes(done).split(" "), human_bytes(total).split(" ")
    if cell_len(full) <= width or have[1] != want[1]:
        return full
    return f"saving {have[0]} of {want[0]} {want[1]}{speed}"


def status(job: Job, now: float, width: int = LABEL_WIDTH, still: float = 0.0) -> tuple[str, str]:
    """What a job is doing or why it stopped, in a few words, and the style to show it in.

    The row shows this after its state; the detail view has the full message."""
    state = job.state
    error = clean_line(job.last_error) if job.last_error else None
    if state is JobState.PENDING:
        if error:
            wait = _countdown(job.next_poll_at, now)
            return (f"retry{wait}: {error}" if wait else f"retrying: {error}"), "yellow"
        started = max(job.created_at, job.next_poll_at or job.created_at)
        if now - started < SENDING_FOR:
            return "sending…", "cyan"
        return "waiting for the gateway", "cyan"
    if state in (JobState.QUEUED, JobState.RUNNING) and error:
        return f"checking again{_countdown(job.next_poll_at, now)}: {error}", "yellow"
    if state is JobState.QUEUED:
        return "queued at the gateway", "cyan"
    if state is JobState.RUNNING:
        return f"running {progress_bar(job.progress)} {job.progress}%", "bold cyan"
    if state is JobState.DOWNLOADING:
        if error:
            return f"retrying the download: {error}", "yellow"
        return saving_text(job, width, still), "yellow" if still >= STALLED_AFTER else "bold cyan"
    if state is JobState.SUBMISSION_UNCERTAIN:
        return "may not have been received — open it", "bold yellow"
    if state is JobState.TIMED_OUT:
        return "timed out — check again with k", "yellow"
    if state is JobState.FAILED:
        reason = clean_line(job.failure_reason or "") or "no reason given"
        return f"failed: {reason}", "bold red"
    if state is JobState.CANCELLED:
        return "cancelled", "dim"
    failed = item_errors(job)
    if failed:
        return f"done · {len(failed)} of {job.result.get('count', '?')} failed", "yellow"
    size = sum(f.size or 0 for f in job.files if f.done)
    return (f"done · {human_bytes(size)}" if size else "done"), "bold green"


def _fit(line: Text, right: Text, width: int) -> Text:
    """``line`` cut with an ellipsis so that ``right`` fits after it, right-aligned."""
    room = width - right.cell_len
    if room < 8:  # too narrow for both: the words matter more than the times
        line.truncate(width, overflow="ellipsis")
        return line
    if line.cell_len > room - 1:
        line.truncate(room - 1, overflow="ellipsis")
    line.append(" " * (room - line.cell_len))
    line.append_text(right)
    return line


def job_label(job: Job, now: float, width: int = LABEL_WIDTH, still: float = 0.0) -> Text:
    """Two lines, ``width`` cells each: kind, number and prompt; then what the job is doing
    or why it waits or stopped (cut with an ellipsis), with the elapsed time and ETA at the
    right. The elapsed time stops when the job does (finished, failed, uncertain, timed out,
    cancelled)."""
    icon = "▣" if job.kind is JobKind.IMAGE else "▶"
    first = Text(no_wrap=True, overflow="ellipsis")
    first.append(f"{icon} #{job.id} ", "bold")
    first.append(clean_line(job.prompt[:200]) or "(no prompt)")  # a Text: never markup
    first.truncate(width, overflow="ellipsis")
    times = Text(duration(job.elapsed(now)), "dim")
    eta = job.eta(now)
    if eta is not None:
        times.append(f" ~{rough_duration(eta)} left", "dim")
    words, style = status(job, now, width - times.cell_len - 3, still)
    second = Text("  ", no_wrap=True)
    second.append(words, style)
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append_text(first)
    text.append("\n")
    text.append_text(_fit(second, times, width))
    return text


def ticking(job: Job) -> bool:
    """Whether the job's label changes with the clock alone (elapsed time, ETA, countdowns):
    only while an engine works on it."""
    return job.state.is_active


class JobRow(Visual):
    """One job as an option: always :data:`ROW_HEIGHT` lines, each cut with an ellipsis.

    The label is built the first time the row is drawn, for the width it is drawn at, so a
    list of hundreds of jobs costs only the rows on screen; the height is known without
    building it, so the option list never has to measure a row.
    """

    def __init__(self, job: Job, now: float) -> None:
        self.job = job
        self.now = now
        self._content: Content | None = None
        self._width = LABEL_WIDTH
        self._moved_at = now
        """When the download's byte count last changed (as this row saw it)."""

    def update(self, job: Job, now: float) -> bool:
        """Show ``job`` as of ``now``; whether that reads differently from before."""
        if (job is self.job or job == self.job) and (now == self.now or not ticking(job)):
            return False
        if job.bytes_done != self.job.bytes_done or job.state is not self.job.state:
            self._moved_at = now
        self.job, self.now, self._content = job, now, None
        return True

    def content_at(self, width: int) -> Content:
        if self._content is None or width != self._width:
            self._width = width
            still = self.now - self._moved_at
            label = job_label(self.job, self.now, width, still)
            self._content = Content.from_rich_text(label)
        return self._content

    @property
    def content(self) -> Content:
        return self.content_at(self._width)

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
        content = self.content_at(max(1, width))
        return content.render_strips(width, ROW_HEIGHT, style, replace(options, rules=rules))

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
        Binding(
            "k",
            "recheck",
            "Check again",
            tooltip="Check a timed-out or failed job again",
            id="jobs.recheck",
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
        self._ticker: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("Jobs", classes="sidebar-title")
        yield OptionList(classes="jobs")
        yield Static("", classes="jobs-hint")

    def on_mount(self) -> None:
        self._ticker = self.set_interval(TICK_SECONDS, self.tick, pause=True)

    def on_show(self, event: events.Show) -> None:
        self._set_ticking()

    def _set_ticking(self) -> None:
        """Tick while some row moves with the clock and the sidebar is shown."""
        if self._ticker is None:
            return
        if self.display and any(ticking(job) for job in self._shown):
            self._ticker.resume()
        else:
            self._ticker.pause()

    def tick(self) -> None:
        """Move elapsed times, ETAs and countdowns on (the clock alone, no store reads): only
        rows that read differently are marked, only rows on screen are drawn again."""
        if not self.display:
            self._set_ticking()
            return
        if not self.screen.is_current or not self._shown:
            return  # covered by a dialog: nothing to see; the next tick catches up
        self._update_rows(self.query_one(OptionList), self._shown, self.clock())

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
        self._set_ticking()

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
        before = [j.id for j in self._shown]
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
            index = _neighbour(before, ids, keep, old)
        else:
            index = 0
        options.highlighted = index
        if old is not None and (keep in ids or not new_filter):
            options.scroll_to(y=top + (index - old) * ROW_HEIGHT, animate=False, immediate=True)

    async def action_recheck(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is not None and option.id is not None:
            await self.app.job_action(int(option.id), "recheck")  # type: ignore[attr-defined]

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self._redraw(new_filter=True)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Selected(int(event.option.id)))


def _neighbour(before: list[int], after: list[int], gone: int | None, old: int) -> int:
    """Where the highlight goes when its job left the list: to the job that was below it
    (else above it) and is still there, wherever new jobs pushed it."""
    if gone in before:
        place = before.index(gone)
        present = set(after)
        below = [i for i in before[place + 1 :] if i in present]
        above = [i for i in reversed(before[:place]) if i in present]
        nearest = below[:1] or above[:1]
        if nearest:
            return after.index(nearest[0])
    return min(old, len(after) - 1)


_EMPTY = {
    "all": "No jobs yet. f10 makes an image, f12 a video; or type /image or /video and a "
    "prompt in a conversation.",
    "active": "Nothing running.",
    "done": "No finished jobs yet.",
    "problems": "No failed or timed-out jobs.",
    "cancelled": "Nothing cancelled.",
}
