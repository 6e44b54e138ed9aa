"""Taking up jobs: claim the unfinished jobs nobody (alive) holds, pick each up where it stood
(send, check or save), and keep the claims while the engine runs: renewed leases, written
bookkeeping, orphans adopted."""

from __future__ import annotations

import asyncio
import logging

from studio.jobs.context import INTERRUPTED, EngineContext
from studio.jobs.downloads import Downloads
from studio.store.job_records import Claim, JobState
from studio.store.models import StoreError

log = logging.getLogger("studio.jobs")


class ClaimKeeper:
    """Claims unfinished jobs for one engine and keeps the claims alive."""

    def __init__(self, ctx: EngineContext, downloads: Downloads) -> None:
        self._ctx = ctx
        self._downloads = downloads

    def resume(self) -> int:
        """Claim unfinished jobs that nobody (alive) holds and take them up; return how many."""
        ctx = self._ctx
        claims = ctx.store.claim_jobs(
            ctx.owner, ctx.clock(), ctx.config.lease, limit=ctx.config.claim_batch
        )
        for claim in claims:
            self.adopt(claim)
        return len(claims)

    def take(self, job_id: int) -> bool:
        """Claim one unfinished job if nobody (alive) holds it and take it up; return whether
        this engine holds it now."""
        ctx = self._ctx
        if job_id in ctx.book:
            return True
        job = ctx.store.get_job(job_id)
        if job is None or not job.state.is_active:
            return False
        claimed = ctx.store.claim_job(job_id, ctx.owner, ctx.clock(), ctx.config.lease)
        if claimed is None:
            return False
        if not claimed.state.is_active:  # it ended meanwhile: nothing to take up
            ctx.store.release_jobs(ctx.owner, [job_id])
            return False
        self.adopt(Claim(claimed, job.claimed_by))
        return True

    def adopt(self, claim: Claim) -> None:
        """Take up a job just claimed: send it, check it or download its results."""
        ctx = self._ctx
        job = claim.job
        if job.id in ctx.book:
            return
        ctx.book.adopt(job)
        now = ctx.clock()
        if job.state is JobState.PENDING and not job.task_id:
            if claim.previous_owner is not None:  # its engine died: was the request sent?
                ctx.uncertain(job.id, INTERRUPTED)
            else:  # released cleanly before sending: sending is safe (same idempotency key)
                ctx.scheduler.schedule(job.id, now)
        elif job.state is JobState.DOWNLOADING:
            self._downloads.start(job.id)
        else:
            if job.state is JobState.PENDING:  # answered, but the answer was not recorded
                ctx.book.write(job.id, state=JobState.QUEUED)
            cadence = ctx.config.interval(job.provider)
            ctx.scheduler.schedule(job.id, min(max(now, job.next_poll_at or now), now + cadence))

    async def keep(self) -> None:
        """Until cancelled: write buffered bookkeeping, renew leases, pick up orphaned jobs."""
        ctx = self._ctx
        next_renew = ctx.clock() + ctx.config.lease / 3
        next_claim = ctx.clock() + ctx.config.claim_interval
        while True:
            await asyncio.sleep(ctx.config.flush_interval)
            try:
                ctx.book.flush()
                now = ctx.clock()
                if now >= next_renew:
                    next_renew = now + ctx.config.lease / 3
                    until = now + ctx.config.lease
                    for job_id in ctx.store.renew_leases(ctx.owner, ctx.book.ids(), until):
                        ctx.forget(job_id)
                if now >= next_claim:
                    next_claim = now + ctx.config.claim_interval
                    self.resume()
            except StoreError:
                log.warning("job bookkeeping failed; trying again shortly", exc_info=True)
