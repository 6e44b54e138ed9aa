"""One conversation: its message log, the prompt, pending attachments and the status line."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.widgets import Button, Static

from studio.chat import ChatSession, Reply
from studio.chat.history import job_command
from studio.store import Message, NewAttachment
from studio.textsafe import clean_line
from studio.tui.widgets.chat_flows import MessageFlows
from studio.tui.widgets.chat_jobs import JOB_TICK, JobMessages
from studio.tui.widgets.chat_pages import HistoryPages
from studio.tui.widgets.chat_reply import ReplyRunner
from studio.tui.widgets.message_view import MessageView, chip_label
from studio.tui.widgets.prompt import PromptInput
from studio.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

EMPTY_HINT = """\
[b]A new conversation[/b] with [b]$model[/b].

Type below and press [b]Enter[/b] (ctrl+j for a newline). [b]f2[/b] picks another model, \
[b]f3[/b] sets a system prompt, temperature and max tokens, [b]alt+a[/b] attaches an image, \
[b]ctrl+n[/b] starts another conversation and [b]f1[/b] lists every key."""


class ChatPane(Vertical):
    """A conversation pane. Several can be open (tabs) and two shown at once (split view).

    What it does to messages already shown (regenerate, edit mode, delete with undo, copy) is
    in :attr:`flows`, a :class:`MessageFlows`; the pane owns the keys and hands those on.
    """

    BINDINGS = [
        Binding(
            "escape",
            "cancel_edit",
            "Cancel edit",
            tooltip="Leave edit mode; nothing is deleted and the prompt gets back what it held",
            id="chat.cancel_edit",
        ),
        Binding(
            "u",
            "undo_delete",
            "Undo delete",
            tooltip="Bring back the message just deleted (for a few seconds)",
            id="chat.undo_delete",
        ),
    ]

    @dataclass
    class TitleChanged(TextualMessage):
        conversation_id: int
        title: str

    @dataclass
    class StreamingChanged(TextualMessage):
        conversation_id: int
        streaming: bool

    @dataclass
    class MediaCommand(TextualMessage):
        """``/image PROMPT`` or ``/video PROMPT`` was sent in this conversation."""

        conversation_id: int
        kind: str
        prompt: str

    def __init__(self, conversation_id: int) -> None:
        super().__init__(id=f"pane-{conversation_id}", classes="chat-pane")
        self.conversation_id = conversation_id
        self.flows = MessageFlows(self)
        self.pages = HistoryPages(self)
        self.replies = ReplyRunner(self)
        self.job_messages = JobMessages(self)
        self.pending: list[NewAttachment] = []

    # -- what the message flows use, and the keys and calls the pane hands on to them --------------

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    @cached_property
    def session(self) -> ChatSession:
        """This conversation's chat: the history sent, the reply streamed and saved."""
        studio = self.studio
        return ChatSession(
            studio.store,
            self.conversation_id,
            lambda: studio.gateway.client(),
            default_model=lambda: studio.settings.default_model,
        )

    @property
    def streaming_view(self) -> MessageView | None:
        """The reply streaming now, if any."""
        return self.replies.view

    @property
    def streaming(self) -> bool:
        return self.streaming_view is not None

    def views(self) -> list[MessageView]:
        return list(self.query(MessageView))

    def focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    @property
    def editing(self) -> Message | None:
        """The message being edited (edit mode), or ``None``."""
        return self.flows.editing

    @property
    def edit_draft(self) -> str | None:
        """In edit mode, the unsent draft (what the prompt held before); else ``None``."""
        return self.flows.edit_draft

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_edit":
            return self.flows.editing is not None
        if action == "undo_delete":
            return self.flows.can_undo
        return True

    def action_cancel_edit(self) -> None:
        self.flows.cancel_edit()

    async def action_undo_delete(self) -> None:
        await self.flows.undo_delete()

    async def regenerate(self, view: MessageView | None = None) -> None:
        """Replace the last reply with a new one (a streaming one is stopped and replaced)."""
        await self.flows.regenerate(view)

    def edit_last(self, view: MessageView | None = None) -> None:
        """Edit mode on the last user message: Enter replaces it, esc leaves."""
        self.flows.edit_last(view)

    def leave_edit(self, *, restore: bool = True) -> Message | None:
        """Leave edit mode (``restore``: the prompt gets back what it held)."""
        return self.flows.leave_edit(restore=restore)

    def copy_target(self, what: str) -> str | None:
        """The text to copy: ``reply`` (last reply) or ``code`` (last code block)."""
        return self.flows.copy_target(what)

    def nothing_to_copy(self, what: str) -> str:
        """Why :meth:`copy_target` found nothing, in words."""
        return self.flows.nothing_to_copy(what)

    @on(MessageView.Action)
    async def _message_action(self, event: MessageView.Action) -> None:
        event.stop()
        await self.flows.message_action(event)

    def compose(self) -> ComposeResult:
        conversation = self.studio.store.get_conversation(self.conversation_id)
        model = (conversation.model if conversation else None) or self.studio.settings.default_model
        with VerticalScroll(classes="log"):
            # "Load earlier messages" is mounted above the first page when there are more.
            # The model id came from the gateway: a variable, shown as it is, never markup.
            hint = Content.from_markup(EMPTY_HINT, model=clean_line(model))
            yield Static(hint, classes="empty-hint")
        yield Horizontal(classes="pending-attachments")
        yield PromptInput(history=self.studio.store.prompt_history())
        yield StatusLine(model)

    async def on_mount(self) -> None:
        log = self.query_one(".log", VerticalScroll)
        log.anchor()
        await self.pages.load()
        self.watch(log, "scroll_y", self._scrolled, init=False)
        self.studio.jobs.changed.subscribe(self, lambda _change: self.refresh_jobs())
        self.set_interval(JOB_TICK, self.refresh_jobs)

    async def _scrolled(self, scroll_y: float) -> None:
        """Reaching the top of the log loads the previous page of history."""
        earlier = self.query_one_optional(".earlier", Button)
        if scroll_y <= 0 and earlier is not None and earlier.display and not self.pages.loading:
            await self.pages.load()

    @on(Button.Pressed, ".earlier")
    async def _earlier(self, event: Button.Pressed) -> None:
        event.stop()
        await self.pages.load()

    # -- sending -------------------------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        await self.send(event.text)

    async def send(self, text: str) -> None:
        """Add the user's message and stream a reply to it. ``text`` is the prompt as it was
        when Enter was pressed (the prompt cleared itself then); what is refused goes back.

        In edit mode the text replaces the message being edited and everything after it (a
        reply still streaming is stopped first), except a ``/command``: that leaves edit mode
        with nothing deleted and is sent as it would be outside it.

        ``/image`` and ``/video`` start a job at once, even while a reply streams: the job has
        nothing to do with the chat model (refused and given back, two commands typed in a row
        used to join into one prompt)."""
        if self.editing is not None and text.lstrip().startswith("/"):
            self.flows.leave_edit(restore=False)
            self.notify(
                "Left edit mode — your earlier message is kept (a /command never replaces it).",
                markup=False,
            )
        if job_command(text) is not None:
            await self._job_command(text)
            return
        if self.streaming and self.editing is None:
            self._give_back(text)
            self.notify(
                "A reply is still streaming — press esc to stop it first.",
                severity="warning",
                markup=False,
            )
            return
        if self.streaming:
            await self.stop_reply()  # the edit replaces the streaming reply too
        self.retry_saves()
        prompt = self.query_one(PromptInput)
        draft = self.flows.edit_draft or ""
        edited = self.flows.leave_edit(restore=False)
        sent = self.session.send(text, list(self.pending), replacing=edited)
        if edited is not None:
            await self.flows.remove_views_from(edited.position)
        prompt.remember(text)
        if edited is not None and draft:
            prompt.text = draft  # what the prompt held before edit mode
            prompt.move_cursor(prompt.document.end)
        self.pending.clear()
        await self._show_pending()
        await self.append_view(MessageView(sent.message))
        if sent.title is not None:
            self.post_message(self.TitleChanged(self.conversation_id, sent.title))
        await self.start_reply()

    async def _job_command(self, text: str) -> None:
        """``/image PROMPT`` or ``/video PROMPT``: the command is kept in the conversation
        (linked to the job it makes) and the job starts; nothing goes to the chat model."""
        kind, rest = job_command(text) or ("", "")
        if not rest:
            self._give_back(text)
            self.notify(f"Usage: /{kind} PROMPT", severity="warning", markup=False)
            return
        self.retry_saves()
        sent = self.session.add_command(text)
        self.studio.jobs.reporter.expect_command(sent.message, kind, rest)
        self.post_message(self.MediaCommand(self.conversation_id, kind, rest))
        self.query_one(PromptInput).remember(text)
        if sent.title is not None:
            self.post_message(self.TitleChanged(self.conversation_id, sent.title))
        await self.append_view(MessageView(sent.message))

    async def start_reply(self, reply: Reply | None = None) -> None:
        """Stream ``reply`` (by default a new one to the conversation as it stands)."""
        reply = reply or self.session.start_reply()
        if reply is None:
            return
        await self.replies.start(reply)

    def retry_saves(self) -> None:
        """Save the finished replies the store refused; quietly keep those it still refuses."""
        self.replies.retry_saves()

    def on_unmount(self) -> None:
        self.studio.jobs.changed.unsubscribe(self)
        if self.session.unsaved:
            self.retry_saves()  # a last try as the tab closes or Studio quits

    async def append_message(self, message: Message) -> None:
        """Show a message added or changed elsewhere (a job's message, its outcome)."""
        await self.job_messages.show(message)

    def track_jobs(self, views: list[MessageView]) -> None:
        """Follow the live state of the jobs among ``views``."""
        self.job_messages.track(views)

    def refresh_jobs(self) -> None:
        """Update the live line of each running job's message (the controller's redraw and a
        1 s tick)."""
        self.job_messages.refresh()

    def stop(self) -> bool:
        """Stop the streaming reply, keeping its text; False when nothing streams."""
        return self.replies.stop()

    async def stop_reply(self) -> None:
        """Stop the streaming reply and wait until it is saved as stopped (this pane's reply
        only: the other pane of a split view streams on)."""
        await self.replies.stop_and_wait()

    @on(MessageView.Move)
    def _move(self, event: MessageView.Move) -> None:
        event.stop()
        views = self.views()
        if event.step == 0 or event.view not in views:
            self.focus_prompt()
            return
        index = views.index(event.view) + event.step
        if index >= len(views):
            self.focus_prompt()
        elif index >= 0:
            views[index].focus()
            views[index].scroll_visible()

    def select_last_message(self) -> None:
        views = self.views()
        if views:
            views[-1].focus()
            views[-1].scroll_visible()

    def set_model(self, model: str) -> None:
        """The conversation's model changed: the status line (without the figures of the last
        reply, another model's) and the hint of an empty conversation show it."""
        self.query_one(StatusLine).set_model(model)
        for hint in self.query(".empty-hint").results(Static):
            hint.update(Content.from_markup(EMPTY_HINT, model=clean_line(model)))

    @on(PromptInput.ScrollRequested)
    def _scroll_log(self, event: PromptInput.ScrollRequested) -> None:
        """PageUp/PageDown and shift+up/down in the prompt scroll this conversation (scrolled
        up, a streaming reply no longer drags the view; back at the bottom it follows again)."""
        event.stop()
        log = self.query_one(".log", VerticalScroll)
        if event.how == "page_up":
            log.scroll_page_up(animate=False)
        elif event.how == "page_down":
            log.scroll_page_down(animate=False)
        else:
            log.scroll_relative(y=-3 if event.how == "up" else 3, animate=False)

    def _give_back(self, text: str) -> None:
        """Put a prompt that was not sent back in the prompt (before anything typed since)."""
        prompt = self.query_one(PromptInput)
        prompt.text = f"{text}\n{prompt.text}" if prompt.text.strip() else text
        prompt.move_cursor(prompt.document.end)

    # -- attachments ---------------------------------------------------------------------------

    async def attach(self, attachment: NewAttachment) -> None:
        self.pending.append(attachment)
        await self._show_pending()

    async def clear_attachments(self) -> None:
        self.pending.clear()
        await self._show_pending()

    async def _show_pending(self) -> None:
        bar = self.query_one(".pending-attachments", Horizontal)
        await bar.remove_children()
        chips = [
            Static(
                chip_label(a.name, a.width, a.height, len(a.data or b"")),
                classes="chip",
                markup=False,
            )
            for a in self.pending
        ]
        if chips:
            chips.append(Static("alt+x removes", classes="hint"))
            await bar.mount_all(chips)
        bar.display = bool(chips)

    # -- view plumbing -------------------------------------------------------------------------

    def hide_empty_hint(self) -> None:
        for hint in self.query(".empty-hint"):
            hint.display = False

    async def append_view(self, view: MessageView) -> None:
        self.hide_empty_hint()
        log = self.query_one(".log", VerticalScroll)
        await log.mount(view)
        log.anchor()
        self.track_jobs([view])
