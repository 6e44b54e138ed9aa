"""Every conversation has a lasting uuid: new ones, ones from before version 6, and imports."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from studio.store import Store, schema
from studio.store.schema import Migration


def test_a_new_conversation_gets_a_uuid4_found_again_in_any_case() -> None:
    with Store.open(":memory:") as store:
        first = store.create_conversation(title="one")
        second = store.create_conversation(title="two")
        assert uuid.UUID(first.uuid).version == 4
        assert first.uuid != second.uuid
        assert store.conversation_by_uuid(first.uuid.upper()) == first
        assert store.conversation_by_uuid(str(uuid.uuid4())) is None


def test_a_given_uuid_is_kept_and_a_taken_one_refused() -> None:
    given = "0b7e4f0c-3c55-4a57-9c2e-2a4c1b0f5d11"
    with Store.open(":memory:") as store:
        made = store.create_conversation(title="imported", uuid=given.upper())
        assert made.uuid == given
        with pytest.raises(ValueError, match="exists already"):
            store.create_conversation(title="again", uuid=given)
        with pytest.raises(ValueError, match="not a uuid"):
            store.create_conversation(title="bad", uuid="not-a-uuid")
        assert [c.title for c in store.list_conversations()] == ["imported"]


def test_conversations_from_before_version_6_get_distinct_uuids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v5.db"
    packaged = schema.migrations()
    older: tuple[Migration, ...] = packaged[:5]
    monkeypatch.setattr(schema, "migrations", lambda: older)
    with Store.open(path) as store:
        assert store.schema_version == 5
    with sqlite3.connect(path) as raw:
        for n in range(50):
            raw.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, 0, 0)",
                (f"old {n}",),
            )
    monkeypatch.setattr(schema, "migrations", lambda: packaged)
    with Store.open(path) as store:
        assert store.schema_version == schema.latest_version()
        found = store.list_conversations()
    uuids = {c.uuid for c in found}
    assert len(found) == len(uuids) == 50
    assert all(uuid.UUID(u).version == 4 and str(uuid.UUID(u)) == u for u in uuids)
