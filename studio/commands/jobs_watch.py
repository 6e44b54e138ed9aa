"""``studio jobs watch``: a live table of the active jobs, without Textual.

On a terminal the table is redrawn in place every ``--interval`` seconds (one write per frame,
inside the terminal's synchronized-output mode where it has one, so nothing flickers), cut to
the terminal's width and height; a job that ends stays in it, dimmed, for :data:`LINGER`
seconds. ctrl+c (or SIGTERM) leaves cleanly: exit 0, the cursor shown again, the last table
left on the screen. When stdout is not a terminal (a pipe, a log file) it prints one line per
change of a job's state instead.

Like ``jobs run`` it follows the jobs with a :class:`~studio.jobs.engine.JobEngine` (taking up
the unfinished jobs nobody holds; claims keep it off the jobs a TUI or another command
follows), so the table moves with nothing else running; the jobs others follow are read from
the store. Each end is told like ``jobs wait`` tells it: the bell and the terminal's desktop
notification, and ``notify_command`` for the jobs this process ended.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from studio.commands.common import CommandError, encodable, settings_or_fail, write_stdout
from studio.commands.exits import EXIT_OK, EXIT_USAGE
from studio.commands.job_follow import EndedHere
from studio.commands.job_lines import STATE_WORDS, end_line, short
from studio.commands.job_runtime import JobRuntime, job_runtime
from studio.config import Settings
from studio.jobs import ACTIVE_STATES, Job, JobState
from studio.jobs.describe import duration, rough_duration
from studio.store.watch import JobWatcher

LINGER = 60.0
"""Seconds a job that ended while watched stays in the table."""
MIN_INTERVAL = 0.1
TAKE_UP_EVERY = 1.0
"""Seconds between tries to claim the unfinished jobs no engine holds."""

HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
SYNC_BEGIN, SYNC_END = "\x1b[?2026h", "\x1b[?2026l"
"""Synchronized output: the terminal shows the frame at once (ignored where unknown)."""
ERASE_LINE, ERASE_BELOW, CLEAR_SCREEN = "\x1b[K", "\x1b[J", "\x1b[H\x1b[2J"
BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def wanted_states(names: list[str] | None) -> frozenset[JobState] | None:
    """The states ``--state`` asks for (``active`` = every unfinished one); ``None``: all."""
    if not names:
        return None
    states: set[JobState] = set()
    for name in names:
        if name == "active":
            states |= ACTIVE_STATES
            continue
        try:
            states.add(JobState(name))
        except ValueError:
            raise CommandError(f"unknown job state {name!r}", EXIT_USAGE) from None
    return frozenset(states)


@dataclass
class Board:
    """The jobs the table shows: the active ones (or those in ``states``) and, without a
    filter, the ones that ended while watched, for :data:`LINGER` seconds."""

    states: frozenset[JobState] | None = None
    jobs: dict[int, Job] = field(default_factory=dict)
    ended: dict[int, float] = field(default_factory=dict)
    """Job id -> when (monotonic) it was seen to end."""

    def shown(self, job: Job, clock: float) -> bool:
        if self.states is not None:
            return job.state in self.states
        if job.state.is_active:
            return True
        seen = self.ended.get(job.id)
        return seen is not None and clock - seen < LINGER

    def rows(self, clock: float) -> list[Job]:
        """The jobs to show: the unfinished ones first, then those that ended, by id."""
        shown = [job for job in self.jobs.values() if self.shown(job, clock)]
        return sorted(shown, key=lambda job: (job.state.is_final, job.id))


def _progress(job: Job, room: int) -> str:
    """``███░░░░░░░  30%`` (a bar ``room`` wide, then the percentage)."""
    if job.state is JobState.DOWNLOADING and job.bytes_total:
        percent = min(100, int(100 * (job.bytes_done or 0) / job.bytes_total))
    elif job.state is JobState.SUCCEEDED:
        percent = 100
    else:
        percent = max(0, min(100, job.progress))
    filled = round(room * percent / 100)
    return "█" * filled + "░" * (room - filled) + f" {percent:>3}%"


def table_row(job: Job, now: float, *, bar: int) -> str:
    """One job in the table: id, kind and model, state, progress, elapsed, ETA, prompt."""
    eta = job.eta(now)
    cells = [
        f"{job.id:>5}",
        f"{job.kind.value:<5} {short(job.model, 22):<22}",
        f"{STATE_WORDS[job.state]:<10}",
    ]
    if bar:
        cells.append(_progress(job, bar))
    cells += [
        f"{duration(job.elapsed(now)):>7}",
        f"{'~' + rough_duration(eta) if eta is not None else '':>6}",
        short(job.prompt, 200) or "(no prompt)",
    ]
    return "  ".join(cells)


def table_lines(
    jobs: list[Job], now: float, *, width: int, height: int, interval: float
) -> list[tuple[str, str]]:
    """The frame: (style, text) lines, each cut to ``width - 1`` columns (a line that fills
    the last column would wrap in some terminals) and at most ``height - 1`` of them."""
    active = sum(1 for job in jobs if job.state.is_active)
    stamp = time.strftime("%H:%M:%S", time.localtime(now))
    head = f"studio jobs watch · {active} active · every {interval:g}s · ctrl+c leaves · {stamp}"
    bar = 10 if width >= 100 else 0
    columns = ["   ID", f"{'KIND':<5} {'MODEL':<22}", f"{'STATE':<10}"]
    if bar:
        columns.append(f"{'PROGRESS':<{bar + 5}}")
    columns += [f"{'ELAPSED':>7}", f"{'ETA':>6}", "PROMPT"]
    lines = [(BOLD, head), (BOLD, "  ".join(columns))]
    rows = [(DIM if job.state.is_final else "", table_row(job, now, bar=bar)) for job in jobs]
    if not rows:
        rows = [(DIM, "      (no active jobs)")]
    room = max(1, height - 1 - len(lines))
    if len(rows) > room:
        hidden = len(rows) - room + 1
        rows = [*rows[: room - 1], (DIM, f"      … and {hidden} more")]
    cut = max(10, width - 1)
    return [
        (style, text if len(text) <= cut else text[: cut - 1] + "…") for style, text in lines + rows
    ]


class LiveTable:
    """Redraws a table in place on a terminal: back up over the previous frame, write the new
    one over it (each line erased to its end), erase what is left below."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._drawn = 0
        self._size: tuple[int, int] | None = None

    def start(self) -> None:
        self._write(HIDE_CURSOR)

    def draw(self, lines: list[tuple[str, str]]) -> None:
        size = shutil.get_terminal_size()
        parts = [SYNC_BEGIN]
        if self._size is not None and self._size != tuple(size):
            parts.append(CLEAR_SCREEN)  # old lines may have re-wrapped: start afresh
        elif self._drawn:
            parts.append(f"\x1b[{self._drawn}F")  # to the first column of the frame's top
        self._size = (size.columns, size.lines)
        for style, text in lines:
            shown = f"{style}{text}{RESET}" if style else text
            parts.append(encodable(shown) + ERASE_LINE + "\n")
        parts += [ERASE_BELOW, SYNC_END]
        self._drawn = len(lines)
        self._write("".join(parts))

    def close(self) -> None:
        self._write(SHOW_CURSOR)

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
            self._stream.flush()


class JobsWatch:
    """Follows the jobs on ``runtime`` and shows them on ``out`` until :meth:`stop`."""

    def __init__(
        self,
        runtime: JobRuntime,
        ended_here: EndedHere,
        changes: list[Job],
        *,
        states: frozenset[JobState] | None,
        interval: float,
        out: TextIO,
    ) -> None:
        self.runtime = runtime
        self.ended_here = ended_here
        self.changes = changes
        """Jobs this process's engine changed (its own writes: the watcher does not see
        them), filled by the engine's ``on_change``."""
        self.board = Board(states)
        self.interval = interval
        self.out = out
        try:
            self.live = out.isatty()
        except (AttributeError, ValueError):
            self.live = False
        self.table = LiveTable(out) if self.live else None
        self.watcher = JobWatcher(runtime.store)
        self.stopping = asyncio.Event()
        self._started = time.time()
        self._next_take_up = 0.0

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        first = self.watcher.poll()
        for job in reversed(first.changed if first else []):
            self.board.jobs[job.id] = job
        if not self.live:
            shown = self.board.rows(time.monotonic())
            self._say(f"watching {len(shown)} job{'s' * (len(shown) != 1)} (ctrl+c leaves)")
            for job in shown:
                self._line(job)
        if self.table is not None:
            self.table.start()
        try:
            while True:
                await self._tick()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        await self.stopping.wait()
                if self.stopping.is_set():
                    return
        finally:
            if self.table is not None:
                self.table.close()

    async def _tick(self) -> None:
        found = self.watcher.poll()
        mine, self.changes[:] = list(self.changes), []
        self.watcher.seen(mine)
        merged = [*(reversed(found.changed) if found else []), *mine]
        for job_id in found.removed if found else ():
            self.board.jobs.pop(job_id, None)
        for job in merged:
            await self._merge(job)
        self._take_up()
        if self.table is not None:
            now = time.time()
            size = shutil.get_terminal_size()
            rows = self.board.rows(time.monotonic())
            frame = table_lines(
                rows, now, width=size.columns, height=size.lines, interval=self.interval
            )
            self.table.draw(frame)

    async def _merge(self, job: Job) -> None:
        before = self.board.jobs.get(job.id)
        if before is not None and before.updated_at > job.updated_at:
            return  # a newer copy is here already
        self.board.jobs[job.id] = job
        changed = before is None or before.state is not job.state
        if not changed:
            return
        new_end = job.state.is_final and (before is not None or self._since_started(job))
        if new_end:
            self.board.ended[job.id] = time.monotonic()
        if not self.live and (job.state.is_active or new_end) and self._wanted(job):
            self._line(job)
        if new_end and job.state is not JobState.CANCELLED:
            await self.runtime.alerts.ended(job, here=job.id in self.ended_here.ids)

    def _since_started(self, job: Job) -> bool:
        return (job.finished_at or 0) >= self._started

    def _wanted(self, job: Job) -> bool:
        return self.board.states is None or job.state in self.board.states

    def _take_up(self) -> None:
        """Claim the unfinished jobs nobody holds soon after they appear (``studio video``
        without ``--wait`` that just exited, a window closed), not only at the engine's next
        housekeeping look; at most every :data:`TAKE_UP_EVERY` seconds."""
        engine = self.runtime.engine
        clock = time.monotonic()
        if clock < self._next_take_up:
            return
        if any(j.state.is_active and j.id not in engine.book for j in self.board.jobs.values()):
            self._next_take_up = clock + TAKE_UP_EVERY
            engine.resume_unfinished()

    def _line(self, job: Job) -> None:
        """The plain line for a job's state (stdout is not a terminal)."""
        if job.state.is_final:
            text = end_line(job, elsewhere=job.id not in self.ended_here.ids, paths=True)
        else:
            what = f"{job.kind.value} {short(job.model, 40)}"
            text = f"job #{job.id} ({what}) {STATE_WORDS[job.state]}: {short(job.prompt, 80)}"
        self._say(text)

    def _say(self, text: str) -> None:
        """A plain line, its time first."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        write_stdout(encodable(f"{stamp}  {text}") + "\n", self.out)


def run_watch(args: argparse.Namespace) -> int:
    """``studio jobs watch [--state S]... [--interval SECONDS]``: see the module's docstring."""
    interval = float(getattr(args, "interval", None) or 1.0)
    if not math.isfinite(interval) or interval <= 0:
        raise CommandError("--interval takes a number of seconds greater than 0", EXIT_USAGE)
    states = wanted_states(getattr(args, "state", None))
    demo = bool(getattr(args, "demo", False))
    settings = settings_or_fail(demo=demo)
    try:
        asyncio.run(_watch(settings, demo, states, max(interval, MIN_INTERVAL)))
    except KeyboardInterrupt:  # before the handler was in place, or a second ctrl+c
        sys.stdout.write(SHOW_CURSOR if sys.stdout.isatty() else "")
    return EXIT_OK


async def _watch(
    settings: Settings, demo: bool, states: frozenset[JobState] | None, interval: float
) -> None:
    ended = EndedHere()
    changes: list[Job] = []

    def changed(job: Job) -> None:
        ended.changed(job)
        changes.append(job)

    async with job_runtime(settings, demo=demo, take_up=True, on_change=changed) as runtime:
        watch = JobsWatch(runtime, ended, changes, states=states, interval=interval, out=sys.stdout)
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for number in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(number, watch.stop)
        try:
            await watch.run()
        finally:
            for number in signals:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(number)
