"""Replies follow the theme, at once: a finished reply (on screen, or scrolled away) is drawn
again in the new theme's colours (code block background, the Pygments style, headings, tables,
links, inline code, the message accents), and a reply streaming while the theme changes several
times (to light, 16-colour and Textual's own themes) ends intact, in the last theme's colours."""

from __future__ import annotations

from collections.abc import Callable

from pygments.token import Keyword
from rich.segment import Segment
from rich.style import Style
from rich.syntax import PygmentsSyntaxTheme
from textual.color import Color
from textual.containers import VerticalScroll

from studio.emulator.replies import Prompt, fingerprint, reply_tokens
from studio.store import MessageStatus, Role
from studio.tui.app import StudioApp
from studio.tui.markdown_lines import theme_color
from studio.tui.widgets.message_view import MessageView
from studio.tui.widgets.streaming import StreamingMarkdown

from .conftest import SIZE, Toasts, active_pane, reply_done, wait_for
from .test_chat import send

REPLY = """# Server-sent events

SSE keeps one response open; read [the spec](https://html.spec.whatwg.org/) and call `EventSource()`.

```python
def events(url):
    return url
```

| Option | Latency |
| --- | --- |
| SSE | 18 ms |
"""


def segments(markdown: StreamingMarkdown) -> list[list[Segment]]:
    """Every line the reply paints, as its segments."""
    return [list(markdown.render_line(y)) for y in range(markdown.size.height)]


def style_of(markdown: StreamingMarkdown | list[list[Segment]], text: str) -> Style | None:
    """The style of the first painted segment that reads ``text`` (None if none does)."""
    lines = segments(markdown) if isinstance(markdown, StreamingMarkdown) else markdown
    for line in lines:
        for segment in line:
            if segment.text.strip() == text:
                return segment.style
    return None


def colour(style: Style | None, *, background: bool = False) -> str | None:
    if style is None:
        return None
    chosen = style.bgcolor if background else style.color
    return chosen.name.lower() if chosen is not None else None


def mismatches(app: StudioApp, markdown: StreamingMarkdown) -> list[str]:
    """What the reply draws in colours other than the theme's (empty when all is right). Parts
    not shown (yet: a reply still streaming) are not counted."""
    variables = app.theme_variables
    painted = segments(markdown)

    def wanted(name: str) -> str:
        return theme_color(variables, name, "").lower()

    syntax = PygmentsSyntaxTheme(variables["studio-code-style"])
    if variables.get("studio-code-background"):
        code_background = wanted("studio-code-background")
    else:  # Textual's themes keep the Pygments style's own background
        code_background = colour(syntax.get_background_style(), background=True) or ""
    expected = {
        "heading": (style_of(painted, "Server-sent events"), wanted("markdown-h1-color")),
        "link": (style_of(painted, "the spec"), wanted("text-primary")),
        "inline code": (style_of(painted, "EventSource()"), wanted("text-accent")),
        "table header": (style_of(painted, "Latency"), wanted("text-primary")),
        "keyword": (style_of(painted, "def"), colour(syntax.get_style_for_token(Keyword))),
    }
    found = [
        f"{part}: {colour(style)} instead of {want}"
        for part, (style, want) in expected.items()
        if style is not None and colour(style) != want
    ]
    code = {
        colour(segment.style, background=True)
        for line in painted
        if "def " in "".join(segment.text for segment in line)
        for segment in line
    }
    if code and code != {code_background}:
        found.append(f"code background: {sorted(map(str, code))} instead of {code_background}")
    return found


async def drawn_in_theme(app: StudioApp, markdown: StreamingMarkdown) -> None:
    """Wait until the reply is drawn in the app's theme; fail saying what is not."""
    try:
        await wait_for(lambda: not mismatches(app, markdown))
    except AssertionError:
        assert mismatches(app, markdown) == [], app.theme


def accent(view: MessageView) -> Color:
    """The colour of the bar on the message's left."""
    return view.styles.border_left[1]


def app_with_a_reply(make_app: Callable[..., StudioApp], title: str) -> StudioApp:
    """An app in studio-dark that opens on a conversation holding :data:`REPLY`."""
    app = make_app()
    conversation = app.store.create_conversation(title=title)
    app.store.add_message(conversation.id, Role.USER, "Explain server-sent events")
    app.store.add_message(conversation.id, Role.ASSISTANT, REPLY)
    app.store.set_state("open_tabs", [conversation.id])
    app.store.set_state("active_tab", conversation.id)
    app.theme = "studio-dark"
    return app


async def test_a_finished_reply_is_drawn_again_in_each_new_theme(
    make_app: Callable[..., StudioApp],
) -> None:
    app = app_with_a_reply(make_app, "Themes")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: bool(active_pane(app).views()))
        user, reply = active_pane(app).views()
        markdown = reply.query_one(StreamingMarkdown)
        await wait_for(lambda: markdown.fully_rendered)
        seen = set()
        for theme in ("studio-dark", "studio-light", "high-contrast", "textual-light", "ansi-16"):
            app.theme = theme
            await pilot.pause()
            await drawn_in_theme(app, markdown)
            # Every part was found, so each was checked.
            for text in ("Server-sent events", "the spec", "EventSource()", "Latency", "def"):
                assert style_of(markdown, text) is not None, text
            variables = app.theme_variables
            assert accent(user).rgb == Color.parse(variables["studio-user-accent"]).rgb
            assert accent(reply).rgb == Color.parse(variables["studio-assistant-accent"]).rgb
            seen.add(colour(style_of(markdown, "Server-sent events")))
        assert len(seen) == 5  # each theme drew its own heading colour


async def test_a_reply_scrolled_out_of_view_comes_back_in_the_new_theme(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    conversation = app.store.create_conversation(title="Scrolled")
    app.store.add_message(conversation.id, Role.USER, "First")
    app.store.add_message(conversation.id, Role.ASSISTANT, REPLY)
    app.store.add_message(conversation.id, Role.USER, "Second")
    app.store.add_message(conversation.id, Role.ASSISTANT, "\n\n".join(["More words."] * 60))
    app.store.set_state("open_tabs", [conversation.id])
    app.store.set_state("active_tab", conversation.id)
    app.theme = "studio-dark"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(active_pane(app).views()) == 4)
        pane = active_pane(app)
        first = pane.views()[1].query_one(StreamingMarkdown)
        await wait_for(lambda: first.fully_rendered)
        log = pane.query_one(".log", VerticalScroll)
        await wait_for(lambda: log.scroll_y == log.max_scroll_y > 0)
        assert not log.region.overlaps(first.region)  # out of view
        app.theme = "studio-light"
        await pilot.pause()
        log.scroll_home(animate=False)
        await wait_for(lambda: log.region.overlaps(first.region))
        await drawn_in_theme(app, first)
        assert style_of(first, "def") is not None


async def streamed_past(markdown: StreamingMarkdown, size: int) -> None:
    """Wait until more than ``size`` characters of the reply have come."""
    await wait_for(lambda: len(markdown.text) > size)


QUESTION = "Explain caching with code and a table"
SWITCHES = ("studio-light", "ansi-16", "textual-light", "ansi-dark", "high-contrast")
"""A light theme, 16-colour ones (Studio's and Textual's), Textual's own, then high contrast."""


async def test_switching_themes_while_a_reply_streams(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()
    app.theme = "studio-dark"
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        sent = "".join(reply_tokens(Prompt(QUESTION, fingerprint([f"user:{QUESTION}"])), 900))
        pane = await send(pilot, f"{QUESTION} [[emulator: tokens=900; rate=100]]")
        await wait_for(lambda: pane.streaming and len(pane.views()) == 2)
        markdown = pane.views()[-1].query_one(StreamingMarkdown)
        every = len(sent) // (len(SWITCHES) + 1)
        mid_stream = []
        for step, theme in enumerate(SWITCHES, start=1):
            await streamed_past(markdown, step * every)
            if pane.streaming:
                mid_stream.append(theme)
            app.theme = theme
            await pilot.pause()
            await drawn_in_theme(app, markdown)
        # A loaded machine may lag behind the stream: most switches must still come during it.
        assert len(mid_stream) >= 4, mid_stream
        await reply_done(app, 2)
        stored = app.store.messages(pane.conversation_id)[-1]
        assert stored.status is MessageStatus.COMPLETE
        assert stored.content == sent == markdown.text
        await wait_for(lambda: markdown.fully_rendered)
        assert app.theme == "high-contrast"
        await drawn_in_theme(app, markdown)
        for text in ("def", "Latency"):  # the code and the table reached the screen
            assert style_of(markdown, text) is not None, text
        assert not [n for n in toasts.shown if n.severity in ("error", "warning")]


async def test_lines_drawn_before_the_new_themes_colours_apply_are_drawn_again(
    make_app: Callable[..., StudioApp],
) -> None:
    """Textual applies a theme's colours a moment after ``app.theme`` changes; a frame or a
    streamed flush drawn in that moment must not keep the old theme's colours."""
    app = app_with_a_reply(make_app, "Between")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: bool(active_pane(app).views()))
        markdown = active_pane(app).views()[-1].query_one(StreamingMarkdown)
        await wait_for(lambda: markdown.fully_rendered)
        dark = colour(style_of(markdown, "Server-sent events"))
        app.theme = "studio-light"
        assert colour(style_of(markdown, "Server-sent events")) == dark  # drawn in between
        await pilot.pause()
        await drawn_in_theme(app, markdown)
