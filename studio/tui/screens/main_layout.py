"""How the main screen fits its terminal: when the conversation list shows, and whether a split
view has room for two panes.

The classic SSH window is 80x24: there the list hides itself (f9 or ctrl+l still show it) and
a split view shows only the active pane until the terminal is wide enough for two.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.widget import Widget

from studio.tui.screens.main_base import MainScreenBase

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


class MainScreenLayout(MainScreenBase):
    """The main screen's fit to its terminal: the conversation list shows, hides itself or is
    shown for a moment; :meth:`fit_layout` tells the panes whether a split has room."""

    def __init__(self) -> None:
        super().__init__()
        self.sidebar_choice: bool | None = None
        """The user's f9: show or hide the conversation list; None: as the width allows."""
        self._peek = False
        """The list is shown for a moment (ctrl+l) in a terminal too narrow for it."""

    def action_focus_list(self) -> None:
        sidebar = self.query_one("#sidebar")
        if not sidebar.display:
            self._peek = True  # shown until the focus leaves it (a conversation opened)
            self._layout()
        sidebar.query_one("OptionList").focus()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        self._peek = False
        self.sidebar_choice = choice_after_toggle(
            sidebar.display, self.size.width, **self._widths()
        )
        self.studio.store.set_state("sidebar", self.sidebar_choice)
        self._layout()

    def fit_layout(self, *, split: bool | None = None) -> Fit:
        """Show or hide the conversation list for the screen's width; say whether the split
        view (``split``, by default the current one) has room for two panes."""
        sidebar = self.query_one("#sidebar")
        fit = fit_width(
            self.size.width,
            choice=self.sidebar_choice,
            peek=self._peek,
            split=self.split if split is None else split,
            **self._widths(),
        )
        if sidebar.display != fit.sidebar:
            if not fit.sidebar and sidebar.has_focus_within and self.active_pane is not None:
                self.active_pane.focus_prompt()  # the focus never stays in a hidden list
            sidebar.display = fit.sidebar
        return fit

    def _widths(self) -> dict[str, int]:
        """The cells the conversation list and the (open) job sidebar take, from their CSS."""
        jobs = self._job_sidebar
        open_jobs = jobs is not None and jobs.is_attached and not jobs.has_class("hidden")
        return {
            "sidebar": _cells(self.query_one("#sidebar")),
            "jobs": _cells(jobs) if jobs is not None and open_jobs else 0,
        }

    def on_resize(self) -> None:
        self._layout()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self._peek and not self.query_one("#sidebar").has_focus_within:
            self._peek = False  # the list was shown by ctrl+l: it goes once it is left
            self.call_after_refresh(self._layout)


def _cells(widget: Widget) -> int:
    """A widget's width in cells as its CSS sets it (0 when it is not a number of cells)."""
    width = widget.styles.width
    return (width.cells or 0) if width is not None else 0
