"""Themes in the app: Studio's files registered, user themes, the start-up warnings, the picker's
live preview, the choice kept in the config across a restart, and a theme Textual's CSS cannot
take left out at start, or refused where it is switched to."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.theme import Theme
from textual.widgets import OptionList

from studio.config import Settings, load_settings
from studio.paths import config_file
from studio.themefiles import load_catalog, user_dir
from studio.tui.app import StudioApp
from studio.tui.screens.main import MainScreen
from studio.tui.screens.theme_picker import ThemePicker
from studio.tui.themes import ThemeTrial, css_variables, textual_theme

from .conftest import SIZE, Toasts, option_ids, wait_for

BUILT_IN = ("studio-dark", "studio-light", "high-contrast", "ansi-16", "ember", "lagoon")


def saved_theme() -> str | None:
    path = config_file()
    if not path.exists():
        return None
    value = tomllib.loads(path.read_text(encoding="utf-8")).get("theme")
    return value if isinstance(value, str) else None


async def test_built_in_themes_are_registered_beside_textuals_and_set_studio_roles(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        assert set(BUILT_IN) <= set(app.available_themes)
        assert {"textual-dark", "nord", "ansi-dark"} <= set(app.available_themes)
        app.theme = "ember"
        await pilot.pause()
        assert app.theme_variables["studio-user-accent"] == "#e3894b"
        assert app.theme_variables["studio-code-style"] == "gruvbox-dark"
        app.theme = "textual-light"  # Textual's own themes get the roles from their colours
        await pilot.pause()
        assert app.theme_variables["studio-user-accent"] == app.theme_variables["primary"]
        assert app.theme_variables["studio-code-style"] == "friendly"


async def test_a_broken_user_theme_is_named_once_and_the_others_still_load(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    user_dir().mkdir(parents=True)
    (user_dir() / "broken.toml").write_text('[colors]\nprimary = "teal-ish"\n', "utf-8")
    (user_dir() / "mine.toml").write_text('[colors]\nprimary = "#336699"\n', "utf-8")
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook):
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await wait_for(lambda: toasts.any("broken.toml"))
        assert "mine" in app.available_themes and "broken" not in app.available_themes
        problem = [m for m in toasts.messages() if "broken.toml" in m]
        assert problem == [
            f"theme file {user_dir() / 'broken.toml'}: [colors] primary = 'teal-ish' is not a "
            "colour (expected #rgb, #rrggbb, #rrggbbaa or an ANSI name such as ansi_red)"
        ]


async def test_an_unknown_theme_setting_warns_once_and_falls_back(
    settings: Settings, toasts: Toasts
) -> None:
    app = StudioApp(dataclasses.replace(settings, theme="no-such-theme"))
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await wait_for(lambda: toasts.any("no-such-theme"))
        await pilot.pause()
        assert app.theme == "studio-dark"
        assert len([m for m in toasts.messages() if "no-such-theme" in m]) == 1
    assert saved_theme() is None  # the fallback is not written over the user's setting


async def test_the_picker_previews_as_it_moves_and_escape_puts_the_theme_back(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        app.action_change_theme()
        await wait_for(lambda: isinstance(app.screen, ThemePicker))
        seen = {app.theme}
        for _ in range(3):
            await pilot.press("down")
            await pilot.pause()
            seen.add(app.theme)
        assert len(seen) == 4  # each move shows the next theme at once
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        assert app.theme == "studio-dark"
    assert saved_theme() is None


async def test_the_picker_says_where_each_theme_comes_from_and_marks_the_one_in_use(
    make_app: Callable[..., StudioApp],
) -> None:
    from studio.themefiles import builtin_dir

    user_dir().mkdir(parents=True, exist_ok=True)
    (user_dir() / "mine.toml").write_bytes((builtin_dir() / "studio-light.toml").read_bytes())
    app = make_app()
    async with app.run_test(size=SIZE):
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        app.action_change_theme()
        await wait_for(lambda: isinstance(app.screen, ThemePicker) and app.screen.is_mounted)
        await wait_for(lambda: bool(app.screen.query(OptionList)))
        options = app.screen.query_one(OptionList)
        shown = {
            str(options.get_option(name).prompt).split()[0]: str(options.get_option(name).prompt)
            for name in ("ember", "mine", "nord", "studio-dark", "ansi-16")
        }
        assert shown["ember"].endswith("Studio · dark")
        assert shown["mine"].endswith("yours · light")
        assert shown["nord"].endswith("Textual · dark")
        assert "✓" in shown["studio-dark"] and "✓" not in shown["ember"]
        assert shown["ansi-16"].endswith("terminal colours")


async def test_a_theme_chosen_in_the_picker_survives_a_restart(settings: Settings) -> None:
    app = StudioApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        app.action_change_theme()
        await wait_for(lambda: isinstance(app.screen, ThemePicker))
        while app.theme != "lagoon":
            await pilot.press("down" if app.theme < "lagoon" else "up")
            await pilot.pause()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, MainScreen))
    assert saved_theme() == "lagoon"
    restarted = StudioApp(dataclasses.replace(settings, theme=load_settings().theme))
    async with restarted.run_test(size=SIZE):
        await wait_for(lambda: isinstance(restarted.screen, MainScreen))
        assert restarted.theme == "lagoon"


async def test_a_theme_switched_elsewhere_is_saved_too(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        app.theme = "high-contrast"  # what Textual's palette theme switch does
        await pilot.pause()
        await wait_for(lambda: saved_theme() == "high-contrast")


# --- a theme file whose [variables] Textual's CSS cannot take -----------------------------------

BANANA = '[colors]\nprimary = "#ff0000"\n[variables]\nblock-cursor-foreground = "banana"\n'


def write_mine(text: str = BANANA) -> Path:
    user_dir().mkdir(parents=True, exist_ok=True)
    path = user_dir() / "mine.toml"
    path.write_text(text, "utf-8")
    return path


async def test_a_theme_textual_cannot_parse_is_left_out_with_one_notice_naming_its_file(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    mine = write_mine()
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await wait_for(lambda: toasts.any("mine.toml"))
        assert [m for m in toasts.messages() if "mine" in m] == [
            f"theme file {mine}: [variables] block-cursor-foreground = 'banana' does not work "
            "in Textual's CSS (Invalid value ('banana') for the color property)"
        ]
        assert "mine" not in app.available_themes
        app.action_change_theme()
        await wait_for(lambda: isinstance(app.screen, ThemePicker) and app.screen.is_mounted)
        await wait_for(lambda: bool(app.screen.query("OptionList")))
        assert "mine" not in option_ids(app.screen) and "ember" in option_ids(app.screen)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        assert app.theme == "studio-dark" and app.is_running


async def test_a_saved_theme_textual_cannot_parse_starts_in_the_fallback_with_a_warning(
    settings: Settings, toasts: Toasts
) -> None:
    write_mine()
    app = StudioApp(dataclasses.replace(settings, theme="mine"))
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await wait_for(lambda: toasts.any("using studio-dark"))
        await pilot.pause()
        assert app.theme == "studio-dark" and app.is_running
        assert len([m for m in toasts.messages() if "mine.toml" in m]) == 1
        assert [m for m in toasts.messages() if "using studio-dark" in m] == [
            "theme: your theme 'mine' cannot be used (see the warning about its file); using "
            "studio-dark (pick one with the command palette's Change theme)"
        ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("block-cursor-foreground", "banana"),
        ("block-cursor-foreground", "bold"),
        ("block-cursor-foreground", ""),
        ("block-cursor-text-style", "#ff0000"),
        ("input-selection-background", "banana"),
        ("link-background", "bold"),
        ("primary", "banana"),
        ("my-own", "{"),
    ],
)
def test_the_trial_refuses_a_value_textuals_css_cannot_take(name: str, value: str) -> None:
    problem = ThemeTrial(App()).problem(Theme("t", primary="#336699", variables={name: value}))
    assert problem is not None
    assert problem.startswith(f"[variables] {name} = {value!r} does not work in Textual's CSS (")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("block-cursor-foreground", "#00ff00"),
        ("block-cursor-foreground", "auto 87%"),
        ("block-cursor-foreground", "ansi_black"),
        ("block-cursor-text-style", "none"),
        ("button-focus-text-style", "b reverse"),
        ("input-selection-background", "#81a1c1 35%"),
        ("link-background", "initial"),
        ("link-background", "#ff0000"),
        ("my-own", "anything at all"),
    ],
)
def test_the_trial_takes_what_textuals_own_themes_use(name: str, value: str) -> None:
    theme = Theme("t", primary="#336699", variables={name: value})
    assert ThemeTrial(App()).problem(theme) is None


def test_every_built_in_theme_passes_the_trial() -> None:
    trial = ThemeTrial(App())  # the built-in files are registered without one at start
    for spec in load_catalog().themes.values():
        assert trial.problem(textual_theme(spec)) is None, spec.name


async def test_the_variables_tried_are_those_the_app_gets(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        for name in ("ansi-16", "nord", "studio-light"):
            app.theme = name
            await pilot.pause()
            assert css_variables(app, app.current_theme) == app.get_css_variables(), name


@pytest.fixture
def trial_lets_all_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """A theme the start-up trial let through (say a value only some CSS loaded later cannot
    take): what is left is the guard where a theme is switched to."""
    monkeypatch.setattr(ThemeTrial, "problem", lambda self, theme: None)


@pytest.mark.usefixtures("trial_lets_all_through")
async def test_switching_to_a_theme_the_css_cannot_take_goes_back_with_a_toast(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    write_mine()
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        app.theme = "lagoon"  # what the palette's "Theme: lagoon" does
        await wait_for(lambda: saved_theme() == "lagoon")
        assert "mine" in app.available_themes
        app.theme = "mine"  # the palette's "Theme: mine"
        await wait_for(lambda: toasts.any("The theme mine cannot be used"))
        await pilot.pause()
        assert app.theme == "lagoon" and app.is_running
        lagoon = css_variables(app, app.available_themes["lagoon"])
        assert app.theme_variables["primary"] == lagoon["primary"]  # drawn in lagoon again
        assert toasts.first("The theme mine") == (
            "The theme mine cannot be used: Invalid value ('banana') for the color property. "
            "Back to lagoon."
        )
    assert saved_theme() == "lagoon"


@pytest.mark.usefixtures("trial_lets_all_through")
async def test_the_picker_does_not_show_a_theme_the_css_cannot_take(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    write_mine()
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        app.action_change_theme()
        await wait_for(lambda: isinstance(app.screen, ThemePicker) and app.screen.is_mounted)
        await wait_for(lambda: bool(app.screen.query("OptionList")))
        options = app.screen.query_one(OptionList)
        shown = app.theme
        while options.highlighted is None or option_ids(app.screen)[options.highlighted] != "mine":
            shown = app.theme
            await pilot.press("down")
            await pilot.pause()
        await wait_for(lambda: toasts.any("The theme mine cannot be used"))
        assert app.theme == shown != "mine"  # the theme previewed before stays
        await pilot.press("enter")
        await wait_for(lambda: len([m for m in toasts.messages() if "mine" in m]) == 2)
        assert isinstance(app.screen, ThemePicker) and app.theme == shown
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        assert app.theme == "studio-dark" and app.is_running
    assert saved_theme() is None


@pytest.mark.usefixtures("trial_lets_all_through")
async def test_a_theme_saved_on_the_settings_screen_that_the_css_cannot_take_falls_back(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    from studio.config import set_value
    from studio.tui.settings_apply import apply_saved

    write_mine()
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        set_value("theme", "mine")  # what F6's Save wrote before applying it
        await apply_saved(app, {"theme": "mine"})
        await wait_for(lambda: toasts.any("The theme mine cannot be used"))
        await pilot.pause()
        assert app.theme == "studio-dark" and app.is_running
        assert toasts.first("The theme mine").endswith("Back to studio-dark.")
    assert saved_theme() == "studio-dark"  # not "mine": the next start does not warn again
