"""The connection, lock and transaction helpers that every part of ``Store`` builds on.

``Store`` is assembled from a few mixins (conversations, messages, state, jobs, drafts), each in
its own module; they all inherit this base so they share one connection, one lock and one way of
running a transaction. The SQL behind them lives in plain functions over a connection
(``message_rows``, ``message_queries``, ``job_rows``, ``job_claims``), called inside those
transactions.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from studio.store.errors import StoreUnavailable
from studio.store.models import NotFoundError, StoreError
from studio.store.schema import describe, translate_errors

Clock = Callable[[], float]


class StoreBase:
    """Owns the SQLite connection; hands it out inside locked, error-translating transactions.

    The connection is shared by every thread (``check_same_thread=False``), so each operation
    holds a re-entrant lock for its whole duration. Transactions stay short: one operation, one
    transaction, and writes take the write lock up front (``BEGIN IMMEDIATE``) so a reader never
    has to upgrade mid-way, which WAL cannot always grant.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path | None, clock: Clock) -> None:
        self._conn: sqlite3.Connection | None = connection
        self._path = path
        self._label = describe(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._problem: StoreUnavailable | None = None

    @property
    def problem(self) -> StoreUnavailable | None:
        """The first damage (or other reason the file cannot be used) an operation ran into,
        or ``None``. Operations that do not touch the damaged part keep working."""
        return self._problem

    @property
    def path(self) -> Path | None:
        """The database file, or ``None`` for an in-memory store."""
        return self._path

    @property
    def closed(self) -> bool:
        """Whether ``close`` has been called."""
        return self._conn is None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self._label} is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), rolled back on any error."""
        with self._transaction("IMMEDIATE") as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same snapshot."""
        with self._transaction("DEFERRED") as conn:
            yield conn

    @contextmanager
    def _transaction(self, mode: str) -> Iterator[sqlite3.Connection]:
        with self._lock, self._noting_problems(), translate_errors(self._path):
            conn = self._connection()
            if conn.in_transaction:  # re-entered from inside another operation
                yield conn
                return
            conn.execute(f"BEGIN {mode}")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def _noting_problems(self) -> Iterator[None]:
        try:
            yield
        except StoreUnavailable as exc:
            if self._problem is None:
                self._problem = exc
            raise

    def _now(self) -> float:
        return float(self._clock())

    def _require_conversation(self, conn: sqlite3.Connection, cid: int) -> None:
        row = conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone()
        if row is None:
            raise NotFoundError(f"no conversation with id {cid}")

    def _touch_conversation(self, conn: sqlite3.Connection, cid: int, now: float) -> None:
        conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, cid))


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if a failed ``COMMIT`` has not ended it already."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def last_rowid(cursor: sqlite3.Cursor) -> int:
    """The id of the row the cursor's ``INSERT`` just added."""
    rowid = cursor.lastrowid
    if rowid is None:  # only after statements that insert nothing
        raise StoreError("the INSERT did not report a row id")
    return rowid
