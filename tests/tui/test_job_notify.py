"""When a job ends the TUI rings, writes the terminal's desktop notification and runs the
``notify_command``; not for jobs that ended while it was closed."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.api.client import AnyFastClient
from studio.config import Settings
from studio.jobs import JobState
from studio.tui.app import StudioApp

from .conftest import SIZE, Toasts, wait_for
from .test_chat import send

RECORDER = """\
import sys
data = sys.stdin.read()
with open(sys.argv[1], "a") as fh:
    fh.write(data + "\\n")
"""


@pytest.fixture
def received(tmp_path: Path) -> Path:
    return tmp_path / "notified.jsonl"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, received: Path) -> Settings:
    """The usual settings, with a notify_command that appends each job it gets to a file."""
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    line = shlex.join([sys.executable, str(script), str(received)])
    return dataclasses.replace(settings, notify_command=line)


def notified(received: Path) -> list[dict[str, object]]:
    if not received.exists():
        return []
    return [json.loads(line) for line in received.read_text().splitlines() if line]


def notifications(app: StudioApp) -> list[str]:
    sent: list[str] = app.titles  # type: ignore[attr-defined]
    return [s for s in sent if s.startswith("\x1b]9;")]


async def test_a_job_that_ends_notifies_the_terminal_and_runs_the_command(
    media_app: Callable[[], StudioApp], received: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM_PROGRAM", "WezTerm")
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/image a red kite")
        await wait_for(lambda: any(j.state.is_final for j in app.jobs.jobs.values()), limit=20)
        job = next(iter(app.jobs.jobs.values()))
        assert job.state is JobState.SUCCEEDED
        await wait_for(lambda: bool(notifications(app)))
        (sequence,) = notifications(app)
        assert sequence.startswith(f"\x1b]9;Image job #{job.id} is done: saved ")
        assert sequence.endswith("\x07")
        assert app.bells == 1  # type: ignore[attr-defined]
        await wait_for(lambda: len(notified(received)) == 1)
        (payload,) = notified(received)
        assert (payload["id"], payload["state"], payload["kind"]) == (job.id, "succeeded", "image")


async def gateway_finished(settings: Settings, task_id: str) -> None:
    """Wait until the gateway says the video task finished, and its finish time (whole
    seconds) is in the past."""
    async with AnyFastClient(settings.api_key or "", settings.base_url) as client:
        while True:
            task = await client.get_seedance_task(task_id)
            if task.state.is_terminal and time.time() > (task.finished_at or 0):
                return
            await asyncio.sleep(0.1)


async def test_jobs_that_ended_while_the_window_was_closed_notify_nobody(
    media_app: Callable[[], StudioApp],
    settings: Settings,
    received: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM_PROGRAM", "WezTerm")
    first = media_app()
    async with first.run_test(size=SIZE) as pilot:
        await send(pilot, "/video a paper boat [[emulator: seconds=1]]")
        await wait_for(lambda: any(j.task_id for j in first.jobs.jobs.values()), limit=20)
        job_id, job = next(iter(first.jobs.jobs.items()))
        task_id = job.task_id
        assert task_id is not None
    # The window closed while the task ran; it finishes on the gateway meanwhile.
    await gateway_finished(settings, task_id)
    later = media_app()
    shown = Toasts()
    async with later.run_test(size=SIZE, message_hook=shown.hook):
        await wait_for(lambda: later.jobs.engine is not None, limit=10)
        await wait_for(lambda: later.jobs.jobs[job_id].state is JobState.SUCCEEDED, limit=20)
        await wait_for(lambda: shown.any(f"job #{job_id} is done"))
    assert notifications(later) == []
    assert notified(received) == []
