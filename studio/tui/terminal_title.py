"""The terminal window's title (OSC 2): how many jobs are running."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.textsafe import clean_line

if TYPE_CHECKING:
    from studio.tui.app import StudioApp
    from studio.tui.jobs import JobsChanged


class TerminalTitle:
    """Keeps the window title in step with the running jobs, writing it only when it changes
    (through ``app.write_to_terminal``)."""

    def __init__(self, app: StudioApp) -> None:
        self.app = app
        self._title = app.TITLE

    def set(self, title: str) -> None:
        """Show ``title`` (made safe: printable characters on one line) as the window's title."""
        safe = "".join(ch for ch in clean_line(title) if ch.isprintable())
        self.app.write_to_terminal(f"\x1b]2;{safe}\x07")

    def jobs_changed(self, change: JobsChanged) -> None:
        """A ``JobsController.changed`` subscriber: the title for the jobs running now."""
        from studio.tui.jobs import window_title

        title = window_title(change.running)
        if title != self._title:  # written only when it reads differently
            self._title = title
            self.set(title)
