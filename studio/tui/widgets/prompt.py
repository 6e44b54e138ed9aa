"""The multi-line prompt: Enter sends, ctrl+j / alt+enter (/ shift+enter) add a newline, up in
an empty prompt recalls earlier prompts, PageUp/PageDown (shift+up/down) scroll the conversation
while the prompt keeps the focus.

Every key here is a binding with an id, so the ``[keymap]`` of the config file remaps it; and a
key the keymap gives to an action outside the prompt (``"main.copy_reply" = "ctrl+y"``) wins
over TextArea's own key for it (redo, here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from textual import events
from textual.binding import Binding
from textual.message import Message

from studio.tui.keys import declared_bindings
from studio.tui.widgets.safe_text_area import SafeTextArea

Scroll = Literal["page_up", "page_down", "up", "down"]

_TEXT_AREA_KEYS = {
    "up": "cursor_up",
    "down": "cursor_down",
    "pageup": "cursor_page_up",
    "pagedown": "cursor_page_down",
    "shift+up": "cursor_up(True)",
    "shift+down": "cursor_down(True)",
}
"""TextArea's meaning of the keys the prompt binds: theirs again when the keymap moves the
prompt's binding elsewhere (Textual's keymap removes the key from the prompt altogether)."""

_MODIFIED = ("ctrl+", "alt+", "super+", "meta+", "hyper+")


class PromptInput(SafeTextArea):
    """A TextArea that submits on Enter and walks the prompt history with up/down (and never
    paints a control character raw: a recalled prompt or a paste may hold some)."""

    DEFAULT_CSS = """
    PromptInput { height: auto; min-height: 3; max-height: 12; }
    """

    BINDINGS = [
        Binding("enter", "send", "Send", show=False, tooltip="Send the prompt", id="prompt.send"),
        Binding(
            "ctrl+j,alt+enter,shift+enter,ctrl+enter",
            "newline",
            "Newline",
            show=False,
            tooltip="Insert a newline (alt+enter in tmux too; shift+enter and ctrl+enter "
            "where the terminal tells them apart)",
            id="prompt.newline",
        ),
        Binding(
            "up",
            "history(1)",
            "Earlier prompt",
            show=False,
            tooltip="In an empty prompt: the earlier prompts (elsewhere: cursor up)",
            id="prompt.history",
        ),
        Binding(
            "down",
            "history(-1)",
            "Later prompt",
            show=False,
            tooltip="Back through the recalled prompts (elsewhere: cursor down)",
            id="prompt.history_next",
        ),
        Binding(
            "pageup",
            "scroll_conversation('page_up')",
            "Page up",
            show=False,
            tooltip="Scroll the conversation up a page (the prompt keeps the focus)",
            id="prompt.page_up",
        ),
        Binding(
            "pagedown",
            "scroll_conversation('page_down')",
            "Page down",
            show=False,
            tooltip="Scroll the conversation down a page (back to the bottom: it follows again)",
            id="prompt.page_down",
        ),
        Binding(
            "shift+up",
            "scroll_conversation('up')",
            "Scroll up",
            show=False,
            tooltip="Scroll the conversation up a few lines (in a prompt of several lines: "
            "select upwards)",
            id="prompt.scroll_up",
        ),
        Binding(
            "shift+down",
            "scroll_conversation('down')",
            "Scroll down",
            show=False,
            tooltip="Scroll the conversation down a few lines (in a prompt of several lines: "
            "select downwards)",
            id="prompt.scroll_down",
        ),
    ]

    @dataclass
    class Submitted(Message):
        """The user pressed Enter with this text."""

        prompt: PromptInput
        text: str

    @dataclass
    class ScrollRequested(Message):
        """Scroll the conversation this prompt belongs to (the prompt keeps the focus)."""

        prompt: PromptInput
        how: Scroll

    def __init__(self, *, history: list[str] | None = None, id: str | None = None) -> None:
        super().__init__(
            "",
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder="Message…  (Enter sends · ctrl+j newline · alt+a attach · F1 keys)",
        )
        self.earlier: list[str] = list(history or [])
        """Earlier prompts, newest first (``history`` is TextArea's undo history)."""
        self._history_index = -1
        self._own_keys: tuple[Mapping[str, str], frozenset[str]] | None = None

    def on_mount(self) -> None:
        send, newline = self._first_key("prompt.send"), self._first_key("prompt.newline")
        attach, help_key = self._first_key("main.attach"), self._first_key("app.help")
        if send and newline:
            self.placeholder = (
                f"Message…  ({'Enter' if send == 'enter' else send} sends · {newline} newline"
                + (f" · {attach} attach" if attach else "")
                + (f" · {'F1' if help_key == 'f1' else help_key} keys)" if help_key else ")")
            )

    def _keymap(self) -> Mapping[str, str]:
        keymap = getattr(self.app, "keymap", None)
        return keymap if isinstance(keymap, Mapping) else {}

    def _first_key(self, binding_id: str) -> str:
        """The first key of a binding (of the prompt, the main screen or the app), as mapped."""
        keymap = self._keymap()
        if binding_id in keymap:
            return keymap[binding_id].split(",")[0]
        for node in (self, *self.ancestors):
            for binding in declared_bindings(node):
                if binding.id == binding_id:
                    return binding.key.split(",")[0].strip()
        return ""

    def own_keys(self) -> frozenset[str]:
        """The keys of the prompt's own bindings, as the keymap maps them."""
        keymap = self._keymap()
        if self._own_keys is None or self._own_keys[0] is not keymap:
            keys = {
                key.strip()
                for binding in declared_bindings(self)
                for key in keymap.get(binding.id or "", binding.key).split(",")
            }
            self._own_keys = (keymap, frozenset(keys))
        return self._own_keys[1]

    def _own_action(self, key: str) -> str | None:
        """The action of the prompt's own binding for ``key``, as the keymap maps it."""
        keymap = self._keymap()
        for binding in declared_bindings(self):
            keys = keymap.get(binding.id or "", binding.key).split(",")
            if key in (k.strip() for k in keys):
                return binding.action
        return None

    def remember(self, text: str) -> None:
        if text and (not self.earlier or self.earlier[0] != text):
            self.earlier.insert(0, text)
        self._history_index = -1

    async def on_key(self, event: events.Key) -> None:
        # Textual runs each class's key handler, this one before TextArea's: prevent_default
        # keeps TextArea's from typing the key; an event not stopped goes on up to the bindings.
        key = event.key
        typing = event.is_printable and not key.startswith(_MODIFIED)
        if not typing and await self._run_keymap_key(key):
            event.prevent_default()
            event.stop()
            return
        action = self._own_action(key)
        if action is not None:
            # The prompt's own keys run here, in order with the typed characters: bubbling up
            # to the bindings waits for every busy ancestor (a pane mounting a message), and
            # what is typed meanwhile would join the prompt before Enter took it.
            event.prevent_default()
            event.stop()
            await self.run_action(action)
            return
        if key in self.own_keys() or key.startswith(_MODIFIED):
            # The bindings take it (the prompt's, the screen's, the app's). A real terminal's
            # alt+a arrives with character "a": TextArea would type it.
            event.prevent_default()
            return
        if key in _TEXT_AREA_KEYS:  # the keymap moved the prompt's binding away: TextArea's
            event.prevent_default()
            event.stop()
            await self.run_action(_TEXT_AREA_KEYS[key])

    async def _run_keymap_key(self, key: str) -> bool:
        """Run the action the user's keymap put on ``key`` outside the prompt (TextArea's own
        keys, e.g. ctrl+y for redo, would come first otherwise); False if there is none or it
        cannot run now."""
        user_keys = getattr(self.app, "user_keys", None)
        binding_id = user_keys.get(key) if isinstance(user_keys, Mapping) else None
        if not binding_id or key in self.own_keys():
            return False
        for node in self.ancestors:
            for binding in declared_bindings(node):
                if binding.id == binding_id:
                    return await self.app.run_action(binding.action, node)
        return False

    # -- actions ---------------------------------------------------------------------------------

    def action_send(self) -> None:
        text = self.text
        if text.strip():
            # Read once and cleared here, before the pane (busy, maybe) handles it: what is
            # typed next starts a new prompt instead of joining this one.
            self.text = ""
            self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        result = self.replace("\n", *self.selection, maintain_selection_offset=False)
        self.move_cursor(result.end_location)

    def action_history(self, step: int) -> None:
        """up/down: walk the earlier prompts from an empty (or recalled) prompt, else move."""
        if step > 0 and self._recall(1):
            return
        if step < 0 and self._history_index >= 0 and self._recall(-1):
            return
        if step > 0:
            self.action_cursor_up()
        else:
            self.action_cursor_down()

    def action_scroll_conversation(self, how: Scroll) -> None:
        if how in ("up", "down") and self.document.line_count > 1:
            # In a prompt of several lines, shift+up/down select, as in any editor.
            if how == "up":
                self.action_cursor_up(True)
            else:
                self.action_cursor_down(True)
            return
        self.post_message(self.ScrollRequested(self, how))

    def _recall(self, step: int) -> bool:
        """Show an earlier (step 1) or later (step -1) prompt; only from an empty or recalled
        prompt, and only when the cursor is on the first (up) or last (down) line."""
        recalled = self._history_index >= 0 and self.text == self.earlier[self._history_index]
        if self.text and not recalled:
            return False
        row = self.cursor_location[0]
        if step > 0 and row != 0:
            return False
        if step < 0 and row != self.document.line_count - 1:
            return False
        index = self._history_index + step
        if index < -1 or index >= len(self.earlier):
            return step > 0 and bool(self.earlier)
        self._history_index = index
        self.text = self.earlier[index] if index >= 0 else ""
        self.move_cursor(self.document.end)
        return True
