"""Claims on jobs: which engine works on which job, and until when.

Engines in several processes share the ``jobs`` table; each claims the jobs it polls or
downloads (``claimed_by`` + ``lease_until``) so no job is worked on twice, renews its leases
while it works and releases them when it stops. A claim held by a dead process on this host is
taken over at once. Plain functions over an open connection: the caller owns the transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from studio.store.job_records import Claim, Job
from studio.store.job_rows import load_job
from studio.store.models import NotFoundError
from studio.store.processes import owner_alive

CLAIMABLE_SQL = (
    "SELECT id, claimed_by FROM jobs"
    " WHERE state IN ('pending', 'queued', 'running', 'downloading')"
    " AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until < ?"
    " OR studio_owner_dead(claimed_by)) ORDER BY next_poll_at LIMIT ?"
)
"""Unfinished jobs an engine may take: a range scan of the ``jobs_unfinished`` index."""


def claim_due(
    conn: sqlite3.Connection, owner: str, now: float, lease: float, limit: int
) -> list[Claim]:
    """Claim up to ``limit`` unfinished jobs for ``owner`` (see ``Store.claim_jobs``)."""
    verdicts: dict[str, bool] = {}

    def dead(holder: str | None) -> bool:
        if holder is None:
            return False
        if holder not in verdicts:
            verdicts[holder] = not owner_alive(holder)
        return verdicts[holder]

    conn.create_function("studio_owner_dead", 1, dead)
    rows = conn.execute(CLAIMABLE_SQL, (now, max(0, limit))).fetchall()
    taken = [(int(job_id), holder) for job_id, holder in rows]
    conn.executemany(
        "UPDATE jobs SET claimed_by = ?, lease_until = ? WHERE id = ?",
        [(owner, now + lease, job_id) for job_id, _ in taken],
    )
    return [Claim(load_job(conn, job_id), holder) for job_id, holder in taken]


def claim_one(
    conn: sqlite3.Connection, job_id: int, owner: str, now: float, lease: float
) -> Job | None:
    """Claim job ``job_id`` for ``owner`` unless another live engine holds it (see
    ``Store.claim_job``)."""
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
    return load_job(conn, job_id)


def renew(conn: sqlite3.Connection, owner: str, job_ids: Iterable[int], until: float) -> set[int]:
    """Extend ``owner``'s claims to ``until``; return the ids it no longer holds."""
    lost: set[int] = set()
    for job_id in job_ids:
        cursor = conn.execute(
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND claimed_by = ?",
            (until, job_id, owner),
        )
        if cursor.rowcount == 0:
            lost.add(job_id)
    return lost


def release(conn: sqlite3.Connection, owner: str, job_ids: Iterable[int] | None) -> int:
    """Give up ``owner``'s claims (all, or those in ``job_ids``); return how many."""
    if job_ids is None:
        cursor = conn.execute(
            "UPDATE jobs SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?",
            (owner,),
        )
        return cursor.rowcount
    count = 0
    for job_id in job_ids:
        count += conn.execute(
            "UPDATE jobs SET claimed_by = NULL, lease_until = NULL WHERE id = ? AND claimed_by = ?",
            (job_id, owner),
        ).rowcount
    return count
