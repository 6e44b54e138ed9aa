"""The TUI and a command interleaved on one store: a running TUI shows, within a second, what a
`studio ask` (a real process on the same data folder) saved, and an open pane gets its reply."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable

from studio.emulator import EmulatorServer
from studio.store import MessageStatus, Role, Store
from studio.tui.app import StudioApp
from studio.tui.widgets.conversation_list import ConversationList

from .conftest import SIZE, Toasts, active_pane, option_ids, wait_for
from .test_chat import send


async def studio_command(emu: EmulatorServer, *args: str) -> tuple[int, str, str]:
    """Run ``studio ARGS`` as another process on the same data folder, the app running on."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "studio",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ANYFAST_API_KEY": emu.api_key, "ANYFAST_BASE_URL": emu.base_url},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def listed(app: StudioApp) -> list[str]:
    return option_ids(app.screen.query_one(ConversationList))


async def test_a_conversation_ask_saves_shows_in_the_running_list(
    make_app: Callable[..., StudioApp], emu: EmulatorServer
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = listed(app)
        code, _, err = await studio_command(emu, "ask", "-q", "Fresh from the shell")
        assert code == 0, err
        with Store.open() as store:
            [new] = [c for c in store.list_conversations() if str(c.id) not in before]
        loop = asyncio.get_running_loop()
        saved_at = loop.time()
        await wait_for(lambda: listed(app)[:1] == [str(new.id)], limit=3)
        assert loop.time() - saved_at < 1.5  # within a second (and a tick)
        assert active_pane(app).conversation_id != new.id  # shown in the list, not opened


async def test_an_open_pane_gets_the_exchange_ask_continued(
    make_app: Callable[..., StudioApp], emu: EmulatorServer
) -> None:
    with Store.open() as store:
        cid = store.create_conversation(title="shared").id  # the newest: opened at start
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        assert pane.conversation_id == cid
        await send(pilot, "Hello from the TUI [[emulator: tokens=5]]")
        await wait_for(lambda: not pane.streaming and len(pane.views()) == 2)
        list_filter = app.screen.query_one(ConversationList)
        code, out, err = await studio_command(
            emu, "ask", "-q", "--cid", str(cid), "And from the shell [[emulator: tokens=4]]"
        )
        assert code == 0, err
        await wait_for(lambda: len(pane.views()) == 4)
        user, reply = (view.message for view in pane.views()[2:])
        assert user.role is Role.USER and user.content.startswith("And from the shell")
        assert reply.status is MessageStatus.COMPLETE
        assert reply.content.split() == out.split()
        await pilot.pause(0.6)  # another look changes nothing: never shown twice
        assert len(pane.views()) == 4
        assert list_filter.highlighted_id == cid


async def test_an_open_conversation_removed_elsewhere_closes(
    make_app: Callable[..., StudioApp], emu: EmulatorServer, toasts: Toasts
) -> None:
    with Store.open() as store:
        kept = store.create_conversation(title="kept").id
        store.add_message(kept, Role.USER, "something")
        gone = store.create_conversation(title="gone").id  # the newest: opened at start
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook):
        assert active_pane(app).conversation_id == gone
        code, _, err = await studio_command(emu, "rm", "--yes", str(gone))
        assert code == 0, err
        await wait_for(lambda: toasts.any("deleted elsewhere"))  # its tab closed
        assert app.screen.pane(gone) is None  # type: ignore[attr-defined]
        assert gone not in app.screen.open_ids  # type: ignore[attr-defined]
        await wait_for(lambda: str(gone) not in listed(app) and str(kept) in listed(app))


async def test_a_pane_streaming_its_own_reply_gets_the_rest_after_it(
    make_app: Callable[..., StudioApp], emu: EmulatorServer
) -> None:
    with Store.open() as store:
        cid = store.create_conversation(title="busy").id
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "A long one [[emulator: tokens=2000; rate=20]]")
        await wait_for(lambda: pane.streaming)
        code, _, err = await studio_command(
            emu, "ask", "-q", "--cid", str(cid), "Meanwhile [[emulator: tokens=3]]"
        )
        assert code == 0, err
        await pilot.pause(0.6)  # a look or two
        assert pane.streaming and len(pane.views()) == 2  # nothing interleaved with the reply
        await pilot.press("escape")  # stopped: what was saved meanwhile follows it
        await wait_for(lambda: not pane.streaming and len(pane.views()) == 4)
        messages = [view.message for view in pane.views()]
        assert messages[0].content.startswith("A long one")
        assert messages[1].status is MessageStatus.STOPPED
        assert messages[2].content.startswith("Meanwhile") and messages[3].content
