"""The main screen's open conversations: one tab and one chat pane each, the active one, and
the split view (the active pane beside its partner); remembered across sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Tab, Tabs

from studio.textsafe import clean_line
from studio.tui.screens import main_layout
from studio.tui.widgets.chat_pane import ChatPane

if TYPE_CHECKING:
    from studio.tui.screens.main import MainScreen


class OpenConversations:
    """Which conversations a :class:`MainScreen` has open (tabs), which is active, and the
    split view; opening, switching and closing them."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.ids: list[int] = []
        """The open conversations, in tab order."""
        self.active_id: int | None = None
        self.split = False
        self.partner_id: int | None = None
        """The conversation shown beside the active one in a split view."""
        self.restoring = False

    async def restore(self) -> None:
        """Reopen the tabs, the active one and the split of the last session."""
        screen = self.screen
        store = screen.studio.store
        choice = store.get_state("sidebar")
        screen.fit.choice = choice if isinstance(choice, bool) else None
        saved = store.get_state("open_tabs", [])
        active = store.get_state("active_tab")
        split = store.get_state("split", False)
        ids = [i for i in saved if isinstance(i, int) and store.get_conversation(i)]
        if not ids:
            recent = store.list_conversations(limit=1)
            ids = [recent[0].id] if recent else [store.create_conversation().id]
            screen.refresh_list()
        self.restoring = True  # adding tabs activates them; don't save that as the user's choice
        try:
            for cid in ids:
                await self.open(cid, activate=False)
        finally:
            self.restoring = False
        await self.activate(active if active in ids else ids[0])
        if split and len(ids) > 1:
            self.restoring = True  # the split comes back as it was, without a word
            try:
                await self.toggle_split()
            finally:
                self.restoring = False

    def save(self) -> None:
        """Remember the tabs, the active one and the split for the next session."""
        if self.restoring:
            return
        store = self.screen.studio.store
        store.set_state("open_tabs", self.ids)
        store.set_state("active_tab", self.active_id)
        store.set_state("split", self.split)

    async def open(self, cid: int, *, activate: bool = True) -> None:
        """Open conversation ``cid`` in a tab (if it is not open) and, by default, activate it."""
        screen = self.screen
        if cid not in self.ids:
            conversation = screen.studio.store.get_conversation(cid)
            if conversation is None:
                return
            self.ids.append(cid)
            tab = Tab(tab_label(conversation.title), id=f"tab-{cid}")
            await screen.query_one(Tabs).add_tab(tab)
            pane = ChatPane(cid)
            await screen.query_one("#panes").mount(pane)
            await screen.keeper.restore(pane)
        if activate:
            await self.activate(cid)

    async def open_at(self, cid: int, message_id: int, snippet: str = "") -> None:
        """Open conversation ``cid`` in the active pane scrolled to message ``message_id``
        (loading the history around it), the message selected and marked with ``snippet``
        (a search hit's: the matched words marked)."""
        from studio.tui.search_results import snippet_content
        from studio.tui.widgets.search_mark import mark_hit

        screen = self.screen
        await self.open(cid)
        pane = screen.pane(cid)
        if pane is None:
            screen.notify("That conversation no longer exists.", severity="warning", markup=False)
            return
        view = await pane.pages.reveal(message_id)
        if view is None:
            screen.notify("That message no longer exists.", severity="warning", markup=False)
            return
        await mark_hit(view, snippet_content(snippet))

    async def activate(self, cid: int, *, focus: bool = True) -> None:
        """Make the open conversation ``cid`` the active one."""
        if cid not in self.ids:
            return
        screen = self.screen
        previous = self.active_id
        if self.split and cid != self.active_id:
            self.partner_id = self.active_id  # the previous pane stays visible beside the new one
        self.active_id = cid
        screen.query_one(Tabs).active = f"tab-{cid}"
        self.show_panes()
        pane = screen.active_pane
        if focus and pane is not None and not screen.studio.gateway.needs_key:
            pane.focus_prompt()
        screen.refresh_list(selected=cid)
        self.save()
        left = screen.pane(previous) if previous != cid else None
        if left is not None and previous is not None and not left.display:
            await screen.keeper.left(previous)

    def show_panes(self) -> None:
        """Show the panes, and the conversation list, that fit the screen."""
        fit = self.screen.fit.fit(split=self.split)
        visible = {self.active_id}
        if fit.two_panes and self.partner_id in self.ids:
            visible.add(self.partner_id)
        for pane in self.screen.query(ChatPane):
            pane.display = pane.conversation_id in visible
            pane.set_class(pane.conversation_id == self.active_id and len(visible) > 1, "-active")

    async def tab_activated(self, event: Tabs.TabActivated) -> None:
        """The user picked a tab."""
        if event.tab is None or event.tab.id is None:
            return
        if self.screen.query_one(Tabs).active != event.tab.id:
            return  # a stale event from tabs added or switched programmatically
        cid = int(event.tab.id.removeprefix("tab-"))
        if cid != self.active_id and not self.restoring:
            await self.activate(cid)

    async def close(self, cid: int, *, focus: bool = True) -> None:
        """Close the tab; a conversation that never got anything is deleted too."""
        if cid not in self.ids:
            return
        screen = self.screen
        store = screen.studio.store
        blank = screen.keeper.closing(cid)
        pane = screen.pane(cid)
        if pane is not None:
            pane.stop()
            await pane.remove()
        index = self.ids.index(cid)
        self.ids.remove(cid)
        await screen.query_one(Tabs).remove_tab(f"tab-{cid}")
        if self.partner_id == cid:
            self.partner_id = None
            self.split = False
        if blank:
            store.delete_conversation(cid)
        if not self.ids:
            fresh = store.create_conversation().id
            await self.open(fresh, activate=False)
            await self.activate(fresh, focus=focus)
            screen.refresh_list()
        elif self.active_id == cid:
            await self.activate(self.ids[max(0, index - 1)], focus=focus)
        elif blank:
            screen.refresh_list()
        self.save()

    async def step(self, step: int) -> None:
        """Activate the tab ``step`` places along (wrapping around)."""
        if self.active_id is None or not self.ids:
            return
        index = (self.ids.index(self.active_id) + step) % len(self.ids)
        await self.activate(self.ids[index])

    async def toggle_split(self) -> None:
        """Show two conversations side by side (a new one if only one is open), or one."""
        screen = self.screen
        if self.split:
            self.split = False
        else:
            fit = screen.fit.fit(split=True)
            if not self.restoring and not fit.two_panes:
                room = " or hide the conversation list (f9)" if fit.sidebar else ""
                screen.notify(
                    f"Split view: each pane needs {main_layout.MIN_PANE} columns; only this "
                    f"one shows until the terminal is wider{room}.",
                    markup=False,
                )
            others = [i for i in self.ids if i != self.active_id]
            if not others:
                await screen.action_new_conversation()
                others = [i for i in self.ids if i != self.active_id]
                self.partner_id, self.active_id = self.active_id, others[0]
                self.split = True
                self.show_panes()
                self.save()
                return
            if self.partner_id not in others:
                self.partner_id = others[-1]
            self.split = True
        self.show_panes()
        self.save()

    async def other_pane(self) -> None:
        """Activate the other pane of the split."""
        if self.split and self.partner_id is not None:
            await self.activate(self.partner_id)

    def relabel(self, cid: int, title: str, *, streaming: bool = False) -> None:
        """Show conversation ``cid``'s title (and whether it streams) on its tab."""
        for tab in self.screen.query(f"#tab-{cid}"):
            if isinstance(tab, Tab):
                tab.label = tab_label(title, streaming=streaming)


def tab_label(title: str, *, streaming: bool = False) -> Content:
    """A tab's label: the title as it is (never markup), made safe to show, cut to 24."""
    title = clean_line(title)
    shown = title if len(title) <= 24 else title[:23] + "…"
    return Content(("● " if streaming else "") + shown)
