"""The job queue over any screen (ctrl+g from a dialog); on the main screen it is a sidebar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from studio.tui.widgets.job_sidebar import JobSidebar

if TYPE_CHECKING:
    from studio.tui.app import StudioApp
    from studio.tui.jobs import JobsChanged


class JobsScreen(ModalScreen[None]):
    """The job queue as a dialog; it follows the jobs while it is open."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="jobs.close")]

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield JobSidebar(id="jobs-overlay", classes="dialog")

    def on_mount(self) -> None:
        self.studio.jobs.changed.subscribe(self, self._jobs_changed)
        self.query_one(JobSidebar).show(self.studio.jobs.jobs.values())
        self.query_one(JobSidebar).query_one("OptionList").focus()

    def on_unmount(self) -> None:
        self.studio.jobs.changed.unsubscribe(self)

    def _jobs_changed(self, change: JobsChanged) -> None:
        self.query_one(JobSidebar).show(change.jobs.values())

    @on(JobSidebar.Selected)
    def _selected(self, event: JobSidebar.Selected) -> None:
        from studio.tui.screens.job_detail import open_details

        open_details(self.studio, event.job_id)
