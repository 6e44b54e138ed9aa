"""Snapshots (pytest-textual-snapshot) of the main screen, the model picker and errors.

Run ``pytest tests/tui/test_snapshots.py --snapshot-update`` after an intended visual change,
then look at the SVGs in ``__snapshots__`` before committing them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from studio.api.types import Usage
from studio.config import Settings
from studio.emulator.replies import Prompt, reply_tokens
from studio.gateway import Gateway
from studio.store import MessageStatus, Role, Store
from studio.tui.app import StudioApp
from studio.tui.screens.model_picker import ModelPicker
from studio.tui.widgets.conversation_list import ConversationList

NOW = 1_795_000_000.0  # a fixed "now" so times and ages never change
SIZE = (130, 40)
SMALL = (80, 24)
"""The classic SSH window: every screen must be usable in it."""


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


async def open_picker(pilot: Pilot[None]) -> None:
    """f2, once the gateway's list has replaced the cached one; then a filter."""
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


def test_model_picker(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    app = seeded_app(tmp_path, settings, conversation_with_reply)
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


def seeded_jobs(store: Store) -> int:
    """A job in every state, held by a live engine on another host so nothing here touches it."""
    from studio.jobs import JobFile, JobKind, JobProvider, JobState

    conv = store.create_conversation(title="Storyboard")
    store.add_message(conv.id, Role.USER, "/video a paper boat in the rain")
    held = {"claimed_by": "render-farm:1", "lease_until": NOW + 10**9}
    plan = [
        (JobState.PENDING, JobKind.VIDEO, JobProvider.SEEDANCE, "a paper boat in the rain", 0),
        (JobState.SUBMISSION_UNCERTAIN, JobKind.VIDEO, JobProvider.KLING, "city at night", 0),
        (JobState.QUEUED, JobKind.VIDEO, JobProvider.KLING, "a fox running through snow", 10),
        (JobState.RUNNING, JobKind.VIDEO, JobProvider.SEEDANCE, "waves on a black beach", 55),
        (JobState.DOWNLOADING, JobKind.VIDEO, JobProvider.SEEDANCE, "time-lapse of clouds", 100),
        (JobState.SUCCEEDED, JobKind.IMAGE, JobProvider.SEEDREAM, "a lighthouse at dusk", 100),
        (JobState.FAILED, JobKind.VIDEO, JobProvider.KLING, "a crowded market", 100),
        (JobState.TIMED_OUT, JobKind.VIDEO, JobProvider.SEEDANCE, "an orbit of the moon", 80),
        (JobState.CANCELLED, JobKind.IMAGE, JobProvider.SEEDREAM, "a red kite", 0),
    ]
    for index, (state, kind, provider, prompt, progress) in enumerate(plan):
        job = store.create_job(
            kind=kind,
            provider=provider,
            action="text2video" if provider is JobProvider.KLING else "generate",
            model="kling-v2-master" if provider is JobProvider.KLING else "seedance-2.0",
            prompt=prompt,
            params={"duration": 5},
            idempotency_key=f"snap-{index}",
            **held,
        )
        changes: dict[str, object] = {"state": state, "progress": progress}
        if state is JobState.FAILED:
            changes["failure_reason"] = "Failure to pass the risk control system"
        if state is JobState.SUCCEEDED:
            changes["files"] = (
                JobFile(index=0, url=None, path="/media/lighthouse.png", size=48213, done=True),
            )
        store.update_job(job.id, **changes)
    return conv.id


async def open_job_sidebar(pilot: Pilot[None]) -> None:
    """ctrl+g, once the sidebar lists the nine jobs of :func:`seeded_jobs`."""
    from textual.widgets import OptionList

    from studio.tui.widgets.job_sidebar import JobSidebar

    await pilot.press("ctrl+g")
    for _ in range(300):
        sidebar = pilot.app.screen.query_one("#jobs-sidebar", JobSidebar)
        if sidebar.query_one(OptionList).option_count == 9:
            break
        await pilot.pause(0.02)
    await pilot.pause()


def test_job_sidebar_in_every_state(
    snap_compare: Callable[..., bool],
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from studio.tui.widgets.job_sidebar import JobSidebar

    monkeypatch.setattr(JobSidebar, "clock", staticmethod(lambda: NOW + 95))
    app = seeded_app(tmp_path, settings, seeded_jobs)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_job_sidebar)


def test_image_form(snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings) -> None:
    app = seeded_app(tmp_path, settings, conversation_with_reply)
    assert snap_compare(app, terminal_size=SIZE, press=["f10", "_"])


def test_video_form_with_a_field_error(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    app = seeded_app(tmp_path, settings, conversation_with_reply)

    async def fill(pilot: Pilot[None]) -> None:
        await pilot.press("f12")
        await pilot.pause()
        form = pilot.app.screen
        form.query_one("#prompt").text = "a slow zoom into a forest"  # type: ignore[attr-defined]
        form.query_one("#duration").value = "42"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=fill)


# -- 80x24, the classic SSH window ---------------------------------------------------------------


def test_main_screen_at_80x24(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    """The conversation list hides itself; the key bar keeps f1 Help."""
    app = seeded_app(tmp_path, settings, conversation_with_reply)
    assert snap_compare(app, terminal_size=SMALL)


def test_help_at_80x24(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    """Every border shows; each binding's id is whole, after its action."""
    app = seeded_app(tmp_path, settings, conversation_with_reply)
    assert snap_compare(app, terminal_size=SMALL, press=["f1"])


def test_settings_with_a_refused_value_at_80x24(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    """The reason and the buttons are on screen."""
    app = seeded_app(tmp_path, settings, conversation_with_reply)

    async def refuse(pilot: Pilot[None]) -> None:
        await pilot.press("f3")
        await pilot.pause()
        pilot.app.screen.query_one("#temperature").value = "5"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SMALL, run_before=refuse)


def test_welcome_at_80x24(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    """No key: the field and the demo button fit."""
    app = seeded_app(tmp_path, dataclasses.replace(settings, api_key=None), lambda store: 0)
    assert snap_compare(app, terminal_size=SMALL)


def test_model_picker_at_80x24(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings
) -> None:
    """One line per model; the count says how many the filter left."""
    app = seeded_app(tmp_path, settings, conversation_with_reply)
    assert snap_compare(app, terminal_size=SMALL, run_before=open_picker)


def test_job_sidebar_at_80x24(
    snap_compare: Callable[..., bool],
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The job sidebar beside a chat pane (the conversation list makes room)."""
    from studio.tui.widgets.job_sidebar import JobSidebar

    monkeypatch.setattr(JobSidebar, "clock", staticmethod(lambda: NOW + 95))
    app = seeded_app(tmp_path, settings, seeded_jobs)
    assert snap_compare(app, terminal_size=SMALL, run_before=open_job_sidebar)
