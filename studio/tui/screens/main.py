"""The main screen: conversation list, tabs of open conversations, one or two chat panes."""

from __future__ import annotations

from functools import cached_property

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static, Tab, Tabs, TextArea

from studio.api.errors import MediaInputError
from studio.textsafe import clean_line
from studio.tui.screens import main_layout
from studio.tui.screens.keeping import Keeper
from studio.tui.screens.main_layout import MainScreenLayout
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.conversation_list import ConversationList
from studio.tui.widgets.footer import KeyBar
from studio.tui.widgets.prompt import PromptInput


def _bind(key: str, action: str, description: str, tooltip: str, show: bool = True) -> Binding:
    return Binding(key, action, description, show=show, tooltip=tooltip, id=f"main.{action}")


class MainScreen(MainScreenLayout):
    """Owns which conversations are open (tabs), which is active, and the split view."""

    AUTO_FOCUS = "PromptInput"
    """Textual would focus the first focusable widget, the conversation filter, and the
    restored tab's prompt a moment later: two focus changes (restyles, key bar redraws) before
    the first frame."""

    BINDINGS = [
        _bind("ctrl+n", "new_conversation", "New", "Start a new conversation"),
        _bind("f2", "pick_model", "Model", "Choose the model for this conversation"),
        _bind("f3", "conversation_settings", "Settings", "System prompt, temperature, max tokens"),
        _bind("f4", "toggle_split", "Split", "Show two conversations side by side"),
        _bind("escape", "stop", "Stop", "Stop the streaming reply (keeps its text)"),
        _bind("ctrl+r,f5", "regenerate", "Regenerate", "Regenerate the last reply"),
        _bind("alt+e", "edit_last", "Edit", "Edit your last message and resend", show=False),
        _bind("alt+c,f8", "copy_reply", "Copy", "Copy the last reply"),
        _bind("alt+k", "copy_code", "Copy code", "Copy the last code block", show=False),
        _bind("alt+a,ctrl+o", "attach", "Attach", "Attach an image (path or URL)", show=False),
        _bind("alt+x", "clear_attachments", "Drop attachments", "Remove pending images", False),
        _bind("alt+up,ctrl+up", "select_message", "Messages", "Select messages (c/e/d/r)", False),
        _bind("alt+w", "close_tab", "Close tab", "Close this tab", show=False),
        _bind("alt+right,ctrl+pagedown", "next_tab", "Next tab", "Next tab", show=False),
        _bind("alt+left,ctrl+pageup", "previous_tab", "Previous tab", "Previous tab", False),
        _bind("alt+o", "other_pane", "Other pane", "Focus the other pane of the split", False),
        _bind("ctrl+l", "focus_list", "List", "Focus the conversation list", show=False),
        _bind("f9", "toggle_sidebar", "Sidebar", "Show or hide the conversation list", False),
        Binding(
            "ctrl+d",
            "start_demo",
            "Demo",
            show=False,
            priority=True,  # the welcome panel's key field would take ctrl+d otherwise
            tooltip="Use the built-in demo emulator (on the welcome panel)",
            id="main.start_demo",
        ),
    ]

    def compose(self) -> ComposeResult:
        gateway = self.studio.gateway
        with Horizontal(id="topbar"):
            yield Static("AnyFast Studio", id="brand")
            yield Static(" DEMO ", id="demo-badge", classes="" if gateway.demo else "hidden")
            yield Static(clean_line(gateway.label), id="where", markup=False)
        with Horizontal(id="body"):
            yield ConversationList(id="sidebar")
            with Vertical(id="main"):
                yield Tabs(id="tabs")
                yield Horizontal(id="panes")
            # The welcome panel (no key) and the job sidebar (ctrl+g) are mounted when first
            # shown: fewer widgets and less CSS before the first frame.
        yield KeyBar()

    @cached_property
    def keeper(self) -> Keeper:
        """Drafts, blank conversations and the archive undo."""
        return Keeper(self)

    def on_unmount(self) -> None:
        self.keeper.quitting()  # every draft saved, blank conversations gone

    async def on_mount(self) -> None:
        self.refresh_list()
        if self.studio.gateway.needs_key:
            self._show_welcome(True)
        await self._restore()
        # after the first frame is on screen, however long that took
        self.call_after_refresh(self.set_timer, 0.1, self._warm_gateway)
        self.studio.jobs.listeners.append(self._jobs_changed)

    # -- tabs and panes --------------------------------------------------------------------------

    async def _restore(self) -> None:
        """Reopen the tabs, the active one and the split of the last session."""
        store = self.studio.store
        choice = store.get_state("sidebar")
        self.sidebar_choice = choice if isinstance(choice, bool) else None
        saved = store.get_state("open_tabs", [])
        active = store.get_state("active_tab")
        split = store.get_state("split", False)
        ids = [i for i in saved if isinstance(i, int) and store.get_conversation(i)]
        if not ids:
            recent = store.list_conversations(limit=1)
            ids = [recent[0].id] if recent else [store.create_conversation().id]
            self.refresh_list()
        self._restoring = True  # adding tabs activates them; don't save that as the user's choice
        try:
            for cid in ids:
                await self.open_conversation(cid, activate=False)
        finally:
            self._restoring = False
        await self.activate(active if active in ids else ids[0])
        if split and len(ids) > 1:
            self._restoring = True  # the split comes back as it was, without a word
            try:
                await self.action_toggle_split()
            finally:
                self._restoring = False

    def _save_tabs(self) -> None:
        if self._restoring:
            return
        store = self.studio.store
        store.set_state("open_tabs", self.open_ids)
        store.set_state("active_tab", self.active_id)
        store.set_state("split", self.split)

    async def open_conversation(self, cid: int, *, activate: bool = True) -> None:
        if cid not in self.open_ids:
            conversation = self.studio.store.get_conversation(cid)
            if conversation is None:
                return
            self.open_ids.append(cid)
            tab = Tab(_tab_label(conversation.title), id=f"tab-{cid}")
            await self.query_one(Tabs).add_tab(tab)
            pane = ChatPane(cid)
            await self.query_one("#panes").mount(pane)
            await self.keeper.restore(pane)
        if activate:
            await self.activate(cid)

    async def activate(self, cid: int, *, focus: bool = True) -> None:
        if cid not in self.open_ids:
            return
        previous = self.active_id
        if self.split and cid != self.active_id:
            self.partner_id = self.active_id  # the previous pane stays visible beside the new one
        self.active_id = cid
        self.query_one(Tabs).active = f"tab-{cid}"
        self._layout()
        pane = self.active_pane
        if focus and pane is not None and not self.studio.gateway.needs_key:
            pane.focus_prompt()
        self.refresh_list(selected=cid)
        self._save_tabs()
        left = self.pane(previous) if previous != cid else None
        if left is not None and previous is not None and not left.display:
            await self.keeper.left(previous)

    def _layout(self) -> None:
        fit = self.fit_layout()
        visible = {self.active_id}
        if fit.two_panes and self.partner_id in self.open_ids:
            visible.add(self.partner_id)
        for pane in self.query(ChatPane):
            pane.display = pane.conversation_id in visible
            pane.set_class(pane.conversation_id == self.active_id and len(visible) > 1, "-active")

    @on(Tabs.TabActivated, "#tabs")
    async def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is None or event.tab.id is None:
            return
        if self.query_one(Tabs).active != event.tab.id:
            return  # a stale event from tabs added or switched programmatically
        cid = int(event.tab.id.removeprefix("tab-"))
        if cid != self.active_id and not self._restoring:
            await self.activate(cid)

    async def close_conversation(self, cid: int, *, focus: bool = True) -> None:
        """Close the tab; a conversation that never got anything is deleted too."""
        if cid not in self.open_ids:
            return
        blank = self.keeper.closing(cid)
        pane = self.pane(cid)
        if pane is not None:
            pane.stop()
            await pane.remove()
        index = self.open_ids.index(cid)
        self.open_ids.remove(cid)
        await self.query_one(Tabs).remove_tab(f"tab-{cid}")
        if self.partner_id == cid:
            self.partner_id = None
            self.split = False
        if blank:
            self.studio.store.delete_conversation(cid)
        if not self.open_ids:
            fresh = self.studio.store.create_conversation().id
            await self.open_conversation(fresh, activate=False)
            await self.activate(fresh, focus=focus)
            self.refresh_list()
        elif self.active_id == cid:
            await self.activate(self.open_ids[max(0, index - 1)], focus=focus)
        elif blank:
            self.refresh_list()
        self._save_tabs()

    # -- messages from children -------------------------------------------------------------------

    @on(ChatPane.TitleChanged)
    def _title_changed(self, event: ChatPane.TitleChanged) -> None:
        self._relabel(event.conversation_id, event.title)
        self.refresh_list()

    @on(ChatPane.StreamingChanged)
    def _streaming_changed(self, event: ChatPane.StreamingChanged) -> None:
        conversation = self.studio.store.get_conversation(event.conversation_id)
        if conversation is not None:
            self._relabel(conversation.id, conversation.title, streaming=event.streaming)
        if event.streaming:
            self.keeper.save(event.conversation_id)  # sent: the draft is gone
        else:
            self.refresh_list()

    @on(TextArea.Changed)
    def _prompt_changed(self, event: TextArea.Changed) -> None:
        if isinstance(event.text_area, PromptInput):
            self.keeper.prompt_changed(event.text_area)

    def _relabel(self, cid: int, title: str, *, streaming: bool = False) -> None:
        for tab in self.query(f"#tab-{cid}"):
            if isinstance(tab, Tab):
                tab.label = _tab_label(title, streaming=streaming)

    @on(ConversationList.Chosen)
    async def _list_action(self, event: ConversationList.Chosen) -> None:
        event.stop()
        store = self.studio.store
        cid = event.conversation_id
        if event.action == "refresh":
            self.refresh_list()
        elif event.action == "new":
            await self.action_new_conversation()
        elif event.action == "leave":
            if self.active_pane is not None:
                self.active_pane.focus_prompt()
        elif event.action == "undo":
            await self.keeper.undo()
        elif cid is None:
            return
        elif event.action == "open":
            await self.open_conversation(cid)
        elif event.action == "rename":
            conversation = store.get_conversation(cid)
            if conversation is not None:
                self._rename(cid, conversation.title)
        elif event.action == "archive":
            await self.keeper.archive(cid)
        elif event.action == "delete":
            self._delete(cid)

    @work
    async def _rename(self, cid: int, title: str) -> None:
        from studio.tui.screens.dialogs import TextPrompt

        new = await self.app.push_screen_wait(TextPrompt("Rename conversation", title))
        if new:
            self.studio.store.rename_conversation(cid, new)
            self._relabel(cid, new)
            self.refresh_list()

    @work
    async def _delete(self, cid: int) -> None:
        conversation = self.studio.store.get_conversation(cid)
        if conversation is None:
            return
        title = clean_line(conversation.title)
        question = f"Delete “{title}” and its {conversation.message_count} messages?"
        from studio.tui.screens.dialogs import Confirm

        listing = self.query_one(ConversationList)
        in_list = listing.has_focus_within
        if await self.app.push_screen_wait(Confirm(question)):
            neighbour = listing.neighbour(cid)
            await self.close_conversation(cid, focus=not in_list)
            self.studio.store.delete_conversation(cid)
            self.refresh_list(selected=neighbour)
            if in_list:
                listing.focus_rows()  # the next key acts on the neighbour
            self.notify(f"Deleted “{title}”", markup=False)

    # -- actions -----------------------------------------------------------------------------------

    async def action_new_conversation(self) -> None:
        conversation = self.studio.store.create_conversation()
        await self.open_conversation(conversation.id)
        self.refresh_list(selected=conversation.id)

    async def action_close_tab(self) -> None:
        if self.active_id is not None:
            await self.close_conversation(self.active_id)

    async def _step_tab(self, step: int) -> None:
        if self.active_id is None or not self.open_ids:
            return
        index = (self.open_ids.index(self.active_id) + step) % len(self.open_ids)
        await self.activate(self.open_ids[index])

    async def action_next_tab(self) -> None:
        await self._step_tab(1)

    async def action_previous_tab(self) -> None:
        await self._step_tab(-1)

    async def action_toggle_split(self) -> None:
        if self.split:
            self.split = False
        else:
            fit = self.fit_layout(split=True)
            if not self._restoring and not fit.two_panes:
                room = " or hide the conversation list (f9)" if fit.sidebar else ""
                self.notify(
                    f"Split view: each pane needs {main_layout.MIN_PANE} columns; only this "
                    f"one shows until the terminal is wider{room}.",
                    markup=False,
                )
            others = [i for i in self.open_ids if i != self.active_id]
            if not others:
                await self.action_new_conversation()
                others = [i for i in self.open_ids if i != self.active_id]
                self.partner_id, self.active_id = self.active_id, others[0]
                self.split = True
                self._layout()
                self._save_tabs()
                return
            if self.partner_id not in others:
                self.partner_id = others[-1]
            self.split = True
        self._layout()
        self._save_tabs()

    async def action_other_pane(self) -> None:
        if self.split and self.partner_id is not None:
            await self.activate(self.partner_id)

    def action_stop(self) -> None:
        pane = self.active_pane
        if pane is not None and pane.stop():
            self.notify("Stopped — the partial reply is kept.", markup=False)

    async def action_regenerate(self) -> None:
        if self.active_pane is not None:
            await self.active_pane.regenerate()

    def action_edit_last(self) -> None:
        if self.active_pane is not None:
            self.active_pane.edit_last()

    async def _copy(self, what: str) -> None:
        pane = self.active_pane
        text = pane.copy_target(what) if pane else None
        if not text:
            why = pane.nothing_to_copy(what) if pane else "Nothing to copy yet."
            self.notify(why, markup=False)
            return
        await self.studio.copy_text(text, "reply" if what == "reply" else "code block")

    async def action_copy_reply(self) -> None:
        await self._copy("reply")

    async def action_copy_code(self) -> None:
        await self._copy("code")

    @work
    async def action_attach(self) -> None:
        pane = self.active_pane
        if pane is None:
            return
        from studio.tui.screens.dialogs import AttachPrompt

        source = await self.app.push_screen_wait(AttachPrompt())
        if not source:
            return
        try:
            attachment = self.studio.load_attachment(source)
        except MediaInputError as exc:
            self.notify(str(exc), severity="error", timeout=8, markup=False)
            return
        await pane.attach(attachment)
        self.keeper.save(pane.conversation_id)
        pane.focus_prompt()

    async def action_clear_attachments(self) -> None:
        if self.active_pane is not None:
            await self.active_pane.clear_attachments()
            self.keeper.save(self.active_pane.conversation_id)

    def action_select_message(self) -> None:
        if self.active_pane is not None:
            self.active_pane.select_last_message()

    @work
    async def action_pick_model(self) -> None:
        pane = self.active_pane
        if pane is None:
            return
        store = self.studio.store
        conversation = store.get_conversation(pane.conversation_id)
        current = (
            conversation.model if conversation else None
        ) or self.studio.settings.default_model
        from studio.tui.screens.model_picker import ModelPicker

        model = await self.app.push_screen_wait(ModelPicker(current))
        if model and model != current:
            store.update_conversation(pane.conversation_id, model=model)
            pane.set_model(model)
            self.notify(f"Model for this conversation: {model}", markup=False)

    @work
    async def action_conversation_settings(self) -> None:
        pane = self.active_pane
        if pane is None:
            return
        store = self.studio.store
        conversation = store.get_conversation(pane.conversation_id)
        if conversation is None:
            return
        from studio.tui.screens.dialogs import ConversationOptions, SettingsForm

        current = ConversationOptions(
            conversation.system_prompt, conversation.temperature, conversation.max_tokens
        )
        result = await self.app.push_screen_wait(SettingsForm(conversation.title, current))
        if result is not None:
            store.update_conversation(
                pane.conversation_id,
                system_prompt=result.system_prompt,
                temperature=result.temperature,
                max_tokens=result.max_tokens,
            )
            self.notify("Conversation settings saved.", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start_demo":
            welcome = self.query_one_optional("#welcome")  # mounted when first needed
            return welcome is not None and not welcome.has_class("hidden")
        if action == "stop":
            pane = self.active_pane
            return bool(pane and pane.streaming) or None
        return True


def _tab_label(title: str, *, streaming: bool = False) -> Content:
    """A tab's label: the title as it is (never markup), made safe to show, cut to 24."""
    title = clean_line(title)
    shown = title if len(title) <= 24 else title[:23] + "…"
    return Content(("● " if streaming else "") + shown)
