"""Pilot tests of a reply's view (``StreamingMarkdown``): one widget, blocks, theme, selection."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Offset
from textual.selection import Selection

from studio.store import Role
from studio.tui.app import StudioApp
from studio.tui.markdown_lines import estimate_height
from studio.tui.widgets.streaming import StreamingMarkdown, split_blocks

from .conftest import SIZE, Toasts, active_pane, reply_done, wait_for
from .test_chat import OSC52, send


def shown_lines(markdown: StreamingMarkdown) -> list[str]:
    """Every line the view paints, as plain text."""
    return [markdown.render_line(y).text.rstrip() for y in range(markdown.size.height)]


async def test_a_long_streamed_reply_is_one_widget_rendered_block_by_block(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "A long one [[emulator: tokens=1500]]")
        await reply_done(app, 2)
        reply = pane.views()[-1]
        markdown = reply.query_one(StreamingMarkdown)
        assert markdown.block_count > 3  # cut into blocks as it streamed...
        assert not markdown.children  # ...all painted by the one widget
        # What streamed is what a fresh view of the stored text shows, line for line.
        stored = app.store.get_message(reply.message_id)
        assert stored is not None and stored.content == markdown.text
        assert markdown.block_count == len(split_blocks(stored.content))
        fresh = StreamingMarkdown(stored.content)
        await reply.mount(fresh)
        await wait_for(lambda: fresh.fully_rendered and markdown.fully_rendered)
        await pilot.pause()
        assert fresh.size == markdown.size
        assert shown_lines(fresh) == shown_lines(markdown)
        # Headings, the code sample and the table all reached the screen.
        text = "\n".join(shown_lines(markdown))
        assert "Overview" in text and "def " in text and "Latency" in text
        assert "```" not in text and "|---" not in text  # rendered, not shown as source


async def test_the_reply_follows_the_theme(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Colours [[emulator: tokens=200]]")
        await reply_done(app, 2)
        markdown = pane.views()[-1].query_one(StreamingMarkdown)

        def colours() -> set[str]:
            found = set()
            for y in range(markdown.size.height):
                for segment in markdown.render_line(y):
                    assert isinstance(segment, Segment)
                    if segment.style is not None and segment.style.bgcolor is not None:
                        found.add(segment.style.bgcolor.name)
            return found

        dark = colours()
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        light = colours()
        assert dark and light and dark != light
        # Every painted cell has the theme's background: none falls through to the terminal's.
        for y in range(markdown.size.height):
            for segment in markdown.render_line(y):
                assert isinstance(segment, Segment)
                assert segment.style is not None and segment.style.bgcolor is not None


async def test_mouse_selection_is_copied_like_everything_else(
    make_app: Callable[..., StudioApp],
    toasts: Toasts,
) -> None:
    """Selecting reply text and pressing ctrl+c goes through Studio's clipboard path (OSC 52
    and an honest toast), not Textual's bare sequence."""
    app = make_app()
    written = OSC52.capture(app)
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = await send(pilot, "Select me [[emulator: tokens=80]]")
        await reply_done(app, 2)
        markdown = pane.views()[-1].query_one(StreamingMarkdown)
        lines = shown_lines(markdown)
        whole = markdown.get_selection(Selection(None, None))
        assert whole is not None
        assert whole[0].splitlines()[0] == lines[0]
        first = next(line for line in lines if line.strip())
        y = lines.index(first)
        app.screen.selections = {
            markdown: Selection.from_offsets(Offset(0, y), Offset(len(first), y))
        }
        await pilot.pause()
        assert app.screen.get_selected_text() == first
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert written
        assert base64.b64decode(written[-1].split(";")[2].rstrip("\a\x1b\\")).decode() == first
        assert toasts.any("Selection")


async def test_history_opens_with_replies_as_single_widgets(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    conversation = app.store.create_conversation(title="Old chat")
    for index in range(12):
        app.store.add_message(conversation.id, Role.USER, f"Question {index}")
        app.store.add_message(
            conversation.id, Role.ASSISTANT, f"## Answer {index}\n\n" + "word " * 400
        )
    app.store.set_state("open_tabs", [conversation.id])
    app.store.set_state("active_tab", conversation.id)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = active_pane(app)
        replies = [v for v in pane.views() if v.message.role is Role.ASSISTANT]
        assert len(replies) == 12
        for view in replies:
            markdown = view.query_one(StreamingMarkdown)
            assert markdown.finished and not markdown.children
        last = "\n".join(shown_lines(replies[-1].query_one(StreamingMarkdown)))
        assert "Answer 11" in last


async def test_a_reply_laid_out_on_a_guess_takes_its_real_height(
    make_app: Callable[..., StudioApp],
) -> None:
    """History is laid out with estimated heights and rendered as it comes into view; the
    real height must then replace the guess, and the log stay at its bottom."""
    from textual.containers import VerticalScroll

    from studio.emulator.replies import Prompt, reply_tokens

    app = make_app()
    conversation = app.store.create_conversation(title="Guessed")
    question = "Explain server-sent events with a code sample and a comparison table"
    text = "".join(reply_tokens(Prompt(question, "guess", ()), 400, whole_sections=True))
    app.store.add_message(conversation.id, Role.USER, question)
    app.store.add_message(conversation.id, Role.ASSISTANT, text)
    app.store.set_state("open_tabs", [conversation.id])
    app.store.set_state("active_tab", conversation.id)
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        markdown = pane.views()[-1].query_one(StreamingMarkdown)
        await wait_for(lambda: markdown.fully_rendered)
        await pilot.pause()
        width = markdown.size.width
        guessed = sum(estimate_height(block, width) for block in split_blocks(text))
        assert guessed != markdown.size.height  # the guesses were off somewhere...
        height = markdown.get_content_height(app.size, app.size, width)
        assert markdown.size.height == height  # ...and the real heights won
        log = pane.query_one(".log", VerticalScroll)
        assert log.scroll_y == log.max_scroll_y
        assert shown_lines(markdown)[-1].strip()  # the last line shown is the reply's last


LONG = "\n\n".join(
    f"# Heading {i}\n\n- " + "word " * 250 + "\n- " + "wordy " * 40 for i in range(80)
)
"""Long list items under headings: estimated heights that are well off."""


class OneReply(App[None]):
    """A bare app holding one long reply in a scroll view."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield StreamingMarkdown(LONG)


async def test_a_hidden_reply_survives_a_theme_change_while_it_fills() -> None:
    app = OneReply()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        view = app.query_one(StreamingMarkdown)
        assert not view.fully_rendered  # most of it is off screen, left to the filler
        view.display = False  # never painted again: the renderer must come back some other way
        await pilot.pause()
        app.theme = "textual-light"
        await wait_for(lambda: view.fully_rendered, limit=30)  # with the new theme's renderer


async def test_copying_a_selection_lays_the_reply_out_for_what_it_rendered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from studio.tui.widgets import streaming

    monkeypatch.setattr(streaming, "FILL_DELAY", 100.0)  # keep the background filler out
    app = OneReply()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        view = app.query_one(StreamingMarkdown)
        rendered_at_first = view.fully_rendered
        assert not rendered_at_first
        text = view.get_selection(Selection(None, None))
        assert text is not None and "Heading 79" in text[0]
        await pilot.pause()
        height = view.get_content_height(app.size, app.size, view.size.width)
        assert view.fully_rendered and view.size.height == height
