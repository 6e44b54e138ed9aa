"""The waiting line of `studio ask`: drawn on a terminal only, wiped before anything else."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

from studio.commands.waiting import CLEAR, WaitingLine


class Terminal(io.StringIO):
    """A terminal that remembers what was written, and says when something was."""

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)

    async def until(self, shown: Callable[[str], bool]) -> None:
        """Wait until ``shown(everything written)`` holds (at most 5 s)."""
        async with asyncio.timeout(5):
            while not shown(self.getvalue()):
                self.written.clear()
                await self.written.wait()


async def drawn(stream: Terminal, times: int) -> None:
    """Wait until the line was drawn ``times`` times."""
    await stream.until(lambda text: text.count("waiting for the gateway") >= times)


async def test_counts_on_a_terminal_and_is_wiped_when_stopped() -> None:
    stream = Terminal()
    line = WaitingLine(stream, interval=0.01)
    line.start()
    await drawn(stream, 3)
    line.stop()
    text = stream.getvalue()
    assert text.endswith(CLEAR)
    assert "studio: waiting for the gateway… 0 s" in text
    await asyncio.sleep(0.05)  # stopped for good: nothing more is drawn
    assert stream.getvalue() == text
    line.stop()  # a second stop writes nothing
    assert stream.getvalue() == text


async def test_clear_makes_room_for_another_line_then_it_comes_back() -> None:
    stream = Terminal()
    line = WaitingLine(stream, interval=0.01)
    line.start()
    await drawn(stream, 1)
    line.clear()
    stream.write("studio: retry 1 in 0.5 s\n")
    before = stream.getvalue().count("waiting")
    await drawn(stream, before + 1)
    line.stop()
    assert f"{CLEAR}studio: retry 1" in stream.getvalue()


async def test_never_drawn_into_a_pipe_or_a_file() -> None:
    stream = io.StringIO()
    line = WaitingLine(stream, interval=0.001)
    line.start()
    await asyncio.sleep(0.02)
    line.stop()
    assert stream.getvalue() == ""


async def test_the_label_can_change_while_it_waits() -> None:
    stream = Terminal()
    line = WaitingLine(stream, interval=0.01)
    line.start()
    await drawn(stream, 1)
    line.text = "the model is thinking"
    await stream.until(lambda text: "the model is thinking" in text)
    line.stop()
