"""The store's behaviour, method by method: conversations, messages, attachments, UI state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from studio.api.types import Usage
from studio.store import (
    Attachment,
    Conversation,
    Message,
    MessageStatus,
    NewAttachment,
    NotFoundError,
    Role,
    Store,
    StoreError,
)
from studio.store.state import PROMPT_HISTORY_SIZE


class FakeClock:
    """A clock the test moves by hand; every reading advances it a millisecond so timestamps
    stay distinct and ordered."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "studio.db"


@pytest.fixture
def store(db_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(db_path, clock=clock) as opened:
        yield opened


def raw_count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608


# --- conversations ---------------------------------------------------------------------------


def test_create_conversation_with_defaults(store: Store) -> None:
    conversation = store.create_conversation()
    assert isinstance(conversation, Conversation)
    assert conversation.title == "New conversation"
    assert not conversation.title_locked
    assert not conversation.archived
    assert conversation.model is None
    assert conversation.system_prompt is None
    assert conversation.temperature is None
    assert conversation.max_tokens is None
    assert conversation.message_count == 0
    assert conversation.created_at == conversation.updated_at
    assert store.get_conversation(conversation.id) == conversation


def test_create_conversation_with_settings(store: Store) -> None:
    conversation = store.create_conversation(
        title="  Rust   lifetimes ",
        model="gpt-4o",
        system_prompt="Be brief.",
        temperature=1,
        max_tokens=512,
    )
    assert conversation.title == "Rust lifetimes"
    assert conversation.model == "gpt-4o"
    assert conversation.system_prompt == "Be brief."
    assert conversation.temperature == 1.0
    assert isinstance(conversation.temperature, float)
    assert conversation.max_tokens == 512


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"title": "   "}, ValueError),
        ({"temperature": -0.5}, ValueError),
        ({"max_tokens": 0}, ValueError),
        ({"max_tokens": 1.5}, TypeError),
        ({"max_tokens": True}, TypeError),
        ({"temperature": "hot"}, TypeError),
        ({"model": 4}, TypeError),
    ],
)
def test_create_conversation_rejects_bad_settings(
    store: Store, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        store.create_conversation(**kwargs)  # type: ignore[arg-type]
    assert store.list_conversations(archived=None) == []


def test_get_conversation_missing_is_none(store: Store) -> None:
    assert store.get_conversation(12345) is None


def test_list_conversations_most_recently_updated_first(store: Store) -> None:
    first = store.create_conversation(title="first")
    second = store.create_conversation(title="second")
    third = store.create_conversation(title="third")
    assert [c.id for c in store.list_conversations()] == [third.id, second.id, first.id]
    store.add_message(first.id, Role.USER, "bump")
    assert [c.id for c in store.list_conversations()] == [first.id, third.id, second.id]
    assert [c.id for c in store.list_conversations(limit=2)] == [first.id, third.id]
    assert store.list_conversations(limit=0) == []
    listed = store.list_conversations()[0]
    assert listed.message_count == 1


def test_list_conversations_archived_filter(store: Store) -> None:
    active = store.create_conversation(title="active")
    old = store.create_conversation(title="old")
    store.set_archived(old.id, True)
    assert [c.id for c in store.list_conversations()] == [active.id]
    assert [c.id for c in store.list_conversations(archived=True)] == [old.id]
    assert {c.id for c in store.list_conversations(archived=None)} == {active.id, old.id}
    archived = store.get_conversation(old.id)
    assert archived is not None and archived.archived
    store.set_archived(old.id, False)
    assert {c.id for c in store.list_conversations()} == {active.id, old.id}


def test_archiving_keeps_the_place_in_the_list(store: Store) -> None:
    older = store.create_conversation(title="older")
    store.create_conversation(title="newer")
    store.set_archived(older.id, True)
    store.set_archived(older.id, False)
    assert store.list_conversations()[-1].id == older.id


def test_list_conversations_title_filter_ignores_case(store: Store) -> None:
    store.create_conversation(title="Python packaging")
    store.create_conversation(title="ÄRGER mit Umlauten")
    store.create_conversation(title="100% done_ish")
    assert [c.title for c in store.list_conversations(title_filter="PACK")] == ["Python packaging"]
    assert [c.title for c in store.list_conversations(title_filter="ärger")] == [
        "ÄRGER mit Umlauten"
    ]
    # LIKE wildcards are plain text here.
    assert [c.title for c in store.list_conversations(title_filter="%")] == ["100% done_ish"]
    assert [c.title for c in store.list_conversations(title_filter="_ish")] == ["100% done_ish"]
    assert store.list_conversations(title_filter="nothing like it") == []
    assert len(store.list_conversations(title_filter="")) == 3


def test_rename_conversation_locks_the_title(store: Store) -> None:
    conversation = store.create_conversation()
    assert store.set_auto_title(conversation.id, "Generated title") is True
    current = store.get_conversation(conversation.id)
    assert current is not None and current.title == "Generated title"
    assert not current.title_locked

    renamed = store.rename_conversation(conversation.id, "My title")
    assert renamed.title == "My title"
    assert renamed.title_locked
    assert renamed.updated_at > conversation.updated_at

    assert store.set_auto_title(conversation.id, "Another generated title") is False
    after = store.get_conversation(conversation.id)
    assert after is not None and after.title == "My title"


def test_only_the_first_prompt_titles_a_conversation(store: Store) -> None:
    conversation = store.create_conversation()
    assert store.set_auto_title(conversation.id, "First prompt") is True
    assert store.set_auto_title(conversation.id, "Second prompt") is False
    current = store.get_conversation(conversation.id)
    assert current is not None and current.title == "First prompt"


def test_title_changes_on_missing_conversations(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.rename_conversation(99, "x")
    with pytest.raises(NotFoundError):
        store.set_auto_title(99, "x")
    with pytest.raises(NotFoundError):
        store.set_archived(99, True)
    with pytest.raises(ValueError, match="empty"):
        store.rename_conversation(store.create_conversation().id, " \n ")


def test_update_conversation(store: Store) -> None:
    conversation = store.create_conversation(model="a", temperature=0.2, max_tokens=100)
    updated = store.update_conversation(
        conversation.id, model="b", system_prompt="You are terse.", temperature=None
    )
    assert updated.model == "b"
    assert updated.system_prompt == "You are terse."
    assert updated.temperature is None
    assert updated.max_tokens == 100
    assert updated.updated_at > conversation.updated_at
    assert store.get_conversation(conversation.id) == updated

    cleared = store.update_conversation(conversation.id, max_tokens=None, model=None)
    assert cleared.max_tokens is None and cleared.model is None
    assert store.update_conversation(conversation.id) == cleared


def test_update_conversation_validates(store: Store) -> None:
    conversation = store.create_conversation()
    with pytest.raises(TypeError, match="unknown conversation setting 'title'"):
        store.update_conversation(conversation.id, title="no")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        store.update_conversation(conversation.id, archived=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        store.update_conversation(conversation.id, max_tokens="many")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        store.update_conversation(conversation.id, max_tokens=-3)
    with pytest.raises(NotFoundError):
        store.update_conversation(4242, model="x")
    with pytest.raises(NotFoundError):
        store.update_conversation(4242)
    assert store.get_conversation(conversation.id) == conversation


def test_delete_conversation_cascades(store: Store, db_path: Path) -> None:
    doomed = store.create_conversation(title="doomed")
    kept = store.create_conversation(title="kept")
    picture = NewAttachment("p.png", "image/png", data=b"\x89PNG")
    message = store.add_message(doomed.id, Role.USER, "look", attachments=[picture])
    store.add_message(doomed.id, Role.ASSISTANT, "nice")
    store.add_message(kept.id, Role.USER, "stays", attachments=[picture])
    aid = message.attachments[0].id

    store.delete_conversation(doomed.id)

    assert store.get_conversation(doomed.id) is None
    assert store.get_message(message.id) is None
    assert store.attachment_data(aid) is None
    assert store.messages(doomed.id) == []
    assert raw_count(db_path, "messages") == 1
    assert raw_count(db_path, "attachments") == 1
    assert store.count_messages(kept.id) == 1
    store.delete_conversation(doomed.id)  # already gone: nothing happens


# --- messages --------------------------------------------------------------------------------


def test_add_message_appends_and_touches_the_conversation(store: Store) -> None:
    conversation = store.create_conversation()
    first = store.add_message(conversation.id, Role.USER, "hello")
    second = store.add_message(
        conversation.id,
        Role.ASSISTANT,
        "hi there",
        model="gpt-4o",
        usage=Usage(prompt_tokens=10, completion_tokens=3, total_tokens=13, reasoning_tokens=1),
    )
    assert isinstance(first, Message)
    assert (first.position, second.position) == (1, 2)
    assert first.role is Role.USER and second.role is Role.ASSISTANT
    assert first.status is MessageStatus.COMPLETE
    assert first.usage is None
    assert second.usage == Usage(10, 3, 13, 1, 0)
    assert second.model == "gpt-4o"
    assert second.conversation_id == conversation.id
    after = store.get_conversation(conversation.id)
    assert after is not None
    assert after.updated_at == second.created_at
    assert after.message_count == 2
    assert store.count_messages(conversation.id) == 2


def test_add_message_accepts_plain_strings_and_errors(store: Store) -> None:
    conversation = store.create_conversation()
    message = store.add_message(
        conversation.id,
        "system",  # type: ignore[arg-type]
        "rules",
    )
    assert message.role is Role.SYSTEM
    failed = store.add_message(
        conversation.id, Role.ASSISTANT, "", status=MessageStatus.ERROR, error="HTTP 429"
    )
    assert failed.status is MessageStatus.ERROR
    assert failed.error == "HTTP 429"
    with pytest.raises(ValueError, match="robot"):
        store.add_message(conversation.id, "robot", "beep")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.add_message(777, Role.USER, "nobody home")
    with pytest.raises(TypeError, match="content"):
        store.add_message(conversation.id, Role.USER, None)  # type: ignore[arg-type]


def test_streaming_reply_lifecycle(store: Store) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, Role.USER, "Explain WAL")
    reply = store.start_reply(conversation.id, model="deepseek-r1")
    assert reply.role is Role.ASSISTANT
    assert reply.status is MessageStatus.STREAMING
    assert reply.content == ""
    assert reply.model == "deepseek-r1"

    store.save_partial(reply.id, "Write-ahead", reasoning="The user wants")
    partial = store.get_message(reply.id)
    assert partial is not None
    assert (partial.content, partial.reasoning) == ("Write-ahead", "The user wants")
    assert partial.status is MessageStatus.STREAMING

    usage = Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12)
    done = store.finish_reply(
        reply.id,
        "Write-ahead logging keeps readers and a writer apart.",
        status=MessageStatus.COMPLETE,
        usage=usage,
        finish_reason="stop",
        reasoning="The user wants an explanation",
    )
    assert done.status is MessageStatus.COMPLETE
    assert done.content.startswith("Write-ahead logging")
    assert done.reasoning == "The user wants an explanation"
    assert done.usage == usage
    assert done.finish_reason == "stop"
    assert done.error is None
    assert done.updated_at > reply.updated_at
    assert store.get_message(reply.id) == done
    after = store.get_conversation(conversation.id)
    assert after is not None and after.updated_at == done.updated_at

    with pytest.raises(NotFoundError):
        store.save_partial(reply.id, "too late")


@pytest.mark.parametrize("status", [MessageStatus.STOPPED, MessageStatus.ERROR, MessageStatus.CUT])
def test_finish_reply_with_other_outcomes(store: Store, status: MessageStatus) -> None:
    conversation = store.create_conversation()
    reply = store.start_reply(conversation.id, model="m")
    finished = store.finish_reply(reply.id, "partial", status=status, error="boom")
    assert finished.status is status
    assert finished.error == "boom"
    assert finished.usage is None


def test_finish_reply_rejects_streaming_and_missing(store: Store) -> None:
    conversation = store.create_conversation()
    reply = store.start_reply(conversation.id, model="m")
    with pytest.raises(ValueError, match="streaming"):
        store.finish_reply(reply.id, "x", status=MessageStatus.STREAMING)
    with pytest.raises(NotFoundError):
        store.finish_reply(9999, "x", status=MessageStatus.COMPLETE)
    with pytest.raises(NotFoundError):
        store.save_partial(9999, "x")


def test_get_message_missing_is_none(store: Store) -> None:
    assert store.get_message(31337) is None


def test_messages_paging(store: Store) -> None:
    conversation = store.create_conversation()
    for number in range(1, 121):
        store.add_message(conversation.id, Role.USER, f"message {number}")

    everything = store.messages(conversation.id)
    assert [m.position for m in everything] == list(range(1, 121))

    newest = store.messages(conversation.id, limit=50)
    assert [m.position for m in newest] == list(range(71, 121))
    assert newest[-1].content == "message 120"

    older = store.messages(conversation.id, limit=50, before_position=newest[0].position)
    assert [m.position for m in older] == list(range(21, 71))
    oldest = store.messages(conversation.id, limit=50, before_position=older[0].position)
    assert [m.position for m in oldest] == list(range(1, 21))
    assert store.messages(conversation.id, limit=50, before_position=1) == []

    before = store.messages(conversation.id, before_position=4)
    assert [m.position for m in before] == [1, 2, 3]
    assert store.messages(conversation.id, limit=0) == []
    assert store.messages(424242) == []


def test_messages_load_attachments_with_one_extra_query(store: Store) -> None:
    conversation = store.create_conversation()
    for number in range(30):
        attachments = [
            NewAttachment(f"{number}-{i}.txt", "text/plain", data=f"{number}/{i}".encode())
            for i in range(number % 3)
        ]
        store.add_message(conversation.id, Role.USER, str(number), attachments=attachments)

    statements: list[str] = []
    store._connection().set_trace_callback(statements.append)  # white-box: count queries
    page = store.messages(conversation.id, limit=20)
    store._connection().set_trace_callback(None)

    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2
    for message in page:
        number = int(message.content)
        assert [a.name for a in message.attachments] == [
            f"{number}-{i}.txt" for i in range(number % 3)
        ]
        for attachment in message.attachments:
            assert attachment.message_id == message.id
            assert (
                store.attachment_data(attachment.id)
                == attachment.name[:-4].replace("-", "/").encode()
            )


def test_edit_message(store: Store, clock: FakeClock) -> None:
    conversation = store.create_conversation()
    message = store.add_message(conversation.id, Role.USER, "teh typo")
    clock.now += 60
    edited = store.edit_message(message.id, "the typo")
    assert edited.content == "the typo"
    assert edited.position == message.position
    assert edited.created_at == message.created_at
    assert edited.updated_at >= message.updated_at + 60
    after = store.get_conversation(conversation.id)
    assert after is not None and after.updated_at == edited.updated_at
    with pytest.raises(NotFoundError):
        store.edit_message(5555, "x")


def test_delete_message_keeps_other_positions(store: Store) -> None:
    conversation = store.create_conversation()
    messages = [store.add_message(conversation.id, Role.USER, str(i)) for i in range(3)]
    store.delete_message(messages[1].id)
    assert [m.position for m in store.messages(conversation.id)] == [1, 3]
    assert store.count_messages(conversation.id) == 2
    store.delete_message(messages[1].id)  # already gone: nothing happens
    assert store.add_message(conversation.id, Role.USER, "next").position == 4


def test_delete_messages_from_position(store: Store, db_path: Path) -> None:
    conversation = store.create_conversation()
    other = store.create_conversation()
    store.add_message(other.id, Role.USER, "untouched")
    for i in range(6):
        store.add_message(
            conversation.id,
            Role.USER,
            str(i),
            attachments=[NewAttachment("a.bin", "application/octet-stream", data=b"x")],
        )
    assert store.delete_messages_from(conversation.id, 4) == 3
    assert [m.position for m in store.messages(conversation.id)] == [1, 2, 3]
    assert store.count_messages(conversation.id) == 3
    assert store.count_messages(other.id) == 1
    assert raw_count(db_path, "attachments") == 3
    assert store.delete_messages_from(conversation.id, 10) == 0
    regenerated = store.add_message(conversation.id, Role.ASSISTANT, "again")
    assert regenerated.position == 4


def test_count_messages_of_missing_conversation(store: Store) -> None:
    assert store.count_messages(8080) == 0


# --- attachments -----------------------------------------------------------------------------


def test_attachments_round_trip_with_bytes(store: Store, db_path: Path, clock: FakeClock) -> None:
    conversation = store.create_conversation()
    every_byte = bytes(range(256)) * 4096  # 1 MiB, every byte value, NULs included
    message = store.add_message(
        conversation.id,
        Role.USER,
        "two files",
        attachments=[
            NewAttachment("photo.jpg", "image/jpeg", data=every_byte, width=640, height=480),
            NewAttachment("remote.png", "image/png", url="https://example.invalid/r.png"),
        ],
    )
    photo, remote = message.attachments
    assert isinstance(photo, Attachment)
    assert (photo.name, photo.mime, photo.size) == ("photo.jpg", "image/jpeg", len(every_byte))
    assert (photo.width, photo.height, photo.url) == (640, 480, None)
    assert (remote.size, remote.url) == (0, "https://example.invalid/r.png")
    assert store.attachment_data(photo.id) == every_byte
    assert store.attachment_data(remote.id) is None
    assert store.attachment_data(123456) is None

    store.close()
    with Store.open(db_path, clock=clock) as reopened:
        again = reopened.get_message(message.id)
        assert again is not None and again.attachments == (photo, remote)
        assert reopened.attachment_data(photo.id) == every_byte


def test_new_attachment_needs_data_or_url() -> None:
    with pytest.raises(ValueError, match="needs data or a url"):
        NewAttachment("empty", "text/plain")


# --- UI state --------------------------------------------------------------------------------


def test_state_values_are_json(store: Store, db_path: Path, clock: FakeClock) -> None:
    assert store.get_state("tabs") is None
    assert store.get_state("tabs", default=[]) == []
    store.set_state("tabs", [3, 1, 2])
    store.set_state("selected", 3)
    store.set_state("layout", {"sidebar": True, "width": 32.5, "name": "Grüße ✓"})
    store.set_state("nothing", None)
    assert store.get_state("tabs") == [3, 1, 2]
    assert store.get_state("selected") == 3
    assert store.get_state("layout") == {"sidebar": True, "width": 32.5, "name": "Grüße ✓"}
    assert store.get_state("nothing", default="fallback") is None
    store.set_state("tabs", [])
    assert store.get_state("tabs") == []
    with pytest.raises(TypeError):
        store.set_state("bad", object())
    with pytest.raises(ValueError, match="JSON"):
        store.set_state("bad", float("nan"))
    assert store.get_state("bad", default="absent") == "absent"

    store.close()
    with sqlite3.connect(db_path) as raw:
        raw.execute("INSERT INTO app_state VALUES ('garbled', '{not json')")
    with Store.open(db_path, clock=clock) as reopened:
        assert reopened.get_state("selected") == 3
        with pytest.raises(StoreError, match="garbled"):
            reopened.get_state("garbled")


def test_prompt_history(store: Store) -> None:
    assert store.prompt_history() == []
    for text in ["one", "two", "two", "  ", "", "one", "three"]:
        store.add_prompt_history(text)
    assert store.prompt_history() == ["three", "one", "two", "one"]
    assert store.prompt_history(limit=2) == ["three", "one"]
    assert store.prompt_history(limit=0) == []


def test_prompt_history_keeps_the_newest(store: Store, db_path: Path) -> None:
    for number in range(PROMPT_HISTORY_SIZE + 20):
        store.add_prompt_history(f"prompt {number}")
    history = store.prompt_history(limit=10_000)
    assert len(history) == PROMPT_HISTORY_SIZE == 500
    assert history[0] == f"prompt {PROMPT_HISTORY_SIZE + 19}"
    assert history[-1] == "prompt 20"
    assert raw_count(db_path, "prompt_history") == PROMPT_HISTORY_SIZE


# --- lifecycle -------------------------------------------------------------------------------


def test_data_survives_reopening(db_path: Path) -> None:
    with Store.open(db_path) as first:
        conversation = first.create_conversation(title="persisted", model="m")
        message = first.add_message(conversation.id, Role.USER, "still here")
    with Store.open(db_path) as second:
        expected = replace(conversation, message_count=1, updated_at=message.created_at)
        assert second.get_conversation(conversation.id) == expected
        assert second.messages(conversation.id) == [message]


def test_closed_store_raises_store_error(db_path: Path) -> None:
    store = Store.open(db_path)
    assert "(open)" in repr(store)
    store.close()
    store.close()  # twice is fine
    assert store.closed
    assert "closed" in repr(store)
    with pytest.raises(StoreError, match="closed"):
        store.list_conversations()


def test_context_manager_closes(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.path == db_path
    assert store.closed


def test_memory_store(clock: FakeClock) -> None:
    with Store.open(":memory:", clock=clock) as store:
        assert store.path is None
        conversation = store.create_conversation()
        store.add_message(conversation.id, Role.USER, "ephemeral")
        assert store.count_messages(conversation.id) == 1
        assert "in-memory" in repr(store)
