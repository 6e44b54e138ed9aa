"""Noticing what other connections changed: another window, a headless command, another engine.

A connection sees its own writes as it makes them; what other connections commit it only finds
by reading again. Reading every job four times a second would cost more the more jobs there
are, so :class:`JobWatcher` asks SQLite first: ``PRAGMA data_version`` changes exactly when
*another* connection has committed to the file since the last time this connection asked (one
tiny query, no table read). Only then does it compare each job's ``updated_at`` with what it
saw before and load the jobs that differ, and notice the ones that are gone.

The watcher knows nothing of Textual: the app polls it on its redraw tick, and a headless
command may poll it in its own loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.store.job_records import Job
from studio.store.job_rows import row_to_job

if TYPE_CHECKING:
    from studio.store.store import Store

WINDOW = 500
"""How many of the newest jobs are watched (the app shows as many)."""

_IN_CHUNK = 500
"""Ids per ``IN (...)`` list: well under SQLite's limit on bound parameters."""


@dataclass(frozen=True)
class JobChanges:
    """What changed since the previous :meth:`JobWatcher.poll`."""

    changed: list[Job] = field(default_factory=list)
    """New jobs and jobs whose row changed, newest first."""
    removed: set[int] = field(default_factory=set)
    """Ids of jobs that were deleted."""

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


class JobWatcher:
    """Reports the jobs that changed in the store since it last looked, cheaply.

    ``window`` limits the watch to the newest jobs (by id); older jobs are neither loaded nor
    reported removed. The first :meth:`poll` reports every job in the window as changed.
    """

    def __init__(self, store: Store, *, window: int = WINDOW) -> None:
        self.store = store
        self.window = window
        self._version: int | None = None
        self._stamps: dict[int, tuple[float, str]] = {}
        """What each job looked like when last seen: (``updated_at``, state)."""

    def poll(self) -> JobChanges | None:
        """The jobs changed (or removed) since the last poll, or ``None`` when no other
        connection has committed anything since (one ``PRAGMA`` and nothing else)."""
        version = self.store.data_version()
        if version == self._version:
            return None
        # Noted before reading: a commit that lands during the read moves it again, and the
        # next poll reads again (finding nothing, or the rest).
        self._version = version
        return self._read_changes()

    def seen(self, jobs: Iterable[Job]) -> None:
        """This connection wrote these jobs itself (its caller knows them already): they are
        not reported again until someone changes them."""
        for job in jobs:
            self._stamps[job.id] = (job.updated_at, job.state.value)

    def forget(self, job_id: int) -> None:
        """This connection removed the job itself: do not report its removal."""
        self._stamps.pop(job_id, None)

    def _read_changes(self) -> JobChanges:
        store = self.store
        # The store's own read transaction: one snapshot for the stamps and the rows.
        with store._read() as conn:  # the store package's own collaborator
            rows = conn.execute(
                "SELECT id, updated_at, state FROM jobs ORDER BY id DESC LIMIT ?",
                (max(0, self.window),),
            ).fetchall()
            present = {int(r[0]): (float(r[1]), str(r[2])) for r in rows}
            wanted = [i for i, stamp in present.items() if self._stamps.get(i) != stamp]
            loaded: dict[int, Job] = {}
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start : start + _IN_CHUNK]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT * FROM jobs WHERE id IN ({marks})"  # noqa: S608
                for row in conn.execute(sql, chunk):
                    job = row_to_job(row)
                    loaded[job.id] = job
        floor = min(present) if len(present) >= self.window and present else 0
        removed = {i for i in self._stamps if i >= floor and i not in present}
        for job_id in removed:
            del self._stamps[job_id]
        for job in loaded.values():
            self._stamps[job.id] = (job.updated_at, job.state.value)
        changed = sorted(loaded.values(), key=lambda j: j.id, reverse=True)
        return JobChanges(changed, removed)


@dataclass(frozen=True)
class ConversationChanges:
    """What changed in the conversations since the previous :meth:`ConversationWatcher.poll`."""

    changed: set[int] = field(default_factory=set)
    """Conversations that got messages, lost some, or were renamed, archived or restored."""
    new: set[int] = field(default_factory=set)
    """Conversations that were not there before."""
    removed: set[int] = field(default_factory=set)
    """Conversations that were deleted."""

    def __bool__(self) -> bool:
        return bool(self.changed or self.new or self.removed)


_Stamp = tuple[float, int, str, int]
"""What a conversation looked like: (``updated_at``, message count, title, archived)."""

_SUMMARY = (
    "SELECT count(*), max(id), max(updated_at), total(message_count), total(archived)"
    " FROM conversations"
)
"""Changes whenever a stamp does: every change of a conversation but archiving moves its
``updated_at`` to now (the newest), a message added or removed moves the total count."""


class ConversationWatcher:
    """Reports the conversations another connection (a ``studio ask``, another window) changed
    since it last looked: ``PRAGMA data_version`` first, then one read of each conversation's
    stamp (no message is read). The first :meth:`poll` reports every conversation as new.

    This connection's own writes move nothing by themselves; they are reported (as changed)
    with the next foreign commit, which is harmless to a caller that refreshes what it shows.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._version: int | None = None
        self._summary: tuple[object, ...] | None = None
        self._stamps: dict[int, _Stamp] = {}

    def poll(self) -> ConversationChanges | None:
        """What changed since the last poll, or ``None`` when no other connection has
        committed anything since (one ``PRAGMA`` and nothing else)."""
        version = self.store.data_version()
        if version == self._version:
            return None
        self._version = version  # noted before reading: a commit meanwhile is read next time
        with self.store._read() as conn:  # the store package's own collaborator
            # Most foreign commits (a job's progress) leave every conversation as it was: one
            # aggregate row says so without building a stamp per conversation.
            summary = tuple(conn.execute(_SUMMARY).fetchone())
            if summary == self._summary:
                return ConversationChanges()
            self._summary = summary
            rows = conn.execute(
                "SELECT id, updated_at, message_count, title, archived FROM conversations"
            ).fetchall()
        present: dict[int, _Stamp] = {
            int(r[0]): (float(r[1]), int(r[2]), str(r[3]), int(r[4])) for r in rows
        }
        before = self._stamps
        self._stamps = present
        return ConversationChanges(
            changed={i for i, stamp in present.items() if i in before and before[i] != stamp},
            new={i for i in present if i not in before},
            removed={i for i in before if i not in present},
        )
