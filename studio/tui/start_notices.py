"""The toasts Studio shows once its main screen is up: replies cut off when it last stopped,
the settings' warnings and the problems of the ``[keymap]`` table."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.tui.app import StudioApp


def show_start_notices(app: StudioApp) -> None:
    """Tell the user, once, what start-up found wrong (each toast's text is never markup)."""
    if app.recovered:
        count = len(app.recovered)
        app.notify(
            f"{count} reply{'' if count == 1 else 's'} cut off when Studio last stopped "
            "(the text received so far was kept).",
            severity="warning",
            markup=False,
        )
    for warning in app.settings.warnings:
        if warning not in app.keymap_problems:  # those are shown together, below
            app.notify(warning, severity="warning", timeout=10, markup=False)
    for notice in app.theme_notices:
        app.notify(notice, title="Themes", severity="warning", timeout=10, markup=False)
    if app.keymap_problems:
        count = len(app.keymap_problems)
        where = app.settings.config_path or "the config file"
        app.notify(
            "\n".join(
                [
                    f"{count} problem{'' if count == 1 else 's'} in the [keymap] table of "
                    f"{where} (every other key works):",
                    *(f"• {problem.removeprefix('keymap: ')}" for problem in app.keymap_problems),
                ]
            ),
            title="Keymap",
            severity="warning",
            timeout=20,
            markup=False,
        )
