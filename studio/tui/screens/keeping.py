"""What the main screen keeps, and what it lets go: each conversation's unsent draft survives
leaving, quitting and crashes; a new conversation that never got a message does not; an
archive from the conversation list can be undone for a few seconds."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from studio.store import Conversation, NewAttachment, StoreError, StoreUnavailable
from studio.store.conversations import DEFAULT_TITLE
from studio.textsafe import clean_line
from studio.tui.widgets.conversation_list import ConversationList
from studio.tui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from textual.timer import Timer

    from studio.store import Store
    from studio.tui.screens.main import MainScreen
    from studio.tui.widgets.chat_pane import ChatPane

SAVE_EVERY = 1.0
"""While typing, a conversation's draft is written at most once a second."""

Snapshot = tuple[str, tuple[NewAttachment, ...]]


def looks_blank(conversation: Conversation) -> bool:
    """A conversation nobody has put anything into: no message, the default title, no
    settings of its own. (Whether it has a draft is asked separately.)"""
    return (
        conversation.message_count == 0
        and not conversation.title_locked
        and conversation.title == DEFAULT_TITLE
        and conversation.model is None
        and conversation.system_prompt is None
        and conversation.temperature is None
        and conversation.max_tokens is None
    )


class Keeper:
    """The main screen's drafts, blank conversations and the archive undo."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._panes: dict[int, tuple[ChatPane, PromptInput]] = {}
        """Every open pane and its prompt, kept as objects: on quit the panes are already
        unmounted when their drafts are saved."""
        self._saved: dict[int, Snapshot] = {}
        """What this window last read from or wrote to the store for each draft: it writes
        only when its own prompt changed, so a second window's draft is not overwritten by an
        unchanged one."""
        self._dirty: set[int] = set()
        self._timer: Timer | None = None
        self._undo: tuple[int, bool, bool] | None = None
        """The last archive: conversation, archived before, open in a tab before."""

    @property
    def store(self) -> Store:
        return self.screen.studio.store

    # -- drafts --------------------------------------------------------------------------------

    async def restore(self, pane: ChatPane) -> None:
        """Put the conversation's saved draft back into its newly opened pane."""
        cid = pane.conversation_id
        prompt = pane.query_one(PromptInput)
        self._panes[cid] = (pane, prompt)
        draft = self.store.get_draft(cid)
        if draft is None:
            self._saved[cid] = ("", ())
            return
        self._saved[cid] = (draft.text, draft.attachments)
        if draft.text:
            prompt.text = draft.text
            prompt.move_cursor(prompt.document.end)
        for attachment in draft.attachments:
            await pane.attach(attachment)

    def prompt_changed(self, prompt: PromptInput) -> None:
        """A prompt's text changed: save its draft soon (at once when it was emptied, so a
        sent prompt does not come back after a crash)."""
        cid = next((c for c, (_, p) in self._panes.items() if p is prompt), None)
        if cid is None:
            return
        if not prompt.text:
            self.save(cid)
            return
        self._dirty.add(cid)
        if self._timer is None:
            self._timer = self.screen.set_timer(SAVE_EVERY, self._flush)

    def _flush(self) -> None:
        self._timer = None
        dirty, self._dirty = self._dirty, set()
        for cid in dirty:
            self.save(cid)

    def _snapshot(self, cid: int) -> Snapshot | None:
        found = self._panes.get(cid)
        if found is None:
            return None
        pane, prompt = found
        editing = pane.edit_draft  # in edit mode the prompt holds the message, not a draft
        return (prompt.text if editing is None else editing), tuple(pane.pending)

    def save(self, cid: int) -> None:
        """Write conversation ``cid``'s draft if its prompt or attachments changed since this
        window last saved (or read) it."""
        now = self._snapshot(cid)
        if now is None:
            return
        before = self._saved.get(cid, ("", ()))
        if now == before:
            return
        text, attachments = now
        try:
            self.store.save_draft(
                cid, text, None if attachments == before[1] else list(attachments)
            )
        except StoreUnavailable:
            raise
        except StoreError as exc:
            self.screen.notify(
                f"The draft could not be saved: {exc}", severity="warning", markup=False
            )
            return
        self._saved[cid] = now

    def save_all(self) -> None:
        for cid in list(self._panes):
            self.save(cid)

    # -- blank conversations -------------------------------------------------------------------

    def is_blank(self, cid: int) -> bool:
        """Whether open conversation ``cid`` never got anything: no message, title, settings,
        draft or pending image, and nothing streaming."""
        conversation = self.store.get_conversation(cid)
        if conversation is None or not looks_blank(conversation):
            return False
        found = self._panes.get(cid)
        if found is not None:
            pane, prompt = found
            return not pane.streaming and not prompt.text.strip() and not pane.pending
        return self.store.get_draft(cid) is None

    def closing(self, cid: int) -> bool:
        """Conversation ``cid``'s pane is about to close: save its draft and forget the pane.
        Returns whether the conversation is blank (the caller deletes it)."""
        blank = self.is_blank(cid)
        if not blank:
            self.save(cid)
        self._panes.pop(cid, None)
        self._saved.pop(cid, None)
        self._dirty.discard(cid)
        return blank

    async def left(self, cid: int) -> None:
        """The user moved away from conversation ``cid`` (it is no longer shown): save its
        draft, and close and delete it if it is blank."""
        if self.is_blank(cid):
            await self.screen.close_conversation(cid, focus=False)
        else:
            self.save(cid)

    def quitting(self) -> None:
        """Studio is quitting: save every draft, delete the blank conversations open here."""
        for cid in list(self._panes):
            try:
                if self.is_blank(cid):
                    self.store.delete_conversation(cid)
                else:
                    self.save(cid)
            except StoreError:  # a database that cannot be used: the app is ending anyway
                return

    def hidden_from_list(self, conversations: list[Conversation]) -> set[int]:
        """Blank conversations not open in this window (another window's new one, one left
        behind by a crash): the list leaves them out."""
        candidates = {
            c.id for c in conversations if looks_blank(c) and c.id not in self.screen.open_ids
        }
        return candidates - self.store.draft_ids() if candidates else set()

    # -- archive with undo ---------------------------------------------------------------------

    def _sidebar(self) -> ConversationList:
        return self.screen.query_one(ConversationList)

    async def archive(self, cid: int) -> None:
        """Archive (or, in the archived view, restore) the highlighted conversation; the
        highlight moves to its neighbour and ``u`` undoes it for a few seconds."""
        sidebar = self._sidebar()
        conversation = self.store.get_conversation(cid)
        if conversation is None:
            self.screen.refresh_list()
            return
        neighbour = sidebar.neighbour(cid)
        archived = not conversation.archived
        was_open = cid in self.screen.open_ids
        in_list = sidebar.has_focus_within
        self.store.set_archived(cid, archived)
        if archived and was_open:
            await self.screen.close_conversation(cid, focus=not in_list)
        self.screen.refresh_list(selected=neighbour)
        self._undo = (cid, conversation.archived, was_open)
        sidebar.undo_until = time.monotonic() + sidebar.UNDO_SECONDS
        sidebar.refresh_bindings()
        self.screen.set_timer(sidebar.UNDO_SECONDS + 0.05, sidebar.refresh_bindings)
        title = clean_line(conversation.title)
        if archived:
            message = f"Archived “{title}” — u to undo (h shows archived ones)"
        else:
            message = f"Restored “{title}” to the list — u to undo"
        self.screen.notify(message, timeout=sidebar.UNDO_SECONDS, markup=False)

    async def undo(self) -> None:
        """Undo the last archive (or restore), if it is recent enough."""
        sidebar = self._sidebar()
        undo, self._undo = self._undo, None
        fresh = time.monotonic() < sidebar.undo_until
        sidebar.undo_until = 0.0
        sidebar.refresh_bindings()
        if undo is None or not fresh:
            self.screen.notify("Nothing to undo.", markup=False)
            return
        cid, archived_before, was_open = undo
        conversation = self.store.get_conversation(cid)
        if conversation is None:
            self.screen.notify("That conversation is gone.", markup=False)
            self.screen.refresh_list()
            return
        self.store.set_archived(cid, archived_before)
        if was_open and not archived_before:
            await self.screen.open_conversation(cid, activate=False)
        self.screen.refresh_list(selected=cid)
        where = "archived again" if archived_before else "back in the list"
        self.screen.notify(f"“{clean_line(conversation.title)}” is {where}.", markup=False)
