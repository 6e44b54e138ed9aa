"""Checking tasks: ask the gateway how a job's task is doing, and act on the answer (progress,
a new state, results to save, a failure, a deadline passed), backing off while checks fail."""

from __future__ import annotations

import dataclasses
from typing import Any

from studio.api.errors import AnyFastError, TaskNotFoundError
from studio.api.types import Provider, VideoTask
from studio.jobs.context import EngineContext, short_error
from studio.jobs.downloads import Downloads
from studio.jobs.schedule import add_progress_point, error_delay, job_state_for, poll_delay
from studio.jobs.submission import trimmed
from studio.store.job_records import Job, JobState


class Poller:
    """Checks the tasks of the jobs one engine holds; results go to ``downloads``."""

    def __init__(self, ctx: EngineContext, downloads: Downloads) -> None:
        self._ctx = ctx
        self._downloads = downloads
        self._errors: dict[int, int] = {}
        """Checks of each job that failed in a row (for the back-off)."""

    def forget(self, job_id: int) -> None:
        """Stop counting a job's failed checks."""
        self._errors.pop(job_id, None)

    async def query(self, job: Job) -> VideoTask:
        """Ask the gateway about the task of ``job`` once."""
        async with self._ctx.requests:
            return await self._ctx.client.get_task(
                Provider(job.provider.value), job.task_id or "", job.action
            )

    async def check(self, job: Job) -> None:
        """Ask the gateway how a task is doing, and act on the answer."""
        try:
            task = await self.query(job)
        except TaskNotFoundError as err:
            self._not_found(job, err)
            return
        except AnyFastError as err:
            self._check_failed(job, err)
            return
        self._errors.pop(job.id, None)
        current = self._ctx.book.get(job.id)
        if current is not None:
            self.apply_task(current, task)

    def _not_found(self, job: Job, err: AnyFastError) -> Job | None:
        reason = (
            f"The gateway does not know task {job.task_id} ({err.message}): it may have "
            "expired, or belong to another API key."
        )
        return self._ctx.end(job.id, JobState.FAILED, finished=True, failure_reason=reason)

    def _check_failed(self, job: Job, err: AnyFastError) -> None:
        ctx = self._ctx
        if job.id not in ctx.book:  # cancelled or removed while the check was out
            return
        now = ctx.clock()
        errors = self._errors.get(job.id, 0) + 1
        self._errors[job.id] = errors
        if job.deadline_at is not None and now >= job.deadline_at:
            self._time_out(job, f" The last check failed: {err}")
            return
        delay = error_delay(ctx.config, job.provider, errors, ctx.rng)
        at = self._before_deadline(job, now + delay)
        message = f"Could not check the task ({err}); trying again in {delay:.0f} s"
        ctx.book.note(
            job.id,
            notify=True,
            message=message,
            last_error=short_error(err),
            poll_count=job.poll_count + 1,
            next_poll_at=at,
        )
        ctx.scheduler.schedule(job.id, at)

    def _before_deadline(self, job: Job, at: float) -> float:
        return at if job.deadline_at is None else min(at, max(job.deadline_at, self._ctx.clock()))

    def _time_out(self, job: Job, detail: str = "") -> Job | None:
        minutes = self._ctx.config.deadline / 60
        message = (
            f"Not finished after {minutes:.3g} min, so Studio stopped checking it; the task may "
            f"still finish: recheck it later.{detail}"
        )
        return self._ctx.end(job.id, JobState.TIMED_OUT, finished=False, message=message)

    def apply_task(self, job: Job, task: VideoTask) -> Job | None:
        """Record one check's answer: progress, a new state, results to download."""
        ctx = self._ctx
        now = ctx.clock()
        state = job_state_for(task.state, job.state)
        polls = job.poll_count + 1
        last = trimmed(task.raw)
        if state is JobState.FAILED:
            reason = task.failure_reason or "The task failed; the gateway gave no reason"
            return ctx.end(
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
            points = add_progress_point(points, now, task.progress, ctx.config.progress_points)
        if job.deadline_at is not None and now >= job.deadline_at:
            return self._time_out(job)
        at = self._before_deadline(job, now + poll_delay(ctx.config, job.provider, polls, ctx.rng))
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
            written = ctx.book.write(job.id, state=state, started_at=started, **fields)
        else:
            changed = task.progress != job.progress or job.message is not None
            changed = changed or job.last_error is not None
            written = ctx.book.note(job.id, notify=changed, **fields)
        if written is not None:
            ctx.scheduler.schedule(job.id, at)
        return written

    def _task_succeeded(self, job: Job, task: VideoTask, now: float, polls: int) -> Job | None:
        ctx = self._ctx
        urls = list(task.result_urls)
        if not urls:
            reason = "The task succeeded, but the gateway sent no link to its result"
            return ctx.end(job.id, JobState.FAILED, finished=True, failure_reason=reason)
        result = {"urls": urls, "finished_at": float(task.finished_at or now)}
        if len(job.files) == len(urls):  # checked again after a failed download: same names
            files = tuple(
                dataclasses.replace(f, url=url, error=None)
                for f, url in zip(job.files, urls, strict=True)
            )
        else:
            files = ctx.saver.plan(dataclasses.replace(job, result=result), list(enumerate(urls)))
        written = ctx.book.write(
            job.id,
            state=JobState.DOWNLOADING,
            progress=100,
            result=result,
            files=files,
            urls_expire_at=now + ctx.config.url_lifetime(job.provider),
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
            self._downloads.start(job.id)
        return written
