"""Time to first frame and idle memory of ``studio --demo``; ``studio --help`` stays Textual-free.

``python -m studio --demo`` runs under a real pseudo-terminal (160x48, ``TERM=xterm-256color``,
``STUDIO_HOME`` in a temporary directory), as a user starts it. The bench plays the terminal:
it reads everything the app writes and answers the queries an xterm answers (device attributes
without Sixel, cell and window size in pixels, mode reports, cursor position); like xterm it
ignores Kitty-graphics queries. (Studio probes the terminal for image previews before the app
starts; a terminal that answers nothing makes each probe wait for its timeout, so a few extra
launches in a *silent* terminal are reported too, but not judged.)

- **first frame**: wall time from spawning the process until its output, with escape
  sequences removed, holds both the title bar's ``AnyFast Studio`` and the footer's ``Help``
  (the F1 binding). The footer is the last widget of the main screen, so both strings appear
  only once the first complete frame has been written. Median and max over ``--runs``, after
  ``--warmup`` untimed launches (the first launch also creates the database);
- **idle RSS**: ``VmRSS`` from ``/proc/<pid>/status`` after ``--idle`` seconds of idling
  (``VmHWM``, the peak, is shown too); the demo's emulator runs in the same process, as it
  does for users;
- the app is then quit with ctrl+q; a process still running after 5 s is killed and reported.

Python keeps the bytecode it compiles (``__pycache__``), as it does on every user's machine:
the warm-up launch compiles, the timed launches load it. The bench gives the app its own cache
directory (``PYTHONPYCACHEPREFIX``) and drops ``PYTHONDONTWRITEBYTECODE`` from the app's
environment, as a sandbox may set it: with it set, every launch compiles Studio's own modules
again (an editable install has no compiled copy), about 40 ms on this machine that no user
pays. A few launches with the environment exactly as it is are reported too, not judged.

``python -m studio --help`` is timed the same way (without a terminal), and run once with
``-X importtime`` to list what it imports: Textual must not be among the modules.

Targets (issue: start-up, client-guide §4, on this 2-core machine): first frame <= 0.8 s,
idle RSS <= 80 MB, ``studio --help`` imports no Textual.

Run:  python tests/bench/startup.py [--runs 5] [--warmup 1] [--idle 3] [--silent-runs 3]
          [--uncached-runs 3]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass

COLUMNS, LINES = 160, 48
CELL_WIDTH, CELL_HEIGHT = 10, 20
FRAME_LIMIT = 0.8
RSS_LIMIT_MB = 80.0
FIRST_FRAME_MARKERS = ("AnyFast Studio", "Help")
QUIT_TIMEOUT = 5.0
START_TIMEOUT = 30.0
_ESCAPE = re.compile(
    r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)"
)


@dataclass
class Launch:
    """What one ``studio --demo`` launch measured."""

    first_frame: float
    rss_mb: float
    peak_mb: float
    quit_seconds: float | None
    """Seconds from ctrl+q to exit; ``None`` when the process had to be killed."""


def plain(data: bytes) -> str:
    """Terminal output without escape sequences."""
    return _ESCAPE.sub("", data.decode("utf-8", "replace"))


def proc_status_mb(pid: int, field: str) -> float:
    """A ``kB`` field of ``/proc/<pid>/status``, in MB (MiB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found for pid {pid}")


class Terminal:
    """The far side of the pseudo-terminal: collects the output and, unless ``silent``, answers
    the queries an xterm answers (device attributes without Sixel, cell and window size in
    pixels, mode reports, cursor position). Like xterm, it ignores Kitty-protocol queries."""

    def __init__(self, master: int, *, silent: bool = False) -> None:
        self.master = master
        self.silent = silent
        self.output = bytearray()
        self._scanned = 0

    def drain(self, until: float) -> None:
        """Read (and answer) until ``until`` (perf_counter), keeping the child unblocked."""
        while True:
            left = until - time.perf_counter()
            if left <= 0:
                return
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            self.output += chunk
            if not self.silent:
                self._answer()

    def _answer(self) -> None:
        start = max(0, self._scanned - 16)
        for match in _QUERY.finditer(self.output, start):
            if match.start() < self._scanned:
                continue
            reply = _reply(match.group(0))
            if reply:
                os.write(self.master, reply)
        self._scanned = len(self.output)

    def plain(self) -> str:
        return plain(bytes(self.output))


_QUERY = re.compile(rb"\x1b\[(?:0?c|1[46]t|6n|\?\d+\$p)")


def _reply(query: bytes) -> bytes:
    """What an xterm (without Sixel or Kitty graphics) answers to ``query``."""
    if query.endswith(b"c"):
        return b"\x1b[?62;22c"
    if query == b"\x1b[16t":
        return b"\x1b[6;%d;%dt" % (CELL_HEIGHT, CELL_WIDTH)
    if query == b"\x1b[14t":
        return b"\x1b[4;%d;%dt" % (LINES * CELL_HEIGHT, COLUMNS * CELL_WIDTH)
    if query == b"\x1b[6n":
        return b"\x1b[1;1R"
    if query.endswith(b"$p"):
        mode = query[3:-2]
        return b"\x1b[?%s;%d$y" % (mode, 2 if mode == b"2026" else 0)
    return b""


def spawn_demo(
    home: str, cache: str | None, *, pixels: bool = True
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``studio --demo`` in a fresh pseudo-terminal of COLUMNS x LINES; return the process
    and the terminal's master side. ``cache``: where Python keeps compiled bytecode
    (``PYTHONPYCACHEPREFIX``), as it does for any user; ``None`` keeps the environment's way.
    ``pixels``: report a pixel size (as terminals with graphics do)."""
    master, slave = os.openpty()
    size = (COLUMNS * CELL_WIDTH, LINES * CELL_HEIGHT) if pixels else (0, 0)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, *size))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": str(COLUMNS),
        "LINES": str(LINES),
        "STUDIO_HOME": home,
    }
    for name in ("ANYFAST_API_KEY", "ANYFAST_BASE_URL", "STUDIO_CONFIG", "TEXTUAL"):
        env.pop(name, None)
    if cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "--demo"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    return proc, master


def launch(home: str, idle: float, *, silent: bool = False, cache: str | None = None) -> Launch:
    """Start ``studio --demo`` in a pseudo-terminal, measure it, and quit it.

    ``cache``: Python keeps compiled bytecode there (``PYTHONPYCACHEPREFIX``) as it does for any
    user; ``None`` runs with the environment as it is, which may forbid writing bytecode."""
    started = time.perf_counter()
    proc, master = spawn_demo(home, cache, pixels=not silent)
    terminal = Terminal(master, silent=silent)
    try:
        deadline = started + START_TIMEOUT
        first_frame: float | None = None
        while time.perf_counter() < deadline:
            terminal.drain(min(deadline, time.perf_counter() + 0.02))
            text = terminal.plain()
            if all(marker in text for marker in FIRST_FRAME_MARKERS):
                first_frame = time.perf_counter() - started
                break
            if proc.poll() is not None:
                break
        if first_frame is None:
            tail = terminal.plain()[-2000:]
            raise RuntimeError(f"no first frame within {START_TIMEOUT:.0f} s; output:\n{tail}")
        terminal.drain(time.perf_counter() + idle)
        rss = proc_status_mb(proc.pid, "VmRSS")
        peak = proc_status_mb(proc.pid, "VmHWM")
        os.write(master, b"\x11")  # ctrl+q
        asked = time.perf_counter()
        quit_seconds: float | None = None
        while time.perf_counter() - asked < QUIT_TIMEOUT:
            terminal.drain(time.perf_counter() + 0.05)
            if proc.poll() is not None:
                quit_seconds = time.perf_counter() - asked
                break
        return Launch(first_frame, rss, peak, quit_seconds)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def time_help(runs: int, home: str) -> list[float]:
    """Wall seconds of ``python -m studio --help``, ``runs`` times."""
    env = {**os.environ, "STUDIO_HOME": home}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "studio", "--help"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - started)
    return times


def help_imports(home: str) -> tuple[list[str], int]:
    """Modules ``studio --help`` imports (``-X importtime``) and their total time in µs."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "studio", "--help"],
        env={**os.environ, "STUDIO_HOME": home},
        capture_output=True,
        text=True,
        check=True,
    )
    modules: list[str] = []
    total = 0
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if match:
            modules.append(match.group(4))
            if len(match.group(3)) == 1:  # a top-level import: the cumulative times add up
                total += int(match.group(2))
    return modules, total


def timed_launches(
    home: str, runs: int, idle: float, *, silent: bool, cache: str | None, label: str
) -> list[Launch]:
    """``runs`` launches, each printed as it ends."""
    launches = []
    for i in range(runs):
        result = launch(home, idle, silent=silent, cache=cache)
        launches.append(result)
        quit_text = f"{result.quit_seconds:.2f} s" if result.quit_seconds is not None else "KILLED"
        print(
            f"  {label} run {i + 1}: first frame {result.first_frame:.3f} s, idle RSS "
            f"{result.rss_mb:.1f} MB (peak {result.peak_mb:.1f} MB), quit {quit_text}",
            flush=True,
        )
    return launches


def row(name: str, values: list[float], digits: int, target: str = "") -> None:
    median, worst = statistics.median(values), max(values)
    print(f"  {name:<34} {median:8.{digits}f} {worst:8.{digits}f}   {target}")


def main(runs: int, warmup: int, idle: float, silent_runs: int, uncached_runs: int) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="studio-startup-") as home,
        tempfile.TemporaryDirectory(prefix="studio-pycache-") as cache,
    ):
        for _ in range(warmup):
            launch(home, 0.5, cache=cache)
        launches = timed_launches(home, runs, idle, silent=False, cache=cache, label="xterm-like")
        silent = timed_launches(
            home, silent_runs, 0.5, silent=True, cache=cache, label="silent terminal"
        )
        uncached = timed_launches(
            home, uncached_runs, 0.5, silent=False, cache=None, label="environment as is"
        )
        helps = time_help(runs, home)
        modules, import_us = help_imports(home)

    frames = [r.first_frame for r in launches]
    rss = [r.rss_mb for r in launches]
    textual = sorted(m for m in modules if m == "textual" or m.startswith("textual."))
    killed = sum(r.quit_seconds is None for r in launches + silent)

    print(
        f"\nstudio --demo under a {COLUMNS}x{LINES} pty answering like xterm, {runs} runs "
        f"after {warmup} warm-up:"
    )
    print(f"  {'measure':<34} {'median':>8} {'max':>8}   target")
    row("first frame (s)", frames, 3, f"<= {FRAME_LIMIT}")
    row("idle RSS (MB)", rss, 1, f"<= {RSS_LIMIT_MB:.0f}")
    row("peak RSS (MB)", [r.peak_mb for r in launches], 1)
    quits = [r.quit_seconds for r in launches if r.quit_seconds is not None]
    if quits:
        row("ctrl+q to exit (s)", quits, 2)
    if silent:
        row("first frame, silent terminal (s)", [r.first_frame for r in silent], 3, "(info)")
    if uncached:
        no_pyc = os.environ.get("PYTHONDONTWRITEBYTECODE")
        name = "first frame, no bytecode cache (s)" if no_pyc else "first frame, env as is (s)"
        row(name, [r.first_frame for r in uncached], 3, "(info)")
    row("studio --help (s)", helps, 3)
    print(f"  studio --help imports {len(modules)} modules ({import_us / 1000:.0f} ms of imports)")

    ok = True

    def verdict(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"  {'PASS' if passed else 'MISS'}  {text}")

    print("\ntargets:")
    median_frame = statistics.median(frames)
    median_rss = statistics.median(rss)
    verdict(
        median_frame <= FRAME_LIMIT, f"first frame {median_frame:.3f} s (median) <= {FRAME_LIMIT} s"
    )
    verdict(
        median_rss <= RSS_LIMIT_MB,
        f"idle RSS {median_rss:.1f} MB (median) <= {RSS_LIMIT_MB:.0f} MB",
    )
    verdict(
        not textual,
        "studio --help imports no Textual"
        + (f" (it imports {', '.join(textual[:5])}…)" if textual else ""),
    )
    launched = runs + silent_runs + uncached_runs
    killed += sum(r.quit_seconds is None for r in uncached)
    verdict(killed == 0, f"ctrl+q quits ({killed} of {launched} had to be killed)")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed launches")
    parser.add_argument("--warmup", type=int, default=1, help="untimed launches first")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before reading RSS")
    parser.add_argument(
        "--silent-runs",
        type=int,
        default=3,
        help="extra launches in a terminal that answers no query (reported, not judged)",
    )
    parser.add_argument(
        "--uncached-runs",
        type=int,
        default=3,
        help="extra launches with the environment as it is (reported, not judged)",
    )
    args = parser.parse_args()
    raise SystemExit(main(args.runs, args.warmup, args.idle, args.silent_runs, args.uncached_runs))
