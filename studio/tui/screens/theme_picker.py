"""The theme picker: every theme (Studio's files and Textual's own), each shown on the app as it
is highlighted; Enter keeps it (saved to the config), Escape goes back to the theme before. A
theme the app's CSS cannot take is not shown: a toast says why, the theme in use stays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from studio.textsafe import clean_line
from studio.tui.themes import save_theme, theme_origin, theme_problem

if TYPE_CHECKING:
    from studio.tui.app import StudioApp


class ThemePicker(ModalScreen[str | None]):
    """Pick a theme with live preview; dismissed with the name kept, or None when cancelled."""

    DEFAULT_CSS = """
    ThemePicker { align: right top; background: $background 0%; }
    ThemePicker > Vertical {
        width: 44; max-width: 100%; height: 100%; background: $surface; border-left: wide $primary;
    }
    ThemePicker .picker-title { padding: 0 1; text-style: bold; }
    ThemePicker .picker-hint { padding: 0 1; color: $text-muted; }
    ThemePicker OptionList { height: 1fr; border: none; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.original = ""
        self._problems: dict[str, str | None] = {}
        """Each theme tried while the picker is open -> why it cannot be used (or None)."""

    def compose(self) -> ComposeResult:
        app = self.studio
        self.original = app.theme
        names = sorted(app.available_themes)
        with Vertical():
            yield Static("Theme", classes="picker-title")
            yield Static("↑↓ preview · enter keep · esc cancel", classes="picker-hint")
            options = OptionList(*(Option(self._label(name), id=name) for name in names))
            options.highlighted = names.index(self.original) if self.original in names else 0
            yield options

    def _label(self, name: str) -> Text:
        """``ember           Studio · dark``: where the theme comes from and its kind."""
        theme = self.app.get_theme(name)
        origin = theme_origin(self.studio, name)
        kind = "dark" if theme is None or theme.dark else "light"
        if theme is not None and theme.ansi:
            kind = "terminal colours"
        shown = clean_line(name)
        if name == self.original:
            shown = f"{shown} ✓"
        label = Text(f"{shown:<22}", no_wrap=True, overflow="ellipsis")
        label.append(f"{origin} · {kind}", style="dim")
        return label

    @property
    def studio(self) -> StudioApp:
        from studio.tui.app import StudioApp

        assert isinstance(self.app, StudioApp)
        return self.app

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option_id
        if name and name != self.app.theme and self._usable(name, again=False):
            self.app.theme = name  # the preview; saved only when kept

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        name = event.option_id or self.app.theme
        if not self._usable(name, again=True):
            return  # the picker stays open on the theme shown
        self.app.theme = name
        save_theme(self.studio, name)
        self.dismiss(name)

    def _usable(self, name: str, *, again: bool) -> bool:
        """Whether theme ``name`` can be applied; if not, a toast says why (once as the
        highlight passes, ``again`` when Enter asks for it)."""
        known = name in self._problems
        if not known:
            self._problems[name] = theme_problem(self.studio, name)
        problem = self._problems[name]
        if problem is not None and (again or not known):
            self.app.notify(
                f"The theme {name} cannot be used: {problem}",
                title="Theme",
                severity="warning",
                markup=False,
            )
        return problem is None

    def key_escape(self) -> None:
        """Cancel: back to the theme shown before the picker opened."""
        self.app.theme = self.original
        self.dismiss(None)
