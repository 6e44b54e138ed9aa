"""Sending a job's create request and recording what came of it: the answer, a refusal, an
ambiguous failure, or a group of images to save (client-guide §1: never a silent duplicate)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from studio.api.errors import AnyFastError, MediaInputError, ProtocolError
from studio.api.types import ImageResult, VideoTask
from studio.jobs.context import INTERRUPTED, EngineContext, short_error
from studio.jobs.downloads import Downloads
from studio.jobs.schedule import job_state_for, poll_delay, submit_delay
from studio.jobs.submission import prepare_params, send, trimmed
from studio.store.job_records import Job, JobKind, JobProvider, JobState

log = logging.getLogger("studio.jobs")


class Submitter:
    """Writes new jobs and sends their create requests, each under its idempotency key."""

    def __init__(self, ctx: EngineContext, downloads: Downloads) -> None:
        self._ctx = ctx
        self._downloads = downloads
        self._attempts: dict[int, int] = {}
        """Create requests of each job refused so far (for the back-off)."""
        self._waiting: set[int] = set()
        """Jobs whose create request a caller awaits (see :meth:`awaiting_answer`)."""

    def forget(self, job_id: int) -> None:
        """Stop counting a job's refused requests."""
        self._attempts.pop(job_id, None)

    def awaiting_answer(self, job_id: int) -> bool:
        """Whether a caller is still waiting for the answer to the job's create request: such a
        job keeps its claim when the engine stops, so whoever takes it over treats it as of
        unknown fate."""
        return job_id in self._waiting

    async def create(
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
        """Write the job (pending, fresh idempotency key, claimed here), then send it."""
        ctx = self._ctx
        stored = dict(params) if prepared else prepare_params(provider, action, params)
        job = ctx.store.create_job(
            kind=kind,
            provider=provider,
            action=action,
            model=model,
            prompt=prompt,
            params=stored,
            idempotency_key=str(uuid.uuid4()),
            conversation_id=conversation_id,
            retry_of=retry_of,
            claimed_by=ctx.owner,
            lease_until=ctx.clock() + ctx.config.lease,
        )
        ctx.book.adopt(job)
        ctx.book.notify(job)
        return await self.send(job)

    async def send(self, job: Job) -> Job:
        """:meth:`attempt` for a caller that waits for the answer."""
        self._waiting.add(job.id)
        try:
            return await self.attempt(job)
        finally:
            self._waiting.discard(job.id)

    async def attempt(self, job: Job) -> Job:
        """Send the create request of a pending job and record what came of it."""
        sent = False
        try:
            async with self._ctx.requests:
                sent = True
                answer = await send(self._ctx.client, job)
        except asyncio.CancelledError:
            if sent and not self._task_attached(job.id):
                self._ctx.uncertain(job.id, INTERRUPTED)
            raise
        except Exception as err:
            if self._task_attached(job.id):  # the user's task stands; this attempt is moot
                return self._settled(job, None)
            return self._failed(job, err)
        if isinstance(answer, ImageResult):
            return self._settled(job, self._images_answered(job, answer))
        return self._accepted(job, answer)

    def _task_attached(self, job_id: int) -> bool:
        """Whether the job, cancelled while its create request was out, has since been given
        a task by hand here (``attach_task`` claims it for this engine): nothing this request
        brings back may overwrite that."""
        held = self._ctx.book.get(job_id)
        return held is not None and held.task_id is not None

    def _failed(self, job: Job, err: Exception) -> Job:
        """Record why a create request failed."""
        if isinstance(err, AnyFastError):
            return self._refused(job, err)
        if isinstance(err, ValueError | TypeError):  # the client refused to build it: unsent
            reason = f"Studio could not build the request: {err}"
            return self._settled(
                job, self._ctx.end(job.id, JobState.FAILED, finished=True, failure_reason=reason)
            )
        log.error("sending job %d failed unexpectedly", job.id, exc_info=err)
        reason = f"Unexpected error while sending: {err}"
        return self._settled(job, self._ctx.uncertain(job.id, reason))

    def _settled(self, job: Job, written: Job | None) -> Job:
        return written or self._ctx.store.get_job(job.id) or job

    def _refused(self, job: Job, err: AnyFastError) -> Job:
        ctx = self._ctx
        now = ctx.clock()
        if err.uncertain or isinstance(err, ProtocolError):
            return self._settled(job, ctx.uncertain(job.id, str(err)))
        if not err.retryable or isinstance(err, MediaInputError):
            return self._settled(
                job, ctx.end(job.id, JobState.FAILED, finished=True, failure_reason=str(err))
            )
        # A 429 or a connection that never opened: the request surely did not arrive.
        attempts = self._attempts.get(job.id, 0) + 1
        self._attempts[job.id] = attempts
        # A job sent again (resend) has a deadline of its own; a new one, from its creation.
        limit = job.deadline_at or job.created_at + ctx.config.deadline
        if now >= limit:
            if any(state == JobState.SUBMISSION_UNCERTAIN.value for state, _ in job.history):
                # This attempt never got through, but the first one may have: still unknown.
                reason = f"Sent again, the gateway kept refusing it ({err})"
                return self._settled(job, ctx.uncertain(job.id, reason))
            reason = (
                f"The gateway kept refusing the request ({err}). It never got through, so "
                "nothing was billed; retry later."
            )
            return self._settled(
                job, ctx.end(job.id, JobState.FAILED, finished=True, failure_reason=reason)
            )
        delay = submit_delay(ctx.config, attempts, ctx.rng)
        message = f"{err.message}: sending again in {delay:.0f} s (same idempotency key)"
        ctx.book.note(
            job.id,
            notify=True,
            message=message,
            last_error=short_error(err),
            next_poll_at=now + delay,
        )
        ctx.scheduler.schedule(job.id, now + delay)
        return ctx.book.get(job.id) or job

    def _accepted(self, job: Job, task: VideoTask) -> Job:
        ctx = self._ctx
        now = ctx.clock()
        state = job_state_for(task.state, JobState.QUEUED)
        if state is not JobState.RUNNING:
            state = JobState.QUEUED  # a create answer is never final; the first check says
        delay = poll_delay(ctx.config, job.provider, 0, ctx.rng)
        fields: dict[str, Any] = {
            "task_id": task.task_id,
            "submitted_at": now,
            "deadline_at": now + ctx.config.deadline,
        }
        written = None
        if not self._task_attached(job.id):
            written = ctx.book.write(
                job.id,
                state=state,
                next_poll_at=now + delay,
                last_response=trimmed(task.raw),
                message=None,
                failure_reason=None,
                last_error=None,
                **fields,
            )
        self._attempts.pop(job.id, None)
        if written is None:  # cancelled (or released) while the request was out: keep the id,
            # unless the job has one by now (a task attached by hand is never replaced)
            current = ctx.store.get_job(job.id)
            if current is not None:
                if current.state is JobState.PENDING:
                    fields["state"] = state
                ctx.store.record_task_id(job.id, **fields)
            return self._settled(job, None)
        ctx.scheduler.schedule(job.id, now + delay)
        return written

    def _images_answered(self, job: Job, result: ImageResult) -> Job | None:
        ctx = self._ctx
        now = ctx.clock()
        errors: list[dict[str, Any]] = [
            {"index": i, "code": item.error_code, "message": item.error_message}
            for i, item in enumerate(result.items)
            if not item.ok
        ]
        good = [(i, item) for i, item in enumerate(result.items) if item.ok]
        good = [(i, item) for i, item in good if item.url or item.b64_json]
        summary = {
            "urls": [item.url for item in result.items],
            "errors": errors,
            "count": len(result.items),
            "finished_at": now,
        }
        common: dict[str, Any] = {
            "submitted_at": now,
            "started_at": now,
            "progress": 100,
            "result": summary,
            "last_response": trimmed(result.raw),
        }
        if not good:
            reason = "; ".join(f"image {e['index'] + 1}: {e['message']}" for e in errors)
            reason = reason or "The gateway answered with no images"
            return ctx.end(job.id, JobState.FAILED, finished=True, failure_reason=reason, **common)
        named = dataclasses.replace(job, submitted_at=now, result=summary)
        files = list(ctx.saver.plan(named, [(i, item.url) for i, item in good]))
        for n, (_, item) in enumerate(good):
            if item.b64_json and not item.url:
                files[n] = ctx.saver.save_inline(named, files[n], item.b64_json)
        message = None
        if errors:
            first = errors[0]["message"]
            message = f"{len(errors)} of {len(result.items)} images failed: {first}"
        written = ctx.book.write(
            job.id,
            state=JobState.DOWNLOADING,
            files=tuple(files),
            urls_expire_at=now + ctx.config.url_lifetime(job.provider),
            message=message,
            **common,
        )
        if written is not None:
            self._downloads.start(job.id)
        return written
