"""What every headless command needs: settings, a gateway (real or demo) and a client."""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from studio.api.errors import (
    AnyFastError,
    AuthenticationError,
    MediaInputError,
    describe,
    redact,
)
from studio.cli import EXIT_AUTH, EXIT_FAILED, EXIT_USAGE
from studio.config import ConfigError, Settings, load_settings, plain_http_warning
from studio.paths import data_dir, ensure_dir, state_dir
from studio.textsafe import clean_line

if TYPE_CHECKING:
    from studio.api.http import Timeouts
    from studio.emulator import EmulatorConfig

DEMO_TOKEN_RATE = 150.0
"""Demo replies stream visibly but finish in a couple of seconds."""

DEMO_VIDEO_SECONDS = 20.0
"""Demo video jobs finish in well under a minute, so the whole flow can be tried at once."""

DEMO_GATEWAY_FOLDER = "demo-gateway"
"""Under the data dir: the demo emulator's tasks and files, shared by every Studio process."""


def demo_emulator_config() -> EmulatorConfig:
    """The demo emulator's settings: paced replies, short videos, tasks kept in the data dir
    (so a demo job survives a restart and a later command sees it, as with the real gateway)."""
    from studio.emulator import EmulatorConfig

    return EmulatorConfig(
        api_key=None,
        token_rate=DEMO_TOKEN_RATE,
        video_seconds=DEMO_VIDEO_SECONDS,
        data_dir=str(data_dir() / DEMO_GATEWAY_FOLDER),
    )


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


@dataclass(frozen=True, slots=True)
class Gateway:
    base_url: str
    api_key: str
    demo: bool


def settings_or_fail(*, demo: bool = False) -> Settings:
    """The settings, their warnings said on stderr: a config file others may read, unknown
    keys, a plain-http base URL (unless ``demo``, which does not use it)."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    insecure = plain_http_warning(settings.base_url)
    for warning in settings.warnings:
        if not (demo and warning == insecure):
            warn(warning)
    return settings


@contextmanager
def open_gateway(settings: Settings, *, demo: bool) -> Iterator[Gateway]:
    """The configured gateway, or the built-in emulator running in-process for ``--demo``."""
    if not demo:
        if not settings.api_key:
            raise CommandError(
                "no API key: set ANYFAST_API_KEY, run `studio config set api_key sk-...`, "
                "or add --demo to try the built-in emulator",
                EXIT_AUTH,
            )
        yield Gateway(settings.base_url, settings.api_key, demo=False)
        return
    from studio.emulator import EmulatorServer

    with EmulatorServer(demo_emulator_config()) as emu:
        yield Gateway(emu.base_url, emu.api_key, demo=True)


def timeouts_for(settings: Settings) -> Timeouts:
    from studio.api.http import Timeouts  # httpx: not before the TUI's first frame

    return Timeouts(
        stream_idle=settings.stream_idle_timeout,
        stream_stall=settings.stream_stall_timeout,
        request=settings.request_timeout,
    )


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
        from studio.cli import EXIT_STORE
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
