"""Pilot tests of what the main screen promises: the list's highlight follows its conversation,
the list's keys, drafts that survive quitting, blank conversations that are not kept, and
/image and /video that never block the screen and send exactly what was typed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input

from studio.config import Settings
from studio.jobs import EngineConfig, JobState
from studio.store import Role, Store
from studio.tui.app import StudioApp
from studio.tui.screens.main import MainScreen
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.conversation_list import ConversationList, ConversationRows
from studio.tui.widgets.prompt import PromptInput

from .conftest import SIZE, Toasts, active_pane, reply_done, wait_for
from .test_chat import png, send


def main_screen(app: StudioApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def sidebar(app: StudioApp) -> ConversationList:
    return main_screen(app).query_one(ConversationList)


def titles(app: StudioApp) -> list[str]:
    """The list's titles, but for the blank conversation opened when the last tab closed."""
    return [c.title for c in sidebar(app).conversations if c.title != "New conversation"]


def seed(app: StudioApp, *names: str) -> dict[str, int]:
    """Conversations with these titles (the last is the newest), each with one message."""
    ids = {}
    for name in names:
        cid = app.store.create_conversation(title=name).id
        app.store.add_message(cid, Role.USER, f"about {name}")
        ids[name] = cid
    return ids


# -- the highlight follows the conversation ------------------------------------------------------


async def test_the_highlight_follows_its_conversation(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    ids = seed(app, "Alpha", "Beta", "Gamma")
    async with app.run_test(size=SIZE) as pilot:
        listing = sidebar(app)
        await pilot.press("ctrl+l")
        assert titles(app) == ["Gamma", "Beta", "Alpha"]
        await pilot.press("down")
        assert listing.highlighted_id == ids["Beta"]
        # A rename moves Beta to the top: the highlight goes with it.
        await pilot.press("r")
        await wait_for(lambda: app.screen.__class__.__name__ == "TextPrompt")
        app.screen.query_one("#value", Input).value = "Beta, renamed"
        await pilot.press("enter")
        await wait_for(lambda: titles(app)[0] == "Beta, renamed")
        assert listing.highlighted_id == ids["Beta"]
        # A background refresh reorders (a job finished in Alpha): still on Beta.
        message = app.store.add_message(ids["Alpha"], Role.ASSISTANT, "Image job #1 is done.")
        app.message_added(message)
        await wait_for(lambda: titles(app)[0] == "Alpha")
        assert listing.highlighted_id == ids["Beta"]
        # A conversation created elsewhere (another window) appears: still on Beta.
        elsewhere = app.store.create_conversation(title="From another window").id
        app.store.add_message(elsewhere, Role.USER, "hello")
        app.message_added(app.store.add_message(ids["Gamma"], Role.USER, "bump"))
        await wait_for(lambda: "From another window" in titles(app))
        assert listing.highlighted_id == ids["Beta"]
        # So the next key acts on Beta, not on whatever took its row.
        await pilot.press("a")
        await wait_for(lambda: app.store.get_conversation(ids["Beta"]).archived)  # type: ignore[union-attr]
        assert not any(
            app.store.get_conversation(i).archived  # type: ignore[union-attr]
            for i in (ids["Alpha"], ids["Gamma"], elsewhere)
        )


async def test_a_deleted_conversation_hands_the_highlight_to_its_neighbour(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    ids = seed(app, "Alpha", "Beta", "Gamma")
    async with app.run_test(size=SIZE) as pilot:
        listing = sidebar(app)
        await pilot.press("ctrl+l")
        assert listing.highlighted_id == ids["Gamma"]  # the open one, at the top
        await pilot.press("x")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm")
        await pilot.press("y")
        await wait_for(lambda: app.store.get_conversation(ids["Gamma"]) is None)
        await wait_for(lambda: titles(app) == ["Beta", "Alpha"])
        assert listing.highlighted_id == ids["Beta"]  # the one below took its place
        assert listing.query_one(ConversationRows).has_focus  # still in the list
        await pilot.press("down", "x")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm")
        await pilot.press("y")
        await wait_for(lambda: titles(app) == ["Beta"])
        assert listing.highlighted_id == ids["Beta"]  # the last one gone: the one above


# -- the list's keys -------------------------------------------------------------------------


async def test_list_keys_escape_down_and_up(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    ids = seed(app, "Alpha plans", "Beta notes", "Gamma ideas")
    async with app.run_test(size=SIZE) as pilot:
        listing = sidebar(app)
        rows = listing.query_one(ConversationRows)
        filter_input = listing.query_one(Input)
        await pilot.press("ctrl+l", "slash", *"a")
        assert filter_input.has_focus
        await wait_for(lambda: len(titles(app)) == 3)
        await pilot.press(*"lpha")
        await wait_for(lambda: titles(app) == ["Alpha plans"])
        # esc: the filter is cleared and the prompt has the focus.
        await pilot.press("escape")
        await wait_for(lambda: active_pane(app).query_one(PromptInput).has_focus)
        assert filter_input.value == ""
        await wait_for(lambda: len(titles(app)) == 3)
        # down from the filter enters the list on its first row; up from there goes back.
        await pilot.press("ctrl+l", "slash")
        assert filter_input.has_focus
        await pilot.press("down")
        assert rows.has_focus and rows.highlighted == 0
        assert listing.highlighted_id == ids["Gamma ideas"]
        await pilot.press("up")
        assert filter_input.has_focus
        # esc from the rows goes back to the prompt too.
        await pilot.press("down", "down", "escape")
        await wait_for(lambda: active_pane(app).query_one(PromptInput).has_focus)


async def test_archive_says_so_and_u_undoes_it(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()
    ids = seed(app, "Alpha", "Beta", "Gamma")
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        listing = sidebar(app)
        screen = main_screen(app)
        await pilot.press("ctrl+l")
        assert listing.highlighted_id == ids["Gamma"]  # the open one
        await pilot.press("a")
        await wait_for(lambda: titles(app) == ["Beta", "Alpha"])
        assert any("Archived “Gamma” — u to undo" in t for t in toasts.messages())
        assert ids["Gamma"] not in screen.open_ids  # its tab closed
        assert listing.highlighted_id == ids["Beta"]  # the neighbour
        assert listing.query_one(ConversationRows).has_focus
        await pilot.press("u")
        await wait_for(lambda: titles(app) == ["Gamma", "Beta", "Alpha"])
        assert not app.store.get_conversation(ids["Gamma"]).archived  # type: ignore[union-attr]
        assert listing.highlighted_id == ids["Gamma"]
        assert ids["Gamma"] in screen.open_ids  # its tab is back
        # u has nothing more to undo; h shows archived ones, where a restores.
        await pilot.press("down", "a")
        await wait_for(lambda: titles(app) == ["Gamma", "Alpha"])
        await pilot.press("h")
        await wait_for(lambda: titles(app) == ["Beta"])
        await pilot.press("a")
        await wait_for(lambda: titles(app) == [])
        assert any("Restored “Beta”" in t for t in toasts.messages())
        assert not app.store.get_conversation(ids["Beta"]).archived  # type: ignore[union-attr]


async def test_the_undo_key_expires(
    make_app: Callable[..., StudioApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ConversationList, "UNDO_SECONDS", 0.3)
    app = make_app()
    ids = seed(app, "Alpha", "Beta")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l", "a")
        await wait_for(lambda: app.store.get_conversation(ids["Beta"]).archived)  # type: ignore[union-attr]
        await asyncio.sleep(0.4)  # the undo window itself is what is tested
        await pilot.press("u")
        assert app.store.get_conversation(ids["Beta"]).archived  # type: ignore[union-attr]


async def test_a_conversation_that_never_got_a_message_is_not_kept(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    ids = seed(app, "Alpha")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await pilot.press("ctrl+n")
        await wait_for(lambda: len(screen.open_ids) == 2)
        blank = screen.active_id
        assert blank is not None and blank != ids["Alpha"]
        shown = [c.title for c in sidebar(app).conversations]
        assert shown == ["New conversation", "Alpha"]  # open and empty: shown
        await pilot.press("alt+left")  # switching away
        await wait_for(lambda: screen.open_ids == [ids["Alpha"]])
        assert app.store.get_conversation(blank) is None
        assert titles(app) == ["Alpha"]
        # ctrl+n twice in a row keeps one blank conversation, not two.
        await pilot.press("ctrl+n")
        await wait_for(lambda: len(screen.open_ids) == 2)
        second = screen.active_id
        await pilot.press("ctrl+n")
        await wait_for(lambda: screen.active_id != second and len(screen.open_ids) == 2)
        assert second is not None and app.store.get_conversation(second) is None
        # One with a draft is kept.
        await pilot.press(*"not sent yet")
        await pilot.press("alt+left")
        await wait_for(lambda: screen.active_id == ids["Alpha"])
        assert len(screen.open_ids) == 2
        await pilot.press("ctrl+n")
        await wait_for(lambda: len(screen.open_ids) == 3)
    # Quitting: the blank one open at the end is gone too; the drafted one stays.
    with Store.open() as store:
        conversations = store.list_conversations()
        drafts = store.draft_ids()
    assert len(conversations) == 2
    assert ids["Alpha"] in {c.id for c in conversations}
    assert {c.id for c in conversations} - {ids["Alpha"]} == drafts


# -- drafts ----------------------------------------------------------------------------------


async def test_drafts_survive_quitting(make_app: Callable[..., StudioApp], tmp_path: Path) -> None:
    png(tmp_path / "photo.png")
    app = make_app()
    ids = seed(app, "Alpha", "Beta")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_for(lambda: screen.active_id == ids["Beta"])
        await pilot.press(*"half a thought", "ctrl+j", *"second line")
        await pilot.press("alt+a")
        await wait_for(lambda: app.screen.__class__.__name__ == "AttachPrompt")
        await pilot.press(*str(tmp_path / "photo.png"), "enter")
        await wait_for(lambda: len(active_pane(app).pending) == 1)
        # Saved while typing (at most a second later), before anything else happens.
        await pilot.press(*" more")
        await wait_for(
            lambda: (d := app.store.get_draft(ids["Beta"])) is not None and d.text.endswith("more")
        )
        # Alpha gets a draft of its own, left by switching tabs.
        await pilot.press("ctrl+l")
        await pilot.press("down", "enter")
        await wait_for(lambda: screen.active_id == ids["Alpha"])
        await pilot.press(*"alpha draft")
        await pilot.press("alt+left")
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = main_screen(again)
        await wait_for(lambda: set(screen.open_ids) == {ids["Alpha"], ids["Beta"]})
        alpha, beta = screen.pane(ids["Alpha"]), screen.pane(ids["Beta"])
        assert alpha is not None and beta is not None
        await wait_for(lambda: len(beta.pending) == 1)
        assert beta.query_one(PromptInput).text == "half a thought\nsecond line more"
        assert beta.pending[0].name == "photo.png"
        assert alpha.query_one(PromptInput).text == "alpha draft"
        # Sending clears the draft, attachments included.
        await screen.activate(ids["Beta"])
        await pilot.press("enter")
        await reply_done(again, 3)
        await wait_for(lambda: again.store.get_draft(ids["Beta"]) is None)
        sent = again.store.messages(ids["Beta"])[1]
        assert sent.content == "half a thought\nsecond line more"
        assert [a.name for a in sent.attachments] == ["photo.png"]
    last = make_app()
    async with last.run_test(size=SIZE):
        pane = main_screen(last).pane(ids["Beta"])
        assert pane is not None
        assert pane.query_one(PromptInput).text == "" and pane.pending == []


async def test_edit_mode_keeps_the_draft_it_set_aside(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    ids = seed(app, "Alpha")
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        await pilot.press(*"my own draft")
        await wait_for(lambda: app.store.get_draft(ids["Alpha"]) is not None)
        await pilot.press("alt+e")  # the prompt now holds the message being edited
        await wait_for(lambda: pane.query_one(PromptInput).text == "about Alpha")
    with Store.open() as store:
        draft = store.get_draft(ids["Alpha"])
    assert draft is not None and draft.text == "my own draft"


async def test_an_unchanged_window_does_not_overwrite_anothers_draft(
    make_app: Callable[..., StudioApp],
) -> None:
    first = make_app()
    ids = seed(first, "Shared")
    first.store.save_draft(ids["Shared"], "typed before")
    second = make_app()
    async with first.run_test(size=SIZE), second.run_test(size=SIZE) as two:
        pane_two = active_pane(second)
        await wait_for(lambda: pane_two.query_one(PromptInput).text == "typed before")
        await two.press("end", *" and then in window two")
        await wait_for(
            lambda: (
                (d := second.store.get_draft(ids["Shared"])) is not None
                and d.text.endswith("window two")
            )
        )
    # Window one quit after window two, with its prompt as it was read: last write wins,
    # and it wrote nothing.
    with Store.open() as store:
        draft = store.get_draft(ids["Shared"])
    assert draft is not None and draft.text == "typed before and then in window two"


# -- /image and /video -------------------------------------------------------------------------


@pytest.fixture
def media_app(settings: Settings, tmp_path: Path) -> Callable[..., StudioApp]:
    fast = EngineConfig(
        media_dir=tmp_path / "media",
        first_checks=(0.2,),
        seedance_interval=0.3,
        kling_interval=0.3,
        jitter=0.0,
        flush_interval=0.1,
        claim_interval=0.5,
    )

    def make(**changes: object) -> StudioApp:
        return StudioApp(dataclasses.replace(settings, **changes), jobs_config=fast)  # type: ignore[arg-type]

    return make


async def test_a_slow_image_never_blocks_the_screen(media_app: Callable[..., StudioApp]) -> None:
    app = media_app()
    seed(app, "Alpha", "Beta")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/image a slow lighthouse [[emulator: delay=3]]")
        await wait_for(lambda: len(app.jobs.jobs) == 1)
        # The filter is handled while the image request is in flight.
        await pilot.press("ctrl+l", "slash", *"alp")
        await wait_for(lambda: titles(app) == ["Alpha"], limit=1.5)
        assert not any(j.state.is_final for j in app.jobs.jobs.values())
        await wait_for(lambda: any(j.state.is_final for j in app.jobs.jobs.values()), limit=20)
        job = next(iter(app.jobs.jobs.values()))
        assert job.state is JobState.SUCCEEDED


async def test_each_submission_is_exactly_what_was_typed(
    media_app: Callable[..., StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        prompt = pane.query_one(PromptInput)
        prompt.focus()
        # The pane is busy for a moment, as under load: Enter must still take just its text.
        pane.call_later(asyncio.sleep, 0.8)
        await pilot.press(*"/video one", "enter", *"/video two", "enter")
        await wait_for(lambda: len(app.jobs.jobs) == 2, limit=20)
        assert sorted(j.prompt for j in app.jobs.jobs.values()) == ["one", "two"]
        stored = app.store.messages(pane.conversation_id)
        users = [m.content for m in stored if m.role is Role.USER]  # each job has a message too
        assert users == ["/video one", "/video two"]
        assert prompt.text == ""


async def test_a_refused_send_gives_the_prompt_back(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = await send(pilot, "/image")
        prompt = pane.query_one(PromptInput)
        await wait_for(lambda: any("Usage: /image PROMPT" in t for t in toasts.messages()))
        assert prompt.text == "/image"
        assert isinstance(pane, ChatPane)


async def test_a_demo_video_resumes_in_the_next_run(isolated_home: Path) -> None:
    """Demo mode keeps the gateway's tasks in the data dir: a video started in one run and
    still running at quit is finished by the next run on the same data dir."""
    demo = Settings(api_key=None)
    first = StudioApp(demo, demo=True)
    async with first.run_test(size=SIZE) as pilot:
        await send(pilot, "/video a paper boat [[emulator: seconds=6]]")
        await wait_for(
            lambda: any(
                j.task_id and j.state in (JobState.QUEUED, JobState.RUNNING)
                for j in first.jobs.jobs.values()
            ),
            limit=15,
        )
    with Store.open() as store:
        (job,) = store.list_jobs()
    assert not job.state.is_final
    second = StudioApp(demo, demo=True)
    async with second.run_test(size=SIZE):
        await wait_for(
            lambda: (j := second.jobs.jobs.get(job.id)) is not None and j.state.is_final,
            limit=25,
        )
        done = second.jobs.jobs[job.id]
        assert done.state is JobState.SUCCEEDED
        assert done.files and done.files[0].done and done.task_id == job.task_id
