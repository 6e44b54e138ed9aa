"""A stream that fails before any content is sent again under the retry policy; once content (or
reasoning) was shown it never is. Trouble after the finish reason is a warning, not a failure."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from studio.api import AnyFastClient, ChatDelta, IncompleteStreamError, Timeouts
from studio.api.errors import AnyFastError
from studio.emulator import EmulatorServer

CHAT = "/v1/chat/completions"
USER = [{"role": "user", "content": "Tell me about retries [[emulator: tokens=40]]"}]
THINKING = [{"role": "user", "content": "Think first [[emulator: tokens=20; think=5]]"}]


def chat_requests(emulator: EmulatorServer, since: int) -> int:
    return sum(1 for r in emulator.requests[since:] if r.path == CHAT)


def open_client(
    emulator: EmulatorServer, retries: list[AnyFastError], max_retries: int = 2
) -> AnyFastClient:
    return AnyFastClient(
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        timeouts=Timeouts(connect=2.0, stream_idle=5.0, stream_stall=5.0, request=10.0),
        max_retries=max_retries,
        on_retry=lambda attempt, delay, err: retries.append(err),
    )


async def collect(client: AnyFastClient, messages: list[dict[str, str]]) -> list[ChatDelta]:
    return [d async for d in client.stream_chat("gpt-4o", messages)]


def text(deltas: list[ChatDelta]) -> str:
    return "".join(d.content for d in deltas)


@pytest.fixture
async def whole(emulator: EmulatorServer) -> AsyncIterator[str]:
    async with open_client(emulator, []) as client:
        yield text(await collect(client, USER))


@pytest.mark.parametrize("spec", ["disconnect:0", "silent:0"])
async def test_stream_that_fails_before_content_is_sent_again(
    emulator: EmulatorServer, fast_backoff: None, whole: str, spec: str
) -> None:
    # disconnect:0 — dropped right after the role chunk; silent:0 — headers, then the close.
    retries: list[AnyFastError] = []
    emulator.inject(spec, count=1, path=CHAT)
    before = len(emulator.requests)
    async with open_client(emulator, retries) as client:
        assert text(await collect(client, USER)) == whole
    assert chat_requests(emulator, before) == 2
    assert len(retries) == 1 and isinstance(retries[0], IncompleteStreamError)


async def test_stream_failing_before_content_gives_up_after_max_retries(
    emulator: EmulatorServer, fast_backoff: None
) -> None:
    retries: list[AnyFastError] = []
    emulator.inject("disconnect:0", count=None, path=CHAT)
    before = len(emulator.requests)
    async with open_client(emulator, retries) as client:
        with pytest.raises(IncompleteStreamError) as info:
            await collect(client, USER)
    assert info.value.partial == ""
    assert chat_requests(emulator, before) == 3  # the first try and max_retries (2) more
    assert len(retries) == 2


async def test_http_and_stream_retries_share_one_budget(
    emulator: EmulatorServer, fast_backoff: None
) -> None:
    # A 500 (an HTTP retry), then a stream dropped before content: two retries in all.
    emulator.inject("500", count=1, path=CHAT)
    emulator.inject("disconnect:0", count=1, path=CHAT)
    before = len(emulator.requests)
    async with open_client(emulator, [], max_retries=1) as client:
        with pytest.raises(IncompleteStreamError):
            await collect(client, USER)
    assert chat_requests(emulator, before) == 2


async def test_no_resend_with_retries_off(emulator: EmulatorServer, fast_backoff: None) -> None:
    emulator.inject("disconnect:0", count=1, path=CHAT)
    before = len(emulator.requests)
    async with open_client(emulator, [], max_retries=0) as client:
        with pytest.raises(IncompleteStreamError):
            await collect(client, USER)
    assert chat_requests(emulator, before) == 1


async def test_stream_cut_after_reasoning_is_never_resent(
    emulator: EmulatorServer, fast_backoff: None
) -> None:
    # disconnect:0 fires after the reasoning and before the first content token.
    emulator.inject("disconnect:0", count=1, path=CHAT)
    before = len(emulator.requests)
    shown: list[str] = []

    async def read_reasoning(client: AnyFastClient) -> None:
        async for delta in client.stream_chat("deepseek-r1", THINKING):
            shown.append(delta.reasoning)

    async with open_client(emulator, []) as client:
        with pytest.raises(IncompleteStreamError):
            await read_reasoning(client)
    assert "".join(shown)
    assert chat_requests(emulator, before) == 1


async def test_malformed_usage_chunk_leaves_the_reply_whole_with_a_warning(
    emulator: EmulatorServer, whole: str
) -> None:
    emulator.inject("malformed:usage", count=1, path=CHAT)
    before = len(emulator.requests)
    async with open_client(emulator, []) as client:
        deltas = await collect(client, USER)
    assert text(deltas) == whole
    assert [d.finish_reason for d in deltas if d.finish_reason] == ["stop"]
    warnings = [d.warning for d in deltas if d.warning]
    assert len(warnings) == 1
    assert "malformed" in warnings[0] and "after the reply was complete" in warnings[0]
    assert chat_requests(emulator, before) == 1


@pytest.mark.parametrize(
    ("spec", "finish"), [("content-filter:4", "content_filter"), ("", "length")]
)
async def test_a_cut_reply_says_why_in_its_finish_reason(
    emulator: EmulatorServer, spec: str, finish: str
) -> None:
    if spec:
        emulator.inject(spec, count=1, path=CHAT)
    async with open_client(emulator, []) as client:
        deltas = [
            d async for d in client.stream_chat("gpt-4o", USER, max_tokens=None if spec else 6)
        ]
        reply = await client.chat("gpt-4o", USER, max_tokens=6)
    assert [d.finish_reason for d in deltas if d.finish_reason] == [finish]
    assert len(text(deltas).split()) == (4 if spec else 6)
    assert reply.finish_reason == "length"
