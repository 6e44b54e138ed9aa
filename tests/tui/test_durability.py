"""The store under the app: kill -9 mid-reply and reopen; two instances at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable

from studio.emulator import EmulatorServer
from studio.store import MessageStatus, Role
from studio.tui.app import StudioApp

from .conftest import SIZE, Toasts, active_pane, reply_done, wait_for
from .test_chat import send

KILLED_MID_REPLY = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from studio.config import Settings
    from studio.tui.app import StudioApp
    from studio.tui.widgets.prompt import PromptInput

    async def main() -> None:
        app = StudioApp(Settings(api_key=sys.argv[1], base_url=sys.argv[2]))
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.screen.active_pane
            pane.query_one(PromptInput).text = "Tell me slowly [[emulator: tokens=900; rate=60]]"
            await pilot.press("enter")
            await asyncio.sleep(2.5)  # more than one flush interval of streaming
            print("killing", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


def test_killed_mid_reply_reopens_as_cut(
    make_app: Callable[..., StudioApp], emu: EmulatorServer, toasts: Toasts
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_MID_REPLY, emu.api_key, emu.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "killing" in proc.stdout
    app = make_app()
    cut = app.recovered
    assert len(cut) == 1
    assert cut[0].status is MessageStatus.CUT
    words = len(cut[0].content.split())
    assert 30 <= words < 900  # at most about a second of text was lost

    async def check() -> None:
        async with app.run_test(size=SIZE, message_hook=toasts.hook):
            pane = active_pane(app)
            await wait_for(lambda: len(pane.views()) == 2)
            reply = pane.views()[-1]
            assert reply.message.status is MessageStatus.CUT
            assert reply.text == cut[0].content
            assert reply.has_class("-cut")
            assert toasts.any("cut off")

    import asyncio

    asyncio.run(check())


async def test_two_instances_share_the_store(make_app: Callable[..., StudioApp]) -> None:
    first, second = make_app(), make_app()
    async with first.run_test(size=SIZE) as one, second.run_test(size=SIZE) as two:
        await send(one, "From window one")
        await send(two, "From window two")
        # Both opened the one conversation there was: each shows the other's exchange too.
        await reply_done(first, 4)
        await reply_done(second, 4)
        for app in (first, second):
            shown = [view.message for view in active_pane(app).views()]
            assert [m.position for m in shown] == sorted(m.position for m in shown)
        for store in (first.store, second.store):
            everything = [m for c in store.list_conversations() for m in store.messages(c.id)]
            users = sorted(m.content for m in everything if m.role is Role.USER)
            assert users == ["From window one", "From window two"]
            assert len(everything) == 4
            assert all(m.status is MessageStatus.COMPLETE for m in everything)
