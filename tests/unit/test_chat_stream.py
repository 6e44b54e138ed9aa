"""The streamed-reply reader on exact byte streams: what comes after the finish reason is never
worth failing a complete reply for, while the same junk before it still is."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from studio.api.chat import read_stream
from studio.api.errors import IncompleteStreamError, StreamError
from studio.api.http import RetryBudget
from studio.api.types import ChatDelta

SECRET = "sk-unit-0123456789SECRET"


def chunk(content: str | None = None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    obj = {"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(obj)}\n\n".encode()


USAGE = b'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
DONE = b"data: [DONE]\n\n"
REPLY = [chunk("Hello"), chunk(" world"), chunk(finish="stop")]

JUNK = {
    "malformed": b'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":\n\n',
    "error-object": b'data: {"error":{"message":"late trouble","code":"x"}}\n\n',
    "error-event": b'event: error\ndata: {"error":{"message":"late trouble"}}\n\n',
    "odd-shape": b'data: {"id":"c1","choices":"oops"}\n\n',
    "leaked-key": f'data: {{"error":{{"message":"bad key {SECRET}"}}}}\n\n'.encode(),
}


async def read(*pieces: bytes) -> list[ChatDelta]:
    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    async def open_response(budget: RetryBudget) -> httpx.Response:
        return httpx.Response(200, content=body())

    stream = read_stream(open_response, stall_timeout=60, idle_timeout=60, secrets=(SECRET,))
    return [delta async for delta in stream]


@pytest.mark.parametrize("junk", sorted(JUNK))
async def test_junk_after_the_finish_reason_is_a_warning(junk: str) -> None:
    deltas = await read(*REPLY, JUNK[junk], USAGE, DONE)
    assert "".join(d.content for d in deltas) == "Hello world"
    warnings = [d.warning for d in deltas if d.warning]
    assert len(warnings) == 1
    assert "after the reply was complete" in warnings[0]
    assert SECRET not in warnings[0]
    assert any(d.usage for d in deltas)  # reading went on to the usage chunk after the junk


@pytest.mark.parametrize("junk", sorted(JUNK))
async def test_the_same_junk_before_the_finish_reason_fails_the_reply(junk: str) -> None:
    with pytest.raises(StreamError) as info:
        await read(chunk("Hello"), JUNK[junk], chunk(finish="stop"), DONE)
    assert info.value.partial == "Hello"
    assert SECRET not in str(info.value)


async def test_a_finished_reply_without_done_is_complete() -> None:
    deltas = await read(*REPLY, USAGE)
    assert "".join(d.content for d in deltas) == "Hello world"
    assert not any(d.warning for d in deltas)


async def test_no_finish_and_no_done_is_cut_off() -> None:
    with pytest.raises(IncompleteStreamError) as info:
        await read(chunk("Hello"), chunk(" wor"))
    assert info.value.partial == "Hello wor"
