"""What a conversation pane does to the messages already in it: regenerate the last reply, edit
and resend the last message (a visible mode that esc leaves with nothing deleted), delete a
message with undo, and pick what to copy. :class:`~studio.tui.widgets.chat_pane.ChatPane` adds
the log, the prompt and the streaming of replies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual import on
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll

from studio.store import Message, RemovedMessage, Role, StoreError
from studio.tui.widgets.message_view import MessageView
from studio.tui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from textual.timer import Timer

    from studio.tui.app import StudioApp

UNDO_SECONDS = 8.0
"""How long ``u`` can bring back a deleted message."""


def edit_title(message: Message) -> str:
    """The prompt's border title while ``message`` is being edited."""
    when = datetime.fromtimestamp(message.created_at).strftime("%H:%M")
    return f"Editing message from {when} — Enter resends, esc cancels"


class ChatFlows(Vertical):
    """Regenerate, edit, delete with undo, and copy, over the pane's message views."""

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

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.conversation_id = 0
        self._streaming_view: MessageView | None = None
        self._editing: Message | None = None
        self._draft = ""
        """What the prompt held when edit mode began: it gets it back when edit mode ends."""
        self._removed: RemovedMessage | None = None
        self._undo_timer: Timer | None = None

    # -- what the pane provides ------------------------------------------------------------------

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    @property
    def streaming(self) -> bool:
        return self._streaming_view is not None

    @property
    def editing(self) -> Message | None:
        """The message being edited (edit mode), or ``None``."""
        return self._editing

    @property
    def edit_draft(self) -> str | None:
        """In edit mode, the unsent draft: what the prompt held before (it now holds the
        message being edited, which is no draft); ``None`` outside edit mode."""
        return self._draft if self._editing is not None else None

    async def start_reply(self) -> None:
        raise NotImplementedError

    async def stop_reply(self) -> None:
        """Stop the streaming reply and wait until it is saved as stopped."""
        raise NotImplementedError

    def retry_saves(self) -> None:
        """Save again what the store refused earlier (before any other write)."""
        raise NotImplementedError

    def focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    def views(self) -> list[MessageView]:
        return list(self.query(MessageView))

    def _last(self, role: Role) -> MessageView | None:
        for view in reversed(self.views()):
            if view.message.role is role:
                return view
        return None

    def _store_failed(self, what: str, error: Exception) -> None:
        self.notify(f"Could not {what}: {error}", severity="error", timeout=10, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_edit":
            return self._editing is not None
        if action == "undo_delete":
            return self._removed is not None
        return True

    # -- regenerate ------------------------------------------------------------------------------

    async def regenerate(self, view: MessageView | None = None) -> None:
        """Replace the last reply with a new one; a reply still streaming is stopped first
        and replaced, as a finished one is."""
        views = self.views()
        target = view or (views[-1] if views else None)
        if target is None:
            self.notify("Nothing to regenerate yet — send a message first.", markup=False)
            return
        if target.message.role is not Role.ASSISTANT:
            if view is None:
                self.notify(
                    "The last message has no reply to regenerate — alt+e then Enter sends it "
                    "again.",
                    markup=False,
                )
            else:
                self.notify(
                    "Only replies can be regenerated (e edits your message).",
                    severity="warning",
                    markup=False,
                )
            return
        if target is not views[-1]:
            self.notify("Only the last reply can be regenerated.", severity="warning", markup=False)
            return
        if self.streaming:
            await self.stop_reply()
        self.retry_saves()
        try:
            self.studio.store.delete_messages_from(self.conversation_id, target.message.position)
        except StoreError as exc:
            self._store_failed("regenerate the reply", exc)
            return
        selected = target.has_focus  # r on the reply: the new reply is selected in its place
        await self._remove_views_from(target.message.position)
        await self.start_reply()
        views = self.views()
        if selected and views:
            views[-1].focus()

    async def _remove_views_from(self, position: int) -> None:
        for view in [v for v in self.views() if v.message.position >= position]:
            await view.remove()

    # -- edit mode -------------------------------------------------------------------------------

    def edit_last(self, view: MessageView | None = None) -> None:
        """Edit mode: the last user message goes back in the prompt; Enter replaces it and what
        follows, esc leaves with nothing deleted."""
        target = view or self._last(Role.USER)
        if target is None:
            self.notify(
                "Nothing to edit yet — you have not sent a message in this conversation.",
                markup=False,
            )
            return
        if target.message.role is not Role.USER:
            self.notify("Only your own messages can be edited.", severity="warning", markup=False)
            return
        if target is not self._last(Role.USER):
            self.notify("Only your last message can be edited.", severity="warning", markup=False)
            return
        prompt = self.query_one(PromptInput)
        if self._editing is not None and self._editing.id == target.message_id:
            prompt.focus()  # already editing it: keep what was typed
            return
        if self._editing is None:
            self._draft = prompt.text
        self._show_editing(False)
        self._editing = target.message
        self._show_editing(True)
        prompt.text = target.message.content
        prompt.move_cursor(prompt.document.end)
        prompt.focus()

    def _show_editing(self, on: bool) -> None:
        """The edit mode's marks: the prompt's title and colour, the message's highlight."""
        editing = self._editing
        if editing is None:
            return
        prompt = self.query_one(PromptInput)
        prompt.border_title = edit_title(editing) if on else None
        prompt.set_class(on, "-editing")
        for view in self.views():
            if view.message_id == editing.id:
                view.set_class(on, "-editing")
        self.refresh_bindings()

    def leave_edit(self, *, restore: bool = True) -> Message | None:
        """Leave edit mode; ``restore`` puts back what the prompt held before it. Returns the
        message that was being edited."""
        editing = self._editing
        if editing is None:
            return None
        self._show_editing(False)
        self._editing = None
        self.refresh_bindings()
        if restore:
            prompt = self.query_one(PromptInput)
            prompt.text = self._draft
            prompt.move_cursor(prompt.document.end)
        self._draft = ""
        return editing

    def action_cancel_edit(self) -> None:
        if self.leave_edit():
            self.notify("Edit cancelled — nothing was changed.", markup=False)

    # -- delete with undo --------------------------------------------------------------------------

    async def delete(self, view: MessageView) -> None:
        """Delete a message; ``u`` brings it back for :data:`UNDO_SECONDS`."""
        if view is self._streaming_view:
            self.notify(
                "Stop the reply (esc) before deleting it.", severity="warning", markup=False
            )
            return
        self.retry_saves()
        if self._editing is not None and self._editing.id == view.message_id:
            self.leave_edit()
        try:
            removed = self.studio.store.take_message(view.message_id)
        except StoreError as exc:
            self._store_failed("delete the message", exc)
            return
        views = self.views()
        index = views.index(view)
        rest = views[index + 1 :] or views[:index][-1:]
        await view.remove()
        self._keep_for_undo(removed)
        if rest:
            rest[0].focus()
            rest[0].scroll_visible()
        else:
            self.query_one(".log", VerticalScroll).focus()  # where u still reaches the pane
        self.notify("Message deleted — u to undo", timeout=UNDO_SECONDS, markup=False)

    def _keep_for_undo(self, removed: RemovedMessage | None) -> None:
        if self._undo_timer is not None:
            self._undo_timer.stop()
            self._undo_timer = None
        self._removed = removed
        if removed is not None:
            self._undo_timer = self.set_timer(UNDO_SECONDS, lambda: self._keep_for_undo(None))
        self.refresh_bindings()

    async def action_undo_delete(self) -> None:
        removed = self._removed
        self._keep_for_undo(None)
        if removed is None:
            return
        try:
            message = self.studio.store.restore_message(removed)
        except StoreError as exc:
            self._store_failed("undo the delete", exc)
            return
        view = MessageView(message)
        later = [v for v in self.views() if v.message.position > message.position]
        log = self.query_one(".log", VerticalScroll)
        for hint in self.query(".empty-hint"):
            hint.display = False
        await (log.mount(view, before=later[0]) if later else log.mount(view))
        view.focus()
        view.scroll_visible()
        self.notify("Message restored.", markup=False)

    # -- copy ------------------------------------------------------------------------------------

    def copy_target(self, what: str) -> str | None:
        """The text to copy: ``reply`` (last reply) or ``code`` (last code block)."""
        view = self._last(Role.ASSISTANT)
        if view is None:
            return None
        from studio.clipboard import last_code_block  # on first copy, not before the first frame

        return view.text if what == "reply" else last_code_block(view.text)

    def nothing_to_copy(self, what: str) -> str:
        """Why :meth:`copy_target` found nothing, in words."""
        view = self._last(Role.ASSISTANT)
        if view is None or not view.text:
            return "Nothing to copy yet — there is no reply in this conversation."
        return "No code block in the last reply."

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
