"""The history of one conversation pane, a page at a time: the newest :data:`PAGE` messages when
it opens, older ones as the log reaches its top. :class:`HistoryPages` is composed into
:class:`~studio.tui.widgets.chat_pane.ChatPane`.

A message far back (a search hit) is shown without mounting everything after it: the page
around it goes above the messages shown, with a "Load later messages" button (a
:class:`LaterButton`) standing for the gap between the two until it is filled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from studio.store import Message, StoreUnavailable
from studio.tui.widgets.message_view import MessageView

if TYPE_CHECKING:
    from studio.tui.widgets.chat_pane import ChatPane

PAGE = 30
"""Messages mounted when a conversation opens; older ones load on demand."""
NEAR = 3 * PAGE
"""A message at most this many positions above those shown is reached by loading the pages in
between; one further back gets the page around it and a gap."""


class HistoryPages:
    """Mounts one pane's messages page by page, above those shown, with a "Load earlier
    messages" button while there are more."""

    def __init__(self, pane: ChatPane) -> None:
        self.pane = pane
        self.loading = False
        self._oldest_position: int | None = None

    def view_of(self, message_id: int) -> MessageView | None:
        """The view of message ``message_id`` if it is mounted."""
        return next((v for v in self.pane.views() if v.message_id == message_id), None)

    async def reveal(self, message_id: int) -> MessageView | None:
        """Mount message ``message_id`` if it is not (the pages up to it when it is near, else
        the page around it) and return its view; ``None`` if it is not in this conversation."""
        view = self.view_of(message_id)
        if view is not None:
            return view
        pane = self.pane
        message = pane.studio.store.get_message(message_id)
        if message is None or message.conversation_id != pane.conversation_id:
            return None
        self.loading = True
        try:
            gap = self._gap_holding(message.position)
            oldest = self._oldest_position or 0
            if gap is not None:
                while self.view_of(message_id) is None and gap.is_attached:
                    await self._fill_gap(gap)
            elif oldest - message.position > NEAR:
                await self._mount_window(message.position)
            elif message.position < oldest:
                while self.view_of(message_id) is None and self._has_earlier():
                    await self._mount_page()
        except StoreUnavailable as exc:
            await self._show_unreadable(exc)
        finally:
            self.loading = False
        return self.view_of(message_id)

    def _below(self, gap: LaterButton) -> MessageView | None:
        """The first view below ``gap`` (``None`` if there is none)."""
        return next((v for v in self.pane.views() if v.message.position > gap.after), None)

    def _gap_holding(self, position: int) -> LaterButton | None:
        """The gap the message at ``position`` is in, if it is in one."""
        for gap in self.pane.query(LaterButton):
            below = self._below(gap)
            if gap.after < position and (below is None or position < below.message.position):
                return gap
        return None

    def _has_earlier(self) -> bool:
        earlier = self.pane.query_one(".log", VerticalScroll).query_one_optional(".earlier", Button)
        return earlier is not None and bool(earlier.display)

    async def _mount_window(self, position: int) -> None:
        """The page around ``position``, above the messages shown, and a gap below it."""
        pane = self.pane
        store, cid = pane.studio.store, pane.conversation_id
        first = pane.views()[0]
        messages = store.messages(cid, limit=PAGE, before_position=position + PAGE // 2 + 1)
        self._oldest_position = messages[0].position
        views = [MessageView(m) for m in messages]
        log = pane.query_one(".log", VerticalScroll)
        await log.mount_all(views, before=first)
        pane.track_jobs(views)
        await log.mount(LaterButton(self, messages[-1].position), before=first)
        await self._show_earlier(messages)

    async def fill_gap(self, gap: LaterButton) -> None:
        """Mount the next page of the messages ``gap`` stands for (and drop it once none are
        left); nothing while a page is loading."""
        if self.loading or not gap.is_attached:
            return
        self.loading = True
        try:
            await self._fill_gap(gap)
        except StoreUnavailable as exc:
            await self._show_unreadable(exc)
        finally:
            self.loading = False

    async def _fill_gap(self, gap: LaterButton) -> None:
        pane = self.pane
        store, cid = pane.studio.store, pane.conversation_id
        below = self._below(gap)
        end = below.message.position if below is not None else None
        page = store.messages(cid, limit=PAGE, before_position=gap.after + PAGE + 1)
        messages = [m for m in page if m.position > gap.after and (end is None or m.position < end)]
        if messages:
            new = [MessageView(m) for m in messages]
            await pane.query_one(".log", VerticalScroll).mount_all(new, before=gap)
            pane.track_jobs(new)
            gap.after = messages[-1].position
        latest = store.messages(cid, limit=1, before_position=end) if end is not None else []
        if not messages or not latest or latest[-1].position <= gap.after:
            await gap.remove()

    async def load(self) -> None:
        """Mount the next (older) page; a damaged page is said so in the pane."""
        self.loading = True
        try:
            await self._mount_page()
        except StoreUnavailable as exc:  # a damaged page: say so here; the rest keeps working
            await self._show_unreadable(exc)
        finally:
            self.loading = False

    async def _show_unreadable(self, error: StoreUnavailable) -> None:
        log = self.pane.query_one(".log", VerticalScroll)
        if log.query(".store-error"):
            return
        self.pane.hide_empty_hint()
        text = (
            f"This conversation cannot be read; other conversations may still open. {error} "
            "Quit Studio before moving the file."
        )
        await log.mount(Static(text, markup=False, classes="store-error"), before=0)
        self.pane.studio.notify(str(error), severity="error", timeout=30, markup=False)

    async def _mount_page(self) -> None:
        pane = self.pane
        store, cid = pane.studio.store, pane.conversation_id
        messages = store.messages(cid, limit=PAGE, before_position=self._oldest_position)
        if messages:
            self._oldest_position = messages[0].position
        log = pane.query_one(".log", VerticalScroll)
        views = [MessageView(m) for m in messages]
        if views:
            pane.hide_empty_hint()
            first = next(iter(log.query(MessageView)), None)
            await log.mount_all(views, before=first) if first else await log.mount_all(views)
            pane.track_jobs(views)
        await self._show_earlier(messages)

    async def _show_earlier(self, messages: list[Message]) -> None:
        """Show the "Load earlier messages" button while there are messages before ``messages``
        (the page mounted at the top)."""
        store, cid = self.pane.studio.store, self.pane.conversation_id
        log = self.pane.query_one(".log", VerticalScroll)
        remaining = (
            bool(messages)
            and messages[0].position > 1
            and bool(store.messages(cid, limit=1, before_position=messages[0].position))
        )
        earlier = log.query_one_optional(".earlier", Button)
        if earlier is None and remaining:
            earlier = Button("Load earlier messages", classes="earlier", compact=True)
            await log.mount(earlier, before=0)
        if earlier is not None:
            earlier.display = remaining


class LaterButton(Button):
    """Stands in the log for the messages between a page shown around a search hit and the
    messages below it; pressing it loads the next page of them."""

    DEFAULT_CSS = "LaterButton { width: 100%; margin-bottom: 1; }"

    def __init__(self, pages: HistoryPages, after: int) -> None:
        super().__init__("Load later messages", classes="later", compact=True)
        self.pages = pages
        self.after = after
        """The position of the last message above the gap."""

    def on_mount(self) -> None:
        log = self.parent
        if isinstance(log, VerticalScroll):  # scrolled into view, it loads by itself
            self.watch(log, "scroll_y", self._scrolled, init=False)

    def _scrolled(self) -> None:
        self.call_after_refresh(self._load_if_in_view)  # once the regions are where they go

    def _load_if_in_view(self) -> None:
        log = self.parent
        if isinstance(log, VerticalScroll) and log.region.overlaps(self.region):
            self.load()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.load()

    def load(self) -> None:
        """Load the next page of the gap (in a worker of the pane: the button goes once the
        gap is filled)."""
        if not self.pages.loading:
            self.pages.pane.run_worker(self.pages.fill_gap(self), group="later")
