"""Time from ctrl+q to process exit for ``studio --demo``, in a real pseudo-terminal.

Two scenarios, each launched ``--runs`` times (after one untimed warm-up launch that creates the
database and compiles bytecode), as ``tests/bench/startup.py`` launches Studio (160x48,
``TERM=xterm-256color``, ``STUDIO_HOME`` in a temporary directory, a terminal answering like
xterm):

- **after a chat reply**: type a prompt, press Enter, wait until the reply has finished (the
  status line shows its ``tok/s``), then ctrl+q;
- **with a running video job**: send ``/video …`` (the demo's Seedance job takes about 20 s),
  wait until the job toast shows and a second more (the engine is polling), then ctrl+q.

The time is wall time from writing ctrl+q to the terminal until the process has exited. After
each run the bench checks that nothing was lost: the reply (or the job) is in the database.

Target (issue: the TUI keeps every promise): quitting takes under 0.3 s.

Run:  python tests/bench/quit.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from startup import COLUMNS, LINES, Terminal, spawn_demo

TARGET = 0.3
START_TIMEOUT = 30.0
QUIT_TIMEOUT = 10.0


def _spawn(home: str, cache: str) -> tuple[subprocess.Popen[bytes], Terminal]:
    proc, master = spawn_demo(home, cache)
    return proc, Terminal(master)


def _wait_for(terminal: Terminal, proc: subprocess.Popen[bytes], text: str, since: int) -> None:
    deadline = time.perf_counter() + START_TIMEOUT
    while time.perf_counter() < deadline:
        terminal.drain(time.perf_counter() + 0.02)
        if text in terminal.plain()[since:]:
            return
        if proc.poll() is not None:
            break
    raise RuntimeError(f"{text!r} never showed; output:\n{terminal.plain()[-2000:]}")


def _type(terminal: Terminal, text: str) -> None:
    for char in text:
        os.write(terminal.master, char.encode())
        terminal.drain(time.perf_counter() + 0.005)


def run_once(home: str, cache: str, scenario: str) -> float | None:
    """One launch; seconds from ctrl+q to exit (None: it had to be killed)."""
    proc, terminal = _spawn(home, cache)
    try:
        _wait_for(terminal, proc, "Help", 0)
        terminal.drain(time.perf_counter() + 0.5)
        mark = len(terminal.plain())
        if scenario == "chat":
            _type(terminal, "Say hello")
            os.write(terminal.master, b"\r")
            _wait_for(terminal, proc, "tok/s", mark)
        else:
            _type(terminal, "/video a paper boat on a pond")
            os.write(terminal.master, b"\r")
            _wait_for(terminal, proc, "submitted", mark)
        terminal.drain(time.perf_counter() + 1.0)
        os.write(terminal.master, b"\x11")  # ctrl+q
        asked = time.perf_counter()
        while time.perf_counter() - asked < QUIT_TIMEOUT:
            terminal.drain(time.perf_counter() + 0.005)
            if proc.poll() is not None:
                return time.perf_counter() - asked
        return None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(terminal.master)


def _saved(home: str, scenario: str) -> bool:
    """The finished reply (chat) or the job (video) is in the database."""
    found = list(Path(home).rglob("*.sqlite3")) + list(Path(home).rglob("*.db"))
    for path in found:
        with sqlite3.connect(path) as db:
            try:
                if scenario == "chat":
                    rows = db.execute(
                        "SELECT count(*) FROM messages WHERE role = 'assistant' AND content != ''"
                    ).fetchone()
                else:
                    rows = db.execute("SELECT count(*) FROM jobs").fetchone()
            except sqlite3.Error:
                continue
            if rows and rows[0]:
                return True
    return False


def main(runs: int) -> int:
    ok = True
    print(f"ctrl+q to exit of studio --demo in a {COLUMNS}x{LINES} pty, {runs} runs each:")
    for scenario, label in (("chat", "after a chat reply"), ("video", "with a running video job")):
        with (
            tempfile.TemporaryDirectory(prefix="studio-quit-") as home,
            tempfile.TemporaryDirectory(prefix="studio-pycache-") as cache,
        ):
            run_once(home, cache, scenario)  # warm-up: the database, the bytecode
            times: list[float] = []
            killed = 0
            for _ in range(runs):
                seconds = run_once(home, cache, scenario)
                if seconds is None:
                    killed += 1
                else:
                    times.append(seconds)
            saved = _saved(home, scenario)
        shown = ", ".join(f"{t:.3f}" for t in times)
        median = statistics.median(times) if times else float("inf")
        worst = max(times) if times else float("inf")
        passed = killed == 0 and worst < TARGET and saved
        ok = ok and passed
        print(
            f"  {label:<26} median {median:.3f} s, max {worst:.3f} s ({shown})"
            f"{f', {killed} killed' if killed else ''}; saved: {'yes' if saved else 'NO'}"
            f"  {'PASS' if passed else 'MISS'} (< {TARGET} s)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed launches per scenario")
    args = parser.parse_args()
    raise SystemExit(main(args.runs))
