"""``JobEngine``: submit, track, download and resume generation jobs (plain asyncio).

The same engine serves the TUI and the headless commands. Every job lives in the store; an
engine claims the jobs it works on (a lease renewed while it runs), so two processes never poll
or download the same job, and jobs left behind by a process that died are taken over.

Usage::

    async with JobEngine(store, client, downloader, EngineConfig.from_settings(settings)) as engine:
        job = await engine.submit_seedance("seedance-2.0", "a cat playing piano", duration=5)
        job = await engine.wait(job.id)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from studio.api.client import AnyFastClient
from studio.api.download import Downloader
from studio.jobs.config import EngineConfig
from studio.jobs.models import Job, JobActionError, JobKind, JobProvider, JobState
from studio.jobs.rechecking import RecheckingEngine
from studio.jobs.submission import kling_model, prepare_params
from studio.store.models import StoreError

if TYPE_CHECKING:
    from studio.store.store import Store

log = logging.getLogger("studio.jobs")

CANCEL_MESSAGE = (
    "Stopped tracking this job. The gateway has no cancel: the task may still finish and be "
    "billed; check it again later to collect its result."
)
CANCEL_DOWNLOAD_MESSAGE = "Stopped saving the results; files already saved are kept."


class JobEngine(RecheckingEngine):
    """Submits jobs, polls their tasks, saves their results, and resumes all that after a
    restart. ``on_change(job)`` is called after every committed change of a job this engine
    makes (state, progress, files); callers that redraw should throttle."""

    def __init__(
        self,
        store: Store,
        client: AnyFastClient,
        downloader: Downloader,
        config: EngineConfig,
        on_change: Callable[[Job], None] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(store, client, downloader, config, on_change, clock=clock, rng=rng)
        self._tasks: list[asyncio.Task[None]] = []
        self._submitting: set[int] = set()

    @property
    def running(self) -> bool:
        """Whether :meth:`start` was called and :meth:`stop` was not."""
        return bool(self._tasks)

    @property
    def tracked(self) -> int:
        """How many jobs this engine holds right now."""
        return len(self.book)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Claim and resume every unfinished job (checks and downloads) nobody else holds, then
        start the scheduler and the housekeeping loop."""
        if self.running:
            return
        self.resume_unfinished()
        self._tasks = [
            asyncio.create_task(self.scheduler.run_forever(), name="studio-jobs-scheduler"),
            asyncio.create_task(self._housekeeping(), name="studio-jobs-housekeeping"),
        ]

    def resume_unfinished(self) -> int:
        """Claim unfinished jobs that nobody (alive) holds and take them up; return how many."""
        now = self.clock()
        claims = self.store.claim_jobs(
            self.owner, now, self.config.lease, limit=self.config.claim_batch
        )
        for claim in claims:
            self._adopt(claim)
        return len(claims)

    async def stop(self) -> None:
        """Stop checking and downloading, write what is buffered and release the claims, so
        another engine (or the next start) resumes at once. Partial downloads are kept."""
        tasks = [*self._tasks, *self._downloads.values()]
        self._tasks = []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(StoreError):
            self.book.flush()
        # A submission still waiting for its answer keeps its claim: if this process ends
        # first, whoever takes the job over must treat it as uncertain.
        released = [i for i in self.book.ids() if i not in self._submitting]
        try:
            self.store.release_jobs(self.owner, released)
        except StoreError:
            log.warning("could not release the claims of %s", self.owner, exc_info=True)
        for job_id in released:
            self._forget(job_id)

    async def _housekeeping(self) -> None:
        """Write buffered bookkeeping, renew leases, and pick up orphaned jobs."""
        next_renew = self.clock() + self.config.lease / 3
        next_claim = self.clock() + self.config.claim_interval
        while True:
            await asyncio.sleep(self.config.flush_interval)
            try:
                self.book.flush()
                now = self.clock()
                if now >= next_renew:
                    next_renew = now + self.config.lease / 3
                    until = now + self.config.lease
                    for job_id in self.store.renew_leases(self.owner, self.book.ids(), until):
                        self._forget(job_id)
                if now >= next_claim:
                    next_claim = now + self.config.claim_interval
                    self.resume_unfinished()
            except StoreError:
                log.warning("job bookkeeping failed; trying again shortly", exc_info=True)

    async def wait(self, job_id: int) -> Job:
        """Wait until the job is in a final state (succeeded, failed, timed out, cancelled,
        submission uncertain) and return it; bound the wait with ``asyncio.timeout``. Changes
        made by other processes are noticed within ``flush_interval``."""
        while True:
            job = self._job(job_id)
            if job.state.is_final:
                return job
            tick = self._tick
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(self.config.flush_interval, 0.01)):
                    await tick.wait()

    # -- submitting ------------------------------------------------------------------------------

    async def submit_image(
        self,
        model: str,
        prompt: str,
        *,
        size: str | None = None,
        images: Sequence[str] = (),
        max_images: int | None = None,
        watermark: bool | None = None,
        seed: int | None = None,
        response_format: str = "url",
        conversation_id: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Job:
        """Generate an image (a group with ``max_images``) with Seedream and save it."""
        params = {
            "size": size,
            "images": list(images),
            "max_images": max_images,
            "watermark": watermark,
            "seed": seed,
            "response_format": response_format,
            "extra": dict(extra) if extra else None,
        }
        return await self._submit(
            JobKind.IMAGE, JobProvider.SEEDREAM, "generate", model, prompt, params, conversation_id
        )

    async def submit_seedance(
        self, model: str, prompt: str, *, conversation_id: int | None = None, **params: Any
    ) -> Job:
        """Create a Seedance video task; ``params`` are those of
        ``AnyFastClient.create_seedance_task`` (frames and references may be local paths)."""
        return await self._submit(
            JobKind.VIDEO, JobProvider.SEEDANCE, "generate", model, prompt, params, conversation_id
        )

    async def submit_kling(
        self,
        action: str,
        *,
        prompt: str = "",
        model_name: str | None = None,
        conversation_id: int | None = None,
        **params: Any,
    ) -> Job:
        """Create a Kling task: ``action`` is text2video, image2video (``image`` and/or
        ``image_tail``) or multi-image2video (``images``); other ``params`` are Kling options
        (duration, mode, aspect_ratio, negative_prompt, …)."""
        model = kling_model(action, model_name)
        return await self._submit(
            JobKind.VIDEO, JobProvider.KLING, action, model, prompt, params, conversation_id
        )

    async def _submit(
        self,
        kind: JobKind,
        provider: JobProvider,
        action: str,
        model: str,
        prompt: str,
        params: Mapping[str, Any],
        conversation_id: int | None,
        *,
        retry_of: int | None = None,
        prepared: bool = False,
    ) -> Job:
        """Write the job (pending, fresh idempotency key), then send it."""
        if not self.running:
            raise RuntimeError("the job engine is not running; call start() first")
        stored = dict(params) if prepared else prepare_params(provider, action, params)
        job = self.store.create_job(
            kind=kind,
            provider=provider,
            action=action,
            model=model,
            prompt=prompt,
            params=stored,
            idempotency_key=str(uuid.uuid4()),
            conversation_id=conversation_id,
            retry_of=retry_of,
            claimed_by=self.owner,
            lease_until=self.clock() + self.config.lease,
        )
        self.book.adopt(job)
        self.book.notify(job)
        self._submitting.add(job.id)
        try:
            return await self._attempt_submit(job)
        finally:
            self._submitting.discard(job.id)

    # -- actions on one job ----------------------------------------------------------------------

    async def _halt(self, job_id: int) -> None:
        """Stop this engine's work on a job and wait for its download to wind down."""
        task = self._downloads.get(job_id)
        self._forget(job_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def cancel(self, job_id: int) -> Job:
        """Stop tracking a job. The gateway has no cancel, so the task may still run and be
        billed; the job's message says so. Partial downloads are deleted, saved files kept."""
        job = self._job(job_id)
        if job.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
            raise JobActionError(f"job {job_id} has already ended ({job.state.value})")
        await self._halt(job_id)
        downloading = job.state is JobState.DOWNLOADING
        if downloading:
            self.saver.delete(job, results=False)
        cancelled = self.store.update_job(
            job_id,
            state=JobState.CANCELLED,
            message=CANCEL_DOWNLOAD_MESSAGE if downloading else CANCEL_MESSAGE,
            finished_at=self.clock(),
            claimed_by=None,
            lease_until=None,
        )
        assert cancelled is not None  # unguarded update: only None when owner= is given
        self.book.notify(cancelled)
        return cancelled

    async def retry(self, job_id: int) -> Job:
        """Submit the job's request again as a new job (same parameters, new idempotency key,
        so a new and separately billed task); the new job records ``retry_of``."""
        job = self._job(job_id)
        return await self._submit(
            job.kind,
            job.provider,
            job.action,
            job.model,
            job.prompt,
            job.params,
            job.conversation_id,
            retry_of=job.id,
            prepared=True,
        )

    async def remove(self, job_id: int, delete_files: bool) -> list[Path]:
        """Forget a job: stop its work, delete partial downloads and, with ``delete_files``,
        its saved results and sidecars; then delete its row. Returns the files deleted."""
        job = self._job(job_id)
        await self._halt(job_id)
        removed = self.saver.delete(job, results=delete_files)
        self.store.delete_job(job_id)
        return removed
