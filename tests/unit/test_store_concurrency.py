"""Several writers on one database: threads, two stores, a second process, a killed writer."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import studio.store.message_rows as message_rows
from studio.store import MessageStatus, NotFoundError, Role, Store

REPO_ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from studio.store import Role, Store

path, cid, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with Store.open(path) as store:
    print("ready", flush=True)
    sys.stdin.readline()
    for number in range(count):
        store.add_message(cid, Role.USER, f"child {number}")
print("done", flush=True)
"""

DIES_MID_STREAM = """
import os, sys
from studio.store import Role, Store

store = Store.open(sys.argv[1])
conversation = store.create_conversation(title="interrupted")
store.add_message(conversation.id, Role.USER, "Tell me a long story")
reply = store.start_reply(conversation.id, model="story-model")
store.save_partial(reply.id, "Once upon a time", reasoning="a fairy tale")
print(reply.id, flush=True)
os._exit(1)  # killed: no finish_reply, no close, no checkpoint
"""


class FakeClock:
    """A hand-moved clock that ticks a millisecond per reading."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def python(code: str, *args: object) -> list[str]:
    return [sys.executable, "-c", code, *map(str, args)]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def integrity_ok(path: Path) -> bool:
    with sqlite3.connect(path) as raw:
        return bool(raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "shared.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path) as opened:
        yield opened


def test_two_stores_on_one_file(db_path: Path) -> None:
    with Store.open(db_path) as first, Store.open(db_path) as second:
        conversation = first.create_conversation(title="shared")
        assert second.get_conversation(conversation.id) == conversation
        for number in range(20):
            writer = first if number % 2 else second
            writer.add_message(conversation.id, Role.USER, f"m{number}")
        seen_by_first = first.messages(conversation.id)
        assert seen_by_first == second.messages(conversation.id)
        assert [m.position for m in seen_by_first] == list(range(1, 21))
        assert [m.content for m in seen_by_first] == [f"m{n}" for n in range(20)]
        assert first.count_messages(conversation.id) == 20
    assert integrity_ok(db_path)


def test_threads_share_one_store(store: Store, db_path: Path) -> None:
    conversation = store.create_conversation()
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for number in range(50):
                store.add_message(conversation.id, Role.USER, f"{name}-{number}")
                store.list_conversations()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    written = store.messages(conversation.id)
    assert [m.position for m in written] == list(range(1, 201))
    assert len({m.content for m in written}) == 200
    assert integrity_ok(db_path)


def test_threads_with_their_own_stores(db_path: Path) -> None:
    with Store.open(db_path) as setup:
        cid = setup.create_conversation().id
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            with Store.open(db_path) as own:
                for number in range(40):
                    own.add_message(cid, Role.USER, f"{name}-{number}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store.open(db_path) as check:
        written = check.messages(cid)
        assert [m.position for m in written] == list(range(1, 161))
        assert check.count_messages(cid) == 160
    assert integrity_ok(db_path)


def test_second_process_writes_concurrently(store: Store, db_path: Path) -> None:
    conversation = store.create_conversation(title="two writers")
    count = 150
    child = subprocess.Popen(
        python(WRITER, db_path, conversation.id, count),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=REPO_ROOT,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        for number in range(count):
            store.add_message(conversation.id, Role.ASSISTANT, f"parent {number}")
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert out.strip() == "done"

    written = store.messages(conversation.id)
    assert [m.position for m in written] == list(range(1, 2 * count + 1))
    contents = {m.content for m in written}
    assert {f"parent {n}" for n in range(count)} <= contents
    assert {f"child {n}" for n in range(count)} <= contents
    assert store.count_messages(conversation.id) == 2 * count
    assert integrity_ok(db_path)


def test_write_waits_for_another_writers_lock(store: Store, db_path: Path) -> None:
    conversation = store.create_conversation()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    started = threading.Event()
    result: list[object] = []

    def write() -> None:
        started.set()
        result.append(store.add_message(conversation.id, Role.USER, "waited"))

    thread = threading.Thread(target=write)
    thread.start()
    started.wait(5)
    time.sleep(0.2)  # long enough for the write to be stuck on the lock
    assert thread.is_alive() and result == []
    blocker.execute("COMMIT")
    blocker.close()
    thread.join(10)
    assert not thread.is_alive()
    assert store.count_messages(conversation.id) == 1


def test_position_taken_by_another_writer_is_retried(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, Role.USER, "first")
    real = message_rows.next_position
    calls: list[int] = []

    def stale_then_real(conn: sqlite3.Connection, cid: int) -> int:
        calls.append(cid)
        return 1 if len(calls) == 1 else real(conn, cid)  # 1 is taken: as if raced

    monkeypatch.setattr(message_rows, "next_position", stale_then_real)
    second = store.add_message(conversation.id, Role.USER, "second")
    assert second.position == 2
    assert len(calls) == 2
    assert store.count_messages(conversation.id) == 2


def test_killed_writer_is_recovered_as_cut(db_path: Path) -> None:
    result = subprocess.run(
        python(DIES_MID_STREAM, db_path),
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    reply_id = int(result.stdout.strip())

    later = FakeClock(time.time() + 60)  # the dead writer's heartbeat is a minute old
    with Store.open(db_path, clock=later) as store:
        before = store.get_message(reply_id)
        assert before is not None and before.status is MessageStatus.STREAMING
        recovered = store.recover_interrupted()
        assert [m.id for m in recovered] == [reply_id]
        cut = recovered[0]
        assert cut.status is MessageStatus.CUT
        assert cut.content == "Once upon a time"
        assert cut.reasoning == "a fairy tale"
        assert cut.model == "story-model"
        assert store.get_message(reply_id) == cut
        assert store.recover_interrupted() == []  # only once
    assert integrity_ok(db_path)


def test_fresh_streams_of_another_instance_are_left_alone(db_path: Path) -> None:
    writer_clock = FakeClock(1_000.0)
    reader_clock = FakeClock(1_000.0)
    with (
        Store.open(db_path, clock=writer_clock) as writer,
        Store.open(db_path, clock=reader_clock) as other,
    ):
        conversation = writer.create_conversation()
        reply = writer.start_reply(conversation.id, model="m")

        reader_clock.now = 1_005.0  # five seconds later: still fresh
        assert other.recover_interrupted(stale_after=10) == []

        writer_clock.now = 1_009.0
        writer.save_partial(reply.id, "still going")  # heartbeat at ~1009
        reader_clock.now = 1_015.0
        assert other.recover_interrupted(stale_after=10) == []

        reader_clock.now = 1_020.0  # eleven seconds of silence: the writer is gone
        recovered = other.recover_interrupted(stale_after=10)
        assert [(m.id, m.status, m.content) for m in recovered] == [
            (reply.id, MessageStatus.CUT, "still going")
        ]


def test_save_partial_revives_a_reply_cut_while_its_writer_slept(db_path: Path) -> None:
    clock = FakeClock(2_000.0)
    with Store.open(db_path, clock=clock) as store:
        conversation = store.create_conversation()
        reply = store.start_reply(conversation.id, model="m")
        clock.now += 30
        assert [m.id for m in store.recover_interrupted()] == [reply.id]
        store.save_partial(reply.id, "woke up")
        revived = store.get_message(reply.id)
        assert revived is not None and revived.status is MessageStatus.STREAMING
        done = store.finish_reply(reply.id, "woke up and finished", status=MessageStatus.COMPLETE)
        assert done.status is MessageStatus.COMPLETE
        clock.now += 30
        assert store.recover_interrupted() == []
        with pytest.raises(NotFoundError):
            store.save_partial(reply.id, "after the end")


def test_simultaneous_first_opens_migrate_once(db_path: Path) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    versions: list[int] = []

    def open_fresh() -> None:
        try:
            barrier.wait(5)
            with Store.open(db_path) as store:
                versions.append(store.schema_version)
                store.create_conversation()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_fresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store.open(db_path) as store:
        assert versions == [store.schema_version] * 4
        assert len(store.list_conversations()) == 4
    assert integrity_ok(db_path)
