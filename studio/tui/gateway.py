"""The TUI's connection to AnyFast: the configured gateway, or the in-process demo emulator.

No Textual here: screens ask this object for a client; it owns the client's (and the demo
emulator's) lifecycle, and can switch to a newly entered key or to the demo without a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from studio.commands.common import demo_emulator_config, timeouts_for
from studio.config import Settings, set_value

if TYPE_CHECKING:
    from studio.api.client import AnyFastClient
    from studio.emulator import EmulatorServer

KEY_CHECK_SECONDS = 10.0
"""How long checking a pasted key may take (``GET /v1/models``, no retries)."""


@dataclass(frozen=True)
class KeyCheck:
    """What the gateway said about a key: ``accepted`` (with how many models it may use),
    ``refused`` (401), ``unreachable`` (no answer: a network problem, a wrong base URL) or
    ``failed`` (an answer that says nothing about the key: 429, 5xx...), with the reason."""

    outcome: Literal["accepted", "refused", "unreachable", "failed"]
    models: int = 0
    reason: str = ""


class Gateway:
    """Owns one :class:`AnyFastClient`; ``demo`` runs the emulator on 127.0.0.1 in a thread."""

    def __init__(self, settings: Settings, *, demo: bool) -> None:
        self.settings = settings
        self.demo = demo
        self._client: AnyFastClient | None = None
        self._emulator: EmulatorServer | None = None
        self._starting: asyncio.Lock | None = None

    @property
    def needs_key(self) -> bool:
        """True when there is nothing to talk to: no key and no demo."""
        return not self.demo and not self.settings.api_key

    @property
    def ready(self) -> bool:
        return self._client is not None

    @property
    def label(self) -> str:
        """Where requests go, for the title bar."""
        if self.demo:
            return "demo emulator"
        return urlsplit(self.settings.base_url).netloc or self.settings.base_url

    @property
    def cache_key(self) -> str:
        """Identifies the gateway for caches (the model list differs per gateway)."""
        return "demo" if self.demo else self.settings.base_url

    async def client(self) -> AnyFastClient:
        """The client, starting it (and the demo emulator) on first use."""
        if self._client is not None:
            return self._client
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._client is None:
                self._client = await self._start()
        return self._client

    async def _start(self) -> AnyFastClient:
        if self.demo:
            emulator = await asyncio.to_thread(_start_emulator)
            self._emulator = emulator
            key, url = emulator.api_key, emulator.base_url
        else:
            if not self.settings.api_key:
                from studio.api.errors import AuthenticationError

                raise AuthenticationError(
                    "No API key is set: paste one in the welcome panel, run "
                    "`studio config set api_key -`, or start the demo"
                )
            key, url = self.settings.api_key, self.settings.base_url
        from studio.api.client import AnyFastClient  # httpx loads after the first frame

        return AnyFastClient(
            api_key=key,
            base_url=url,
            max_retries=self.settings.max_retries,
            timeouts=timeouts_for(self.settings),
        )

    async def check_key(self, key: str) -> KeyCheck:
        """Ask the configured gateway for its model list with ``key`` (nothing is saved)."""
        from studio.api.client import AnyFastClient
        from studio.api.errors import (
            AnyFastError,
            APIConnectionError,
            APITimeoutError,
            AuthenticationError,
        )
        from studio.api.http import Timeouts

        seconds = KEY_CHECK_SECONDS
        limits = Timeouts(connect=seconds, write=seconds, pool=seconds, request=seconds)
        try:
            async with (
                asyncio.timeout(seconds + 1),  # the client's own timeouts should answer first
                AnyFastClient(
                    api_key=key, base_url=self.settings.base_url, max_retries=0, timeouts=limits
                ) as client,
            ):
                models = await client.list_models()
        except AuthenticationError as exc:
            return KeyCheck("refused", reason=str(exc))
        except (APITimeoutError, TimeoutError):
            return KeyCheck("unreachable", reason=f"no answer within {seconds:g} s")
        except APIConnectionError as exc:
            reason = re.sub(r"^Could not reach the gateway at \S+: ", "", str(exc))
            return KeyCheck("unreachable", reason=reason)
        except AnyFastError as exc:
            return KeyCheck("failed", reason=str(exc))
        return KeyCheck("accepted", models=len(models))

    async def use_key(self, key: str) -> None:
        """Save ``key`` in the config file (mode 0600) and use it from now on."""
        await asyncio.to_thread(set_value, "api_key", key)
        self.settings = dataclasses.replace(self.settings, api_key=key, api_key_source="config")
        await self._reset()
        self.demo = False

    async def use_demo(self) -> None:
        """Switch to the built-in emulator."""
        await self._reset()
        self.demo = True

    async def _reset(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def aclose(self) -> None:
        await self._reset()
        emulator, self._emulator = self._emulator, None
        if emulator is not None:
            await asyncio.to_thread(emulator.stop)


def _start_emulator() -> EmulatorServer:
    from studio.emulator import EmulatorServer

    return EmulatorServer(demo_emulator_config()).start()
