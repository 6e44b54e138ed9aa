"""Checking the database without changing it: what ``studio doctor`` reports about the store.

:func:`check_database` reads the file the way ``Store.open`` would, runs SQLite's
``PRAGMA quick_check`` over every page, and never creates, migrates or repairs anything. The
check reads the whole file (about 65 ms for 100 MB with the file in the OS cache), which is why
``Store.open`` does not run it at every start: damage found later surfaces as
:class:`StoreUnavailable` from the operation that reads the damaged page.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from studio.store.errors import StoreUnavailable, has_sqlite_header
from studio.store.models import StoreError
from studio.store.schema import (
    BUSY_TIMEOUT_MS,
    latest_version,
    resolve_path,
    translate_errors,
    user_version,
)

MAX_REPORTED = 3
"""How many of quick_check's findings the detail quotes."""


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """What :func:`check_database` found."""

    path: Path
    exists: bool
    schema_version: int | None
    """``None`` when the file does not exist or could not be read."""
    conversations: int | None
    problem: StoreError | None
    """``None`` when Studio can use the file; else the error whose message says what to do."""

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_database(path: str | os.PathLike[str] | None = None) -> DatabaseHealth:
    """Check the database at ``path`` (default: ``paths.database_file()``) without changing it:
    that it is a SQLite file Studio can write, of a schema version this code knows, whose pages
    pass ``PRAGMA quick_check``. A missing file is fine if its folder can be created."""
    resolved = resolve_path(path)
    if resolved is None:
        raise ValueError("check_database needs a file, not an in-memory database")
    if not resolved.exists():
        return DatabaseHealth(resolved, False, None, None, _creatable(resolved))
    if resolved.is_dir() or (resolved.stat().st_size > 0 and not has_sqlite_header(resolved)):
        foreign = StoreUnavailable.not_a_database(resolved)
        return DatabaseHealth(resolved, True, None, None, foreign)
    version: int | None = None
    conversations: int | None = None
    try:
        with translate_errors(resolved):
            version, conversations = _inspect(resolved)
    except StoreError as exc:
        return DatabaseHealth(resolved, True, version, None, exc)
    problem: StoreError | None = None
    if not _writable(resolved) or not _writable(resolved.parent):
        problem = StoreUnavailable.unwritable(resolved, "no write permission")
    return DatabaseHealth(resolved, True, version, conversations, problem)


def _inspect(path: Path) -> tuple[int, int | None]:
    # mode=rw: never creates the file; reading changes nothing in it (an empty -wal and the
    # -shm that SQLite makes beside a WAL database are removed again at close).
    conn = sqlite3.connect(
        f"{path.absolute().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        version = user_version(conn)
        known = latest_version()
        if version > known:
            raise StoreUnavailable.too_new(path, version, known)
        findings = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
        if findings != ["ok"]:
            detail = "; ".join(" ".join(f.split()) for f in findings[:MAX_REPORTED])
            if len(findings) > MAX_REPORTED:
                detail += f" and {len(findings) - MAX_REPORTED} more"
            raise StoreUnavailable.damaged(path, f"quick_check: {detail}")
        conversations = None
        if version >= 1:
            conversations = int(conn.execute("SELECT count(*) FROM conversations").fetchone()[0])
        return version, conversations
    finally:
        conn.close()


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0))


def _creatable(path: Path) -> StoreError | None:
    """Whether ``Store.open`` could create the database at ``path`` (nothing is created)."""
    probe = path.parent
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return StoreUnavailable.cannot_create(path, _os_error(errno.ENOTDIR))
    if not _writable(probe):
        return StoreUnavailable.cannot_create(path, _os_error(errno.EACCES))
    return None


def _os_error(code: int) -> OSError:
    return OSError(code, os.strerror(code))
