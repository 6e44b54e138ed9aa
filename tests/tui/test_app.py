"""Pilot tests: errors in words, tabs and split view, restoring state, long histories, no key."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Button

from studio.config import Settings
from studio.emulator import EmulatorServer
from studio.store import MessageStatus, Role
from studio.tui.app import StudioApp
from studio.tui.screens.main import MainScreen
from studio.tui.widgets.chat_pages import PAGE
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.conversation_list import ConversationList
from studio.tui.widgets.message_view import MessageView

from .conftest import SIZE, active_pane, reply_done, wait_for
from .test_chat import send


def main_screen(app: StudioApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


@pytest.mark.parametrize(
    ("spec", "status", "words"),
    [
        ("disconnect:6", MessageStatus.CUT, "cut off"),
        ("error-event:3", MessageStatus.CUT, "overloaded"),
        ("429", MessageStatus.ERROR, "请求数限制"),
        ("429:empty", MessageStatus.ERROR, "rate limit"),
        ("500", MessageStatus.ERROR, "HTTP 500"),
        ("malformed:2", MessageStatus.CUT, "malformed"),
    ],
)
async def test_errors_are_inline_in_words_with_retry(
    make_app: Callable[..., StudioApp],
    emu: EmulatorServer,
    spec: str,
    status: MessageStatus,
    words: str,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        emu.inject(spec, count=1, path="/v1/chat/completions")
        pane = await send(pilot, "Trouble ahead [[emulator: tokens=40]]")
        await reply_done(app, 2)
        failed = pane.views()[-1]
        assert failed.message.status is status
        assert failed.message.error and words.lower() in failed.message.error.lower()
        assert failed.has_class("-has-error")
        # The error row, mounted when the error came, carries the state that styles it.
        error_row = failed.query_one(".error-row")
        assert error_row.display and error_row.has_class("-has-error")
        assert error_row.has_class(f"-{status.value}") and not error_row.has_class("-streaming")
        if status is MessageStatus.CUT and spec.startswith("disconnect"):
            assert len(failed.text.split()) == 6  # the partial text is kept
        # Retry (the button on the failed reply) brings a complete one.
        await pilot.click(failed.query_one(".retry"))
        await wait_for(lambda: pane.views()[-1] is not failed)
        await reply_done(app, 2)
        assert pane.views()[-1].message.status is MessageStatus.COMPLETE


async def test_stall_is_reported(settings: Settings, emu: EmulatorServer) -> None:
    impatient = dataclasses.replace(settings, stream_stall_timeout=0.5)
    app = StudioApp(impatient)
    async with app.run_test(size=SIZE) as pilot:
        emu.inject("stall:30", count=1, path="/v1/chat/completions")
        pane = await send(pilot, "Hello?")
        await reply_done(app, 2)
        reply = pane.views()[-1].message
        assert reply.status in (MessageStatus.CUT, MessageStatus.ERROR)
        assert reply.error and "keep-alive" in reply.error


async def test_wrong_key_says_how_to_set_one(settings: Settings) -> None:
    app = StudioApp(dataclasses.replace(settings, api_key="sk-wrong-key-0123456789"))
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Hi")
        await reply_done(app, 2)
        reply = pane.views()[-1].message
        assert reply.status is MessageStatus.ERROR
        assert reply.error and "401" in reply.error and "api_key" in reply.error
        assert "sk-wrong-key-0123456789" not in reply.error


async def test_tabs_and_split_view(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        first = screen.active_id
        # Drafts in both: a blank conversation would be dropped when left.
        await pilot.press(*"a draft")
        await pilot.press("ctrl+n")
        await wait_for(lambda: len(screen.open_ids) == 2)
        await pilot.press(*"a draft")
        second = screen.active_id
        assert second != first
        await pilot.press("alt+left")
        assert screen.active_id == first
        await pilot.press("alt+right")
        assert screen.active_id == second
        visible = [p for p in screen.query(ChatPane) if p.display]
        assert [p.conversation_id for p in visible] == [second]
        await pilot.press("f4")
        visible = [p for p in screen.query(ChatPane) if p.display]
        assert {p.conversation_id for p in visible} == {first, second}
        await pilot.press("alt+o")
        assert screen.active_id == first
        # Both panes stream at once: each has its own reply.
        await send(pilot, "left pane")
        await pilot.press("alt+o")
        await send(pilot, "right pane")
        for cid in (first, second):
            pane = screen.pane(cid)
            assert pane is not None
            await wait_for(lambda pane=pane: not pane.streaming and len(pane.views()) == 2)
        await pilot.press("f4")
        assert len([p for p in screen.query(ChatPane) if p.display]) == 1
        await pilot.press("alt+w")
        await wait_for(lambda: len(screen.open_ids) == 1)


async def test_tabs_and_selection_are_restored(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Kept across restarts")
        await reply_done(app, 2)
        screen = main_screen(app)
        # Each new one gets a draft: a blank conversation would be dropped when left.
        await pilot.press("ctrl+n")
        await wait_for(lambda: len(screen.open_ids) == 2)
        await pilot.press(*"draft two")
        await pilot.press("ctrl+n")
        await wait_for(lambda: len(screen.open_ids) == 3)
        await pilot.press(*"draft three")
        await pilot.press("alt+left")
        open_ids, active = list(screen.open_ids), screen.active_id
    again = make_app()
    async with again.run_test(size=SIZE):
        screen = main_screen(again)
        await wait_for(lambda: len(screen.open_ids) == 3)
        assert screen.open_ids == open_ids
        assert screen.active_id == active


async def test_long_history_mounts_one_page_at_a_time(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    store = app.store
    conversation = store.create_conversation(title="Long one")
    for i in range(200):
        store.add_message(conversation.id, Role.USER if i % 2 == 0 else Role.ASSISTANT, f"m{i}")
    store.set_state("open_tabs", [conversation.id])
    store.set_state("active_tab", conversation.id)
    async with app.run_test(size=SIZE):
        pane = active_pane(app)
        await wait_for(lambda: len(pane.views()) == PAGE)
        assert pane.views()[-1].message.content == "m199"
        pane.query_one(".earlier", Button).press()
        await wait_for(lambda: len(pane.views()) == 2 * PAGE)
        assert pane.views()[0].message.content == f"m{200 - 2 * PAGE}"
        pane.query_one(".log", VerticalScroll).scroll_home(animate=False)  # the top loads more
        await wait_for(lambda: len(pane.views()) == 3 * PAGE)
        assert pane.views()[0].message.content == f"m{200 - 3 * PAGE}"


async def test_conversation_list_rename_archive_delete_filter(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    store = app.store
    for title in ("Alpha plans", "Beta notes", "Gamma ideas"):
        store.create_conversation(title=title)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await pilot.press("ctrl+l")
        sidebar = screen.query_one("#sidebar", ConversationList)
        await pilot.press("slash", *"beta")
        await wait_for(lambda: [c.title for c in sidebar.conversations] == ["Beta notes"])
        await pilot.press("enter", "r")
        await wait_for(lambda: app.screen.__class__.__name__ == "TextPrompt")
        app.screen.query_one("#value").value = "Beta, renamed"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(lambda: any(c.title == "Beta, renamed" for c in store.list_conversations()))
        renamed = next(c for c in store.list_conversations() if c.title == "Beta, renamed")
        assert renamed.title_locked
        await pilot.press("a")
        await wait_for(lambda: store.get_conversation(renamed.id).archived)  # type: ignore[union-attr]
        await pilot.press("h")  # show archived
        await wait_for(lambda: [c.id for c in sidebar.conversations] == [renamed.id])
        await pilot.press("x")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm")
        await pilot.press("y")
        await wait_for(lambda: store.get_conversation(renamed.id) is None)


async def test_no_key_shows_welcome_then_demo_works(isolated_home: object) -> None:
    app = StudioApp(Settings(api_key=None))
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        assert not screen.query_one("#welcome").has_class("hidden")
        await pilot.press("ctrl+d")
        await wait_for(lambda: app.gateway.demo)
        assert screen.query_one("#welcome").has_class("hidden")
        assert not screen.query_one("#demo-badge").has_class("hidden")
        pane = await send(pilot, "Hello demo [[emulator: rate=0; tokens=20]]")
        await wait_for(lambda: not pane.streaming and len(pane.views()) == 2, limit=20)
        assert pane.views()[-1].message.status is MessageStatus.COMPLETE


async def test_pasting_a_key_saves_it_with_mode_0600(
    isolated_home: object, emu: EmulatorServer
) -> None:
    import stat

    from studio.paths import config_file

    app = StudioApp(Settings(api_key=None, base_url=emu.base_url))
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        screen.query_one("#key-input").value = emu.api_key  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(lambda: screen.query_one("#welcome").has_class("hidden"))
        assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
        pane = await send(pilot, "Now with a key")
        await reply_done(app, 2)
        assert pane.views()[-1].message.status is MessageStatus.COMPLETE


async def test_streaming_tab_is_marked(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        pane = await send(pilot, "Slow [[emulator: tokens=300; rate=100]]")
        await wait_for(lambda: pane.streaming)
        tab = screen.query_one(f"#tab-{pane.conversation_id}")
        assert str(tab.label).startswith("● ")  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(lambda: not str(tab.label).startswith("● "))  # type: ignore[attr-defined]
        assert isinstance(pane.views()[-1], MessageView)


async def test_the_first_frame_is_complete(make_app: Callable[..., StudioApp]) -> None:
    """The first frame Textual composes of the main screen is drawn (not held back by start-up
    and composed again), with its keys and the prompt focused."""
    from textual.screen import Screen

    from studio.tui.compat import watch_frames
    from studio.tui.widgets.footer import KeyBar
    from studio.tui.widgets.prompt import PromptInput

    frames: list[tuple[bool, int, str]] = []

    def frame(screen: Screen[object], drawn: bool) -> None:
        if isinstance(screen, MainScreen):
            keys = len(screen.query_one(KeyBar).hints()[0])
            frames.append((drawn, keys, type(screen.focused).__name__))

    app = make_app()
    watch_frames(app, frame, before=True)
    async with app.run_test(size=SIZE):
        await wait_for(lambda: bool(frames))
        drawn, keys, focused = frames[0]
        assert drawn and keys >= 10 and focused == PromptInput.__name__


async def test_the_key_bar_shows_presses_and_explains_keys(
    make_app: Callable[..., StudioApp],
) -> None:
    from studio.tui.widgets.footer import KeyBar

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        bar = screen.query_one(KeyBar)
        await pilot.pause()
        shown = str(bar.render())
        assert "Help" in shown and "New" in shown and shown.rstrip().endswith("palette")
        keys, palette = bar.hints()
        assert palette is not None and palette.key == "ctrl+p"
        # Hovering a key shows its tooltip; clicking it presses it.
        help_key = next(k for k in keys if k.description == "Help")
        start = shown.index(f" {help_key.display} Help ")
        await pilot.hover(bar, offset=(start + 1, 0))
        assert bar.tooltip == help_key.tooltip and help_key.tooltip
        await pilot.click(bar, offset=(start + 1, 0))
        await wait_for(lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen)
        # Focus decides the keys: the conversation list brings its filter key.
        assert not any(k.description == "Filter" for k in keys)
        screen.query_one("#sidebar OptionList").focus()
        await pilot.pause()
        assert any(k.description == "Filter" for k in bar.hints()[0])
        assert "Filter" in str(bar.render())


async def test_the_key_bar_drops_keys_that_do_not_fit(make_app: Callable[..., StudioApp]) -> None:
    from studio.tui.widgets.footer import KeyBar

    app = make_app()
    async with app.run_test(size=(70, 30)) as pilot:
        await pilot.pause()
        bar = main_screen(app).query_one(KeyBar)
        shown = str(bar.render())
        assert len(shown) == 70 and shown.rstrip().endswith("palette")
        keys = bar.hints()[0]
        assert sum(f" {k.display} {k.description} " in shown for k in keys) < len(keys)
