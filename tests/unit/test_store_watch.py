"""JobWatcher: what another connection changed in the jobs table, found cheaply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.jobs import Job, JobKind, JobProvider, JobState
from studio.store import Store
from studio.store.watch import JobWatcher


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two connections to one file, as two windows have."""
    path = tmp_path / "studio.db"
    with Store.open(path) as a, Store.open(path) as b:
        yield a, b


def new_job(store: Store, n: int = 1, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "kind": JobKind.VIDEO,
        "provider": JobProvider.SEEDANCE,
        "action": "generate",
        "model": "seedance-2.0",
        "prompt": f"a paper boat {n}",
        "params": {},
        "idempotency_key": f"key-{n}",
    }
    values.update(changes)
    return store.create_job(**values)


def test_data_version_moves_only_for_other_connections(two: tuple[Store, Store]) -> None:
    a, b = two
    before_a, before_b = a.data_version(), b.data_version()
    new_job(a)
    assert a.data_version() == before_a  # its own commit
    assert b.data_version() != before_b
    assert b.data_version() == b.data_version()  # steady until the next foreign commit


def test_the_first_poll_reports_every_job_then_nothing(two: tuple[Store, Store]) -> None:
    a, b = two
    jobs = [new_job(a, n) for n in range(1, 4)]
    watcher = JobWatcher(b)
    first = watcher.poll()
    assert first is not None
    assert [j.id for j in first.changed] == [j.id for j in reversed(jobs)]
    assert not first.removed
    assert watcher.poll() is None  # nobody committed since


def test_only_the_changed_job_is_reported(two: tuple[Store, Store]) -> None:
    a, b = two
    jobs = [new_job(a, n) for n in range(1, 6)]
    watcher = JobWatcher(b)
    watcher.poll()
    a.update_job(jobs[2].id, state=JobState.SUCCEEDED, progress=100)
    changes = watcher.poll()
    assert changes is not None
    assert [(j.id, j.state, j.progress) for j in changes.changed] == [
        (jobs[2].id, JobState.SUCCEEDED, 100)
    ]
    assert changes.changed[0] == a.get_job(jobs[2].id)
    assert watcher.poll() is None


def test_new_and_removed_jobs_are_reported(two: tuple[Store, Store]) -> None:
    a, b = two
    first, second = new_job(a, 1), new_job(a, 2)
    watcher = JobWatcher(b)
    watcher.poll()
    a.delete_job(first.id)
    third = new_job(a, 3)
    changes = watcher.poll()
    assert changes is not None
    assert [j.id for j in changes.changed] == [third.id]
    assert changes.removed == {first.id}
    assert second.id not in changes.removed


def test_a_foreign_commit_elsewhere_reports_nothing(two: tuple[Store, Store]) -> None:
    a, b = two
    new_job(a)
    watcher = JobWatcher(b)
    watcher.poll()
    a.create_conversation(title="unrelated")
    changes = watcher.poll()
    assert changes is not None and not changes  # looked, found nothing about jobs


def test_own_writes_noted_as_seen_are_not_reported_again(two: tuple[Store, Store]) -> None:
    a, b = two
    job = new_job(a)
    watcher = JobWatcher(b)
    watcher.poll()
    mine = b.update_job(job.id, progress=40)  # b's own write: its data_version stays
    assert mine is not None
    assert watcher.poll() is None
    watcher.seen([mine])
    new_job(a, 2)
    changes = watcher.poll()
    assert changes is not None
    assert [j.id for j in changes.changed] == [job.id + 1]


def test_only_the_newest_jobs_are_watched(two: tuple[Store, Store]) -> None:
    a, b = two
    jobs = [new_job(a, n) for n in range(1, 6)]
    watcher = JobWatcher(b, window=3)
    first = watcher.poll()
    assert first is not None
    assert [j.id for j in first.changed] == [j.id for j in reversed(jobs[2:])]
    new_job(a, 6)  # jobs[2] falls out of the window: it is not reported removed
    changes = watcher.poll()
    assert changes is not None
    assert [j.id for j in changes.changed] == [jobs[-1].id + 1]
    assert not changes.removed
