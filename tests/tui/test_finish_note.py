"""A reply the model was made to end (cut at max_tokens, filtered by the provider) is complete
but not whole: a note under it says so, in the log, the status line, and after a restart."""

from __future__ import annotations

from collections.abc import Callable

from textual.color import Color
from textual.widgets import Static

from studio.store import MessageStatus
from studio.tui.app import StudioApp
from studio.tui.widgets.status_line import StatusLine
from studio.tui.widgets.streaming import StreamingMarkdown

from .conftest import SIZE, active_pane, reply_done, wait_for
from .test_chat import send


def note_of(app: StudioApp) -> Static | None:
    views = active_pane(app).views()
    return views[-1].query_one_optional(".finish-note", Static) if views else None


async def test_a_reply_cut_at_max_tokens_has_a_note_under_it(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        app.store.update_conversation(pane.conversation_id, max_tokens=6)
        await send(pilot, "Tell me a lot [[emulator: tokens=40]]")
        await reply_done(app, 2)
        reply = pane.views()[-1]
        assert reply.message.status is MessageStatus.COMPLETE
        assert reply.message.finish_reason == "length"
        assert len(reply.text.split()) == 6
        note = note_of(app)
        assert note is not None
        await pilot.pause()
        text = str(note.render())
        assert "Cut at the max-tokens limit" in text and "max tokens (f3)" in text
        markdown = reply.query_one(StreamingMarkdown)
        assert note.region.y >= markdown.region.bottom  # under the reply, not in its header
        assert note.styles.color == Color.parse(app.theme_variables["warning"])
        assert "cut at the max-tokens limit" in str(pane.query_one(StatusLine).render())

    reopened = make_app()  # the note comes from the stored finish reason
    async with reopened.run_test(size=SIZE):
        pane = active_pane(reopened)
        await wait_for(lambda: len(pane.views()) == 2)
        note = note_of(reopened)
        assert note is not None and "Cut at the max-tokens limit" in str(note.render())


async def test_a_filtered_reply_has_a_note_under_it(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Say it [[emulator: tokens=40; fault=content-filter:4]]")
        await reply_done(app, 2)
        note = note_of(app)
        assert note is not None
        assert "Filtered by the provider" in str(note.render())


async def test_a_whole_reply_has_no_note(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Short one [[emulator: tokens=10]]")
        await reply_done(app, 2)
        assert active_pane(app).views()[-1].message.finish_reason == "stop"
        assert note_of(app) is None
