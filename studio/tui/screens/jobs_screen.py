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


class JobsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close", id="jobs.close")]

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield JobSidebar(id="jobs-overlay", classes="dialog")

    def on_mount(self) -> None:
        self.studio.jobs.listeners.append(self._refresh)
        self._refresh()
        self.query_one(JobSidebar).query_one("OptionList").focus()

    def on_unmount(self) -> None:
        if self._refresh in self.studio.jobs.listeners:
            self.studio.jobs.listeners.remove(self._refresh)

    def _refresh(self) -> None:
        self.query_one(JobSidebar).show(self.studio.jobs.jobs.values())

    @on(JobSidebar.Selected)
    def _selected(self, event: JobSidebar.Selected) -> None:
        from studio.tui.screens.job_detail import JobDetail

        job = self.studio.jobs.jobs.get(event.job_id)
        if job is not None:
            self.app.push_screen(JobDetail(job))
