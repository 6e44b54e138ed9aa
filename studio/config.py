"""Typed settings: read from TOML (tomllib), written with tomli-w, overridden by the environment.

The configuration file is optional; every setting has a default. ``describe_settings()`` lists
each setting with its default and a one-line explanation (the README and ``studio config`` use it).
Environment variables win over the file: ``ANYFAST_API_KEY``, ``ANYFAST_BASE_URL`` and
``STUDIO_DEFAULT_MODEL``. Values taken from the environment are never written back to the file
unless the caller changed them.

No representation of :class:`Settings` ever contains the API key; only a masked form.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import tomli_w

from studio import paths

CLIPBOARD_MODES = ("auto", "osc52", "native", "off")
ENV_OVERRIDES = {
    "ANYFAST_API_KEY": "api_key",
    "ANYFAST_BASE_URL": "base_url",
    "STUDIO_DEFAULT_MODEL": "default_model",
}
MAX_RETRIES_LIMIT = 10
FILE_MODE = 0o600
MAX_CONFIG_BYTES = 1024 * 1024
"""A settings file is a few hundred bytes; anything over 1 MiB is a mistake (or /dev/zero)."""


class ConfigError(Exception):
    """The configuration cannot be read, parsed, validated or written; ``path`` names the file."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


SETTING_HELP: dict[str, str] = {
    "api_key": "AnyFast API key (sk-...); the ANYFAST_API_KEY environment variable overrides it.",
    "base_url": "Gateway root URL, without /v1; ANYFAST_BASE_URL overrides it.",
    "default_model": "Chat model for new conversations; STUDIO_DEFAULT_MODEL overrides it.",
    "favourite_models": "Models pinned to the top of the model picker.",
    "image_model": "Model for image generation.",
    "video_model": "Model for video generation.",
    "clipboard": "How copying works: auto (OSC 52, plus the local clipboard when a display "
    "exists), osc52 (terminal escape only; works over SSH), native (local clipboard only), off.",
    "theme": "Name of the colour theme.",
    "bell": "Ring the terminal bell when a job finishes.",
    "media_dir": "Where generated media is saved; unset means <data dir>/media.",
    "max_retries": f"Automatic retries of a failed request (0-{MAX_RETRIES_LIMIT}; 0 = none).",
    "request_timeout": "Seconds a non-streamed request may take in total.",
    "stream_idle_timeout": "Seconds of silence (no bytes at all) allowed while a reply streams.",
    "stream_stall_timeout": "Seconds a stream may send only keep-alives (no content) before it "
    "is stopped.",
    "job_deadline_minutes": "Minutes after which an unfinished video job is marked timed out "
    "(it can still be checked again).",
    "keymap": "Key overrides: a [keymap] table of binding id = keys (F1 lists the ids), e.g. "
    '"main.regenerate" = "f5" or "main.copy_reply" = "ctrl+y,alt+c". Problems (an unknown id, '
    "a key that is not a key, a key another binding already has) are reported and skipped.",
}


@dataclass(frozen=True, repr=False)
class Settings:
    """Every user setting with its default; ``SETTING_HELP`` explains each one.

    Change a copy with ``dataclasses.replace``. The last five fields are bookkeeping, not
    settings: where the API key came from, the file read, warnings found while reading it, the
    values taken from the environment and the names of the settings the file set.
    """

    api_key: str | None = None
    base_url: str = "https://www.anyfast.ai"
    default_model: str = "claude-sonnet-4-5-20250929"
    favourite_models: list[str] = field(default_factory=list)
    image_model: str = "doubao-seedream-4-5-251128"
    video_model: str = "seedance-2.0"
    clipboard: Literal["auto", "osc52", "native", "off"] = "auto"
    theme: str = "textual-dark"
    bell: bool = True
    media_dir: str | None = None
    max_retries: int = 2
    request_timeout: float = 600.0
    stream_idle_timeout: float = 120.0
    stream_stall_timeout: float = 300.0
    job_deadline_minutes: int = 30
    keymap: dict[str, str] = field(default_factory=dict)

    api_key_source: Literal["env", "config"] | None = field(default=None, compare=False)
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
        origin = {"env": " (from ANYFAST_API_KEY)", "config": " (from the config file)"}
        shown["api_key"] = self.masked_key() + origin.get(self.api_key_source or "", "")
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
            variable = next((v for v, k in ENV_OVERRIDES.items() if k == name), name)
            return f"from {variable}"
        if name in self.from_file:
            return "config file"
        return "default"

    def __repr__(self) -> str:
        items = {name: getattr(self, name) for name in SETTING_NAMES}
        items["api_key"] = self.masked_key()
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in items.items()) + ")"


SETTING_NAMES: tuple[str, ...] = tuple(SETTING_HELP)
_DEFAULTS: dict[str, Any] = {name: getattr(Settings(), name) for name in SETTING_NAMES}


def masked_key(key: str | None) -> str:
    """First 3 characters + ``…`` + last 4, or ``(not set)``; keys under 12 chars show nothing."""
    if not key:
        return "(not set)"
    if len(key) < 12:
        return "…(hidden)"
    return f"{key[:3]}…{key[-4:]}"


def describe_settings() -> list[tuple[str, Any, str]]:
    """(name, default, explanation) for every setting, in file order."""
    return [(name, _DEFAULTS[name], SETTING_HELP[name]) for name in SETTING_NAMES]


def toml_value(value: Any) -> str:
    """``value`` written as in the settings file (``"text"``, ``true``, ``["a"]``, an inline
    table for a mapping), so a line of ``studio config show`` can be pasted into it."""
    if isinstance(value, Mapping):
        items = [tomli_w.dumps({str(k): v}).strip() for k, v in value.items()]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


# --- validation -------------------------------------------------------------------------------


_SECONDS = ("seconds", "a number of seconds greater than 0")
_RULES: dict[str, tuple[str, str]] = {  # setting -> (kind, what a valid value is)
    "api_key": ("secret", "a key of printable ASCII characters without spaces"),
    "base_url": ("url", "an http:// or https:// URL"),
    "default_model": ("text", "a non-empty model name"),
    "favourite_models": ("names", "a list of model names"),
    "image_model": ("text", "a non-empty model name"),
    "video_model": ("text", "a non-empty model name"),
    "clipboard": ("clipboard", "one of " + ", ".join(CLIPBOARD_MODES)),
    "theme": ("text", "a non-empty theme name"),
    "bell": ("bool", "true or false"),
    "media_dir": ("optional", "a directory path"),
    "max_retries": ("retries", f"a whole number from 0 to {MAX_RETRIES_LIMIT}"),
    "request_timeout": _SECONDS,
    "stream_idle_timeout": _SECONDS,
    "stream_stall_timeout": _SECONDS,
    "job_deadline_minutes": ("minutes", "a whole number of minutes greater than 0"),
    "keymap": ("keymap", 'a table of binding id = "key[,key]" (F1 lists the ids)'),
}


class _Refused(ValueError):
    """A value refused for a specific reason, worded for a person (used instead of the
    setting's generic "expected ..." description)."""


_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost")


def _check_host(host: str) -> None:
    if ":" in host:  # an IPv6 literal; urlsplit already checked the brackets' content
        return
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _Refused(f"the host name {host!r} is not valid") from None
    labels = ascii_host.removesuffix(".").split(".")
    if not all(_HOST_LABEL.fullmatch(label) for label in labels) or len(ascii_host) > 253:
        raise _Refused(f"the host name {host!r} is not valid") from None


def _base_url(text: str) -> str:
    """A gateway root URL, normalised; _Refused saying why when it cannot be one.

    Credentials, a query string or a fragment are refused, not dropped: requests are built by
    appending paths (``/v1/chat/completions``), so a query would end up in the middle of every
    path, and a user:password would be printed in every connection error.
    """
    if any(ch.isspace() for ch in text) or _CONTROL_OR_SURROGATE.search(text):
        raise _Refused("the URL contains spaces, control characters or bytes that are not UTF-8")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # a broken [IPv6] literal
        raise _Refused(f"the URL cannot be read ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError
    if "@" in parts.netloc:
        raise _Refused(
            "the URL holds a user name or password; remove it (the API key is sent in a header)"
        )
    if "?" in text:
        raise _Refused("the URL has a query string (?...); give the gateway's root URL only")
    if "#" in text:
        raise _Refused("the URL has a fragment (#...); give the gateway's root URL only")
    try:
        port = parts.port
    except ValueError:
        raise _Refused("the port is not a number from 1 to 65535") from None
    if port == 0:
        raise _Refused("the port is not a number from 1 to 65535")
    if not parts.hostname:
        raise ValueError
    _check_host(parts.hostname)
    return parts.geturl().rstrip("/").removesuffix("/v1")


def url_for_display(text: str) -> str:
    """``text`` (a URL that may be invalid) with any user:password, query and fragment masked,
    so that an error message never prints a credential."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    for mark in "?#":
        if mark in tail:
            tail = tail[: tail.index(mark)] + mark + "***"
    return f"{scheme}{sep}{authority}{tail}"


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` (a valid base URL) points at this machine."""
    host = (urlsplit(url).hostname or "").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_warning(base_url: str) -> str | None:
    """A warning when the key and prompts would cross the network unencrypted."""
    if not base_url.lower().startswith("http://") or is_loopback_url(base_url):
        return None
    return (
        f"base_url {base_url} is plain http:// to another machine: the API key and your "
        "prompts travel unencrypted; use https://"
    )


def _coerce(kind: str, value: Any) -> Any:
    """The normalised value of a setting of ``kind``; ValueError when it is not valid."""
    if kind in ("text", "optional", "secret", "url", "clipboard"):
        if not isinstance(value, str):
            raise ValueError
        text = value.strip()
        if kind == "secret" and not all("!" <= ch <= "~" for ch in text):
            raise ValueError
        if kind != "url" and _CONTROL_OR_SURROGATE.search(text):
            raise _Refused("it contains control characters or bytes that are not UTF-8")
        if kind in ("optional", "secret"):
            return text or None
        if not text or (kind == "clipboard" and text not in CLIPBOARD_MODES):
            raise ValueError
        if kind == "url":
            return _base_url(text)
        return text
    if kind == "keymap" and isinstance(value, dict):
        keymap: dict[str, str] = {}
        for binding_id, keys in value.items():
            if not isinstance(keys, str) or not keys.strip() or not str(binding_id).strip():
                raise ValueError
            keymap[str(binding_id).strip()] = ",".join(k.strip() for k in keys.split(","))
        return keymap
    if kind == "names" and isinstance(value, list):
        return list(dict.fromkeys(_coerce("text", item) for item in value))
    if kind == "bool" and isinstance(value, bool):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError
    if kind == "seconds" and math.isfinite(value) and value > 0:
        return float(value)
    if isinstance(value, int) and (
        (kind == "retries" and 0 <= value <= MAX_RETRIES_LIMIT) or (kind == "minutes" and value > 0)
    ):
        return value
    raise ValueError


def _show(key: str, value: Any) -> str:
    if key == "api_key":  # never echo anything that might be the key itself
        if isinstance(value, str):
            return "a value with spaces, control or non-ASCII characters"
        return f"a value of type {type(value).__name__}"
    if key == "base_url" and isinstance(value, str):
        value = url_for_display(value)  # never echo a user:password or a ?token=
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _validated(key: str, value: Any, where: str, path: Path | None) -> Any:
    kind, expected = _RULES[key]
    try:
        return _coerce(kind, value)
    except ValueError as exc:
        reason = str(exc) if isinstance(exc, _Refused) else f"expected {expected}"
        raise ConfigError(f"{where}: {key}: {reason}, got {_show(key, value)}", path) from None


def _unknown_key(key: str, where: str, path: Path | None, what: str = "") -> ConfigError:
    close = difflib.get_close_matches(key, SETTING_NAMES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: unknown setting {key!r}{what}{hint}", path)


def _from_text(key: str, raw: str) -> Any:
    """Turn a command-line string into the setting's type; leave it as is if it does not parse,
    so that validation reports it with the usual message."""
    default = _DEFAULTS[key]
    text = raw.strip()
    if isinstance(default, bool):
        words = {"true": True, "yes": True, "on": True, "1": True}
        words |= {"false": False, "no": False, "off": False, "0": False}
        return words.get(text.lower(), raw)
    if isinstance(default, int | float):
        try:
            return int(text) if isinstance(default, int) else float(text)
        except ValueError:
            return raw
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


# --- reading and writing ----------------------------------------------------------------------


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(path: Path, info: os.stat_result) -> None:
    """Refuse anything but a regular file of at most MAX_CONFIG_BYTES: reading a FIFO blocks
    until someone writes to it, and a link to /dev/zero never ends."""
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a file")
        target = os.path.realpath(path)
        via = f" ({target})" if target != str(path) else ""
        raise ConfigError(f"{path}: is {kind}{via}, expected a TOML file", path)
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: too big for a settings file ({info.st_size / MAX_CONFIG_BYTES:.1f} MiB; "
            "the limit is 1 MiB)",
            path,
        )


def _read_file(path: Path) -> tuple[bytes, int] | None:
    """The bytes of the settings file and its mode, or None when there is no file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        _check_regular(path, path.stat())
        fd = os.open(path, flags)  # O_NONBLOCK: a FIFO swapped in after stat() cannot block
        with open(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            _check_regular(path, info)
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror or exc}", path) from None
    if len(data) > MAX_CONFIG_BYTES:  # grew since fstat()
        raise ConfigError(f"{path}: too big for a settings file (the limit is 1 MiB)", path)
    return data, info.st_mode


def _read_table(path: Path) -> dict[str, Any]:
    read = _read_file(path)
    return {} if read is None else _parse_table(path, read[0])


def _parse_table(path: Path, data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start})", path
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid TOML: {exc}. Fix that line, or move the file aside to start"
            " with the defaults (your conversations and jobs are not in it).",
            path,
        ) from None


def _config_path(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None) -> Path:
    return Path(path).expanduser() if path is not None else paths.config_file(env)


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the settings file (``paths.config_file()`` by default) and apply the environment.

    A missing file means defaults. Unknown keys are ignored and listed in ``settings.warnings``,
    as are the problems of the ``[keymap]`` table (``studio.keymap.check_keymap``).
    Raises :class:`ConfigError` for an unreadable file, invalid TOML or an invalid value.
    """
    env = os.environ if env is None else env
    cfg = _config_path(path, env)
    values: dict[str, Any] = {}
    warnings: list[str] = []
    read = _read_file(cfg)
    table, file_mode = (_parse_table(cfg, read[0]), read[1]) if read else ({}, 0)
    for key, raw in table.items():
        if key in _RULES:
            values[key] = _validated(key, raw, str(cfg), cfg)
        else:
            warnings.append(str(_unknown_key(key, str(cfg), cfg, " ignored")))
    source: Literal["env", "config"] | None = "config" if values.get("api_key") else None
    if source and os.name == "posix" and file_mode & 0o077:
        warnings.append(
            f"{cfg} holds the API key but other users may access it "
            f"(mode {stat.S_IMODE(file_mode):04o}); run: chmod 600 {cfg}"
        )
    from_env: dict[str, Any] = {}
    for variable, key in ENV_OVERRIDES.items():
        raw = env.get(variable, "")
        if raw.strip():
            from_env[key] = _validated(key, raw, f"environment variable {variable}", cfg)
    if from_env.get("api_key"):
        source = "env"
    values.update(from_env)
    insecure = plain_http_warning(values.get("base_url", _DEFAULTS["base_url"]))
    if insecure:
        warnings.append(insecure)
    if values.get("keymap"):
        from studio.keymap import check_keymap  # its catalog is read only when there is a keymap

        warnings += check_keymap(values["keymap"]).problems
    return Settings(
        **values,
        api_key_source=source,
        config_path=cfg,
        warnings=tuple(warnings),
        from_env=from_env,
        from_file=frozenset(key for key in table if key in _RULES),
    )


def _write_atomic(path: Path, table: Mapping[str, Any]) -> None:
    """Write to a 0600 temporary file beside ``path``, then rename it over ``path``."""
    if path.is_symlink():
        path = path.resolve()  # keep a dotfile manager's symlink intact
    try:
        paths.ensure_dir(path.parent)
        payload = tomli_w.dumps(dict(table)).encode("utf-8")
        import secrets  # only when the config is written

        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), FILE_MODE)  # in case the umask removed bits
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the file: {exc.strerror or exc}", path) from None


def save_settings(
    settings: Settings | Mapping[str, Any], path: str | os.PathLike[str] | None = None
) -> Path:
    """Write settings to the TOML file atomically (mode 0600, directory 0700); return its path.

    Given a :class:`Settings`, values still equal to what the environment supplied are not
    written, and defaults are only written for keys the file already has. Given a mapping, each
    entry is written (``None`` removes the key). Other keys in the file, unknown ones included,
    are kept. The default path is the one ``settings`` was loaded from, else the config file.
    """
    if path is None and isinstance(settings, Settings) and settings.config_path is not None:
        path = settings.config_path
    cfg = _config_path(path, None)
    table = _read_table(cfg)
    changes: dict[str, Any] = {}
    if isinstance(settings, Settings):
        for name in SETTING_NAMES:
            value = getattr(settings, name)
            from_env = name in settings.from_env and value == settings.from_env[name]
            if not from_env and (name in table or value != _DEFAULTS[name]):
                changes[name] = value
    else:
        changes = dict(settings)
    for key, value in changes.items():
        if key not in _RULES:
            raise _unknown_key(key, str(cfg), cfg)
        checked = None if value is None else _validated(key, value, str(cfg), cfg)
        if checked is None:
            table.pop(key, None)
        else:
            table[key] = checked
    _write_atomic(cfg, table)
    return cfg


def set_value(key: str, raw: str, path: str | os.PathLike[str] | None = None) -> Any:
    """``studio config set KEY VALUE``: parse ``raw`` to the setting's type, validate, save.

    Booleans accept true/false/yes/no/on/off/1/0; lists are comma-separated; an empty string
    clears an optional setting. Returns the stored value (``None`` when cleared).
    """
    cfg = _config_path(path, None)
    if key not in _RULES:
        raise _unknown_key(key, "studio config", cfg)
    value = _validated(key, _from_text(key, raw), "studio config", cfg)
    save_settings({key: value}, cfg)
    return value


def unset_value(key: str, path: str | os.PathLike[str] | None = None) -> bool:
    """``studio config unset KEY``: remove a key so its default applies; True if it was present.

    Unknown keys present in the file may be removed too (to clean up a typo).
    """
    cfg = _config_path(path, None)
    table = _read_table(cfg)
    if key not in table:
        if key not in _RULES:
            raise _unknown_key(key, "studio config", cfg)
        return False
    del table[key]
    _write_atomic(cfg, table)
    return True
