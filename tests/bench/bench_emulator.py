"""``studio emulator`` in a subprocess on 127.0.0.1, port 0, for the benchmarks.

A separate process, so the bench's own ``time.process_time()`` counts only the client side.
Benchmarks run as scripts (``python tests/bench/NAME.py``), so this imports as a sibling.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import MutableSequence

KEY = "sk-bench-0123456789abcdef"
_URL = re.compile(r"http://127\.0\.0\.1:\d+")


def spawn_emulator(
    *extra: str,
    env: dict[str, str] | None = None,
    tail: MutableSequence[str] | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """Start the emulator (instant tokens, plus ``extra`` arguments); returns it and its URL.

    Its stderr is a pipe: read it (or drain it, as ``job_scale`` does) after this returns.
    Lines read while waiting for the URL are appended to ``tail`` when given."""
    command = [sys.executable, "-m", "studio", "emulator", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--key", KEY, "--token-rate", "0", *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen: MutableSequence[str] = tail if tail is not None else []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        match = _URL.search(line)
        if match:
            return proc, match.group(0)
        if not line and proc.poll() is not None:
            break
    stop_emulator(proc)
    raise RuntimeError("the emulator did not start:\n" + "".join(seen[-20:]))


def stop_emulator(proc: subprocess.Popen[str]) -> None:
    """Terminate it (kill it after 10 s) and close its pipe."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()
