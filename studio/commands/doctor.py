"""``studio doctor``: check what Studio needs, one line per check, each problem with its fix.

The checks: the config file loads (and a file holding the key is private), a key is set, the
gateway answers ``GET /v1/models`` (the built-in emulator with ``--demo``), the database passes
``PRAGMA quick_check``, and the media folder can be written. Nothing is created or repaired;
the media check writes and removes one empty probe file. Exit 0 when every check passes, 1
otherwise. No Textual here.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from studio import paths
from studio.commands.exits import EXIT_FAILED, EXIT_OK
from studio.config import ConfigError, Settings, load_settings, with_command_key
from studio.gateway import Gateway
from studio.textsafe import clean_line

GATEWAY_TIMEOUT = 5.0
"""Seconds the gateway check waits for an answer, unless ``--timeout`` says otherwise."""


class Status(enum.StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    SKIPPED = "skipped"
    """Not checked because an earlier check failed (counts as a problem for the exit code)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: what was checked, how it went, and what was found or what to do."""

    name: str
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def line(self) -> str:
        return clean_line(f"{self.name:<8} {self.status.value:<8} {self.detail}")


def run_doctor(args: argparse.Namespace) -> int:
    """Print every check as it completes; exit 0 when all passed."""
    all_ok = True
    for check in run_checks(demo=args.demo, timeout=args.timeout):
        print(check.line(), flush=True)
        all_ok = all_ok and check.ok
    return EXIT_OK if all_ok else EXIT_FAILED


def run_checks(*, demo: bool, timeout: float = GATEWAY_TIMEOUT) -> Iterator[Check]:
    """The checks in order: config, key, gateway, store, media."""
    settings, config = check_config()
    yield config
    settings, key = check_key(settings, demo=demo)
    yield key
    yield check_gateway(settings, demo=demo, timeout=timeout)
    yield check_store()
    yield check_media(settings)


def check_config() -> tuple[Settings | None, Check]:
    """The settings (``None`` when the file does not load) and the verdict on the file."""
    path = paths.config_file()
    try:
        settings = load_settings()
    except ConfigError as exc:
        return None, Check("config", Status.PROBLEM, str(exc))
    if settings.warnings:
        return settings, Check("config", Status.PROBLEM, " · ".join(settings.warnings))
    where = f"{path}" if path.exists() else f"{path} (not created yet: every setting is default)"
    return settings, Check("config", Status.OK, where)


def check_key(settings: Settings | None, *, demo: bool) -> tuple[Settings | None, Check]:
    """The settings with the key ``api_key_command`` prints (if any), and the verdict on the
    key."""
    if demo:
        return settings, Check("key", Status.OK, "not needed: --demo uses the built-in emulator")
    if settings is None:
        return None, Check("key", Status.SKIPPED, "the config file did not load (see above)")
    try:
        settings = with_command_key(settings)
    except ConfigError as exc:
        return settings, Check("key", Status.PROBLEM, str(exc))
    return settings, _key_verdict(settings)


def _key_verdict(settings: Settings) -> Check:
    if not settings.api_key:
        return Check(
            "key",
            Status.PROBLEM,
            "no API key: run `studio config set api_key -` (reads it without echo), or export "
            "ANYFAST_API_KEY=sk-..., or add --demo to use the built-in emulator",
        )
    origin = {"env": "from ANYFAST_API_KEY", "command": "from api_key_command"}.get(
        settings.api_key_source or "", "from the config"
    )
    return Check("key", Status.OK, f"{settings.masked_key()} ({origin})")


def check_gateway(settings: Settings | None, *, demo: bool, timeout: float) -> Check:
    """``GET /v1/models`` with a short timeout and no retries."""
    if demo:  # the built-in emulator, keeping nothing on disk: the doctor creates nothing
        gateway = Gateway(settings or Settings(), demo=True, keep_demo_tasks=False)
        return _ask_for_models(gateway, "the built-in emulator", timeout)
    if settings is None or not settings.api_key:
        why = "no API key" if settings is not None else "the config file did not load"
        return Check("gateway", Status.SKIPPED, f"not checked: {why} (see above)")
    return _ask_for_models(Gateway(settings, demo=False), settings.base_url, timeout)


def _ask_for_models(gateway: Gateway, name: str, timeout: float) -> Check:
    from studio.api.errors import AnyFastError, AuthenticationError, describe

    started = time.monotonic()
    try:
        count = asyncio.run(_count_models(gateway, timeout))
    except AuthenticationError as exc:
        return Check(
            "gateway",
            Status.PROBLEM,
            f"{name} refused the key ({describe(exc)}): check it in the AnyFast console and set "
            "it again with `studio config set api_key -`",
        )
    except AnyFastError as exc:
        return Check(
            "gateway",
            Status.PROBLEM,
            f"GET /v1/models on {name} failed: {describe(exc)}",
        )
    except TimeoutError:
        return Check(
            "gateway",
            Status.PROBLEM,
            f"{name} did not answer GET /v1/models within {timeout:g} s: check base_url "
            "(`studio config show`) and your network",
        )
    elapsed = time.monotonic() - started
    return Check(
        "gateway",
        Status.OK,
        f"{name} answered GET /v1/models in {elapsed:.2f} s ({count} models)",
    )


async def _count_models(gateway: Gateway, seconds: float) -> int:
    async with gateway:
        return len(await gateway.list_models_once(seconds))


def check_store() -> Check:
    """``PRAGMA quick_check`` on the database, read without changing it."""
    from studio.store import check_database  # sqlite3 and the schema: only for this check

    health = check_database(paths.database_file())
    if health.problem is not None:
        return Check("store", Status.PROBLEM, str(health.problem))
    if not health.exists:
        return Check(
            "store", Status.OK, f"{health.path} (not created yet: Studio creates it at start)"
        )
    count = health.conversations or 0
    return Check(
        "store",
        Status.OK,
        f"{health.path}: quick_check ok, schema version {health.schema_version}, "
        f"{count} conversation{'' if count == 1 else 's'}",
    )


def check_media(settings: Settings | None) -> Check:
    """The media folder exists and takes a file, or could be created."""
    folder = paths.media_dir(settings.media_dir if settings is not None else None)
    setting = "set media_dir (`studio config set media_dir PATH`)"
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return Check(
            "media",
            Status.PROBLEM,
            f"{probe} is a file where the media folder {folder} should be: move it aside or "
            f"{setting}",
        )
    if probe != folder:
        if os.access(probe, os.W_OK | os.X_OK):
            return Check("media", Status.OK, f"{folder} (not created yet: made at first save)")
        return Check(
            "media",
            Status.PROBLEM,
            f"{folder} cannot be created: {probe} is not writable; fix its permissions "
            f"(chmod u+rwx {probe}) or {setting}",
        )
    failure = _write_probe(folder)
    if failure:
        return Check(
            "media",
            Status.PROBLEM,
            f"{folder} is not writable ({failure}): fix its permissions (chmod u+rwx {folder}) "
            f"or {setting}",
        )
    return Check("media", Status.OK, f"{folder} (writable)")


def _write_probe(folder: Path) -> str | None:
    """Create and remove an empty file in ``folder``; the reason it failed, or ``None``."""
    try:
        handle, name = tempfile.mkstemp(prefix=".studio-doctor-", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(handle)
    os.unlink(name)
    return None
