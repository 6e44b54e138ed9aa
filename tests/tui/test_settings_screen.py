"""The settings screen (F6): every setting with its help and default, refused values explained
under their field, an atomic 0600 save keeping unknown keys, the key masked and checked."""

from __future__ import annotations

import dataclasses
import stat
import tomllib
from collections.abc import Callable

import pytest
from textual.widgets import Input, Label, Select, Static

from studio import paths
from studio.config import SETTING_NAMES, Settings
from studio.tui.app import StudioApp
from studio.tui.screens.model_picker import ModelPicker
from studio.tui.screens.settings import SettingsScreen
from tests.tui.conftest import Toasts, option_ids, wait_for

MEDIA_WORDS = ("seedream", "seedance", "kling")


def _problem(app: StudioApp, name: str) -> str:
    shown = app.screen.query_one(f"#setting-{name} .setting-problem", Static)
    return str(shown.render()) if shown.display else ""


async def _type(app: StudioApp, name: str, text: str) -> None:
    field = app.screen.query_one(f"#edit-{name}", Input)
    field.focus()
    field.value = text
    await wait_for(lambda: field.value == text)


async def _opened(app: StudioApp) -> None:
    """Wait until the settings screen shows its fields."""
    await wait_for(
        lambda: (
            isinstance(app.screen, SettingsScreen)
            and bool(app.screen.query("#edit-clipboard #label"))
            and isinstance(app.focused, Input)
        )
    )


async def _open(app: StudioApp) -> None:
    """Open the settings screen (as the palette's entry does) and wait for its fields."""
    app.action_settings()
    await _opened(app)


async def test_f6_lists_every_setting_with_help_and_default_in_80x24(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await _opened(app)
        for name in SETTING_NAMES:
            field = app.screen.query_one(f"#setting-{name}")
            text = " ".join(str(w.render()) for w in field.query(".setting-name, .setting-help"))
            assert name in text and "default:" in text
        key = app.screen.query_one("#edit-api_key", Input)
        assert key.password and key.value == "" and "sk-…cdef" in key.placeholder
        await wait_for(lambda: app.focused is key)
        assert key.region.bottom <= 24  # usable in the classic window
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))


async def test_refused_values_say_why_under_the_field_and_nothing_is_saved(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48), message_hook=toasts.hook) as pilot:
        await _open(app)
        await _type(app, "max_retries", "99")
        await wait_for(lambda: "whole number from 0 to 10" in _problem(app, "max_retries"))
        await _type(app, "base_url", "https://user:pw@example.com")
        await wait_for(lambda: "user name or password" in _problem(app, "base_url"))
        await _type(app, "request_timeout", "-1")
        await pilot.press("ctrl+s")
        await wait_for(lambda: toasts.any("Not saved"))
        assert "base_url, max_retries, request_timeout" in toasts.first("Not saved")
        assert "greater than 0" in _problem(app, "request_timeout")
        assert isinstance(app.screen, SettingsScreen)
        assert not paths.config_file().exists()
        await _type(app, "max_retries", "3")
        await wait_for(lambda: _problem(app, "max_retries") == "")


async def test_saving_writes_only_the_changes_atomically_0600_keeping_unknown_keys(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text('mystery = "kept"\n\n[keymap]\n"main.regenerate" = "f5"\n')
    app = make_app()
    async with app.run_test(size=(160, 48), message_hook=toasts.hook) as pilot:
        await _open(app)
        await _type(app, "max_retries", "4")
        await _type(app, "favourite_models", "gpt-4o, claude-sonnet-4-5-20250929, gpt-4o")
        await _type(app, "api_key", "sk-a-new-key-for-the-file-0000")
        app.screen.query_one("#edit-clipboard", Select).value = "off"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
        assert toasts.any(f"Saved to {cfg}")
        assert (app.settings.max_retries, app.settings.clipboard) == (4, "off")
        assert app.gateway.settings.api_key == "sk-a-new-key-for-the-file-0000"
    assert tomllib.loads(cfg.read_text()) == {
        "mystery": "kept",
        "keymap": {"main.regenerate": "f5"},
        "max_retries": 4,
        "favourite_models": ["gpt-4o", "claude-sonnet-4-5-20250929"],
        "api_key": "sk-a-new-key-for-the-file-0000",
        "clipboard": "off",
    }
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


async def test_the_key_check_asks_the_gateway(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(app)
        await pilot.click("#check-key")
        await wait_for(lambda: "accepts this key" in _problem(app, "api_key"))
        await _type(app, "api_key", "sk-wrong-key-000000000000")
        await pilot.click("#check-key")
        await wait_for(lambda: "refused this key" in _problem(app, "api_key"))
        await pilot.press("escape")
    assert not paths.config_file().exists()  # checking saves nothing


async def test_a_value_from_the_environment_says_it_wins_over_the_file(
    make_app: Callable[..., StudioApp],
) -> None:
    settings = dataclasses.replace(
        make_app().settings, from_env={"default_model": "gpt-4o"}, default_model="gpt-4o"
    )
    app = StudioApp(settings)
    async with app.run_test(size=(160, 48)):
        await _open(app)
        name = app.screen.query_one("#setting-default_model .setting-name", Label)
        assert "from STUDIO_DEFAULT_MODEL, which wins over the file" in str(name.render())


async def test_the_theme_is_picked_with_a_preview_and_kept(
    make_app: Callable[..., StudioApp],
) -> None:
    from studio.tui.screens.theme_picker import ThemePicker

    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(app)
        before = app.theme
        await pilot.click("#pick-theme")
        await wait_for(lambda: isinstance(app.screen, ThemePicker))
        await pilot.press("down")
        await wait_for(lambda: app.theme != before)  # previewed on the app as it moves
        previewed = app.theme
        await pilot.press("enter")
        await wait_for(
            lambda: (
                isinstance(app.screen, SettingsScreen)
                and app.screen.query_one("#edit-theme", Select).value == previewed
            )
        )
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
    assert tomllib.loads(paths.config_file().read_text()) == {"theme": previewed}


def _listed(app: StudioApp) -> list[str]:
    return option_ids(app.screen, "#models")


@pytest.mark.parametrize(
    ("name", "fits", "query", "chosen"),
    [
        ("default_model", lambda m: not any(w in m for w in MEDIA_WORDS), "g4omini", "gpt-4o-mini"),
        ("image_model", lambda m: "seedream" in m, "seedream40", "doubao-seedream-4-0-250828"),
        ("video_model", lambda m: "seedance" in m or "kling" in m, "klingv3", "kling-v3"),
    ],
)
async def test_a_model_setting_is_picked_from_the_models_that_fit_it(
    make_app: Callable[..., StudioApp],
    name: str,
    fits: Callable[[str], bool],
    query: str,
    chosen: str,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app)
        app.screen.query_one(f"#edit-{name}", Input).focus()
        await pilot.press("tab")  # the Pick… button beside the field
        await wait_for(lambda: getattr(app.focused, "id", None) == f"pick-{name}")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ModelPicker) and len(_listed(app)) > 3)
        assert all(fits(model) for model in _listed(app))
        await pilot.press(*query)
        await wait_for(lambda: _listed(app)[:1] == [chosen])
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        assert app.screen.query_one(f"#edit-{name}", Input).value == chosen
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
    assert tomllib.loads(paths.config_file().read_text()) == {name: chosen}


async def test_pick_adds_a_favourite_once(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(app)
        await _type(app, "favourite_models", "gpt-4o")
        for _ in range(2):
            await pilot.click("#pick-favourite_models")
            await wait_for(lambda: isinstance(app.screen, ModelPicker) and len(_listed(app)) > 3)
            await pilot.press(*"seedream40")
            await wait_for(lambda: _listed(app)[:1] == ["doubao-seedream-4-0-250828"])
            await pilot.press("enter")
            await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        field = app.screen.query_one("#edit-favourite_models", Input)
        assert field.value == "gpt-4o, doubao-seedream-4-0-250828"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
    assert app.settings.favourite_models == ["gpt-4o", "doubao-seedream-4-0-250828"]


async def test_a_favourite_starred_in_the_picker_shows_in_the_field(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(app)
        await pilot.click("#pick-default_model")
        await wait_for(lambda: isinstance(app.screen, ModelPicker) and len(_listed(app)) > 3)
        await pilot.press(*"g4omini")
        await wait_for(lambda: _listed(app)[:1] == ["gpt-4o-mini"])
        await pilot.press("ctrl+f", "escape")  # starred (saved at once), nothing picked
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        field = app.screen.query_one("#edit-favourite_models", Input)
        await wait_for(lambda: field.value == "gpt-4o-mini")
        assert app.screen.query_one("#edit-default_model", Input).value == (
            "claude-sonnet-4-5-20250929"
        )
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
    assert tomllib.loads(paths.config_file().read_text()) == {"favourite_models": ["gpt-4o-mini"]}


async def test_starring_keeps_favourites_another_window_saved_and_survives_a_broken_file(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48), message_hook=toasts.hook) as pilot:
        await wait_for(lambda: type(app.focused).__name__ == "PromptInput")
        cfg = paths.config_file()
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text('favourite_models = ["deepseek-v3"]\n')  # another window's save
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, ModelPicker) and len(_listed(app)) > 3)
        await pilot.press(*"g4omini")
        await wait_for(lambda: _listed(app)[:1] == ["gpt-4o-mini"])
        await pilot.press("ctrl+f")
        await wait_for(lambda: toasts.any("added to favourites"))
        saved = tomllib.loads(cfg.read_text())["favourite_models"]
        assert saved == ["deepseek-v3", "gpt-4o-mini"]
        cfg.write_text("theme = \n")  # broken while Studio runs
        await pilot.press("ctrl+f")
        await wait_for(lambda: toasts.any("Favourites not saved"))
        assert isinstance(app.screen, ModelPicker)  # still running, nothing lost
        assert cfg.read_text() == "theme = \n"


async def test_the_key_is_checked_with_the_base_url_typed(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(app)
        await _type(app, "base_url", "http://127.0.0.1:1")  # nothing listens there
        await pilot.click("#check-key")
        await wait_for(lambda: "Not checked" in _problem(app, "api_key"))
        assert "accepts" not in _problem(app, "api_key")
        await _type(app, "base_url", "ftp://nowhere")
        await pilot.click("#check-key")
        await wait_for(lambda: "base_url typed is refused" in _problem(app, "api_key"))
        assert _problem(app, "base_url")


async def test_untrusted_model_ids_and_theme_names_are_shown_not_obeyed(
    make_app: Callable[..., StudioApp], settings: Settings
) -> None:
    from studio.tui.settings_fields import SettingField

    app = StudioApp(dataclasses.replace(settings, theme="[bold red]x[/"))
    async with app.run_test(size=(160, 48)):
        await _open(app)
        field = app.screen.query_one("#setting-default_model", SettingField)
        field.put_model("evil\x1b]0;pwned\x07-m")
        await wait_for(lambda: "cannot be saved" in _problem(app, "default_model"))
        assert "\x1b" not in _problem(app, "default_model")
        assert app.screen.query_one("#edit-default_model", Input).value == (
            "claude-sonnet-4-5-20250929"
        )
        label = app.screen.query_one("#edit-theme SelectCurrent #label", Static)
        assert str(label.render()) == "[bold red]x[/"  # the name as written, not markup
