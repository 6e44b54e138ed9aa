"""Job changes reach the screens as signals: a screen subscribed to the jobs controller gets
each redraw's :class:`JobsChanged` (changes made within one tick coalesced into one), and an
open job detail follows its job by itself, with no other screen passing it on."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from studio.jobs import Job, JobKind, JobProvider, JobState
from studio.tui.app import StudioApp
from studio.tui.jobs import JobsChanged
from studio.tui.screens.job_detail import JobButtons, JobDetail, JobText
from studio.tui.screens.jobs_screen import JobsScreen
from studio.tui.screens.main import MainScreen

from .conftest import SIZE, option_ids, wait_for


class Watching(Screen[None]):
    """A screen that keeps every job change it is sent while it is mounted."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[JobsChanged] = []

    def compose(self) -> ComposeResult:
        yield Static("watching")

    def on_mount(self) -> None:
        self.app.jobs.changed.subscribe(self, self.seen.append)  # type: ignore[attr-defined]

    def on_unmount(self) -> None:
        self.app.jobs.changed.unsubscribe(self)  # type: ignore[attr-defined]


def running_job(app: StudioApp, progress: int) -> Job:
    """A job of another window's (this window's engine does not hold it), running."""
    job = app.store.create_job(
        kind=JobKind.VIDEO,
        provider=JobProvider.SEEDANCE,
        action="generate",
        model="seedance-2.0",
        prompt="a paper boat",
        params={"duration": 5},
        idempotency_key=f"signals-{progress}",
        # held by a window on another machine for the next hour, so this window's engine
        # never takes it up (and never writes over what the test writes)
        claimed_by="another-host:4242",
        lease_until=time.time() + 3600,
    )
    changed = app.store.update_job(job.id, state=JobState.RUNNING, progress=progress)
    assert changed is not None
    return changed


def progress_to(app: StudioApp, job: Job, progress: int) -> Job:
    changed = app.store.update_job(job.id, progress=progress)
    assert changed is not None
    app.jobs.record(changed)
    return changed


async def test_a_subscribed_screen_gets_each_redraw_once_with_the_jobs_as_they_stand(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE):
        await app.jobs.ensure_started()
        watching = Watching()
        await app.push_screen(watching)
        job = running_job(app, 10)
        app.jobs.record(job)
        for progress in (20, 30, 40, 50):  # all within one tick
            progress_to(app, job, progress)
        await wait_for(lambda: any(job.id in change.jobs for change in watching.seen))
        told = [c.jobs[job.id].progress for c in watching.seen if job.id in c.jobs]
        assert told[0] == 50  # one redraw for the five changes: never 10 to 40
        assert all(change.running >= 1 and not change.removed for change in watching.seen)
        progress_to(app, job, 60)
        await wait_for(lambda: watching.seen[-1].jobs[job.id].progress == 60)
        app.pop_screen()
        await wait_for(lambda: not watching.is_attached)
        count = len(watching.seen)
        later = Watching()
        await app.push_screen(later)
        progress_to(app, job, 70)
        await wait_for(lambda: any(c.jobs[job.id].progress == 70 for c in later.seen))
        assert len(watching.seen) == count  # unsubscribed when it left


async def test_the_job_queue_dialog_follows_the_jobs_by_itself(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE):
        await app.jobs.ensure_started()
        await app.push_screen(JobsScreen())
        sidebar = app.screen.query_one("#jobs-overlay")
        assert option_ids(sidebar) == []
        job = running_job(app, 10)
        app.jobs.record(job)
        await wait_for(lambda: option_ids(sidebar) == [str(job.id)])


async def test_an_open_job_detail_follows_its_job_with_no_other_screen_involved(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE):
        await app.jobs.ensure_started()
        job = running_job(app, 10)
        app.jobs.record(job)
        main = app.screen
        assert isinstance(main, MainScreen)
        assert not main.query("#jobs-sidebar")  # the main screen's job queue never opened
        detail = JobDetail(job)
        await app.push_screen(detail)
        await wait_for(lambda: bool(detail.query(JobButtons)))

        def shown() -> str:
            return detail.query_one(JobText).text(80).plain

        assert "progress 10%" in shown()
        assert "cancel" in [b.id for b in detail.query("JobButtons Button")]
        progress_to(app, job, 60)
        await wait_for(lambda: "progress 60%" in shown())
        failed = app.store.update_job(job.id, state=JobState.FAILED, failure_reason="no luck")
        assert failed is not None
        app.jobs.record(failed)
        await wait_for(lambda: "no luck" in shown())
        await wait_for(lambda: "cancel" not in [b.id for b in detail.query("JobButtons Button")])
        assert app.screen is detail
