"""Second looks at jobs the engine no longer tracks: check a task again (and collect its
result), send a request of unknown fate again under its own idempotency key, or adopt a task
the user found in the AnyFast console. :class:`~studio.jobs.engine.JobEngine` hands these to a
:class:`Rechecker`.

Each action either changes the job and returns it, or raises :class:`JobActionError` with a
message for the user that says why nothing changed and what to do instead.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from studio.api.errors import AnyFastError, TaskNotFoundError
from studio.jobs.claims import ClaimKeeper
from studio.jobs.context import EngineContext, held_elsewhere
from studio.jobs.downloads import Downloads
from studio.jobs.errors import JobActionError
from studio.jobs.polling import Poller
from studio.jobs.submitter import Submitter
from studio.store.job_records import Job, JobFile, JobKind, JobState

CANNOT_RECHECK = (
    "No task id was recorded for this job, so there is nothing to check: the request may or "
    "may not have reached the gateway. Send it again under the same idempotency key, attach "
    "the task id from your AnyFast task list, or retry it as a new, separately billed request."
)
TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
"""What a task id may look like: ``cgt-20260312231129-7db6s``, ``asyntask_…``, ``8602607538…``.
It goes into a URL path, so nothing else (no ``/``, ``?``, ``#`` or spaces) is accepted."""
_TASKLESS_END = (JobState.SUBMISSION_UNCERTAIN, JobState.CANCELLED)
"""Ended jobs a task found by hand may be attached to."""
DUPLICATE_SCAN = 200
"""How many recent jobs are looked at for a task id that is already someone else's."""


class Rechecker:
    """Recheck, send again, attach a task: the engine's answers to an uncertain or ended job."""

    def __init__(
        self,
        ctx: EngineContext,
        claims: ClaimKeeper,
        poller: Poller,
        submitter: Submitter,
        downloads: Downloads,
    ) -> None:
        self._ctx = ctx
        self._claims = claims
        self._poller = poller
        self._submitter = submitter
        self._downloads = downloads

    # -- check again -----------------------------------------------------------------------------

    async def recheck(self, job_id: int) -> Job:
        """Look at a job again: ask the gateway about its task once (tracking resumes, with a
        new deadline, if it is still running; a finished task's results are saved with fresh
        links; a failed one says why), or save results that could not be saved, or files of a
        finished job that have gone missing from disk. A job this engine tracks is checked at
        once.

        Raises :class:`JobActionError` for a job with nothing to check: no task id (a
        submission of unknown fate, a refused request, an image whose links expired) or a
        finished job whose files are all in place; and when the check itself fails (the
        gateway unreachable, or no longer knowing the task): the job is then left as it was."""
        job = self._ctx.job(job_id)
        if job.id not in self._ctx.book and job.state.is_active:
            self._claims.resume()  # unclaimed, or its engine died: take it up now
            if job.id not in self._ctx.book:
                raise held_elsewhere(job_id)
        if job.id in self._ctx.book:
            job = self._ctx.book.get(job_id) or job
            if job.state in (JobState.QUEUED, JobState.RUNNING):
                self._ctx.scheduler.schedule(job.id, self._ctx.clock())
            return job
        now = self._ctx.clock()
        files = job.files
        if job.state is JobState.SUCCEEDED:
            files = tuple(_missing_again(f) for f in job.files)
            if all(f.done for f in files):
                raise JobActionError(
                    f"Job #{job_id} succeeded and all its files are in place: nothing to check."
                )
        expired = job.urls_expire_at is not None and now > job.urls_expire_at
        unsaved = [f for f in files if not f.done and f.url]
        can_download = bool(unsaved) and not expired
        if not can_download and not job.task_id:
            raise JobActionError(self._nothing_to_check(job, bool(unsaved)))
        claimed = self._ctx.claim(job_id)
        self._ctx.book.adopt(claimed)
        if can_download:
            self._ctx.book.write(
                job_id,
                state=JobState.DOWNLOADING,
                files=files,
                failure_reason=None,
                message=None,
                finished_at=None,
                last_error=None,  # the last download's figures are not this one's
                bytes_done=0,
                bytes_total=None,
                bytes_rate=None,
            )
            self._downloads.start(job_id)
            return self._ctx.job(job_id)
        return await self._recheck_task(claimed, files, now)

    def _nothing_to_check(self, job: Job, links_expired: bool) -> str:
        if job.state is JobState.SUBMISSION_UNCERTAIN:
            return CANNOT_RECHECK
        if links_expired and job.kind is JobKind.IMAGE:
            return (
                f"The result links of job #{job.id} expired before its images were saved, and "
                "an image request has no task to ask for fresh links: only a retry (a new, "
                "separately billed image) can make them again."
            )
        return (
            f"Nothing to check: the gateway never gave job #{job.id} a task id "
            f"(it is {job.state.value.replace('_', ' ')})."
        )

    async def _recheck_task(self, job: Job, files: tuple[JobFile, ...], now: float) -> Job:
        """Ask the gateway about the task of an ended job (claimed, not active) once. Only an
        answer changes the job (``files`` are its files as they are on disk now): a check that
        fails, the task unknown to the gateway included, gives the claim back and leaves the
        job as it was, so a succeeded or cancelled job never becomes a failed one by a check."""
        try:
            task = await self._poller.query(job)
        except AnyFastError as err:
            self._give_back(job.id)
            if isinstance(err, TaskNotFoundError):
                raise JobActionError(
                    f"The gateway no longer knows task {job.task_id} of job #{job.id} "
                    f"({err.message}): it may have expired, or belong to another API key. "
                    "Nothing changed."
                ) from None
            raise JobActionError(
                f"Could not check task {job.task_id} of job #{job.id}: {err}. Nothing changed; "
                "check again later."
            ) from None
        # The job lives again until the answer says otherwise: no stale reason or end time.
        revived = self._ctx.book.note(
            job.id,
            files=files,
            deadline_at=now + self._ctx.config.deadline,
            failure_reason=None,
            finished_at=None,
        )
        if revived is not None:
            self._poller.apply_task(revived, task)
        if job.id in self._ctx.book:
            self._ctx.book.flush()
        return self._ctx.job(job.id)

    def _give_back(self, job_id: int) -> None:
        """Release a claim taken for a check without writing anything else to the job."""
        self._ctx.forget(job_id)  # drops whatever was buffered for it too
        self._ctx.store.release_jobs(self._ctx.owner, [job_id])

    # -- uncertain submissions -------------------------------------------------------------------

    async def resend(self, job_id: int) -> Job:
        """Send the request of a submission of unknown fate again, as the *same* job under the
        *same* idempotency key, so a gateway that deduplicates keys recognises a repeat. The
        job is tracked again from there (a second ambiguous failure leaves it uncertain)."""
        job = self._ctx.job(job_id)
        if job.state is not JobState.SUBMISSION_UNCERTAIN:
            state = job.state.value.replace("_", " ")
            raise JobActionError(
                f"Job #{job_id} is {state}: only a submission of unknown fate is sent again "
                "(retry makes a new job)."
            )
        if job.task_id:
            raise JobActionError(
                f"Job #{job_id} has task {job.task_id}: check it again instead of sending it."
            )
        now = self._ctx.clock()
        self._ctx.claim(job_id)
        pending = self._ctx.store.update_job(
            job_id,
            owner=self._ctx.owner,
            state=JobState.PENDING,
            failure_reason=None,
            message="Sending again under the same idempotency key",
            finished_at=None,
            deadline_at=now + self._ctx.config.deadline,  # how long a 429 may keep refusing it
        )
        if pending is None:
            raise held_elsewhere(job_id)
        self._ctx.book.adopt(pending)
        self._ctx.book.notify(pending)
        return await self._submitter.send(pending)

    async def attach_task(self, job_id: int, task_id: str) -> Job:
        """Adopt a task the user found in the AnyFast console into a video job that has no task
        id (its submission of unknown fate, or cancelled before the answer came): the id is
        checked, the task queried, and the job tracked from its answer to the end. A wrong id
        raises :class:`JobActionError` and changes nothing."""
        job = self._ctx.job(job_id)
        task_id = task_id.strip()
        if not TASK_ID.fullmatch(task_id):
            raise JobActionError(
                "That is not a task id: an id is letters, digits and - _ . : (at most 128), "
                "like cgt-20260312231129-7db6s or 860260753860210752. Nothing was changed."
            )
        if job.kind is not JobKind.VIDEO:
            raise JobActionError(
                f"Job #{job_id} is an image request: images are made at once, with no task to "
                "attach. Send it again or retry it."
            )
        if job.task_id:
            raise JobActionError(f"Job #{job_id} already has task {job.task_id}.")
        if job.state not in _TASKLESS_END:
            state = job.state.value.replace("_", " ")
            raise JobActionError(
                f"Job #{job_id} is {state}: a task is attached only to a submission of "
                "unknown fate (or one cancelled before its answer came)."
            )
        for other in self._ctx.store.list_jobs(limit=DUPLICATE_SCAN):
            if other.task_id == task_id and other.id != job_id:
                raise JobActionError(f"Task {task_id} is already job #{other.id}.")
        probe = dataclasses.replace(job, task_id=task_id)
        try:
            task = await self._poller.query(probe)
        except TaskNotFoundError as err:
            raise JobActionError(
                f"The gateway does not know task {task_id} ({err.message}): check the id, and "
                f"that the task was made with this API key. Job #{job_id} is unchanged."
            ) from None
        except AnyFastError as err:
            raise JobActionError(
                f"Could not check task {task_id} ({err}). Job #{job_id} is unchanged."
            ) from None
        now = self._ctx.clock()
        self._ctx.claim(job_id)
        written = self._ctx.store.update_job(
            job_id,
            owner=self._ctx.owner,
            state=JobState.QUEUED,
            task_id=task_id,
            submitted_at=now,
            deadline_at=now + self._ctx.config.deadline,
            failure_reason=None,
            message=f"Task {task_id} attached by hand",
            finished_at=None,
            poll_count=0,
        )
        if written is None:
            raise held_elsewhere(job_id)
        self._ctx.book.adopt(written)
        self._ctx.book.notify(written)
        self._poller.apply_task(written, task)
        if job_id in self._ctx.book:
            self._ctx.book.flush()
        return self._ctx.job(job_id)


def _missing_again(file: JobFile) -> JobFile:
    """A saved file as it now is: to be saved again if it has gone from disk."""
    if file.done and not Path(file.path).exists():
        return dataclasses.replace(file, done=False, size=None, error="missing from disk")
    return file
