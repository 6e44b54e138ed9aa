"""``api_key_command``: the API key printed by a command (a password manager) instead of stored.

The command runs once per process (the result is kept in memory, never written or logged),
split like a shell line and run without a shell, with no standard input and its messages on
the terminal's stderr; the first line of its output, trimmed, is the key.
"""

from __future__ import annotations

import dataclasses
import shlex

from studio.config.checks import ConfigError, validated
from studio.config.settings import Settings

KEY_COMMAND_SECONDS = 60.0
"""How long the command may run: long enough to type a password manager's passphrase."""

_keys: dict[str, str] = {}
"""Command line -> the key it printed, so each command runs once per start."""


def with_command_key(settings: Settings, *, timeout: float = KEY_COMMAND_SECONDS) -> Settings:
    """``settings`` with the key ``api_key_command`` prints, unless there is no command or
    ``ANYFAST_API_KEY`` set the key; :class:`ConfigError` saying why when the command fails."""
    command = settings.api_key_command
    if not command or settings.api_key_source == "env":
        return settings
    key = _keys.get(command)
    if key is None:
        key = _run(command, timeout)
        _keys[command] = key
    return dataclasses.replace(settings, api_key=key, api_key_source="command")


def _run(command: str, timeout: float) -> str:
    where = "api_key_command"
    import subprocess  # only when there is a command: not on the TUI's way to its first frame

    words = shlex.split(command)
    try:
        done = subprocess.run(
            words,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ConfigError(f"{where}: cannot run {words[0]!r}: no such program") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"{where}: {words[0]!r} did not finish within {timeout:g} s; it was stopped"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot run {words[0]!r}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise ConfigError(
            f"{where}: {words[0]!r} failed (exit status {done.returncode}); "
            "its own message, if any, is above"
        )
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if not lines or not lines[0].strip():
        raise ConfigError(f"{where}: {words[0]!r} printed nothing")
    key = validated("api_key", lines[0].strip(), f"the output of {where}", None)
    if key is None:
        raise ConfigError(f"{where}: {words[0]!r} printed nothing")
    return str(key)
