"""Two windows on one data folder: each sees the other's jobs as they change, within a second.

Two ``StudioApp`` instances run side by side in one test, each with its own connection to the
same database file (``Store.open()`` on the shared data folder), as two terminals would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import OptionList

from studio.config import Settings
from studio.jobs import EngineConfig, Job, JobState
from studio.store import Role, Store
from studio.tui.app import StudioApp
from studio.tui.screens.job_detail import JobDetail
from studio.tui.screens.jobs_screen import JobsScreen
from studio.tui.widgets.job_sidebar import JobSidebar

from .conftest import SIZE, active_pane, wait_for
from .test_chat import send

SEEN_WITHIN = 1.0
"""How soon (seconds) the other window must show a change (issue 11: "about a second")."""


@pytest.fixture
def window(settings: Settings, tmp_path: Path) -> Callable[[], StudioApp]:
    fast = EngineConfig(
        media_dir=tmp_path / "media",
        first_checks=(0.2,),
        seedance_interval=0.3,
        kling_interval=0.3,
        jitter=0.0,
        submit_backoff=0.2,
        error_backoff_max=1.0,
        flush_interval=0.1,
        claim_interval=0.5,
    )

    def make() -> StudioApp:
        app = StudioApp(settings, jobs_config=fast)  # its own Store.open() on the shared file
        app.bells = 0  # type: ignore[attr-defined]

        def bell() -> None:
            app.bells += 1  # type: ignore[attr-defined]

        app.bell = bell  # type: ignore[method-assign]
        app.titles = []  # type: ignore[attr-defined]
        app._write_raw = app.titles.append  # type: ignore[attr-defined,method-assign]
        return app

    return make


def shared_conversation() -> int:
    """A conversation both windows open on start (the newest one)."""
    with Store.open() as store:
        return store.create_conversation(title="shared").id


def title(app: StudioApp) -> str:
    """The terminal title last set (without its OSC 2 framing)."""
    titles: list[str] = app.titles  # type: ignore[attr-defined]
    last = titles[-1] if titles else ""
    return last.removeprefix("\x1b]2;").removesuffix("\x07")


def listed(app: StudioApp) -> set[str]:
    """The job ids the window's open job list shows (sidebar or ctrl+g screen)."""
    found = app.screen.query(JobSidebar)
    if not found:
        return set()
    options = found.first().query_one(OptionList)
    return {str(options.get_option_at_index(i).id) for i in range(options.option_count)}


def other_window_toasts(app: StudioApp) -> list[str]:
    return [str(n.message) for n in app._notifications if "another window" in str(n.message)]


async def started(*apps: StudioApp) -> None:
    await wait_for(lambda: all(a.jobs.engine is not None for a in apps), limit=10)


async def test_a_second_window_follows_a_job_from_start_to_end(
    window: Callable[[], StudioApp],
) -> None:
    cid = shared_conversation()
    a, b = window(), window()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE) as pb:
        await started(a, b)
        assert active_pane(b).conversation_id == cid
        await pb.press("ctrl+g")  # B watches the queue
        await send(pa, "/video a paper boat [[emulator: seconds=3]]")
        await wait_for(lambda: bool(a.jobs.jobs))
        job_id = next(iter(a.jobs.jobs))

        # B sees the job appear, running, in its list and in its terminal title.
        await wait_for(lambda: str(job_id) in listed(b), limit=SEEN_WITHIN + 1)
        await wait_for(lambda: "1 job running" in title(b), limit=SEEN_WITHIN + 1)
        await pb.press("enter")
        await wait_for(lambda: isinstance(b.screen, JobDetail))
        detail = b.screen
        assert isinstance(detail, JobDetail) and detail.job.id == job_id
        assert detail.job.state.is_active

        # A finishes it; B's details, list and title follow within about a second.
        await wait_for(lambda: a.jobs.jobs[job_id].state is JobState.SUCCEEDED, limit=30)
        loop = asyncio.get_running_loop()
        ended = loop.time()
        await wait_for(lambda: detail.job.state is JobState.SUCCEEDED, limit=SEEN_WITHIN)
        assert loop.time() - ended <= SEEN_WITHIN
        assert "succeeded" in str(detail.query_one("#job-text").render())
        await wait_for(lambda: title(b) == "AnyFast Studio", limit=SEEN_WITHIN)
        assert b.jobs.jobs[job_id] == b.store.get_job(job_id)

        # A reported it (toast, bell, message); B only shows a quiet toast, once.
        await wait_for(lambda: other_window_toasts(b) != [])
        assert other_window_toasts(b) == [f"Video job #{job_id} is done (in another window)"]
        assert not other_window_toasts(a)
        await wait_for(lambda: a.bells == 1)  # type: ignore[attr-defined]
        assert b.bells == 0  # type: ignore[attr-defined]

        # The conversation holds exactly one result message, and B shows it too.
        await pb.press("escape")
        pane_b = active_pane(b)

        def results() -> list[int]:
            return [
                m.id
                for m in a.store.messages(cid)
                if m.role is Role.ASSISTANT and f"job #{job_id}" in m.content
            ]

        await wait_for(lambda: len(results()) == 1)
        result_id = results()[0]
        await wait_for(
            lambda: result_id in [v.message.id for v in pane_b.views()], limit=SEEN_WITHIN + 1
        )
        await pa.pause(0.6)  # a few more ticks: nothing is reported twice
        assert len(results()) == 1
        assert [v.message.id for v in pane_b.views()].count(result_id) == 1
        assert len(other_window_toasts(b)) == 1


async def test_both_windows_list_both_jobs(window: Callable[[], StudioApp]) -> None:
    a, b = window(), window()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE) as pb:
        await started(a, b)
        await send(pa, "/image a red kite")
        await send(pb, "/image a blue kite")
        await wait_for(lambda: len(a.store.list_jobs()) == 2)
        ids = {str(j.id) for j in a.store.list_jobs()}
        for app in (a, b):
            app.push_screen(JobsScreen())
            await wait_for(lambda app=app: isinstance(app.screen, JobsScreen))
            await wait_for(lambda app=app: listed(app) == ids, limit=SEEN_WITHIN + 1)
        # Each finishes its own; both see both end, and each rings only for its own.
        await wait_for(lambda: all(j.state.is_final for j in a.jobs.jobs.values()), limit=20)
        await wait_for(lambda: all(j.state.is_final for j in b.jobs.jobs.values()), limit=20)
        assert {j.id for j in a.jobs.jobs.values()} == {j.id for j in b.jobs.jobs.values()}
        await wait_for(lambda: a.bells == 1 and b.bells == 1)  # type: ignore[attr-defined]
        await pa.pause(0.5)
        assert a.bells == 1 and b.bells == 1  # type: ignore[attr-defined]


async def test_a_job_removed_in_one_window_disappears_in_the_other(
    window: Callable[[], StudioApp],
) -> None:
    a, b = window(), window()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE):
        await started(a, b)
        await send(pa, "/image a lighthouse")
        await wait_for(lambda: any(j.state.is_final for j in a.jobs.jobs.values()), limit=20)
        job: Job = next(iter(a.jobs.jobs.values()))
        await wait_for(lambda: b.jobs.jobs.get(job.id) == a.store.get_job(job.id))
        b.push_screen(JobDetail(b.jobs.jobs[job.id]))
        await wait_for(lambda: isinstance(b.screen, JobDetail))
        engine = a.jobs.engine
        assert engine is not None
        await engine.remove(job.id, delete_files=False)  # what the detail's "x" does
        a.jobs.forget(job.id)
        await wait_for(lambda: job.id not in b.jobs.jobs, limit=SEEN_WITHIN)
        await wait_for(lambda: not isinstance(b.screen, JobDetail))
        await wait_for(
            lambda: any(f"Job #{job.id} was removed" in str(n.message) for n in b._notifications)
        )


async def test_the_highlight_stays_on_its_job_when_another_window_adds_one(
    window: Callable[[], StudioApp],
) -> None:
    a, b = window(), window()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE) as pb:
        await started(a, b)
        await send(pa, "/video first [[emulator: seconds=6]]")
        await wait_for(lambda: bool(a.jobs.jobs))
        first = next(iter(a.jobs.jobs))
        await pb.press("ctrl+g")
        await wait_for(lambda: listed(b) == {str(first)}, limit=SEEN_WITHIN + 1)
        options = b.screen.query_one(JobSidebar).query_one(OptionList)
        await wait_for(lambda: options.highlighted_option is not None)
        assert options.highlighted_option is not None
        assert options.highlighted_option.id == str(first)
        await send(pa, "/video second [[emulator: seconds=6]]")
        await wait_for(lambda: len(listed(b)) == 2, limit=SEEN_WITHIN + 1)
        assert options.highlighted_option is not None
        assert options.highlighted_option.id == str(first)  # not the new row at the top
