"""What a conversation pane does to the messages already in it: regenerate the last reply, edit
and resend the last message (a visible mode that esc leaves with nothing deleted), delete a
message with undo, and pick what to copy. :class:`MessageFlows` is composed into
:class:`~studio.tui.widgets.chat_pane.ChatPane`, which adds the log, the prompt and the streaming
of replies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll

from studio.chat.history import is_job_command
from studio.store import Message, RemovedMessage, Role, StoreError
from studio.tui.job_reports import job_label
from studio.tui.widgets.message_view import MessageView
from studio.tui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from textual.timer import Timer

    from studio.tui.widgets.chat_pane import ChatPane

UNDO_SECONDS = 8.0
"""How long ``u`` can bring back a deleted message."""


def edit_title(message: Message) -> str:
    """The prompt's border title while ``message`` is being edited."""
    when = datetime.fromtimestamp(message.created_at).strftime("%H:%M")
    return f"Editing message from {when} — Enter resends, esc cancels"


class MessageFlows:
    """Regenerate, edit, delete with undo, and copy, over one pane's message views.

    Composed into :class:`~studio.tui.widgets.chat_pane.ChatPane`, which owns the bindings and
    the streaming of replies and hands these calls on; this object keeps the state of edit mode
    and of the undo.
    """

    def __init__(self, pane: ChatPane) -> None:
        self.pane = pane
        self._editing: Message | None = None
        self._draft = ""
        """What the prompt held when edit mode began: it gets it back when edit mode ends."""
        self._removed: RemovedMessage | None = None
        self._undo_timer: Timer | None = None

    @property
    def editing(self) -> Message | None:
        """The message being edited (edit mode), or ``None``."""
        return self._editing

    @property
    def edit_draft(self) -> str | None:
        """In edit mode, the unsent draft: what the prompt held before (it now holds the
        message being edited, which is no draft); ``None`` outside edit mode."""
        return self._draft if self._editing is not None else None

    @property
    def can_undo(self) -> bool:
        """Whether ``u`` would bring a message back now."""
        return self._removed is not None

    def last(self, role: Role) -> MessageView | None:
        for view in reversed(self.pane.views()):
            if view.message.role is role:
                return view
        return None

    def _store_failed(self, what: str, error: Exception) -> None:
        self.pane.notify(f"Could not {what}: {error}", severity="error", timeout=10, markup=False)

    # -- regenerate ------------------------------------------------------------------------------

    async def regenerate(self, view: MessageView | None = None) -> None:
        """Replace the last reply with a new one; a reply still streaming is stopped first
        and replaced, as a finished one is."""
        views = self.pane.views()
        target = view or (views[-1] if views else None)
        if target is None:
            self.pane.notify("Nothing to regenerate yet — send a message first.", markup=False)
            return
        if target.is_job or is_job_command(target.message):
            self.retry_job(target)  # never the chat model: the job is sent again
            return
        if target.message.role is not Role.ASSISTANT:
            if view is None:
                self.pane.notify(
                    "The last message has no reply to regenerate — alt+e then Enter sends it "
                    "again.",
                    markup=False,
                )
            else:
                self.pane.notify(
                    "Only replies can be regenerated (e edits your message).",
                    severity="warning",
                    markup=False,
                )
            return
        if target is not views[-1]:
            self.pane.notify(
                "Only the last reply can be regenerated.", severity="warning", markup=False
            )
            return
        if self.pane.streaming:
            await self.pane.stop_reply()
        self.pane.retry_saves()
        try:
            reply = self.pane.session.regenerate(target.message)
        except StoreError as exc:
            self._store_failed("regenerate the reply", exc)
            return
        selected = target.has_focus  # r on the reply: the new reply is selected in its place
        await self.remove_views_from(target.message.position)
        if reply is not None:
            await self.pane.start_reply(reply)
        views = self.pane.views()
        if selected and views:
            views[-1].focus()

    def retry_job(self, view: MessageView) -> None:
        """Regenerate on a job's message, or on the ``/image``/``/video`` command that made it:
        retry the job (the job's own retry, which asks first); the message stays where it is
        and the new job gets its own message."""
        stored = self.pane.studio.store.get_message(view.message_id)
        job_id = (stored or view.message).job_id
        if job_id is None:
            self.pane.notify(
                "Studio does not know which job this command made — e then Enter sends it "
                "again as a new job.",
                markup=False,
            )
            return
        app = self.pane.studio
        job = app.jobs.jobs.get(job_id) or app.store.get_job(job_id)
        if job is None:
            self.pane.notify(
                f"Job #{job_id} was removed from the list — send the command again for a new one.",
                markup=False,
            )
            return
        if job.state.is_active:
            self.pane.notify(
                f"{job_label(job)} is still {job.state.value} — ctrl+g shows it; retry it once "
                "it has ended.",
                markup=False,
            )
            return
        self.pane.run_worker(app.job_action(job_id, "retry"), group="job-retry")

    async def remove_views_from(self, position: int) -> None:
        for view in [v for v in self.pane.views() if v.message.position >= position]:
            await view.remove()

    # -- edit mode -------------------------------------------------------------------------------

    def edit_last(self, view: MessageView | None = None) -> None:
        """Edit mode: the last user message goes back in the prompt; Enter replaces it and what
        follows, esc leaves with nothing deleted."""
        target = view or self.last(Role.USER)
        if target is None:
            self.pane.notify(
                "Nothing to edit yet — you have not sent a message in this conversation.",
                markup=False,
            )
            return
        if target.message.role is not Role.USER:
            self.pane.notify(
                "Only your own messages can be edited.", severity="warning", markup=False
            )
            return
        if target is not self.last(Role.USER):
            self.pane.notify(
                "Only your last message can be edited.", severity="warning", markup=False
            )
            return
        prompt = self.pane.query_one(PromptInput)
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
        prompt = self.pane.query_one(PromptInput)
        prompt.border_title = edit_title(editing) if on else None
        prompt.set_class(on, "-editing")
        for view in self.pane.views():
            if view.message_id == editing.id:
                view.set_class(on, "-editing")
        self.pane.refresh_bindings()

    def leave_edit(self, *, restore: bool = True) -> Message | None:
        """Leave edit mode; ``restore`` puts back what the prompt held before it. Returns the
        message that was being edited."""
        editing = self._editing
        if editing is None:
            return None
        self._show_editing(False)
        self._editing = None
        self.pane.refresh_bindings()
        if restore:
            prompt = self.pane.query_one(PromptInput)
            prompt.text = self._draft
            prompt.move_cursor(prompt.document.end)
        self._draft = ""
        return editing

    def cancel_edit(self) -> None:
        if self.leave_edit():
            self.pane.notify("Edit cancelled — nothing was changed.", markup=False)

    # -- delete with undo --------------------------------------------------------------------------

    async def delete(self, view: MessageView) -> None:
        """Delete a message; ``u`` brings it back for :data:`UNDO_SECONDS`."""
        if view is self.pane.streaming_view:
            self.pane.notify(
                "Stop the reply (esc) before deleting it.", severity="warning", markup=False
            )
            return
        self.pane.retry_saves()
        if self._editing is not None and self._editing.id == view.message_id:
            self.leave_edit()
        try:
            removed = self.pane.studio.store.take_message(view.message_id)
        except StoreError as exc:
            self._store_failed("delete the message", exc)
            return
        views = self.pane.views()
        index = views.index(view)
        rest = views[index + 1 :] or views[:index][-1:]
        await view.remove()
        self._keep_for_undo(removed)
        if rest:
            rest[0].focus()
            rest[0].scroll_visible()
        else:
            self.pane.query_one(".log", VerticalScroll).focus()  # where u still reaches the pane
        self.pane.notify("Message deleted — u to undo", timeout=UNDO_SECONDS, markup=False)

    def _keep_for_undo(self, removed: RemovedMessage | None) -> None:
        if self._undo_timer is not None:
            self._undo_timer.stop()
            self._undo_timer = None
        self._removed = removed
        if removed is not None:
            self._undo_timer = self.pane.set_timer(UNDO_SECONDS, lambda: self._keep_for_undo(None))
        self.pane.refresh_bindings()

    async def undo_delete(self) -> None:
        removed = self._removed
        self._keep_for_undo(None)
        if removed is None:
            return
        try:
            message = self.pane.studio.store.restore_message(removed)
        except StoreError as exc:
            self._store_failed("undo the delete", exc)
            return
        view = MessageView(message)
        later = [v for v in self.pane.views() if v.message.position > message.position]
        log = self.pane.query_one(".log", VerticalScroll)
        for hint in self.pane.query(".empty-hint"):
            hint.display = False
        await (log.mount(view, before=later[0]) if later else log.mount(view))
        self.pane.track_jobs([view])
        view.focus()
        view.scroll_visible()
        self.pane.notify("Message restored.", markup=False)

    # -- copy ------------------------------------------------------------------------------------

    def copy_target(self, what: str) -> str | None:
        """The text to copy: ``reply`` (last reply) or ``code`` (last code block)."""
        view = self.last(Role.ASSISTANT)
        if view is None:
            return None
        from studio.clipboard import last_code_block  # on first copy, not before the first frame

        return view.text if what == "reply" else last_code_block(view.text)

    def nothing_to_copy(self, what: str) -> str:
        """Why :meth:`copy_target` found nothing, in words."""
        view = self.last(Role.ASSISTANT)
        if view is None or not view.text:
            return "Nothing to copy yet — there is no reply in this conversation."
        return "No code block in the last reply."

    async def message_action(self, event: MessageView.Action) -> None:
        """Copy, edit, delete or regenerate, as a message view asked."""
        if event.action == "copy":
            await self.pane.studio.copy_text(event.view.text, "message")
        elif event.action == "edit":
            self.edit_last(event.view)
        elif event.action == "delete":
            await self.delete(event.view)
        elif event.action == "retry":
            await self.regenerate(event.view)
