"""The search screen (ctrl+f): typing finds hits grouped by conversation, the filters narrow
them, Enter opens the conversation scrolled to the hit (far back in a long one too) with the
hit marked, escape closes; hostile text is shown, never obeyed."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Input, OptionList, Select, Static

from studio.emulator.hostile import HOSTILE_SEQUENCES
from studio.store import Role, Store, StoreError
from studio.store.search import SearchHit, SearchQuery
from studio.tui.app import StudioApp
from studio.tui.screens import search as search_screen
from studio.tui.screens.main import MainScreen
from studio.tui.screens.search import SearchScreen
from studio.tui.search_results import RECENT_KEY
from studio.tui.widgets.chat_pages import PAGE, LaterButton
from studio.tui.widgets.message_view import MessageView
from studio.tui.widgets.search_mark import HIT_CLASS, HitNote

from .conftest import Toasts, active_pane, wait_for
from .test_terminal_safety import Terminal

DAY = 86400.0
NOW = time.time()  # the screen reads spans (7d) back from the real time


class Clock:
    """The store's clock: what ``now`` says."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Store:
    return Store.open(tmp_path / "search.db", clock=clock)


def seed(store: Store, clock: Clock) -> dict[str, int]:
    """Three conversations: one archived, one with a reply by another model, one older."""
    clock.now = NOW - 10 * DAY
    old = store.create_conversation(title="Old notes").id
    store.add_message(old, Role.USER, "an old report about the garden")
    clock.now = NOW - DAY
    taxes = store.create_conversation(title="Tax report 2025", model="gpt-4o").id
    store.add_message(taxes, Role.USER, "Write the tax report summary")
    store.add_message(taxes, Role.ASSISTANT, "Here is the report: income first.", model="gpt-4o")
    deploy = store.create_conversation(title="Deploy notes").id
    store.add_message(deploy, Role.USER, "rebuild the report index after deploy")
    store.set_archived(deploy, True)
    clock.now = NOW
    return {"old": old, "taxes": taxes, "deploy": deploy}


def search(app: StudioApp) -> SearchScreen:
    screen = app.screen
    assert isinstance(screen, SearchScreen)
    return screen


def lines(app: StudioApp) -> list[str]:
    """What the results list shows, one string per option (separators left out)."""
    options = search(app).query_one("#results", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def status(app: StudioApp) -> str:
    return str(search(app).query_one("#status", Static).content)


async def settle(app: StudioApp, state: str) -> None:
    """Wait until the search screen shows ``state`` with no search pending."""
    await wait_for(lambda: isinstance(app.screen, SearchScreen) and search(app).state == state)


async def open_search(app: StudioApp, pilot: object, text: str = "") -> SearchScreen:
    await pilot.press("ctrl+f")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, SearchScreen))
    if text:
        await pilot.press(*text)  # type: ignore[attr-defined]
    return search(app)


async def test_typing_finds_hits_grouped_by_conversation(
    make_app: Callable[..., StudioApp], store: Store, clock: Clock
) -> None:
    seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_search(app, pilot, "report")
        await settle(app, "hits")
        shown = lines(app)
        assert status(app) == "4 messages in 3 conversations"
        headers = [line for line in shown if line.startswith("▌")]
        assert sorted(headers) == [
            "▌ Deploy notes  archived  1 hit",
            "▌ Old notes  1 hit",
            "▌ Tax report 2025  2 hits",
        ]
        assert any(line.startswith("  you ") and "tax report summary" in line for line in shown)
        # The first hit is highlighted; down moves through hits, skipping the headers.
        options = search(app).query_one("#results", OptionList)
        first = options.highlighted
        assert first is not None and not options.get_option_at_index(first).disabled
        await pilot.press("down")
        assert options.highlighted != first
        assert not options.get_option_at_index(options.highlighted or 0).disabled
        # More letters: fewer hits, and never the answer to the shorter query.
        await pilot.press(*" income")
        await wait_for(lambda: status(app) == "1 message in 1 conversation")
        # No hit: a sentence; no text: the empty screen.
        await pilot.press(*" zebra")
        await settle(app, "none")
        assert status(app) == "No message matches “report income zebra”."
        search(app).query_one("#query", Input).value = ""
        await settle(app, "empty")
        assert status(app).startswith("Type to search every message")


async def test_filters_narrow_the_hits(
    make_app: Callable[..., StudioApp], store: Store, clock: Clock
) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_search(app, pilot, "report")
        await settle(app, "hits")
        assert len(screen.hits) == 4

        def conversations() -> set[int]:
            return {h.conversation_id for h in screen.hits}

        role = screen.query_one("#role", Select)
        role.value = Role.ASSISTANT
        await wait_for(lambda: [h.role for h in screen.hits] == [Role.ASSISTANT])
        role.value = Select.NULL
        await wait_for(lambda: len(screen.hits) == 4)

        model = screen.query_one("#model", Select)
        model.value = "gpt-4o"
        await wait_for(lambda: conversations() == {ids["taxes"]})
        model.value = Select.NULL
        await wait_for(lambda: len(screen.hits) == 4)

        since = screen.query_one("#since", Input)
        since.value = "7d"
        await wait_for(lambda: conversations() == {ids["taxes"], ids["deploy"]})
        until = screen.query_one("#until", Input)
        until.value = "2d"
        await settle(app, "none")
        assert status(app) == "No message matches “report” with these filters."

        # A date that is not one: said under the field, and nothing is searched.
        until.value = "next tuesday"
        await settle(app, "error")
        note = str(screen.query_one("#filter-error", Static).content)
        assert note.startswith("Until: “next tuesday” is not a date")
        assert status(app) == "Nothing is searched until the dates are right."
        until.value = ""
        await settle(app, "hits")


async def test_enter_opens_the_hit_far_back_in_a_long_conversation(
    make_app: Callable[..., StudioApp], store: Store
) -> None:
    long = store.create_conversation(title="A long chat").id
    for i in range(6 * PAGE):
        role = Role.USER if i % 2 == 0 else Role.ASSISTANT
        store.add_message(long, role, f"line {i} " + ("the needle" if i == 10 else "hay"))
    store.create_conversation(title="Newer")  # the conversation that opens first
    needle = store.messages(long, limit=1, before_position=12)[0]
    assert "needle" in needle.content
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await open_search(app, pilot, "needle")
        await settle(app, "hits")
        await pilot.press("enter")
        await wait_for(lambda: app.screen is main and main.active_id == long)
        pane = active_pane(app)
        await wait_for(lambda: isinstance(app.focused, MessageView))
        view = app.focused
        assert isinstance(view, MessageView) and view.message_id == needle.id
        assert view.has_class(HIT_CLASS)
        note = view.query_one(HitNote)
        assert "needle" in str(note.content)
        log = pane.query_one(".log", VerticalScroll)
        await wait_for(lambda: log.scrollable_content_region.overlaps(view.region))
        # Only the page around the hit and the newest page are mounted, with a gap between.
        assert len(pane.views()) <= 2 * PAGE
        gap = pane.query_one(LaterButton)
        before = len(pane.views())
        gap.press()
        await wait_for(lambda: len(pane.views()) > before)
        positions = [v.message.position for v in pane.views()]
        assert positions == sorted(positions)
        # Scrolled into view, the gap fills by itself, a page at a time, until it is gone.
        while pane.query(LaterButton):
            await pilot.pause()  # laid out: the log knows how far it scrolls
            shown, gap = len(pane.views()), pane.query_one_optional(LaterButton)
            if gap is not None:
                log.scroll_to_widget(gap, animate=False, immediate=True)
                await wait_for(
                    lambda n=shown: len(pane.views()) > n or not pane.query(LaterButton)  # type: ignore[misc]
                )
        positions = [v.message.position for v in pane.views()]
        assert positions == list(range(positions[0], 6 * PAGE + 1))
        view.focus()
        # Moving the selection drops the mark.
        await pilot.press("down")
        await wait_for(lambda: not view.has_class(HIT_CLASS) and not view.query(HitNote))
        # The search is remembered, newest first.
        assert store.get_state(RECENT_KEY) == ["needle"]


async def test_escape_closes_and_recent_searches_show(
    make_app: Callable[..., StudioApp], store: Store
) -> None:
    store.set_state(RECENT_KEY, ["tax report", "deploy"])
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_search(app, pilot)
        assert lines(app) == ["↺ tax report", "↺ deploy"]
        assert "Recent searches" in status(app)
        await pilot.press("down", "down", "enter")  # a recent search runs again
        assert search(app).query_one("#query", Input).value == "deploy"
        await settle(app, "none")
        await pilot.press("escape")  # found nothing: not remembered again
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        assert store.get_state(RECENT_KEY) == ["tax report", "deploy"]
        cid = store.create_conversation(title="Plans").id
        store.add_message(cid, Role.USER, "the deploy plan")
        await open_search(app, pilot, "deploy")
        await settle(app, "hits")
        await pilot.press("escape")  # found something: remembered, first
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        assert store.get_state(RECENT_KEY) == ["deploy", "tax report"]


async def test_hostile_text_in_a_snippet_is_shown_not_obeyed(
    make_app: Callable[..., StudioApp], store: Store
) -> None:
    clipboard = HOSTILE_SEQUENCES["OSC 52 (write the clipboard)"]
    clear = HOSTILE_SEQUENCES["CSI 2J (clear the screen)"]
    cid = store.create_conversation(title=f"[b]bold[/b] {clipboard}").id
    store.add_message(cid, Role.USER, f"payload [red]boom[/red] {clear} {clipboard} end")
    terminal = Terminal()
    app = terminal.attach(make_app(store=store))
    async with app.run_test(headless=False, size=(80, 24)) as pilot:
        await open_search(app, pilot, "payload")
        await settle(app, "hits")
        shown = "\n".join(lines(app))
        assert "[red]boom[/red]" in shown and "[b]bold[/b]" in shown  # markup is text
        assert "\x1b" not in shown and "\x07" not in shown
        await terminal.check("boom[/red]", shown="␛[2J")
        await terminal.check("bold[/b]")  # the title's clipboard sequence, painted defanged


async def test_stale_answers_never_replace_newer_ones(
    make_app: Callable[..., StudioApp], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = store.create_conversation(title="Words").id
    store.add_message(cid, Role.USER, "slowly fast")
    release = threading.Event()
    real = search_screen.search_messages

    def slow_for_slow(store: Store, query: SearchQuery) -> list[SearchHit]:
        if query.text == "slow":
            release.wait(5)
        return real(store, query)

    monkeypatch.setattr(search_screen, "search_messages", slow_for_slow)
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_search(app, pilot, "slow")
        await wait_for(lambda: screen.state == "searching")
        screen.query_one("#query", Input).value = "zzz"
        await settle(app, "none")
        release.set()  # the answer to "slow" arrives last
        await asyncio.sleep(0.3)
        await pilot.pause()
        assert screen.state == "none" and screen.hits == []


async def test_the_key_the_palette_and_help_open_search(
    make_app: Callable[..., StudioApp], store: Store
) -> None:
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_search(app, pilot)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await pilot.press("ctrl+p")
        await wait_for(lambda: app.screen.__class__.__name__ == "CommandPalette")
        await pilot.press(*"search conv")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        ids = [b.id for group in app.help_groups().values() for b in group]  # type: ignore[union-attr]
        assert "app.search" in ids and "search.close" in ids


async def test_a_failed_search_says_so(
    make_app: Callable[..., StudioApp], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(store: Store, query: SearchQuery) -> list[SearchHit]:
        raise StoreError("the database is locked \x1b[2J")

    monkeypatch.setattr(search_screen, "search_messages", broken)
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_search(app, pilot, "anything")
        await settle(app, "error")
        assert status(app) == "The search failed: the database is locked ␛[2J"


async def test_a_hit_a_few_pages_back_loads_the_pages_between(
    make_app: Callable[..., StudioApp], store: Store, toasts: Toasts
) -> None:
    cid = store.create_conversation(title="Three pages").id
    for i in range(3 * PAGE):
        store.add_message(cid, Role.USER, f"line {i}")
    target = store.messages(cid, limit=1, before_position=6)[0]
    app = make_app(store=store)
    async with app.run_test(size=(80, 24), message_hook=toasts.hook):
        main = app.screen
        assert isinstance(main, MainScreen)
        await main.tabs.open_at(cid, target.id, "line 4")
        pane = active_pane(app)
        await wait_for(lambda: isinstance(app.focused, MessageView))
        assert app.focused.message_id == target.id  # type: ignore[union-attr]
        positions = [v.message.position for v in pane.views()]
        assert positions == list(range(positions[0], 3 * PAGE + 1)) and positions[0] <= 5
        assert not pane.query(LaterButton)
        # A message that is not there (deleted meanwhile) is said so; nothing moves.
        await main.tabs.open_at(cid, 10**6, "")
        assert isinstance(app.focused, MessageView)
        await wait_for(lambda: toasts.any("That message no longer exists."))
