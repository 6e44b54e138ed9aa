"""The settings, each declared once: its type, default, how a value is checked and its help.

Every field of :class:`Settings` made with :func:`setting` is a user setting; its
:class:`Spec` (the field's metadata) is what validation, ``studio config show`` and the
README's settings table (:func:`markdown_table`) read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import tomli_w

from studio import paths
from studio.termnotify import NOTIFY_MODES

MAX_RETRIES_LIMIT = 10
CLIPBOARD_MODES = ("auto", "osc52", "native", "off")
_SPEC = "studio.setting"


@dataclass(frozen=True)
class Spec:
    """How one setting is checked and explained.

    ``kind`` names the check (see ``studio.config.checks``); ``expected`` says what a valid
    value is, in "expected ..." errors; ``env`` is the environment variable that overrides it.
    """

    kind: str
    help: str
    expected: str
    env: str | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


def spec(kind: str, help: str, expected: str, **more: Any) -> dict[str, Spec]:
    """Field metadata declaring a setting (a mutable default needs ``field(default_factory=)``
    with this as its ``metadata``)."""
    return {_SPEC: Spec(kind, help, expected, **more)}


def setting(default: Any, kind: str, help: str, expected: str, **more: Any) -> Any:
    """A :class:`Settings` field holding ``default`` and the setting's :class:`Spec`."""
    return field(default=default, metadata=spec(kind, help, expected, **more))


_MODEL = "a non-empty model name"
_SECONDS = "a number of seconds greater than 0"


@dataclass(frozen=True, repr=False)
class Settings:
    """Every user setting with its default and help (:func:`describe_settings`).

    Change a copy with ``dataclasses.replace``. The last five fields are bookkeeping, not
    settings: where the API key came from, the file read, warnings found while reading it, the
    values taken from the environment and the names of the settings the file set.
    """

    api_key: str | None = setting(
        None,
        "secret",
        "AnyFast API key (sk-...); the ANYFAST_API_KEY environment variable overrides it.",
        "a key of printable ASCII characters without spaces",
        env="ANYFAST_API_KEY",
    )
    api_key_command: str | None = setting(
        None,
        "command",
        "A command that prints the API key (e.g. `pass show anyfast`), instead of storing it: "
        "run once when Studio starts, without a shell, for at most 60 s; the first line it "
        "prints, trimmed, is the key. It wins over api_key; ANYFAST_API_KEY wins over both.",
        "a command line (quotes balanced)",
    )
    base_url: str = setting(
        "https://www.anyfast.ai",
        "url",
        "Gateway root URL, without /v1; ANYFAST_BASE_URL overrides it.",
        "an http:// or https:// URL",
        env="ANYFAST_BASE_URL",
    )
    default_model: str = setting(
        "claude-sonnet-4-5-20250929",
        "text",
        "Chat model for new conversations; STUDIO_DEFAULT_MODEL overrides it.",
        _MODEL,
        env="STUDIO_DEFAULT_MODEL",
    )
    favourite_models: list[str] = field(
        default_factory=list,
        metadata=spec(
            "names", "Models pinned to the top of the model picker.", "a list of model names"
        ),
    )
    image_model: str = setting(
        "doubao-seedream-4-5-251128", "text", "Model for image generation.", _MODEL
    )
    video_model: str = setting("seedance-2.0", "text", "Model for video generation.", _MODEL)
    clipboard: Literal["auto", "osc52", "native", "off"] = setting(
        "auto",
        "choice",
        "How copying works: auto (OSC 52, plus the local clipboard when a display exists), "
        "osc52 (terminal escape only; works over SSH), native (local clipboard only), off.",
        "one of " + ", ".join(CLIPBOARD_MODES),
        choices=CLIPBOARD_MODES,
    )
    theme: str = setting(
        "studio-dark",
        "text",
        "Name of the colour theme: Studio's (studio-dark, studio-light, high-contrast, ansi-16, "
        "ember, lagoon), Textual's (nord, gruvbox, ...) or one of yours.",
        "a non-empty theme name",
    )
    bell: bool = setting(
        True, "bool", "Ring the terminal bell when a job finishes.", "true or false"
    )
    notify: Literal["auto", "osc9", "osc777", "off"] = setting(
        "auto",
        "choice",
        "Desktop notification through the terminal when a job ends (the TUI, jobs wait, "
        "watch and run): auto (OSC 9 or OSC 777 where the terminal is known to show one; in "
        "tmux set allow-passthrough on), osc9 or osc777 (that one, whatever the terminal), off.",
        "one of " + ", ".join(NOTIFY_MODES),
        choices=NOTIFY_MODES,
    )
    notify_command: str | None = setting(
        None,
        "command",
        "A command run when a job ends, with the job as JSON on its standard input (split "
        "like a shell line and run without a shell; killed after 30 s), e.g. to send a "
        "phone notification; unset runs nothing.",
        "a command line (quotes balanced)",
    )
    media_dir: str | None = setting(
        None,
        "optional",
        "Where generated media is saved; unset means <data dir>/media.",
        "a directory path",
    )
    max_retries: int = setting(
        2,
        "whole",
        f"Automatic retries of a failed request (0-{MAX_RETRIES_LIMIT}; 0 = none).",
        f"a whole number from 0 to {MAX_RETRIES_LIMIT}",
        minimum=0,
        maximum=MAX_RETRIES_LIMIT,
    )
    request_timeout: float = setting(
        600.0, "seconds", "Seconds a non-streamed request may take in total.", _SECONDS
    )
    stream_idle_timeout: float = setting(
        120.0,
        "seconds",
        "Seconds of silence (no bytes at all) allowed while a reply streams.",
        _SECONDS,
    )
    stream_stall_timeout: float = setting(
        300.0,
        "seconds",
        "Seconds a stream may send only keep-alives (no content) before it is stopped.",
        _SECONDS,
    )
    job_deadline_minutes: int = setting(
        30,
        "whole",
        "Minutes after which an unfinished video job is marked timed out (it can still be "
        "checked again).",
        "a whole number of minutes greater than 0",
        minimum=1,
    )
    keymap: dict[str, str] = field(
        default_factory=dict,
        metadata=spec(
            "keymap",
            "Key overrides: a [keymap] table of binding id = keys (F1 lists the ids), e.g. "
            '"main.regenerate" = "f5" or "main.copy_reply" = "ctrl+y,alt+c". Problems (an unknown '
            "id, a key that is not a key, a key another binding already has) are reported and "
            "skipped.",
            'a table of binding id = "key[,key]" (F1 lists the ids)',
        ),
    )

    api_key_source: Literal["env", "config", "command"] | None = field(default=None, compare=False)
    config_path: Path | None = field(default=None, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    from_env: Mapping[str, Any] = field(default_factory=dict, compare=False)
    from_file: frozenset[str] = field(default=frozenset(), compare=False)

    def masked_key(self) -> str:
        """The API key masked for display, e.g. ``sk-…abcd``, or ``(not set)``."""
        return masked_key(self.api_key)

    def as_display_dict(self) -> dict[str, Any]:
        """Every setting by name for ``studio config show``; the key masked, with its origin."""
        shown = {name: getattr(self, name) for name in SETTING_NAMES}
        origin = {
            "env": " (from ANYFAST_API_KEY)",
            "config": " (from the config file)",
            "command": " (from api_key_command)",
        }
        shown["api_key"] = self.masked_key() + origin.get(self.api_key_source or "", "")
        if not self.api_key and self.api_key_command:
            shown["api_key"] = "(from api_key_command, run when a command or the TUI starts)"
        return shown

    def effective(self, name: str) -> Any:
        """What setting ``name`` amounts to in use: ``media_dir`` is the folder media goes to
        (``<data dir>/media`` when unset, always absolute), every other setting its value."""
        if name == "media_dir":
            return str(paths.media_dir(self.media_dir))
        return getattr(self, name)

    def origin(self, name: str) -> str:
        """Where setting ``name`` came from: ``default``, ``config file`` or the environment
        variable that set it."""
        if name in self.from_env:
            return f"from {SPECS[name].env or name}"
        if name in self.from_file:
            return "config file"
        return "default"

    def __repr__(self) -> str:
        items = {name: getattr(self, name) for name in SETTING_NAMES}
        items["api_key"] = self.masked_key()
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in items.items()) + ")"


def _specs(declared: tuple[Field[Any], ...]) -> dict[str, Spec]:
    return {f.name: f.metadata[_SPEC] for f in declared if _SPEC in f.metadata}


SPECS: dict[str, Spec] = _specs(fields(Settings))
"""Each setting's :class:`Spec`, by name, in file order."""
SETTING_NAMES: tuple[str, ...] = tuple(SPECS)
DEFAULTS: dict[str, Any] = {name: getattr(Settings(), name) for name in SETTING_NAMES}
ENV_OVERRIDES: dict[str, str] = {spec.env: name for name, spec in SPECS.items() if spec.env}
"""Environment variable -> the setting it overrides."""


def masked_key(key: str | None) -> str:
    """First 3 characters + ``…`` + last 4, or ``(not set)``; keys under 12 chars show nothing."""
    if not key:
        return "(not set)"
    if len(key) < 12:
        return "…(hidden)"
    return f"{key[:3]}…{key[-4:]}"


def describe_settings() -> list[tuple[str, Any, str]]:
    """(name, default, explanation) for every setting, in file order."""
    return [(name, DEFAULTS[name], SPECS[name].help) for name in SETTING_NAMES]


def toml_value(value: Any) -> str:
    """``value`` written as in the settings file (``"text"``, ``true``, ``["a"]``, an inline
    table for a mapping), so a line of ``studio config show`` can be pasted into it."""
    if isinstance(value, Mapping):
        items = [tomli_w.dumps({str(k): v}).strip() for k, v in value.items()]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def _cell(text: str) -> str:
    """Text for a Markdown table cell: ``|`` and ``<`` would end the cell or start HTML."""
    return text.replace("|", "\\|").replace("<", "\\<")


def markdown_table() -> str:
    """The README's settings table: one row per setting with its default and help."""
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name, default, help_text in describe_settings():
        shown = f"`[{name}]`" if SPECS[name].kind == "keymap" else f"`{name}`"
        if default is None or default == {}:
            value = "—"
        elif isinstance(default, str):
            value = f"`{default}`"
        else:
            number = isinstance(default, float) and default.is_integer()
            value = f"`{toml_value(int(default) if number else default)}`"
        rows.append(f"| {shown} | {value} | {_cell(help_text)} |")
    return "\n".join(rows) + "\n"
