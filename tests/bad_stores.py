"""Databases Studio cannot use, made for real: random bytes, a damaged page, a newer schema.

Shared by the store, CLI and TUI tests of ``StoreUnavailable``.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from studio.store import Role, Store, schema

MARKED = 20
"""The message whose page ``write_damaged`` overwrites (the conversation has 40)."""


def write_not_a_database(path: Path) -> bytes:
    """Random bytes where the database should be (never starting like SQLite)."""
    data = b"\x00not sqlite\x00" + os.urandom(8192)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def write_too_new(path: Path, *, wal: bool = False) -> bytes:
    """A real Studio database whose schema version is one above what this code knows.

    Without ``wal`` the file is in rollback-journal mode, as a newer Studio might leave it:
    opening it must not switch it to WAL (which would rewrite its header).
    """
    with Store.open(path) as store:
        store.create_conversation(title="from the future")
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {schema.latest_version() + 1}")
        if not wal:
            raw.execute("PRAGMA journal_mode = DELETE")
    raw.close()
    return path.read_bytes()


@dataclass(frozen=True)
class Damaged:
    data: bytes
    """The file's bytes after the damage."""
    damaged_id: int
    """A conversation one of whose message pages is overwritten (the most recent one)."""
    intact_id: int
    """A conversation whose pages are all fine."""
    page: int
    page_size: int

    def page_bytes(self, path: Path) -> bytes:
        start = self.page * self.page_size
        return path.read_bytes()[start : start + self.page_size]


def write_damaged(path: Path) -> Damaged:
    """A real database in which one page in the middle of the file (holding one message of the
    most recent conversation) has its b-tree header overwritten, as a torn write or a bad
    sector would leave it. Opening the file works; reading that conversation does not."""
    with Store.open(path) as store:
        intact = store.create_conversation(title="intact")
        store.add_message(intact.id, Role.USER, "still readable")
        store.add_message(intact.id, Role.ASSISTANT, "and so is this")
        damaged = store.create_conversation(title="damaged")
        for number in range(40):
            store.add_message(damaged.id, Role.USER, f"MARK{number:03d}" + "x" * 3000)
    assert not path.with_name(path.name + "-wal").exists()  # checkpointed on close
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    page = data.index(f"MARK{MARKED:03d}".encode()) // page_size
    assert 2 < page < len(data) // page_size - 2, "not a page in the middle"
    start = page * page_size
    data[start : start + 12] = b"\xff" * 12  # an impossible b-tree page header
    path.write_bytes(bytes(data))
    return Damaged(bytes(data), damaged.id, intact.id, page, page_size)


def side_files(path: Path) -> list[str]:
    """The ``-wal``/``-shm``/``-journal`` files left beside ``path``."""
    return sorted(p.name for p in path.parent.glob(path.name + "-*") if p.name != path.name)
