"""The chat core on its own: a ChatSession over a real store (or memory) and the real client
against the emulator. What events a reply yields, what it stores and when, and what history
regenerate and edit-and-resend send."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.api import AnyFastClient
from studio.chat import (
    ChatSession,
    MemoryRecords,
    Reply,
    ReplyDelta,
    ReplyEvent,
    ReplyFailed,
    ReplyFinished,
    ReplyStarted,
)
from studio.store import MessageStatus, NewAttachment, Role, Store

MODEL = "gpt-4o"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "studio.db") as opened:
        yield opened


def session_of(
    store: Store, client: AnyFastClient, *, system: str | None = None, max_tokens: int | None = None
) -> ChatSession:
    conversation = store.create_conversation(
        model=MODEL, system_prompt=system, max_tokens=max_tokens
    )

    async def connect() -> AnyFastClient:
        return client

    return ChatSession(store, conversation.id, connect, default_model=lambda: "other-model")


async def events_of(reply: Reply) -> list[ReplyEvent]:
    return [event async for event in reply]


def text_of(events: list[ReplyEvent]) -> str:
    return "".join(e.content for e in events if isinstance(e, ReplyDelta))


async def test_a_complete_reply_starts_streams_and_finishes(
    store: Store, client: AnyFastClient
) -> None:
    session = session_of(store, client, system="Be brief.")
    sent = session.send("Hello there [[emulator: tokens=12]]")
    assert sent.title == "Hello there [[emulator: tokens=12]]"
    reply = session.start_reply()
    assert reply is not None
    assert reply.history == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello there [[emulator: tokens=12]]"},
    ]
    events = await events_of(reply)
    assert isinstance(events[0], ReplyStarted) and events[0].model == MODEL
    assert events[0].message.status is MessageStatus.STREAMING
    end = events[-1]
    assert isinstance(end, ReplyFinished) and end.save_error is None
    assert end.status is MessageStatus.COMPLETE and end.note == ""
    assert end.usage is not None and end.finish_reason == "stop"
    assert len(text_of(events).split()) == 12
    stored = store.get_message(reply.message.id)
    assert stored == end.message and stored.content == text_of(events) == reply.text
    assert await reply.end() is end


async def test_stop_mid_stream_keeps_the_partial_reply(store: Store, client: AnyFastClient) -> None:
    session = session_of(store, client)
    session.send("Go on [[emulator: tokens=400; rate=40]]")
    reply = session.start_reply()
    assert reply is not None
    events: list[ReplyEvent] = []
    async for event in reply:
        events.append(event)
        if isinstance(event, ReplyDelta) and len(reply.text.split()) >= 3:
            reply.stop()
    end = events[-1]
    assert isinstance(end, ReplyFinished) and end.status is MessageStatus.STOPPED
    assert end.note == "stopped"
    stored = store.get_message(reply.message.id)
    assert stored is not None and stored.status is MessageStatus.STOPPED
    assert stored.content == text_of(events) and 3 <= len(stored.content.split()) < 400


async def test_stop_while_waiting_for_the_gateway(store: Store, client: AnyFastClient) -> None:
    session = session_of(store, client)
    session.send("Think first [[emulator: tokens=20; fault=hang:60]]")
    reply = session.start_reply()
    assert reply is not None
    asyncio.get_running_loop().call_later(0.3, reply.stop)
    events = await asyncio.wait_for(events_of(reply), 10)
    end = events[-1]
    assert isinstance(end, ReplyFinished) and end.status is MessageStatus.STOPPED
    stored = store.get_message(reply.message.id)
    assert stored is not None and stored.status is MessageStatus.STOPPED and stored.content == ""


async def test_a_cancelled_consumer_leaves_a_stopped_reply(
    store: Store, client: AnyFastClient
) -> None:
    session = session_of(store, client)
    session.send("Go on [[emulator: tokens=400; rate=40]]")
    reply = session.start_reply()
    assert reply is not None
    first = asyncio.Event()

    async def consume() -> None:
        async for event in reply:
            if isinstance(event, ReplyDelta):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    end = await reply.end()
    assert isinstance(end, ReplyFinished) and end.status is MessageStatus.STOPPED
    stored = store.get_message(reply.message.id)
    assert stored is not None and stored.status is MessageStatus.STOPPED and stored.content


async def test_a_stream_cut_mid_reply_is_cut(store: Store, client: AnyFastClient) -> None:
    session = session_of(store, client)
    session.send("Then it breaks [[emulator: tokens=30; fault=disconnect:4]]")
    reply = session.start_reply()
    assert reply is not None
    events = await events_of(reply)
    end = events[-1]
    assert isinstance(end, ReplyFailed) and end.status is MessageStatus.CUT and end.note == "cut"
    assert end.message.error and text_of(events)
    stored = store.get_message(reply.message.id)
    assert stored is not None and stored.status is MessageStatus.CUT
    assert stored.content == text_of(events)


async def test_an_error_before_any_content_loses_nothing(
    store: Store, client: AnyFastClient
) -> None:
    session = session_of(store, client)
    sent = session.send("Refused [[emulator: fault=403]]")
    reply = session.start_reply()
    assert reply is not None
    events = await events_of(reply)
    end = events[-1]
    assert isinstance(end, ReplyFailed) and end.status is MessageStatus.ERROR
    assert not any(isinstance(e, ReplyDelta) for e in events)
    assert end.message.error and end.message.content == ""
    messages = store.messages(session.conversation_id)
    assert [m.id for m in messages] == [sent.message.id, reply.message.id]
    assert messages[0].content == "Refused [[emulator: fault=403]]"
    assert messages[1].status is MessageStatus.ERROR


async def test_a_reply_at_the_token_limit_is_cut_at_limit(
    store: Store, client: AnyFastClient
) -> None:
    session = session_of(store, client, max_tokens=5)
    session.send("Tell me a lot [[emulator: tokens=40]]")
    reply = session.start_reply()
    assert reply is not None
    assert reply.params == {"temperature": None, "max_tokens": 5}
    end = (await events_of(reply))[-1]
    assert isinstance(end, ReplyFinished) and end.status is MessageStatus.COMPLETE
    assert end.finish_reason == "length" and end.note == "cut at the max-tokens limit"


async def test_regenerate_replaces_the_last_reply_and_sends_what_came_before(
    store: Store, client: AnyFastClient
) -> None:
    session = session_of(store, client)
    first = session.send("One [[emulator: tokens=5]]").message
    old = session.start_reply()
    assert old is not None
    await events_of(old)
    reply = session.regenerate(old.message)
    assert reply is not None
    assert reply.history == [{"role": "user", "content": "One [[emulator: tokens=5]]"}]
    await events_of(reply)
    messages = store.messages(session.conversation_id)
    assert [m.id for m in messages] == [first.id, reply.message.id]
    assert store.get_message(old.message.id) is None
    assert messages[1].status is MessageStatus.COMPLETE


async def test_edit_and_resend_replaces_the_message_and_what_follows(
    store: Store, client: AnyFastClient
) -> None:
    session = session_of(store, client)
    first = session.send("One [[emulator: tokens=3]]").message
    reply = session.start_reply()
    assert reply is not None
    await events_of(reply)
    image = NewAttachment(name="dot.png", mime="image/png", url="https://example.com/dot.png")
    second = session.send("Two", [image]).message
    second_reply = session.start_reply()
    assert second_reply is not None
    await events_of(second_reply)
    edited = session.send("Two, better [[emulator: tokens=3]]", replacing=second)
    assert edited.title is None  # the conversation had its title already
    again = session.start_reply()
    assert again is not None
    assert again.history == [
        {"role": "user", "content": "One [[emulator: tokens=3]]"},
        {"role": "assistant", "content": reply.text},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Two, better [[emulator: tokens=3]]"},
                {"type": "image_url", "image_url": {"url": "https://example.com/dot.png"}},
            ],
        },
    ]
    await events_of(again)
    messages = store.messages(session.conversation_id)
    assert [m.id for m in messages] == [
        first.id,
        reply.message.id,
        edited.message.id,
        again.message.id,
    ]
    assert [a.name for a in messages[2].attachments] == ["dot.png"]  # kept from the edited one


async def test_the_partial_reply_is_in_the_store_while_streaming(
    store: Store, client: AnyFastClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("studio.chat.session.SAVE_EVERY", 0.1)
    session = session_of(store, client)
    session.send("Slowly [[emulator: tokens=60; rate=40]]")
    reply = session.start_reply()
    assert reply is not None
    seen: list[str] = []
    async for _event in reply:
        stored = store.get_message(reply.message.id)
        assert stored is not None
        if stored.status is MessageStatus.STREAMING and stored.content:
            seen.append(stored.content)
    assert seen, "nothing was saved while the reply streamed"
    assert all(reply.text.startswith(partial) for partial in seen)
    assert len(set(seen)) > 1  # saved again and again, not once


async def test_a_refused_final_save_is_kept_and_saved_later(
    store: Store, client: AnyFastClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = session_of(store, client)
    session.send("Hi [[emulator: tokens=5]]")
    reply = session.start_reply()
    assert reply is not None
    real = Store.finish_reply

    def locked(self: Store, *args: object, **kwargs: object) -> object:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(Store, "finish_reply", locked)
    end = (await events_of(reply))[-1]
    assert isinstance(end, ReplyFinished) and isinstance(end.save_error, RuntimeError)
    assert end.message.status is MessageStatus.COMPLETE and end.message.content == reply.text
    assert session.retry_saves() == 0 and session.unsaved
    monkeypatch.setattr(Store, "finish_reply", real)
    assert session.retry_saves() == 1 and not session.unsaved
    stored = store.get_message(reply.message.id)
    assert stored is not None and stored.status is MessageStatus.COMPLETE
    assert stored.content == reply.text


async def test_in_memory_the_session_sends_the_same_history(client: AnyFastClient) -> None:
    records = MemoryRecords(model=MODEL, system_prompt="Be brief.", max_tokens=50)
    records.add_message(1, Role.USER, "Hi [[emulator: tokens=4]]")

    async def connect() -> AnyFastClient:
        return client

    session = ChatSession(records, 1, connect, default_model=lambda: MODEL, stream=False)
    reply = session.start_reply()
    assert reply is not None
    assert reply.history == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi [[emulator: tokens=4]]"},
    ]
    events = await events_of(reply)
    assert [type(e) for e in events] == [ReplyStarted, ReplyDelta, ReplyFinished]
    assert len(text_of(events).split()) == 4
    assert records.messages(1)[-1].status is MessageStatus.COMPLETE
