"""The main screen's jobs: the job sidebar (ctrl+g) it feeds while it is open, and the
messages written for jobs, shown in the conversations open here. It subscribes to the jobs
controller's signals while the screen is mounted; nothing else updates it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.store import Message, MessageStatus

if TYPE_CHECKING:
    from studio.tui.jobs import JobsChanged, MessageWritten
    from studio.tui.screens.main import MainScreen
    from studio.tui.widgets.chat_pane import ChatPane
    from studio.tui.widgets.job_sidebar import JobSidebar


class JobQueue:
    """The job sidebar of a :class:`MainScreen` and the job messages it shows."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.sidebar: JobSidebar | None = None
        """Mounted when ctrl+g first opens it."""
        self._after_reply: dict[int, list[int]] = {}
        """Messages another window wrote in a conversation whose reply streams here:
        conversation id -> message ids, shown when the reply ends (never interleaved)."""

    def subscribe(self) -> None:
        """Follow the jobs (on mount)."""
        jobs = self.screen.studio.jobs
        jobs.changed.subscribe(self.screen, self._jobs_changed)
        jobs.messages.subscribe(self.screen, self._message_written)

    def unsubscribe(self) -> None:
        """Stop following them (on unmount)."""
        jobs = self.screen.studio.jobs
        jobs.changed.unsubscribe(self.screen)
        jobs.messages.unsubscribe(self.screen)

    @property
    def shown(self) -> bool:
        """Whether the job sidebar is open."""
        return self.sidebar is not None and not self.sidebar.has_class("hidden")

    async def toggle(self) -> None:
        """ctrl+g: open the job sidebar (starting the engine) or close it."""
        from studio.tui.widgets.job_sidebar import JobSidebar  # on first use

        screen = self.screen
        sidebar = self.sidebar
        if sidebar is None:
            sidebar = self.sidebar = JobSidebar(id="jobs-sidebar", classes="hidden")
            await screen.query_one("#body").mount(sidebar)
        show = sidebar.has_class("hidden")
        sidebar.set_class(not show, "hidden")
        screen.show_panes()  # the conversation list may need to make room, or may come back
        if show:
            sidebar.show(screen.studio.jobs.jobs.values())
            sidebar.query_one("OptionList").focus()
            if not screen.studio.gateway.needs_key:
                screen.run_worker(
                    screen.studio.jobs.ensure_started(), group="warm-jobs", exit_on_error=False
                )
        elif screen.active_pane is not None:
            screen.active_pane.focus_prompt()

    def _jobs_changed(self, change: JobsChanged) -> None:
        sidebar = self.sidebar
        if sidebar is not None and sidebar.is_attached and not sidebar.has_class("hidden"):
            sidebar.show(change.jobs.values())

    def _message_written(self, written: MessageWritten) -> None:
        message = written.message
        if not written.elsewhere:
            self.screen.show_new_message(message)
            return
        pane = self.screen.pane(message.conversation_id)
        if pane is None:
            return  # not open: it loads with its conversation
        if pane.streaming:
            self._after_reply.setdefault(pane.conversation_id, []).append(message.id)
        else:
            self._bring(pane, message)

    def reply_ended(self, pane: ChatPane) -> None:
        """Show what another window wrote in ``pane``'s conversation while its reply streamed."""
        store = self.screen.studio.store
        for message_id in self._after_reply.pop(pane.conversation_id, []):
            message = store.get_message(message_id)  # as it stands now
            if message is not None:
                self._bring(pane, message)

    def _bring(self, pane: ChatPane, own: Message) -> None:
        """Show a job's message that another window wrote, after what that window added since
        the pane's newest message (the command that started the job), in order."""
        store = self.screen.studio.store
        newest = max((v.message.id for v in pane.views()), default=0)
        new = [
            m
            for m in store.messages(pane.conversation_id, limit=20)
            if m.id > newest and m.id != own.id and m.status is not MessageStatus.STREAMING
        ]
        for message in sorted([*new, own], key=lambda m: m.position):
            self.screen.show_new_message(message)
