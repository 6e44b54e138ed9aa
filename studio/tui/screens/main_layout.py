"""How the main screen fits its terminal: when the conversation list shows, and whether a split
view has room for two panes.

The classic SSH window is 80x24: there the list hides itself (f9 or ctrl+l still show it) and
a split view shows only the active pane until the terminal is wide enough for two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.widget import Widget

if TYPE_CHECKING:
    from studio.tui.screens.main import MainScreen

SIDEBAR_MIN_SCREEN = 100
"""Below this many columns the conversation list hides itself (unless the user showed it)."""
MIN_PANE = 40
"""The narrowest a chat pane may be: a split that would make narrower panes shows one."""


@dataclass(frozen=True)
class Fit:
    """What the main screen shows at a given width."""

    sidebar: bool
    """The conversation list."""
    two_panes: bool
    """Both panes of a split view (False: only the active one)."""


def sidebar_wanted(width: int, *, choice: bool | None, jobs: int, sidebar: int) -> bool:
    """Whether the conversation list shows: the user's ``choice`` (f9) when they made one,
    otherwise only when the screen is wide and the list leaves a chat pane its room beside the
    job sidebar (``jobs`` and ``sidebar`` are their widths in cells)."""
    if choice is not None:
        return choice
    return width >= SIDEBAR_MIN_SCREEN and width - jobs - sidebar >= MIN_PANE


def fit_width(
    width: int, *, choice: bool | None, peek: bool, split: bool, jobs: int, sidebar: int
) -> Fit:
    """The layout for a screen ``width`` cells wide. ``peek``: the list is shown for a moment
    (ctrl+l) whatever the width."""
    show_list = peek or sidebar_wanted(width, choice=choice, jobs=jobs, sidebar=sidebar)
    panes = width - jobs - (sidebar if show_list else 0)
    return Fit(sidebar=show_list, two_panes=split and panes // 2 >= MIN_PANE)


def choice_after_toggle(visible: bool, width: int, *, jobs: int, sidebar: int) -> bool | None:
    """The user's choice after f9 flips the list: ``None`` (automatic again) when the list is
    now as the width alone would have it, otherwise the explicit show or hide."""
    wanted = not visible
    automatic = sidebar_wanted(width, choice=None, jobs=jobs, sidebar=sidebar)
    return None if wanted == automatic else wanted


class ListFit:
    """The main screen's fit to its terminal: the conversation list shows, hides itself or is
    shown for a moment (ctrl+l); :meth:`fit` tells the panes whether a split has room."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.choice: bool | None = None
        """The user's f9: show or hide the conversation list; None: as the width allows."""
        self.peek = False
        """The list is shown for a moment (ctrl+l) in a terminal too narrow for it."""

    def focus_list(self) -> None:
        """Focus the conversation list, showing it until the focus leaves it if it is hidden."""
        sidebar = self.screen.query_one("#sidebar")
        if not sidebar.display:
            self.peek = True  # shown until the focus leaves it (a conversation opened)
            self.screen.show_panes()
        sidebar.query_one("OptionList").focus()

    def toggle_list(self) -> None:
        """f9: show or hide the list, remembered (and back to automatic when it agrees)."""
        screen = self.screen
        sidebar = screen.query_one("#sidebar")
        self.peek = False
        self.choice = choice_after_toggle(sidebar.display, screen.size.width, **self._widths())
        screen.studio.store.set_state("sidebar", self.choice)
        screen.show_panes()

    def fit(self, *, split: bool) -> Fit:
        """Show or hide the conversation list for the screen's width; say whether a split view
        (``split``) has room for two panes."""
        screen = self.screen
        sidebar = screen.query_one("#sidebar")
        fit = fit_width(
            screen.size.width, choice=self.choice, peek=self.peek, split=split, **self._widths()
        )
        if sidebar.display != fit.sidebar:
            if not fit.sidebar and sidebar.has_focus_within and screen.active_pane is not None:
                screen.active_pane.focus_prompt()  # the focus never stays in a hidden list
            sidebar.display = fit.sidebar
        return fit

    def _widths(self) -> dict[str, int]:
        """The cells the conversation list and the (open) job sidebar take, from their CSS."""
        jobs = self.screen.query_one_optional("#jobs-sidebar")
        open_jobs = jobs is not None and not jobs.has_class("hidden")
        return {
            "sidebar": _cells(self.screen.query_one("#sidebar")),
            "jobs": _cells(jobs) if jobs is not None and open_jobs else 0,
        }

    def focus_moved(self) -> None:
        """The focus moved: a list shown for a moment goes once it is left."""
        if self.peek and not self.screen.query_one("#sidebar").has_focus_within:
            self.peek = False
            self.screen.call_after_refresh(self.screen.show_panes)


def _cells(widget: Widget) -> int:
    """A widget's width in cells as its CSS sets it (0 when it is not a number of cells)."""
    width = widget.styles.width
    return (width.cells or 0) if width is not None else 0
