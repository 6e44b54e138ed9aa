"""Checking setting values: each :class:`~studio.config.settings.Spec`'s ``kind`` names a check
here, and a refused value gets one message naming where it came from, the setting and why."""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from studio.config.settings import DEFAULTS, SETTING_NAMES, SPECS, Spec


class ConfigError(Exception):
    """The configuration cannot be read, parsed, validated or written; ``path`` names the file."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


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


def _coerce(spec: Spec, value: Any) -> Any:
    """The normalised value of a setting declared by ``spec``; ValueError when it is not valid."""
    kind = spec.kind
    if kind in ("text", "optional", "secret", "url", "choice"):
        if not isinstance(value, str):
            raise ValueError
        text = value.strip()
        if kind == "secret" and not all("!" <= ch <= "~" for ch in text):
            raise ValueError
        if kind != "url" and _CONTROL_OR_SURROGATE.search(text):
            raise _Refused("it contains control characters or bytes that are not UTF-8")
        if kind in ("optional", "secret"):
            return text or None
        if not text or (kind == "choice" and text not in spec.choices):
            raise ValueError
        if kind == "url":
            return _base_url(text)
        return text
    if kind == "command" and isinstance(value, str):
        return _command(value)
    if kind == "keymap" and isinstance(value, dict):
        keymap: dict[str, str] = {}
        for binding_id, keys in value.items():
            if not isinstance(keys, str) or not keys.strip() or not str(binding_id).strip():
                raise ValueError
            keymap[str(binding_id).strip()] = ",".join(k.strip() for k in keys.split(","))
        return keymap
    if kind == "names" and isinstance(value, list):
        return list(dict.fromkeys(_coerce(_NAME, item) for item in value))
    if kind == "bool" and isinstance(value, bool):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError
    if kind == "seconds" and math.isfinite(value) and value > 0:
        return float(value)
    if kind == "whole" and isinstance(value, int) and _in_range(spec, value):
        return value
    raise ValueError


_NAME = Spec("text", "", "")


def _command(text: str) -> str | None:
    """A command line as ``shlex`` splits it (the notifier runs it without a shell); ``None``
    when blank."""
    if _CONTROL_OR_SURROGATE.search(text):
        raise _Refused("it contains control characters or bytes that are not UTF-8")
    try:
        words = shlex.split(text)
    except ValueError as exc:  # an unbalanced quote
        raise _Refused(f"it cannot be split into words ({exc})") from None
    return text.strip() if words else None


def _in_range(spec: Spec, value: int) -> bool:
    low, high = spec.minimum, spec.maximum
    return (low is None or value >= low) and (high is None or value <= high)


def _show(key: str, value: Any) -> str:
    if key == "api_key":  # never echo anything that might be the key itself
        if isinstance(value, str):
            return "a value with spaces, control or non-ASCII characters"
        return f"a value of type {type(value).__name__}"
    if key == "base_url" and isinstance(value, str):
        value = url_for_display(value)  # never echo a user:password or a ?token=
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validated(key: str, value: Any, where: str, path: Path | None) -> Any:
    """``value`` checked and normalised for setting ``key``; :class:`ConfigError` when refused."""
    spec = SPECS[key]
    try:
        return _coerce(spec, value)
    except ValueError as exc:
        reason = str(exc) if isinstance(exc, _Refused) else f"expected {spec.expected}"
        raise ConfigError(f"{where}: {key}: {reason}, got {_show(key, value)}", path) from None


def unknown_key(key: str, where: str, path: Path | None, what: str = "") -> ConfigError:
    """The error for a setting name that does not exist, suggesting a close one."""
    close = difflib.get_close_matches(key, SETTING_NAMES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: unknown setting {key!r}{what}{hint}", path)


def from_text(key: str, raw: str) -> Any:
    """Turn a command-line string into the setting's type; leave it as is if it does not parse,
    so that validation reports it with the usual message."""
    default = DEFAULTS[key]
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


def checked_text(key: str, raw: str) -> tuple[Any, str | None]:
    """A value typed for setting ``key`` in a form (as ``studio config set`` takes it:
    comma-separated lists, yes/no...): ``(normalised value, None)``, or ``(None, why it is
    refused)`` worded to stand under the field."""
    spec = SPECS[key]
    try:
        return _coerce(spec, from_text(key, raw)), None
    except ValueError as exc:
        return None, str(exc) if isinstance(exc, _Refused) else f"expected {spec.expected}"
