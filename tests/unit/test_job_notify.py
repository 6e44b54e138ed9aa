"""``notify_command`` and the terminal alert when a job ends: the command gets the job's JSON
(never the key), runs in the background, and a failing or hanging one breaks nothing."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
import time
from pathlib import Path

import pytest

from studio.config import ConfigError, Settings
from studio.config.checks import validated
from studio.jobs.notify import JobNotifier, notification_text, terminal_alert
from studio.jobs.payload import job_payload
from studio.paths import state_dir
from studio.store import Store
from studio.store.job_records import Job, JobFile, JobKind, JobProvider, JobState

KEY = "sk-notify-test-key-0123456789"

RECORDER = """\
import json, os, sys
out = sys.argv[1]
data = sys.stdin.buffer.read()
with open(out + ".env", "w") as fh:
    json.dump(dict(os.environ), fh)
with open(out, "wb") as fh:
    fh.write(data)
"""


def make_job(state: JobState = JobState.SUCCEEDED, prompt: str = "a fox in the snow") -> Job:
    with Store.open(":memory:") as store:
        job = store.create_job(
            kind=JobKind.VIDEO,
            provider=JobProvider.SEEDANCE,
            action="generate",
            model="seedance-1-0-pro",
            prompt=prompt,
            params={"ratio": "16:9"},
            idempotency_key="k",
        )
        files = (JobFile(index=0, url="http://x/v.mp4", path="/m/fox.mp4", size=9, done=True),)
        updated = store.update_job(
            job.id, state=state, failure_reason="content policy", files=files
        )
        assert updated is not None
        return updated


def command(tmp_path: Path, source: str, *args: str) -> str:
    script = tmp_path / "script.py"
    script.write_text(source)
    return shlex.join([sys.executable, str(script), *args])


async def test_the_command_reads_the_job_as_json_and_never_sees_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYFAST_API_KEY", KEY)
    monkeypatch.setenv("SOMETHING_ELSE", f"prefix {KEY}")
    monkeypatch.setenv("KEPT", "yes")
    out = tmp_path / "job.json"
    settings = Settings(api_key=KEY, notify_command=command(tmp_path, RECORDER, str(out)))
    job = make_job()
    notifier = JobNotifier(settings)
    await notifier.job_ended(job)
    await notifier.drain()
    received = out.read_bytes().decode()
    assert json.loads(received) == json.loads(json.dumps(job_payload(job)))
    environment = (tmp_path / "job.json.env").read_text()
    assert KEY not in received and KEY not in environment
    assert json.loads(environment)["KEPT"] == "yes"


async def test_a_cancelled_job_or_no_command_runs_nothing(tmp_path: Path) -> None:
    out = tmp_path / "job.json"
    notifier = JobNotifier(Settings(notify_command=command(tmp_path, RECORDER, str(out))))
    await notifier.job_ended(make_job(JobState.CANCELLED))
    await notifier.drain()
    assert not out.exists()
    quiet = JobNotifier(Settings())
    assert not quiet.enabled
    await quiet.job_ended(make_job())  # nothing to run, nothing raised


async def test_a_hanging_command_never_blocks_and_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hang = (
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    said: list[str] = []
    notifier = JobNotifier(
        Settings(notify_command=command(tmp_path, hang)), on_problem=said.append, timeout=1.0
    )
    started = time.monotonic()
    await notifier.job_ended(make_job())
    assert time.monotonic() - started < 0.5  # the caller goes on at once
    async with asyncio.timeout(20):
        await notifier.drain()
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert len(said) == 1 and "notify_command" in said[0]
    assert "killed after 1 s" in (state_dir() / "notify.log").read_text()


async def test_failures_are_logged_once_per_reason_and_said_once(tmp_path: Path) -> None:
    said: list[str] = []
    failing = JobNotifier(
        Settings(notify_command=command(tmp_path, "import sys\nsys.exit('no network')\n")),
        on_problem=said.append,
    )
    for _ in range(3):
        await failing.job_ended(make_job(JobState.FAILED))
    await failing.drain()
    missing = JobNotifier(
        Settings(notify_command="/nonexistent/notify-me --now"), on_problem=said.append
    )
    await missing.job_ended(make_job())
    await missing.drain()
    lines = (state_dir() / "notify.log").read_text().splitlines()
    assert len(lines) == 2
    assert "exited with 1: no network" in lines[0]
    assert "cannot start" in lines[1]
    assert len(said) == 2  # one per notifier (one per session)


def test_the_setting_is_checked_as_a_command_line() -> None:
    assert validated("notify_command", "  ", "test", None) is None
    assert validated("notify_command", "notify-send 'Job done'", "test", None) == (
        "notify-send 'Job done'"
    )
    with pytest.raises(ConfigError, match="cannot be split"):
        validated("notify_command", "notify-send 'unbalanced", "test", None)
    with pytest.raises(ConfigError):
        validated("notify", "loud", "test", None)


def test_terminal_alert_follows_the_bell_and_notify_settings() -> None:
    kitty = {"TERM": "xterm-kitty"}
    job = make_job()
    assert notification_text(job) == ("Video job #1 is done", "saved fox.mp4")
    assert (
        terminal_alert(job, Settings(), kitty) == "\a\x1b]9;Video job #1 is done: saved fox.mp4\a"
    )
    assert terminal_alert(job, Settings(bell=False, notify="off"), kitty) == ""
    assert terminal_alert(job, Settings(notify="off"), kitty) == "\a"
    assert terminal_alert(make_job(JobState.CANCELLED), Settings(), kitty) == ""
    failed = terminal_alert(make_job(JobState.FAILED), Settings(bell=False), {"TERM": "foot"})
    assert failed == "\x1b]777;notify;Video job #1 failed;content policy\a"
