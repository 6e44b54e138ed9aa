"""A line on stderr that shows a headless command is waiting for the gateway.

Reasoning models think for a minute before their first word, and a gateway that hangs looks the
same as a slow one: without a sign of life a user cannot tell "waiting" from "stuck". The line
counts the seconds; it is drawn only when stderr is a terminal (never into a pipe or a log
file), and it is wiped before anything else is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
CLEAR = "\r\x1b[2K"
"""Back to the start of the line, and erase it."""


class WaitingLine:
    """``studio: waiting for the gateway… 12 s`` on a terminal, redrawn every ``interval``.

    :meth:`start` once the request goes out; :meth:`stop` when the first byte of the reply is
    about to be shown (or on any outcome); :meth:`clear` before writing another line on stderr
    while waiting (the next tick draws it again).
    """

    def __init__(
        self, stream: TextIO, *, text: str = "waiting for the gateway", interval: float = 0.1
    ) -> None:
        try:
            self.enabled = stream.isatty()
        except (AttributeError, ValueError):  # no file below it, or already closed
            self.enabled = False
        self.text = text
        self._stream = stream
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._drawn = False
        self._started = 0.0

    def start(self) -> None:
        """Start counting (only on a terminal, and only once)."""
        if not self.enabled or self._task is not None:
            return
        self._started = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        """Wipe the line for good; later calls do nothing."""
        self.enabled = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        self.clear()

    def clear(self) -> None:
        """Wipe the line if it is drawn."""
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
            elapsed = time.monotonic() - self._started
            spinner = FRAMES[frame % len(FRAMES)]
            self._write(f"{CLEAR}{spinner} studio: {self.text}… {elapsed:.0f} s (ctrl+c stops)")
            self._drawn = True
            frame += 1
            await asyncio.sleep(self._interval)
