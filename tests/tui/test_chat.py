"""Pilot tests: chatting in the real app against the emulator."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from textual.binding import Binding
from textual.color import Color
from textual.pilot import Pilot

from studio.config import Settings
from studio.emulator import EmulatorServer
from studio.store import MessageStatus, Role
from studio.tui.app import StudioApp
from studio.tui.heap import HeapFreeze
from studio.tui.screens.model_picker import ModelPicker
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.prompt import PromptInput
from studio.tui.widgets.streaming import StreamingMarkdown

from .conftest import SIZE, Toasts, active_pane, option_ids, reply_done, wait_for


class OSC52:
    """The clipboard sequences among everything the app wrote raw (titles are written too)."""

    def __init__(self, sent: list[str]) -> None:
        self.sent = sent

    @classmethod
    def capture(cls, app: StudioApp) -> OSC52:
        """Keep what ``app`` writes raw to the terminal, to look at its clipboard sequences."""
        sent: list[str] = []
        app.write_to_terminal = sent.append  # type: ignore[method-assign,assignment]
        return cls(sent)

    def _copies(self) -> list[str]:
        return [s for s in self.sent if s.startswith("\x1b]52;")]

    def __bool__(self) -> bool:
        return bool(self._copies())

    def __len__(self) -> int:
        return len(self._copies())

    def __getitem__(self, index: int) -> str:
        return self._copies()[index]


async def send(pilot: Pilot[None], text: str) -> ChatPane:
    pane = active_pane(pilot.app)  # type: ignore[arg-type]
    prompt = pane.query_one(PromptInput)
    prompt.focus()
    prompt.text = text
    await pilot.press("enter")
    return pane


async def test_send_and_stream_a_reply(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"Hi", "enter")
        pane = await reply_done(app, 2)
        user, reply = pane.views()
        assert user.message.content == "Hi"
        assert reply.message.status is MessageStatus.COMPLETE
        assert "You asked" in reply.text
        assert reply.query_one(StreamingMarkdown).finished
        stored = app.store.messages(pane.conversation_id)
        assert [m.role for m in stored] == [Role.USER, Role.ASSISTANT]
        assert stored[1].content == reply.text
        assert stored[1].usage is not None and stored[1].usage.completion_tokens > 0
        # The conversation is titled from its first prompt.
        conversation = app.store.get_conversation(pane.conversation_id)
        assert conversation is not None and conversation.title == "Hi"
        assert pane.query_one(PromptInput).text == ""
        # ...and keeps that title as the conversation goes on.
        await pilot.press(*"Then", "enter")
        await reply_done(app, 4)
        conversation = app.store.get_conversation(pane.conversation_id)
        assert conversation is not None and conversation.title == "Hi"


async def test_multiline_prompt_and_history(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        prompt = pane.query_one(PromptInput)
        prompt.focus()
        await pilot.press(*"one", "ctrl+j", *"two")
        assert prompt.text == "one\ntwo"
        await pilot.press("enter")
        await reply_done(app, 2)
        await pilot.press("up")
        assert prompt.text == "one\ntwo"
        await pilot.press("down")
        assert prompt.text == ""


async def test_escape_stops_and_keeps_partial_text(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Slow please [[emulator: tokens=600; rate=60]]")
        await wait_for(lambda: pane.streaming and len(pane.views()[-1].text.split()) >= 5)
        await pilot.press("escape")
        await wait_for(lambda: not pane.streaming)
        reply = pane.views()[-1]
        assert reply.message.status is MessageStatus.STOPPED
        assert 5 <= len(reply.text.split()) < 600
        stored = app.store.get_message(reply.message_id)
        assert stored is not None and stored.status is MessageStatus.STOPPED
        assert stored.content == reply.text


async def test_a_replys_state_styles_its_header_and_error_row_only(
    make_app: Callable[..., StudioApp],
) -> None:
    """State classes reach the small header and error row; restyling the whole message would
    restyle and repaint the whole reply. The heap stays frozen while it streams."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Slow please [[emulator: tokens=600; rate=60]]")
        await wait_for(lambda: pane.streaming and bool(pane.views()[-1].text))
        reply = pane.views()[-1]
        header = reply.query_one(".message-header")
        assert reply.has_class("-streaming") and header.has_class("-streaming")
        assert not reply.query(".error-row")  # mounted only when there is an error to show
        assert HeapFreeze.holders == 1 and gc.get_freeze_count() > 0
        await pilot.press("escape")
        await wait_for(lambda: not pane.streaming)
        for widget in (reply, header):
            assert widget.has_class("-stopped") and not widget.has_class("-streaming")
        assert not reply.query(".error-row")
        warning = Color.parse(app.theme_variables["warning"])
        assert reply.query_one(".mark").styles.color == warning
        await wait_for(lambda: HeapFreeze.holders == 0 and gc.get_freeze_count() == 0)


async def test_regenerate_replaces_the_last_reply(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Regenerate me")
        await reply_done(app, 2)
        first = pane.views()[-1]
        await pilot.press("ctrl+r")
        await wait_for(lambda: pane.views()[-1] is not first)
        await reply_done(app, 2)
        stored = app.store.messages(pane.conversation_id)
        assert len(stored) == 2
        assert stored[-1].id != first.message_id  # ids are never reused
        assert app.store.get_message(first.message_id) is None


async def test_edit_last_message_and_resend(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Frist draft")
        await reply_done(app, 2)
        await pilot.press("alt+e")
        prompt = pane.query_one(PromptInput)
        assert prompt.text == "Frist draft"
        prompt.text = "First draft"
        await pilot.press("enter")
        await wait_for(
            lambda: not pane.streaming and pane.views()[0].message.content == "First draft"
        )
        await reply_done(app, 2)
        stored = app.store.messages(pane.conversation_id)
        assert [m.content for m in stored if m.role is Role.USER] == ["First draft"]
        assert "First draft" in stored[-1].content


async def test_select_copy_and_delete_a_message(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    written = OSC52.capture(app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Copy this")
        await reply_done(app, 2)
        await pilot.press("alt+c")
        await wait_for(lambda: bool(written))
        assert written[0].startswith("\x1b]52;c;")
        await pilot.press("alt+up")
        assert app.focused is pane.views()[-1]
        await pilot.press("up")
        assert app.focused is pane.views()[0]
        await pilot.press("c")
        await wait_for(lambda: len(written) >= 2)
        await pilot.press("down", "d")
        await wait_for(lambda: len(pane.views()) == 1)
        assert len(app.store.messages(pane.conversation_id)) == 1
        await pilot.press("escape")
        assert isinstance(app.focused, PromptInput)


async def test_copy_last_code_block(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    written = OSC52.capture(app)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Show code [[emulator: tokens=300]]")
        await reply_done(app, 2)
        await pilot.press("alt+k")
        await wait_for(lambda: bool(written))
        import base64

        payload = written[0].removeprefix("\x1b]52;c;").rstrip("\x07")
        assert base64.b64decode(payload).decode().startswith("def ")


def png(path: Path, width: int = 40, height: int = 30) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x90\x20\x20" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


async def test_attach_an_image_and_send(make_app: Callable[..., StudioApp], tmp_path: Path) -> None:
    png(tmp_path / "photo.png")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        await pilot.press("alt+a")
        await wait_for(lambda: app.screen.__class__.__name__ == "AttachPrompt")
        await pilot.press(*str(tmp_path / "pho"), "tab", "enter")
        await wait_for(lambda: len(pane.pending) == 1)
        assert pane.pending[0].name == "photo.png"
        assert (pane.pending[0].width, pane.pending[0].height) == (40, 30)
        await send(pilot, "What is this?")
        await reply_done(app, 2)
        user, reply = pane.views()
        assert [a.name for a in user.message.attachments] == ["photo.png"]
        assert "40×30 PNG" in reply.text
        assert pane.pending == []


async def test_missing_attachment_is_a_toast_not_a_crash(
    make_app: Callable[..., StudioApp],
    toasts: Toasts,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = active_pane(app)
        await pilot.press("alt+a")
        await wait_for(lambda: app.screen.__class__.__name__ == "AttachPrompt")
        await pilot.press(*"/no/such/file.png", "enter")
        await wait_for(lambda: toasts.any("file.png"))
        assert pane.pending == []


async def test_switch_model_with_the_picker(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, ModelPicker))
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        await wait_for(lambda: len(picker.models) > 5)
        await pilot.press(*"g4omini")
        await wait_for(lambda: option_ids(picker, "#models")[:1] == ["gpt-4o-mini"])
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, ModelPicker))
        conversation = app.store.get_conversation(pane.conversation_id)
        assert conversation is not None and conversation.model == "gpt-4o-mini"
        await send(pilot, "Which model?")
        await reply_done(app, 2)
        assert pane.views()[-1].message.model == "gpt-4o-mini"


async def test_conversation_settings_form_validates(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        await pilot.press("f3")
        await wait_for(lambda: app.screen.__class__.__name__ == "SettingsForm")
        form = app.screen
        form.query_one("#temperature").value = "7"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        assert "0 to 2" in str(form.query_one("#form-error").render())
        form.query_one("#temperature").value = "0.3"  # type: ignore[attr-defined]
        form.query_one("#max_tokens").value = "12"  # type: ignore[attr-defined]
        form.query_one("#system").text = "Be terse."  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is not form)
        conversation = app.store.get_conversation(pane.conversation_id)
        assert conversation is not None
        assert (conversation.temperature, conversation.max_tokens) == (0.3, 12)
        assert conversation.system_prompt == "Be terse."
        await send(pilot, "Long answer please")
        await reply_done(app, 2)
        reply = pane.views()[-1].message
        assert reply.usage is not None and reply.usage.completion_tokens == 12
        assert reply.finish_reason == "length"


async def test_help_lists_the_keys(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for(lambda: app.screen.__class__.__name__ == "HelpScreen")
        table = app.screen.table  # type: ignore[attr-defined]
        keys = list(table.columns[0].cells)
        actions = list(table.columns[1].cells)
        assert "ctrl+n" in keys and "Start a new conversation" in actions
        assert "escape" in keys and "Stop the streaming reply (keeps its text)" in actions
        assert any("alt+enter" in k for k in keys)
        await pilot.press("escape")
        await wait_for(lambda: app.screen.__class__.__name__ == "MainScreen")


async def test_every_screen_binding_is_in_the_command_palette(
    make_app: Callable[..., StudioApp],
) -> None:
    from studio.tui.palette import StudioCommands

    app = make_app()
    async with app.run_test(size=SIZE):
        helps = [c.help for c in StudioCommands(app.screen).commands()]
        for binding in app.screen.BINDINGS:
            assert isinstance(binding, Binding)
            if app.screen.check_action(binding.action, ()) is True:  # possible now
                assert binding.tooltip in helps, binding


async def test_emulator_sees_the_conversation_history(
    make_app: Callable[..., StudioApp], emu: EmulatorServer
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "First question")
        await reply_done(app, 2)
        await send(pilot, "Second question")
        pane = await reply_done(app, 4)
        assert "Second question" in pane.views()[-1].text


async def test_keymap_from_the_config_rebinds_an_action(settings: Settings) -> None:
    app = StudioApp(dataclasses.replace(settings, keymap={"main.regenerate": "f5"}))
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Regenerate with f5")
        await reply_done(app, 2)
        first = pane.views()[-1]
        await pilot.press("f5")
        await wait_for(lambda: pane.views()[-1] is not first)
        await reply_done(app, 2)
        await pilot.press("f1")
        await wait_for(lambda: app.screen.__class__.__name__ == "HelpScreen")
        keys = list(app.screen.table.columns[0].cells)  # type: ignore[attr-defined]
        assert "f5" in keys


async def test_attachment_preview_when_available(
    make_app: Callable[..., StudioApp], tmp_path: Path
) -> None:
    from studio.tui import previews

    assert previews.prepare()  # under pytest stdout is no TTY: textual-image uses its defaults
    png(tmp_path / "preview.png", 64, 48)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        await pane.attach(app.load_attachment(str(tmp_path / "preview.png")))
        await send(pilot, "Look")
        await reply_done(app, 2)
        user = pane.views()[0]
        assert len(user.query(".preview")) == 1
        assert len(user.query(".chip")) == 1


async def test_alt_keys_from_a_real_terminal_are_not_typed(
    make_app: Callable[..., StudioApp], tmp_path: Path
) -> None:
    """A terminal sends alt+a with character "a"; it must attach, not type an "a"."""
    from textual import events

    from studio.tui.compat import driver_of

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        prompt = pane.query_one(PromptInput)
        prompt.focus()

        def terminal_sends(key: str, character: str) -> None:
            event = events.Key(key, character)
            event.set_sender(app)
            driver = driver_of(app)
            assert driver is not None
            driver.send_message(event)  # the path a real terminal's keys take

        terminal_sends("alt+a", "a")
        await wait_for(lambda: app.screen.__class__.__name__ == "AttachPrompt")
        await pilot.press("escape")
        assert prompt.text == ""
        terminal_sends("a", "a")
        await wait_for(lambda: prompt.text == "a")


async def test_a_reply_too_long_for_osc52_is_also_saved_to_a_file(
    make_app: Callable[..., StudioApp],
    toasts: Toasts,
) -> None:
    app = make_app()
    written: list[str] = []
    app.write_to_terminal = written.append  # type: ignore[method-assign,assignment]
    async with app.run_test(size=SIZE, message_hook=toasts.hook):
        await app.copy_text("x" * 200_000, "reply")
        await wait_for(lambda: toasts.any("saved to"))
        note = toasts.first("saved to")
        path = Path(note.rsplit("saved to ", 1)[1])
    assert await asyncio.to_thread(path.read_text) == "x" * 200_000
