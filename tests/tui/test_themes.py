"""Themes in the app: Studio's files registered, user themes, the start-up warnings, the picker's
live preview and the choice kept in the config across a restart."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable

from studio.config import Settings, load_settings
from studio.paths import config_file
from studio.themefiles import user_dir
from studio.tui.app import StudioApp
from studio.tui.screens.main import MainScreen
from studio.tui.screens.theme_picker import ThemePicker

from .conftest import SIZE, Toasts, wait_for

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
    from textual.widgets import OptionList

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
