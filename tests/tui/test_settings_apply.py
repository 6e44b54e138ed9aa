"""Settings saved on the settings screen (F6) take effect at once, without a restart: each
group of settings is saved through the screen, then the behaviour it governs is checked."""

from __future__ import annotations

import asyncio
import dataclasses
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, Switch

from studio import paths
from studio.emulator import EmulatorServer
from studio.jobs import Job
from studio.store import MessageStatus
from studio.tui.app import StudioApp
from studio.tui.screens.media_forms import ImageForm, VideoForm
from studio.tui.screens.model_picker import ModelPicker
from studio.tui.screens.settings import SettingsScreen
from studio.tui.widgets.status_line import StatusLine

from .conftest import TUI_KEY, Toasts, active_pane, option_ids, reply_done, wait_for
from .test_chat import OSC52, send


async def save_settings(app: StudioApp, pilot: Pilot[None], **values: Any) -> None:
    """Open F6, put each value in its field, save with ctrl+s; wait until the screen closed."""
    await pilot.press("f6")
    await wait_for(
        lambda: (
            isinstance(app.screen, SettingsScreen)
            and bool(app.screen.query("#edit-clipboard #label"))
        )
    )
    for name, value in values.items():
        editor = app.screen.query_one(f"#edit-{name}")
        assert isinstance(editor, Input | Select | Switch)
        editor.value = value
    await pilot.press("ctrl+s")
    await wait_for(lambda: not isinstance(app.screen, SettingsScreen))


def finished(app: StudioApp) -> list[Job]:
    return [job for job in app.jobs.jobs.values() if job.state.is_final]


async def test_the_default_model_applies_to_conversations_at_once(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), message_hook=toasts.hook) as pilot:
        pane = active_pane(app)
        status = pane.query_one(StatusLine)
        await save_settings(app, pilot, default_model="gpt-4o-mini")
        assert toasts.any("in effect now")
        await wait_for(lambda: "gpt-4o-mini" in str(status.render()))
        assert "gpt-4o-mini" in str(pane.query_one(".empty-hint").render())
        await send(pilot, "Which model?")
        await reply_done(app, 2)
        assert pane.views()[-1].message.model == "gpt-4o-mini"


async def test_a_value_from_the_environment_stays_in_effect(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    settings = dataclasses.replace(
        make_app().settings, from_env={"default_model": "gpt-4o"}, default_model="gpt-4o"
    )
    app = StudioApp(settings)
    async with app.run_test(size=(120, 40), message_hook=toasts.hook) as pilot:
        await save_settings(app, pilot, default_model="gpt-4o-mini")
        assert "STUDIO_DEFAULT_MODEL stays in effect" in toasts.first("Saved to")
        pane = await send(pilot, "Which model?")
        await reply_done(app, 2)
        assert pane.views()[-1].message.model == "gpt-4o"
    assert tomllib.loads(paths.config_file().read_text()) == {"default_model": "gpt-4o-mini"}


@pytest.mark.parametrize(
    ("name", "model", "key", "form"),
    [
        ("image_model", "doubao-seedream-4-0-250828", "f10", ImageForm),
        ("video_model", "kling-v2-6", "f12", VideoForm),
    ],
)
async def test_media_models_apply_to_the_next_form(
    make_app: Callable[..., StudioApp], name: str, model: str, key: str, form: type
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await save_settings(app, pilot, **{name: model})
        await pilot.press(key)
        await wait_for(lambda: isinstance(app.screen, form))
        await wait_for(lambda: app.screen.query_one("#model", Select).value == model)


@pytest.mark.parametrize(
    ("name", "value", "fault", "status", "words"),
    [
        ("max_retries", "1", "500", MessageStatus.COMPLETE, ""),
        ("stream_stall_timeout", "0.5", "stall:30", MessageStatus.CUT, "keep-alive"),
        ("stream_idle_timeout", "0.5", "hang:30", MessageStatus.ERROR, "stream_idle_timeout"),
    ],
)
async def test_retries_and_timeouts_apply_to_the_next_request(
    make_app: Callable[..., StudioApp],
    emu: EmulatorServer,
    name: str,
    value: str,
    fault: str,
    status: MessageStatus,
    words: str,
) -> None:
    app = make_app()  # no retries, the default timeouts
    async with app.run_test(size=(120, 40)) as pilot:
        await save_settings(app, pilot, **{name: value})
        emu.inject(fault, count=1, path="/v1/chat/completions")
        pane = await send(pilot, "Hello?")
        await reply_done(app, 2)
        reply = pane.views()[-1].message
        if status is MessageStatus.COMPLETE:
            assert reply.status is MessageStatus.COMPLETE
        else:
            assert reply.status in (MessageStatus.CUT, MessageStatus.ERROR)
            assert reply.error and words in reply.error


async def test_a_new_base_url_is_where_the_next_request_goes(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await save_settings(app, pilot, base_url="http://127.0.0.1:9")  # nothing listens
        where = app.screen.query_one("#where", Static)
        await wait_for(lambda: str(where.render()) == "127.0.0.1:9")
        pane = await send(pilot, "Hello?")
        await reply_done(app, 2)
        reply = pane.views()[-1].message
        assert reply.status is MessageStatus.ERROR
        assert reply.error and "127.0.0.1:9" in reply.error


async def test_a_new_key_reaches_the_chat_and_the_running_job_engine(
    media_app: Callable[..., StudioApp],
) -> None:
    app = media_app(api_key="sk-wrong-key-0123456789")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.jobs.engine is not None)  # started with the wrong key
        await save_settings(app, pilot, api_key=TUI_KEY)
        pane = await send(pilot, "/image a kite")
        await wait_for(lambda: len(finished(app)) == 1, limit=20)
        assert finished(app)[0].files  # the gateway took the new key
        await send(pilot, "Hi")
        await wait_for(lambda: len(pane.views()) == 4 and not pane.streaming)
        assert pane.views()[-1].message.status is MessageStatus.COMPLETE


async def test_without_a_key_the_welcome_panel_gives_way_to_a_key_saved_in_f6(
    make_app: Callable[..., StudioApp],
) -> None:
    app = StudioApp(dataclasses.replace(make_app().settings, api_key=None))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: bool(app.screen.query("#welcome")))
        await save_settings(app, pilot, api_key=TUI_KEY)
        await wait_for(lambda: app.screen.query_one("#welcome").has_class("hidden"))
        assert not app.screen.query_one("#panes").has_class("hidden")
        pane = await send(pilot, "Hi")
        await reply_done(app, 2)
        assert pane.views()[-1].message.status is MessageStatus.COMPLETE


async def test_the_media_folder_and_the_deadline_apply_to_the_next_job(
    media_app: Callable[..., StudioApp], tmp_path: Path
) -> None:
    app = media_app()
    elsewhere = tmp_path / "elsewhere"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.jobs.engine is not None)
        await save_settings(app, pilot, media_dir=str(elsewhere), job_deadline_minutes="7")
        await send(pilot, "/video a paper boat")
        await wait_for(lambda: len(finished(app)) == 1, limit=30)
        job = finished(app)[0]
    assert [Path(f.path).parent for f in job.files] == [elsewhere]
    assert await asyncio.to_thread(Path(job.files[0].path).exists)
    assert job.deadline_at is not None
    assert 7 * 60 - 30 < job.deadline_at - job.created_at <= 7 * 60 + 30


async def test_the_bell_notifications_and_notify_command_follow_the_saved_settings(
    media_app: Callable[..., StudioApp], tmp_path: Path
) -> None:
    app = media_app()  # the bell on, notifications auto (none in a test terminal)
    ran = tmp_path / "notified"
    async with app.run_test(size=(120, 40)) as pilot:
        await save_settings(app, pilot, bell=False, notify="osc9", notify_command=f"touch {ran}")
        await send(pilot, "/image a lighthouse")
        await wait_for(lambda: len(finished(app)) == 1, limit=20)
        await wait_for(lambda: any("\x1b]9;" in t for t in app.titles))  # type: ignore[attr-defined]
        await wait_for(ran.exists)
        assert app.bells == 0  # type: ignore[attr-defined]


async def test_the_clipboard_mode_used_by_copy_is_the_saved_one(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()  # osc52
    async with app.run_test(size=(120, 40), message_hook=toasts.hook) as pilot:
        sent = OSC52.capture(app)
        await send(pilot, "Hi")
        await reply_done(app, 2)
        await save_settings(app, pilot, clipboard="off")
        await pilot.press("f8")
        await wait_for(lambda: toasts.any("Clipboard is off"))
        assert not sent


async def test_favourites_and_the_theme_apply_at_once(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await save_settings(app, pilot, favourite_models="gpt-4-1", theme="textual-light")
        assert app.theme == "textual-light"
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, ModelPicker))
        await wait_for(lambda: option_ids(app.screen, "#models")[:1] == ["gpt-4-1"])


async def test_api_key_command_is_said_to_run_on_the_next_start(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), message_hook=toasts.hook) as pilot:
        await save_settings(app, pilot, api_key_command="pass show anyfast")
        saved = toasts.first("Saved to")
        assert "api_key_command runs when Studio next starts" in saved
        assert app.gateway.settings.api_key == TUI_KEY  # the key in use stays
