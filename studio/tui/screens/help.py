"""F1: every key binding in effect, grouped by where it works."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.markup import escape
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from studio.textsafe import clean_line

HELP_INTRO = """\
[b]AnyFast Studio[/b] — type in the prompt and press [b]Enter[/b]. Replies stream live; \
[b]esc[/b] stops one and keeps its text. Everything below is also in the command palette \
([b]ctrl+p[/b]). To change a key, add it to the [i]\\[keymap][/i] table of the config file \
by the id shown here, e.g. [i]main.regenerate = "f5"[/i]."""


def effective_key(binding: Binding, keymap: Mapping[str, str]) -> str:
    if binding.id and binding.id in keymap:
        return keymap[binding.id]
    return binding.key


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


def bindings_table(groups: Mapping[str, Iterable[BindingType]], keymap: Mapping[str, str]) -> Table:
    table = Table(box=None, expand=True, padding=(0, 1), show_header=False)
    table.add_column("key", style="bold cyan", no_wrap=True, ratio=2)
    table.add_column("action", ratio=4)
    table.add_column("id", style="dim", no_wrap=True, ratio=2)
    for title, items in groups.items():
        table.add_row(f"[b u]{title}[/]", "", "")
        for binding in _bindings(items):
            keys = ", ".join(k.strip() for k in effective_key(binding, keymap).split(","))
            # Keys come from the user's keymap: shown as typed, never as markup.
            table.add_row(
                escape(clean_line(keys)), binding.tooltip or binding.description, binding.id or ""
            )
        table.add_row("", "", "")
    return table


class HelpScreen(ModalScreen[None]):
    """Shows the bindings table built by the caller (so it reflects the user's keymap)."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close")]

    def __init__(self, table: Table) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static("Keys", classes="dialog-title")
            yield Static(HELP_INTRO, classes="dialog-hint")
            yield Static(self.table)
            yield Static("esc closes", classes="dialog-hint")
