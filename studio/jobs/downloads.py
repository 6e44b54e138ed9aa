"""Saving the results of jobs whose task succeeded: every file of a job at once, with its
progress recorded, and the job ended when all are saved (or why some could not be)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from studio.api.download import DownloadError
from studio.jobs.context import EngineContext
from studio.store.job_records import JobState

log = logging.getLogger("studio.jobs")

PROGRESS_EVERY = 0.5
"""Seconds between two records of a download's progress (the store gets them batched)."""


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
        """Bytes saved of all files, and their total size (None while one is unknown)."""
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


class Downloads:
    """The downloads running for the jobs of one engine, one task per job."""

    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def running(self) -> list[asyncio.Task[None]]:
        """Every download task still running."""
        return list(self._tasks.values())

    def task_of(self, job_id: int) -> asyncio.Task[None] | None:
        """The download task of a job, if one runs."""
        return self._tasks.get(job_id)

    def forget(self, job_id: int) -> None:
        """Stop the download of a job (unless it is the caller itself)."""
        task = self._tasks.pop(job_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def start(self, job_id: int) -> None:
        """Save the results of a job in the downloading state (once: a second call is moot)."""
        if job_id in self._tasks:
            return
        task = asyncio.create_task(self._download(job_id), name=f"studio-job-{job_id}-download")
        self._tasks[job_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._tasks.get(job_id) is finished:
                del self._tasks[job_id]
            if not finished.cancelled() and finished.exception() is not None:
                log.error(
                    "saving the results of job %d failed; it resumes when its claim runs out",
                    job_id,
                    exc_info=finished.exception(),
                )
                self._ctx.book.drop(job_id)  # no more renewals: the next claim round takes it up

        task.add_done_callback(done)

    async def _download(self, job_id: int) -> None:
        """Save every result of a job at once; succeed when all are saved."""
        ctx, book = self._ctx, self._ctx.book
        job = book.get(job_id)
        if job is None or job.state is not JobState.DOWNLOADING:
            return
        todo = [f for f in job.files if not f.done]
        expires = job.urls_expire_at
        if any(f.url for f in todo) and expires is not None and ctx.clock() > expires:
            reason = (
                "The result links expired before the results were saved; recheck to ask for "
                "fresh links, or retry the job"
            )
            ctx.end(job_id, JobState.FAILED, finished=True, failure_reason=reason)
            return

        def record(done: int, total: int | None, rate: float | None) -> None:
            book.note(job_id, notify=True, bytes_done=done, bytes_total=total, bytes_rate=rate)

        progress = DownloadProgress(record)
        for f in job.files:
            if f.done or not f.url:
                progress.start(f.index, f.size or 0, f.size or 0)
            else:
                progress.start(f.index, 0, None)

        async def save(file_index: int) -> None:
            current = book.get(job_id)
            if current is None:
                return
            file = next(f for f in current.files if f.index == file_index)

            def advanced(done: int, total: int | None) -> None:
                held = book.get(job_id)
                if held is not None and held.last_error is not None:  # moving again
                    book.note(job_id, notify=True, last_error=None)
                progress.update(file_index, done, total)

            def retrying(err: DownloadError, pause: float) -> None:
                book.note(job_id, notify=True, last_error=short_download_error(err))

            saved = await ctx.saver.fetch(current, file, on_progress=advanced, on_retry=retrying)
            if saved.done:
                progress.update(file_index, saved.size or 0, saved.size or 0)
            latest = book.get(job_id)
            if latest is not None:
                files = tuple(saved if f.index == saved.index else f for f in latest.files)
                book.note(job_id, notify=True, files=files)

        await asyncio.gather(*(save(f.index) for f in todo))
        final = book.get(job_id)
        if final is None:
            return
        missing = [f for f in final.files if not f.done]
        if missing:
            detail = "; ".join(f"{Path(f.path).name}: {f.error}" for f in missing)
            reason = (
                f"Could not save {len(missing)} of {len(final.files)} results ({detail}). "
                "Recheck to try the download again."
            )
            ctx.end(job_id, JobState.FAILED, finished=True, failure_reason=reason, bytes_rate=None)
        else:
            ctx.end(
                job_id,
                JobState.SUCCEEDED,
                finished=True,
                failure_reason=None,
                bytes_rate=None,
                last_error=None,
            )
