"""The job engine: image and video generation jobs that survive restarts. No Textual here.

``JobEngine`` (:mod:`studio.jobs.engine`) submits requests (written to the store first, sent with
an idempotency key), polls video tasks at each provider's cadence, saves every result in the
media folder with a sidecar, and resumes all of it after a restart. The job records it changes
belong to the store (:mod:`studio.store.job_records`); they are re-exported here for readers of
jobs. The engine itself is imported from its module: it loads httpx, which the TUI defers until
its first frame.
"""

from __future__ import annotations

from studio.jobs.config import EngineConfig
from studio.jobs.errors import JobActionError
from studio.jobs.schedule import job_state_for
from studio.store.job_records import (
    ACTIVE_STATES,
    Claim,
    Job,
    JobFile,
    JobKind,
    JobProvider,
    JobState,
    estimate_eta,
)

__all__ = [
    "ACTIVE_STATES",
    "Claim",
    "EngineConfig",
    "Job",
    "JobActionError",
    "JobFile",
    "JobKind",
    "JobProvider",
    "JobState",
    "estimate_eta",
    "job_state_for",
]
