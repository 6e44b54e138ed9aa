"""Every fault the emulator can inject, met by the real client: typed errors, retries, partials."""

from __future__ import annotations

import socket

import pytest

from studio.api import (
    AnyFastClient,
    APIConnectionError,
    IncompleteStreamError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamStalledError,
    Timeouts,
)
from studio.api.errors import AnyFastError
from studio.emulator import EmulatorServer

CHAT = "/v1/chat/completions"
USER = [{"role": "user", "content": "Tell me about retries [[emulator: tokens=60]]"}]


def chat_requests(emulator: EmulatorServer, since: int) -> list[object]:
    return [r for r in emulator.requests[since:] if r.path == CHAT]


async def full_text(client: AnyFastClient) -> str:
    return "".join([d.content async for d in client.stream_chat(model="gpt-4o", messages=USER)])


@pytest.mark.parametrize("spec", ["429", "429:task", "429:empty", "500", "502", "503:retry"])
async def test_transient_errors_are_retried_then_succeed(
    client: AnyFastClient, emulator: EmulatorServer, spec: str
) -> None:
    status_spec = spec.replace(":retry", "")
    if status_spec == "503":
        status_spec = "500"  # 503 is model_not_found, which is (rightly) not retried
    before = len(emulator.requests)
    emulator.inject(status_spec, count=1, path=CHAT)
    text = await full_text(client)
    assert text
    assert len(chat_requests(emulator, before)) == 2


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("429", "请求数限制"),
        ("429:task", "上游负载已饱和"),
        ("429:empty", "no explanation"),
    ],
)
async def test_429_storm_gives_up_with_the_servers_words(
    client: AnyFastClient, emulator: EmulatorServer, spec: str, needle: str
) -> None:
    before = len(emulator.requests)
    emulator.inject(spec, count=None, path=CHAT)
    with pytest.raises(RateLimitError) as info:
        await client.chat("gpt-4o", USER)
    assert needle in info.value.message
    assert info.value.retryable
    assert len(chat_requests(emulator, before)) == 3  # first try + 2 retries


async def test_retry_after_is_honoured(emulator: EmulatorServer, timeouts: Timeouts) -> None:
    delays: list[float] = []
    emulator.inject("429:retry-after-ms=120", count=1, path=CHAT)
    async with AnyFastClient(
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        timeouts=timeouts,
        on_retry=lambda attempt, delay, err: delays.append(delay),
    ) as c:
        assert (await c.chat("gpt-4o", USER)).content
    assert delays == [pytest.approx(0.12)]


async def test_retry_after_seconds_header(emulator: EmulatorServer, timeouts: Timeouts) -> None:
    delays: list[float] = []
    emulator.inject("429:retry-after=1", count=1, path=CHAT)
    async with AnyFastClient(
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        timeouts=timeouts,
        on_retry=lambda attempt, delay, err: delays.append(delay),
    ) as c:
        assert (await c.chat("gpt-4o", USER)).content
    assert delays == [1.0]


async def test_retries_can_be_disabled(emulator: EmulatorServer, fast_backoff: None) -> None:
    before = len(emulator.requests)
    emulator.inject("500", count=1, path=CHAT)
    async with AnyFastClient(
        api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0
    ) as c:
        with pytest.raises(ServerError):
            await c.chat("gpt-4o", USER)
    assert len(chat_requests(emulator, before)) == 1


async def test_html_error_page_is_one_clean_line(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    emulator.inject("500:html", count=None, path=CHAT)
    with pytest.raises(ServerError) as info:
        await client.chat("gpt-4o", USER)
    assert "\n" not in str(info.value)


async def test_quota_403_is_not_retried(client: AnyFastClient, emulator: EmulatorServer) -> None:
    before = len(emulator.requests)
    emulator.inject("403", count=None, path=CHAT)
    with pytest.raises(PermissionDeniedError) as info:
        await client.chat("gpt-4o", USER)
    assert info.value.code == "insufficient_user_quota"
    assert len(chat_requests(emulator, before)) == 1


async def test_disconnect_mid_stream_keeps_partial_and_is_not_retried(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    whole = await full_text(client)
    before = len(emulator.requests)
    emulator.inject("disconnect:5", count=1, path=CHAT)
    with pytest.raises(IncompleteStreamError) as info:
        await full_text(client)
    partial = info.value.partial
    assert partial and whole.startswith(partial)
    assert len(partial.split()) == 5
    assert "cut off" in str(info.value).lower()
    assert len(chat_requests(emulator, before)) == 1  # never retried once content was shown


async def test_malformed_chunk_is_a_stream_error_with_partial(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    emulator.inject("malformed:3", count=1, path=CHAT)
    with pytest.raises(StreamError) as info:
        await full_text(client)
    assert "malformed" in str(info.value)
    assert len(info.value.partial.split()) == 3


async def test_error_event_mid_stream(client: AnyFastClient, emulator: EmulatorServer) -> None:
    emulator.inject("error-event:4", count=1, path=CHAT)
    with pytest.raises(StreamError) as info:
        await full_text(client)
    assert "overloaded" in str(info.value)
    assert len(info.value.partial.split()) == 4


async def test_stall_with_only_keepalives_trips_the_content_watchdog(
    emulator: EmulatorServer, fast_backoff: None
) -> None:
    emulator.inject("stall:20", count=1, path=CHAT)
    watchdog = Timeouts(connect=2, stream_idle=10, stream_stall=0.6, request=10)
    async with AnyFastClient(
        api_key=emulator.api_key, base_url=emulator.base_url, timeouts=watchdog
    ) as c:
        with pytest.raises(StreamStalledError) as info:
            await full_text(c)
    assert "keep-alive" in str(info.value)


async def test_silence_trips_the_idle_timeout(emulator: EmulatorServer) -> None:
    # With keep-alives slower than the idle timeout, httpx's byte timer fires first.
    emulator.inject("stall:20", count=1, path=CHAT)
    idle = Timeouts(connect=2, stream_idle=0.1, stream_stall=10, request=10)
    async with AnyFastClient(
        api_key=emulator.api_key, base_url=emulator.base_url, timeouts=idle
    ) as c:
        with pytest.raises(StreamStalledError):
            await full_text(c)


async def test_slow_drip_of_tiny_chunks_gives_the_same_text(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    whole = await full_text(client)
    emulator.inject("drip:1", count=1, path=CHAT)
    assert await full_text(client) == whole


async def test_dead_server_is_a_connection_error_after_retries(
    fast_backoff: None, timeouts: Timeouts
) -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    attempts: list[int] = []
    async with AnyFastClient(
        api_key="sk-any-0123456789",
        base_url=f"http://127.0.0.1:{port}",
        timeouts=timeouts,
        on_retry=lambda attempt, delay, err: attempts.append(attempt),
    ) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.list_models()
    assert attempts == [1, 2]
    assert f"127.0.0.1:{port}" in str(info.value)
    assert not info.value.uncertain


async def test_dropped_non_streamed_chat_is_retried(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    before = len(emulator.requests)
    emulator.inject("disconnect:0", count=1, path=CHAT)
    assert (await client.chat("gpt-4o", USER)).content
    assert len(chat_requests(emulator, before)) == 2


async def test_stream_retried_when_it_fails_before_any_content(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    before = len(emulator.requests)
    emulator.inject("429:empty", count=1, path=CHAT)
    assert await full_text(client)
    assert len(chat_requests(emulator, before)) == 2


async def test_every_error_is_typed(client: AnyFastClient, emulator: EmulatorServer) -> None:
    for spec in ("429", "500", "403", "disconnect:0"):
        emulator.clear_faults()
        emulator.inject(spec, count=None, path=CHAT)
        with pytest.raises(AnyFastError):
            await client.chat("gpt-4o", USER)
