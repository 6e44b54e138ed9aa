"""Unsent drafts in the store, and the forward-only migration that adds them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.store import NewAttachment, Store, schema

PNG = NewAttachment(name="dot.png", mime="image/png", data=b"\x89PNG-bytes", width=1, height=1)
LINK = NewAttachment(name="cat.jpg", mime="image/*", url="https://example.com/cat.jpg")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "drafts.db") as opened:
        yield opened


def test_a_draft_round_trips_with_its_attachments(store: Store) -> None:
    cid = store.create_conversation().id
    assert store.get_draft(cid) is None
    assert store.save_draft(cid, "half a thought\nand a second line", [PNG, LINK])
    draft = store.get_draft(cid)
    assert draft is not None
    assert draft.text == "half a thought\nand a second line"
    assert draft.attachments == (PNG, LINK)
    assert store.draft_ids() == {cid}


def test_typing_keeps_the_saved_attachments_and_an_empty_draft_is_no_row(store: Store) -> None:
    cid = store.create_conversation().id
    store.save_draft(cid, "a", [PNG])
    store.save_draft(cid, "ab")  # attachments=None: the image stays as saved
    draft = store.get_draft(cid)
    assert draft is not None and draft.text == "ab" and draft.attachments == (PNG,)
    store.save_draft(cid, "")  # still an image pending: kept
    draft = store.get_draft(cid)
    assert draft is not None and draft.text == "" and draft.attachments == (PNG,)
    store.save_draft(cid, "", [])
    assert store.get_draft(cid) is None
    assert store.draft_ids() == set()


def test_saving_a_draft_does_not_reorder_the_list(store: Store) -> None:
    older = store.create_conversation(title="older")
    newer = store.create_conversation(title="newer")
    store.save_draft(older.id, "typing here")
    assert [c.id for c in store.list_conversations()] == [newer.id, older.id]
    assert store.get_conversation(older.id) == older


def test_last_write_wins_per_conversation(tmp_path: Path) -> None:
    with Store.open(tmp_path / "two.db") as one, Store.open(tmp_path / "two.db") as two:
        first = one.create_conversation().id
        second = one.create_conversation().id
        one.save_draft(first, "from window one")
        two.save_draft(first, "from window two")
        two.save_draft(second, "only in two")
        draft = one.get_draft(first)
        assert draft is not None and draft.text == "from window two"
        other = one.get_draft(second)
        assert other is not None and other.text == "only in two"


def test_a_deleted_conversation_takes_its_draft_along(store: Store) -> None:
    cid = store.create_conversation().id
    store.save_draft(cid, "gone soon", [PNG])
    store.delete_conversation(cid)
    assert store.get_draft(cid) is None
    assert store.save_draft(cid, "too late") is False  # deleted elsewhere: nothing saved
    with sqlite3.connect(store.path) as raw:  # type: ignore[arg-type]
        assert raw.execute("SELECT count(*) FROM draft_attachments").fetchone()[0] == 0


def test_clear_draft(store: Store) -> None:
    cid = store.create_conversation().id
    store.save_draft(cid, "sent now", [LINK])
    store.clear_draft(cid)
    assert store.get_draft(cid) is None
    store.clear_draft(cid)  # again is fine


def test_a_version_2_database_is_migrated_forward_with_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database written by the Studio before drafts (schema 2) opens, keeps everything and
    gains the drafts tables; the migration is one more script, never a rewrite."""
    path = tmp_path / "v2.db"
    packaged = schema.migrations()
    names = [m.name for m in packaged]
    assert names[:3] == ["0001_initial.sql", "0002_jobs.sql", "0003_drafts.sql"]
    monkeypatch.setattr(schema, "migrations", lambda: packaged[:2])
    with Store.open(path) as old:
        assert old.schema_version == 2
    with sqlite3.connect(path) as raw:
        # Written as the version-2 Studio wrote them (today's code writes later columns too).
        cid = raw.execute(
            "INSERT INTO conversations (title, created_at, updated_at)"
            " VALUES ('from version 2', 1.0, 1.0)"
        ).lastrowid
        raw.execute(
            "INSERT INTO messages (conversation_id, position, role, content, created_at,"
            " updated_at) VALUES (?, 0, 'user', 'kept', 1.0, 1.0)",
            (cid,),
        )
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    assert "drafts" not in tables
    monkeypatch.setattr(schema, "migrations", lambda: packaged)
    with Store.open(path) as store:
        assert store.schema_version == schema.latest_version() >= 3
        assert [m.content for m in store.messages(cid)] == ["kept"]
        store.save_draft(cid, "new in version 3", [PNG])
        draft = store.get_draft(cid)
        assert draft is not None and draft.attachments == (PNG,)
    with sqlite3.connect(path) as raw:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    assert {"drafts", "draft_attachments", "draft_attachments_conversation"} <= tables
