"""Opening the SQLite file safely and bringing its schema up to date.

The schema lives in package resources (``studio/store/migrations/NNNN_name.sql``). The database
records the last script applied in ``PRAGMA user_version``; at open, every newer script runs in
its own ``BEGIN IMMEDIATE`` transaction, so two processes starting together cannot apply one
twice, and a failed script leaves the database as it was.

A script whose header says ``-- requires: fts5`` (the search index) is skipped by a SQLite
built without FTS5, so the store still opens there (search then says it is unavailable); the
first Studio with FTS5 to open the file applies it, as its virtual table is missing.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from studio import paths
from studio.store.errors import StoreUnavailable, unavailable_from
from studio.store.models import StoreError

FILE_MODE = 0o600
BUSY_TIMEOUT_MS = 5000
MEMORY = ":memory:"

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_NEEDS_FTS5 = re.compile(r"^-- requires: fts5$", re.MULTILINE)
_VIRTUAL_TABLE = re.compile(r"CREATE VIRTUAL TABLE (\w+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema script: it brings the database to ``version``."""

    version: int
    name: str
    sql: str

    @property
    def needs_fts5(self) -> bool:
        """Whether the script creates FTS5 tables (its header says ``-- requires: fts5``):
        skipped where SQLite lacks FTS5, applied later by a Studio that has it."""
        return _NEEDS_FTS5.search(self.sql) is not None


@cache
def migrations() -> tuple[Migration, ...]:
    """Every migration script shipped with the package, in version order (1, 2, 3, ...)."""
    folder = resources.files("studio.store").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"the packaged migrations are not numbered 1..n: {versions}")
    return tuple(found)


def latest_version() -> int:
    """The schema version this code writes: the number of the last migration."""
    return len(migrations())


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (trigger bodies stay whole).

    ``executescript`` would commit any open transaction first, so the runner executes the
    statements one by one inside its own transaction instead.
    """
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = _strip_comments(pending)
            if statement:
                statements.append(statement)
            pending = ""
    if _strip_comments(pending):
        raise StoreError(f"incomplete SQL statement at the end of a migration: {pending!r}")
    return statements


def _strip_comments(sql: str) -> str:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip()


def describe(path: Path | None) -> str:
    """How errors name the database: its path, or "the in-memory database"."""
    return "the in-memory database" if path is None else f"database {str(path)!r}"


@contextmanager
def translate_errors(path: Path | None) -> Iterator[None]:
    """Turn any ``sqlite3`` error raised inside into a ``StoreError`` that names the database:
    a :class:`StoreUnavailable` for a damaged, foreign or unwritable file."""
    try:
        yield
    except sqlite3.Error as exc:
        unavailable = unavailable_from(exc, path)
        if unavailable is not None:
            raise unavailable from exc
        label = describe(path)
        name = getattr(exc, "sqlite_errorname", "") or ""
        if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):  # only the in-memory one
            message = f"{label} is damaged ({exc})"
        elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            message = f"{label} stayed locked by another process for too long ({exc})"
        else:
            message = f"{label}: {exc}"
        raise StoreError(message) from exc


def resolve_path(path: str | os.PathLike[str] | None) -> Path | None:
    """The database file to use (``None`` for an in-memory database)."""
    if path is None:
        return paths.database_file()
    if os.fspath(path) == MEMORY:
        return None
    return Path(path).expanduser()


def connect(path: Path | None) -> sqlite3.Connection:
    """Open (creating it owner-only if needed), configure and migrate the database at ``path``.

    Raises :class:`StoreUnavailable` for a file that is not a SQLite database, a damaged one, a
    schema newer than this code, or a file or folder that cannot be written; the file is left as
    it was and the connection is closed again in every failure case.
    """
    if path is not None:
        _create_private_file(path)
    with translate_errors(path):
        conn = sqlite3.connect(
            MEMORY if path is None else path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE for writes
            check_same_thread=False,  # every use is serialised by the Store's lock
        )
    try:
        with translate_errors(path):
            _configure(conn)
            # Read before anything is written (switching to WAL rewrites the header): a foreign
            # file and a newer schema are refused with the file as it was.
            _refuse_newer(user_version(conn), latest_version(), path)
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _create_private_file(path: Path) -> None:
    """Create an empty database file readable by its owner only, unless it exists.

    SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions, so they are
    private too.
    """
    try:
        paths.ensure_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreUnavailable.cannot_create(path, exc) from exc
    os.close(fd)
    os.chmod(path, FILE_MODE)  # exact, whatever the umask


def _configure(conn: sqlite3.Connection) -> None:
    """Settings that do not touch the file (the busy timeout also covers the first read)."""
    conn.row_factory = sqlite3.Row
    conn.create_function("studio_casefold", 1, _casefold, deterministic=True)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, retrying while another connection holds the lock.

    Changing the journal mode of a fresh file fails at once with "database is locked" when
    another process is doing the same (SQLite does not call the busy handler there), so the
    wait the busy timeout would give is done here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            busy = str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_BUSY")
            if not busy or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _casefold(value: object) -> str | None:
    """Unicode-aware case folding for title filters (SQLite's own ``lower`` is ASCII-only)."""
    return value.casefold() if isinstance(value, str) else None


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, path: Path | None) -> int:
    """Apply every migration newer than the database's version; return the version reached."""
    target = latest_version()
    current = user_version(conn)
    _refuse_newer(current, target, path)
    for migration in migrations():
        if migration.version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while this one waited for the lock.
            current = user_version(conn)
            _refuse_newer(current, target, path)
            if migration.version > current:
                if not migration.needs_fts5 or fts5_available(conn):
                    for statement in split_statements(migration.sql):
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {migration.version}")
                current = migration.version
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    _apply_skipped(conn, current)
    return current


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite has FTS5 (probed in the connection's temporary schema, which never
    touches the file)."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.studio_fts5_probe USING fts5(probe)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.studio_fts5_probe")
    return True


def missing_tables(conn: sqlite3.Connection, migration: Migration) -> list[str]:
    """The virtual tables ``migration`` creates that the database does not have."""
    names = _VIRTUAL_TABLE.findall(migration.sql)
    return [
        name
        for name in names
        if conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        is None
    ]


def _apply_skipped(conn: sqlite3.Connection, current: int) -> None:
    """Apply the FTS5 migrations that an earlier Studio without FTS5 skipped (their tables are
    missing), now that this one has it. A cheap look at ``sqlite_master`` on every open."""
    for migration in migrations():
        if not migration.needs_fts5 or migration.version > current:
            continue
        if not missing_tables(conn, migration) or not fts5_available(conn):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if missing_tables(conn, migration):  # not done meanwhile by another process
                for statement in split_statements(migration.sql):
                    conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _refuse_newer(current: int, target: int, path: Path | None) -> None:
    if current <= target:
        return
    if path is not None:
        raise StoreUnavailable.too_new(path, current, target)
    raise StoreError(  # pragma: no cover - an in-memory database starts at version 0
        f"{describe(path)} has schema version {current}, but this Studio knows up to {target}"
    )
