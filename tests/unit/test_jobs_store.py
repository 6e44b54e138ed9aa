"""The jobs table: create, read, update with history, batch writes, claims and leases."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.jobs import Job, JobFile, JobKind, JobProvider, JobState
from studio.store import NotFoundError, Store
from studio.store.job_claims import CLAIMABLE_SQL
from studio.store.processes import HOST, engine_owner, owner_alive


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with Store.open(tmp_path / "jobs.db", clock=clock) as s:
        yield s


def new_job(store: Store, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "kind": JobKind.VIDEO,
        "provider": JobProvider.KLING,
        "action": "text2video",
        "model": "kling-v1",
        "prompt": "a paper boat",
        "params": {"duration": "5", "images": ["data:image/png;base64,AAAA"]},
        "idempotency_key": "key-1",
    }
    values.update(changes)
    return store.create_job(**values)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_migration_adds_the_table_and_its_indexes(store: Store, tmp_path: Path) -> None:
    assert store.schema_version >= 2  # later migrations keep the jobs table
    with sqlite3.connect(tmp_path / "jobs.db") as raw:
        raw.create_function("studio_owner_dead", 1, lambda owner: False)
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        plan = " ".join(
            str(r[3]) for r in raw.execute(f"EXPLAIN QUERY PLAN {CLAIMABLE_SQL}", (0.0, 10))
        )
    assert {"jobs", "jobs_unfinished", "jobs_created", "jobs_conversation"} <= names
    assert "jobs_unfinished" in plan


def test_create_and_read_back(store: Store, clock: Clock) -> None:
    job = new_job(store, claimed_by="me", lease_until=5.0)
    assert job.state is JobState.PENDING
    assert job.params == {"duration": "5", "images": ["data:image/png;base64,AAAA"]}
    assert job.history == (("pending", job.created_at),)
    assert job.claimed_by == "me"
    assert job.task_id is None
    assert store.get_job(job.id) == job
    assert store.get_job(job.id + 100) is None


def test_updates_append_state_history_and_encode_json(store: Store) -> None:
    job = new_job(store)
    files = (JobFile(0, "https://x/v.mp4", "/m/v.mp4", 10, True, None, "video/mp4"),)
    updated = store.update_job(
        job.id,
        state=JobState.QUEUED,
        task_id="123",
        files=files,
        progress_points=((1.0, 10), (2.0, 30)),
        last_response={"code": "success"},
    )
    assert updated is not None
    assert updated.state is JobState.QUEUED
    assert [s for s, _ in updated.history] == ["pending", "queued"]
    assert updated.files == files
    assert updated.progress_points == ((1.0, 10), (2.0, 30))
    assert updated.last_response == {"code": "success"}
    same = store.update_job(job.id, state=JobState.QUEUED, progress=10)
    assert same is not None and len(same.history) == 2
    with pytest.raises(ValueError, match="cannot change"):
        store.update_job(job.id, prompt="sneaky")
    with pytest.raises(NotFoundError):
        store.update_job(999, progress=1)


def test_owner_guarded_updates(store: Store) -> None:
    job = new_job(store, claimed_by="a", lease_until=10.0)
    assert store.update_job(job.id, owner="b", progress=50) is None
    assert store.update_job(job.id, owner="a", progress=50) is not None
    other = new_job(store, claimed_by="b", lease_until=10.0)
    skipped = store.update_jobs(
        {job.id: {"poll_count": 3}, other.id: {"poll_count": 4}, 999: {"poll_count": 1}},
        owner="a",
    )
    assert skipped == {other.id, 999}
    assert store.get_job(job.id).poll_count == 3  # type: ignore[union-attr]
    assert store.get_job(other.id).poll_count == 0  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="state"):
        store.update_jobs({job.id: {"state": JobState.FAILED}}, owner="a")


def test_list_jobs_newest_first_and_by_state(store: Store) -> None:
    first = new_job(store)
    second = new_job(store, idempotency_key="k2")
    store.update_job(second.id, state=JobState.SUCCEEDED)
    assert [j.id for j in store.list_jobs()] == [second.id, first.id]
    assert [j.id for j in store.list_jobs(states=[JobState.PENDING])] == [first.id]
    assert store.list_jobs(states=[]) == []
    assert len(store.list_jobs(limit=1)) == 1


def test_claims_skip_live_leases_and_take_expired_released_or_dead(store: Store) -> None:
    now = 1_000.0
    free = new_job(store)
    live = new_job(store, claimed_by=f"{HOST}:{__import__('os').getpid()}#99", lease_until=now + 30)
    elsewhere = new_job(store, claimed_by="other-host:1#1", lease_until=now + 30)
    expired = new_job(store, claimed_by="other-host:1#1", lease_until=now - 1)
    dead = new_job(store, claimed_by=f"{HOST}:{dead_pid()}#1", lease_until=now + 30)
    finished = new_job(store)
    store.update_job(finished.id, state=JobState.SUCCEEDED)
    claims = store.claim_jobs("me", now, lease=30.0)
    got = {c.job.id: c.previous_owner for c in claims}
    assert set(got) == {free.id, expired.id, dead.id}
    assert got[free.id] is None
    assert got[expired.id] == "other-host:1#1"
    assert all(c.job.claimed_by == "me" and c.job.lease_until == now + 30 for c in claims)
    assert live.id not in got and elsewhere.id not in got
    # Claiming again finds nothing new: the claimer's own jobs are not handed out twice.
    assert store.claim_jobs("me", now + 1, lease=30.0) == []
    # Another engine sees them as held until the lease runs out.
    assert store.claim_jobs("you", now + 1, lease=30.0) == []
    # Once every lease has run out, any engine may take them, the former holder included.
    taken = {c.job.id for c in store.claim_jobs("you", now + 31, lease=30.0, limit=2)}
    back = {c.job.id for c in store.claim_jobs("me", now + 31, lease=30.0)}
    assert len(taken) == 2 and not taken & back
    assert taken | back == {free.id, live.id, elsewhere.id, expired.id, dead.id}


def test_renew_release_claim_one_and_delete(store: Store) -> None:
    job = new_job(store, claimed_by="a", lease_until=10.0)
    other = new_job(store, claimed_by="b", lease_until=10.0)
    assert store.renew_leases("a", [job.id, other.id], 50.0) == {other.id}
    assert store.get_job(job.id).lease_until == 50.0  # type: ignore[union-attr]
    assert store.claim_job(job.id, "b", 20.0, 30.0) is None  # a live lease of another engine
    assert store.release_jobs("a") == 1
    claimed = store.claim_job(job.id, "b", 20.0, 30.0)
    assert claimed is not None and claimed.claimed_by == "b"
    assert store.release_jobs("b", [job.id]) == 1
    store.delete_job(job.id)
    assert store.get_job(job.id) is None
    with pytest.raises(NotFoundError):
        store.claim_job(job.id, "b", 20.0, 30.0)


def test_deleting_a_conversation_unlinks_its_jobs(store: Store) -> None:
    conversation = store.create_conversation(title="videos")
    job = new_job(store, conversation_id=conversation.id)
    assert job.conversation_id == conversation.id
    store.delete_conversation(conversation.id)
    assert store.get_job(job.id).conversation_id is None  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        new_job(store, conversation_id=12345)


def test_owner_names_and_liveness() -> None:
    me = engine_owner(3)
    assert me.startswith(f"{HOST}:") and me.endswith("#3")
    assert owner_alive(me)
    assert not owner_alive(f"{HOST}:{dead_pid()}#1")
    assert owner_alive("some-other-host:1#1")
    assert not owner_alive(None)


def test_two_store_objects_never_claim_the_same_job(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with Store.open(path) as a, Store.open(path) as b:
        ids = {new_job(a, idempotency_key=f"k{i}").id for i in range(20)}
        got_a = {c.job.id for c in a.claim_jobs("engine-a", 1_000.0, 30.0, limit=12)}
        got_b = {c.job.id for c in b.claim_jobs("engine-b", 1_000.0, 30.0)}
    assert got_a | got_b == ids
    assert not got_a & got_b
