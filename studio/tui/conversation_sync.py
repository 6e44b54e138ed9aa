"""The main screen following conversations that other processes change: a ``studio ask`` saving
an exchange, another window replying, a ``studio rm``.

Twice a second a :class:`~studio.store.watch.ConversationWatcher` is asked what other
connections committed (one ``PRAGMA`` when nothing was). When conversations changed, the list
is shown again (its filter, archive view and highlight kept), an open pane of a changed
conversation gets the messages it does not show yet (once its own reply, if one streams, has
ended: never interleaved, never twice), and the tab of a deleted conversation closes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from studio.store import MessageStatus, StoreError
from studio.store.watch import ConversationChanges, ConversationWatcher

if TYPE_CHECKING:
    from studio.tui.screens.main import MainScreen
    from studio.tui.widgets.chat_pane import ChatPane

SYNC_INTERVAL = 0.5
"""Seconds between looks: a change made elsewhere shows within a second."""

RECENT = 50
"""How many of a conversation's newest messages are compared with what its pane shows."""

log = logging.getLogger("studio.tui.conversation_sync")


class ConversationSync:
    """Keeps a :class:`MainScreen`'s list and open panes up to date with the store."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.watcher: ConversationWatcher | None = None
        self._due: set[int] = set()
        """Open conversations changed elsewhere whose panes have not caught up yet."""

    def start(self) -> None:
        """Note what the screen shows now and look again every :data:`SYNC_INTERVAL`."""
        self.watcher = ConversationWatcher(self.screen.studio.store)
        self._poll()
        self.screen.set_interval(SYNC_INTERVAL, self.tick)

    def tick(self) -> None:
        """One look: refresh what changed elsewhere (cheap when nothing did)."""
        changes = self._poll()
        if changes:
            self._changed(changes)
        screen = self.screen
        for cid in list(self._due):
            pane = screen.pane(cid)
            if pane is None:
                self._due.discard(cid)
            elif pane.is_mounted and not pane.streaming and not pane.pages.loading:
                # (its first page mounted, its own reply first: the rest after it)
                self._due.discard(cid)
                screen.run_worker(self._catch_up(pane), group="conversation-sync")

    def _poll(self) -> ConversationChanges | None:
        if self.watcher is None:
            return None
        try:
            return self.watcher.poll()
        except StoreError:  # the store says so where it matters; the next look tries again
            log.warning("could not read the conversations other processes changed", exc_info=True)
            return None

    def _changed(self, changes: ConversationChanges) -> None:
        screen = self.screen
        screen.refresh_list()
        for cid in changes.changed | changes.new:
            if screen.pane(cid) is not None:
                self._due.add(cid)
        for cid in changes.removed:
            if screen.pane(cid) is not None:
                self._due.discard(cid)
                screen.run_worker(self._closed_elsewhere(cid), group="conversation-sync")

    async def _closed_elsewhere(self, cid: int) -> None:
        await self.screen.close_conversation(cid, focus=False)
        self.screen.notify("A conversation open here was deleted elsewhere.", markup=False)

    async def _catch_up(self, pane: ChatPane) -> None:
        """Show in ``pane`` the messages saved elsewhere that it does not show, each in its
        place (a reply still streaming elsewhere comes with a later look, once saved whole)."""
        store, cid = self.screen.studio.store, pane.conversation_id
        conversation = store.get_conversation(cid)
        if conversation is None:
            return
        self.screen.relabel(cid, conversation.title, streaming=pane.streaming)
        recent = store.messages(cid, limit=RECENT)
        if not recent:
            return
        views = pane.views()
        shown = {v.message.id for v in views}
        # Only the newest messages the pane shows count: an older part shown apart from them
        # (a search hit's page) leaves a gap that is filled on demand, never from here.
        tail = [v.message.position for v in views if v.message.position >= recent[0].position]
        if views and not tail:
            return  # the pane shows an older part of the history: nothing to add to
        first = min(tail, default=0)
        for message in recent:
            if message.id in shown or message.position < first:
                continue
            if message.status is MessageStatus.STREAMING:
                continue  # streaming elsewhere: its final save is another commit, another look
            await pane.append_message(message)  # in its place, once, however often brought
