"""Facts about a job for the places that describe it (the sidebar, the job view, the reports
in conversations). Plain data over :class:`~studio.store.job_records.Job`: no Textual here."""

from __future__ import annotations

from studio.store.job_records import Job


def item_errors(job: Job) -> list[dict[str, object]]:
    """The failed images of a group (the rest succeeded), as recorded by the engine."""
    errors = job.result.get("errors") if isinstance(job.result, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
