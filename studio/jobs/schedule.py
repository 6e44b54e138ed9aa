"""The pure rules of the engine: when to check next, how to back off, which state a task
answer puts a job in, and how progress points are kept for the ETA."""

from __future__ import annotations

import random

from studio.api.types import TaskState
from studio.jobs.config import EngineConfig
from studio.store.job_records import JobProvider, JobState

TASK_TO_JOB: dict[TaskState, JobState] = {
    TaskState.PENDING: JobState.QUEUED,
    TaskState.QUEUED: JobState.QUEUED,
    TaskState.RUNNING: JobState.RUNNING,
    TaskState.SUCCEEDED: JobState.DOWNLOADING,
    TaskState.FAILED: JobState.FAILED,
}
"""A task's normalised state → its job's state. ``UNKNOWN`` keeps the job where it was."""


def job_state_for(task: TaskState, current: JobState) -> JobState:
    """The job state after the gateway reported ``task`` for a job now in ``current``.

    A task that exists but has not started (``pending``) is ``queued`` from the job's point of
    view; a finished task still has its results to download. An unrecognised status leaves a
    queued or running job as it is (anything else becomes running: the task exists).
    """
    mapped = TASK_TO_JOB.get(task)
    if mapped is not None:
        return mapped
    return current if current in (JobState.QUEUED, JobState.RUNNING) else JobState.RUNNING


def jittered(seconds: float, jitter: float, rng: random.Random) -> float:
    """``seconds`` jittered by up to ``jitter`` (a fraction) either way *in rate*:
    ``seconds / (1 + u)`` with ``u`` uniform in ``[-jitter, jitter]``.

    Jittering the rate rather than the delay keeps the average rate at exactly one check per
    ``seconds`` (a symmetric jitter on the delay would check ~1.4 % too often at ±20 %), so a
    job never polls faster than its documented cadence on average.
    """
    jitter = min(max(jitter, 0.0), 0.9)
    return max(0.0, seconds / (1.0 + rng.uniform(-jitter, jitter)))


def poll_delay(
    config: EngineConfig, provider: JobProvider, checks_done: int, rng: random.Random
) -> float:
    """Seconds until the next check of a task already checked ``checks_done`` times (0 right
    after it was created): the quick first checks, then the provider's cadence, jittered."""
    cadence = config.interval(provider)
    base = cadence
    if checks_done < len(config.first_checks):
        base = min(config.first_checks[checks_done], cadence)
    return jittered(base, config.jitter, rng)


def error_delay(
    config: EngineConfig, provider: JobProvider, errors: int, rng: random.Random
) -> float:
    """Seconds until the next check after ``errors`` (≥ 1) failed checks in a row (429, 5xx,
    network): the cadence doubled per error, capped at ``error_backoff_max``, jittered."""
    cadence = config.interval(provider)
    cap = max(config.error_backoff_max, cadence)
    base = min(cadence * 2 ** max(1, errors), cap)
    return jittered(base, config.jitter, rng)


def submit_delay(config: EngineConfig, attempts: int, rng: random.Random) -> float:
    """Seconds before sending again a create refused ``attempts`` (≥ 1) times with a 429 or a
    connection error that surely kept it from the gateway."""
    base = min(config.submit_backoff * 2 ** max(0, attempts - 1), config.error_backoff_max)
    return jittered(base, config.jitter, rng)


def add_progress_point(
    points: tuple[tuple[float, int], ...], at: float, progress: int, keep: int
) -> tuple[tuple[float, int], ...]:
    """``points`` with ``(at, progress)`` appended when the progress changed (the newest
    ``keep`` are kept)."""
    if points and points[-1][1] == progress:
        return points
    return (*points, (at, progress))[-max(2, keep) :]
