"""The job engine's pure rules: cadence, backoff, state mapping, progress points and ETA."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from studio.api.types import TaskState
from studio.config import Settings
from studio.jobs import EngineConfig, JobProvider, JobState, estimate_eta, job_state_for
from studio.jobs.schedule import (
    TASK_TO_JOB,
    add_progress_point,
    error_delay,
    jittered,
    poll_delay,
    submit_delay,
)

CONFIG = EngineConfig(media_dir=Path("/nowhere"))


def rng() -> random.Random:
    return random.Random(7)


def test_default_cadence_follows_the_documented_intervals() -> None:
    assert CONFIG.interval(JobProvider.SEEDANCE) == 15.0
    assert 5.0 <= CONFIG.interval(JobProvider.KLING) <= 10.0
    assert CONFIG.max_concurrent_requests == 4


@pytest.mark.parametrize("provider", [JobProvider.SEEDANCE, JobProvider.KLING])
def test_first_checks_are_quick_then_the_cadence(provider: JobProvider) -> None:
    config = EngineConfig(media_dir=Path("/x"), jitter=0.0)
    delays = [poll_delay(config, provider, n, rng()) for n in range(6)]
    cadence = config.interval(provider)
    assert delays[:3] == [min(d, cadence) for d in (2.0, 4.0, 8.0)]
    assert delays[3:] == [cadence] * 3


def test_jitter_varies_the_rate_by_twenty_percent_and_keeps_its_average() -> None:
    r = rng()
    samples = [poll_delay(CONFIG, JobProvider.SEEDANCE, 10, r) for _ in range(20_000)]
    assert min(samples) >= 15.0 / 1.2
    assert max(samples) <= 15.0 / 0.8
    assert len({round(s, 3) for s in samples}) > 1000
    # Never more checks than the documented cadence, on average.
    mean_rate = sum(1 / s for s in samples) / len(samples)
    assert mean_rate == pytest.approx(1 / 15.0, rel=0.005)
    assert jittered(10.0, 0.0, r) == 10.0


def test_errors_back_off_exponentially_up_to_the_cap() -> None:
    config = EngineConfig(media_dir=Path("/x"), jitter=0.0, error_backoff_max=100.0)
    delays = [error_delay(config, JobProvider.SEEDANCE, n, rng()) for n in range(1, 6)]
    assert delays == [30.0, 60.0, 100.0, 100.0, 100.0]
    assert all(d > config.interval(JobProvider.SEEDANCE) for d in delays)


def test_submission_retries_back_off_too() -> None:
    config = EngineConfig(media_dir=Path("/x"), jitter=0.0, submit_backoff=2.0)
    assert [submit_delay(config, n, rng()) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    capped = EngineConfig(media_dir=Path("/x"), jitter=0.0, error_backoff_max=5.0)
    assert submit_delay(capped, 10, rng()) == 5.0


@pytest.mark.parametrize(
    ("task", "current", "expected"),
    [
        (TaskState.PENDING, JobState.QUEUED, JobState.QUEUED),
        (TaskState.QUEUED, JobState.QUEUED, JobState.QUEUED),
        (TaskState.RUNNING, JobState.QUEUED, JobState.RUNNING),
        (TaskState.SUCCEEDED, JobState.RUNNING, JobState.DOWNLOADING),
        (TaskState.FAILED, JobState.RUNNING, JobState.FAILED),
        (TaskState.UNKNOWN, JobState.QUEUED, JobState.QUEUED),
        (TaskState.UNKNOWN, JobState.RUNNING, JobState.RUNNING),
        (TaskState.UNKNOWN, JobState.TIMED_OUT, JobState.RUNNING),
    ],
)
def test_task_states_map_to_job_states(
    task: TaskState, current: JobState, expected: JobState
) -> None:
    assert job_state_for(task, current) is expected


def test_every_task_state_but_unknown_has_a_mapping() -> None:
    assert set(TASK_TO_JOB) == set(TaskState) - {TaskState.UNKNOWN}
    assert all(not state.is_active for state in (JobState.FAILED, JobState.TIMED_OUT))
    assert JobState.DOWNLOADING.is_active
    assert JobState.SUBMISSION_UNCERTAIN.is_final


def test_progress_points_record_changes_only_and_stay_bounded() -> None:
    points: tuple[tuple[float, int], ...] = ()
    for at, progress in [(0, 10), (1, 10), (2, 30), (3, 30), (4, 50)]:
        points = add_progress_point(points, float(at), progress, keep=12)
    assert points == ((0.0, 10), (2.0, 30), (4.0, 50))
    for n in range(30):
        points = add_progress_point(points, 10.0 + n, 51 + n, keep=5)
    assert len(points) == 5
    assert points[-1] == (39.0, 80)


def test_eta_needs_two_different_points() -> None:
    assert estimate_eta((), 0.0) is None
    assert estimate_eta(((0.0, 30),), 5.0) is None
    assert estimate_eta(((0.0, 30), (5.0, 30)), 5.0) is None
    assert estimate_eta(((0.0, 50), (5.0, 40)), 5.0) is None  # going backwards


def test_eta_is_a_linear_estimate_from_the_trend() -> None:
    # 10 % per second from 30 % at t=0: 100 % at t=7.
    points = ((0.0, 30), (2.0, 50), (4.0, 70))
    assert estimate_eta(points, 4.0) == pytest.approx(3.0)
    assert estimate_eta(points, 6.0) == pytest.approx(1.0)
    assert estimate_eta(points, 9.0) == 0.0


def test_scaled_config_shrinks_every_pacing_duration() -> None:
    small = CONFIG.scaled(0.01)
    assert small.first_checks == pytest.approx((0.02, 0.04, 0.08))
    assert small.interval(JobProvider.SEEDANCE) == pytest.approx(0.15)
    assert small.deadline == pytest.approx(18.0)
    assert small.lease == pytest.approx(0.3)
    assert small.url_lifetime(JobProvider.KLING) == CONFIG.url_lifetime(JobProvider.KLING)
    assert CONFIG.url_lifetime(JobProvider.SEEDANCE) == 24 * 3600


def test_config_from_settings_uses_media_dir_and_deadline(tmp_path: Path) -> None:
    settings = Settings(media_dir=str(tmp_path / "m"), job_deadline_minutes=12)
    config = EngineConfig.from_settings(settings, lease=5.0)
    assert config.media_dir == tmp_path / "m"
    assert config.deadline == 720.0
    assert config.lease == 5.0
    default = EngineConfig.from_settings(Settings())
    assert default.media_dir.name == "media"
    demo = EngineConfig.demo(tmp_path)
    assert demo.interval(JobProvider.SEEDANCE) < 5
