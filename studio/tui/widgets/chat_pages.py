"""The history of one conversation pane, a page at a time: the newest :data:`PAGE` messages when
it opens, older ones as the log reaches its top. :class:`HistoryPages` is composed into
:class:`~studio.tui.widgets.chat_pane.ChatPane`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from studio.store import StoreUnavailable
from studio.tui.widgets.message_view import MessageView

if TYPE_CHECKING:
    from studio.tui.widgets.chat_pane import ChatPane

PAGE = 30
"""Messages mounted when a conversation opens; older ones load on demand."""


class HistoryPages:
    """Mounts one pane's messages page by page, above those shown, with a "Load earlier
    messages" button while there are more."""

    def __init__(self, pane: ChatPane) -> None:
        self.pane = pane
        self.loading = False
        self._oldest_position: int | None = None

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
