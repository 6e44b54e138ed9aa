"""What happens when a job's create request is sent: the answer, a refusal, an ambiguous
failure, or a group of images to save (client-guide §1: never a silent duplicate)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from studio.api.errors import AnyFastError, MediaInputError, ProtocolError
from studio.api.types import ImageResult, VideoTask
from studio.jobs.core import INTERRUPTED, UNCERTAIN_MESSAGE, EngineCore, short_error
from studio.jobs.models import Job, JobState
from studio.jobs.schedule import job_state_for, poll_delay, submit_delay
from studio.jobs.submission import send, trimmed

log = logging.getLogger("studio.jobs")


class SubmittingEngine(EngineCore):
    """The submission half of the engine's transitions."""

    async def _attempt_submit(self, job: Job) -> Job:
        """Send the create request of a pending job and record what came of it."""
        sent = False
        try:
            async with self._api:
                sent = True
                answer = await send(self.client, job)
        except asyncio.CancelledError:
            if sent and not self._task_attached(job.id):
                self._end(
                    job.id,
                    JobState.SUBMISSION_UNCERTAIN,
                    finished=False,
                    failure_reason=INTERRUPTED,
                    message=UNCERTAIN_MESSAGE,
                )
            raise
        except Exception as err:
            if self._task_attached(job.id):  # the user's task stands; this attempt is moot
                return self._settled(job, None)
            return self._submit_failed(job, err)
        if isinstance(answer, ImageResult):
            return self._settled(job, self._images_answered(job, answer))
        return self._accepted(job, answer)

    def _task_attached(self, job_id: int) -> bool:
        """Whether the job, cancelled while its create request was out, has since been given
        a task by hand here (:meth:`attach_task` claims it for this engine): nothing this
        request brings back may overwrite that."""
        held = self.book.get(job_id)
        return held is not None and held.task_id is not None

    def _submit_failed(self, job: Job, err: Exception) -> Job:
        """Record why a create request failed."""
        if isinstance(err, AnyFastError):
            return self._submit_refused(job, err)
        if isinstance(err, ValueError | TypeError):  # the client refused to build it: unsent
            reason = f"Studio could not build the request: {err}"
            return self._settled(
                job, self._end(job.id, JobState.FAILED, finished=True, failure_reason=reason)
            )
        log.error("sending job %d failed unexpectedly", job.id, exc_info=err)
        reason = f"Unexpected error while sending: {err}"
        return self._settled(job, self._uncertain(job.id, reason))

    def _settled(self, job: Job, written: Job | None) -> Job:
        return written or self.store.get_job(job.id) or job

    def _uncertain(self, job_id: int, reason: str) -> Job | None:
        return self._end(
            job_id,
            JobState.SUBMISSION_UNCERTAIN,
            finished=False,
            failure_reason=reason,
            message=UNCERTAIN_MESSAGE,
        )

    def _submit_refused(self, job: Job, err: AnyFastError) -> Job:
        now = self.clock()
        if err.uncertain or isinstance(err, ProtocolError):
            return self._settled(job, self._uncertain(job.id, str(err)))
        if not err.retryable or isinstance(err, MediaInputError):
            return self._settled(
                job, self._end(job.id, JobState.FAILED, finished=True, failure_reason=str(err))
            )
        # A 429 or a connection that never opened: the request surely did not arrive.
        attempts = self._submit_attempts.get(job.id, 0) + 1
        self._submit_attempts[job.id] = attempts
        # A job sent again (resend) has a deadline of its own; a new one, from its creation.
        limit = job.deadline_at or job.created_at + self.config.deadline
        if now >= limit:
            if any(state == JobState.SUBMISSION_UNCERTAIN.value for state, _ in job.history):
                # This attempt never got through, but the first one may have: still unknown.
                reason = f"Sent again, the gateway kept refusing it ({err})"
                return self._settled(job, self._uncertain(job.id, reason))
            reason = (
                f"The gateway kept refusing the request ({err}). It never got through, so "
                "nothing was billed; retry later."
            )
            return self._settled(
                job, self._end(job.id, JobState.FAILED, finished=True, failure_reason=reason)
            )
        delay = submit_delay(self.config, attempts, self._rng)
        message = f"{err.message}: sending again in {delay:.0f} s (same idempotency key)"
        self.book.note(
            job.id,
            notify=True,
            message=message,
            last_error=short_error(err),
            next_poll_at=now + delay,
        )
        self.scheduler.schedule(job.id, now + delay)
        return self.book.get(job.id) or job

    def _accepted(self, job: Job, task: VideoTask) -> Job:
        now = self.clock()
        state = job_state_for(task.state, JobState.QUEUED)
        if state is not JobState.RUNNING:
            state = JobState.QUEUED  # a create answer is never final; the first check says
        delay = poll_delay(self.config, job.provider, 0, self._rng)
        fields: dict[str, Any] = {
            "task_id": task.task_id,
            "submitted_at": now,
            "deadline_at": now + self.config.deadline,
        }
        written = None
        if not self._task_attached(job.id):
            written = self.book.write(
                job.id,
                state=state,
                next_poll_at=now + delay,
                last_response=trimmed(task.raw),
                message=None,
                failure_reason=None,
                last_error=None,
                **fields,
            )
        self._submit_attempts.pop(job.id, None)
        if written is None:  # cancelled (or released) while the request was out: keep the id,
            # unless the job has one by now (a task attached by hand is never replaced)
            current = self.store.get_job(job.id)
            if current is not None:
                if current.state is JobState.PENDING:
                    fields["state"] = state
                self.store.record_task_id(job.id, **fields)
            return self._settled(job, None)
        self.scheduler.schedule(job.id, now + delay)
        return written

    def _images_answered(self, job: Job, result: ImageResult) -> Job | None:
        now = self.clock()
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
            return self._end(
                job.id, JobState.FAILED, finished=True, failure_reason=reason, **common
            )
        named = dataclasses.replace(job, submitted_at=now, result=summary)
        files = list(self.saver.plan(named, [(i, item.url) for i, item in good]))
        for n, (_, item) in enumerate(good):
            if item.b64_json and not item.url:
                files[n] = self.saver.save_inline(named, files[n], item.b64_json)
        message = None
        if errors:
            first = errors[0]["message"]
            message = f"{len(errors)} of {len(result.items)} images failed: {first}"
        lifetime = self.config.url_lifetime(job.provider)
        written = self.book.write(
            job.id,
            state=JobState.DOWNLOADING,
            files=tuple(files),
            urls_expire_at=now + lifetime,
            message=message,
            **common,
        )
        if written is not None:
            self._start_download(job.id)
        return written
