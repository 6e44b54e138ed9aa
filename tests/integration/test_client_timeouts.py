"""A gateway that takes a chat request and never answers: one wait of the configured timeout,
no automatic resend (the gateway may still be working on it, and billing it), and an error that
says how long it waited and which setting sets the limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from studio.api import AnyFastClient, APITimeoutError, StreamStalledError, Timeouts
from studio.api.errors import describe
from studio.emulator import EmulatorServer

CHAT = "/v1/chat/completions"
USER = [{"role": "user", "content": "Are you there? [[emulator: tokens=20]]"}]
LIMIT = 1.0
"""The timeout under test, in seconds; a resend would make the wait about three times as long."""


def chat_requests(emulator: EmulatorServer, since: int) -> int:
    return sum(1 for r in emulator.requests[since:] if r.path == CHAT)


async def requests_logged(emulator: EmulatorServer, since: int) -> int:
    """The chat requests since ``since``, once the emulator logged at least one (an unanswered
    request is logged when its connection closes, just after the client gave up)."""
    deadline = time.monotonic() + 5.0
    while not chat_requests(emulator, since):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    return chat_requests(emulator, since)


@pytest.fixture
async def patient_client(
    emulator: EmulatorServer, fast_backoff: None
) -> AsyncIterator[AnyFastClient]:
    """Retries on (two, as by default) with short backoff, and a 1 s limit for each timeout."""
    timeouts = Timeouts(connect=2.0, stream_idle=LIMIT, stream_stall=30.0, request=LIMIT)
    async with AnyFastClient(
        api_key=emulator.api_key, base_url=emulator.base_url, timeouts=timeouts, max_retries=2
    ) as client:
        yield client


async def test_unanswered_chat_waits_one_request_timeout_and_is_not_resent(
    patient_client: AnyFastClient, emulator: EmulatorServer
) -> None:
    emulator.inject("hang:30", count=None, path=CHAT)
    before = len(emulator.requests)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        await patient_client.chat("gpt-4o", USER)
    elapsed = time.monotonic() - started
    assert await requests_logged(emulator, before) == 1
    assert LIMIT * 0.9 <= elapsed < LIMIT * 1.8
    err = info.value
    assert err.setting == "request_timeout"
    assert err.waited == pytest.approx(elapsed, abs=0.3)
    assert "request_timeout = 1 s" in str(err) and "not resent" in str(err)
    assert "studio config set request_timeout" in describe(err)


async def test_unanswered_stream_waits_one_idle_timeout_and_is_not_resent(
    patient_client: AnyFastClient, emulator: EmulatorServer
) -> None:
    emulator.inject("hang:30", count=None, path=CHAT)
    before = len(emulator.requests)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        async for _ in patient_client.stream_chat("gpt-4o", USER):
            pass
    elapsed = time.monotonic() - started
    assert await requests_logged(emulator, before) == 1
    assert LIMIT * 0.9 <= elapsed < LIMIT * 1.8
    assert info.value.setting == "stream_idle_timeout"
    assert "stream_idle_timeout = 1 s" in str(info.value)
    assert "studio config set stream_idle_timeout" in describe(info.value)


async def test_headers_then_silence_waits_one_idle_timeout_and_is_not_resent(
    patient_client: AnyFastClient, emulator: EmulatorServer
) -> None:
    emulator.inject("silent:30", count=None, path=CHAT)
    before = len(emulator.requests)
    started = time.monotonic()
    with pytest.raises(StreamStalledError) as info:
        async for _ in patient_client.stream_chat("gpt-4o", USER):
            pass
    elapsed = time.monotonic() - started
    assert await requests_logged(emulator, before) == 1
    assert LIMIT * 0.9 <= elapsed < LIMIT * 1.8
    assert info.value.setting == "stream_idle_timeout"
    assert "sent no reply for 1 s" in str(info.value)
    assert "studio config set stream_idle_timeout" in describe(info.value)


async def test_keepalives_only_name_the_stall_setting(
    emulator: EmulatorServer, fast_backoff: None
) -> None:
    emulator.inject("stall:30", count=None, path=CHAT)
    watchdog = Timeouts(connect=2, stream_idle=10, stream_stall=0.6, request=10)
    before = len(emulator.requests)
    async with AnyFastClient(
        api_key=emulator.api_key, base_url=emulator.base_url, timeouts=watchdog
    ) as client:
        with pytest.raises(StreamStalledError) as info:
            async for _ in client.stream_chat("gpt-4o", USER):
                pass
    assert await requests_logged(emulator, before) == 1
    assert info.value.setting == "stream_stall_timeout"
    assert "stream_stall_timeout = 0.6 s" in str(info.value)


async def test_connect_errors_and_server_errors_keep_their_retries(
    patient_client: AnyFastClient, emulator: EmulatorServer
) -> None:
    # The timeout rule is narrow: a 502 then a 429 are still retried, as before.
    emulator.inject("502", count=1, path=CHAT)
    emulator.inject("429:empty", count=1, path=CHAT)
    before = len(emulator.requests)
    assert (await patient_client.chat("gpt-4o", USER)).content
    assert chat_requests(emulator, before) == 3
