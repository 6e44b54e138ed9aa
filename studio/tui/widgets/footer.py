"""The key bar along the bottom of the main screen: one widget, complete in the first frame.
Every dialog and form opened over it gets a key bar of its own that shows the dialog's keys.

Textual's ``Footer`` mounts a widget per key, starts empty and rebuilds all of them after the
screen's first refresh and whenever focus moves. At start-up its twelve keys were the dearest
widgets on the screen to style (about a third of all styling before the first frame,
``tests/bench/startup.py``), and each rebuild held a frame back. :class:`KeyBar` draws the
same keys as one line of text, redrawn (not rebuilt) when the keys change. A click on a key
presses it, as with Textual's footer; hovering one shows its tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

SEPARATOR = "▏"
DIM = Style(dim=True)
KEPT_ACTIONS = frozenset({"help"})
"""Actions whose key stays on the bar however narrow the terminal: the help screen (f1) lists
every key the bar had no room for."""


@dataclass(frozen=True, slots=True)
class KeyHint:
    """One key as shown: what to press, what it does, whether it does anything now."""

    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    kept: bool = False
    """Dropped last when the bar is short of room (:data:`KEPT_ACTIONS`)."""


class KeyBar(Widget):
    """The screen's active key bindings (those marked ``show``), with the command palette's key
    at the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--hover"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        & > .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keybar--hover { background: $block-hover-background; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spans: list[tuple[int, int, KeyHint]] = []
        """Where each key was drawn (start and end cell) in the last render."""
        self._hover: KeyHint | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        if not isinstance(self.screen, ModalScreen):
            self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)
        self.app.screen_change_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen[object]) -> None:
        self.refresh()

    def _screen_changed(self, screen: Screen[object]) -> None:
        """A dialog or form covers this screen: it gets a key bar of its own, showing its keys
        (the keys of the screen below do nothing while it is open)."""
        if isinstance(screen, ModalScreen) and not screen.query(KeyBar):
            screen.mount(KeyBar(classes="dialog-keys"))

    def hints(self) -> tuple[list[KeyHint], KeyHint | None]:
        """The keys to show (the first binding of each action, in order) and the palette's."""
        app = self.app
        palette_key = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
        keys: list[KeyHint] = []
        seen: set[str] = set()
        palette: KeyHint | None = None
        for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            hint = KeyHint(
                key,
                app.get_key_display(binding),
                binding.description,
                enabled,
                tooltip or binding.tooltip or binding.description,
                binding.action in KEPT_ACTIONS,
            )
            if key == palette_key:
                palette = hint
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)
                keys.append(hint)
        return keys, palette

    def render(self) -> Text:
        keys, palette = self.hints()
        key_style = self.get_component_rich_style("keybar--key")
        text_style = self.get_component_rich_style("keybar--description")
        hover = self.get_component_rich_style("keybar--hover", partial=True)
        width = self.size.width
        palette_cells = len(palette.display) + len(palette.description) + 4 if palette else 0
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, KeyHint]] = []

        def add(hint: KeyHint) -> None:
            start = line.cell_len
            extra = DIM if not hint.enabled else hover if hint == self._hover else None
            line.append(f" {hint.display} ", key_style)
            line.append(f"{hint.description} " if hint.description else "", text_style)
            if extra is not None:
                line.stylize(extra, start)
            spans.append((start, line.cell_len, hint))

        for hint in fitting(keys, width - palette_cells):
            add(hint)
        if palette is not None and width >= palette_cells:
            line.append(" " * (width - palette_cells - line.cell_len), text_style)
            line.append(SEPARATOR, text_style)
            add(palette)
        self._spans = spans
        return line

    def _hint_at(self, x: int) -> KeyHint | None:
        return next((hint for start, end, hint in self._spans if start <= x < end), None)

    def on_click(self, event: events.Click) -> None:
        hint = self._hint_at(event.x)
        if hint is not None and hint.enabled:
            event.stop()
            self.app.simulate_key(hint.key)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hint = self._hint_at(event.x)
        if hint != self._hover:
            self._hover = hint
            self.tooltip = hint.tooltip if hint is not None else None
            self.refresh()

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()


def hint_cells(hint: KeyHint) -> int:
    """The cells a key takes on the bar: `` key description ``."""
    return len(hint.display) + len(hint.description) + 3


def fitting(keys: list[KeyHint], room: int) -> list[KeyHint]:
    """The keys that fit in ``room`` cells, in their order: the kept ones (help) first of all,
    then the others from the left until one does not fit; the rest are in the help screen (f1)
    and the palette."""
    used = sum(hint_cells(hint) for hint in keys if hint.kept)
    shown: list[KeyHint] = []
    full = False
    for hint in keys:
        if hint.kept:
            shown.append(hint)
        elif not full and used + hint_cells(hint) <= room:
            used += hint_cells(hint)
            shown.append(hint)
        else:
            full = True
    return shown
