"""The job methods of ``Store``: the persistent queue behind :mod:`studio.jobs` (schema
versions 2 and 4).

A job is written before its request is sent and updated as the gateway answers, is polled and
its results are downloaded. Engines in several processes share the table: each claims the jobs
it works on (``claimed_by`` + ``lease_until``) so no job is polled or downloaded twice. The rows
behind these methods live in :mod:`studio.store.job_rows`, the claims in
:mod:`studio.store.job_claims`; these methods own the transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from studio.store import job_claims
from studio.store.base import StoreBase, last_rowid
from studio.store.job_records import Claim, Job, JobKind, JobProvider, JobState
from studio.store.job_rows import (
    INSERT_JOB,
    dumps,
    history_clause,
    load_job,
    row_to_job,
    set_clause,
)
from studio.store.models import NotFoundError


class JobsMixin(StoreBase):
    """The job half of ``Store``."""

    def create_job(
        self,
        *,
        kind: JobKind,
        provider: JobProvider,
        action: str,
        model: str,
        prompt: str,
        params: Mapping[str, Any],
        idempotency_key: str,
        conversation_id: int | None = None,
        retry_of: int | None = None,
        claimed_by: str | None = None,
        lease_until: float | None = None,
        deadline_at: float | None = None,
    ) -> Job:
        """Write a new job in state ``pending``; return it."""
        encoded = dumps(dict(params))
        with self._write() as conn:
            if conversation_id is not None:
                self._require_conversation(conn, conversation_id)
            now = self._now()
            history = dumps([[JobState.PENDING.value, now]])
            values = (
                JobKind(kind).value,
                JobProvider(provider).value,
                action,
                model,
                prompt,
                encoded,
                conversation_id,
                retry_of,
                JobState.PENDING.value,
                idempotency_key,
                history,
                now,
                now,
                deadline_at,
                now,
                claimed_by,
                lease_until,
            )
            return load_job(conn, last_rowid(conn.execute(INSERT_JOB, values)))

    def get_job(self, job_id: int) -> Job | None:
        """The job with this id, or ``None``."""
        with self._read() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row_to_job(row)

    def list_jobs(
        self, states: Iterable[JobState] | None = None, limit: int | None = 100
    ) -> list[Job]:
        """Jobs newest first, optionally only those in ``states``."""
        sql = "SELECT * FROM jobs"
        params: list[Any] = []
        if states is not None:
            wanted = [JobState(s).value for s in states]
            if not wanted:
                return []
            sql += f" WHERE state IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
        sql += " ORDER BY created_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, limit))
        with self._read() as conn:
            return [row_to_job(r) for r in conn.execute(sql, params)]

    def update_job(self, job_id: int, *, owner: str | None = None, **fields: Any) -> Job | None:
        """Change some columns of a job and return it; ``None`` when ``owner`` is given and the
        job is not (or no longer) claimed by it. A ``state`` change is appended to the job's
        history. Raises ``NotFoundError`` for an unknown id."""
        clause, values = set_clause(fields)
        with self._write() as conn:
            row = conn.execute(
                "SELECT state, claimed_by, history FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no job with id {job_id}")
            if owner is not None and row["claimed_by"] != owner:
                return None
            now = self._now()
            extra, extra_values = history_clause(row, fields, now)
            sql = f"UPDATE jobs SET {clause}{extra}, updated_at = ? WHERE id = ?"  # noqa: S608
            conn.execute(sql, [*values, *extra_values, now, job_id])
            return load_job(conn, job_id)

    def record_task_id(self, job_id: int, task_id: str, **fields: Any) -> Job | None:
        """Record the task id a create request was answered with (and ``fields``) on a job that
        still has none, whoever holds it; ``None`` when it has one by now (a task the user
        attached by hand is never replaced) or is gone. A ``state`` change joins the history."""
        clause, values = set_clause({**fields, "task_id": task_id})
        with self._write() as conn:
            row = conn.execute(
                "SELECT state, history FROM jobs WHERE id = ? AND task_id IS NULL", (job_id,)
            ).fetchone()
            if row is None:
                return None
            now = self._now()
            extra, extra_values = history_clause(row, fields, now)
            sql = (
                f"UPDATE jobs SET {clause}{extra}, updated_at = ?"  # noqa: S608
                " WHERE id = ? AND task_id IS NULL"
            )
            conn.execute(sql, [*values, *extra_values, now, job_id])
            return load_job(conn, job_id)

    def update_jobs(self, changes: Mapping[int, Mapping[str, Any]], *, owner: str) -> set[int]:
        """Apply many bookkeeping changes (no state changes) in one transaction, each only if
        the job is still claimed by ``owner``; return the ids that were not changed."""
        skipped: set[int] = set()
        if not changes:
            return skipped
        with self._write() as conn:
            now = self._now()
            for job_id, fields in changes.items():
                if "state" in fields:
                    raise ValueError("update_jobs does not change states; use update_job")
                clause, values = set_clause(fields)
                sql = f"UPDATE jobs SET {clause}, updated_at = ? WHERE id = ? AND claimed_by = ?"  # noqa: S608
                if conn.execute(sql, [*values, now, job_id, owner]).rowcount == 0:
                    skipped.add(job_id)
        return skipped

    def claim_jobs(self, owner: str, now: float, lease: float, limit: int = 100) -> list[Claim]:
        """Atomically claim up to ``limit`` unfinished jobs for ``owner`` until ``now + lease``:
        those nobody holds, those whose lease expired (``owner``'s own included) and those
        whose owner is a dead process on this host. Jobs under a live lease, ``owner``'s own
        included, are left alone. The soonest due come first."""
        with self._write() as conn:
            return job_claims.claim_due(conn, owner, now, lease, limit)

    def claim_job(self, job_id: int, owner: str, now: float, lease: float) -> Job | None:
        """Claim one job, whatever its state, unless a live engine other than ``owner`` holds
        it; ``None`` when it is held. Raises ``NotFoundError`` for an unknown id."""
        with self._write() as conn:
            return job_claims.claim_one(conn, job_id, owner, now, lease)

    def renew_leases(self, owner: str, job_ids: Iterable[int], until: float) -> set[int]:
        """Extend ``owner``'s claim on these jobs to ``until``; return the ids it no longer
        holds (another engine took them, or they were cancelled or removed)."""
        ids = list(job_ids)
        with self._write() as conn:
            return job_claims.renew(conn, owner, ids, until)

    def release_jobs(self, owner: str, job_ids: Iterable[int] | None = None) -> int:
        """Give up ``owner``'s claims (all of them, or those in ``job_ids``); return how many."""
        with self._write() as conn:
            return job_claims.release(conn, owner, job_ids)

    def delete_job(self, job_id: int) -> None:
        """Delete a job (nothing if it is gone)."""
        with self._write() as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
