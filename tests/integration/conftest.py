"""A real emulator on 127.0.0.1 (port 0) shared by the integration tests, and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from studio.api import AnyFastClient, Timeouts
from studio.api import http as api_http
from studio.emulator import EmulatorConfig, EmulatorServer

TEST_KEY = "sk-test-0123456789abcdefKEY"


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(api_key=TEST_KEY, token_rate=0, video_seconds=2.0, ping_interval=0.2)
    with EmulatorServer(config) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The shared emulator with no faults left over from another test."""
    emulator_server.clear_faults()
    yield emulator_server
    emulator_server.clear_faults()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds instead of seconds (the policy itself has a unit test)."""
    monkeypatch.setattr(api_http, "BACKOFF_INITIAL", 0.01)
    monkeypatch.setattr(api_http, "BACKOFF_MAX", 0.05)


@pytest.fixture
def timeouts() -> Timeouts:
    return Timeouts(connect=2.0, stream_idle=5.0, stream_stall=5.0, request=10.0)


@pytest.fixture
async def client(
    emulator: EmulatorServer, fast_backoff: None, timeouts: Timeouts
) -> AsyncIterator[AnyFastClient]:
    async with AnyFastClient(
        api_key=emulator.api_key, base_url=emulator.base_url, timeouts=timeouts
    ) as c:
        yield c
