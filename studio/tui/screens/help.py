"""F1: every key binding in effect, grouped by where it works."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from studio.textsafe import clean_line

HELP_INTRO = """\
[b]AnyFast Studio[/b] — type in the prompt and press [b]Enter[/b]. Replies stream live; \
[b]esc[/b] stops one and keeps its text. Everything below is also in the command palette \
([b]ctrl+p[/b]), which also finds conversations, models, jobs and themes (type [i]theme[/i] \
to try each one live); [b]f6[/b] holds every setting. To change a key, add it to the \
[i]\\[keymap][/i] table of the config file \
by the id shown here, e.g. [i]main.regenerate = "f5"[/i]."""


def effective_key(binding: Binding, keymap: Mapping[str, str]) -> str:
    if binding.id and binding.id in keymap:
        return keymap[binding.id]
    return binding.key


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


@dataclass(frozen=True)
class KeyRow:
    """One binding as the help shows it."""

    keys: str
    action: str
    id: str


class BindingsTable(Table):
    """Every binding, grouped, as a table (key, action, id) that lays itself out for the width
    it is given: three columns where they fit, else the key and the action with the id after
    it, so an id is never cut (80 columns and up, an id is whole on one line)."""

    KEY_WIDTH = 24
    """Longer key lists wrap at their commas."""
    NARROW_KEY_WIDTH = 16
    MIN_ACTION = 30

    def __init__(self) -> None:
        super().__init__(box=None, expand=True, padding=(0, 1), show_header=False)
        self.key_style: Style | str = "bold"
        """How the keys are drawn: :class:`KeysView` gives the theme's accent."""
        self.add_column("key", no_wrap=True)
        self.add_column("action")
        self.add_column("id", style="dim", no_wrap=True)
        self.groups: dict[str, list[KeyRow]] = {}
        """What is shown; the table's own columns hold the same as plain text (never drawn)."""

    def add_group(self, title: str, rows: list[KeyRow]) -> None:
        self.groups[title] = rows
        self.add_row(Text(title, style="bold underline"), "", "")
        for row in rows:
            self.add_row(row.keys, row.action, row.id)
        self.add_row("", "", "")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        every = [row for rows in self.groups.values() for row in rows]
        ids = max((cell_len(row.id) for row in every), default=0)
        wide = options.max_width >= self.KEY_WIDTH + ids + self.MIN_ACTION + 4
        longest = max((cell_len(row.keys) for row in every), default=0)
        key_width = min(longest, self.KEY_WIDTH if wide else self.NARROW_KEY_WIDTH)
        for title, rows in self.groups.items():
            yield Text(title, style="bold underline")
            table = Table(box=None, expand=True, padding=(0, 1), show_header=False)
            table.pad_edge = False
            table.add_column("key", style=self.key_style, width=key_width)  # same in each group
            table.add_column("action", ratio=1)
            if wide:
                table.add_column("id", style="dim", no_wrap=True, width=ids)
            for row in rows:  # Text, never markup: the keys come from the user's keymap
                if wide:
                    table.add_row(Text(row.keys), Text(row.action), Text(row.id))
                else:
                    action = Text(row.action)
                    if row.id:
                        action.append("  ")
                        action.append(row.id, style="dim")
                    table.add_row(Text(row.keys), action)
            yield table
            yield Text("")


def bindings_table(
    groups: Mapping[str, Iterable[BindingType]], keymap: Mapping[str, str]
) -> BindingsTable:
    table = BindingsTable()
    for title, items in groups.items():
        rows = []
        for binding in _bindings(items):
            keys = ", ".join(k.strip() for k in effective_key(binding, keymap).split(","))
            # Keys come from the user's keymap: shown as typed, made safe.
            action = binding.tooltip or binding.description
            rows.append(KeyRow(clean_line(keys), action, binding.id or ""))
        table.add_group(title, rows)
    return table


class KeysView(Static):
    """The bindings table, its keys in the theme's accent (drawn anew when the theme changes:
    Textual refreshes a widget whose component styles change)."""

    COMPONENT_CLASSES = {"keys-view--key"}
    DEFAULT_CSS = "KeysView > .keys-view--key { color: $text-accent; text-style: bold; }"

    def __init__(self, table: BindingsTable) -> None:
        super().__init__(table)
        self.table = table

    def render(self) -> RenderableType:
        self.table.key_style = self.get_component_rich_style("keys-view--key", partial=True)
        return self.table


class HelpScreen(ModalScreen[None]):
    """Shows the bindings table built by the caller (so it reflects the user's keymap)."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close")]

    def __init__(self, table: BindingsTable) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static("Keys", classes="dialog-title")
            yield Static(HELP_INTRO, classes="dialog-hint help-intro")
            yield KeysView(self.table)
            yield Static("esc closes", classes="dialog-hint")
