"""Snapshots (pytest-textual-snapshot) of the main screen, the model picker and errors.

Run ``pytest tests/tui/test_snapshots.py --snapshot-update`` after an intended visual change,
then look at the SVGs in ``__snapshots__`` before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from studio.api.types import Usage
from studio.config import Settings
from studio.emulator.replies import Prompt, reply_tokens
from studio.store import MessageStatus, Role, Store
from studio.tui.app import StudioApp
from studio.tui.gateway import Gateway
from studio.tui.screens.model_picker import ModelPicker
from studio.tui.widgets.conversation_list import ConversationList

NOW = 1_795_000_000.0  # a fixed "now" so times and ages never change
SIZE = (130, 40)


class FixedLabelGateway(Gateway):
    """The emulator's port changes every run; the title bar must not."""

    @property
    def label(self) -> str:
        return "www.anyfast.ai"


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(ConversationList, "clock", staticmethod(lambda: NOW + 300))
    yield
    time.tzset()


def make_store(tmp_path: Path) -> Store:
    ticks = iter(NOW + i for i in range(10_000))
    return Store.open(tmp_path / "snap.db", clock=lambda: next(ticks))


def reply_text(question: str, tokens: int) -> str:
    return "".join(reply_tokens(Prompt(question, "snapshot", ()), tokens, whole_sections=True))


def seeded_app(tmp_path: Path, settings: Settings, build: Callable[[Store], int]) -> StudioApp:
    store = make_store(tmp_path)
    active = build(store)
    store.set_state("open_tabs", [c.id for c in reversed(store.list_conversations())])
    store.set_state("active_tab", active)
    return StudioApp(settings, store=store, gateway=FixedLabelGateway(settings, demo=False))


def conversation_with_reply(store: Store) -> int:
    other = store.create_conversation(title="Release checklist")
    store.add_message(other.id, Role.USER, "What should a release checklist contain?")
    main = store.create_conversation(title="Explain server-sent events", model="gpt-4o")
    question = "Explain server-sent events with a code sample and a comparison table"
    store.add_message(main.id, Role.USER, question)
    store.add_message(
        main.id,
        Role.ASSISTANT,
        reply_text(question, 160),
        model="gpt-4o",
        usage=Usage(prompt_tokens=21, completion_tokens=160, total_tokens=181),
    )
    return main.id


def test_main_screen(snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings) -> None:
    app = seeded_app(tmp_path, settings, conversation_with_reply)
    assert snap_compare(app, terminal_size=SIZE)


def test_model_picker(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    app = seeded_app(tmp_path, settings, conversation_with_reply)

    async def open_picker(pilot: Pilot[None]) -> None:
        await pilot.press("f2")
        for _ in range(200):
            screen = pilot.app.screen
            if (
                isinstance(screen, ModelPicker)
                and len(screen.models) > 5
                and "cached" not in str(screen.query_one("#picker-status").render())
            ):
                break
            await pilot.pause(0.02)
        await pilot.press(*"sonnet")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_picker)


def test_errors_inline(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    def build(store: Store) -> int:
        conv = store.create_conversation(title="When things go wrong")
        store.add_message(conv.id, Role.USER, "Summarise the news")
        store.add_message(
            conv.id,
            Role.ASSISTANT,
            "",
            model="claude-sonnet-4-5-20250929",
            status=MessageStatus.ERROR,
            error="HTTP 429: 当前分组上游负载已饱和，请稍后再试 [rate_limit] — the gateway is busy "
            "or your rate limit is reached; wait and retry",
        )
        store.add_message(conv.id, Role.USER, "Try a long answer")
        store.add_message(
            conv.id,
            Role.ASSISTANT,
            "Here is the first part of a long answer that was interrupted when",
            model="claude-sonnet-4-5-20250929",
            status=MessageStatus.CUT,
            error="Response cut off: the connection dropped (RemoteProtocolError)",
        )
        return conv.id

    app = seeded_app(tmp_path, settings, build)
    assert snap_compare(app, terminal_size=SIZE)
