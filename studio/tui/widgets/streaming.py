"""A Markdown view that renders a streamed reply live, at a flat cost per token.

Three measures keep streaming cheap (client-guide §3):

- **coalescing**: deltas are buffered and handed to Textual's ``MarkdownStream`` at most
  :data:`FLUSH_HZ` times a second (at once when a blank line completes a block), instead of once
  per token — evenly spaced tokens defeat the stream's own merging;
- **block splitting**: once the current Markdown block holds :data:`BLOCK_CHARS` characters,
  the next blank line outside a code fence starts a new ``Markdown`` widget, so appending never
  re-parses an ever-growing document (the cost per token stays flat for 32k-token replies);
- **one full render at the end** of each block (``Markdown.update``), so a fence or table
  mis-rendered by incremental appends is always corrected.
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

FLUSH_HZ = 20
BLOCK_CHARS = 6000
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def fence_state(text: str, fence: str | None = None) -> str | None:
    """The open code fence (its marker) after ``text``, given the one open before it."""
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if not match:
            continue
        marker = match.group(1)
        if fence is None:
            fence = marker
        elif (
            marker[0] == fence[0]
            and len(marker) >= len(fence)
            and not line.strip()[len(marker) :].strip()
        ):
            fence = None
    return fence


def block_boundary(block: str, pending: str) -> int | None:
    """An index in ``pending`` just after a blank line that is outside any code fence."""
    fence = fence_state(block)
    start = 0
    while True:
        index = pending.find("\n\n", start)
        if index < 0:
            return None
        fence = fence_state(pending[start:index], fence)
        if fence is None:
            return index + 2
        start = index + 1


class StreamingMarkdown(Vertical):
    """Markdown that grows as text is appended; call :meth:`finish` when the reply ends."""

    DEFAULT_CSS = """
    StreamingMarkdown { height: auto; }
    StreamingMarkdown > Markdown { margin: 0; padding: 0; }
    """

    def __init__(
        self, text: str = "", *, streaming: bool = False, id: str | None = None, classes: str = ""
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._blocks: list[str] = [text]
        self._pending: list[str] = []
        self._stream: MarkdownStream | None = None
        self._timer: Timer | None = None
        self._flushing = False
        self._last_char = text[-1:] if text else ""
        self.finished = not streaming

    @property
    def text(self) -> str:
        """Everything appended so far, rendered or still pending."""
        return "".join(self._blocks) + "".join(self._pending)

    @property
    def block_count(self) -> int:
        return len(self._blocks)

    def compose(self) -> ComposeResult:
        yield Markdown(self._blocks[0])

    async def append(self, fragment: str) -> None:
        """Queue a fragment; it reaches the screen within 1/FLUSH_HZ s (or now, on a blank line)."""
        if not fragment:
            return
        self._pending.append(fragment)
        completes_block = "\n\n" in fragment or (fragment[0] == "\n" and self._last_char == "\n")
        self._last_char = fragment[-1]
        if completes_block:
            await self.flush()
        elif self._timer is None:
            self._timer = self.set_timer(1 / FLUSH_HZ, self._timed_flush)

    async def _timed_flush(self) -> None:
        self._timer = None
        await self.flush()

    async def flush(self) -> None:
        """Hand the pending text to the current block, starting a new block when it is large."""
        if not self._pending or self._flushing:
            return
        self._flushing = True
        try:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            pending = "".join(self._pending)
            self._pending.clear()
            while pending:
                current = self._blocks[-1]
                cut = block_boundary(current, pending) if len(current) >= BLOCK_CHARS else None
                if cut is None:
                    await self._write(pending)
                    return
                await self._write(pending[:cut])
                await self._seal_block()
                pending = pending[cut:]
                await self._open_block()
        finally:
            self._flushing = False

    async def _write(self, text: str) -> None:
        self._blocks[-1] += text
        if self._stream is None:
            self._stream = Markdown.get_stream(self._current())
        await self._stream.write(text)

    def _current(self) -> Markdown:
        return self.query(Markdown).last()

    async def _seal_block(self) -> None:
        """Stop streaming into the current block and render it once in full."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self._current().update(self._blocks[-1])

    async def _open_block(self) -> None:
        self._blocks.append("")
        await self.mount(Markdown(""))

    async def finish(self, final_text: str | None = None) -> None:
        """Flush everything and render the last block in full. ``final_text`` (the whole reply
        as stored) replaces what was streamed when they differ."""
        await self.flush()
        await self._seal_block()
        if final_text is not None and final_text != self.text:
            await self.replace(final_text)
        self.finished = True

    async def replace(self, text: str) -> None:
        """Show ``text`` instead of the current content (one block)."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self._pending.clear()
        self._blocks = [text]
        await self.remove_children()
        await self.mount(Markdown(text))

    async def on_unmount(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
