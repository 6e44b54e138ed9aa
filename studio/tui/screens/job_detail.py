"""One job in full: parameters, state history, files, URL and expiry, the raw last response."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from studio.jobs import Job, JobState
from studio.textsafe import clean
from studio.tui import previews
from studio.tui.widgets.job_sidebar import STATE_STYLE, duration, item_errors

ACTIONS = (
    ("u", "copy_url", "Copy URL"),
    ("p", "copy_path", "Copy path"),
    ("o", "open_file", "Open"),
    ("r", "retry", "Retry"),
    ("c", "cancel", "Cancel"),
    ("k", "recheck", "Check again"),
    ("x", "remove", "Remove"),
)


def when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else "–"


def describe_job(job: Job, now: float) -> Text:
    """The detail text, built as styled spans (no markup: values are shown as they are), every
    part made safe to show: prompts, failure reasons, file names, URLs and ids come from the
    user and the gateway."""
    label, style = STATE_STYLE[job.state]
    text = Text()

    def line(*parts: str | tuple[str, str]) -> None:
        for part in parts:
            if isinstance(part, tuple):
                text.append(clean(part[0]), part[1])
            else:
                text.append(clean(part))
        text.append("\n")

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
        raw = value if isinstance(value, str | int | float | bool) else json.dumps(value)
        value_text = str(raw)
        line(f"  {key}: ", value_text[:200] + ("…" if len(value_text) > 200 else ""))
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
            mark = ("✓ ", "green") if file.done else (("✖ ", "red") if file.error else ("… ", ""))
            size = f" · {file.size:,} bytes" if file.size else ""
            line("  ", mark, file.path, size)
            if file.url:
                line(("    " + file.url, "dim"))
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


class JobDetail(ModalScreen[None]):
    """Shows one job and posts the user's action on it; the app carries it out."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="job.close"),
        *(Binding(key, action, label, id=f"job.{action}") for key, action, label in ACTIONS),
    ]

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog job-detail"):
            yield Static(f"Job #{self.job.id}", classes="dialog-title")
            yield Static(describe_job(self.job, time.time()), id="job-text", markup=False)
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
            raw = json.dumps(self.job.last_response, indent=2, ensure_ascii=False)
            yield Static(
                clean(raw) if self.job.last_response else "(none yet)", markup=False, classes="raw"
            )
            with Horizontal(classes="dialog-buttons"):
                for key, action, label in ACTIONS:
                    yield Button(f"{label} ({key})", id=action, compact=True)

    def update_job(self, job: Job) -> None:
        self.job = job
        self.query_one("#job-text", Static).update(describe_job(job, time.time()))

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

    async def action_remove(self) -> None:
        await self._ask("remove")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.job.state
        if action == "cancel":
            return state.is_active or None
        if action == "recheck":
            return state in (JobState.TIMED_OUT, JobState.SUBMISSION_UNCERTAIN) or None
        if action in ("copy_path", "open_file"):
            return any(f.done for f in self.job.files) or None
        if action == "copy_url":
            return any(f.url for f in self.job.files) or None
        return True


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""
