"""`studio ask` when the stream or the wait goes wrong: real processes against the emulator.

- a gateway that never answers: one wait of the configured timeout, one request, and an error
  that names the setting; a waiting line on a terminal stderr (never in a pipe);
- a reply cut at max_tokens or filtered by the provider: exit 0, and said on stderr;
- trouble after a complete reply (a malformed usage chunk): exit 0 with a warning;
- a stream that broke before any content: sent again under the retry policy.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.commands.waiting import CLEAR
from studio.emulator import EmulatorServer

CHAT = "/v1/chat/completions"


def studio(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``studio ARGS``; return the finished process and how long it ran."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "studio", *args],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    return result, time.monotonic() - started


def gateway(emulator: EmulatorServer, tmp_path: Path, **settings: float) -> dict[str, str]:
    """The environment of a `studio` process that uses ``emulator`` with these settings."""
    config = tmp_path / "config.toml"
    config.write_text("".join(f"{name} = {value}\n" for name, value in settings.items()))
    config.chmod(0o600)
    return {
        "ANYFAST_API_KEY": emulator.api_key,
        "ANYFAST_BASE_URL": emulator.base_url,
        "STUDIO_CONFIG": str(config),
    }


def chat_requests(emulator: EmulatorServer, since: int) -> int:
    """Chat requests logged since ``since``; an unanswered one is logged when its connection
    closes, so wait (a little) for at least one."""
    deadline = time.monotonic() + 5.0
    while True:
        count = sum(1 for r in emulator.requests[since:] if r.path == CHAT)
        if count or time.monotonic() > deadline:
            return count
        time.sleep(0.01)


LIMIT = 2.0
"""The timeout configured for the unanswered-request tests; one resend would add 2 s and more."""


@pytest.mark.parametrize(
    ("flags", "setting"),
    [((), "stream_idle_timeout"), (("--no-stream",), "request_timeout")],
)
def test_an_unanswered_request_waits_one_timeout_and_names_the_setting(
    emulator: EmulatorServer, tmp_path: Path, flags: tuple[str, ...], setting: str
) -> None:
    env = gateway(emulator, tmp_path, max_retries=2, **{setting: LIMIT})
    before = len(emulator.requests)
    result, elapsed = studio("ask", *flags, "hello [[emulator: fault=hang:60]]", env=env)
    assert result.returncode == 1
    assert chat_requests(emulator, before) == 1  # not resent: it may still be worked on
    assert LIMIT <= elapsed < LIMIT + 3.0  # the timeout, plus the start of a process
    assert f"{setting} = 2 s" in result.stderr
    assert f"studio config set {setting}" in result.stderr
    assert "retry" not in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "waiting" not in result.stderr and CLEAR not in result.stderr  # not a terminal


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``studio ARGS`` with stderr on a pseudo-terminal; (exit code, stdout, stderr)."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, **env},
    )
    os.close(terminal)
    seen = bytearray()
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 30)
            if not ready:
                raise AssertionError("no output from studio for 30 s")
            try:
                data = os.read(controller, 4096)
            except OSError:  # EIO: the process closed its end
                break
            if not data:
                break
            seen += data
    finally:
        os.close(controller)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    return proc.wait(timeout=30), out, seen.decode(errors="replace")


def test_a_terminal_sees_the_wait_counted_then_wiped(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    env = gateway(emulator, tmp_path, stream_idle_timeout=LIMIT, max_retries=0)
    code, out, err = run_on_a_terminal(["ask", "hi [[emulator: fault=hang:60]]"], env)
    assert code == 1 and out == ""
    assert "waiting for the gateway… 0 s" in err and "waiting for the gateway… 1 s" in err
    shown, wiped, after = err.rpartition(CLEAR)
    assert "waiting for the gateway" in shown
    assert wiped and after.startswith("studio: No answer from the gateway")


def test_a_terminal_waiting_line_is_gone_before_the_reply(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    env = gateway(emulator, tmp_path)
    prompt = "hi [[emulator: tokens=20; think=40; rate=60]]"  # 0.7 s of thinking first
    code, out, err = run_on_a_terminal(["ask", "-m", "deepseek-r1", prompt], env)
    assert code == 0 and len(out.split()) == 20
    assert "the model is thinking" in err
    _, wiped, after = err.rpartition(CLEAR)
    assert wiped and after.lstrip("\r\n").startswith("[deepseek-r1")  # the usage line


@pytest.mark.parametrize("flags", [(), ("--no-stream",)])
def test_a_reply_cut_at_max_tokens_says_so_and_exits_0(
    emulator: EmulatorServer, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    env = gateway(emulator, tmp_path)
    prompt = "hi [[emulator: tokens=30]]"
    result, _ = studio("ask", *flags, "--max-tokens", "5", prompt, env=env)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 5
    assert "cut at the max-tokens limit" in result.stderr
    assert "--max-tokens 5" in result.stderr


@pytest.mark.parametrize("flags", [(), ("--no-stream",), ("--quiet",)])
def test_a_filtered_reply_says_so_and_exits_0(
    emulator: EmulatorServer, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    env = gateway(emulator, tmp_path)
    prompt = "hi [[emulator: tokens=30; fault=content-filter:3]]"
    result, _ = studio("ask", *flags, prompt, env=env)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 3
    assert "filtered by the provider" in result.stderr


def test_a_whole_reply_says_nothing_about_its_end(emulator: EmulatorServer, tmp_path: Path) -> None:
    result, _ = studio("ask", "-q", "hi [[emulator: tokens=30]]", env=gateway(emulator, tmp_path))
    assert result.returncode == 0 and result.stderr == ""


def test_a_malformed_usage_chunk_is_a_warning_not_a_failure(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    env = gateway(emulator, tmp_path)
    whole, _ = studio("ask", "hi [[emulator: tokens=30]]", env=env)
    result, _ = studio("ask", "hi [[emulator: tokens=30; fault=malformed:usage]]", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == whole.stdout
    assert "studio: warning:" in result.stderr and "malformed" in result.stderr
    assert "after the reply was complete" in result.stderr


@pytest.mark.parametrize("spec", ["disconnect:0", "silent:0"])
def test_a_stream_broken_before_content_is_sent_again(
    emulator: EmulatorServer, tmp_path: Path, spec: str
) -> None:
    env = gateway(emulator, tmp_path)
    whole, _ = studio("ask", "-q", "hi [[emulator: tokens=30]]", env=env)
    emulator.inject(spec, count=1, path=CHAT)
    before = len(emulator.requests)
    result, _ = studio("ask", "-q", "hi [[emulator: tokens=30]]", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == whole.stdout
    assert "retry 1 in" in result.stderr and "cut off" in result.stderr
    assert chat_requests(emulator, before) == 2


def test_a_stream_cut_after_content_is_not_sent_again(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    env = gateway(emulator, tmp_path)
    before = len(emulator.requests)
    result, _ = studio("ask", "hi [[emulator: tokens=30; fault=disconnect:4]]", env=env)
    assert result.returncode == 1
    assert len(result.stdout.split()) == 4
    assert "retry" not in result.stderr
    assert chat_requests(emulator, before) == 1
