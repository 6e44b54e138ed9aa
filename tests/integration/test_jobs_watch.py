"""``studio jobs watch`` as a user runs it against the emulator: plain lines into a pipe, a live
table on a terminal, ctrl+c leaves with exit 0; it follows the jobs itself and tells of each end
(``notify_command`` for the jobs it ended)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from studio.emulator import EmulatorServer

from .test_cli_jobs import studio, wait_until

QUICK = "[[emulator: seconds=1]]"

RECORDER = """\
import sys
with open(sys.argv[1], "a") as fh:
    fh.write(sys.stdin.read() + "\\n")
"""


@pytest.fixture
def gateway(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """Every ``studio`` process of the test talks to the emulator."""
    monkeypatch.setenv("ANYFAST_API_KEY", emulator.api_key)
    monkeypatch.setenv("ANYFAST_BASE_URL", emulator.base_url)
    return emulator


def start_watch(out: Path) -> subprocess.Popen[str]:
    """``studio jobs watch`` with its stdout in the file ``out`` (not a terminal)."""
    with out.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "studio", "jobs", "watch", "--interval", "0.2"],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )


@pytest.fixture
def watch(tmp_path: Path, gateway: EmulatorServer) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``studio jobs watch`` running, its stdout in a file (set settings before using it)."""
    out = tmp_path / "watch.out"
    started: list[subprocess.Popen[str]] = []

    def begin() -> subprocess.Popen[str]:
        started.append(start_watch(out))
        return started[-1]

    try:
        yield begin, out  # type: ignore[misc]
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_watch_into_a_pipe_prints_each_change_and_leaves_on_ctrl_c(
    watch: tuple[Callable[[], subprocess.Popen[str]], Path], tmp_path: Path
) -> None:
    begin, out = watch
    received = tmp_path / "notified.jsonl"
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER)
    command = shlex.join([sys.executable, str(recorder), str(received)])
    assert studio("config", "set", "notify_command", command).returncode == 0
    proc = begin()
    wait_until(lambda: "watching 0 jobs" in out.read_text())
    started = studio("video", "seedance", f"a paper boat {QUICK}")
    assert started.returncode == 0, started.stderr
    job_id = int(started.stdout.strip())

    # The watch takes the job up once the command that made it exits, and follows it.
    wait_until(lambda: f"job #{job_id} (video) done" in out.read_text())
    lines = out.read_text().splitlines()
    mine = [line for line in lines if f"job #{job_id} " in line]
    assert ": a paper boat" in mine[0] and mine[0].split(") ")[1].startswith(("pending", "queued"))
    assert "(in another process)" not in mine[-1]  # this watch ended it
    wait_until(lambda: received.exists() and received.read_text().strip())
    payload = json.loads(received.read_text().splitlines()[0])
    assert (payload["id"], payload["state"]) == (job_id, "succeeded")

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read()
    assert "\x1b" not in out.read_text()  # no cursor movement into a file


def test_a_job_another_process_ends_is_shown_as_ended_elsewhere(
    watch: tuple[Callable[[], subprocess.Popen[str]], Path],
) -> None:
    begin, out = watch
    proc = begin()
    wait_until(lambda: "watching 0 jobs (ctrl+c leaves)" in out.read_text())
    made = studio("image", "a red kite")
    assert made.returncode == 0, made.stderr

    def ended_elsewhere() -> bool:
        lines = out.read_text().splitlines()
        return any(
            "job #1 (image) done" in line and "(in another process)" in line for line in lines
        )

    wait_until(ended_elsewhere)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_on_a_terminal_the_table_is_redrawn_in_place_and_ctrl_c_restores_the_cursor(
    gateway: EmulatorServer,
) -> None:
    import fcntl
    import pty
    import select
    import struct
    import termios

    started = studio("video", "seedance", f"a lighthouse \x1b]52;c;eA==\x07 at dusk {QUICK}")
    assert started.returncode == 0, started.stderr
    pid, fd = pty.fork()
    if pid == 0:  # the child: studio jobs watch on the terminal
        os.execvpe(  # noqa: S606
            sys.executable,
            [sys.executable, "-m", "studio", "jobs", "watch", "--interval", "0.2"],
            dict(os.environ),
        )
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 120, 0, 0))
    shown = b""

    def read(until: Callable[[bytes], bool], limit: float = 30.0) -> None:
        nonlocal shown
        deadline = time.monotonic() + limit
        while not until(shown) and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                shown += chunk

    try:
        read(lambda data: b" done " in data)
        os.kill(pid, signal.SIGINT)
        read(lambda data: data.endswith(b"\x1b[?25h"), limit=30)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    text = shown.decode("utf-8", "replace")
    assert text.startswith("\x1b[?25l")  # the cursor hidden while the table is drawn
    assert "\x1b[3F" in text  # each frame goes back up over the previous one (3 lines)
    assert "a lighthouse ␛]52;c;eA==␇ at" in text
    assert "\x1b]52" not in text  # the prompt's escape is shown, never sent
    for line in text.replace("\r\n", "\n").split("\n"):
        plain = line.split("\x1b[K")[0]
        for code in ("\x1b[?2026h", "\x1b[?2026l", "\x1b[1m", "\x1b[2m", "\x1b[0m", "\x1b[J"):
            plain = plain.replace(code, "")
        plain = plain.removeprefix("\x1b[3F")
        assert len(plain) < 120  # fits the terminal's width
