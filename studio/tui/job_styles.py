"""How jobs read in the TUI: state labels and styles, durations, byte counts, and the two-line
label of a job in the queue. Shared by the job sidebar, the job details and the controller."""

from __future__ import annotations

import math
from collections.abc import Mapping

from rich.cells import cell_len
from rich.text import Text

from studio.jobs import Job, JobKind, JobState
from studio.jobs.describe import duration, item_errors, rough_duration
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


def themed(style: str, colours: Mapping[str, str] | None) -> str:
    """``style`` with its colour word in the theme's job colour (``bold cyan`` becomes
    ``bold #5fc4d9``); ``colours`` maps cyan, green, red and yellow (``themes.job_colours``)."""
    if not colours:
        return style
    return " ".join(colours.get(word, word) for word in style.split())


def progress_bar(progress: int, width: int = BAR_WIDTH) -> str:
    filled = round(max(0, min(100, progress)) * width / 100)
    return "█" * filled + "░" * (width - filled)


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


def job_label(
    job: Job,
    now: float,
    width: int = LABEL_WIDTH,
    still: float = 0.0,
    colours: Mapping[str, str] | None = None,
) -> Text:
    """Two lines, ``width`` cells each: kind, number and prompt; then what the job is doing
    or why it waits or stopped (cut with an ellipsis), with the elapsed time and ETA at the
    right. The elapsed time stops when the job does (finished, failed, uncertain, timed out,
    cancelled). ``colours`` are the theme's job colours (:func:`themed`)."""
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
    second.append(words, themed(style, colours))
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append_text(first)
    text.append("\n")
    text.append_text(_fit(second, times, width))
    return text


def ticking(job: Job) -> bool:
    """Whether the job's label changes with the clock alone (elapsed time, ETA, countdowns):
    only while an engine works on it."""
    return job.state.is_active
