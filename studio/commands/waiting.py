"""Lines on stderr that show a headless command is alive: waiting for the gateway, following jobs.

Reasoning models think for a minute before their first word, and a gateway that hangs looks the
same as a slow one: without a sign of life a user cannot tell "waiting" from "stuck". The line
counts the seconds; it is drawn only when stderr is a terminal (never into a pipe or a log
file), and it is wiped before anything else is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import Callable
from typing import TextIO

from studio.textsafe import clean_line

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
CLEAR = "\r\x1b[2K"
"""Back to the start of the line, and erase it."""


class ProgressLine:
    """One line on ``stream`` (a terminal only) redrawn every ``interval`` from ``render()``
    behind a spinner, cut to the terminal's width so that it never wraps (untrusted text in it
    is made harmless); :meth:`clear` before writing anything else on the stream."""

    def __init__(self, stream: TextIO, render: Callable[[], str], interval: float = 0.25) -> None:
        try:
            self.enabled = stream.isatty()
        except (AttributeError, ValueError):  # no file below it, or already closed
            self.enabled = False
        self._stream = stream
        self._render = render
        self._interval = interval
        self._drawn = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start drawing (only on a terminal, and only once)."""
        if self.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        """Stop drawing and wipe the line."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        self.clear()

    def clear(self) -> None:
        """Wipe the line if it is drawn (the next tick draws it again)."""
        if self._drawn:
            self._drawn = False
            self._write(CLEAR)

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed terminal is no reason to fail
            self._stream.write(text)
            self._stream.flush()

    async def _run(self) -> None:
        frame = 0
        while True:
            text = self._render()
            if text:
                room = max(10, shutil.get_terminal_size().columns - 3)
                line = clean_line(text)
                line = line if len(line) <= room else line[: room - 1] + "…"
                self._write(f"{CLEAR}{FRAMES[frame % len(FRAMES)]} {line}")
                self._drawn = True
            else:
                self.clear()
            frame += 1
            await asyncio.sleep(self._interval)


class WaitingLine:
    """``studio: waiting for the gateway… 12 s`` on a terminal, redrawn every ``interval``.

    :meth:`start` once the request goes out; :meth:`stop` when the first byte of the reply is
    about to be shown (or on any outcome); :meth:`clear` before writing another line on stderr
    while waiting (the next tick draws it again). ``text`` may change while it shows.
    """

    def __init__(
        self, stream: TextIO, *, text: str = "waiting for the gateway", interval: float = 0.1
    ) -> None:
        self.text = text
        self._line = ProgressLine(stream, self._render, interval)
        self._started = 0.0

    @property
    def enabled(self) -> bool:
        """Whether it draws at all: on a terminal, until :meth:`stop`."""
        return self._line.enabled

    def start(self) -> None:
        """Start counting (only on a terminal, and only once)."""
        if self.enabled and not self._started:
            self._started = time.monotonic()
            self._line.start()

    def stop(self) -> None:
        """Wipe the line for good; later calls do nothing."""
        self._line.enabled = False
        self._line.stop()

    def clear(self) -> None:
        """Wipe the line if it is drawn."""
        self._line.clear()

    def _render(self) -> str:
        elapsed = time.monotonic() - self._started
        return f"studio: {self.text}… {elapsed:.0f} s (ctrl+c stops)"
