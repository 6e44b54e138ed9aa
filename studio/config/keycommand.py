"""``api_key_command``: the API key printed by a command (a password manager) instead of stored.

The command runs once per process (the result is kept in memory, never written or logged),
split like a shell line and run without a shell, with no standard input and its messages on
the terminal's stderr; the first line of its output, trimmed, is the key.

Only that line is read, at most ``MAX_KEY_LINE_BYTES`` of it: a command that prints without end
(``yes``) costs no memory. Once the line is in, the command has ``AFTER_KEY_SECONDS`` to exit,
so that one that prints and then fails (gpg prints what it decrypted before it checks it) is
still refused; one that keeps running after that is stopped and its line kept, since the key is
all Studio asks of it and waiting on would only hold Studio's start.
"""

from __future__ import annotations

import dataclasses
import shlex
from typing import IO, TYPE_CHECKING

from studio.config.checks import ConfigError, validated
from studio.config.settings import Settings

if TYPE_CHECKING:
    import subprocess

KEY_COMMAND_SECONDS = 60.0
"""How long the command may run: long enough to type a password manager's passphrase."""

AFTER_KEY_SECONDS = 1.0
"""How long a command that has printed its key line may take to exit before it is stopped."""

MAX_KEY_LINE_BYTES = 8 * 1024
"""A key is a few dozen bytes; a first line longer than this is not a key."""

STOP_SECONDS = 2.0
"""How long a stopped command may take to exit after SIGTERM before it is killed."""

_WHERE = "api_key_command"

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


class _FirstLine:
    """Reads a pipe on a thread until its first non-blank line ends (or the pipe does), reading
    at most ``MAX_KEY_LINE_BYTES + 1`` bytes, then stops reading. A thread rather than select():
    select() does not take pipes on Windows."""

    def __init__(self, pipe: IO[bytes]) -> None:
        import threading

        self.data = bytearray()
        self.too_long = False
        self.done = threading.Event()
        self._pipe = pipe
        self._thread = threading.Thread(target=self._read, name="api-key-command", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        consumed = 0  # blank lines before the key count too: `yes ""` is refused
        try:
            while consumed <= MAX_KEY_LINE_BYTES:
                chunk = self._pipe.read(MAX_KEY_LINE_BYTES + 1 - consumed)
                if not chunk:
                    self._pipe.close()  # every writer has closed it: nothing more can come
                    return
                consumed += len(chunk)
                self.data += chunk
                del self.data[: len(self.data) - len(self.data.lstrip())]  # leading blank lines
                newline = self.data.find(b"\n")
                if newline >= 0:
                    del self.data[newline:]
                    return
            self.too_long = True
        except (OSError, ValueError):  # the pipe broke, or was closed under us
            return
        finally:
            self.done.set()

    def close(self) -> None:
        """Close the pipe once the thread no longer reads it (the child has ended); a thread
        still blocked in a read (a grandchild holds the pipe open) closes it at end of file."""
        if not self._thread.is_alive():
            self._pipe.close()

    def line(self) -> str:
        text = self.data.decode("utf-8", "replace").strip()
        return text.splitlines()[0].strip() if text else ""


def _run(command: str, timeout: float) -> str:
    import subprocess  # only when there is a command: not on the TUI's way to its first frame
    import time

    words = shlex.split(command)
    name = words[0]
    deadline = time.monotonic() + timeout
    try:
        process = subprocess.Popen(
            words, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, bufsize=0
        )  # stderr: the terminal's, where a password manager asks for its passphrase
    except FileNotFoundError:
        raise ConfigError(f"{_WHERE}: cannot run {name!r}: no such program") from None
    except OSError as exc:
        raise ConfigError(f"{_WHERE}: cannot run {name!r}: {exc.strerror or exc}") from None
    assert process.stdout is not None
    reader = _FirstLine(process.stdout)
    try:
        if not reader.done.wait(max(0.0, deadline - time.monotonic())):
            raise ConfigError(
                f"{_WHERE}: {name!r} did not finish within {timeout:g} s; it was stopped"
            )
        if reader.too_long:
            raise ConfigError(
                f"{_WHERE}: {name!r} printed more than {MAX_KEY_LINE_BYTES // 1024} KiB "
                "before the end of its first line (the key must be the first line of its output)"
            )
        grace = min(AFTER_KEY_SECONDS, deadline - time.monotonic())
        status = _exit_status(process, grace)  # None: still running; stopped below
    finally:
        _stop(process)
        reader.close()
    if status not in (None, 0):
        raise ConfigError(
            f"{_WHERE}: {name!r} failed (exit status {status}); its own message, if any, is above"
        )
    line = reader.line()
    if not line:
        raise ConfigError(f"{_WHERE}: {name!r} printed nothing")
    key = validated("api_key", line, f"the output of {_WHERE}", None)
    if key is None:
        raise ConfigError(f"{_WHERE}: {name!r} printed nothing")
    return str(key)


def _exit_status(process: subprocess.Popen[bytes], seconds: float) -> int | None:
    """The command's exit status once it ends within ``seconds``; None if it is still running."""
    import subprocess

    try:
        return process.wait(max(0.0, seconds))
    except subprocess.TimeoutExpired:
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the command if it still runs: SIGTERM, then SIGKILL; always reaped."""
    if process.poll() is not None:
        return
    process.terminate()
    if _exit_status(process, STOP_SECONDS) is None:
        process.kill()
        process.wait()
