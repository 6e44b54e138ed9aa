"""An undoable delete: ``take_message`` removes a message and hands it back whole;
``restore_message`` puts it back exactly where and as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.api.types import Usage
from studio.store import MessageStatus, NewAttachment, NotFoundError, Role, Store, StoreError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "studio.db") as opened:
        yield opened


def test_take_and_restore_gives_back_the_same_message(store: Store) -> None:
    cid = store.create_conversation().id
    first = store.add_message(
        cid,
        Role.USER,
        "look at these",
        attachments=[
            NewAttachment("a.png", "image/png", data=b"\x89PNG one", width=3, height=2),
            NewAttachment("b.png", "image/png", url="https://example.com/b.png"),
        ],
    )
    reply = store.start_reply(cid, model="gpt-4o")
    usage = Usage(prompt_tokens=3, completion_tokens=5, total_tokens=8)
    reply = store.finish_reply(
        reply.id, "two images", status=MessageStatus.COMPLETE, usage=usage, finish_reason="length"
    )
    later = store.add_message(cid, Role.USER, "and then")
    before = store.messages(cid)
    count = store.count_messages(cid)

    removed = store.take_message(first.id)
    assert [m.id for m in store.messages(cid)] == [reply.id, later.id]
    assert store.count_messages(cid) == count - 1
    assert removed.attachment_data == (b"\x89PNG one", None)

    restored = store.restore_message(removed)
    assert restored == first
    assert store.messages(cid) == before
    assert store.count_messages(cid) == count
    assert store.attachment_data(restored.attachments[0].id) == b"\x89PNG one"

    removed = store.take_message(reply.id)  # status, usage and finish reason come back too
    assert store.restore_message(removed) == reply


def test_restore_refuses_a_taken_place_and_a_deleted_conversation(store: Store) -> None:
    cid = store.create_conversation().id
    store.add_message(cid, Role.USER, "first")
    last = store.add_message(cid, Role.USER, "last")
    removed = store.take_message(last.id)
    store.add_message(cid, Role.USER, "took its place")  # the next position is the freed one
    with pytest.raises(StoreError, match="taken its place"):
        store.restore_message(removed)
    assert [m.content for m in store.messages(cid)] == ["first", "took its place"]

    removed = store.take_message(store.messages(cid)[0].id)
    store.delete_conversation(cid)
    with pytest.raises(NotFoundError):
        store.restore_message(removed)


def test_take_a_missing_message(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.take_message(12345)
