"""Untrusted text never reaches the terminal raw, and is never parsed as markup (guide §6).

The app runs with a driver that is headless (no real terminal) but tells Textual it is not, so
Textual paints every frame into it exactly as it would into a terminal; the tests look at those
bytes. Each test also checks that the visible stand-in of a sequence (``␛]52``) was painted,
so it cannot pass because nothing was shown.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from textual import events
from textual.containers import VerticalScroll
from textual.driver import Driver
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, Tab

from studio.config import Settings
from studio.emulator import EmulatorServer
from studio.emulator.hostile import (
    HOSTILE_LINE,
    HOSTILE_MODEL_ID,
    HOSTILE_REQUEST_ID,
    HOSTILE_SEQUENCES,
    HOSTILE_TEXT,
    leaks,
)
from studio.jobs import Job, JobFile, JobKind, JobProvider, JobState
from studio.store import MessageStatus, Role, Store
from studio.textsafe import clean, is_clean
from studio.tui.app import StudioApp
from studio.tui.markdown_lines import MarkdownLines
from studio.tui.screens.gallery import GalleryScreen
from studio.tui.screens.job_detail import JobDetail
from studio.tui.screens.main import MainScreen
from studio.tui.screens.model_picker import ModelPicker
from studio.tui.widgets.conversation_list import ConversationList
from studio.tui.widgets.job_sidebar import JobSidebar
from studio.tui.widgets.message_view import MessageView
from studio.tui.widgets.prompt import PromptInput
from studio.tui.widgets.status_line import StatusLine

from .conftest import SIZE, Toasts, active_pane, option_ids, reply_done, wait_for

OWN_SEQUENCES = re.compile(r"\x1b\](?:22;[\w-]+|2;AnyFast Studio[^\x07\x1b]*)\x07")
SHOWN = "␛]52"
"""How the start of the clipboard sequence looks once defanged."""


class Terminal:
    """What an app wrote to its terminal. Install with :meth:`attach` before ``run_test``,
    and run with ``headless=False``: the driver is still a do-nothing headless one, but Textual
    then renders every frame to it as it would to a real terminal."""

    def __init__(self) -> None:
        self.chunks: list[str] = []

    def attach(self, app: StudioApp) -> StudioApp:
        chunks = self.chunks

        class CapturingDriver(HeadlessDriver):
            @property
            def is_headless(self) -> bool:
                return False

            def write(self, data: str) -> None:
                chunks.append(data)

        driver: type[Driver] = CapturingDriver
        app.driver_class = driver
        return app

    @property
    def output(self) -> str:
        """Everything written, less the sequences Textual and Studio write themselves and
        end with BEL (a raw control that :func:`leaks` looks for): Textual's pointer shape
        (OSC 22) and Studio's window title (OSC 2)."""
        return OWN_SEQUENCES.sub("", "".join(self.chunks))

    def showed(self, text: str) -> bool:
        return text in self.output

    async def check(self, marker: str, shown: str = SHOWN) -> None:
        """Wait until ``marker`` (plain text, painted alike whether the text around it was
        defanged or not) is on screen; by then nothing dangerous may have been painted. Then
        the defanged form ``shown`` must be painted too (Textual may paint a line in parts)."""
        await wait_for(lambda: self.showed(marker))
        assert leaks(self.output) == []
        await wait_for(lambda: self.showed(shown))
        assert leaks(self.output) == []


def run(
    app: StudioApp, terminal: Terminal, *, toasts: Toasts | None = None
) -> AbstractAsyncContextManager[Pilot[None]]:
    """Run ``app`` painting to ``terminal``; with ``toasts``, its notifications are shown and
    kept there."""
    return terminal.attach(app).run_test(
        headless=False,
        size=SIZE,
        notifications=toasts is not None,
        message_hook=None if toasts is None else toasts.hook,
    )


async def send(pilot: Pilot[None], text: str) -> None:
    prompt = active_pane(pilot.app).query_one(PromptInput)  # type: ignore[arg-type]
    prompt.focus()
    prompt.text = text
    await pilot.press("enter")


def main_screen(app: StudioApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


# -- the capture itself ---------------------------------------------------------------------------


async def test_the_capture_sees_what_textual_paints(make_app: Callable[..., StudioApp]) -> None:
    """The driver trick works with this Textual: frames arrive, and a raw write is seen."""
    terminal = Terminal()
    app = make_app()
    async with run(app, terminal) as pilot:
        await wait_for(lambda: terminal.showed("AnyFast Studio"))
        assert leaks(terminal.output) == []
        app.screen.query_one("#where", Static).update("\x1b]0;HOSTILE-TITLE-0\x07 raw")
        await pilot.pause()
        await wait_for(lambda: terminal.showed("raw"))
        # Textual itself paints control characters as they are: this is what the rest guards.
        assert "\x1b]0;HOSTILE" in leaks(terminal.output)


# -- (a) a streamed reply ---------------------------------------------------------------------------


async def test_hostile_reply_is_painted_defanged(
    make_app: Callable[..., StudioApp], emu: EmulatorServer
) -> None:
    emu.inject("hostile", count=None)
    terminal = Terminal()
    app = make_app()
    async with run(app, terminal) as pilot:
        await send(pilot, "Hi")
        await reply_done(app, 2)
        await terminal.check("ZWSP/ZWJ (zero width):")
        assert terminal.showed("HOSTILE-SAFE␍HOSTILE-CR")
        assert terminal.showed("HOSTILE-ZWJ end.")


async def test_the_store_keeps_the_hostile_reply_byte_for_byte(
    make_app: Callable[..., StudioApp], emu: EmulatorServer
) -> None:
    emu.inject("hostile", count=None)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Hi")
        pane = await reply_done(app, 2)
        reply = pane.views()[-1]
        stored = app.store.get_message(reply.message_id)
        assert stored is not None and stored.status is MessageStatus.COMPLETE
        assert stored.content == HOSTILE_TEXT
        assert reply.text == HOSTILE_TEXT  # the view holds it raw too: only painting cleans


# -- (b) inline errors -----------------------------------------------------------------------------


def error_text(app: StudioApp) -> str:
    view = active_pane(app).views()[-1]
    return str(view.query_one(".error-text", Static).visual)


async def test_hostile_http_error_is_painted_defanged(
    make_app: Callable[..., StudioApp], emu: EmulatorServer
) -> None:
    emu.inject("400:hostile")
    terminal = Terminal()
    app = make_app()
    async with run(app, terminal) as pilot:
        await send(pilot, "Hi")
        pane = await reply_done(app, 2)
        error = pane.views()[-1].message.error
        assert error is not None and HOSTILE_SEQUENCES["OSC 0 (set the window title)"] in error
        await terminal.check("HOSTILE-C1-CSI")
        assert SHOWN in error_text(app)


async def test_hostile_stream_error_event_is_painted_defanged(
    make_app: Callable[..., StudioApp], emu: EmulatorServer
) -> None:
    emu.inject("hostile", count=None)
    emu.inject("error-event:2")
    terminal = Terminal()
    app = make_app()
    async with run(app, terminal) as pilot:
        await send(pilot, "Hi")
        pane = await reply_done(app, 2)
        reply = pane.views()[-1].message
        assert reply.status in (MessageStatus.CUT, MessageStatus.ERROR)
        assert reply.error is not None and "\x1b]52;c;" in reply.error
        await terminal.check("HOSTILE-C1-CSI")
        assert SHOWN in error_text(app)


# -- (c) the model picker, and the model once picked ---------------------------------------------


async def test_hostile_model_id_is_painted_defanged(
    make_app: Callable[..., StudioApp], emu: EmulatorServer, toasts: Toasts
) -> None:
    emu.inject("hostile", count=None)
    terminal = Terminal()
    app = make_app()
    async with run(app, terminal, toasts=toasts) as pilot:
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, ModelPicker))
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        await wait_for(lambda: any(m.id == HOSTILE_MODEL_ID for m in picker.models))
        await pilot.press(*"evil")
        await wait_for(lambda: option_ids(picker, "#models")[:1] == [HOSTILE_MODEL_ID])
        await terminal.check("SE9TVElMRS1NT0RFTA", "gpt-4o␛]52")
        # Picked: the status line, a toast and the reply's header show it.
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        pane = active_pane(app)
        await wait_for(lambda: SHOWN in str(pane.query_one(StatusLine).visual))
        assert toasts.any("gpt-4o␛]52")
        await send(pilot, "Hi")
        await reply_done(app, 2)
        assert pane.views()[-1].message.model == HOSTILE_MODEL_ID
        assert SHOWN in str(pane.views()[-1].query_one(".who", Static).visual)
        await wait_for(lambda: re.search(r"evil · \d\d:\d\d", terminal.output) is not None)
        assert leaks(terminal.output) == []


# -- (d) a restored conversation ------------------------------------------------------------------


async def test_restored_hostile_conversation_is_painted_defanged(
    make_app: Callable[..., StudioApp],
) -> None:
    store = Store.open()
    title = "Hostile " + HOSTILE_SEQUENCES["OSC 52 (write the clipboard)"] + " chat"
    conversation = store.create_conversation(title=title, model=HOSTILE_MODEL_ID)
    store.add_message(conversation.id, Role.USER, "Tell me " + HOSTILE_LINE)
    store.add_message(
        conversation.id,
        Role.ASSISTANT,
        HOSTILE_TEXT,
        model=HOSTILE_MODEL_ID,
        status=MessageStatus.ERROR,
        error=f"{HOSTILE_LINE} (request id: {HOSTILE_REQUEST_ID})",
    )
    store.set_state("open_tabs", [conversation.id])
    store.set_state("active_tab", conversation.id)
    store.close()
    terminal = Terminal()
    app = make_app()
    async with run(app, terminal):
        pane = await reply_done(app, 2)
        assert pane.conversation_id == conversation.id
        await terminal.check("ZWSP/ZWJ (zero width):")  # the reply
        await terminal.check("HOSTILE-C1-CSI")  # the error under the reply
        await terminal.check("Hostile ", "Hostile ␛]52")  # the tab and the list
        assert terminal.output.count("Hostile ␛]52") >= 2
        tab = main_screen(app).query_one(f"#tab-{conversation.id}", Tab)
        assert tab.label.plain.startswith("Hostile ␛]52")
        pane.query_one(".log", VerticalScroll).scroll_home(animate=False)
        await terminal.check("Tell me bad request")  # the prompt, above
        stored = app.store.messages(conversation.id)
        assert stored[-1].content == HOSTILE_TEXT


# -- jobs: sidebar, detail, toast, gallery ---------------------------------------------------------


def hostile_job(job_id: int, conversation_id: int | None = None) -> Job:
    now = 1_700_000_000.0
    name = "image\x1b]52;c;SE9TVElMRS1GSUxF\x07\u202egnp.png"
    return Job(
        id=job_id,
        kind=JobKind.IMAGE,
        provider=JobProvider.SEEDREAM,
        action="generate",
        model=HOSTILE_MODEL_ID,
        prompt="a cat " + HOSTILE_LINE,
        params={"size": HOSTILE_SEQUENCES["CSI 2J (clear the screen)"]},
        conversation_id=conversation_id,
        retry_of=None,
        state=JobState.FAILED,
        task_id=HOSTILE_REQUEST_ID,
        idempotency_key="k",
        progress=40,
        progress_points=(),
        result={"errors": [{"index": 0, "message": HOSTILE_LINE, "code": HOSTILE_REQUEST_ID}]},
        files=(
            JobFile(0, "https://cdn.invalid/" + name, "/nowhere/" + name, 10, done=True),
            JobFile(1, None, "/nowhere/second.png", error=HOSTILE_LINE),
        ),
        failure_reason=HOSTILE_LINE,
        message=HOSTILE_SEQUENCES["OSC 0 (set the window title)"],
        last_response={"message": HOSTILE_LINE, "request_id": HOSTILE_REQUEST_ID},
        history=(("failed\x1b[2J\x1b[1;1HHOSTILE", now),),
        created_at=now - 60,
        submitted_at=now - 59,
        started_at=now - 50,
        finished_at=now,
        updated_at=now,
        deadline_at=None,
        next_poll_at=None,
        poll_count=3,
        urls_expire_at=None,
        claimed_by=None,
        lease_until=None,
    )


async def test_hostile_job_is_painted_defanged(settings: Settings, toasts: Toasts) -> None:
    terminal = Terminal()
    app = StudioApp(dataclasses.replace(settings, bell=False))  # the bell is a BEL of our own
    async with run(app, terminal, toasts=toasts) as pilot:
        pane = active_pane(app)
        await app.jobs.ensure_started()
        job = hostile_job(9001, pane.conversation_id)
        app.jobs._changed(job)  # as the engine reports a job that failed
        await wait_for(lambda: any(n.title == "Job failed" for n in toasts.shown))
        await terminal.check("job #9001 failed")  # the toast
        # The failure is reported in its conversation too.
        await wait_for(lambda: len(pane.views()) == 1)
        await pilot.press("ctrl+g")
        sidebar = main_screen(app).query_one(JobSidebar)
        await wait_for(lambda: sidebar.query_one(OptionList).option_count >= 1)
        await terminal.check("a cat bad request", "a cat bad request ␛]52")
        app.push_screen(JobDetail(job))
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        await terminal.check("SE9TVElMRS1GSUxF", "image␛]52;c;SE9TVElMRS1GSUxF")
        app.screen.dismiss()
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        app.push_screen(GalleryScreen())
        await wait_for(lambda: isinstance(app.screen, GalleryScreen))
        await wait_for(lambda: terminal.showed("Gallery · 1 image"))
        fallback = app.screen.query_one(".tile-fallback", Static)
        assert str(fallback.visual).startswith("▣ image␛]52;c;SE9TVElMRS1GSUxF")
        assert leaks(terminal.output) == []


# -- the prompt: recalled and pasted text ----------------------------------------------------------


async def test_prompt_paints_recalled_and_pasted_hostile_text_defanged(
    make_app: Callable[..., StudioApp],
) -> None:
    store = Store.open()
    store.add_prompt_history("recalled " + HOSTILE_LINE)
    store.close()
    terminal = Terminal()
    app = make_app()
    async with run(app, terminal) as pilot:
        prompt = active_pane(app).query_one(PromptInput)
        prompt.focus()
        await pilot.press("up")
        assert prompt.text == "recalled " + HOSTILE_LINE  # sent as it was typed
        await terminal.check("recalled bad request", "recalled bad request ␛]52")
        prompt.text = ""
        app.post_message(events.Paste("pasted " + HOSTILE_LINE))  # as the driver posts it
        await terminal.check("pasted bad request", "pasted bad request ␛]52")
        assert prompt.text == clean("pasted " + HOSTILE_LINE)  # what is shown is what is sent


def test_markdown_character_references_are_painted_defanged() -> None:
    """Markdown turns ``&#x202e;`` into the character itself: the rendered lines are checked
    as well as the text."""
    text = "a &#x202e;evil&#x202c; b &#8203; c &zwj; d &#x1b;]52;c;QQ==&#7;"
    lines = MarkdownLines({}, dark=True).render(text, 60)
    shown = "".join(strip.text for strip in lines)
    assert "⟨U+202E⟩evil" in shown
    assert is_clean(shown) and leaks(shown) == []
    assert all(strip.cell_length == 60 for strip in lines)


# -- markup ------------------------------------------------------------------------------------------

MARKUP_TITLES = ("[WIP] fix the build", "What is [link=https://example.com] markup")


async def test_markup_like_titles_show_literally_and_start_restored(
    make_app: Callable[..., StudioApp],
    toasts: Toasts,
) -> None:
    store = Store.open()
    ids = [store.create_conversation(title=title).id for title in MARKUP_TITLES]
    store.set_state("open_tabs", ids)
    store.set_state("active_tab", ids[1])
    store.close()
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True, message_hook=toasts.hook) as pilot:
        screen = main_screen(app)
        await wait_for(lambda: screen.open_ids == ids)
        for cid, title in zip(ids, MARKUP_TITLES, strict=True):
            label = screen.query_one(f"#tab-{cid}", Tab).label.plain
            assert label.rstrip("…") == title[: len(label.rstrip("…"))]
            assert label.startswith(title[:20])
        prompts = [
            str(option.prompt)
            for option in screen.query_one(ConversationList).query_one(OptionList).options
        ]
        for title in MARKUP_TITLES:
            assert any(prompt.startswith(title) for prompt in prompts), prompts
        # The delete question and its toast echo the title as it is.
        screen.query_one(ConversationList).query_one(OptionList).focus()
        await pilot.press("x")
        await wait_for(lambda: not isinstance(app.screen, MainScreen))
        question = str(app.screen.query_one(".dialog-title", Static).visual)
        assert any(title in question for title in MARKUP_TITLES)
        await pilot.press("y")
        await wait_for(lambda: toasts.any("Deleted"))
        note = toasts.first("Deleted")
        assert any(title in note for title in MARKUP_TITLES)


async def test_markup_like_model_id_and_error_show_literally(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        model = "[b]bold[/b] [link=https://example.com]x"
        app.store.update_conversation(pane.conversation_id, model=model)
        pane.set_model(model)
        await pilot.pause()
        assert str(pane.query_one(StatusLine).visual).startswith(model)
        view_message = app.store.add_message(
            pane.conversation_id,
            Role.ASSISTANT,
            "fine",
            model=model,
            status=MessageStatus.ERROR,
            error="bad [link=https://example.com] markup [/b]",
        )
        await pane.append_message(view_message)
        view = pane.views()[-1]
        assert isinstance(view, MessageView)
        assert str(view.query_one(".error-text", Static).visual) == view_message.error
        assert str(view.query_one(".who", Static).visual).startswith(model)


# -- the rule, kept -------------------------------------------------------------------------------

TUI = Path(__file__).resolve().parents[2] / "studio" / "tui"


def _is_super(node: ast.expr) -> bool:
    """``super()``: the app's own ``notify`` passes the flag on as it was given."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def test_every_toast_is_raised_without_markup() -> None:
    """Toast messages are built from server and user text: no ``notify`` call in the TUI may
    parse them as markup (Textual's default)."""
    offenders = []
    for path in sorted(TUI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "notify"
                and not _is_super(node.func.value)
            ):
                markup = next((k.value for k in node.keywords if k.arg == "markup"), None)
                if not (isinstance(markup, ast.Constant) and markup.value is False):
                    offenders.append(f"{path.relative_to(TUI)}:{node.lineno}")
    assert offenders == []
