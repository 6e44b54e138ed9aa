"""Why the database cannot be used, worded once for every surface (the TUI, the commands and
``studio doctor``).

Four problems stop Studio from using its database at all; each is a :class:`StoreUnavailable`
whose message is one sentence for a person: what is wrong, with which file, that Studio left the
file as it was, and what to do about it. Every other database failure stays a plain
``StoreError``.
"""

from __future__ import annotations

import enum
import errno
import shlex
import sqlite3
from pathlib import Path

from studio.store.models import StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""


class StoreProblem(enum.StrEnum):
    """What keeps the database from being used."""

    UNWRITABLE = "unwritable"
    """The file or its folder cannot be created or written (permissions, a file in the way)."""
    NOT_A_DATABASE = "not_a_database"
    """The file is not a SQLite database at all (or is a folder)."""
    DAMAGED = "damaged"
    """A SQLite database with a damaged page (SQLite reports it corrupt)."""
    TOO_NEW = "too_new"
    """Written by a newer Studio: its schema version is above the one this code knows."""


class StoreUnavailable(StoreError):
    """The database cannot be used as it is, and Studio has not changed it.

    ``str(error)`` is the sentence to show; ``problem`` says which case it is and ``path`` which
    file. Build one with the class methods, which word the sentence.
    """

    def __init__(self, problem: StoreProblem, path: Path, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.path = path

    @classmethod
    def not_a_database(cls, path: Path) -> StoreUnavailable:
        """``path`` holds something other than a SQLite database."""
        what = "is a folder, not" if path.is_dir() else "is not a SQLite file, so not"
        return cls(
            StoreProblem.NOT_A_DATABASE,
            path,
            f"{path} {what} a Studio database, and Studio left it untouched: "
            f"{_move_aside(path, 'broken')} and Studio starts a new, empty one.",
        )

    @classmethod
    def damaged(cls, path: Path, detail: str) -> StoreUnavailable:
        """SQLite found a damaged page in the database at ``path``; ``detail`` says what."""
        return cls(
            StoreProblem.DAMAGED,
            path,
            f"The Studio database {path} is damaged ({detail.rstrip('.')}), and Studio left it "
            f"untouched: {_move_aside(path, 'broken')} and Studio starts a new, empty one (the "
            "moved file keeps whatever is still readable).",
        )

    @classmethod
    def too_new(cls, path: Path, found: int, known: int) -> StoreUnavailable:
        """The database has schema version ``found``; this code knows up to ``known``."""
        return cls(
            StoreProblem.TOO_NEW,
            path,
            f"The Studio database {path} has schema version {found}, but this AnyFast Studio "
            f"knows only up to {known}: it was written by a newer Studio and was left "
            f"untouched; upgrade AnyFast Studio to open it, or {_move_aside(path, 'newer')} "
            "to start a new, empty one here.",
        )

    @classmethod
    def cannot_create(cls, path: Path, error: OSError) -> StoreUnavailable:
        """Creating the database file (or its folder) failed with ``error``."""
        reason = error.strerror or str(error)
        blocker = _file_in_the_way(path.parent)
        if blocker is not None or error.errno == errno.ENOTDIR:
            target = blocker or path.parent
            fix = (
                f"{target} is a file where Studio needs a folder; move it aside "
                f"(mv {_q(target)} {_q(target)}.aside) or set STUDIO_HOME to another folder"
            )
        else:
            folder = _nearest_existing(path.parent)
            fix = (
                f"fix the permissions of {folder} (chmod u+rwx {_q(folder)}) "
                "or set STUDIO_HOME to a folder you can write to"
            )
        return cls(
            StoreProblem.UNWRITABLE,
            path,
            f"Studio's database {path} cannot be created ({reason}), and nothing was changed: "
            f"{fix}.",
        )

    @classmethod
    def unwritable(cls, path: Path, detail: str) -> StoreUnavailable:
        """The database at ``path`` exists but cannot be opened for writing."""
        folder = path.parent
        return cls(
            StoreProblem.UNWRITABLE,
            path,
            f"Studio cannot write to its database {path} ({detail.rstrip('.')}) and changed "
            f"nothing: fix the permissions of the file and its folder "
            f"(chmod u+rw {_q(path)}; chmod u+rwx {_q(folder)}).",
        )


def unavailable_from(error: sqlite3.Error, path: Path | None) -> StoreUnavailable | None:
    """The :class:`StoreUnavailable` that a ``sqlite3`` error means, or ``None`` when it means
    something else (a busy lock, a full disk, a bug) or the database is in memory."""
    if path is None:
        return None
    name = str(getattr(error, "sqlite_errorname", "") or "")
    if name.startswith("SQLITE_NOTADB"):
        # A damaged first page also reads as "not a database": the header tells them apart.
        if has_sqlite_header(path):
            return StoreUnavailable.damaged(path, f"SQLite reports: {error}")
        return StoreUnavailable.not_a_database(path)
    if name.startswith("SQLITE_CORRUPT"):
        return StoreUnavailable.damaged(path, f"SQLite reports: {error}")
    if name.startswith("SQLITE_CANTOPEN") and path.is_dir():
        return StoreUnavailable.not_a_database(path)
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return StoreUnavailable.unwritable(path, str(error))
    return None


def has_sqlite_header(path: Path) -> bool:
    """Whether the file at ``path`` starts like a SQLite database."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _move_aside(path: Path, suffix: str) -> str:
    return f"move it aside (mv {_q(path)} {_q(Path(f'{path}.{suffix}'))})"


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` (itself included) when it is not a folder."""
    probe = _nearest_existing(folder)
    return None if probe.is_dir() else probe


def _nearest_existing(folder: Path) -> Path:
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return probe
