"""Studio's themes in the app: the theme files registered as Textual themes, Studio's roles
filled in for every theme (Textual's own too), and the chosen theme kept in the config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.theme import Theme

from studio.themefiles import CODE_STYLE, ROLE_PREFIX, ThemeCatalog, ThemeSpec, load_catalog

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

FALLBACK_THEME = "studio-dark"
"""The theme used when the ``theme`` setting names none that exists (the default's)."""
LAST_RESORT_THEME = "textual-dark"
"""Textual's own dark theme, used if Studio's theme files could not be loaded at all."""

_DERIVED_ROLES = {
    "user-accent": "primary",
    "assistant-accent": "success",
    "job-running": "accent",
    "job-succeeded": "success",
    "job-failed": "error",
    "job-uncertain": "warning",
    "demo-badge": "warning",
    "demo-badge-text": "background",
}
"""Each role of a theme that does not set it (Textual's themes set none) takes this colour; code
blocks without ``code-background`` keep their Pygments style's own background."""


def textual_theme(spec: ThemeSpec) -> Theme:
    """The Textual theme for a Studio theme file (roles become ``$studio-*`` variables)."""
    colors = spec.colors
    return Theme(
        name=spec.name,
        primary=colors["primary"],
        secondary=colors.get("secondary"),
        accent=colors.get("accent"),
        warning=colors.get("warning"),
        error=colors.get("error"),
        success=colors.get("success"),
        foreground=colors.get("foreground"),
        background=colors.get("background"),
        surface=colors.get("surface"),
        panel=colors.get("panel"),
        boost=colors.get("boost"),
        dark=spec.dark,
        ansi=spec.ansi,
        variables={**spec.variables, **spec.roles},
    )


def with_roles(variables: Mapping[str, str], *, dark: bool) -> dict[str, str]:
    """``variables`` with every Studio role the theme did not set, taken from its colours."""
    filled = dict(variables)
    for role, base in _DERIVED_ROLES.items():
        filled.setdefault(ROLE_PREFIX + role, variables.get(base, ""))
    filled.setdefault(ROLE_PREFIX + CODE_STYLE, "monokai" if dark else "friendly")
    return filled


_JOB_COLOURS = {
    "cyan": "job-running",
    "green": "job-succeeded",
    "red": "job-failed",
    "yellow": "job-uncertain",
}
"""The colour words of the job styles (``job_styles``) and the roles that replace them."""


def job_colours(app: App[Any]) -> dict[str, str]:
    """The job colours the app's theme sets itself, by the colour word each replaces; Textual's
    themes set none, and keep the usual cyan, green, red and yellow."""
    from studio.tui.markdown_lines import theme_color

    theme = app.current_theme
    own = {"background": theme.background or "", **theme.variables}
    return {
        word: theme_color(own, ROLE_PREFIX + role, "")
        for word, role in _JOB_COLOURS.items()
        if own.get(ROLE_PREFIX + role)
    }


def register_themes(app: StudioApp) -> ThemeCatalog:
    """Register the built-in and user theme files; the catalog lists the files left out."""
    catalog = load_catalog()
    for spec in catalog.themes.values():
        app.register_theme(textual_theme(spec))
    return catalog


def starting_theme(app: StudioApp, wanted: str) -> tuple[str, str | None]:
    """The theme to start with and, if ``wanted`` is not one, the warning to show once."""
    if wanted in app.available_themes:
        return wanted, None
    fallback = FALLBACK_THEME if FALLBACK_THEME in app.available_themes else LAST_RESORT_THEME
    return fallback, (
        f"theme: there is no theme called {wanted!r}; using {fallback} "
        "(pick one with the command palette's Change theme)"
    )


def save_theme(app: StudioApp, name: str) -> None:
    """Keep the theme just chosen in the config file, so the next start uses it."""
    import dataclasses

    from studio.config import ConfigError, set_value

    if name == app.settings.theme:
        return
    try:
        set_value("theme", name)
    except (ConfigError, OSError) as exc:
        app.notify(f"The theme could not be saved: {exc}", severity="warning", markup=False)
        return
    app.settings = dataclasses.replace(app.settings, theme=name)
