"""Real emulators on 127.0.0.1 (port 0) for the integration tests, and clients for them.

``emulator`` is one emulator shared by the whole session (with ``client``, an
:class:`AnyFastClient` of it); ``emulator_factory`` starts emulators with a configuration of the
test module's own, and ``emulator_client`` opens a plain httpx client on one of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
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


@pytest.fixture(scope="module")
def emulator_factory() -> Iterator[Callable[..., EmulatorServer]]:
    """``emulator_factory(**fields)``: a running emulator on 127.0.0.1, port 0, configured with
    those :class:`EmulatorConfig` fields. Every one is stopped once the module's tests are done;
    ``with emulator_factory(...) as server:`` stops it at the end of the block instead."""
    started: list[EmulatorServer] = []

    def start(**fields: Any) -> EmulatorServer:
        server = EmulatorServer(EmulatorConfig(**fields), host="127.0.0.1", port=0)
        started.append(server)
        return server.start()

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def emulator_client() -> Iterator[Callable[[EmulatorServer], httpx.Client]]:
    """``emulator_client(server)``: an httpx client of ``server`` that sends its key. After the
    test the client is closed and the server's faults are cleared."""
    opened: list[tuple[EmulatorServer, httpx.Client]] = []

    def open_client(server: EmulatorServer) -> httpx.Client:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        client = httpx.Client(base_url=server.base_url, headers=headers, timeout=10)
        opened.append((server, client))
        return client

    yield open_client
    for server, client in opened:
        client.close()
        server.clear_faults()


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
