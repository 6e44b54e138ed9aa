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
  the blocks before it are kept. Text given up front (history) is split the same way;
- **rendering on demand** (:class:`~studio.tui.markdown_lines.BlockLayout`): a block is
  rendered at a width when it comes into view, or a few at a time in the background; until
  then its height is estimated. Opening a long history or changing the width (a resized
  terminal, the split view, the job sidebar) costs the blocks on screen, not the whole log;
- **the end**: :meth:`finish` renders the last block in full with the final text, so the
  finished reply is exactly the full render of each of its blocks. Blocks are cut only where
  a blank line ends every open construct, so this equals one render of the whole text, except
  that reference-style link definitions apply only within their block, and a loose list cut
  between two items shows as two lists (its numbering kept).
"""

from __future__ import annotations

import asyncio
import re
import time
import weakref
from typing import TYPE_CHECKING

from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from studio.tui.compat import relayout
from studio.tui.markdown_lines import BlockLayout, renderer_for

if TYPE_CHECKING:
    from textual.app import App
    from textual.geometry import Size

FLUSH_HZ = 10
"""The most flushes per second."""
MAX_FLUSH_INTERVAL = 1.0
"""The longest wait between flushes, however slow rendering is."""
RENDER_SHARE = 0.3
"""Flushes are spaced so that rendering them takes at most this share of the time."""
BLOCK_CHARS = 1200
"""Characters in a block before the next blank line starts a new one."""
FILL_DELAY = 0.25
"""Seconds between rounds of rendering blocks that are off screen."""
FILL_BUDGET = 0.03
"""Seconds of rendering per round (one block more at most)."""
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


class _Filler:
    """Renders the off-screen blocks of every reply in an app, a few at a time: one round of
    at most :data:`FILL_BUDGET` s every :data:`FILL_DELAY` s, the most recent replies first, so
    that a long history never holds key presses back for long."""

    def __init__(self, app: App[object]) -> None:
        self.app = weakref.ref(app)  # the registry's value must not keep its key alive
        self.waiting: dict[StreamingMarkdown, None] = {}
        self.due = False

    def add(self, view: StreamingMarkdown) -> None:
        self.waiting[view] = None
        self._schedule()

    def _schedule(self) -> None:
        app = self.app()
        if not self.due and app is not None:
            self.due = True
            app.set_timer(FILL_DELAY, self.run)

    def run(self) -> None:
        self.due = False
        deadline = time.perf_counter() + FILL_BUDGET
        for view in reversed(list(self.waiting)):
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            if view._fill(left):
                del self.waiting[view]
        if self.waiting:
            self._schedule()


_FILLERS: weakref.WeakKeyDictionary[App[object], _Filler] = weakref.WeakKeyDictionary()
"""Each running app's filler; an app that ended is dropped with it."""


def _filler(app: App[object]) -> _Filler:
    """The app's filler, made on first use."""
    filler = _FILLERS.get(app)
    if filler is None:
        filler = _FILLERS[app] = _Filler(app)
    return filler


class StreamingMarkdown(Widget):
    """Markdown that grows as text is appended; call :meth:`finish` when the reply ends."""

    DEFAULT_CSS = "StreamingMarkdown { height: auto; }"

    def __init__(
        self, text: str = "", *, streaming: bool = False, id: str | None = None, classes: str = ""
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._layout = BlockLayout(split_blocks(text))
        self._pending: list[str] = []
        self._timer: Timer | None = None
        self._interval = 1 / FLUSH_HZ
        self._last_yield = time.perf_counter()
        self.finished = not streaming

    @property
    def text(self) -> str:
        """Everything appended so far, rendered or still pending."""
        return "".join(self._layout.blocks) + "".join(self._pending)

    @property
    def block_count(self) -> int:
        return len(self._layout.blocks)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _theme_changed(self) -> None:
        self._layout.reset(None, self._layout.width)
        self._relayout()

    def notify_style_update(self) -> None:
        """The app's CSS was applied again: if the theme's colours changed since the blocks
        were rendered, they are rendered again in the new ones.

        Textual applies a new theme's variables just after the ``theme`` watchers run: lines
        drawn in between (a frame, a flush of a streaming reply) took the old theme's renderer,
        which is dropped here."""
        super().notify_style_update()
        renderer = self._layout.renderer
        if renderer is not None and not renderer.serves(
            self.app.theme_variables, dark=self.app.current_theme.dark
        ):
            self._theme_changed()

    # -- lines -------------------------------------------------------------------------------------

    def _at_width(self, width: int) -> BlockLayout:
        """The layout at ``width`` with the theme's renderer (blocks render when needed)."""
        layout = self._layout
        if layout.renderer is None or width != layout.width:
            renderer = renderer_for(self.app.theme_variables, dark=self.app.current_theme.dark)
            layout.reset(renderer, width)
        if layout.unrendered:
            self._schedule_fill()
        return layout

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._at_width(width).height

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        layout = self._at_width(width)
        index, row = layout.locate(y)
        # A block not rendered yet is rendered as it comes into view; if its estimated height
        # was wrong, the blocks are placed again.
        if index >= 0 and layout.lines[index] is None and layout.render(index):
            # Asked for while the frame is drawn, a new layout would be dropped: ask after it.
            self.call_later(self._relayout)
            index, row = layout.locate(y)
        lines = layout.lines[index] if index >= 0 else None
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

    def _relayout(self) -> None:
        """Lay the view out again: its height changed, maybe while a layout was pending."""
        relayout(self)

    def _schedule_fill(self) -> None:
        if self.is_attached:
            _filler(self.app).add(self)

    def _fill(self, budget: float) -> bool:
        """Render blocks that are off screen for about ``budget`` s, so scrolling to them finds
        them ready; True when none is left."""
        if not self._layout.width or not self.is_attached:
            return True
        layout = self._at_width(self._layout.width)  # a new theme may have dropped the renderer
        if layout.fill(budget):
            self._relayout()
        return not layout.unrendered

    @property
    def fully_rendered(self) -> bool:
        """Every block is rendered at the current width (none shows an estimated height)."""
        return bool(self._layout.width) and not self._layout.unrendered

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, as shown (the rendered lines, not the Markdown source)."""
        layout = self._at_width(self.size.width or self._layout.width or 80)
        if layout.unrendered and layout.fill(float("inf")):
            self._relayout()  # the lines the selection counts must be the lines laid out
        return selection.extract("\n".join(layout.text_lines())), "\n"

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
        layout = self._layout
        last = len(layout.blocks) - 1
        cut = split_point(layout.blocks[last], pending)
        if cut is None:
            layout.blocks[last] += pending
        else:
            layout.blocks[last] += pending[:cut]
            layout.extend(split_blocks(pending[cut:]))
        layout.changed(last)
        moved = False
        if layout.renderer is not None:
            # Render what changed now, so what it costs paces the next flush.
            moved = any([layout.render(i) for i in range(last, len(layout.blocks))])
        if moved or layout.renderer is None:
            self._relayout()
        else:
            self.refresh()
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
        self._layout = BlockLayout(split_blocks(text))
        self._relayout()
