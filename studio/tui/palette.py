"""The command palette (ctrl+p): every action Studio has a key for, by name, with its key.

:class:`StudioCommands` lists the app's bindings, the bindings of the screen the palette was
opened on, and on the main screen the conversation list's actions applied to the conversation
in view (rename, archive, delete). The key shown is the one in effect (the user's keymap
applied); running a command does what its key does. Conversations, models, jobs, themes and
recent searches are found by :mod:`studio.tui.palette_finds`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hits, Provider
from textual.dom import DOMNode

from studio.tui.keys import declared_bindings
from studio.tui.palette_match import Entry, display, hits

NAMES = {
    "app.help": "Help: every key",
    "app.jobs": "Jobs: show or hide the job queue",
    "app.image": "New image",
    "app.video": "New video",
    "app.gallery": "Gallery of generated images",
    "app.search": "Search conversations (every message)",
    "app.quit": "Quit Studio",
    "app.settings": "Settings: every Studio setting",
    "main.new_conversation": "New conversation",
    "main.pick_model": "Choose the model",
    "main.conversation_settings": "Conversation settings",
    "main.toggle_split": "Split view on/off",
    "main.stop": "Stop the reply",
    "main.regenerate": "Regenerate the last reply",
    "main.edit_last": "Edit your last message",
    "main.copy_reply": "Copy the last reply",
    "main.copy_code": "Copy the last code block",
    "main.attach": "Attach an image",
    "main.export": "Export the conversation (Markdown, JSON, HTML)",
    "main.clear_attachments": "Drop pending attachments",
    "main.select_message": "Select messages",
    "main.close_tab": "Close the tab",
    "main.next_tab": "Next tab",
    "main.previous_tab": "Previous tab",
    "main.other_pane": "Other pane of the split",
    "main.focus_list": "Go to the conversation list",
    "main.toggle_sidebar": "Hide or show the conversation list",
    "main.start_demo": "Start the demo",
    "job.close": "Job: close the details",
    "job.copy_url": "Job: copy the result links",
    "job.copy_path": "Job: copy where the results are saved",
    "job.open_file": "Job: open the result",
    "job.recheck": "Job: check again now",
    "job.resend": "Job: send the uncertain request again",
    "job.attach": "Job: attach a task id",
    "job.retry": "Job: retry as a new job",
    "job.cancel": "Job: cancel (stop tracking)",
    "job.remove": "Job: remove from the list",
}
"""What the palette calls a binding (by id); others go by their description."""

LIST_ACTIONS = (
    ("list.rename", "Rename conversation", "rename"),
    ("list.archive", "Archive conversation", "archive"),
    ("list.delete", "Delete conversation", "delete"),
)
"""The conversation list's actions (binding id, name, action) that the palette applies to the
conversation in view."""

WIDGET_NAMES = {
    "PromptInput": "Prompt",
    "MessageView": "Message",
    "ConversationList": "List",
    "JobSidebar": "Job queue",
    "ChatPane": "Conversation",
}
"""What the palette calls the focused widget (or the one holding it) whose keys it lists."""
MOVES = frozenset({"cursor", "move", "history", "scroll_conversation", "rows", "leave", "newline"})
"""Actions that only move within a widget: not worth a palette entry."""


class StudioCommands(Provider):
    """Studio's actions for the command palette."""

    def keys(self, binding: Binding) -> str:
        """The binding's keys as the user's keymap maps them (the first two)."""
        keymap = getattr(self.app, "keymap", {})
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        return ", ".join(k.strip() for k in keys.split(",")[:2])

    def _from_bindings(self, node: DOMNode, where: str = "") -> Iterator[Entry]:
        for binding in declared_bindings(node):
            action = binding.action.partition("(")[0]
            if node.check_action(action, ()) is not True:
                continue  # not possible now (no reply streaming, no welcome panel...)
            if where and action in MOVES:
                continue
            name = NAMES.get(binding.id or "", binding.description)
            yield Entry(
                f"{where}: {binding.tooltip or name}" if where else name,
                partial(self.app.run_action, binding.action, node),
                binding.tooltip or binding.description,
                self.keys(binding),
            )

    def commands(self) -> list[Entry]:
        """Every command for the screen the palette was opened on."""
        from studio.tui.screens.main import MainScreen
        from studio.tui.widgets.conversation_list import ConversationList

        screen = self.screen
        found = [*self._from_bindings(self.app), *self._from_bindings(screen)]
        found.extend(self._focused_widgets())
        if not isinstance(screen, MainScreen):
            return found
        focus_list = next((b for b in declared_bindings(screen) if b.action == "focus_list"), None)
        list_bindings = {b.id: b for b in ConversationList.BINDINGS if isinstance(b, Binding)}
        for binding_id, name, action in LIST_ACTIONS:
            binding = list_bindings.get(binding_id)
            keys = ""
            if binding is not None and focus_list is not None:
                keys = f"{self.keys(focus_list)} then {self.keys(binding)}"
            found.append(
                Entry(
                    name,
                    partial(self._list_action, screen, action),
                    f"{name} (the one in view)",
                    keys,
                )
            )
        return found

    def _focused_widgets(self) -> Iterator[Entry]:
        """The keys of the focused widget and of the widgets holding it (a selected message,
        the prompt, the list), named after the widget."""
        node: DOMNode | None = self.focused
        while node is not None and node is not self.screen:
            where = WIDGET_NAMES.get(type(node).__name__)
            if where:
                yield from self._from_bindings(node, where)
            node = node.parent

    async def _list_action(self, screen: DOMNode, action: str) -> None:
        from studio.tui.screens.main import MainScreen
        from studio.tui.widgets.conversation_list import ConversationList

        if isinstance(screen, MainScreen) and screen.active_id is not None:
            screen.post_message(ConversationList.Chosen(action, screen.active_id))

    async def discover(self) -> Hits:
        for entry in sorted(self.commands(), key=lambda e: e.text):
            yield DiscoveryHit(display(entry), entry.run, text=entry.text, help=entry.help)

    async def search(self, query: str) -> Hits:
        async for hit in hits(query, self.commands(), self.match_style):
            yield hit
