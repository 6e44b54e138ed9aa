"""How the job commands print a job: a line in a list, a block for ``jobs show``, the progress
line while waiting and the line that tells of its end. Every value that came from a user or
the gateway (prompts, reasons, paths, ids) is made safe for the terminal here."""

from __future__ import annotations

from datetime import datetime

from studio.jobs import Job, JobState
from studio.jobs.describe import duration, item_errors, rough_duration, shown_value
from studio.textsafe import clean_line

STATE_WORDS = {
    JobState.PENDING: "pending",
    JobState.SUBMISSION_UNCERTAIN: "uncertain",
    JobState.QUEUED: "queued",
    JobState.RUNNING: "running",
    JobState.DOWNLOADING: "saving",
    JobState.SUCCEEDED: "done",
    JobState.FAILED: "failed",
    JobState.TIMED_OUT: "timed out",
    JobState.CANCELLED: "cancelled",
}


def when(stamp: float | None) -> str:
    """A local date and time, or ``–``."""
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else "–"


def saved_paths(job: Job) -> list[str]:
    """The paths of the job's saved results, in order."""
    return [item.path for item in job.files if item.done]


def short(text: str, width: int) -> str:
    """``text`` on one line, safe to show, cut to ``width`` characters with "…"."""
    line = clean_line(" ".join(text.split()))
    return line if len(line) <= width else line[: width - 1] + "…"


def state_text(job: Job, now: float) -> str:
    """Where the job stands in a few words: ``running 45%``, ``saving 3.1 of 12.0 MB``, …"""
    words = STATE_WORDS[job.state]
    if job.state is JobState.RUNNING:
        return f"{words} {job.progress}%"
    if job.state is JobState.DOWNLOADING and job.bytes_done is not None:
        total = f" of {job.bytes_total / 1e6:.1f}" if job.bytes_total else ""
        return f"{words} {job.bytes_done / 1e6:.1f}{total} MB"
    return words


def progress_text(job: Job, now: float) -> str:
    """``#12 running 45% · 1m02s · ETA ~2m`` for the progress line."""
    parts = [f"#{job.id} {state_text(job, now)}", duration(job.elapsed(now))]
    eta = job.eta(now)
    if eta is not None:
        parts.append(f"ETA ~{rough_duration(eta)}")
    return " · ".join(parts)


def list_line(job: Job, now: float) -> str:
    """One job in ``jobs list``: id, kind, state, model, when, prompt."""
    state = state_text(job, now)
    model = short(job.model, 28)
    return (
        f"{job.id:>5}  {job.kind.value:<5}  {state:<14}  {model:<28}  "
        f"{when(job.created_at)}  {short(job.prompt, 60) or '(no prompt)'}"
    )


def end_line(job: Job, *, elsewhere: bool = False, paths: bool = False) -> str:
    """The line that tells of a job's end: ``job #12 (video) done in 1m02s: 1 file`` (with
    ``paths``, the files' paths instead of their count) or ``job #12 (video) failed: <reason>``;
    ``elsewhere`` when another process ended it."""
    where = " (in another process)" if elsewhere else ""
    head = f"job #{job.id} ({job.kind.value}) {STATE_WORDS[job.state]}"
    if job.state is JobState.SUCCEEDED:
        saved = saved_paths(job)
        took = duration(job.elapsed(job.finished_at or job.updated_at))
        files = " ".join(saved) if paths else f"{len(saved)} file{'s' * (len(saved) != 1)}"
        text = f"{head} in {took}{where}: {files}"
        if item_errors(job):
            text += f" ({len(item_errors(job))} image(s) of the group failed)"
        return clean_line(text)
    reason = job.failure_reason or job.message or ""
    return short(f"{head}{where}: {reason}" if reason else head + where, 400)


def failure_hint(job: Job) -> str:
    """What to do about a job that did not succeed, as a command to type."""
    if job.state is JobState.TIMED_OUT:
        return f"check it again later: studio jobs check {job.id}"
    if job.state is JobState.SUBMISSION_UNCERTAIN:
        return f"look in your AnyFast task list before sending it again: studio jobs show {job.id}"
    if job.state is JobState.CANCELLED:
        return f"collect it later: studio jobs check {job.id}"
    return f"send it again as a new job: studio jobs retry {job.id}"


def detail_block(job: Job, now: float) -> str:
    """``jobs show``: the job in full, one fact a line, safe to show."""
    rows: list[tuple[str, str]] = [
        ("Job", f"#{job.id} · {job.kind.value} · {job.provider.value} {job.action}"),
        ("Model", job.model),
        ("State", state_text(job, now)),
        ("Elapsed", duration(job.elapsed(now))),
    ]
    eta = job.eta(now)
    if eta is not None:
        rows.append(("ETA", f"~{rough_duration(eta)}"))
    rows.append(("Prompt", job.prompt or "(none)"))
    for name, value in sorted(job.params.items()):
        if value not in (None, "", [], {}):
            rows.append((f"  {name}", shown_value(value)))
    rows += [
        ("Task", job.task_id or "–"),
        ("Created", when(job.created_at)),
        ("Submitted", when(job.submitted_at)),
        ("Finished", when(job.finished_at)),
    ]
    if job.conversation_id is not None:
        rows.append(("Conversation", str(job.conversation_id)))
    if job.retry_of is not None:
        rows.append(("Retry of", f"#{job.retry_of}"))
    if job.failure_reason:
        rows.append(("Reason", job.failure_reason))
    if job.message:
        rows.append(("Note", job.message))
    if job.last_error:
        rows.append(("Last error", job.last_error))
    for item in job.files:
        status = "saved" if item.done else (f"not saved: {item.error}" if item.error else "…")
        size = f", {item.size:,} bytes" if item.size else ""
        rows.append((f"File {item.index + 1}", f"{item.path} ({status}{size})"))
        if item.url and not item.done:
            rows.append(("  link", item.url))
    if job.urls_expire_at:
        rows.append(("Links until", when(job.urls_expire_at)))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name + ':':<{width + 1}} {clean_line(value)}" for name, value in rows)
