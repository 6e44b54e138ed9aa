"""A realistically large database stays fast: the hot queries use indexes, never a table scan.

The database (2,000 conversations, 100,000 messages) is built once per module with
``executemany``, straight through sqlite3, in well under a couple of seconds.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from studio.store import Store
from studio.store.conversations import list_sql
from studio.store.message_queries import ATTACHMENTS_IN_RANGE_SQL, STALE_STREAMS_SQL, page_sql
from studio.store.message_rows import NEXT_POSITION_SQL

CONVERSATIONS = 2_000
MESSAGES_PER_CONVERSATION = 50
BOUND_SECONDS = 0.2  # the target is well under 50 ms; this leaves room for slow CI machines


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.db"
    Store.open(path).close()  # the schema, as the app would create it
    rng = random.Random(7)
    start = 1_600_000_000.0
    filler = "lorem ipsum dolor sit amet " * 8
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO conversations (id, title, archived, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                (cid, f"Conversation {cid}", int(cid % 10 == 0), start, start + rng.random() * 1e6)
                for cid in range(1, CONVERSATIONS + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO messages (conversation_id, position, role, content, status, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, 'complete', ?, ?)",
            (
                (cid, pos, "user" if pos % 2 else "assistant", filler, start + pos, start + pos)
                for cid in range(1, CONVERSATIONS + 1)
                for pos in range(1, MESSAGES_PER_CONVERSATION + 1)
            ),
        )
    return path


def plan(path: Path, sql: str, params: Any) -> list[str]:
    with sqlite3.connect(path) as conn:
        conn.create_function("studio_casefold", 1, str.casefold)
        return [str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def uses_no_table_scan(steps: list[str]) -> bool:
    return not any(step.startswith("SCAN") and "USING" not in step for step in steps)


@pytest.mark.parametrize("archived", [False, True, None])
def test_listing_conversations_walks_an_index(big_db: Path, archived: bool | None) -> None:
    steps = plan(big_db, *list_sql(archived=archived, title_filter=None, limit=100))
    assert uses_no_table_scan(steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps  # no sort: index order
    assert any("INDEX conversations_" in step for step in steps), steps


@pytest.mark.parametrize(("limit", "before"), [(50, None), (50, 1_000), (None, None), (None, 20)])
def test_message_pages_search_the_position_index(
    big_db: Path, limit: int | None, before: int | None
) -> None:
    steps = plan(big_db, *page_sql(17, limit=limit, before_position=before))
    assert steps and all("messages_conversation_position" in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps


@pytest.mark.parametrize(
    ("sql", "params", "index"),
    [
        (ATTACHMENTS_IN_RANGE_SQL, (17, 1, 50), "messages_conversation_position"),
        (NEXT_POSITION_SQL, (17,), "messages_conversation_position"),
        (STALE_STREAMS_SQL, (0.0, "host:%"), "messages_streaming"),
    ],
    ids=["attachments", "next-position", "stale-streams"],
)
def test_other_hot_queries_use_indexes(
    big_db: Path, sql: str, params: tuple[Any, ...], index: str
) -> None:
    steps = plan(big_db, sql, params)
    assert uses_no_table_scan(steps), steps
    assert any(index in step for step in steps), steps


def best_time(action: Callable[[], object], runs: int = 3) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_large_database_stays_fast(big_db: Path) -> None:
    assert best_time(lambda: Store.open(big_db).close()) < BOUND_SECONDS
    with Store.open(big_db) as store:
        listed = store.list_conversations()
        assert len(listed) == CONVERSATIONS - CONVERSATIONS // 10
        assert listed == sorted(listed, key=lambda c: c.updated_at, reverse=True)
        assert listed[0].message_count == MESSAGES_PER_CONVERSATION
        cid = listed[0].id
        page = store.messages(cid, limit=50)
        assert [m.position for m in page] == list(range(1, 51))

        assert best_time(store.list_conversations) < BOUND_SECONDS
        assert best_time(lambda: store.list_conversations(limit=100)) < BOUND_SECONDS
        assert best_time(lambda: store.list_conversations(title_filter="9")) < BOUND_SECONDS
        assert best_time(lambda: store.messages(cid, limit=50)) < BOUND_SECONDS
        assert best_time(lambda: store.count_messages(cid)) < BOUND_SECONDS
        assert best_time(lambda: store.recover_interrupted()) < BOUND_SECONDS
