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
import itertools
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from studio.api.client import AnyFastClient
from studio.api.download import Downloader
from studio.jobs.book import JobBook
from studio.jobs.claims import ClaimKeeper
from studio.jobs.config import EngineConfig
from studio.jobs.context import EngineContext
from studio.jobs.downloads import Downloads
from studio.jobs.errors import JobActionError
from studio.jobs.polling import Poller
from studio.jobs.rechecking import Rechecker
from studio.jobs.requests import MediaRequest
from studio.jobs.results import ResultSaver
from studio.jobs.scheduler import Scheduler
from studio.jobs.submission import kling_model
from studio.jobs.submitter import Submitter
from studio.store.job_records import Job, JobKind, JobProvider, JobState
from studio.store.models import StoreError
from studio.store.processes import engine_owner

if TYPE_CHECKING:
    from studio.store.store import Store

log = logging.getLogger("studio.jobs")
_INSTANCES = itertools.count(1)

CANCEL_MESSAGE = (
    "Stopped tracking this job. The gateway has no cancel: the task may still finish and be "
    "billed; check it again later to collect its result."
)
CANCEL_DOWNLOAD_MESSAGE = "Stopped saving the results; files already saved are kept."


class JobEngine:
    """Submits jobs, polls their tasks, saves their results, and resumes all that after a
    restart. ``on_change(job)`` is called after every committed change of a job this engine
    makes (state, progress, files); callers that redraw should throttle.

    A façade over its parts, each given the collaborators it needs (an
    :class:`~studio.jobs.context.EngineContext`): the jobs held (``book``), the check queue
    (``scheduler``), the media folder (``saver``), and the parts that claim jobs, send requests,
    check tasks, download results and take second looks."""

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
        self.store = store
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
        ctx = EngineContext(
            store=store,
            client=client,
            config=config,
            clock=clock,
            rng=rng or random.Random(),
            owner=self.owner,
            book=self.book,
            scheduler=self.scheduler,
            saver=self.saver,
            requests=asyncio.Semaphore(max(1, config.max_concurrent_requests)),
            forget=self._forget,
        )
        self._ctx = ctx
        self._downloads = Downloads(ctx)
        self._claims = ClaimKeeper(ctx, self._downloads)
        self._poller = Poller(ctx, self._downloads)
        self._submitter = Submitter(ctx, self._downloads)
        self._rechecker = Rechecker(
            ctx, self._claims, self._poller, self._submitter, self._downloads
        )
        self._tasks: list[asyncio.Task[None]] = []

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

    # -- the parts' wiring -----------------------------------------------------------------------

    def _changed(self, job: Job) -> None:
        if self._user_on_change is not None:
            self._user_on_change(job)
        self._tick.set()
        self._tick = asyncio.Event()

    def _forget(self, job_id: int) -> None:
        """Stop every kind of work on a job here (checks, download) and stop holding it."""
        self.scheduler.cancel(job_id)
        self._poller.forget(job_id)
        self._submitter.forget(job_id)
        self._downloads.forget(job_id)
        self.book.drop(job_id)

    async def _run_due(self, job_id: int) -> None:
        """The scheduler's work on a job whose time came: send it, or check its task."""
        job = self.book.get(job_id)
        if job is None:
            return
        try:
            if job.state is JobState.PENDING:
                await self._submitter.attempt(job)
            elif job.state in (JobState.QUEUED, JobState.RUNNING):
                await self._poller.check(job)
        except Exception:  # a busy database, a bug: never strand the job
            log.exception("working on job %d failed; trying again later", job_id)
            if job_id in self.book and self.scheduler.due_at(job_id) is None:
                self.scheduler.schedule(job_id, self.clock() + self.config.interval(job.provider))

    def _require_running(self) -> None:
        if not self.running:
            raise RuntimeError("the job engine is not running; call start() first")

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Claim and resume every unfinished job (checks and downloads) nobody else holds, then
        start the scheduler and the housekeeping loop."""
        if self.running:
            return
        self.resume_unfinished()
        self._tasks = [
            asyncio.create_task(self.scheduler.run_forever(), name="studio-jobs-scheduler"),
            asyncio.create_task(self._claims.keep(), name="studio-jobs-housekeeping"),
        ]

    def resume_unfinished(self) -> int:
        """Claim unfinished jobs that nobody (alive) holds and take them up; return how many."""
        return self._claims.resume()

    def take_up(self, job_id: int) -> bool:
        """Claim this one unfinished job if nobody (alive) holds it and take it up (send it,
        check it or save its results); return whether this engine holds it now. For an engine
        that follows only the jobs it is asked about (``claim_batch=0``)."""
        return self._claims.take(job_id)

    def reconfigure(
        self, config: EngineConfig | None = None, client: AnyFastClient | None = None
    ) -> None:
        """Work with ``config``'s media folder and deadline, and send through ``client``, from
        now on (saved settings, without a restart). Results already planned keep their paths
        and jobs already sent their deadline; the pacing and limits set at start stay."""
        if config is not None:
            self.config = config
            self._ctx.config = config
            self.saver.media_dir = config.media_dir
        if client is not None:
            self._ctx.client = client

    async def stop(self) -> None:
        """Stop checking and downloading, write what is buffered and release the claims, so
        another engine (or the next start) resumes at once. Partial downloads are kept."""
        tasks = [*self._tasks, *self._downloads.running()]
        self._tasks = []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(StoreError):
            self.book.flush()
        # A submission still waiting for its answer keeps its claim: if this process ends
        # first, whoever takes the job over must treat it as uncertain.
        released = [i for i in self.book.ids() if not self._submitter.awaiting_answer(i)]
        try:
            self.store.release_jobs(self.owner, released)
        except StoreError:
            log.warning("could not release the claims of %s", self.owner, exc_info=True)
        for job_id in released:
            self._forget(job_id)

    async def wait(self, job_id: int) -> Job:
        """Wait until the job is in a final state (succeeded, failed, timed out, cancelled,
        submission uncertain) and return it; bound the wait with ``asyncio.timeout``. Changes
        made by other processes are noticed within ``flush_interval``."""
        while True:
            job = self._ctx.job(job_id)
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
        self._require_running()
        return await self._submitter.create(
            JobKind.IMAGE, JobProvider.SEEDREAM, "generate", model, prompt, params, conversation_id
        )

    async def submit_seedance(
        self, model: str, prompt: str, *, conversation_id: int | None = None, **params: Any
    ) -> Job:
        """Create a Seedance video task; ``params`` are those of
        ``AnyFastClient.create_seedance_task`` (frames and references may be local paths)."""
        self._require_running()
        return await self._submitter.create(
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
        self._require_running()
        return await self._submitter.create(
            JobKind.VIDEO, JobProvider.KLING, action, model, prompt, params, conversation_id
        )

    async def submit_request(
        self, request: MediaRequest, conversation_id: int | None = None
    ) -> Job:
        """Submit what a form or a ``/image``/``/video`` command asked for."""
        params = dict(request.params)
        if request.provider is JobProvider.SEEDREAM:
            return await self.submit_image(
                request.model, request.prompt, conversation_id=conversation_id, **params
            )
        if request.provider is JobProvider.SEEDANCE:
            return await self.submit_seedance(
                request.model, request.prompt, conversation_id=conversation_id, **params
            )
        params.pop("model_name", None)
        return await self.submit_kling(
            request.action,
            prompt=request.prompt,
            model_name=request.model,
            conversation_id=conversation_id,
            **params,
        )

    # -- actions on one job ----------------------------------------------------------------------

    async def _halt(self, job_id: int) -> None:
        """Stop this engine's work on a job and wait for its download to wind down."""
        task = self._downloads.task_of(job_id)
        self._forget(job_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def cancel(self, job_id: int) -> Job:
        """Stop tracking a job. The gateway has no cancel, so the task may still run and be
        billed; the job's message says so. Partial downloads are deleted, saved files kept."""
        job = self._ctx.job(job_id)
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
        job = self._ctx.job(job_id)
        self._require_running()
        return await self._submitter.create(
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
        job = self._ctx.job(job_id)
        await self._halt(job_id)
        removed = self.saver.delete(job, results=delete_files)
        self.store.delete_job(job_id)
        return removed

    # -- second looks (:mod:`studio.jobs.rechecking`) ---------------------------------------------

    async def recheck(self, job_id: int) -> Job:
        """Check a job again once (see :meth:`Rechecker.recheck`); :class:`JobActionError`
        says why there is nothing to check."""
        return await self._rechecker.recheck(job_id)

    async def resend(self, job_id: int) -> Job:
        """Send a submission of unknown fate again under its own idempotency key (see
        :meth:`Rechecker.resend`)."""
        self._require_running()
        return await self._rechecker.resend(job_id)

    async def attach_task(self, job_id: int, task_id: str) -> Job:
        """Adopt a task found in the AnyFast console into a taskless video job (see
        :meth:`Rechecker.attach_task`)."""
        self._require_running()
        return await self._rechecker.attach_task(job_id, task_id)
