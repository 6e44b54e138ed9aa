"""The one connection (studio.gateway.Gateway) against the real emulator on loopback: one client
per gateway, the demo emulator started on first use and stopped on close, a newly entered key
(checked first) or the demo taken up without a restart."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest

from studio import paths
from studio.api.errors import AuthenticationError
from studio.config import Settings, load_settings
from studio.emulator import EmulatorServer
from studio.gateway import DEMO_GATEWAY_FOLDER, Gateway

from .conftest import TEST_KEY


def settings_for(emulator: EmulatorServer, key: str | None = None) -> Settings:
    return replace(Settings(), base_url=emulator.base_url, api_key=key, max_retries=0)


async def test_the_demo_starts_on_first_use_and_stops_on_close() -> None:
    gateway = Gateway(Settings(), demo=True)
    assert not gateway.needs_key and not gateway.ready
    assert gateway.label == "demo emulator" and gateway.cache_key == "demo"
    async with gateway:
        first, second = await asyncio.gather(gateway.client(), gateway.client())
        assert first is second  # concurrent first uses share one client
        assert await first.list_models()
        base_url = first.base_url
    assert not gateway.ready
    with pytest.raises(httpx.ConnectError):  # the emulator's port is closed again
        async with httpx.AsyncClient() as probe:
            await probe.get(f"{base_url}/v1/models", timeout=5)


async def test_demo_tasks_are_kept_in_the_data_dir_unless_asked_not_to() -> None:
    for keep in (False, True):
        async with Gateway(Settings(), demo=True, keep_demo_tasks=keep) as gateway:
            client = await gateway.client()
            await client.create_seedance_task("seedance-2.0", "a kite")
        assert (paths.data_dir() / DEMO_GATEWAY_FOLDER).exists() is keep


async def test_a_new_key_is_checked_saved_and_used_without_a_restart(
    emulator: EmulatorServer,
) -> None:
    gateway = Gateway(settings_for(emulator), demo=False)
    assert gateway.needs_key
    with pytest.raises(AuthenticationError):
        await gateway.client()
    refused = await gateway.check_key("sk-wrong-key-000000000000")
    assert refused.outcome == "refused"
    accepted = await gateway.check_key(TEST_KEY)
    assert accepted.outcome == "accepted" and accepted.models > 0
    assert load_settings().api_key is None  # checking saves nothing

    async with gateway:
        await gateway.use_key(TEST_KEY)
        assert (gateway.needs_key, gateway.demo) == (False, False)
        assert gateway.label == emulator.base_url.removeprefix("http://")
        real = await gateway.client()
        assert len(await real.list_models()) == accepted.models
        assert load_settings().api_key == TEST_KEY

        await gateway.use_demo()
        assert gateway.demo and gateway.label == "demo emulator"
        demo = await gateway.client()
        assert demo is not real and demo.base_url != real.base_url
        assert await demo.list_models()


async def test_a_gateway_that_does_not_answer_is_unreachable() -> None:
    gateway = Gateway(replace(Settings(), base_url="http://127.0.0.1:9"), demo=False)
    check = await gateway.check_key(TEST_KEY)
    assert check.outcome == "unreachable" and check.reason
