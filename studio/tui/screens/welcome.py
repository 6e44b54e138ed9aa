"""The welcome panel the main screen shows while no API key is set: paste a key (checked with
the gateway before it is saved) or start the demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.containers import VerticalScroll
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Button, Input, Static

from studio.textsafe import clean_line

if TYPE_CHECKING:
    from textual.screen import Screen

    from studio.tui.app import StudioApp

WELCOME = """\
[b]Welcome to AnyFast Studio[/b]

No API key is set, so there is nothing to talk to yet. Either:

  • paste your AnyFast key below (it is saved to the config file with mode 0600), or
  • press [b]ctrl+d[/b] to try the built-in demo (no key, no network), or
  • quit and run [b]studio config set api_key -[/b], or set [b]ANYFAST_API_KEY[/b].
"""


class WelcomePanel(VerticalScroll):
    """The key field, what the key check found, and the demo button (which the screen
    handles, as its ctrl+d). Posts :class:`KeySaved` once a pasted key is saved."""

    @dataclass
    class KeySaved(Message):
        """A key was saved: ``text`` says whether the gateway accepted it."""

        text: str
        severity: SeverityLevel = "information"

    def __init__(self, *, id: str | None = None) -> None:
        self.key_input = Input(placeholder="sk-…", password=True, id="key-input")
        # What the key check found; hidden while there is nothing to say.
        status = Static("", id="key-status", markup=False)
        status.display = False
        demo = Button("Start the demo (ctrl+d)", id="demo-button")
        super().__init__(Static(WELCOME), self.key_input, status, demo, id=id)

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

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
            self.post_message(self.KeySaved(f"Key accepted — {models} available"))
        elif check.outcome == "unreachable":
            self.post_message(
                self.KeySaved(
                    f"Saved, but not checked: the gateway could not be reached ({check.reason})",
                    "warning",
                )
            )
        else:
            self.post_message(
                self.KeySaved(
                    f"Saved, but not checked: the gateway answered with an error ({check.reason})",
                    "warning",
                )
            )


def show_welcome(screen: Screen[None], show: bool) -> None:
    """Show the welcome panel in ``screen``'s ``#main`` instead of its panes, or hide it; it
    is mounted when first shown (fewer widgets and less CSS before the first frame)."""
    welcome = screen.query_one_optional("#welcome", WelcomePanel)
    if welcome is None:
        if not show:
            return
        # Scrolls when the terminal is short: the field and the button are always reachable.
        welcome = WelcomePanel(id="welcome")
        welcome.can_focus = False  # Tab goes from the field to the button
        screen.query_one("#main").mount(welcome)
        screen.call_after_refresh(welcome.key_input.focus)
    elif show:
        welcome.key_input.focus()
    welcome.set_class(not show, "hidden")
    screen.query_one("#panes").set_class(show, "hidden")
