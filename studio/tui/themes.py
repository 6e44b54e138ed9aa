"""Studio's themes in the app: the theme files registered as Textual themes (each tried in
Textual's CSS parser first), Studio's roles filled in for every theme (Textual's own too), and
the chosen theme kept in the config, or refused with a toast when the app's CSS cannot take it."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.dom import DOMNode
from textual.theme import BUILTIN_THEMES, Theme

from studio.themefiles import (
    CODE_STYLE,
    ROLE_PREFIX,
    ThemeCatalog,
    ThemeFileError,
    ThemeSpec,
    builtin_dir,
    load_catalog,
    load_theme_file,
    user_dir,
)

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


def css_variables(app: App[Any], theme: Theme) -> dict[str, str]:
    """The CSS variables of ``app`` in ``theme`` without applying it: what Textual's
    ``App.get_css_variables`` builds, with Studio's roles (``StudioApp.get_css_variables``)."""
    variables = {
        **app.get_theme_variable_defaults(),
        **theme.to_color_system().generate(),  # the theme's own variables included
        **theme.variables,
    }
    return with_roles(variables, dark=theme.dark)


_PROPERTIES = ("color", "text-style")
"""What a Textual variable holds, told by the properties its default value parses in."""
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_DECLARATION = re.compile(r"(?<![\w-])([a-z][a-z0-9-]*)\s*:\s*([^;{}]*\$[^;{}]*)")
_REFERENCE = re.compile(r"\$([a-zA-Z0-9_-]+)")


class ThemeTrial:
    """Tries the ``[variables]`` of theme files in Textual's CSS parser before they are offered.

    A value Textual's CSS cannot take (``block-cursor-foreground = "banana"``) stops the app with
    "CSS parsing failed" the moment the theme is applied, and on every start once it is saved.
    Each variable a file sets is parsed in every declaration using it in the CSS known so far
    (the app's files, the widgets imported) and, for widgets not imported yet, in the property
    its Textual default parses in (a colour or a text style). A few small parses, some 4 ms a
    file with ``[variables]`` at start; parsing the app's whole CSS would take 30 ms a theme,
    and most of that CSS is not loaded yet when the themes are registered.
    """

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._uses: dict[str, set[str]] | None = None
        self._kinds: dict[str, tuple[str, ...]] = {}

    def problem(self, theme: Theme) -> str | None:
        """Why Textual's CSS cannot take ``theme``, or None when it can."""
        own = {
            name: value
            for name, value in theme.variables.items()
            if not name.startswith(ROLE_PREFIX)  # Studio's roles: colours checked in the file
        }
        try:
            variables = css_variables(self.app, theme)
            if not own:
                return None  # its colours are checked in the file and Textual took them
            defaults = css_variables(self.app, dataclasses.replace(theme, variables={}))
        except Exception as exc:  # whatever Textual's colour system refuses
            return f"Textual cannot use its colours ({_described(exc)})"
        self._learn_kinds(own, defaults)
        names = list(own)
        uses = [sorted(self._declarations(name, variables)) for name in names]
        rules = [f"#v{i} {{ {'; '.join(used)}; }}" for i, used in enumerate(uses) if used]
        failed = _parse_failure("\n".join(rules), variables)
        if failed is None:
            return None
        selectors, message = failed
        name = next((n for i, n in enumerate(names) if f"#v{i}" in selectors), "")
        if name:
            return _bad_variable(name, own[name], message)
        for name, value in own.items():  # a value that does not tokenize breaks every rule
            failed = _parse_failure("Theme {}", {name: value})
            if failed is not None:
                return _bad_variable(name, value, failed[1])
        return f"Textual cannot use its [variables] ({message})"

    def _declarations(self, name: str, variables: Mapping[str, str]) -> set[str]:
        uses = {f"{prop}: ${name}" for prop in self._kinds.get(name, ())}
        return uses | {
            declaration
            for declaration in self._corpus().get(name, ())
            if all(ref in variables for ref in _REFERENCE.findall(declaration))
        }

    def _learn_kinds(self, names: Mapping[str, str], defaults: Mapping[str, str]) -> None:
        """For each of ``names`` Textual has a default for, the properties the default parses
        in; none when it parses in all of them (``initial``): that tells nothing."""
        unknown = [name for name in names if name in defaults and name not in self._kinds]
        if not unknown:
            return
        css = "\n".join(
            f"#k{i}-{j} {{ {prop}: ${name}; }}"
            for i, name in enumerate(unknown)
            for j, prop in enumerate(_PROPERTIES)
        )
        stylesheet = Stylesheet(variables=dict(defaults))
        stylesheet.add_source(css, read_from=("studio theme kinds", ""))
        failing: set[str] = set()
        try:
            stylesheet.parse()
        except StylesheetParseError as exc:
            failing = {s for rule in exc.errors.rules if rule.errors for s in rule.selector_names}
        except Exception:  # a default Textual cannot parse: nothing learnt
            failing = {f"#k{i}-{j}" for i in range(len(unknown)) for j in range(len(_PROPERTIES))}
        for i, name in enumerate(unknown):
            fits = tuple(p for j, p in enumerate(_PROPERTIES) if f"#k{i}-{j}" not in failing)
            self._kinds[name] = fits if len(fits) < len(_PROPERTIES) else ()

    def _corpus(self) -> dict[str, set[str]]:
        """Each variable -> the declarations using it in the app's CSS files and in the CSS of
        every widget, screen and app class imported so far."""
        if self._uses is None:
            texts: list[str] = []
            for path in getattr(self.app, "css_path", ()):
                with contextlib.suppress(OSError, UnicodeDecodeError):  # Textual says so
                    texts.append(Path(path).read_text(encoding="utf-8"))
            for cls in _node_classes(DOMNode):
                texts += [
                    css
                    for css in (cls.__dict__.get("DEFAULT_CSS"), cls.__dict__.get("CSS"))
                    if isinstance(css, str)
                ]
            self._uses = {}
            for text in texts:
                for prop, value in _DECLARATION.findall(_COMMENT.sub("", text)):
                    declaration = f"{prop}: {' '.join(value.split())}"
                    for ref in _REFERENCE.findall(value):
                        self._uses.setdefault(ref, set()).add(declaration)
        return self._uses


def _node_classes(root: type[DOMNode]) -> Iterator[type[DOMNode]]:
    seen: set[type[DOMNode]] = set()
    pending = [root]
    while pending:
        cls = pending.pop()
        if cls not in seen:
            seen.add(cls)
            yield cls
            pending += cls.__subclasses__()


def _parse_failure(css: str, variables: dict[str, str]) -> tuple[set[str], str] | None:
    """Parse ``css`` with ``variables``: None, or the selectors of the failing rule and why."""
    stylesheet = Stylesheet(variables=variables)
    stylesheet.add_source(css, read_from=("studio theme trial", ""))
    try:
        stylesheet.parse()
    except StylesheetParseError as exc:
        for rule in exc.errors.rules:
            for _token, message in rule.errors:
                return set(rule.selector_names), _described(message)
        return set(), "the CSS could not be parsed"
    except Exception as exc:  # a token Textual refuses, an unexpected end
        return set(), _described(exc)
    return None


def _described(problem: object) -> str:
    """Textual's message without its italics (``[i]color[/]``): shown as plain text, where
    the value quoted in it (``'[red]'``) must not be read as markup either."""
    text = str(getattr(problem, "summary", problem))
    return text.replace("[i]", "").replace("[/i]", "").replace("[/]", "")


def _bad_variable(name: str, value: str, message: str) -> str:
    return f"[variables] {name} = {value!r} does not work in Textual's CSS ({message})"


def register_themes(app: StudioApp) -> ThemeCatalog:
    """Register the built-in and user theme files, the user's tried in Textual's CSS first
    (:class:`ThemeTrial`); the catalog lists the files left out, one problem each."""
    catalog = load_catalog()
    trial = ThemeTrial(app)
    shipped = builtin_dir()
    for name, spec in list(catalog.themes.items()):
        del catalog.themes[name]
        for candidate in _with_builtin(spec):
            theme = textual_theme(candidate)
            # The built-in files pass (a test tries each): only the user's files are tried.
            from_user = candidate.source is None or candidate.source.parent != shipped
            problem = trial.problem(theme) if from_user else None
            if problem is None:
                app.register_theme(theme)
                catalog.themes[name] = candidate
                break
            catalog.problems.append(f"theme file {candidate.source}: {problem}")
    return catalog


def _with_builtin(spec: ThemeSpec) -> Iterator[ThemeSpec]:
    """``spec``, then (a user's file over a built-in one, in case Textual refuses it) the
    built-in theme of that name: as when the user's file cannot be read."""
    yield spec
    shipped = builtin_dir() / f"{spec.name}.toml"
    if spec.source is not None and spec.source != shipped and shipped.is_file():
        try:
            builtin = load_theme_file(shipped)
        except ThemeFileError:  # the built-in files are tested: a broken installation
            return
        yield builtin


def theme_problem(app: StudioApp, name: str) -> str | None:
    """Why the app's CSS, as loaded now, would not parse in theme ``name``; None if it would.

    A whole trial parse (some 30 ms), so Textual's own themes and Studio's built-in ones, which
    the tests try, are taken as they are; the themes from the user's files are tried, in case
    :class:`ThemeTrial` let through a value that the CSS loaded since then cannot take."""
    theme = app.get_theme(name)
    if theme is None:
        return f"there is no theme called {name!r}"
    if _shipped(app, name, theme):
        return None
    stylesheet = app.stylesheet.copy()
    stylesheet.set_variables(css_variables(app, theme))
    try:
        stylesheet.parse()
    except StylesheetParseError as exc:
        messages = [_described(m) for rule in exc.errors.rules for _t, m in rule.errors]
        return messages[0] if messages else "Textual cannot parse the CSS with it"
    except Exception as exc:  # whatever else stops Textual's parser
        return _described(exc)
    return None


def theme_origin(app: StudioApp, name: str) -> str:
    """Where theme ``name`` comes from: "yours" (a file in the user's themes folder), "Studio"
    (a built-in file) or "Textual" (one of Textual's own)."""
    spec = app.theme_files.get(name)
    if spec is not None:
        shipped = spec.source is None or spec.source.parent == builtin_dir()
        return "Studio" if shipped else "yours"
    return "Textual" if name in BUILTIN_THEMES else "yours"  # registered some other way


def _shipped(app: StudioApp, name: str, theme: Theme) -> bool:
    origin = theme_origin(app, name)
    return origin == "Studio" or (origin == "Textual" and theme is BUILTIN_THEMES.get(name))


def refuse_theme(app: StudioApp, name: str, problem: str) -> None:
    """Theme ``name`` was switched to but cannot be applied: back to the theme saved before
    (or the fallback) at once, before Textual parses the CSS with it, and say why."""
    saved = app.settings.theme
    back = saved if saved != name and saved in app.available_themes else _fallback(app)
    app.notify(
        f"The theme {name} cannot be used: {problem}. Back to {back}.",
        title="Theme",
        severity="warning",
        markup=False,
    )
    app.theme = back


def _fallback(app: StudioApp) -> str:
    return FALLBACK_THEME if FALLBACK_THEME in app.available_themes else LAST_RESORT_THEME


def starting_theme(app: StudioApp, wanted: str) -> tuple[str, str | None]:
    """The theme to start with and, if ``wanted`` is not one, the warning to show once."""
    if wanted in app.available_themes:
        return wanted, None
    fallback = _fallback(app)
    if (user_dir() / f"{wanted}.toml").exists():  # its file was left out: a warning names it
        why = f"your theme {wanted!r} cannot be used (see the warning about its file)"
    else:
        why = f"there is no theme called {wanted!r}"
    return fallback, (
        f"theme: {why}; using {fallback} (pick one with the command palette's Change theme)"
    )


def save_theme(app: StudioApp, name: str) -> None:
    """Keep the theme just chosen in the config file, so the next start uses it; a theme the
    app's CSS cannot take is refused instead (:func:`refuse_theme`)."""
    from studio.config import ConfigError, set_value

    problem = theme_problem(app, name)
    if problem is not None:  # the palette, the settings: Textual applies it next, and fails
        refuse_theme(app, name, problem)
        return
    if name == app.settings.theme:
        return
    try:
        set_value("theme", name)
    except (ConfigError, OSError) as exc:
        app.notify(f"The theme could not be saved: {exc}", severity="warning", markup=False)
        return
    app.settings = dataclasses.replace(app.settings, theme=name)
