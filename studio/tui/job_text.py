"""The text of a job's details: what it is, its state and progress, its prompt and
parameters, its history, files, links and their expiry, every value made safe to show."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from rich.text import Text

from studio.jobs import Job
from studio.jobs.describe import duration, item_errors, shown_value
from studio.textsafe import clean
from studio.tui.job_styles import STATE_STYLE, themed

_BREAKS = re.compile(r"(?<=[/?&])")
"""Where a path or link may be folded: after a slash, a ``?`` or an ``&``, never mid-name."""


def when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else "–"


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


def describe_job(
    job: Job, now: float, width: int = 0, colours: Mapping[str, str] | None = None
) -> Text:
    """The detail text, built as styled spans (no markup: values are shown as they are), every
    part made safe to show: prompts, failure reasons, file names, URLs and ids come from the
    user and the gateway. With ``width``, paths and links are folded only after a ``/``. Red,
    green and yellow are the theme's job colours where it sets them (``colours``)."""
    label, style = STATE_STYLE[job.state]
    text = Text()

    def line(*parts: str | tuple[str, str]) -> None:
        for part in parts:
            if isinstance(part, tuple):
                text.append(clean(part[0]), themed(part[1], colours))
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
