"""A job as plain JSON: what ``studio jobs show --json`` and ``jobs list --json`` print and what a
``notify_command`` reads on its stdin.

The shape is stable (documented in the README): new keys may be added, none renamed or removed
without raising ``JOB_JSON_VERSION``. Times are epoch seconds (``null`` when not reached); the
idempotency key, the claim and the raw last response stay out (bookkeeping, not the user's).
"""

from __future__ import annotations

from typing import Any

from studio.store.job_records import Job, JobFile

JOB_JSON_VERSION = 1


def file_payload(item: JobFile) -> dict[str, Any]:
    """One result file: where it is saved, whether it is, its size and any error."""
    return {
        "index": item.index,
        "path": item.path,
        "saved": item.done,
        "size": item.size,
        "content_type": item.content_type,
        "url": item.url,
        "error": item.error,
    }


def job_payload(job: Job) -> dict[str, Any]:
    """``job`` as a JSON-ready dict (see the module's docstring)."""
    return {
        "version": JOB_JSON_VERSION,
        "id": job.id,
        "kind": job.kind.value,
        "provider": job.provider.value,
        "action": job.action,
        "model": job.model,
        "prompt": job.prompt,
        "params": job.params,
        "state": job.state.value,
        "active": job.state.is_active,
        "progress": job.progress,
        "task_id": job.task_id,
        "conversation_id": job.conversation_id,
        "retry_of": job.retry_of,
        "failure_reason": job.failure_reason,
        "last_error": job.last_error,
        "created_at": job.created_at,
        "submitted_at": job.submitted_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "deadline_at": job.deadline_at,
        "urls_expire_at": job.urls_expire_at,
        "files": [file_payload(item) for item in job.files],
    }
