"""``Store``: the durable SQLite store that the TUI, the headless commands and the job engine
share.

One file (``paths.database_file()`` unless told otherwise) in WAL mode, so several processes can
read while one writes; every write is a short ``BEGIN IMMEDIATE`` transaction and waits up to
five seconds for another writer's lock.
"""

from __future__ import annotations

import os
import sqlite3
import time
from types import TracebackType

from studio.store import schema
from studio.store.base import Clock
from studio.store.conversations import ConversationsMixin
from studio.store.drafts import DraftsMixin
from studio.store.jobs import JobsMixin
from studio.store.messages import MessagesMixin
from studio.store.schema import translate_errors
from studio.store.state import StateMixin


class Store(ConversationsMixin, MessagesMixin, StateMixin, JobsMixin, DraftsMixin):
    """Conversations, messages, attachments, unsent drafts, small UI state and generation
    jobs, kept in SQLite.

    Create one with :meth:`open`; close it with :meth:`close` or use it as a context manager.
    Safe to share between threads, and between processes through the same file. Every method
    raises ``StoreError`` (or its subclass ``NotFoundError``) for database trouble and
    ``TypeError``/``ValueError`` for bad arguments.
    """

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, clock: Clock = time.time) -> Store:
        """Open the store at ``path`` (default: ``paths.database_file()``; ``":memory:"`` for a
        throw-away one), creating the file owner-only and bringing its schema up to date.

        ``clock`` gives the timestamps (epoch seconds); tests pass a fake one. Raises
        :class:`StoreUnavailable` (a ``StoreError``) for a damaged or non-SQLite file, one
        written by a newer Studio, or a file or folder that cannot be written; its message is
        the sentence to show.
        """
        resolved = schema.resolve_path(path)
        connection = schema.connect(resolved)
        return cls(connection, resolved, clock)

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._read() as conn:
            return schema.user_version(conn)

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` for this connection: a number that changes when
        another connection (another window, a headless command) has committed to the file
        since this connection last asked, and never for this connection's own writes. One
        tiny query; :class:`~studio.store.watch.JobWatcher` polls it."""
        with self._lock, self._noting_problems(), translate_errors(self._path):
            row = self._connection().execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the database (again is fine). Later calls raise ``StoreError``."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            if self._problem is None:  # never write to a file found damaged
                try:
                    # Refresh the planner's statistics where queries would gain (bounded
                    # work). A best effort: when another connection holds the write lock, or a
                    # page turns out to be damaged, skip it rather than make closing wait or
                    # fail.
                    conn.execute("PRAGMA busy_timeout = 0")
                    conn.execute("PRAGMA analysis_limit = 400")
                    conn.execute("PRAGMA optimize")
                except sqlite3.Error:
                    pass
            with translate_errors(self._path):
                conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<Store {self._label} ({state})>"
