"""The chat pane keeps every promise its keys make: regenerate during a stream, esc out of
edit mode, undo a delete, a reply the store could not save, and warnings that fit."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static

from studio.store import MessageStatus, Role, Store
from studio.tui.app import StudioApp
from studio.tui.heap import HeapFreeze
from studio.tui.screens.model_picker import ModelPicker
from studio.tui.widgets import chat_flows, chat_reply
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.message_view import MessageView
from studio.tui.widgets.prompt import PromptInput
from studio.tui.widgets.status_line import StatusLine

from .conftest import SIZE, Toasts, active_pane, option_ids, reply_done, wait_for
from .test_chat import png, send

SLOW = "[[emulator: tokens=600; rate=40]]"


def status_text(pane: ChatPane) -> str:
    return str(pane.query_one(StatusLine).render())


async def streaming_some(pane: ChatPane, words: int = 3) -> MessageView:
    """Wait until the pane's reply streams and shows ``words`` words; return its view."""
    await wait_for(lambda: pane.streaming and len(pane.views()[-1].text.split()) >= words)
    return pane.views()[-1]


async def unfrozen() -> None:
    await wait_for(lambda: HeapFreeze.holders == 0 and gc.get_freeze_count() == 0)


# -- 1. regenerate while a reply streams ----------------------------------------------------------


@pytest.mark.parametrize("keys", [("ctrl+r",), ("f5",), ("alt+up", "r")])
async def test_regenerate_while_streaming_replaces_the_streaming_reply(
    make_app: Callable[..., StudioApp], keys: tuple[str, ...]
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, f"Regenerate me mid-stream {SLOW}")
        first = await streaming_some(pane)
        await pilot.press(*keys)
        await wait_for(lambda: pane.streaming and pane.views()[-1] is not first)
        assert app.is_running and app.return_code is None
        assert app.store.get_message(first.message_id) is None  # replaced, not kept
        stored = app.store.messages(pane.conversation_id)
        assert [m.role for m in stored] == [Role.USER, Role.ASSISTANT]
        assert stored[-1].status is MessageStatus.STREAMING
        assert len(pane.views()) == 2
        await streaming_some(pane)  # the new reply streams
        if "r" in keys:  # the new reply is selected in place of the old: esc leaves it first
            assert app.focused is pane.views()[-1]
            await pilot.press("escape")
            assert isinstance(app.focused, PromptInput)
        await pilot.press("escape")
        await wait_for(lambda: not pane.streaming)
        assert pane.views()[-1].message.status is MessageStatus.STOPPED
        await unfrozen()


async def test_regenerate_of_an_older_reply_while_streaming_leaves_the_stream_alone(
    make_app: Callable[..., StudioApp],
    toasts: Toasts,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = await send(pilot, "First")
        await reply_done(app, 2)
        await send(pilot, f"Second {SLOW}")
        await streaming_some(pane)
        await pilot.press("alt+up", "up", "up", "r")  # the first reply
        await wait_for(lambda: "Only the last reply can be regenerated." in toasts.messages())
        assert pane.streaming and len(pane.views()) == 4
        await pilot.press("escape", "escape")
        await wait_for(lambda: not pane.streaming)


async def test_a_reply_regenerated_mid_stream_and_cut_at_max_tokens_has_the_note(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        app.store.update_conversation(pane.conversation_id, max_tokens=12)
        await send(pilot, "Tell me a lot [[emulator: tokens=400; rate=15]]")
        first = await streaming_some(pane, 2)
        await pilot.press("ctrl+r")
        await wait_for(lambda: pane.views()[-1] is not first)
        await reply_done(app, 2)
        reply = pane.views()[-1]
        assert reply.message.status is MessageStatus.COMPLETE
        assert reply.message.finish_reason == "length"
        note = reply.query_one_optional(".finish-note", Static)
        assert note is not None and "Cut at the max-tokens limit" in str(note.render())
        assert "cut at the max-tokens limit" in status_text(pane)


async def test_split_view_panes_stream_and_regenerate_independently(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        left = await send(pilot, "Left side first")  # a blank conversation would be dropped
        await reply_done(app, 2)
        await pilot.press("f4")  # a new conversation beside the first, and active
        await wait_for(lambda: active_pane(app) is not left)
        right = await send(pilot, f"Right side {SLOW}")
        await pilot.press("alt+o")
        await wait_for(lambda: active_pane(app) is left)
        await send(pilot, f"Left side {SLOW}")
        first_left = await streaming_some(left)
        await streaming_some(right)
        assert len(left.views()) == 4 and HeapFreeze.holders == 2
        await pilot.press("ctrl+r")  # regenerates the left pane's reply only
        await wait_for(lambda: left.streaming and left.views()[-1] is not first_left)
        assert right.streaming
        assert right.views()[-1].message.status is MessageStatus.STREAMING
        await pilot.press("escape")
        await wait_for(lambda: not left.streaming)
        assert right.streaming and len(left.views()) == 4
        await pilot.press("alt+o", "escape")
        await wait_for(lambda: not right.streaming)
        for pane in (left, right):
            assert pane.views()[-1].message.status is MessageStatus.STOPPED
        await unfrozen()


# -- 2. edit mode ---------------------------------------------------------------------------------


async def test_escape_leaves_edit_mode_with_nothing_deleted(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Draft one")
        await reply_done(app, 2)
        user = pane.views()[0]
        prompt = pane.query_one(PromptInput)
        await pilot.press(*"half-typed")
        await pilot.press("alt+e")
        assert prompt.text == "Draft one"
        when = user.query_one(".who", Static).render()
        assert "Editing message from" in str(prompt.border_title)
        assert str(when).split(" · ")[-1] in str(prompt.border_title)
        assert "esc cancels" in str(prompt.border_title)
        assert user.has_class("-editing")
        await pilot.press("escape")
        assert prompt.text == "half-typed"  # what the prompt held before
        assert not prompt.border_title
        assert not user.has_class("-editing")
        prompt.text = "Next question"
        await pilot.press("enter")
        await reply_done(app, 4)
        stored = app.store.messages(pane.conversation_id)
        assert [m.content for m in stored if m.role is Role.USER] == ["Draft one", "Next question"]


@pytest.mark.parametrize("text", ["/image a red fox", "/video a red fox", "/etc/hosts, what is it"])
async def test_a_slash_command_while_editing_deletes_nothing(
    make_app: Callable[..., StudioApp], text: str, toasts: Toasts
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = await send(pilot, "Keep me")
        await reply_done(app, 2)
        kept = app.store.messages(pane.conversation_id)
        await pilot.press("alt+e")
        prompt = pane.query_one(PromptInput)
        prompt.text = text
        await pilot.press("enter")
        await wait_for(lambda: len(app.store.messages(pane.conversation_id)) >= 3)
        await wait_for(lambda: not pane.streaming)
        stored = app.store.messages(pane.conversation_id)
        assert stored[:2] == kept
        assert stored[2].content == text
        assert not prompt.border_title
        assert not any(v.has_class("-editing") for v in pane.views())
        assert any("Left edit mode" in t for t in toasts.messages())


async def test_editing_resends_in_place_of_the_message(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Frist")
        await reply_done(app, 2)
        prompt = pane.query_one(PromptInput)
        prompt.text = "a draft"
        await pilot.press("alt+e")
        prompt.text = "First"
        await pilot.press("enter")
        await wait_for(lambda: pane.views()[0].message.content == "First")
        await reply_done(app, 2)
        assert not prompt.border_title
        assert prompt.text == "a draft"  # back once the edit is sent
        assert app.store.messages(pane.conversation_id)[0].content == "First"


async def test_edit_mode_while_a_reply_streams(make_app: Callable[..., StudioApp]) -> None:
    """esc leaves edit mode before it stops anything; an edit sent while the reply to the
    edited message streams stops that reply and replaces both."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, f"Frist {SLOW}")
        first = await streaming_some(pane)
        prompt = pane.query_one(PromptInput)
        await pilot.press("alt+e")
        assert prompt.text.startswith("Frist") and prompt.border_title
        await pilot.press("escape")
        assert not prompt.border_title and prompt.text == ""
        assert pane.streaming  # the first esc left edit mode only
        await pilot.press("alt+e")
        prompt.text = "First [[emulator: tokens=10]]"
        await pilot.press("enter")
        await wait_for(lambda: pane.views()[0].message.content.startswith("First"))
        await reply_done(app, 2)
        assert app.store.get_message(first.message_id) is None
        stored = app.store.messages(pane.conversation_id)
        assert [m.content for m in stored] == ["First [[emulator: tokens=10]]", stored[1].content]
        assert stored[1].status is MessageStatus.COMPLETE
        await unfrozen()


# -- 3. delete and undo ---------------------------------------------------------------------------


async def test_delete_then_undo_restores_the_message_exactly(
    make_app: Callable[..., StudioApp], tmp_path: Path, toasts: Toasts
) -> None:
    png(tmp_path / "photo.png", 40, 30)
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = active_pane(app)
        await pane.attach(app.load_attachment(str(tmp_path / "photo.png")))
        await send(pilot, "What is this?")
        await reply_done(app, 2)
        await send(pilot, "And then?")
        await reply_done(app, 4)
        before = app.store.messages(pane.conversation_id)
        image = app.store.attachment_data(before[0].attachments[0].id)
        await pilot.press("alt+up", "up", "up", "up")
        assert app.focused is pane.views()[0]
        await pilot.press("d")
        await wait_for(lambda: len(pane.views()) == 3)
        assert len(app.store.messages(pane.conversation_id)) == 3
        assert any("Message deleted — u to undo" in t for t in toasts.messages())
        assert isinstance(app.focused, MessageView)
        await pilot.press("u")
        await wait_for(lambda: len(pane.views()) == 4)
        after = app.store.messages(pane.conversation_id)
        assert after == before  # same ids, positions, text, status, usage, attachments
        assert app.store.attachment_data(after[0].attachments[0].id) == image
        views = pane.views()
        assert [v.message for v in views] == before
        assert app.focused is views[0]
        assert views[0].query(".chip")


async def test_deleting_a_reply_then_undo_brings_back_its_status(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, f"Stop me {SLOW}")
        await streaming_some(pane)
        await pilot.press("escape")
        await wait_for(lambda: not pane.streaming)
        before = app.store.messages(pane.conversation_id)
        await pilot.press("alt+up", "d")
        await wait_for(lambda: len(pane.views()) == 1)
        await pilot.press("u")
        await wait_for(lambda: len(pane.views()) == 2)
        assert app.store.messages(pane.conversation_id) == before
        restored = pane.views()[-1]
        assert restored.message.status is MessageStatus.STOPPED
        assert restored.has_class("-stopped") and restored.text == before[-1].content


async def test_undo_is_valid_for_a_few_seconds_only(
    make_app: Callable[..., StudioApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_flows, "UNDO_SECONDS", 0.3)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Short-lived")
        await reply_done(app, 2)
        await pilot.press("alt+up", "d")
        await wait_for(lambda: len(pane.views()) == 1)
        assert pane.check_action("undo_delete", ()) is True
        await wait_for(lambda: pane.check_action("undo_delete", ()) is not True)
        await pilot.press("u")
        await pilot.pause()
        assert len(pane.views()) == 1 and len(app.store.messages(pane.conversation_id)) == 1


# -- 4. the store fails at the end of a reply -------------------------------------------------------


async def test_a_reply_the_store_could_not_save_stays_and_is_saved_later(
    make_app: Callable[..., StudioApp], monkeypatch: pytest.MonkeyPatch, toasts: Toasts
) -> None:
    app = make_app()
    calls: list[int] = []

    def locked(self: Store, mid: int, *args: object, **kwargs: object) -> None:
        calls.append(mid)
        raise sqlite3.OperationalError("database is locked")

    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        with monkeypatch.context() as patch:
            patch.setattr(Store, "finish_reply", locked)
            pane = await send(pilot, "Save me [[emulator: tokens=40]]")
            await wait_for(lambda: bool(calls))
            await wait_for(lambda: not pane.streaming)
            await unfrozen()
            reply = pane.views()[-1]
            assert len(reply.text.split()) == 40  # still on screen
            assert not reply.has_class("-streaming")
            message = next(t for t in toasts.messages() if "Could not save the reply" in t)
            assert "database is locked" in message
            assert "saved with the next successful write" in message
            stored = app.store.get_message(reply.message_id)
            assert stored is not None and stored.status is MessageStatus.STREAMING
        # The store works again: the reply is saved whole, complete, with its usage.
        await wait_for(
            lambda: (
                app.store.get_message(reply.message_id).status  # type: ignore[union-attr]
                is MessageStatus.COMPLETE
            )
        )
        saved = app.store.get_message(reply.message_id)
        assert saved is not None and saved.content == reply.text
        assert saved.usage is not None and saved.finish_reason == "stop"
        await send(pilot, "And the next one")
        await reply_done(app, 4)
        assert [m.status for m in app.store.messages(pane.conversation_id)][-1] is (
            MessageStatus.COMPLETE
        )


async def test_the_next_send_saves_an_unsaved_reply_first(
    make_app: Callable[..., StudioApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_reply, "RETRY_SAVE_EVERY", 3600.0)  # only the send can save it
    app = make_app()
    real = Store.finish_reply
    failures = [1]

    def flaky(self: Store, *args: object, **kwargs: object) -> object:
        if failures:
            failures.pop()
            raise sqlite3.OperationalError("database is locked")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "finish_reply", flaky)
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "First [[emulator: tokens=20]]")
        await wait_for(lambda: not failures and not pane.streaming)
        first = pane.views()[-1]
        await send(pilot, "Second [[emulator: tokens=20]]")
        await reply_done(app, 4)
        stored = app.store.messages(pane.conversation_id)
        assert stored[1].id == first.message_id
        assert stored[1].status is MessageStatus.COMPLETE and stored[1].content == first.text


async def test_a_partial_save_that_fails_does_not_end_the_reply(
    make_app: Callable[..., StudioApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("studio.chat.session.SAVE_EVERY", 0.1)
    calls: list[int] = []

    def locked(self: Store, mid: int, *args: object, **kwargs: object) -> None:
        calls.append(mid)
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(Store, "save_partial", locked)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Keep going [[emulator: tokens=60; rate=100]]")
        pane = await reply_done(app, 2)
        assert calls
        reply = pane.views()[-1].message
        assert reply.status is MessageStatus.COMPLETE and not reply.error
        assert len(reply.content.split()) == 60


# -- 5. warnings that fit ---------------------------------------------------------------------------


async def test_an_empty_conversation_says_there_is_nothing_to_act_on(
    make_app: Callable[..., StudioApp],
    toasts: Toasts,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = active_pane(app)
        pane.focus_prompt()
        for key, words in [
            ("ctrl+r", "Nothing to regenerate"),
            ("alt+e", "Nothing to edit"),
            ("alt+c", "Nothing to copy"),
            ("alt+k", "Nothing to copy"),
        ]:
            app.clear_notifications()
            toasts.shown.clear()
            await pilot.press(key)
            await wait_for(lambda: bool(toasts.messages()))
            await pilot.pause()
            assert len(toasts.messages()) == 1 and words in toasts.messages()[0], toasts.messages()
        assert not pane.views() and not pane.streaming
        assert pane.query_one(PromptInput).text == ""


async def test_a_new_model_clears_the_status_line_figures(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "Count me")
        await reply_done(app, 2)
        assert "reply tokens" in status_text(pane)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, ModelPicker))
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        await wait_for(lambda: len(picker.models) > 5)
        await pilot.press(*"g4omini")
        await wait_for(lambda: option_ids(picker, "#models")[:1] == ["gpt-4o-mini"])
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, ModelPicker))
        await pilot.pause()
        text = status_text(pane)
        assert text.startswith("gpt-4o-mini")
        assert "tokens" not in text and "tok/s" not in text and " s" not in text
        await send(pilot, "Again")
        await reply_done(app, 4)
        assert status_text(pane).startswith("gpt-4o-mini")
        assert "reply tokens" in status_text(pane)
