"""The sidebar: every conversation, filterable by title, with keys to manage them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from studio.store import Conversation
from studio.textsafe import clean_line


def age(updated: float, now: float | None = None) -> str:
    seconds = max(0.0, (now or time.time()) - updated)
    for size, unit in ((86400 * 7, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"


class ConversationRows(OptionList):
    """The rows of the list; up from the first row goes back to the filter."""

    class TopPassed(Message):
        """Up was pressed on the first row."""

    def action_cursor_up(self) -> None:
        if self.highlighted is None or self.highlighted == 0:
            self.post_message(self.TopPassed())
            return
        super().action_cursor_up()


class ConversationList(Vertical):
    """Lists conversations (newest first); posts messages, the screen acts on them.

    The highlight belongs to a conversation, not to a row: when the list is shown again
    (a refresh, a rename, a new conversation, another order) it stays on the same
    conversation, and moves to its neighbour when that one is gone.
    """

    clock = staticmethod(time.time)
    """Where "now" comes from for the ages shown (tests pin it)."""

    UNDO_SECONDS = 8.0
    """How long ``u`` undoes the last archive (or unarchive)."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="list.open", tooltip="Open in a tab"),
        Binding("n", "new", "New", id="list.new", tooltip="New conversation"),
        Binding("r", "rename", "Rename", id="list.rename", tooltip="Rename"),
        Binding("a", "archive", "Archive", id="list.archive", tooltip="Archive or unarchive"),
        Binding("u", "undo", "Undo", id="list.undo", tooltip="Undo the archive just done"),
        Binding("delete,x", "delete", "Delete", id="list.delete", tooltip="Delete (asks first)"),
        Binding("e", "export", "Export", id="list.export", tooltip="Export: Markdown, JSON, HTML"),
        Binding("slash", "filter", "Filter", id="list.filter", tooltip="Filter by title"),
        Binding(
            "h", "toggle_archived", "Archived", id="list.archived", tooltip="Show archived ones"
        ),
        Binding(
            "escape",
            "leave",
            "Back",
            id="list.leave",
            tooltip="Clear the filter and go back to the prompt",
        ),
        Binding(
            "down",
            "rows",
            "Rows",
            show=False,
            id="list.rows",
            tooltip="From the filter: into the list",
        ),
    ]

    @dataclass
    class Chosen(Message):
        """The user asked for ``action`` (open, new, rename, archive, delete, export, undo,
        leave, refresh) on a conversation."""

        action: str
        conversation_id: int | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_archived = False
        self.undo_until = 0.0
        """Until when (``time.monotonic``) ``u`` has something to undo; the screen sets it."""
        self._conversations: list[Conversation] = []
        self._rows: list[tuple[int, str]] = []

    def compose(self) -> ComposeResult:
        yield Static("Conversations", classes="sidebar-title")
        yield Input(placeholder="filter…  (/)", classes="filter", compact=True)
        yield ConversationRows(classes="conversations")

    @property
    def conversations(self) -> list[Conversation]:
        """The conversations shown, in order."""
        return list(self._conversations)

    @property
    def highlighted_id(self) -> int | None:
        """The conversation the highlight is on (what Enter, r, a and x act on)."""
        return self._selected()

    def show(self, conversations: list[Conversation], *, selected: int | None = None) -> None:
        """Show these conversations (the caller already applied the filter and archive view),
        the highlight on ``selected`` if given, else on the conversation it was on."""
        options = self.query_one(ConversationRows)
        index = options.highlighted
        current = self._selected()
        keep = selected if selected is not None else current
        self._conversations = conversations
        now = self.clock()
        labels = [_label(conv, now) for conv in conversations]
        rows = [(conv.id, label.plain) for conv, label in zip(conversations, labels, strict=True)]
        if rows != self._rows:  # rebuilt only when something shown changed
            self._rows = rows
            options.clear_options()
            options.add_options(
                Option(label, id=str(conv.id))
                for conv, label in zip(conversations, labels, strict=True)
            )
        ids = [c.id for c in conversations]
        if keep in ids:
            options.highlighted = ids.index(keep)
        elif conversations:  # gone (or filtered out): its neighbour takes the highlight
            options.highlighted = min(index or 0, len(conversations) - 1)
        title = "Archived" if self.show_archived else "Conversations"
        self.query_one(".sidebar-title", Static).update(f"{title} ({len(conversations)})")

    def neighbour(self, cid: int) -> int | None:
        """The conversation that takes the highlight when ``cid`` leaves the list: the next
        one down, or the one above at the end."""
        ids = [c.id for c in self._conversations]
        if cid not in ids:
            return None
        index = ids.index(cid)
        rest = ids[:index] + ids[index + 1 :]
        return rest[min(index, len(rest) - 1)] if rest else None

    @property
    def filter_text(self) -> str:
        return self.query_one(Input).value.strip()

    def focus_rows(self) -> None:
        self.query_one(ConversationRows).focus()

    def _selected(self) -> int | None:
        options = self.query_one(ConversationRows)
        index = options.highlighted
        if index is None or index >= options.option_count:
            return None
        option_id = options.get_option_at_index(index).id
        return int(option_id) if option_id is not None else None

    @on(Input.Changed, ".filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Chosen("refresh", None))

    @on(Input.Submitted, ".filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_rows()

    @on(ConversationRows.TopPassed)
    def _top_passed(self, event: ConversationRows.TopPassed) -> None:
        event.stop()
        self.query_one(Input).focus()

    @on(OptionList.OptionSelected)
    def _selected_option(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen("open", int(event.option.id)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo":
            return time.monotonic() < self.undo_until
        if action == "rows":
            return self.query_one(Input).has_focus
        return True

    def action_open(self) -> None:
        self.post_message(self.Chosen("open", self._selected()))

    def action_new(self) -> None:
        self.post_message(self.Chosen("new", None))

    def action_rename(self) -> None:
        self.post_message(self.Chosen("rename", self._selected()))

    def action_archive(self) -> None:
        self.post_message(self.Chosen("archive", self._selected()))

    def action_undo(self) -> None:
        self.post_message(self.Chosen("undo", None))

    def action_delete(self) -> None:
        self.post_message(self.Chosen("delete", self._selected()))

    def action_export(self) -> None:
        self.post_message(self.Chosen("export", self._selected()))

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_rows(self) -> None:
        options = self.query_one(ConversationRows)
        if options.option_count:
            options.highlighted = 0
        options.focus()

    def action_leave(self) -> None:
        self.query_one(Input).value = ""  # its Changed event refreshes the list
        self.post_message(self.Chosen("leave", None))

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.post_message(self.Chosen("refresh", None))


def _label(conv: Conversation, now: float) -> Text:
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(clean_line(conv.title) or "Untitled")  # user text: shown, never markup
    label.append(f"\n{conv.message_count} msgs · {age(conv.updated_at, now)}", "dim")
    if conv.archived:
        label.append(" · archived", "dim italic")
    return label
