"""What every headless command needs: settings, a gateway (real or demo), errors worded for a
person with their exit code, and safe writes on stdout."""

from __future__ import annotations

import os
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from studio.api.errors import (
    AnyFastError,
    AuthenticationError,
    MediaInputError,
    describe,
    redact,
)
from studio.commands.exits import EXIT_AUTH, EXIT_FAILED, EXIT_STORE, EXIT_USAGE
from studio.config import (
    ConfigError,
    Settings,
    load_settings,
    plain_http_warning,
    with_command_key,
)
from studio.gateway import Gateway
from studio.paths import ensure_dir, state_dir
from studio.textsafe import clean_line

if TYPE_CHECKING:
    from studio.api.http import RetryCallback


class CommandError(Exception):
    """A failure already worded for a person, with the exit code to use."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class OutputError(CommandError):
    """Standard output cannot be written (a full disk, an I/O error); the reply is incomplete."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """``text`` with lone surrogates (bytes that were not UTF-8, or a broken ``\\ud83d`` escape
    in JSON) replaced by U+FFFD, so that writing it can never raise UnicodeEncodeError."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def say(message: str) -> None:
    """One line on stderr, ``studio: `` first, made harmless for the terminal (client-guide §6)."""
    print(f"studio: {encodable(clean_line(message))}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    say(f"warning: {message}")


def write_stdout(text: str, stream: TextIO | None = None) -> None:
    """Write and flush ``text`` on stdout (or ``stream``); a failed write is an OutputError.

    BrokenPipeError passes through: the reader went away (``| head``), which ``studio.cli.main``
    treats as a quiet stop.
    """
    out = sys.stdout if stream is None else stream
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def discard_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit cannot fail (or complain) again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (in-process tests)
        pass


def settings_or_fail(*, demo: bool = False) -> Settings:
    """The settings, their warnings said on stderr: a config file others may read, unknown
    keys, a plain-http base URL (unless ``demo``, which does not use it). Without ``demo``, the
    key ``api_key_command`` prints is in them (a CommandError, exit 3, when it fails)."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    insecure = plain_http_warning(settings.base_url)
    for warning in settings.warnings:
        if not (demo and warning == insecure):
            warn(warning)
    if demo:  # the emulator needs no key: the password manager is not asked
        return settings
    try:
        return with_command_key(settings)
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_AUTH) from None


def open_gateway(
    settings: Settings, *, demo: bool, on_retry: RetryCallback | None = None
) -> Gateway:
    """The configured gateway, or the built-in emulator (started on first use) for ``--demo``;
    without a key and without ``--demo``, a CommandError (exit 3) that says how to set one."""
    if not demo and not settings.api_key:
        raise CommandError(
            "no API key: set ANYFAST_API_KEY, run `studio config set api_key sk-...`, "
            "or add --demo to try the built-in emulator",
            EXIT_AUTH,
        )
    return Gateway(settings, demo=demo, on_retry=on_retry)


def exit_code_for(exc: AnyFastError) -> int:
    if isinstance(exc, AuthenticationError):
        return EXIT_AUTH
    if isinstance(exc, MediaInputError):
        return EXIT_USAGE
    return EXIT_FAILED


def handle_error(exc: Exception) -> int:
    """Word any failure as one line on stderr and pick the exit code; never a traceback.

    An unexpected exception (a bug) is logged with its traceback to ``crash.log`` in the state
    directory, and the line says where.
    """
    if isinstance(exc, OutputError):
        discard_stdout()
    if isinstance(exc, CommandError):
        say(str(exc))
        return exc.exit_code
    if isinstance(exc, AnyFastError):
        say(describe(exc))  # the server's words, an HTML body, a request id: all sanitised
        return exit_code_for(exc)
    if isinstance(exc, ConfigError):
        say(str(exc))
        return EXIT_USAGE
    from studio.store.models import StoreError  # here: most commands never load the store

    if isinstance(exc, StoreError):  # its message names the file and says what to do
        from studio.store.errors import StoreUnavailable

        say(str(exc))
        return EXIT_STORE if isinstance(exc, StoreUnavailable) else EXIT_FAILED
    where = _log_crash(exc)
    say(f"unexpected error: {type(exc).__name__}: {exc}{where}")
    return EXIT_FAILED


def _log_crash(exc: Exception) -> str:
    try:
        log = ensure_dir(state_dir()) / "crash.log"
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now(UTC).isoformat()}\n")
            fh.write(redact("".join(traceback.format_exception(exc))))
    except OSError:
        return ""
    return f" (details in {log})"
