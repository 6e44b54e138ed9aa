"""Settings saved on the settings screen (F6), applied to the running app at once.

Most settings are read where they are used (the clipboard mode on each copy, the bell and the
notifications when a job ends, the default models when a conversation or a form starts, the
favourites when the model picker opens), so replacing ``app.settings`` is enough for them. The
rest hold a copy made at start and are told here: the gateway (a new client for a new key, base
URL, retries or timeouts), the job engine (media folder, deadline, that client), the theme, the
keymap, and the screens that show the gateway or the default model
(:attr:`StudioApp.settings_changed <studio.tui.app.StudioApp.settings_changed>`).

A value an environment variable set stays in effect (it wins over the file), and
``api_key_command`` runs only when Studio starts; what does not apply now is said in words.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.config import Settings

if TYPE_CHECKING:
    from studio.tui.app import StudioApp


@dataclass(frozen=True)
class SettingsChanged:
    """Settings in effect changed (published on ``app.settings_changed``)."""

    before: Settings
    after: Settings

    def changed(self, *names: str) -> bool:
        """Whether any of the settings ``names`` is different now."""
        return any(getattr(self.before, n) != getattr(self.after, n) for n in names)


def in_effect(settings: Settings, changes: dict[str, Any]) -> tuple[Settings, list[str]]:
    """``settings`` with the saved ``changes`` that take effect now, and a note for each one
    that does not: a value an environment variable sets, the key while ``api_key_command``
    supplies it, and ``api_key_command`` itself (run when Studio starts)."""
    applied: dict[str, Any] = {}
    later: list[str] = []
    for name, value in changes.items():
        if name in settings.from_env:
            variable = settings.origin(name).removeprefix("from ")
            later.append(f"{name}: {variable} stays in effect (it wins over the file)")
        elif name == "api_key" and settings.api_key_source == "command":
            later.append("api_key: the key api_key_command printed stays in use (it wins)")
        else:
            applied[name] = value
    if "api_key_command" in applied:
        later.append("api_key_command runs when Studio next starts (the key in use stays)")
    cleared = {name for name, value in changes.items() if value is None}  # gone from the file
    in_file = (settings.from_file | set(changes)) - cleared
    after = dataclasses.replace(settings, **applied, from_file=in_file)
    if "api_key" in applied:
        after = dataclasses.replace(after, api_key_source="config")
    return after, later


async def apply_saved(app: StudioApp, changes: dict[str, Any]) -> list[str]:
    """Make the saved ``changes`` take effect in ``app`` now; returns what applies later."""
    before = app.settings
    after, later = in_effect(before, changes)
    app.settings = after
    gateway = app.gateway
    gateway.use_settings(after)
    if gateway.demo and (after.api_key, after.base_url) != (before.api_key, before.base_url):
        later.append("the demo gateway stays in use until Studio starts without --demo")
    if after.theme != before.theme:
        app.theme = after.theme
    if after.keymap != before.keymap:
        app.keymap_problems = app.use_keymap(after.keymap)
    await app.jobs.use_settings(before, after)
    app.settings_changed.publish(SettingsChanged(before, after))
    return later
