"""The jobs one engine holds: cached copies, claim-guarded writes and batched bookkeeping.

State changes are written at once (each its own short transaction, guarded by the claim), so
the store is always right about where a job stands. Bookkeeping that changes on every check
(progress, poll counts, the next check time) is buffered and written for all jobs together
every ``flush_interval``: with hundreds of jobs that is one transaction a second instead of
dozens. Either way ``on_change`` is called once the change is committed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from studio.store.job_records import Job
from studio.store.models import NotFoundError

if TYPE_CHECKING:  # the store is below the jobs: a type only, kept light
    from studio.store.store import Store

log = logging.getLogger("studio.jobs")

ChangeCallback = Callable[[Job], None]


class JobBook:
    """The cache of claimed jobs plus their pending writes.

    ``on_lost(job_id)`` is called when a write shows the job is no longer this engine's
    (another engine took it over, or it was cancelled or removed elsewhere).
    """

    def __init__(
        self,
        store: Store,
        owner: str,
        on_change: ChangeCallback | None,
        on_lost: Callable[[int], None],
    ) -> None:
        self.store = store
        self.owner = owner
        self._on_change = on_change
        self._on_lost = on_lost
        self._jobs: dict[int, Job] = {}
        self._buffer: dict[int, dict[str, Any]] = {}
        self._notify: set[int] = set()

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._jobs

    def __len__(self) -> int:
        return len(self._jobs)

    def ids(self) -> list[int]:
        """The ids of every job held."""
        return list(self._jobs)

    def get(self, job_id: int) -> Job | None:
        """The cached job, if held."""
        return self._jobs.get(job_id)

    def adopt(self, job: Job) -> None:
        """Start holding ``job`` (already claimed in the store)."""
        self._jobs[job.id] = job

    def drop(self, job_id: int) -> Job | None:
        """Stop holding a job; its buffered bookkeeping is discarded."""
        self._buffer.pop(job_id, None)
        self._notify.discard(job_id)
        return self._jobs.pop(job_id, None)

    def notify(self, job: Job) -> None:
        """Tell the listener about a committed change (its errors are logged, never raised)."""
        if self._on_change is None:
            return
        try:
            self._on_change(job)
        except Exception:
            log.exception("the job change listener failed for job %d", job.id)

    def write(self, job_id: int, *, release: bool = False, **fields: Any) -> Job | None:
        """Commit ``fields`` (with any buffered bookkeeping) now, if the job is still ours.

        ``release`` also gives up the claim and stops holding the job (for final states).
        Returns the stored job, or ``None`` when it is no longer ours (``on_lost`` is called).
        """
        merged = {**self._buffer.pop(job_id, {}), **fields}
        self._notify.discard(job_id)
        if release:
            merged.update(claimed_by=None, lease_until=None)
        try:
            job = self.store.update_job(job_id, owner=self.owner, **merged)
        except NotFoundError:
            job = None
        if job is None:
            self._lose(job_id)
            return None
        if release:
            self._jobs.pop(job_id, None)
        else:
            self._jobs[job_id] = job
        self.notify(job)
        return job

    def note(self, job_id: int, *, notify: bool = False, **fields: Any) -> Job | None:
        """Buffer bookkeeping ``fields`` for the next :meth:`flush` (the cached copy changes at
        once); ``notify`` calls ``on_change`` after that flush."""
        job = self._jobs.get(job_id)
        if job is None:
            return None
        job = dataclasses.replace(job, **fields)
        self._jobs[job_id] = job
        self._buffer.setdefault(job_id, {}).update(fields)
        if notify:
            self._notify.add(job_id)
        return job

    def flush(self) -> None:
        """Write every buffered change in one transaction, then notify."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, {}
        notify, self._notify = self._notify, set()
        try:
            skipped = self.store.update_jobs(batch, owner=self.owner)
        except BaseException:
            for job_id, fields in batch.items():  # keep them for the next flush
                self._buffer[job_id] = {**fields, **self._buffer.get(job_id, {})}
            self._notify |= notify
            raise
        for job_id in skipped:
            self._lose(job_id)
        for job_id in notify - skipped:
            job = self._jobs.get(job_id)
            if job is not None:
                self.notify(job)

    def _lose(self, job_id: int) -> None:
        if self.drop(job_id) is not None:
            log.info("job %d is no longer held by %s", job_id, self.owner)
        self._on_lost(job_id)
