"""A Markdown view that renders a streamed reply live, at a flat cost per token.

Any change to a Textual screen's layout re-arranges *every* widget on it, and Textual's
``Markdown`` makes a widget of each paragraph, list item and table cell: a long reply held
hundreds, and each flush, frame and key press grew slower with it
(``tests/bench/stream_render.py``). So a reply is **one widget** that paints lines rendered by
:mod:`studio.tui.markdown_lines`, whatever its length. What keeps a stream's cost flat:

- **coalescing, paced by the renderer's own cost** (client-guide §3): deltas are buffered and
  rendered at most :data:`FLUSH_HZ` times a second, and no more often than keeps each flush's
  rendering (render, layout and frame, measured after it) within :data:`RENDER_SHARE` of the
  time, so key presses still get the loop on a slow machine. :meth:`append` also yields to the
  event loop now and then: a fast server can deliver a whole reply without the reading loop
  ever waiting;
- **blocks**: once the current block holds :data:`BLOCK_CHARS` characters, the next blank line
  outside a code fence (followed by an unindented line) starts a new block. A flush parses and
  renders only the last block, in full (never the whole reply, never per delta); the lines of
  the blocks before it are kept. Text given up front (history) is split the same way, and
  each block is rendered once per width and theme;
- **the end**: :meth:`finish` renders the last block in full with the final text, so the
  finished reply is exactly the full render of each of its blocks. Blocks are cut only where
  a blank line ends every open construct, so this equals one render of the whole text, except
  for reference-style link definitions, which apply only within their block.
"""

from __future__ import annotations

import asyncio
import bisect
import re
import time
from typing import TYPE_CHECKING

from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from studio.tui.markdown_lines import renderer_for

if TYPE_CHECKING:
    from textual.geometry import Size

    from studio.tui.markdown_lines import MarkdownLines

FLUSH_HZ = 10
"""The most flushes per second."""
MAX_FLUSH_INTERVAL = 1.0
"""The longest wait between flushes, however slow rendering is."""
RENDER_SHARE = 0.3
"""Flushes are spaced so that rendering them takes at most this share of the time."""
BLOCK_CHARS = 1200
"""Characters in a block before the next blank line starts a new one."""
YIELD_EVERY = 0.01
"""Seconds of back-to-back appends after which :meth:`append` lets the event loop run."""
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


def split_point(block: str, pending: str, size: int = BLOCK_CHARS) -> int | None:
    """Where in ``pending`` (text to follow ``block``) a new block may start, or ``None``.

    A new block starts after a blank line outside any code fence, once the block would hold at
    least ``size`` characters, and only before a line that is already known and not indented
    (an indented line may continue a list item, or be indented code).
    """
    # Read again the block's last line, complete or not: a blank line ending the block allows a
    # split right at its end (``0``) once the pending text shows that the next line is not
    # indented, and a line cut between the two must be read whole.
    line_start = block.rfind("\n", 0, len(block) - 1) + 1
    head, tail = block[:line_start], block[line_start:]
    fence = fence_state(head) if head else None
    text = tail + pending
    shift = len(tail)
    need = size - len(block)
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            return None
        line = text[start:end]
        nxt = end + 1
        if line.strip():
            fence = fence_state(line, fence)
        elif fence is None and nxt - shift >= need and nxt < len(text) and text[nxt] not in " \t\n":
            return nxt - shift
        start = nxt


def split_blocks(text: str, size: int = BLOCK_CHARS) -> list[str]:
    """``text`` cut where :func:`split_point` allows, into blocks of about ``size`` chars."""
    blocks: list[str] = []
    while len(text) > size:
        cut = split_point(text[:size], text[size:], size)
        if cut is None:
            break
        blocks.append(text[: size + cut])
        text = text[size + cut :]
    blocks.append(text)
    return blocks


class StreamingMarkdown(Widget):
    """Markdown that grows as text is appended; call :meth:`finish` when the reply ends."""

    DEFAULT_CSS = "StreamingMarkdown { height: auto; }"

    def __init__(
        self, text: str = "", *, streaming: bool = False, id: str | None = None, classes: str = ""
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._blocks: list[str] = split_blocks(text)
        self._lines: list[list[Strip] | None] = [None] * len(self._blocks)
        """Each block's rendered lines at :attr:`_width` (``None``: to render)."""
        self._offsets: list[int] = []
        """The first line of each block (blocks are one blank line apart)."""
        self._height = 0
        self._width = 0
        self._renderer: MarkdownLines | None = None
        self._pending: list[str] = []
        self._timer: Timer | None = None
        self._interval = 1 / FLUSH_HZ
        self._last_yield = time.perf_counter()
        self.finished = not streaming

    @property
    def text(self) -> str:
        """Everything appended so far, rendered or still pending."""
        return "".join(self._blocks) + "".join(self._pending)

    @property
    def block_count(self) -> int:
        return len(self._blocks)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _theme_changed(self) -> None:
        self._renderer = None
        self._width = 0
        self.refresh(layout=True)

    # -- lines -------------------------------------------------------------------------------------

    def _lay_out(self, width: int) -> None:
        """Render the blocks not yet rendered at ``width`` and place them."""
        if width != self._width:
            self._width = width
            self._lines = [None] * len(self._blocks)
        if self._renderer is None:
            self._renderer = renderer_for(
                self.app.theme_variables, dark=self.app.current_theme.dark
            )
        offsets: list[int] = []
        y = 0
        for index, lines in enumerate(self._lines):
            if lines is None:
                lines = self._lines[index] = self._renderer.render(self._blocks[index], width)
            if lines and y:
                y += 1  # a blank line between blocks
            offsets.append(y)
            y += len(lines)
        self._offsets = offsets
        self._height = y

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._lay_out(width)
        return self._height

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._width or None in self._lines[-1:]:
            self._lay_out(width)
        index = bisect.bisect_right(self._offsets, y) - 1
        lines = self._lines[index] if index >= 0 else None
        row = y - self._offsets[index] if index >= 0 else 0
        base = self.rich_style  # the background and colour the widget inherits
        if not lines or row >= len(lines):
            return Strip.blank(width, base)
        strip = lines[row].apply_style(base)
        selection = self.text_selection
        if selection is not None:
            span = selection.get_span(y)
            if span is not None:
                start, end = span
                end = width if end == -1 else end
                style = self.screen.get_component_rich_style("screen--selection")
                before, chosen, after = strip.divide([start, end, width])
                strip = Strip.join([before, chosen.apply_style(style), after])
        return strip.apply_offsets(0, y)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, as shown (the rendered lines, not the Markdown source)."""
        self._lay_out(self.size.width or self._width or 80)
        shown: list[str] = []
        for lines in self._lines:
            if lines and shown:
                shown.append("")
            shown.extend(strip.text.rstrip() for strip in lines or ())
        return selection.extract("\n".join(shown)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    # -- streaming ---------------------------------------------------------------------------------

    async def append(self, fragment: str) -> None:
        """Queue a fragment; it reaches the screen at the next flush (at most 1 s away).

        A fast server can deliver a whole reply without the reading loop ever waiting, which
        would starve timers and key presses; so every :data:`YIELD_EVERY` s this yields."""
        if not fragment:
            return
        self._pending.append(fragment)
        if self._timer is None:
            self._timer = self.set_timer(self._interval, self.flush)
        now = time.perf_counter()
        if now - self._last_yield >= YIELD_EVERY:
            await asyncio.sleep(0)
            self._last_yield = time.perf_counter()

    async def flush(self) -> None:
        """Render the pending text: the last block again, in full, and any new blocks."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._pending:
            return
        started = time.perf_counter()
        pending = "".join(self._pending)
        self._pending.clear()
        cut = split_point(self._blocks[-1], pending)
        if cut is None:
            self._blocks[-1] += pending
        else:
            self._blocks[-1] += pending[:cut]
            new = split_blocks(pending[cut:])
            self._blocks.extend(new)
            self._lines.extend([None] * len(new))
        self._lines[-1 - (0 if cut is None else len(new))] = None
        height = self._height
        if self._width:
            self._lay_out(self._width)
        self.refresh(layout=self._height != height or not self._width)
        if self.is_attached:
            self.call_after_refresh(self._rendered, started)

    def _rendered(self, started: float) -> None:
        """Space the next flushes by what this one cost (render, layout and frame)."""
        cost = time.perf_counter() - started
        self._interval = min(MAX_FLUSH_INTERVAL, max(1 / FLUSH_HZ, cost / RENDER_SHARE))

    async def finish(self, final_text: str | None = None) -> None:
        """Flush everything; ``final_text`` (the whole reply as stored) replaces what was
        streamed when they differ."""
        await self.flush()
        self.finished = True
        if final_text is not None and final_text != self.text:
            await self.replace(final_text)

    async def replace(self, text: str) -> None:
        """Show ``text`` instead of the current content."""
        self._pending.clear()
        self._blocks = split_blocks(text)
        self._lines = [None] * len(self._blocks)
        self.refresh(layout=True)
