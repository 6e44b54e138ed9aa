"""The engine's moving parts: what happens when a create is answered, a task is checked, and
results are saved. :class:`~studio.jobs.engine.JobEngine` adds the public actions and the
start-up, claiming and shutdown around them."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.api.client import AnyFastClient
from studio.api.download import Downloader, DownloadError
from studio.api.errors import (
    AnyFastError,
    APIConnectionError,
    APITimeoutError,
    RateLimitError,
    TaskNotFoundError,
)
from studio.api.types import Provider, VideoTask
from studio.jobs.book import JobBook
from studio.jobs.config import EngineConfig
from studio.jobs.models import Claim, Job, JobState
from studio.jobs.results import ResultSaver
from studio.jobs.schedule import (
    add_progress_point,
    error_delay,
    job_state_for,
    poll_delay,
)
from studio.jobs.scheduler import Scheduler
from studio.jobs.submission import trimmed
from studio.store.jobs import engine_owner

if TYPE_CHECKING:
    from studio.store.store import Store

log = logging.getLogger("studio.jobs")
_INSTANCES = itertools.count(1)

UNCERTAIN_MESSAGE = (
    "It is not known whether the gateway received this request. Check your AnyFast task list "
    "before retrying: a retry sends a new, separately billed request."
)
INTERRUPTED = "Studio stopped while the request was being sent"
PROGRESS_EVERY = 0.5
"""Seconds between two records of a download's progress (the store gets them batched)."""


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


def short_download_error(err: DownloadError) -> str:
    """A few words on why a download attempt failed ("HTTP 503", "connection lost")."""
    return f"HTTP {err.status}" if err.status is not None else "connection lost"


class DownloadProgress:
    """The bytes saved of every file of one job, recorded at most every
    :data:`PROGRESS_EVERY` seconds with a smoothed rate (bytes per second)."""

    def __init__(self, record: Callable[[int, int | None, float | None], None]) -> None:
        self._record = record
        self._files: dict[int, tuple[int, int | None]] = {}
        self._last: tuple[float, int] | None = None
        self.rate: float | None = None

    def start(self, index: int, done: int, total: int | None) -> None:
        """A file known before it downloads (already saved: ``done == total``)."""
        self._files[index] = (done, total)

    def totals(self) -> tuple[int, int | None]:
        done = sum(d for d, _ in self._files.values())
        sizes = [t for _, t in self._files.values()]
        return done, None if any(t is None for t in sizes) else sum(t or 0 for t in sizes)

    def update(self, index: int, done: int, total: int | None) -> None:
        """``on_progress`` of one file's download."""
        self._files[index] = (done, total)
        now = time.monotonic()
        all_done, all_total = self.totals()
        last = self._last
        if last is None:  # the first bytes: the baseline (resumed bytes are no rate)
            self._last = (now, all_done)
            self._record(all_done, all_total, None)
            return
        if now - last[0] < PROGRESS_EVERY and all_done != all_total:
            return
        if now > last[0]:
            rate = max(0.0, (all_done - last[1]) / (now - last[0]))
            self.rate = rate if self.rate is None else 0.5 * self.rate + 0.5 * rate
        self._last = (now, all_done)
        self._record(all_done, all_total, self.rate)


class EngineCore:
    """State shared by the engine's parts, and the transitions between job states."""

    def __init__(
        self,
        store: Store,
        client: AnyFastClient,
        downloader: Downloader,
        config: EngineConfig,
        on_change: Callable[[Job], None] | None = None,
        *,
        clock: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.config = config
        self.clock = clock
        self.owner = config.owner or engine_owner(next(_INSTANCES))
        self._user_on_change = on_change
        self._tick = asyncio.Event()
        self.book = JobBook(store, self.owner, self._changed, self._forget)
        self.saver = ResultSaver(
            downloader, config.media_dir, config.max_concurrent_downloads, clock
        )
        self.scheduler = Scheduler(clock, self._run_due, config.max_concurrent_requests)
        self._api = asyncio.Semaphore(max(1, config.max_concurrent_requests))
        self._rng = rng or random.Random()
        self._errors: dict[int, int] = {}
        self._submit_attempts: dict[int, int] = {}
        self._downloads: dict[int, asyncio.Task[None]] = {}

    # -- holding jobs ----------------------------------------------------------------------------

    def _changed(self, job: Job) -> None:
        if self._user_on_change is not None:
            self._user_on_change(job)
        self._tick.set()
        self._tick = asyncio.Event()

    def _forget(self, job_id: int) -> None:
        """Stop every kind of work on a job here (checks, download) and stop holding it."""
        self.scheduler.cancel(job_id)
        self._errors.pop(job_id, None)
        self._submit_attempts.pop(job_id, None)
        task = self._downloads.pop(job_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self.book.drop(job_id)

    def _end(self, job_id: int, state: JobState, *, finished: bool, **fields: Any) -> Job | None:
        """Move a job to a state no engine works on, and give up its claim."""
        if finished:
            fields.setdefault("finished_at", self.clock())
        job = self.book.write(job_id, release=True, state=state, **fields)
        self._forget(job_id)
        return job

    def _adopt(self, claim: Claim) -> None:
        """Take up a job just claimed: send it, check it or download its results."""
        job = claim.job
        if job.id in self.book:
            return
        self.book.adopt(job)
        now = self.clock()
        if job.state is JobState.PENDING and not job.task_id:
            if claim.previous_owner is not None:  # its engine died: was the request sent?
                self._end(
                    job.id,
                    JobState.SUBMISSION_UNCERTAIN,
                    finished=False,
                    failure_reason=INTERRUPTED,
                    message=UNCERTAIN_MESSAGE,
                )
            else:  # released cleanly before sending: sending is safe (same idempotency key)
                self.scheduler.schedule(job.id, now)
        elif job.state is JobState.DOWNLOADING:
            self._start_download(job.id)
        else:
            if job.state is JobState.PENDING:  # answered, but the answer was not recorded
                self.book.write(job.id, state=JobState.QUEUED)
            cadence = self.config.interval(job.provider)
            self.scheduler.schedule(job.id, min(max(now, job.next_poll_at or now), now + cadence))

    async def _run_due(self, job_id: int) -> None:
        job = self.book.get(job_id)
        if job is None:
            return
        try:
            if job.state is JobState.PENDING:
                await self._attempt_submit(job)
            elif job.state in (JobState.QUEUED, JobState.RUNNING):
                await self._check(job)
        except Exception:  # a busy database, a bug: never strand the job
            log.exception("working on job %d failed; trying again later", job_id)
            if job_id in self.book and self.scheduler.due_at(job_id) is None:
                self.scheduler.schedule(job_id, self.clock() + self.config.interval(job.provider))

    async def _attempt_submit(self, job: Job) -> Job:
        """Send the create request of a pending job (:mod:`studio.jobs.submitting`)."""
        raise NotImplementedError

    # -- checks ----------------------------------------------------------------------------------

    async def _query(self, job: Job) -> VideoTask:
        async with self._api:
            return await self.client.get_task(
                Provider(job.provider.value), job.task_id or "", job.action
            )

    async def _check(self, job: Job) -> None:
        """Ask the gateway how a task is doing, and act on the answer."""
        try:
            task = await self._query(job)
        except TaskNotFoundError as err:
            self._not_found(job, err)
            return
        except AnyFastError as err:
            self._check_failed(job, err)
            return
        self._errors.pop(job.id, None)
        current = self.book.get(job.id)
        if current is not None:
            self._apply_task(current, task)

    def _not_found(self, job: Job, err: AnyFastError) -> Job | None:
        reason = (
            f"The gateway does not know task {job.task_id} ({err.message}): it may have "
            "expired, or belong to another API key."
        )
        return self._end(job.id, JobState.FAILED, finished=True, failure_reason=reason)

    def _check_failed(self, job: Job, err: AnyFastError) -> None:
        if job.id not in self.book:  # cancelled or removed while the check was out
            return
        now = self.clock()
        errors = self._errors.get(job.id, 0) + 1
        self._errors[job.id] = errors
        if job.deadline_at is not None and now >= job.deadline_at:
            self._time_out(job, f" The last check failed: {err}")
            return
        delay = error_delay(self.config, job.provider, errors, self._rng)
        at = self._before_deadline(job, now + delay)
        message = f"Could not check the task ({err}); trying again in {delay:.0f} s"
        self.book.note(
            job.id,
            notify=True,
            message=message,
            last_error=short_error(err),
            poll_count=job.poll_count + 1,
            next_poll_at=at,
        )
        self.scheduler.schedule(job.id, at)

    def _before_deadline(self, job: Job, at: float) -> float:
        return at if job.deadline_at is None else min(at, max(job.deadline_at, self.clock()))

    def _time_out(self, job: Job, detail: str = "") -> Job | None:
        minutes = self.config.deadline / 60
        message = (
            f"Not finished after {minutes:.3g} min, so Studio stopped checking it; the task may "
            f"still finish: recheck it later.{detail}"
        )
        return self._end(job.id, JobState.TIMED_OUT, finished=False, message=message)

    def _apply_task(self, job: Job, task: VideoTask) -> Job | None:
        """Record one check's answer: progress, a new state, results to download."""
        now = self.clock()
        state = job_state_for(task.state, job.state)
        polls = job.poll_count + 1
        last = trimmed(task.raw)
        if state is JobState.FAILED:
            reason = task.failure_reason or "The task failed; the gateway gave no reason"
            return self._end(
                job.id,
                JobState.FAILED,
                finished=True,
                failure_reason=reason,
                progress=task.progress,
                poll_count=polls,
                last_response=last,
            )
        if state is JobState.DOWNLOADING:
            return self._task_succeeded(job, task, now, polls)
        points = job.progress_points
        if state is JobState.RUNNING and task.progress > 0:
            points = add_progress_point(points, now, task.progress, self.config.progress_points)
        if job.deadline_at is not None and now >= job.deadline_at:
            return self._time_out(job)
        at = self._before_deadline(
            job, now + poll_delay(self.config, job.provider, polls, self._rng)
        )
        fields: dict[str, Any] = {
            "progress": task.progress,
            "progress_points": points,
            "poll_count": polls,
            "next_poll_at": at,
            "last_response": last,
            "message": None,
            "last_error": None,
        }
        written: Job | None
        if state is not job.state:
            started = job.started_at or (now if state is JobState.RUNNING else None)
            written = self.book.write(job.id, state=state, started_at=started, **fields)
        else:
            changed = task.progress != job.progress or job.message is not None
            changed = changed or job.last_error is not None
            written = self.book.note(job.id, notify=changed, **fields)
        if written is not None:
            self.scheduler.schedule(job.id, at)
        return written

    def _task_succeeded(self, job: Job, task: VideoTask, now: float, polls: int) -> Job | None:
        urls = list(task.result_urls)
        if not urls:
            reason = "The task succeeded, but the gateway sent no link to its result"
            return self._end(job.id, JobState.FAILED, finished=True, failure_reason=reason)
        result = {"urls": urls, "finished_at": float(task.finished_at or now)}
        if len(job.files) == len(urls):  # checked again after a failed download: same names
            files = tuple(
                dataclasses.replace(f, url=url, error=None)
                for f, url in zip(job.files, urls, strict=True)
            )
        else:
            files = self.saver.plan(dataclasses.replace(job, result=result), list(enumerate(urls)))
        written = self.book.write(
            job.id,
            state=JobState.DOWNLOADING,
            progress=100,
            result=result,
            files=files,
            urls_expire_at=now + self.config.url_lifetime(job.provider),
            started_at=job.started_at or now,
            poll_count=polls,
            last_response=trimmed(task.raw),
            message=None,
            last_error=None,
            bytes_done=0,
            bytes_total=None,
            bytes_rate=None,
        )
        if written is not None:
            self._start_download(job.id)
        return written

    # -- downloads -------------------------------------------------------------------------------

    def _start_download(self, job_id: int) -> None:
        if job_id in self._downloads:
            return
        task = asyncio.create_task(self._download(job_id), name=f"studio-job-{job_id}-download")
        self._downloads[job_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._downloads.get(job_id) is finished:
                del self._downloads[job_id]
            if not finished.cancelled() and finished.exception() is not None:
                log.error(
                    "saving the results of job %d failed; it resumes when its claim runs out",
                    job_id,
                    exc_info=finished.exception(),
                )
                self.book.drop(job_id)  # no more renewals: the next claim round takes it up

        task.add_done_callback(done)

    async def _download(self, job_id: int) -> None:
        """Save every result of a job at once; succeed when all are saved."""
        job = self.book.get(job_id)
        if job is None or job.state is not JobState.DOWNLOADING:
            return
        todo = [f for f in job.files if not f.done]
        expires = job.urls_expire_at
        if any(f.url for f in todo) and expires is not None and self.clock() > expires:
            reason = (
                "The result links expired before the results were saved; recheck to ask for "
                "fresh links, or retry the job"
            )
            self._end(job_id, JobState.FAILED, finished=True, failure_reason=reason)
            return

        def record(done: int, total: int | None, rate: float | None) -> None:
            self.book.note(job_id, notify=True, bytes_done=done, bytes_total=total, bytes_rate=rate)

        progress = DownloadProgress(record)
        for f in job.files:
            if f.done or not f.url:
                progress.start(f.index, f.size or 0, f.size or 0)
            else:
                progress.start(f.index, 0, None)

        async def save(file_index: int) -> None:
            current = self.book.get(job_id)
            if current is None:
                return
            file = next(f for f in current.files if f.index == file_index)

            def advanced(done: int, total: int | None) -> None:
                held = self.book.get(job_id)
                if held is not None and held.last_error is not None:  # moving again
                    self.book.note(job_id, notify=True, last_error=None)
                progress.update(file_index, done, total)

            def retrying(err: DownloadError, pause: float) -> None:
                self.book.note(job_id, notify=True, last_error=short_download_error(err))

            saved = await self.saver.fetch(current, file, on_progress=advanced, on_retry=retrying)
            if saved.done:
                progress.update(file_index, saved.size or 0, saved.size or 0)
            latest = self.book.get(job_id)
            if latest is not None:
                files = tuple(saved if f.index == saved.index else f for f in latest.files)
                self.book.note(job_id, notify=True, files=files)

        await asyncio.gather(*(save(f.index) for f in todo))
        final = self.book.get(job_id)
        if final is None:
            return
        missing = [f for f in final.files if not f.done]
        if missing:
            detail = "; ".join(f"{Path(f.path).name}: {f.error}" for f in missing)
            reason = (
                f"Could not save {len(missing)} of {len(final.files)} results ({detail}). "
                "Recheck to try the download again."
            )
            self._end(
                job_id, JobState.FAILED, finished=True, failure_reason=reason, bytes_rate=None
            )
        else:
            self._end(
                job_id,
                JobState.SUCCEEDED,
                finished=True,
                failure_reason=None,
                bytes_rate=None,
                last_error=None,
            )
