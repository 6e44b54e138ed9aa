"""What the engine's parts share: the store, the client, the settings and the clock, the jobs
held (:class:`~studio.jobs.book.JobBook`), the check queue (:class:`~studio.jobs.scheduler.
Scheduler`) and the media folder (:class:`~studio.jobs.results.ResultSaver`); and the two moves
every part makes: end a job, and claim one."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.api.client import AnyFastClient
from studio.api.errors import AnyFastError, APIConnectionError, APITimeoutError, RateLimitError
from studio.jobs.book import JobBook
from studio.jobs.config import EngineConfig
from studio.jobs.errors import JobActionError
from studio.jobs.results import ResultSaver
from studio.jobs.scheduler import Scheduler
from studio.store.job_records import Job, JobState
from studio.store.models import NotFoundError

if TYPE_CHECKING:
    from studio.store.store import Store

UNCERTAIN_MESSAGE = (
    "It is not known whether the gateway received this request. Check your AnyFast task list "
    "before retrying: a retry sends a new, separately billed request."
)
INTERRUPTED = "Studio stopped while the request was being sent"


def short_error(err: AnyFastError) -> str:
    """A few words on why an attempt failed, for the job list ("HTTP 500", "gateway
    unreachable"); the full text goes in the job's message."""
    if isinstance(err, APITimeoutError):
        return "no answer in time"
    if isinstance(err, APIConnectionError):
        return "gateway unreachable"
    if isinstance(err, RateLimitError) or err.status == 429:
        return "HTTP 429 rate limited"
    if err.status is not None:
        return f"HTTP {err.status}"
    return err.message


def held_elsewhere(job_id: int) -> JobActionError:
    """The refusal of an action on a job another process holds."""
    return JobActionError(f"Job #{job_id} is being handled by another Studio process.")


@dataclass
class EngineContext:
    """The collaborators every part of one engine works with. ``requests`` bounds the API
    requests in flight; ``forget(job_id)`` stops every part's work on a job and drops it from
    the book (the engine wires it to each part)."""

    store: Store
    client: AnyFastClient
    config: EngineConfig
    clock: Callable[[], float]
    rng: random.Random
    owner: str
    book: JobBook
    scheduler: Scheduler
    saver: ResultSaver
    requests: asyncio.Semaphore
    forget: Callable[[int], None]

    def job(self, job_id: int) -> Job:
        """The stored job; :class:`NotFoundError` when there is none."""
        job = self.store.get_job(job_id)
        if job is None:
            raise NotFoundError(f"no job with id {job_id}")
        return job

    def claim(self, job_id: int) -> Job:
        """Claim one job for this engine; :class:`JobActionError` when another holds it."""
        claimed = self.store.claim_job(job_id, self.owner, self.clock(), self.config.lease)
        if claimed is None:
            raise held_elsewhere(job_id)
        return claimed

    def end(self, job_id: int, state: JobState, *, finished: bool, **fields: Any) -> Job | None:
        """Move a job to a state no engine works on, and give up its claim."""
        if finished:
            fields.setdefault("finished_at", self.clock())
        job = self.book.write(job_id, release=True, state=state, **fields)
        self.forget(job_id)
        return job

    def uncertain(self, job_id: int, reason: str) -> Job | None:
        """End a job whose create request may or may not have reached the gateway."""
        return self.end(
            job_id,
            JobState.SUBMISSION_UNCERTAIN,
            finished=False,
            failure_reason=reason,
            message=UNCERTAIN_MESSAGE,
        )
