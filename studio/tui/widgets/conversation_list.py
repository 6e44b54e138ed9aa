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


class ConversationList(Vertical):
    """Lists conversations (newest first); posts messages, the screen acts on them."""

    clock = staticmethod(time.time)
    """Where "now" comes from for the ages shown (tests pin it)."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="list.open", tooltip="Open in a tab"),
        Binding("n", "new", "New", id="list.new", tooltip="New conversation"),
        Binding("r", "rename", "Rename", id="list.rename", tooltip="Rename"),
        Binding("a", "archive", "Archive", id="list.archive", tooltip="Archive or unarchive"),
        Binding("delete,x", "delete", "Delete", id="list.delete", tooltip="Delete (asks first)"),
        Binding("slash", "filter", "Filter", id="list.filter", tooltip="Filter by title"),
        Binding(
            "h", "toggle_archived", "Archived", id="list.archived", tooltip="Show archived ones"
        ),
    ]

    @dataclass
    class Chosen(Message):
        """The user asked for ``action`` (open, new, rename, archive, delete) on a conversation."""

        action: str
        conversation_id: int | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_archived = False
        self._conversations: list[Conversation] = []

    def compose(self) -> ComposeResult:
        yield Static("Conversations", classes="sidebar-title")
        yield Input(placeholder="filter…  (/)", classes="filter", compact=True)
        yield OptionList(classes="conversations")

    def show(self, conversations: list[Conversation], *, selected: int | None = None) -> None:
        """Show these conversations (the caller already applied the filter and archive view)."""
        self._conversations = conversations
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        current = (
            self._conversations[highlighted].id
            if highlighted is not None and highlighted < len(self._conversations)
            else None
        )
        options.clear_options()
        now = self.clock()
        for conv in conversations:
            label = Text(no_wrap=True, overflow="ellipsis")
            label.append(clean_line(conv.title) or "Untitled")  # user text: shown, never markup
            label.append(f"\n{conv.message_count} msgs · {age(conv.updated_at, now)}", "dim")
            if conv.archived:
                label.append(" · archived", "dim italic")
            options.add_option(Option(label, id=str(conv.id)))
        keep = selected if selected is not None else current
        ids = [c.id for c in conversations]
        if keep in ids:
            options.highlighted = ids.index(keep)
        elif conversations:
            options.highlighted = 0
        title = "Archived" if self.show_archived else "Conversations"
        self.query_one(".sidebar-title", Static).update(f"{title} ({len(conversations)})")

    @property
    def filter_text(self) -> str:
        return self.query_one(Input).value.strip()

    def _selected(self) -> int | None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self._conversations):
            return None
        return self._conversations[index].id

    @on(Input.Changed, ".filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Chosen("refresh", None))

    @on(Input.Submitted, ".filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _selected_option(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen("open", int(event.option.id)))

    def action_open(self) -> None:
        self.post_message(self.Chosen("open", self._selected()))

    def action_new(self) -> None:
        self.post_message(self.Chosen("new", None))

    def action_rename(self) -> None:
        self.post_message(self.Chosen("rename", self._selected()))

    def action_archive(self) -> None:
        self.post_message(self.Chosen("archive", self._selected()))

    def action_delete(self) -> None:
        self.post_message(self.Chosen("delete", self._selected()))

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.post_message(self.Chosen("refresh", None))
