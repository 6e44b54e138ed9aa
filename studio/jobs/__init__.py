"""The job engine: image and video generation jobs that survive restarts. No Textual here.

``JobEngine`` submits requests (written to the store first, sent with an idempotency key),
polls video tasks at each provider's cadence, saves every result in the media folder with a
sidecar, and resumes all of it after a restart. See :mod:`studio.jobs.engine`.

The store persists the values of :mod:`studio.jobs.models`, so this package imports only those
eagerly; the engine and its configuration load on first use (no import cycle with the store).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.jobs.models import (
    ACTIVE_STATES,
    Claim,
    Job,
    JobActionError,
    JobFile,
    JobKind,
    JobProvider,
    JobState,
    estimate_eta,
)
from studio.lazy import lazy_attributes

if TYPE_CHECKING:
    from studio.jobs.config import EngineConfig
    from studio.jobs.engine import JobEngine
    from studio.jobs.schedule import job_state_for
    from studio.jobs.submission import JobRequestError

_LAZY = {
    "EngineConfig": "studio.jobs.config",
    "JobEngine": "studio.jobs.engine",
    "JobRequestError": "studio.jobs.submission",
    "job_state_for": "studio.jobs.schedule",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "ACTIVE_STATES",
    "Claim",
    "EngineConfig",
    "Job",
    "JobActionError",
    "JobEngine",
    "JobFile",
    "JobKind",
    "JobProvider",
    "JobRequestError",
    "JobState",
    "estimate_eta",
    "job_state_for",
]
