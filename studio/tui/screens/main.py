"""The main screen: conversation list, tabs of open conversations, one or two chat panes.

The screen owns which conversations are open (tabs), which is active, and the split view; it
is composed of small helpers: :class:`~studio.tui.screens.main_layout.ListFit` (the list and
the split for the terminal's width), :class:`~studio.tui.screens.main_jobs.JobQueue` (the job
sidebar and job messages), :class:`~studio.tui.screens.main_actions.ConversationActions`
(rename, delete, copy, attach, model, settings), :class:`~studio.tui.screens.keeping.Keeper`
(drafts and blank conversations) and the :mod:`~studio.tui.screens.welcome` panel.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Button, Static, Tabs, TextArea

from studio.api.errors import AnyFastError, describe
from studio.textsafe import clean_line
from studio.tui.conversation_sync import ConversationSync
from studio.tui.screens.keeping import Keeper
from studio.tui.screens.main_actions import ConversationActions
from studio.tui.screens.main_jobs import JobQueue
from studio.tui.screens.main_layout import ListFit
from studio.tui.screens.main_tabs import OpenConversations
from studio.tui.screens.welcome import WelcomePanel, show_welcome
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.conversation_list import ConversationList
from studio.tui.widgets.footer import KeyBar
from studio.tui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from studio.tui.app import StudioApp
    from studio.tui.settings_apply import SettingsChanged
    from studio.tui.widgets.job_sidebar import JobSidebar


def _bind(key: str, action: str, description: str, tooltip: str, show: bool = True) -> Binding:
    return Binding(key, action, description, show=show, tooltip=tooltip, id=f"main.{action}")


class MainScreen(Screen[None]):
    """Owns which conversations are open (tabs), which is active, and the split view."""

    AUTO_FOCUS = "PromptInput"
    """Textual would focus the first focusable widget, the conversation filter, and the
    restored tab's prompt a moment later: two focus changes (restyles, key bar redraws) before
    the first frame."""

    BINDINGS = [
        _bind("ctrl+n", "new_conversation", "New", "Start a new conversation"),
        _bind("f2", "pick_model", "Model", "Choose the model for this conversation"),
        _bind(
            "f3", "conversation_settings", "Chat settings", "System prompt, temperature, max tokens"
        ),
        _bind("f4", "toggle_split", "Split", "Show two conversations side by side"),
        _bind("escape", "stop", "Stop", "Stop the streaming reply (keeps its text)"),
        _bind("ctrl+r,f5", "regenerate", "Regenerate", "Regenerate the last reply"),
        _bind("alt+e", "edit_last", "Edit", "Edit your last message and resend", show=False),
        _bind("alt+c,f8", "copy_reply", "Copy", "Copy the last reply"),
        _bind("alt+k", "copy_code", "Copy code", "Copy the last code block", show=False),
        _bind("alt+a,ctrl+o", "attach", "Attach", "Attach an image (path or URL)", show=False),
        _bind("alt+x", "clear_attachments", "Drop attachments", "Remove pending images", False),
        _bind("alt+s", "export", "Export", "Export: Markdown, JSON or HTML", show=False),
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

    def __init__(self) -> None:
        super().__init__()
        self.tabs = OpenConversations(self)
        self.fit = ListFit(self)
        self.job_queue = JobQueue(self)
        self.actions = ConversationActions(self)
        self.conversation_sync = ConversationSync(self)
        """Follows the conversations other processes change (``studio ask``, other windows)."""

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def pane(self, cid: int | None) -> ChatPane | None:
        """The pane of conversation ``cid`` if it is open."""
        if cid is None:
            return None
        found = self.query(f"#pane-{cid}")
        return found.first(ChatPane) if found else None

    @property
    def active_pane(self) -> ChatPane | None:
        return self.pane(self.tabs.active_id)

    @property
    def open_ids(self) -> list[int]:
        """The open conversations, in tab order."""
        return self.tabs.ids

    @property
    def active_id(self) -> int | None:
        return self.tabs.active_id

    @property
    def split(self) -> bool:
        return self.tabs.split

    async def open_conversation(self, cid: int, *, activate: bool = True) -> None:
        """Open conversation ``cid`` in a tab (if it is not open) and, by default, activate it."""
        await self.tabs.open(cid, activate=activate)

    async def activate(self, cid: int, *, focus: bool = True) -> None:
        """Make the open conversation ``cid`` the active one."""
        await self.tabs.activate(cid, focus=focus)

    async def close_conversation(self, cid: int, *, focus: bool = True) -> None:
        """Close the tab; a conversation that never got anything is deleted too."""
        await self.tabs.close(cid, focus=focus)

    def show_panes(self) -> None:
        """Show the panes, and the conversation list, that fit the screen."""
        self.tabs.show_panes()

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
        self.job_queue.unsubscribe()
        self.keeper.quitting()  # every draft saved, blank conversations gone

    async def on_mount(self) -> None:
        self.refresh_list()
        if self.studio.gateway.needs_key:
            show_welcome(self, True)
        await self.tabs.restore()
        # after the first frame is on screen, however long that took
        self.call_after_refresh(self.set_timer, 0.1, self._warm_gateway)
        self.job_queue.subscribe()
        self.conversation_sync.start()
        self.studio.settings_changed.subscribe(self, self._settings_changed)

    def refresh_list(self, selected: int | None = None) -> None:
        """Show the conversations (as the list's filter and archive switch ask) in the list."""
        sidebar = self.query_one(ConversationList)
        conversations = self.studio.store.list_conversations(
            archived=sidebar.show_archived, title_filter=sidebar.filter_text or None
        )
        hidden = self.keeper.hidden_from_list(conversations)
        if hidden:
            conversations = [c for c in conversations if c.id not in hidden]
        sidebar.show(conversations, selected=selected)

    def show_new_message(self, message: object) -> None:
        """A message added outside its pane (a job's): show it if its conversation is open."""
        from studio.store import Message

        if isinstance(message, Message):
            pane = self.pane(message.conversation_id)
            if pane is not None:
                self.run_worker(pane.append_message(message), group="append")
            self.refresh_list()

    # -- gateway --------------------------------------------------------------------------------

    def _warm_gateway(self) -> None:
        """Start the client (and the demo emulator) after the first frame, not on first send;
        then the job engine, which resumes unfinished jobs from earlier sessions."""
        if not self.studio.gateway.needs_key:
            self.run_worker(self._warm(), group="warm", exit_on_error=False)

    async def _warm(self) -> None:
        await self.studio.gateway.client()
        try:
            await self.studio.jobs.ensure_started()
        except AnyFastError as exc:
            self.notify(
                f"The job engine could not start: {describe(exc)}", severity="error", markup=False
            )

    def _settings_changed(self, change: SettingsChanged) -> None:
        """Saved settings: where requests go now (the welcome panel gone once there is a
        key), and the new default model in conversations without a model of their own."""
        gateway = self.studio.gateway
        self.query_one("#where", Static).update(clean_line(gateway.label))
        if change.changed("api_key") and not gateway.needs_key:
            show_welcome(self, False)
            self._warm_gateway()
            if self.active_pane is not None:
                self.active_pane.focus_prompt()
        if change.changed("default_model"):
            for pane in self.query(ChatPane):
                conversation = self.studio.store.get_conversation(pane.conversation_id)
                if conversation is None or not conversation.model:
                    pane.set_model(change.after.default_model)

    @on(Button.Pressed, "#demo-button")
    async def action_start_demo(self) -> None:
        if self.studio.gateway.demo:
            return
        await self.studio.gateway.use_demo()
        self._after_gateway_change("Demo mode: replies come from the built-in emulator")

    @on(WelcomePanel.KeySaved)
    def _key_saved(self, event: WelcomePanel.KeySaved) -> None:
        self._after_gateway_change(event.text, event.severity)

    def _after_gateway_change(self, message: str, severity: SeverityLevel = "information") -> None:
        show_welcome(self, False)
        self.query_one("#demo-badge").set_class(not self.studio.gateway.demo, "hidden")
        self.query_one("#where", Static).update(clean_line(self.studio.gateway.label))
        self.notify(message, severity=severity, timeout=10, markup=False)
        if self.active_pane is not None:
            self.active_pane.focus_prompt()

    @on(Tabs.TabActivated, "#tabs")
    async def _tab_activated(self, event: Tabs.TabActivated) -> None:
        await self.tabs.tab_activated(event)

    # -- messages from children -------------------------------------------------------------------

    @on(ChatPane.TitleChanged)
    def _title_changed(self, event: ChatPane.TitleChanged) -> None:
        self.relabel(event.conversation_id, event.title)
        self.refresh_list()

    @on(ChatPane.StreamingChanged)
    def _streaming_changed(self, event: ChatPane.StreamingChanged) -> None:
        conversation = self.studio.store.get_conversation(event.conversation_id)
        if conversation is not None:
            self.relabel(conversation.id, conversation.title, streaming=event.streaming)
        if event.streaming:
            self.keeper.save(event.conversation_id)  # sent: the draft is gone
        else:
            self.refresh_list()
            pane = self.pane(event.conversation_id)
            if pane is not None:
                self.job_queue.reply_ended(pane)

    @on(TextArea.Changed)
    def _prompt_changed(self, event: TextArea.Changed) -> None:
        if isinstance(event.text_area, PromptInput):
            self.keeper.prompt_changed(event.text_area)

    def relabel(self, cid: int, title: str, *, streaming: bool = False) -> None:
        """Show conversation ``cid``'s title (and whether it streams) on its tab."""
        self.tabs.relabel(cid, title, streaming=streaming)

    @on(ConversationList.Chosen)
    async def _list_action(self, event: ConversationList.Chosen) -> None:
        event.stop()
        await self.actions.chosen(event)

    @on(ChatPane.MediaCommand)
    def _media_command(self, event: ChatPane.MediaCommand) -> None:
        """Submit in a worker, as the F10/F12 forms do: a slow create never holds up this
        screen's messages (the list, its filter, tabs) while it is in flight."""
        self.run_worker(
            self._submit_media_command(event.kind, event.prompt, event.conversation_id),
            group="media-command",
        )

    async def _submit_media_command(self, kind: str, prompt: str, cid: int) -> None:
        await self.studio.job_actions.media_command(kind, prompt, cid)
        self.refresh_list()

    def on_job_sidebar_selected(self, event: JobSidebar.Selected) -> None:
        from studio.tui.screens.job_detail import open_details

        open_details(self.studio, event.job_id)

    def on_resize(self) -> None:
        self.show_panes()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.fit.focus_moved()

    # -- actions -----------------------------------------------------------------------------------

    async def action_new_conversation(self) -> None:
        conversation = self.studio.store.create_conversation()
        await self.open_conversation(conversation.id)
        self.refresh_list(selected=conversation.id)

    async def action_close_tab(self) -> None:
        if self.active_id is not None:
            await self.close_conversation(self.active_id)

    async def action_next_tab(self) -> None:
        await self.tabs.step(1)

    async def action_previous_tab(self) -> None:
        await self.tabs.step(-1)

    async def action_toggle_split(self) -> None:
        await self.tabs.toggle_split()

    async def action_other_pane(self) -> None:
        await self.tabs.other_pane()

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

    async def action_copy_reply(self) -> None:
        await self.actions.copy("reply")

    async def action_copy_code(self) -> None:
        await self.actions.copy("code")

    def action_attach(self) -> None:
        self.run_worker(self.actions.attach())

    async def action_clear_attachments(self) -> None:
        if self.active_pane is not None:
            await self.active_pane.clear_attachments()
            self.keeper.save(self.active_pane.conversation_id)

    def action_export(self) -> None:
        if self.active_id is not None:
            self.post_message(ConversationList.Chosen("export", self.active_id))

    def action_select_message(self) -> None:
        if self.active_pane is not None:
            self.active_pane.select_last_message()

    def action_pick_model(self) -> None:
        self.run_worker(self.actions.pick_model())

    def action_conversation_settings(self) -> None:
        self.run_worker(self.actions.settings())

    async def toggle_jobs(self) -> None:
        """ctrl+g: open or close the job sidebar."""
        await self.job_queue.toggle()

    def action_focus_list(self) -> None:
        self.fit.focus_list()

    def action_toggle_sidebar(self) -> None:
        self.fit.toggle_list()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start_demo":
            welcome = self.query_one_optional("#welcome")  # mounted when first needed
            return welcome is not None and not welcome.has_class("hidden")
        if action == "stop":
            pane = self.active_pane
            return bool(pane and pane.streaming) or None
        return True
