"""One conversation: its message log, the prompt, pending attachments and the status line."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.widgets import Button, Static

from studio.api.errors import AnyFastError, IncompleteStreamError, StreamError, describe
from studio.api.types import Usage, finish_note
from studio.store import Message, MessageStatus, NewAttachment, Role, StoreUnavailable
from studio.textsafe import clean_line
from studio.tui.conversation import api_messages, title_from_prompt
from studio.tui.heap import HeapFreeze
from studio.tui.widgets.message_view import MessageView, chip_label
from studio.tui.widgets.prompt import PromptInput
from studio.tui.widgets.status_line import StatusLine
from studio.tui.widgets.streaming import StreamingMarkdown

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

EMPTY_HINT = """\
[b]A new conversation[/b] with [b]$model[/b].

Type below and press [b]Enter[/b] (ctrl+j for a newline). [b]f2[/b] picks another model, \
[b]f3[/b] sets a system prompt, temperature and max tokens, [b]alt+a[/b] attaches an image, \
[b]ctrl+n[/b] starts another conversation and [b]f1[/b] lists every key."""

PAGE = 30
"""Messages mounted when a conversation opens; older ones load on demand."""
SAVE_EVERY = 1.0
"""Seconds between flushes of a streaming reply to the store (kill -9 loses at most this)."""


class ChatPane(Vertical):
    """A conversation pane. Several can be open (tabs) and two shown at once (split view)."""

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
        self.pending: list[NewAttachment] = []
        self._editing: Message | None = None
        self._oldest_position: int | None = None
        self._streaming_view: MessageView | None = None
        self._loading = False

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    @property
    def streaming(self) -> bool:
        return self._streaming_view is not None

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
        await self._load_page()
        self.watch(log, "scroll_y", self._scrolled, init=False)

    async def _scrolled(self, scroll_y: float) -> None:
        """Reaching the top of the log loads the previous page of history."""
        earlier = self.query_one_optional(".earlier", Button)
        if scroll_y <= 0 and earlier is not None and earlier.display and not self._loading:
            await self._load_page()

    # -- history ---------------------------------------------------------------------------------

    async def _load_page(self) -> None:
        self._loading = True
        try:
            await self._mount_page()
        except StoreUnavailable as exc:  # a damaged page: say so here; the rest keeps working
            await self._show_unreadable(exc)
        finally:
            self._loading = False

    async def _show_unreadable(self, error: StoreUnavailable) -> None:
        log = self.query_one(".log", VerticalScroll)
        if log.query(".store-error"):
            return
        self._hide_empty_hint()
        text = (
            f"This conversation cannot be read; other conversations may still open. {error} "
            "Quit Studio before moving the file."
        )
        await log.mount(Static(text, markup=False, classes="store-error"), before=0)
        self.studio.notify(str(error), severity="error", timeout=30, markup=False)

    async def _mount_page(self) -> None:
        store = self.studio.store
        messages = store.messages(
            self.conversation_id, limit=PAGE, before_position=self._oldest_position
        )
        if messages:
            self._oldest_position = messages[0].position
        log = self.query_one(".log", VerticalScroll)
        views = [MessageView(m) for m in messages]
        if views:
            self._hide_empty_hint()
            first = next(iter(log.query(MessageView)), None)
            await log.mount_all(views, before=first) if first else await log.mount_all(views)
        remaining = (
            bool(messages)
            and messages[0].position > 1
            and bool(
                store.messages(self.conversation_id, limit=1, before_position=messages[0].position)
            )
        )
        earlier = log.query_one_optional(".earlier", Button)
        if earlier is None and remaining:
            earlier = Button("Load earlier messages", classes="earlier", compact=True)
            await log.mount(earlier, before=0)
        if earlier is not None:
            earlier.display = remaining

    @on(Button.Pressed, ".earlier")
    async def _earlier(self, event: Button.Pressed) -> None:
        event.stop()
        await self._load_page()

    def views(self) -> list[MessageView]:
        return list(self.query(MessageView))

    # -- sending -------------------------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        await self.send(event.text)

    async def send(self, text: str) -> None:
        """Add the user's message and stream a reply to it."""
        if self.streaming:
            self.notify(
                "A reply is still streaming — press esc to stop it first.",
                severity="warning",
                markup=False,
            )
            return
        store = self.studio.store
        prompt = self.query_one(PromptInput)
        command, _, rest = text.strip().partition(" ")
        if command in ("/image", "/video"):
            if not rest.strip():
                self.notify(f"Usage: {command} PROMPT", severity="warning", markup=False)
                return
            message = store.add_message(self.conversation_id, Role.USER, text.strip())
            store.add_prompt_history(text)
            prompt.remember(text)
            prompt.text = ""
            await self._append_view(MessageView(message))
            title = title_from_prompt(f"{command[1:].capitalize()}: {rest.strip()}")
            if store.set_auto_title(self.conversation_id, title):
                self.post_message(self.TitleChanged(self.conversation_id, title))
            self.post_message(self.MediaCommand(self.conversation_id, command[1:], rest.strip()))
            return
        attachments = list(self.pending)
        if self._editing is not None:
            edited, self._editing = self._editing, None
            attachments = self._reattach(edited) + attachments
            store.delete_messages_from(self.conversation_id, edited.position)
            await self._remove_views_from(edited.position)
        message = store.add_message(self.conversation_id, Role.USER, text, attachments=attachments)
        store.add_prompt_history(text)
        prompt.remember(text)
        prompt.text = ""
        self.pending.clear()
        await self._show_pending()
        await self._append_view(MessageView(message))
        if store.set_auto_title(self.conversation_id, title_from_prompt(text)):
            self.post_message(self.TitleChanged(self.conversation_id, title_from_prompt(text)))
        await self.start_reply()

    async def start_reply(self) -> None:
        store = self.studio.store
        conversation = store.get_conversation(self.conversation_id)
        if conversation is None:
            return
        model = conversation.model or self.studio.settings.default_model
        history = api_messages(store, conversation)
        reply = store.start_reply(self.conversation_id, model=model)
        view = MessageView(reply, streaming=True)
        await self._append_view(view)
        self._streaming_view = view
        self.post_message(self.StreamingChanged(self.conversation_id, True))
        params: dict[str, Any] = {
            "temperature": conversation.temperature,
            "max_tokens": conversation.max_tokens,
        }
        self._stream_reply(view, model, history, params)

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _stream_reply(
        self, view: MessageView, model: str, history: list[dict[str, Any]], params: dict[str, Any]
    ) -> None:
        store = self.studio.store
        status = self.query_one(StatusLine)
        status.model = model
        status.begin()
        markdown = view.query_one(StreamingMarkdown)
        parts: list[str] = []
        reasoning: list[str] = []
        usage: Usage | None = None
        finish: str | None = None
        outcome, error = MessageStatus.COMPLETE, None
        last_save = time.monotonic()
        HeapFreeze.hold()
        try:
            client = await self.studio.gateway.client()
            async for delta in client.stream_chat(model=model, messages=history, **params):
                if delta.content:
                    parts.append(delta.content)
                    status.count()
                    await markdown.append(delta.content)
                if delta.reasoning:
                    reasoning.append(delta.reasoning)
                if delta.usage:
                    usage = delta.usage
                if delta.finish_reason:
                    finish = delta.finish_reason
                now = time.monotonic()
                if now - last_save >= SAVE_EVERY:
                    store.save_partial(
                        view.message_id, "".join(parts), reasoning="".join(reasoning)
                    )
                    last_save = now
        except asyncio.CancelledError:
            outcome = MessageStatus.STOPPED
            raise
        except IncompleteStreamError as exc:
            outcome, error = MessageStatus.CUT, describe(exc)
        except StreamError as exc:
            outcome = MessageStatus.CUT if exc.partial else MessageStatus.ERROR
            error = describe(exc)
        except AnyFastError as exc:
            outcome, error = MessageStatus.ERROR, describe(exc)
        except Exception as exc:  # never let a bug take the app down mid-reply
            outcome, error = MessageStatus.ERROR, f"Unexpected error: {type(exc).__name__}: {exc}"
        finally:
            text = "".join(parts)
            final = store.finish_reply(
                view.message_id,
                text,
                status=outcome,
                usage=usage,
                error=error,
                finish_reason=finish,
                reasoning="".join(reasoning),
            )
            # The outcome first: its restyle and layout then share the final flush's frame.
            view.update_message(final)
            complete = outcome is MessageStatus.COMPLETE
            note = (finish_note(finish) or "") if complete else outcome.value
            status.end(usage, note)
            try:
                await markdown.finish(text)
            finally:
                self._streaming_view = None
                self.post_message(self.StreamingChanged(self.conversation_id, False))
                # After the final frame (the app outlives this pane), or now if it is closing.
                if not self.app.call_after_refresh(HeapFreeze.release):
                    HeapFreeze.release()

    async def append_message(self, message: Message) -> None:
        """Show a message added from elsewhere (a finished job) at the end of the log."""
        if any(v.message_id == message.id for v in self.views()):
            return
        await self._append_view(MessageView(message))

    def stop(self) -> bool:
        """Stop the streaming reply, keeping its text; False when nothing streams."""
        if not self.streaming:
            return False
        self.workers.cancel_group(self, "reply")
        return True

    # -- regenerate, edit, delete, copy -----------------------------------------------------------

    def _last(self, role: Role) -> MessageView | None:
        for view in reversed(self.views()):
            if view.message.role is role:
                return view
        return None

    async def regenerate(self, view: MessageView | None = None) -> None:
        """Replace the last reply (or the given failed one) with a new one."""
        if self.streaming:
            self.stop()
            await self.workers.wait_for_complete()
        target = view or self._last(Role.ASSISTANT)
        if target is None or target is not self._last(Role.ASSISTANT):
            self.notify("Only the last reply can be regenerated.", severity="warning", markup=False)
            return
        self.studio.store.delete_messages_from(self.conversation_id, target.message.position)
        await self._remove_views_from(target.message.position)
        await self.start_reply()

    def edit_last(self, view: MessageView | None = None) -> None:
        """Put the last user message back in the prompt; sending replaces it and what follows."""
        target = view or self._last(Role.USER)
        if target is None or target.message.role is not Role.USER:
            self.notify("Only your own messages can be edited.", severity="warning", markup=False)
            return
        if target is not self._last(Role.USER):
            self.notify("Only your last message can be edited.", severity="warning", markup=False)
            return
        self._editing = target.message
        prompt = self.query_one(PromptInput)
        prompt.text = target.message.content
        prompt.move_cursor(prompt.document.end)
        prompt.focus()
        self.notify("Editing your last message — Enter resends it, esc cancels.", markup=False)

    async def delete(self, view: MessageView) -> None:
        if view is self._streaming_view:
            self.notify(
                "Stop the reply (esc) before deleting it.", severity="warning", markup=False
            )
            return
        self.studio.store.delete_message(view.message_id)
        await view.remove()

    def copy_target(self, what: str) -> str | None:
        """The text to copy: ``reply`` (last reply) or ``code`` (last code block)."""
        view = self._last(Role.ASSISTANT)
        if view is None:
            return None
        from studio.clipboard import last_code_block

        return view.text if what == "reply" else last_code_block(view.text)

    @on(MessageView.Action)
    async def _message_action(self, event: MessageView.Action) -> None:
        event.stop()
        if event.action == "copy":
            await self.studio.copy_text(event.view.text, "message")
        elif event.action == "edit":
            self.edit_last(event.view)
        elif event.action == "delete":
            await self.delete(event.view)
        elif event.action == "retry":
            await self.regenerate(event.view)

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
        status = self.query_one(StatusLine)
        status.model = model
        status.refresh_text()

    def focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

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

    def _reattach(self, message: Message) -> list[NewAttachment]:
        store = self.studio.store
        return [
            NewAttachment(
                name=a.name,
                mime=a.mime,
                data=store.attachment_data(a.id),
                url=a.url,
                width=a.width,
                height=a.height,
            )
            for a in message.attachments
        ]

    # -- view plumbing -------------------------------------------------------------------------

    def _hide_empty_hint(self) -> None:
        for hint in self.query(".empty-hint"):
            hint.display = False

    async def _append_view(self, view: MessageView) -> None:
        self._hide_empty_hint()
        log = self.query_one(".log", VerticalScroll)
        await log.mount(view)
        log.anchor()

    async def _remove_views_from(self, position: int) -> None:
        for view in [v for v in self.views() if v.message.position >= position]:
            await view.remove()
