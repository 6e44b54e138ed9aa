"""Generation jobs: the persistent queue behind :mod:`studio.jobs` (schema versions 2 and 4).

A job is written before its request is sent and updated as the gateway answers, is polled and
its results are downloaded. Engines in several processes share the table: each claims the jobs
it works on (``claimed_by`` + ``lease_until``) so no job is polled or downloaded twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from studio.store.base import StoreBase, last_rowid
from studio.store.job_records import (
    ACTIVE_STATES,
    Claim,
    Job,
    JobFile,
    JobKind,
    JobProvider,
    JobState,
    estimate_eta,
)
from studio.store.messages import HOST, writer_alive
from studio.store.models import NotFoundError

_JSON_COLUMNS = frozenset(
    {"params", "progress_points", "result", "files", "last_response", "history"}
)
CHANGEABLE = frozenset(
    {
        "state",
        "task_id",
        "progress",
        "progress_points",
        "result",
        "files",
        "failure_reason",
        "message",
        "last_response",
        "submitted_at",
        "started_at",
        "finished_at",
        "deadline_at",
        "next_poll_at",
        "poll_count",
        "urls_expire_at",
        "claimed_by",
        "lease_until",
        "last_error",
        "bytes_done",
        "bytes_total",
        "bytes_rate",
    }
)
"""The columns ``update_job`` may change (history and ``updated_at`` follow by themselves)."""

_CLAIMABLE = (
    "SELECT id, claimed_by FROM jobs"
    " WHERE state IN ('pending', 'queued', 'running', 'downloading')"
    " AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until < ?"
    " OR studio_owner_dead(claimed_by)) ORDER BY next_poll_at LIMIT ?"
)
"""Unfinished jobs an engine may take: a range scan of the ``jobs_unfinished`` index."""
_INSERT_JOB = (
    "INSERT INTO jobs (kind, provider, action, model, prompt, params, conversation_id, retry_of,"
    " state, idempotency_key, history, created_at, updated_at, deadline_at, next_poll_at,"
    " claimed_by, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _dumps(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple) and value and isinstance(value[0], JobFile):
        value = [f.to_json() for f in value]
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, JobFile):
        return value.to_json()
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def _loads(text: str | None, default: Any) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def row_to_job(row: sqlite3.Row) -> Job:
    """Build a :class:`Job` from a ``SELECT * FROM jobs`` row."""
    last = _loads(row["last_response"], None)
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        provider=JobProvider(row["provider"]),
        action=row["action"],
        model=row["model"],
        prompt=row["prompt"],
        params=_loads(row["params"], {}),
        conversation_id=row["conversation_id"],
        retry_of=row["retry_of"],
        state=JobState(row["state"]),
        task_id=row["task_id"],
        idempotency_key=row["idempotency_key"],
        progress=row["progress"],
        progress_points=tuple((float(t), int(p)) for t, p in _loads(row["progress_points"], [])),
        result=_loads(row["result"], {}),
        files=tuple(JobFile.from_json(f) for f in _loads(row["files"], [])),
        failure_reason=row["failure_reason"],
        message=row["message"],
        last_response=last if isinstance(last, dict) else None,
        history=tuple((str(s), float(t)) for s, t in _loads(row["history"], [])),
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
        deadline_at=row["deadline_at"],
        next_poll_at=row["next_poll_at"],
        poll_count=row["poll_count"],
        urls_expire_at=row["urls_expire_at"],
        claimed_by=row["claimed_by"],
        lease_until=row["lease_until"],
        last_error=row["last_error"],
        bytes_done=row["bytes_done"],
        bytes_total=row["bytes_total"],
        bytes_rate=row["bytes_rate"],
    )


def owner_alive(owner: str | None) -> bool:
    """Whether the engine named ``host:pid#n`` may still run (another host: assume so)."""
    if not owner:
        return False
    host_pid, _, _ = owner.partition("#")
    return writer_alive(host_pid)


def engine_owner(instance: int) -> str:
    """The claim name of engine ``instance`` of this process: ``host:pid#instance``."""
    return f"{HOST}:{os.getpid()}#{instance}"


def _set_clause(fields: Mapping[str, Any]) -> tuple[str, list[Any]]:
    unknown = set(fields) - CHANGEABLE
    if unknown:
        raise ValueError(f"jobs cannot change {sorted(unknown)}")
    names = sorted(fields)
    values = [_dumps(fields[n]) if n in _JSON_COLUMNS else _plain(n, fields[n]) for n in names]
    return ", ".join(f"{n} = ?" for n in names), values


def _plain(name: str, value: Any) -> Any:
    if name == "state":
        return JobState(value).value
    return value


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
        encoded = _dumps(dict(params))
        with self._write() as conn:
            if conversation_id is not None:
                self._require_conversation(conn, conversation_id)
            now = self._now()
            history = _dumps([[JobState.PENDING.value, now]])
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
            return self._load_job(conn, last_rowid(conn.execute(_INSERT_JOB, values)))

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
        clause, values = _set_clause(fields)
        with self._write() as conn:
            row = conn.execute(
                "SELECT state, claimed_by, history FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no job with id {job_id}")
            if owner is not None and row["claimed_by"] != owner:
                return None
            now = self._now()
            extra, extra_values = _history_clause(row, fields, now)
            sql = f"UPDATE jobs SET {clause}{extra}, updated_at = ? WHERE id = ?"  # noqa: S608
            conn.execute(sql, [*values, *extra_values, now, job_id])
            return self._load_job(conn, job_id)

    def record_task_id(self, job_id: int, task_id: str, **fields: Any) -> Job | None:
        """Record the task id a create request was answered with (and ``fields``) on a job that
        still has none, whoever holds it; ``None`` when it has one by now (a task the user
        attached by hand is never replaced) or is gone. A ``state`` change joins the history."""
        clause, values = _set_clause({**fields, "task_id": task_id})
        with self._write() as conn:
            row = conn.execute(
                "SELECT state, history FROM jobs WHERE id = ? AND task_id IS NULL", (job_id,)
            ).fetchone()
            if row is None:
                return None
            now = self._now()
            extra, extra_values = _history_clause(row, fields, now)
            sql = (
                f"UPDATE jobs SET {clause}{extra}, updated_at = ?"  # noqa: S608
                " WHERE id = ? AND task_id IS NULL"
            )
            conn.execute(sql, [*values, *extra_values, now, job_id])
            return self._load_job(conn, job_id)

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
                clause, values = _set_clause(fields)
                sql = f"UPDATE jobs SET {clause}, updated_at = ? WHERE id = ? AND claimed_by = ?"  # noqa: S608
                if conn.execute(sql, [*values, now, job_id, owner]).rowcount == 0:
                    skipped.add(job_id)
        return skipped

    def claim_jobs(self, owner: str, now: float, lease: float, limit: int = 100) -> list[Claim]:
        """Atomically claim up to ``limit`` unfinished jobs for ``owner`` until ``now + lease``:
        those nobody holds, those whose lease expired (``owner``'s own included) and those
        whose owner is a dead process on this host. Jobs under a live lease, ``owner``'s own
        included, are left alone. The soonest due come first."""
        verdicts: dict[str, bool] = {}

        def dead(holder: str | None) -> bool:
            if holder is None:
                return False
            if holder not in verdicts:
                verdicts[holder] = not owner_alive(holder)
            return verdicts[holder]

        with self._write() as conn:
            conn.create_function("studio_owner_dead", 1, dead)
            rows = conn.execute(_CLAIMABLE, (now, max(0, limit))).fetchall()
            taken = [(int(job_id), holder) for job_id, holder in rows]
            conn.executemany(
                "UPDATE jobs SET claimed_by = ?, lease_until = ? WHERE id = ?",
                [(owner, now + lease, job_id) for job_id, _ in taken],
            )
            return [Claim(self._load_job(conn, job_id), holder) for job_id, holder in taken]

    def claim_job(self, job_id: int, owner: str, now: float, lease: float) -> Job | None:
        """Claim one job, whatever its state, unless a live engine other than ``owner`` holds
        it; ``None`` when it is held. Raises ``NotFoundError`` for an unknown id."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT claimed_by, lease_until FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no job with id {job_id}")
            holder, until = row
            held = holder is not None and holder != owner and until is not None and until >= now
            if held and owner_alive(holder):
                return None
            conn.execute(
                "UPDATE jobs SET claimed_by = ?, lease_until = ? WHERE id = ?",
                (owner, now + lease, job_id),
            )
            return self._load_job(conn, job_id)

    def renew_leases(self, owner: str, job_ids: Iterable[int], until: float) -> set[int]:
        """Extend ``owner``'s claim on these jobs to ``until``; return the ids it no longer
        holds (another engine took them, or they were cancelled or removed)."""
        ids = list(job_ids)
        lost: set[int] = set()
        with self._write() as conn:
            for job_id in ids:
                cursor = conn.execute(
                    "UPDATE jobs SET lease_until = ? WHERE id = ? AND claimed_by = ?",
                    (until, job_id, owner),
                )
                if cursor.rowcount == 0:
                    lost.add(job_id)
        return lost

    def release_jobs(self, owner: str, job_ids: Iterable[int] | None = None) -> int:
        """Give up ``owner``'s claims (all of them, or those in ``job_ids``); return how many."""
        with self._write() as conn:
            if job_ids is None:
                cursor = conn.execute(
                    "UPDATE jobs SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?",
                    (owner,),
                )
                return cursor.rowcount
            count = 0
            for job_id in job_ids:
                count += conn.execute(
                    "UPDATE jobs SET claimed_by = NULL, lease_until = NULL"
                    " WHERE id = ? AND claimed_by = ?",
                    (job_id, owner),
                ).rowcount
            return count

    def delete_job(self, job_id: int) -> None:
        """Delete a job (nothing if it is gone)."""
        with self._write() as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def _load_job(self, conn: sqlite3.Connection, job_id: int) -> Job:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no job with id {job_id}")
        return row_to_job(row)


__all__ = [
    "ACTIVE_STATES",
    "CHANGEABLE",
    "Claim",
    "Job",
    "JobFile",
    "JobKind",
    "JobProvider",
    "JobState",
    "JobsMixin",
    "engine_owner",
    "estimate_eta",
    "owner_alive",
    "row_to_job",
]


def _history_clause(row: Any, fields: Mapping[str, Any], now: float) -> tuple[str, list[Any]]:
    """The SET clause that adds a state change in ``fields`` to the row's history (none when
    the state does not change)."""
    if "state" not in fields or JobState(fields["state"]).value == row["state"]:
        return "", []
    history = _loads(row["history"], [])
    history.append([JobState(fields["state"]).value, now])
    return ", history = ?", [_dumps(history)]
