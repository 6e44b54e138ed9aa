"""The real app against a real emulator on 127.0.0.1, driven by Textual's Pilot."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.widget import Widget
from textual.widgets import OptionList

from studio.config import Settings
from studio.emulator import EmulatorConfig, EmulatorServer
from studio.jobs import EngineConfig
from studio.tui.app import StudioApp
from studio.tui.widgets.chat_pane import ChatPane

TUI_KEY = "sk-tui-test-0123456789abcdef"
SIZE = (140, 44)


@pytest.fixture(scope="session")
def tui_emulator() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(
        api_key=TUI_KEY, token_rate=0, reply_tokens=120, ping_interval=0.2, video_seconds=2.0
    )
    with EmulatorServer(config) as emu:
        yield emu


@pytest.fixture
def emu(tui_emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    tui_emulator.clear_faults()
    yield tui_emulator
    tui_emulator.clear_faults()


@pytest.fixture
def settings(emu: EmulatorServer) -> Settings:
    return Settings(api_key=emu.api_key, base_url=emu.base_url, max_retries=0, clipboard="osc52")


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., StudioApp]:
    def make(**overrides: object) -> StudioApp:
        return StudioApp(settings, **overrides)  # type: ignore[arg-type]

    return make


@pytest.fixture
def media_app(settings: Settings, tmp_path: Path) -> Callable[..., StudioApp]:
    """Makes apps whose job engine polls fast, saving in ``tmp_path``; each app counts its
    bells (``app.bells``) and keeps what it writes raw to the terminal, such as its titles
    (``app.titles``). Each call is another window on the same data folder; keyword arguments
    change its settings."""
    fast = EngineConfig(
        media_dir=tmp_path / "media",
        first_checks=(0.2,),
        seedance_interval=0.3,
        kling_interval=0.3,
        jitter=0.0,
        submit_backoff=0.2,
        error_backoff_max=1.0,
        flush_interval=0.1,
        claim_interval=0.5,
    )

    def make(**changes: Any) -> StudioApp:
        app = StudioApp(dataclasses.replace(settings, **changes), jobs_config=fast)
        app.bells = 0  # type: ignore[attr-defined]

        def bell() -> None:
            app.bells += 1  # type: ignore[attr-defined]

        app.bell = bell  # type: ignore[method-assign]
        app.titles = []  # type: ignore[attr-defined]
        app.write_to_terminal = app.titles.append  # type: ignore[attr-defined,method-assign]
        return app

    return make


class Toasts:
    """The notifications (toasts) an app showed, caught from the ``Notify`` messages it was
    sent: pass :meth:`hook` as ``run_test(message_hook=...)``."""

    def __init__(self) -> None:
        self.shown: list[Notification] = []

    def hook(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.shown.append(message.notification)

    def messages(self) -> list[str]:
        """The text of each notification, oldest first."""
        return [str(n.message) for n in self.shown]

    def any(self, text: str) -> bool:
        """Whether a notification's text contains ``text``."""
        return any(text in message for message in self.messages())

    def first(self, text: str) -> str:
        """The text of the first notification containing ``text``."""
        return next(message for message in self.messages() if text in message)


@pytest.fixture
def toasts() -> Toasts:
    """The notifications of the app run with ``message_hook=toasts.hook``."""
    return Toasts()


def option_ids(widget: Widget, selector: str = "OptionList") -> list[str]:
    """The ids of the options that ``widget``'s option list shows, in order."""
    options = widget.query_one(selector, OptionList)
    return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]


async def wait_for(condition: Callable[[], bool], limit: float = 10.0) -> None:
    """Poll until ``condition()`` holds (the app runs between polls), at most ``limit`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def active_pane(app: StudioApp) -> ChatPane:
    pane = app.screen.active_pane  # type: ignore[attr-defined]
    assert isinstance(pane, ChatPane)
    return pane


async def reply_done(app: StudioApp, count: int) -> ChatPane:
    """Wait until the active pane shows ``count`` messages and nothing streams."""
    pane = active_pane(app)
    await wait_for(lambda: not pane.streaming and len(pane.views()) == count)
    return pane
