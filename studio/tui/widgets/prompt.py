"""The multi-line prompt: Enter sends, ctrl+j / alt+enter (/ shift+enter) add a newline,
up in an empty prompt recalls earlier prompts."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message

from studio.tui.widgets.safe_text_area import SafeTextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "alt+enter", "shift+enter", "ctrl+enter"})


class PromptInput(SafeTextArea):
    """A TextArea that submits on Enter and walks the prompt history with up/down (and never
    paints a control character raw: a recalled prompt or a paste may hold some)."""

    DEFAULT_CSS = """
    PromptInput { height: auto; min-height: 3; max-height: 12; }
    """

    @dataclass
    class Submitted(Message):
        """The user pressed Enter with this text."""

        prompt: PromptInput
        text: str

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

    def remember(self, text: str) -> None:
        if text and (not self.earlier or self.earlier[0] != text):
            self.earlier.insert(0, text)
        self._history_index = -1

    async def _on_key(self, event: events.Key) -> None:
        if event.key.startswith(("alt+", "ctrl+")) and event.key not in NEWLINE_KEYS:
            # A real terminal's alt+a arrives with character "a"; TextArea would type it.
            # Leave modifier combos to the bindings (TextArea's own ctrl keys are bindings too).
            # Textual runs every class's _on_key: prevent_default keeps TextArea's from typing.
            event.prevent_default()
            return
        if event.key == "enter":
            event.prevent_default()
            event.stop()
            text = self.text
            if text.strip():
                self.post_message(self.Submitted(self, text))
            return
        if event.key in NEWLINE_KEYS:
            event.prevent_default()
            event.stop()
            self.insert("\n")
            return
        if event.key == "up" and self._recall(1):
            event.prevent_default()
            event.stop()
            return
        if event.key == "down" and self._history_index >= 0 and self._recall(-1):
            event.prevent_default()
            event.stop()
            return
        await super()._on_key(event)

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
