"""The job records the store persists: job states, kinds, providers, result files and jobs.

Plain frozen dataclasses and ``StrEnum``\\s, owned by the store (which persists them) and read
by the job engine (which changes them through the store); nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class JobState(enum.StrEnum):
    """Where a job is in its life."""

    PENDING = "pending"
    """Written; the request is not sent yet, or its answer has not arrived."""
    SUBMISSION_UNCERTAIN = "submission_uncertain"
    """The request may or may not have reached the gateway; only the user may resubmit."""
    QUEUED = "queued"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    SUCCEEDED = "succeeded"
    """Finished, every result file saved."""
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    """Still unfinished at its deadline; no longer polled, but it can be checked again."""
    CANCELLED = "cancelled"
    """No longer tracked at the user's request (the gateway itself has no cancel)."""

    @property
    def is_active(self) -> bool:
        """Whether an engine works on jobs in this state."""
        return self in ACTIVE_STATES

    @property
    def is_final(self) -> bool:
        """Whether nothing more happens to the job unless the user asks."""
        return not self.is_active


ACTIVE_STATES = frozenset(
    {JobState.PENDING, JobState.QUEUED, JobState.RUNNING, JobState.DOWNLOADING}
)


class JobKind(enum.StrEnum):
    """What a job makes."""

    IMAGE = "image"
    VIDEO = "video"


class JobProvider(enum.StrEnum):
    """Which model family serves a job."""

    SEEDREAM = "seedream"
    SEEDANCE = "seedance"
    KLING = "kling"


@dataclass(frozen=True, slots=True)
class JobFile:
    """One result of a job and where it is (or will be) saved."""

    index: int
    url: str | None
    path: str
    size: int | None = None
    done: bool = False
    error: str | None = None
    content_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form kept in the ``files`` column."""
        return {
            "index": self.index,
            "url": self.url,
            "path": self.path,
            "size": self.size,
            "done": self.done,
            "error": self.error,
            "content_type": self.content_type,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobFile:
        """Read one entry of the ``files`` column."""
        return cls(
            index=int(data.get("index", 0)),
            url=data.get("url"),
            path=str(data.get("path", "")),
            size=data.get("size"),
            done=bool(data.get("done")),
            error=data.get("error"),
            content_type=data.get("content_type"),
        )


@dataclass(frozen=True, slots=True)
class Job:
    """One generation job as stored. Timestamps are epoch seconds."""

    id: int
    kind: JobKind
    provider: JobProvider
    action: str
    model: str
    prompt: str
    params: dict[str, Any] = field(repr=False)
    conversation_id: int | None
    retry_of: int | None
    state: JobState
    task_id: str | None
    idempotency_key: str = field(repr=False)
    progress: int
    progress_points: tuple[tuple[float, int], ...]
    result: dict[str, Any] = field(repr=False)
    files: tuple[JobFile, ...]
    failure_reason: str | None
    message: str | None
    last_response: dict[str, Any] | None = field(repr=False)
    history: tuple[tuple[str, float], ...]
    created_at: float
    submitted_at: float | None
    started_at: float | None
    finished_at: float | None
    updated_at: float
    deadline_at: float | None
    next_poll_at: float | None
    poll_count: int
    urls_expire_at: float | None
    claimed_by: str | None
    lease_until: float | None
    last_error: str | None = None
    """A short reason for the last failed attempt to send or check it ("HTTP 500"), or None."""
    bytes_done: int | None = None
    """Bytes of its results saved so far while they download (all files together)."""
    bytes_total: int | None = None
    """Bytes its results will take, once every file's size is known."""
    bytes_rate: float | None = None
    """The recent download rate, bytes per second."""

    @property
    def stopped_at(self) -> float | None:
        """When the job stopped moving: its end, or when it entered a state no engine works on
        (uncertain, timed out, cancelled); ``None`` while it is active."""
        if self.state.is_active:
            return None
        if self.finished_at is not None:
            return self.finished_at
        for state, at in reversed(self.history):
            if state == self.state.value:
                return at
        return self.updated_at

    def elapsed(self, now: float) -> float:
        """Seconds since the job was created, up to now or to when it stopped."""
        end = self.stopped_at
        return max(0.0, (now if end is None else end) - self.created_at)

    def eta(self, now: float) -> float | None:
        """Seconds until the task should finish, from the progress trend (least squares over
        the recorded progress changes); ``None`` until the progress has changed at least once
        after the first reading, or once the job is no longer queued or running."""
        if self.state not in (JobState.QUEUED, JobState.RUNNING):
            return None
        return estimate_eta(self.progress_points, now)


@dataclass(frozen=True, slots=True)
class Claim:
    """A job an engine just claimed, and who held it before (``None``: nobody, or released)."""

    job: Job
    previous_owner: str | None


def estimate_eta(points: Sequence[tuple[float, int]], now: float) -> float | None:
    """Seconds until progress reaches 100 %, by a linear fit of ``(at, percent)`` points.

    ``None`` with fewer than two points of different progress, or when the trend is flat or
    falling.
    """
    if len(points) < 2 or len({p for _, p in points}) < 2:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_p = sum(p for _, p in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var <= 0:
        return None
    slope = sum((t - mean_t) * (p - mean_p) for t, p in points) / var
    if slope <= 0:
        return None
    finish_at = mean_t + (100 - mean_p) / slope
    return max(0.0, finish_at - now)
