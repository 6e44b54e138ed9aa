"""Studio's theme files, read and checked without Textual.

A theme is a TOML file named after the theme (``themes/nord.toml`` is "nord"): ``dark`` and
``ansi`` flags, a ``[colors]`` table of Textual's base colours (``primary`` required), a
``[studio]`` table of Studio's own roles and an optional ``[variables]`` table of any other
Textual CSS variable (not ``studio-*``: those are the roles, whose colours ``[studio]`` checks).
The built-in themes ship in the package (``studio/_themes`` in the wheel, ``themes/`` in a source
tree); user themes live in ``themes/`` in the config dir and override a built-in theme of the
same name. Only a regular file of at most 1 MiB is read (:mod:`studio.userfile`). The TUI turns
a :class:`ThemeSpec` into a Textual theme, and first tries the ``[variables]`` values in
Textual's CSS parser (``studio.tui.themes``): this module has no Textual to ask.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from studio import paths
from studio.userfile import FileRefused, read_small_file

BASE_COLORS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
"""Textual's base colours, in ``[colors]``."""
ROLES = (
    "user-accent",
    "assistant-accent",
    "code-background",
    "job-running",
    "job-succeeded",
    "job-failed",
    "job-uncertain",
    "demo-badge",
    "demo-badge-text",
)
"""Studio's colour roles, in ``[studio]``; each is the CSS variable ``$studio-<role>``."""
CODE_STYLE = "code-style"
"""The ``[studio]`` key naming the Pygments style of code blocks (``$studio-code-style``)."""
ROLE_PREFIX = "studio-"
ANSI_NAMES = frozenset(
    f"ansi_{bright}{name}"
    for bright in ("", "bright_")
    for name in ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
) | {"ansi_default"}
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_TOP_KEYS = ("dark", "ansi", "colors", "studio", "variables")


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class ThemeSpec:
    """One theme as read from its file: base colours, Studio's roles and extra variables."""

    name: str
    colors: dict[str, str]
    dark: bool = True
    ansi: bool = False
    roles: dict[str, str] = field(default_factory=dict)
    """Studio's roles by CSS variable name (``studio-user-accent``, ``studio-code-style``)."""
    variables: dict[str, str] = field(default_factory=dict)
    source: Path | None = None


@dataclass
class ThemeCatalog:
    """Every theme found (user themes over built-ins) and one problem per unusable file."""

    themes: dict[str, ThemeSpec] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def builtin_dir() -> Path:
    """Where the built-in theme files are: in the package of a wheel, else the source tree."""
    packaged = Path(__file__).parent / "_themes"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "themes"


def user_dir() -> Path:
    """``themes/`` in Studio's config dir (not created: it is only read)."""
    return paths.config_dir() / "themes"


def load_catalog(user: Path | None = None) -> ThemeCatalog:
    """The built-in themes, then the user's (which override a built-in of the same name)."""
    catalog = ThemeCatalog()
    for folder in (builtin_dir(), user if user is not None else user_dir()):
        for path in _theme_files(folder, catalog.problems):
            try:
                spec = load_theme_file(path)
            except ThemeFileError as exc:
                catalog.problems.append(str(exc))
            else:
                catalog.themes[spec.name] = spec
    return catalog


def _theme_files(folder: Path, problems: list[str]) -> list[Path]:
    try:
        return sorted(folder.glob("*.toml"))
    except OSError as exc:  # a folder Studio may not read: say so, start anyway
        problems.append(f"theme folder {folder}: {exc.strerror or exc}")
        return []


def load_theme_file(path: Path) -> ThemeSpec:
    """Read and check one theme file; raises :class:`ThemeFileError` naming it and the problem."""
    name = path.stem

    def fail(problem: str) -> ThemeFileError:
        return ThemeFileError(f"theme file {path}: {problem}")

    if not _NAME.fullmatch(name):
        raise fail("the file name must be lower-case letters, digits and hyphens (nord.toml)")
    try:
        data, _mode = read_small_file(path, "a theme file")
        table = tomllib.loads(data.decode("utf-8"))
    except FileRefused as exc:  # a FIFO would hang the start, /dev/zero would fill memory
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise fail("is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"is not valid TOML ({exc})") from None
    try:
        return _spec(name, table, path)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _spec(name: str, table: dict[str, object], path: Path) -> ThemeSpec:
    unknown = sorted(set(table) - set(_TOP_KEYS))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (expected {', '.join(_TOP_KEYS)})")
    dark, ansi = _flag(table, "dark", True), _flag(table, "ansi", False)
    colors = _colors(_table(table, "colors"), "colors", BASE_COLORS)
    if "primary" not in colors:
        raise ValueError("[colors] needs primary")
    studio = _table(table, "studio")
    style = studio.pop(CODE_STYLE, None)
    roles = {ROLE_PREFIX + key: value for key, value in _colors(studio, "studio", ROLES).items()}
    if style is not None:
        roles[ROLE_PREFIX + CODE_STYLE] = _pygments_style(style)
    variables: dict[str, str] = {}
    for key, value in _table(table, "variables").items():
        if not isinstance(value, str) or not _NAME.fullmatch(key):
            raise ValueError(f"[variables] {key}: expected a CSS variable name and a string")
        if key.startswith(ROLE_PREFIX):  # [studio] checks its colours; [variables] cannot
            raise ValueError(
                f"[variables] {key}: Studio's own roles go in [studio] "
                f"(as {key.removeprefix(ROLE_PREFIX)})"
            )
        variables[key] = value
    return ThemeSpec(name, colors, dark, ansi, roles, variables, path)


def _flag(table: dict[str, object], key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def _table(table: dict[str, object], key: str) -> dict[str, object]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a table ([{key}])")
    return dict(value)


def _colors(table: dict[str, object], where: str, known: tuple[str, ...]) -> dict[str, str]:
    colors: dict[str, str] = {}
    for key, value in table.items():
        if key not in known:
            raise ValueError(f"[{where}] has unknown key {key!r} (expected {', '.join(known)})")
        if not isinstance(value, str) or not is_color(value):
            raise ValueError(
                f"[{where}] {key} = {value!r} is not a colour "
                "(expected #rgb, #rrggbb, #rrggbbaa or an ANSI name such as ansi_red)"
            )
        colors[key] = value
    return colors


def is_color(value: str) -> bool:
    """A colour a theme file may use: ``#rgb``, ``#rrggbb``, ``#rrggbbaa`` or ``ansi_red``."""
    return bool(_HEX.fullmatch(value)) or value in ANSI_NAMES


def _pygments_style(value: object) -> str:
    from pygments.styles import STYLE_MAP  # the built-in names: no slow plugin search

    if not isinstance(value, str) or (value not in STYLE_MAP and not _plugin_style(value)):
        raise ValueError(
            f"[studio] {CODE_STYLE} = {value!r} is not a Pygments style "
            "(for example monokai, friendly, nord, solarized-dark)"
        )
    return value


def _plugin_style(name: str) -> bool:
    from pygments.styles import get_style_by_name
    from pygments.util import ClassNotFound

    try:
        get_style_by_name(name)
    except ClassNotFound:
        return False
    return True
