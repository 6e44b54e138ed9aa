"""A Markdown view that renders a streamed reply live, at a flat cost per token.

Any change to a Textual screen's layout re-arranges *every* widget on it, and Textual's
``Markdown`` makes a widget of each paragraph, list item and table cell (about 40 per KB of
Markdown); a full update re-mounts them all. So a long reply made each flush, frame and key
press slower the longer it grew (``tests/bench/stream_render.py``). What keeps it flat:

- **coalescing, paced by the renderer's own cost** (client-guide §3): deltas are buffered and
  appended (``Markdown.append``) at most :data:`FLUSH_HZ` times a second, and no more often than
  keeps each flush's rendering (append, layout and frame, measured after it) within
  :data:`RENDER_SHARE` of the time, so key presses still get the loop on a slow machine.
  ``append`` also yields to the event loop now and then: a fast server can deliver a whole
  reply without the reading loop ever waiting;
- **block splitting**: once the current block holds :data:`BLOCK_CHARS` characters, the next
  blank line outside a code fence (followed by an unindented line) starts a new ``Markdown``
  widget, so appends never re-parse an ever-growing document. Text given up front (history)
  is split the same way;
- **freezing**: a finished block well out of view is swapped for a blank :class:`FrozenBlock`
  of the same height (one widget instead of hundreds), and swapped back, rendered in full,
  before it scrolls into view or when the width changes;
- **no second render at the end**: with Textual 8.2, appending gives the same blocks, text,
  styles and code highlighting as one full update (checked over random splits of emulator
  replies), except that table cells built by appends do not follow links. So :meth:`finish`
  only flushes; after the final frame it re-renders just the blocks whose tables hold links,
  and a frozen block is rendered in full when it comes back.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, TypeVar

from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.timer import Timer
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.widgets import Markdown

FLUSH_HZ = 10
"""The most flushes per second."""
MAX_FLUSH_INTERVAL = 1.0
"""The longest wait between flushes, however slow rendering is."""
RENDER_SHARE = 0.3
"""Flushes are spaced so that rendering them takes at most this share of the time."""
BLOCK_CHARS = 3000
"""Characters in a block before the next blank line starts a new one."""
YIELD_EVERY = 0.01
"""Seconds of back-to-back appends after which :meth:`append` lets the event loop run."""
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLE_LINK = re.compile(r"^ {0,3}\|.*(\]\(|://)", re.MULTILINE)
"""A table row with a link: appends build its cells without link support (Textual 8.2)."""


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


def _markdown(text: str) -> Markdown:
    """A Markdown widget. Textual's Markdown (and markdown-it) load on first use, so a screen
    that shows no Markdown yet (a new conversation) draws its first frame without them."""
    from textual.widgets import Markdown

    return Markdown(text)


class FrozenBlock(Widget):
    """A blank stand-in, of the same height, for a finished block that is out of view."""

    DEFAULT_CSS = "FrozenBlock { margin: 0; padding: 0; }"

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        self.styles.height = height
        self.frozen_width = width

    def render(self) -> str:
        return ""


_View = TypeVar("_View", "Markdown", FrozenBlock)


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
        self._blocks: list[str] = split_blocks(text)
        self._views: list[Markdown | FrozenBlock] = []
        self._live: Markdown | None = None
        """The last block's widget while text is appended to it (it was made empty)."""
        self._appended: set[Markdown] = set()
        """Widgets built by appends, to render once in full when the reply ends."""
        self._pending: list[str] = []
        self._timer: Timer | None = None
        self._interval = 1 / FLUSH_HZ
        self._flush_lock = asyncio.Lock()
        self._last_yield = time.perf_counter()
        self._scroller: ScrollableContainer | None = None
        self._sync_due = False
        self._syncing = False
        self._generation = 0
        self.finished = not streaming

    @property
    def text(self) -> str:
        """Everything appended so far, rendered or still pending."""
        return "".join(self._blocks) + "".join(self._pending)

    @property
    def block_count(self) -> int:
        return len(self._blocks)

    def compose(self) -> ComposeResult:
        views = [_markdown(block) for block in self._blocks]
        if not self.finished and self._blocks == [""]:
            self._live = views[0]
            self._appended.add(views[0])
        self._views = list(views)
        yield from views

    def on_mount(self) -> None:
        self._scroller = next(
            (a for a in self.ancestors if isinstance(a, ScrollableContainer)), None
        )
        if self._scroller is not None:
            self.watch(self._scroller, "scroll_y", self._schedule_sync, init=False)
        self._schedule_sync()

    def on_resize(self) -> None:
        self._schedule_sync()

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # -- streaming ---------------------------------------------------------------------------------

    async def append(self, fragment: str) -> None:
        """Queue a fragment; it reaches the screen at the next flush (at most 1 s away).

        A fast server can deliver a whole reply without the reading loop ever waiting, which
        would starve timers and key presses; so every :data:`YIELD_EVERY` s this yields."""
        if not fragment:
            return
        self._pending.append(fragment)
        if self._timer is None and not self._flush_lock.locked():
            self._timer = self.set_timer(self._interval, self._timed_flush)
        now = time.perf_counter()
        if now - self._last_yield >= YIELD_EVERY:
            await asyncio.sleep(0)
            self._last_yield = time.perf_counter()

    async def _timed_flush(self) -> None:
        self._timer = None
        await self.flush()

    async def flush(self) -> None:
        """Hand the pending text to the current block, starting new blocks when it is large."""
        async with self._flush_lock:
            await self._flush()
        if self._pending and self._timer is None:
            self._timer = self.set_timer(self._interval, self._timed_flush)

    async def _flush(self) -> None:
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
            await self._write(pending)
        else:
            # The current block is complete. A burst may hold more complete blocks: mount them
            # rendered in full, and append only to the last one.
            await self._write(pending[:cut])
            *complete, last = split_blocks(pending[cut:])
            self._live = _markdown("")
            self._appended.add(self._live)
            views = [_markdown(block) for block in complete] + [self._live]
            self._blocks.extend([*complete, ""])
            self._views.extend(views)
            await self.mount_all(views)
            await self._write(last)
        if self.is_attached:
            self.call_after_refresh(self._rendered, started)

    def _rendered(self, started: float) -> None:
        """Space the next flushes by what this one cost (flush, layout and frame)."""
        cost = time.perf_counter() - started
        self._interval = min(MAX_FLUSH_INTERVAL, max(1 / FLUSH_HZ, cost / RENDER_SHARE))

    async def _write(self, text: str) -> None:
        """Append ``text`` to the last block."""
        if not text:
            return
        self._blocks[-1] += text
        view = self._views[-1]
        if view is not self._live:
            # Frozen, or rendered whole: append the block again, to a fresh widget.
            view = self._live = await self._swap(len(self._views) - 1, _markdown(""))
            self._appended.add(view)
            text = self._blocks[-1]
        await view.append(text)

    async def finish(self, final_text: str | None = None) -> None:
        """Flush everything; ``final_text`` (the whole reply as stored) replaces what was
        streamed when they differ. Once the final frame is shown, each block built by appends
        is rendered once in full (which looks the same, but for example makes links in table
        cells work)."""
        await self.flush()
        self._live = None
        self.finished = True
        if final_text is not None and final_text != self.text:
            await self.replace(final_text)
        elif self.is_attached:
            self.call_after_refresh(self.call_later, self._render_appended)
        self._schedule_sync()

    async def _render_appended(self) -> None:
        generation = self._generation
        for index, view in enumerate(self._views):
            if generation != self._generation or not self.is_attached:
                return
            if view in self._appended and view is not self._live:
                self._appended.discard(view)
                if _TABLE_LINK.search(self._blocks[index]):
                    await view.update(self._blocks[index])

    async def replace(self, text: str) -> None:
        """Show ``text`` instead of the current content."""
        self._pending.clear()
        self._generation += 1
        self._live = None
        self._appended.clear()
        self._blocks = split_blocks(text)
        self._views = [_markdown(block) for block in self._blocks]
        await self.remove_children()
        await self.mount_all(self._views)
        self._schedule_sync()

    # -- freezing blocks out of view ---------------------------------------------------------------

    def _schedule_sync(self, *_: object) -> None:
        """Check, once the next frame is laid out, which blocks to freeze or thaw."""
        if not self._sync_due and self.is_attached:
            self._sync_due = True
            self.call_after_refresh(self.call_later, self._sync)

    async def _sync(self) -> None:
        self._sync_due = False
        scroller = self._scroller
        if self._syncing or scroller is None or not self.is_attached:
            return
        viewport = scroller.region
        width = self.size.width
        if not viewport or not width:
            return  # hidden, or not laid out yet
        self._syncing = True
        thawed = False
        generation = self._generation
        try:
            keep = viewport.expand((0, viewport.height))
            for index, view in enumerate(self._views):
                if generation != self._generation:
                    return
                if view is self._live:
                    continue
                if isinstance(view, FrozenBlock):
                    if view.frozen_width != width or view.region.overlaps(keep):
                        await self._swap(index, _markdown(self._blocks[index]))
                        thawed = True
                elif view.is_attached and view.region.height and not view.region.overlaps(keep):
                    await self._swap(index, FrozenBlock(view.outer_size.height, width))
        finally:
            self._syncing = False
        if thawed:
            self._schedule_sync()  # blocks thawed for a new width are frozen again once laid out

    async def _swap(self, index: int, new: _View) -> _View:
        """Put ``new`` in place of block ``index``'s widget."""
        old = self._views[index]
        self._views[index] = new
        if not isinstance(old, FrozenBlock):
            self._appended.discard(old)
        await self.mount(new, before=old)
        await old.remove()
        return new
