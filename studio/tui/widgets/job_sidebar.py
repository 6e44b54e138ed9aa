"""The job-queue sidebar: every image and video job, newest first, with live progress."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

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

from studio.jobs import Job
from studio.tui.job_styles import FILTERS, LABEL_WIDTH, ROW_HEIGHT, job_label, ticking
from studio.tui.themes import job_colours

if TYPE_CHECKING:
    from textual.timer import Timer

TICK_SECONDS = 1.0
"""How often elapsed times, ETAs and countdowns move while the sidebar shows active jobs."""


class JobRow(Visual):
    """One job as an option: always :data:`ROW_HEIGHT` lines, each cut with an ellipsis.

    The label is built the first time the row is drawn, for the width it is drawn at, so a
    list of hundreds of jobs costs only the rows on screen; the height is known without
    building it, so the option list never has to measure a row.
    """

    def __init__(self, job: Job, now: float, colours: Mapping[str, str] | None = None) -> None:
        self.job = job
        self.now = now
        self.colours = colours
        """The theme's job colours (``themes.job_colours``)."""
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

    def recolour(self, colours: Mapping[str, str]) -> None:
        """Use another theme's job colours (drawn anew when next shown)."""
        self.colours, self._content = colours, None

    def content_at(self, width: int) -> Content:
        if self._content is None or width != self._width:
            self._width = width
            still = self.now - self._moved_at
            label = job_label(self.job, self.now, width, still, self.colours)
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
        self._colours: Mapping[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("Jobs", classes="sidebar-title")
        yield OptionList(classes="jobs")
        yield Static("", classes="jobs-hint")

    def on_mount(self) -> None:
        self._ticker = self.set_interval(TICK_SECONDS, self.tick, pause=True)
        self.watch(self.app, "theme", self._recolour)

    def _recolour(self) -> None:
        """Draw the job states in the theme's colours (its ``job-*`` roles)."""
        self._colours = job_colours(self.app)
        for row in self._rows:
            row.recolour(self._colours)
        if self._rows:  # one prompt replacement drops every row's cached render
            self.query_one(OptionList).replace_option_prompt_at_index(0, self._rows[0])

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
                row = JobRow(job, now, self._colours)
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
