"""Every timing and limit of the job engine, in one frozen value.

The defaults follow the gateway's documented cadence (``anyfast-api.md`` §4.3: poll Seedance
about every 15 s; §5.3: Kling every 5–10 s). Tests and the ``--demo`` emulator scale them down
with :meth:`EngineConfig.scaled` so a whole job runs in seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio import paths
from studio.config import Settings
from studio.store.job_records import JobProvider

HOUR = 3600.0
DAY = 24 * HOUR

_TIMINGS = (
    "seedance_interval",
    "kling_interval",
    "error_backoff_max",
    "submit_backoff",
    "deadline",
    "lease",
    "claim_interval",
    "flush_interval",
)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How the job engine paces itself. All durations are seconds."""

    media_dir: Path
    """Where results are saved (created owner-only when first needed); made absolute against
    the working directory when the configuration is made, so the file paths recorded in the
    store stay right whichever directory they are read from."""
    first_checks: tuple[float, ...] = (2.0, 4.0, 8.0)
    """Delays before the first few checks of a new task, before the regular cadence."""
    seedance_interval: float = 15.0
    kling_interval: float = 7.0
    jitter: float = 0.2
    """Each check rate is varied by up to this fraction either way, so jobs do not poll in
    step (the average rate stays at the cadence)."""
    error_backoff_max: float = 300.0
    """The longest pause after repeated 429s, 5xx answers or network errors."""
    submit_backoff: float = 2.0
    """First pause before sending again a create the gateway refused with 429 (doubles)."""
    deadline: float = 30 * 60.0
    """How long a task may run before its job is marked timed out."""
    max_concurrent_requests: int = 4
    """The cap on gateway requests in flight at once (submissions and checks together)."""
    max_concurrent_downloads: int = 4
    lease: float = 30.0
    """How long a claim on a job holds without renewal (renewed every third of it)."""
    claim_interval: float = 10.0
    """How often to look for jobs another engine left behind."""
    flush_interval: float = 1.0
    """How often buffered bookkeeping (progress, poll counts) is written, in one transaction."""
    claim_batch: int = 1000
    progress_points: int = 12
    """How many progress changes are kept for the ETA."""
    url_lifetimes: tuple[tuple[JobProvider, float], ...] = (
        (JobProvider.SEEDREAM, DAY),
        (JobProvider.SEEDANCE, DAY),
        (JobProvider.KLING, 30 * DAY),
    )
    owner: str | None = None
    """The claim name; ``None`` means ``host:pid#n``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "media_dir", paths.absolute(self.media_dir))

    def interval(self, provider: JobProvider) -> float:
        """The regular polling cadence for ``provider``."""
        if provider is JobProvider.KLING:
            return self.kling_interval
        return self.seedance_interval

    def url_lifetime(self, provider: JobProvider) -> float:
        """How long result links of ``provider`` stay valid."""
        return dict(self.url_lifetimes).get(provider, DAY)

    def scaled(self, factor: float) -> EngineConfig:
        """A copy with every pacing duration multiplied by ``factor`` (link lifetimes kept)."""
        changes: dict[str, Any] = {name: getattr(self, name) * factor for name in _TIMINGS}
        changes["first_checks"] = tuple(d * factor for d in self.first_checks)
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> EngineConfig:
        """The configuration for the user's settings (media folder, job deadline)."""
        values: dict[str, Any] = {
            "media_dir": paths.media_dir(settings.media_dir),
            "deadline": float(settings.job_deadline_minutes) * 60.0,
        }
        values.update(overrides)
        return cls(**values)

    @classmethod
    def demo(cls, media_dir: Path, **overrides: Any) -> EngineConfig:
        """Quick pacing for ``--demo``, where the emulator finishes a video in seconds."""
        values: dict[str, Any] = {
            "media_dir": media_dir,
            "first_checks": (0.5, 1.0),
            "seedance_interval": 2.0,
            "kling_interval": 1.5,
            "error_backoff_max": 10.0,
            "submit_backoff": 1.0,
            "deadline": 5 * 60.0,
        }
        values.update(overrides)
        return cls(**values)
