"""The one connection to AnyFast: settings -> :class:`AnyFastClient`, and the demo emulator's life.

The TUI and the headless commands both ask a :class:`Gateway` for their client. It builds the
client with the timeouts and retries from the settings, runs the built-in emulator on 127.0.0.1
in-process for the demo, and can switch to a newly entered key or to the demo without a restart.
No Textual here; httpx loads when the first client is made (not before the TUI's first frame).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self
from urllib.parse import urlsplit

from studio.config import Settings, set_value
from studio.paths import data_dir

if TYPE_CHECKING:
    from studio.api.client import AnyFastClient
    from studio.api.http import RetryCallback, Timeouts
    from studio.api.types import ModelInfo
    from studio.emulator import EmulatorConfig, EmulatorServer

DEMO_TOKEN_RATE = 150.0
"""Demo replies stream visibly but finish in a couple of seconds."""

DEMO_VIDEO_SECONDS = 20.0
"""Demo video jobs finish in well under a minute, so the whole flow can be tried at once."""

DEMO_GATEWAY_FOLDER = "demo-gateway"
"""Under the data dir: the demo emulator's tasks and files, shared by every Studio process."""

KEY_CHECK_SECONDS = 10.0
"""How long checking a pasted key may take (``GET /v1/models``, no retries)."""


_CONNECTION = (
    "api_key",
    "base_url",
    "max_retries",
    "request_timeout",
    "stream_idle_timeout",
    "stream_stall_timeout",
)
"""The settings the client is built from."""


def demo_emulator_config(*, keep_tasks: bool = True) -> EmulatorConfig:
    """The demo emulator's settings: paced replies, short videos, tasks kept in the data dir
    (so a demo job survives a restart and a later command sees it, as with the real gateway).
    ``keep_tasks=False`` keeps nothing on disk (``studio doctor --demo`` creates nothing)."""
    from studio.emulator import EmulatorConfig

    return EmulatorConfig(
        api_key=None,
        token_rate=DEMO_TOKEN_RATE,
        video_seconds=DEMO_VIDEO_SECONDS,
        data_dir=str(data_dir() / DEMO_GATEWAY_FOLDER) if keep_tasks else None,
    )


def timeouts_for(settings: Settings) -> Timeouts:
    """The client's timeouts as the settings give them."""
    from studio.api.http import Timeouts  # httpx: not before the TUI's first frame

    return Timeouts(
        stream_idle=settings.stream_idle_timeout,
        stream_stall=settings.stream_stall_timeout,
        request=settings.request_timeout,
    )


@dataclass(frozen=True)
class KeyCheck:
    """What the gateway said about a key: ``accepted`` (with how many models it may use),
    ``refused`` (401), ``unreachable`` (no answer: a network problem, a wrong base URL) or
    ``failed`` (an answer that says nothing about the key: 429, 5xx...), with the reason."""

    outcome: Literal["accepted", "refused", "unreachable", "failed"]
    models: int = 0
    reason: str = ""


class Gateway:
    """Owns one :class:`AnyFastClient` (made on first use) and, for the demo, the emulator.

    ``demo`` runs the built-in emulator on 127.0.0.1 in a thread; ``keep_demo_tasks`` keeps its
    tasks in the data dir; ``on_retry`` is told about every retry the client makes. Use it as
    an async context manager, or call :meth:`aclose` when done.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool,
        keep_demo_tasks: bool = True,
        on_retry: RetryCallback | None = None,
    ) -> None:
        self.settings = settings
        self.demo = demo
        self._keep_demo_tasks = keep_demo_tasks
        self._on_retry = on_retry
        self._client: AnyFastClient | None = None
        self._retired: list[AnyFastClient] = []
        self._emulator: EmulatorServer | None = None
        self._starting: asyncio.Lock | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def needs_key(self) -> bool:
        """True when there is nothing to talk to: no key and no demo."""
        return not self.demo and not self.settings.api_key

    @property
    def ready(self) -> bool:
        """True once the client exists."""
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
                key, url = await self._address()
                self._client = _new_client(
                    key,
                    url,
                    max_retries=self.settings.max_retries,
                    timeouts=timeouts_for(self.settings),
                    on_retry=self._on_retry,
                )
        return self._client

    async def _address(self) -> tuple[str, str]:
        """The key and base URL to use: the demo emulator's (started now), or the settings'."""
        if self.demo:
            if self._emulator is None:
                self._emulator = await asyncio.to_thread(self._start_emulator)
            return self._emulator.api_key, self._emulator.base_url
        if not self.settings.api_key:
            from studio.api.errors import AuthenticationError

            raise AuthenticationError(
                "No API key is set: paste one in the welcome panel, run "
                "`studio config set api_key -`, or start the demo"
            )
        return self.settings.api_key, self.settings.base_url

    def _start_emulator(self) -> EmulatorServer:
        from studio.emulator import EmulatorServer

        return EmulatorServer(demo_emulator_config(keep_tasks=self._keep_demo_tasks)).start()

    async def list_models_once(self, seconds: float) -> list[ModelInfo]:
        """``GET /v1/models`` on this gateway with no retries, giving up after ``seconds``
        (``TimeoutError``); the demo emulator starts first if need be."""
        key, url = await self._address()
        return await _list_models_once(key, url, seconds)

    async def check_key(self, key: str, base_url: str | None = None) -> KeyCheck:
        """Ask the gateway at ``base_url`` (the configured one by default) for its model list
        with ``key`` (nothing is saved)."""
        from studio.api.errors import (
            AnyFastError,
            APIConnectionError,
            APITimeoutError,
            AuthenticationError,
        )

        seconds = KEY_CHECK_SECONDS
        try:
            models = await _list_models_once(key, base_url or self.settings.base_url, seconds)
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
        await self._drop_client()
        self.demo = False

    def use_settings(self, settings: Settings) -> None:
        """Use ``settings`` (already saved) from the next request on: a changed key, base URL,
        retries or timeouts get a new client; a reply streaming through the old one finishes."""
        if any(getattr(settings, name) != getattr(self.settings, name) for name in _CONNECTION):
            retired, self._client = self._client, None
            if retired is not None:
                self._retired.append(retired)  # closed with the gateway
        self.settings = settings

    async def use_demo(self) -> None:
        """Switch to the built-in emulator."""
        await self._drop_client()
        self.demo = True

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def aclose(self) -> None:
        """Close the client and stop the demo emulator, if they run."""
        await self._drop_client()
        retired, self._retired = self._retired, []
        for client in retired:
            await client.aclose()
        emulator, self._emulator = self._emulator, None
        if emulator is not None:
            await asyncio.to_thread(emulator.stop)


async def _list_models_once(key: str, base_url: str, seconds: float) -> list[ModelInfo]:
    from studio.api.http import Timeouts

    limits = Timeouts(connect=seconds, write=seconds, pool=seconds, request=seconds)
    async with (
        asyncio.timeout(seconds + 1),  # the client's own timeouts should answer first
        _new_client(key, base_url, max_retries=0, timeouts=limits) as client,
    ):
        return await client.list_models()


def _new_client(
    key: str,
    base_url: str,
    *,
    max_retries: int,
    timeouts: Timeouts,
    on_retry: RetryCallback | None = None,
) -> AnyFastClient:
    """The one place Studio makes an :class:`AnyFastClient`."""
    from studio.api.client import AnyFastClient  # httpx loads after the TUI's first frame

    return AnyFastClient(
        api_key=key,
        base_url=base_url,
        max_retries=max_retries,
        timeouts=timeouts,
        on_retry=on_retry,
    )
