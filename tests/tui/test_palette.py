"""The command palette finds conversations, models, jobs, themes and recent searches, best
first, their text made safe; acting on a hit does what it says; actions show their keys."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from studio.jobs import JobKind, JobProvider, JobState
from studio.tui.app import StudioApp
from studio.tui.palette import StudioCommands
from studio.tui.palette_finds import ModelFinder
from studio.tui.palette_match import Entry, rank
from studio.tui.screens.job_detail import JobDetail
from studio.tui.screens.search import SearchScreen
from studio.tui.search_results import remember_search
from studio.tui.widgets.prompt import PromptInput
from tests.tui.conftest import SIZE, Toasts, active_pane, wait_for


async def palette_hits(app: StudioApp, pilot: Pilot[None], query: str, wanted: str) -> list[str]:
    """Open the palette (if it is not open), type ``query`` and wait until the best hit
    contains ``wanted``; the hits' first lines (name and keys), in the order shown."""
    if not isinstance(app.screen, CommandPalette):
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette))
    palette = app.screen
    palette.query_one(CommandInput).value = query
    results = palette.query_one(CommandList)

    def shown() -> list[str]:
        prompts = (results.get_option_at_index(i).prompt for i in range(results.option_count))
        return [str(prompt).splitlines()[0] for prompt in prompts]

    await wait_for(lambda: bool(shown()) and wanted in shown()[0])
    return shown()


async def choose(app: StudioApp, pilot: Pilot[None], query: str, wanted: str) -> None:
    """Find ``wanted`` with ``query`` as the best hit and run it."""
    await palette_hits(app, pilot, query, wanted)
    await pilot.press("enter")
    await wait_for(lambda: not isinstance(app.screen, CommandPalette))


async def test_the_palette_opens_a_conversation_found_by_title(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    wanted = app.store.create_conversation(title="Quarterly budget review")
    app.store.create_conversation(title="Quiz about birds")
    app.store.create_conversation(title="Holiday plans")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        await choose(app, pilot, "qbudget", "Open: Quarterly budget review")
        await wait_for(lambda: app.screen.active_id == wanted.id)  # type: ignore[attr-defined]
        assert active_pane(app).conversation_id == wanted.id


async def test_the_palette_switches_the_conversation_model(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        cid = active_pane(app).conversation_id
        await choose(app, pilot, "model gpt-4o-mini", "Model: gpt-4o-mini")
        await wait_for(lambda: app.store.get_conversation(cid).model == "gpt-4o-mini")  # type: ignore[union-attr]
        await wait_for(lambda: toasts.any("Model for this conversation: gpt-4o-mini"))
        entries = await ModelFinder(app.screen).make_entries()
        offered = [entry.text for entry in entries]
        assert "Model: gpt-4o" in offered
        assert not any("seedream" in text for text in offered)  # makes images, not replies


async def test_the_palette_shows_a_job_found_by_its_prompt(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.jobs.ensure_started()
        job = app.store.create_job(
            kind=JobKind.IMAGE,
            provider=JobProvider.SEEDREAM,
            action="generate",
            model="seedream-4-0",
            prompt="a lighthouse at dusk",
            params={},
            idempotency_key="palette-job",
            claimed_by="another-host:4242",  # no engine here takes it up
            lease_until=time.time() + 3600,
        )
        failed = app.store.update_job(job.id, state=JobState.FAILED, failure_reason="nope")
        assert failed is not None
        app.jobs.record(failed)
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        await choose(app, pilot, "lighthouse", f"Job #{job.id} image · failed")
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        details = app.screen
        assert isinstance(details, JobDetail) and details.job.id == job.id
        # the details' own actions, with their keys, those that apply to the job
        hits = await palette_hits(app, pilot, "job retry", "Job: retry as a new job")
        assert hits[0].endswith("  r"), hits
        offered = [entry.text for entry in StudioCommands(details).commands()]
        assert "Job: remove from the list" in offered
        assert "Job: cancel (stop tracking)" not in offered  # a failed job: nothing to cancel


async def test_the_palette_switches_the_theme(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        await choose(app, pilot, "theme textual-light", "Theme: textual-light")
        await wait_for(lambda: app.theme == "textual-light")


async def test_words_in_any_order_find_the_theme_picker(
    make_app: Callable[..., StudioApp],
) -> None:
    from studio.tui.screens.theme_picker import ThemePicker

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        # "change" is only in what the entry does; "theme" in its name
        await choose(app, pilot, "change theme", "Theme: choose with a live preview")
        await wait_for(lambda: isinstance(app.screen, ThemePicker))
        # Textual's own "Theme" and "Quit" are left out: Studio lists its own, with their keys
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Keys" in titles and not {"Theme", "Quit"} & titles


async def test_the_palette_runs_a_recent_search_again(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    app.store.create_conversation(title="Birds")
    remember_search(app.store, "kestrel wings")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        await choose(app, pilot, "again kestrel", "Search again: kestrel wings")
        await wait_for(lambda: isinstance(app.screen, SearchScreen))
        screen = app.screen
        assert screen.query_one("#query", Input).value == "kestrel wings"
        await wait_for(lambda: screen.state in {"hits", "none"})  # type: ignore[attr-defined]


async def test_the_palette_opens_the_settings_with_their_key(
    make_app: Callable[..., StudioApp],
) -> None:
    from studio.tui.screens.settings import SettingsScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        hits = await palette_hits(app, pilot, "settings", "Settings: every Studio setting")
        assert hits[0].endswith("  f6"), hits
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))


async def test_untrusted_titles_are_shown_safe(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    app.store.create_conversation(title="Evil \x1b[2J\x07title [b]markup[/b]")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        hits = await palette_hits(app, pilot, "evil title", "Open: Evil")
        shown = hits[0]
        assert "\x1b" not in shown and "\x07" not in shown
        assert "[b]markup[/b]" in shown  # shown as typed, never parsed as markup


async def test_actions_of_the_focused_widget_show_their_key(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        await pilot.press("ctrl+l")  # the conversation list
        await wait_for(lambda: type(app.focused).__name__ != "PromptInput")
        hits = await palette_hits(app, pilot, "list filter", "List: Filter by title")
        assert hits[0].endswith("  slash"), hits


async def test_words_match_in_any_order_in_the_name_or_what_it_does() -> None:
    entries = [
        Entry("Export the conversation", lambda: None, "Markdown, JSON or HTML"),
        Entry("Conversation export html", lambda: None),
        Entry("Quit Studio", lambda: None, "Leave"),
    ]
    found = [ranked.entry.text for ranked in await rank("html export", entries)]
    assert found == ["Conversation export html", "Export the conversation"]
    assert await rank("html quit", entries) == []


async def test_rank_puts_the_best_match_first() -> None:
    def entry(text: str) -> Entry:
        return Entry(text, lambda: None)

    entries = [entry("Open: a gpt story"), entry("Model: gpt-4o"), entry("Model: gpt-4o-mini")]
    ranked = await rank("gpt4o", entries)
    assert [r.entry.text for r in ranked] == ["Model: gpt-4o", "Model: gpt-4o-mini"]
    assert all(0 < r.score <= 1 for r in ranked)
    assert ranked[0].score > ranked[1].score
    assert await rank("zzz", entries) == []
