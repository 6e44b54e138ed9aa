"""The settings screen (F6): every global setting with its help and default, each value checked
as it is typed (the reason under the field), the key masked with a check against the gateway,
model ids suggested from its list; ctrl+s saves atomically (mode 0600, unknown keys kept)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from studio.config import SETTING_NAMES, ConfigError, save_settings
from studio.models import Capability
from studio.paths import config_file
from studio.textsafe import clean_line
from studio.tui.settings_apply import apply_saved
from studio.tui.settings_fields import SettingField, as_text

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

MODEL_LIST_SECONDS = 10.0
"""How long the screen waits for the gateway's model list (for suggestions only)."""

PICK_TITLES = {
    "default_model": "Default chat model (for new conversations)",
    "image_model": "Image model",
    "video_model": "Video model",
    "favourite_models": "Add a favourite model",
}
PICK_KINDS = {
    "default_model": Capability.CHAT,
    "image_model": Capability.IMAGE,
    "video_model": Capability.VIDEO,
}
"""What each model setting's picker lists (favourites: every model)."""


class SettingsScreen(ModalScreen[bool]):
    """Edit every setting; dismissed with True once saved, False when closed without saving."""

    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen > Vertical {
        width: 100%; max-width: 110; height: 1fr; background: $surface;
        border: wide $primary; padding: 0 1;
    }
    SettingsScreen #settings-title { text-style: bold; }
    SettingsScreen #settings-where { color: $text-muted; }
    SettingsScreen VerticalScroll { height: 1fr; }
    SettingsScreen .setting { height: auto; margin: 1 0 0 0; }
    SettingsScreen .setting-name { text-style: bold; color: $accent; }
    SettingsScreen .setting-help { color: $text-muted; }
    SettingsScreen .setting-problem { color: $success; height: auto; }
    SettingsScreen .setting.refused .setting-problem { color: $error; }
    SettingsScreen .setting Input, SettingsScreen .setting Select { width: 1fr; }
    SettingsScreen .setting Input { background: $boost; }
    SettingsScreen .setting-key { height: auto; }
    SettingsScreen .setting-key Button { margin-left: 1; min-width: 10; }
    """

    BINDINGS = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            tooltip="Check and save every setting",
            id="global_settings.save",
        ),
        Binding(
            "escape", "close", "Close", tooltip="Close without saving", id="global_settings.close"
        ),
    ]

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.studio
        themes = sorted(app.available_themes)
        with Vertical():
            yield Static("Settings", id="settings-title")
            yield Static(
                clean_line(f"saved to {config_file()} (mode 0600)"),
                id="settings-where",
                markup=False,
            )
            with VerticalScroll(id="settings-fields"):
                for name in SETTING_NAMES:
                    yield SettingField(name, app.settings, themes)

    def on_mount(self) -> None:
        self.call_after_refresh(self._focus_first)  # the fields compose after this
        self._load_models()

    def _focus_first(self) -> None:
        editors = self.query("#settings-fields Input")
        if editors:
            editors.first().focus()

    @work(group="settings-models", exclusive=True)
    async def _load_models(self) -> None:
        """Model ids for the model fields' suggestions; without them the fields still work."""
        gateway = self.studio.gateway
        if gateway.needs_key:
            return
        try:
            models = await gateway.list_models_once(MODEL_LIST_SECONDS)
        except Exception:  # suggestions only: every field works without them
            return
        ids = sorted(model.id for model in models)
        for field in self.query(SettingField):
            field.offer_models(ids)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        field = next((a for a in event.input.ancestors if isinstance(a, SettingField)), None)
        if field is not None:
            field.show_problem(field.value()[1])

    @on(Button.Pressed, "#pick-theme")
    def _pick_theme(self) -> None:
        """The theme picker, previewing each theme on the app; the one kept is saved."""
        from studio.tui.screens.theme_picker import ThemePicker

        field = self.query_one("#setting-theme", SettingField)

        def kept(name: str | None) -> None:
            if name:
                field.initial = name  # the picker saved it
                field.query_one(Select).value = name

        self.app.push_screen(ThemePicker(), kept)

    @on(Button.Pressed, ".pick-model")
    def _pick_model(self, event: Button.Pressed) -> None:
        """The model picker, listing the models that fit the setting; the one chosen goes in
        the field (favourites: added to the list)."""
        from studio.tui.screens.model_picker import ModelPicker

        field = next(a for a in event.button.ancestors if isinstance(a, SettingField))
        name = field.setting
        typed, problem = field.value()
        current = typed if problem is None and isinstance(typed, str) else None
        picker = ModelPicker(current, title=PICK_TITLES[name], kind=PICK_KINDS.get(name))

        def chosen(model: str | None) -> None:
            self._favourites_changed()  # ctrl+f in the picker saves favourites at once
            if model:
                field.put_model(model)
            field.query_one(Input).focus()

        self.app.push_screen(picker, chosen)

    def _favourites_changed(self) -> None:
        """The picker's ctrl+f saved the favourites: the field shows them, unless edited."""
        field = self.query_one("#setting-favourite_models", SettingField)
        saved = list(self.studio.settings.favourite_models)
        if saved == field.initial:
            return
        editor = field.query_one(Input)
        if editor.value == as_text(field.initial):
            editor.value = as_text(saved)
        field.initial = saved

    @on(Button.Pressed, "#check-key")
    def _check_pressed(self) -> None:
        self._check_key()

    def action_close(self) -> None:
        self.dismiss(False)

    async def action_save(self) -> None:
        """Check every field; save the changed ones, or show why each refused one is refused."""
        changes: dict[str, Any] = {}
        refused: list[SettingField] = []
        for field in self.query(SettingField):
            value, problem = field.value()
            field.show_problem(problem)
            if problem is not None:
                refused.append(field)
            elif value != field.initial:
                changes[field.setting] = value
        if refused:
            names = ", ".join(field.setting for field in refused)
            self.notify(f"Not saved: check {names}", severity="error", markup=False)
            refused[0].query("Input, Select, Switch").first().focus()
            return
        if changes:
            try:
                path = await asyncio.to_thread(save_settings, changes)
            except ConfigError as exc:
                self.notify(f"Not saved: {exc}", severity="error", timeout=10, markup=False)
                return
            later = await apply_saved(self.studio, changes)
            if later:
                saved = f"Saved to {path}; in effect now, except: " + "; ".join(later)
                self.notify(saved, severity="warning", timeout=15, markup=False)
            else:
                self.notify(f"Saved to {path}; in effect now", markup=False)
        self.dismiss(bool(changes))

    def _gateway_to_check(self) -> str | None:
        """The gateway a key would be used with once saved: the base_url typed (unless the
        environment sets it, which wins); None when the one typed is refused."""
        settings = self.studio.settings
        if "base_url" in settings.from_env:
            return settings.base_url
        url_field = self.query_one("#setting-base_url", SettingField)
        url, problem = url_field.value()
        url_field.show_problem(problem)
        return None if problem is not None else str(url)

    @work(group="settings-key", exclusive=True)
    async def _check_key(self) -> None:
        """Ask the gateway (``GET /v1/models``) about the key typed, or the one in use."""
        field = self.query_one("#setting-api_key", SettingField)
        typed, problem = field.value()
        if problem is not None:
            field.show_problem(problem)
            return
        key = typed or self.studio.settings.api_key
        if not key:
            field.show_problem("no key to check: type one")
            return
        base_url = self._gateway_to_check()
        if base_url is None:
            field.show_problem("Not checked: the base_url typed is refused (see under it)")
            return
        field.show_status(f"Checking the key with {base_url}…")
        check = await self.studio.gateway.check_key(key, base_url)
        if check.outcome == "accepted":
            models = f"{check.models} model{'' if check.models == 1 else 's'}"
            field.show_status(f"✓ The gateway accepts this key — {models} available")
        elif check.outcome == "refused":
            field.show_problem("The gateway refused this key")
        else:
            field.show_problem(f"Not checked: {check.reason}")
