"""The main screen's foundation: its state, the pane lookup, the gateway (welcome panel and
warm-up) and the job sidebar. :class:`~studio.tui.screens.main.MainScreen` adds the tabs,
the split view, the conversation list and the key actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.containers import VerticalScroll
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from studio.api.errors import AnyFastError, describe
from studio.textsafe import clean_line
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.conversation_list import ConversationList

if TYPE_CHECKING:
    from studio.tui.app import StudioApp
    from studio.tui.screens.keeping import Keeper
    from studio.tui.widgets.job_sidebar import JobSidebar

WELCOME = """\
[b]Welcome to AnyFast Studio[/b]

No API key is set, so there is nothing to talk to yet. Either:

  • paste your AnyFast key below (it is saved to the config file with mode 0600), or
  • press [b]ctrl+d[/b] to try the built-in demo (no key, no network), or
  • quit and run [b]studio config set api_key -[/b], or set [b]ANYFAST_API_KEY[/b].
"""


class MainScreenBase(Screen[None]):
    """Which conversations are open and active; the gateway and the jobs around them."""

    def __init__(self) -> None:
        super().__init__()
        self.open_ids: list[int] = []
        self.active_id: int | None = None
        self.split = False
        self.partner_id: int | None = None
        self._restoring = False
        self._job_sidebar: JobSidebar | None = None
        """Mounted when ctrl+g first opens it."""

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def pane(self, cid: int | None) -> ChatPane | None:
        if cid is None:
            return None
        found = self.query(f"#pane-{cid}")
        return found.first(ChatPane) if found else None

    @property
    def active_pane(self) -> ChatPane | None:
        return self.pane(self.active_id)

    @property
    def keeper(self) -> Keeper:
        """Drafts, blank conversations and the archive undo (MainScreen)."""
        raise NotImplementedError

    def refresh_list(self, selected: int | None = None) -> None:
        sidebar = self.query_one(ConversationList)
        conversations = self.studio.store.list_conversations(
            archived=sidebar.show_archived, title_filter=sidebar.filter_text or None
        )
        hidden = self.keeper.hidden_from_list(conversations)
        if hidden:
            conversations = [c for c in conversations if c.id not in hidden]
        sidebar.show(conversations, selected=selected)

    # -- gateway --------------------------------------------------------------------------------

    def _warm_gateway(self) -> None:
        """Start the client (and the demo emulator) after the first frame, not on first send;
        then the job engine, which resumes unfinished jobs from earlier sessions."""
        if not self.studio.gateway.needs_key:
            self.run_worker(self._warm(), group="warm", exit_on_error=False)

    async def _warm(self) -> None:
        await self.studio.gateway.client()
        try:
            await self.studio.jobs.ensure_started()
        except AnyFastError as exc:
            self.notify(
                f"The job engine could not start: {describe(exc)}", severity="error", markup=False
            )

    def _layout(self) -> None:
        """Show the panes, and the conversation list, that fit the screen (MainScreen)."""

    # -- jobs ----------------------------------------------------------------------------------

    def on_unmount(self) -> None:
        if self._jobs_changed in self.studio.jobs.listeners:
            self.studio.jobs.listeners.remove(self._jobs_changed)

    async def toggle_jobs(self) -> None:
        from studio.tui.widgets.job_sidebar import JobSidebar  # on first use

        sidebar = self._job_sidebar
        if sidebar is None:
            sidebar = self._job_sidebar = JobSidebar(id="jobs-sidebar", classes="hidden")
            await self.query_one("#body").mount(sidebar)
        show = sidebar.has_class("hidden")
        sidebar.set_class(not show, "hidden")
        self._layout()  # the conversation list may need to make room, or may come back
        if show:
            self._jobs_changed()
            sidebar.query_one("OptionList").focus()
            if not self.studio.gateway.needs_key:
                self.run_worker(
                    self.studio.jobs.ensure_started(), group="warm-jobs", exit_on_error=False
                )
        elif self.active_pane is not None:
            self.active_pane.focus_prompt()

    def _jobs_changed(self) -> None:
        sidebar = self._job_sidebar  # none until ctrl+g first opens it
        if sidebar is not None and sidebar.is_attached and not sidebar.has_class("hidden"):
            sidebar.show(self.studio.jobs.jobs.values())
        from studio.tui.screens.job_detail import JobDetail

        for screen in self.app.screen_stack:
            if isinstance(screen, JobDetail):
                job = self.studio.jobs.jobs.get(screen.job.id)
                if job is not None:
                    screen.update_job(job)

    def on_job_sidebar_selected(self, event: JobSidebar.Selected) -> None:
        job = self.studio.jobs.jobs.get(event.job_id)
        if job is not None:
            from studio.tui.screens.job_detail import JobDetail

            self.app.push_screen(JobDetail(job))

    def show_new_message(self, message: object) -> None:
        from studio.store import Message

        if isinstance(message, Message):
            pane = self.pane(message.conversation_id)
            if pane is not None:
                self.run_worker(pane.append_message(message), group="append")
            self.refresh_list()

    @on(ChatPane.MediaCommand)
    def _media_command(self, event: ChatPane.MediaCommand) -> None:
        """Submit in a worker, as the F10/F12 forms do: a slow create never holds up this
        screen's messages (the list, its filter, tabs) while it is in flight."""
        self.run_worker(
            self._submit_media_command(event.kind, event.prompt, event.conversation_id),
            group="media-command",
        )

    async def _submit_media_command(self, kind: str, prompt: str, cid: int) -> None:
        await self.studio.job_actions.media_command(kind, prompt, cid)
        self.refresh_list()

    # -- welcome (no key) ------------------------------------------------------------------------

    def _show_welcome(self, show: bool) -> None:
        welcome = self.query_one_optional("#welcome", VerticalScroll)
        if welcome is None:
            if not show:
                return
            key_input = Input(placeholder="sk-…", password=True, id="key-input")
            # What the key check found; hidden while there is nothing to say.
            status = Static("", id="key-status", markup=False)
            status.display = False
            demo = Button("Start the demo (ctrl+d)", id="demo-button")
            # Scrolls when the terminal is short: the field and the button are always reachable.
            welcome = VerticalScroll(Static(WELCOME), key_input, status, demo, id="welcome")
            welcome.can_focus = False  # Tab goes from the field to the button
            self.query_one("#main").mount(welcome)
            self.call_after_refresh(key_input.focus)
        else:
            key_input = welcome.query_one("#key-input", Input)
            if show:
                key_input.focus()
        welcome.set_class(not show, "hidden")
        self.query_one("#panes").set_class(show, "hidden")

    @on(Input.Submitted, "#key-input")
    def _key_entered(self, event: Input.Submitted) -> None:
        key = event.value.strip()
        if key:
            self.run_worker(self._check_key(event.input, key), group="key-check", exclusive=True)

    async def _check_key(self, field: Input, key: str) -> None:
        """Ask the gateway about a pasted key (``GET /v1/models``) before anything is said or
        saved: a refused key is not saved; an unchecked one is saved, and the toast says so."""
        from studio.config import ConfigError

        gateway = self.studio.gateway
        status = self.query_one("#key-status", Static)
        status.update(f"Checking the key with {clean_line(gateway.label)}…")
        status.display = True
        field.disabled = True
        try:
            check = await gateway.check_key(key)
        finally:
            field.disabled = False
        if check.outcome == "refused":
            message = "The gateway refused this key — check it in the AnyFast console"
            status.update(message + " (it was not saved).")
            self.notify(message, severity="error", timeout=10, markup=False)
            field.value = ""
            field.focus()
            return
        try:
            await gateway.use_key(key)
        except ConfigError as exc:
            status.update(clean_line(f"The key could not be saved: {exc}"))
            self.notify(f"The key could not be saved: {exc}", severity="error", markup=False)
            return
        field.value = ""
        status.update("")
        status.display = False
        if check.outcome == "accepted":
            models = f"{check.models} model{'' if check.models == 1 else 's'}"
            self._after_gateway_change(f"Key accepted — {models} available")
        elif check.outcome == "unreachable":
            self._after_gateway_change(
                f"Saved, but not checked: the gateway could not be reached ({check.reason})",
                severity="warning",
            )
        else:
            self._after_gateway_change(
                f"Saved, but not checked: the gateway answered with an error ({check.reason})",
                severity="warning",
            )

    @on(Button.Pressed, "#demo-button")
    async def action_start_demo(self) -> None:
        if self.studio.gateway.demo:
            return
        await self.studio.gateway.use_demo()
        self._after_gateway_change("Demo mode: replies come from the built-in emulator")

    def _after_gateway_change(self, message: str, severity: SeverityLevel = "information") -> None:
        self._show_welcome(False)
        self.query_one("#demo-badge").set_class(not self.studio.gateway.demo, "hidden")
        self.query_one("#where", Static).update(clean_line(self.studio.gateway.label))
        self.notify(message, severity=severity, timeout=10, markup=False)
        if self.active_pane is not None:
            self.active_pane.focus_prompt()
