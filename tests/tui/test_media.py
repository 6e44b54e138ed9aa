"""Pilot tests of the media studio: forms, /image and /video, the job sidebar and detail."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import OptionList

from studio.jobs import Job, JobState
from studio.store import MessageStatus
from studio.tui.app import StudioApp
from studio.tui.screens.job_detail import JobDetail
from studio.tui.screens.jobs_screen import JobsScreen
from studio.tui.screens.media_forms import ImageForm, VideoForm
from studio.tui.screens.model_picker import ModelPicker
from studio.tui.widgets.job_sidebar import JobSidebar

from .conftest import SIZE, Toasts, active_pane, reply_done, wait_for
from .test_chat import send


def finished(app: StudioApp) -> list[Job]:
    return [j for j in app.jobs.jobs.values() if j.state.is_final]


def listed(sidebar: JobSidebar) -> int:
    """How many jobs the sidebar's list shows."""
    return sidebar.query_one(OptionList).option_count


async def test_image_form_validates_then_generates(
    media_app: Callable[[], StudioApp], toasts: Toasts
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await pilot.press("f10")
        await wait_for(lambda: isinstance(app.screen, ImageForm))
        form = app.screen
        form.query_one("#prompt").text = "a red kite"  # type: ignore[attr-defined]
        form.query_one("#size").value = "100x5000"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        error = str(form.query_one("#err-size").render())
        assert "1:16" in error
        assert isinstance(app.screen, ImageForm)  # nothing was sent
        form.query_one("#size").value = "2K"  # type: ignore[attr-defined]
        form.query_one("#max_images").value = "2"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(lambda: len(finished(app)) == 1, limit=20)
        job = finished(app)[0]
        assert job.state is JobState.SUCCEEDED
        assert len(job.files) == 2
        assert all(f.path.endswith(".png") for f in job.files)
        exists = [await asyncio.to_thread(Path(f.path).exists) for f in job.files]
        assert all(exists)
        folder = Path(job.files[0].path).parent
        names = await asyncio.to_thread(lambda: [p.name for p in folder.iterdir()])
        assert sum(name.endswith(".json") for name in names) == 2  # a sidecar per image
        await wait_for(lambda: app.bells >= 1)  # type: ignore[attr-defined]
        assert any("Job finished" in str(n.title) for n in toasts.shown)


async def test_video_command_in_a_conversation_posts_the_result_there(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "/video a paper boat at dawn")
        await wait_for(lambda: len(finished(app)) == 1, limit=30)
        job = finished(app)[0]
        assert job.state is JobState.SUCCEEDED
        assert job.conversation_id == pane.conversation_id
        assert job.files[0].path.endswith(".mp4")
        # The job's message is there from the start; its result replaces it in place.
        await wait_for(
            lambda: len(pane.views()) == 2 and "is done" in pane.views()[-1].message.content
        )
        result = pane.views()[-1].message
        assert f"job #{job.id} is done" in result.content
        assert job.files[0].path in result.content
        assert any("job" in t and "running" in t for t in app.titles)  # type: ignore[attr-defined]


async def test_a_failed_video_is_reported_in_words(
    media_app: Callable[[], StudioApp], toasts: Toasts
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = await send(pilot, "/video doomed [[emulator: fault=fail:content policy says no]]")
        await wait_for(lambda: len(finished(app)) == 1, limit=30)
        job = finished(app)[0]
        assert job.state is JobState.FAILED
        assert job.failure_reason and "content policy" in job.failure_reason
        await wait_for(
            lambda: len(pane.views()) == 2 and pane.views()[-1].message.error is not None
        )
        report = pane.views()[-1].message
        assert report.status is MessageStatus.ERROR
        assert report.error and "content policy" in report.error
        assert any(n.severity == "error" for n in toasts.shown)


async def test_sidebar_detail_retry_and_remove(media_app: Callable[[], StudioApp]) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/image a lighthouse")
        await wait_for(lambda: len(finished(app)) == 1, limit=20)
        first = finished(app)[0]
        await pilot.press("ctrl+g")
        sidebar = app.screen.query_one("#jobs-sidebar", JobSidebar)
        await wait_for(lambda: not sidebar.has_class("hidden") and listed(sidebar) > 0)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        await pilot.press("r")  # a retry is a new, billed request: it asks first
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm")
        await pilot.press("y")
        await wait_for(lambda: len(finished(app)) == 2, limit=20)
        retried = max(app.jobs.jobs.values(), key=lambda j: j.id)
        assert retried.params == first.params and retried.id != first.id
        assert retried.idempotency_key != first.idempotency_key
        await pilot.press("x")
        await wait_for(lambda: app.screen.__class__.__name__ == "Choice")
        await pilot.click("#choice-keep")
        await wait_for(lambda: first.id not in app.jobs.jobs)
        assert app.store.get_job(first.id) is None
        kept = [await asyncio.to_thread(Path(f.path).exists) for f in first.files]
        assert all(kept)


async def test_jobs_are_one_key_away_from_a_dialog(media_app: Callable[[], StudioApp]) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, ModelPicker))
        await pilot.press("ctrl+g")
        await wait_for(lambda: isinstance(app.screen, JobsScreen))
        await pilot.press("ctrl+g")
        await wait_for(lambda: isinstance(app.screen, ModelPicker))


async def test_video_form_switches_fields_by_kind_and_validates(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f12")
        await wait_for(lambda: isinstance(app.screen, VideoForm))
        form = app.screen
        assert form.query_one("#row-ratio").display
        assert not form.query_one("#row-images").display
        form.query_one("#kind").value = "kling:multi-image2video"  # type: ignore[attr-defined]
        await pilot.pause()
        assert form.query_one("#row-images").display
        assert not form.query_one("#row-ratio").display
        form.query_one("#prompt").text = "a montage"  # type: ignore[attr-defined]
        form.query_one("#images").value = "a.png,b.png,c.png,d.png,e.png"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        assert "1 to 4" in str(form.query_one("#err-images").render())
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, VideoForm))
        assert not app.jobs.jobs


async def test_unfinished_jobs_resume_when_the_app_reopens(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/video slow one [[emulator: seconds=3]]")
        await wait_for(lambda: any(j.task_id for j in app.jobs.jobs.values()))
    again = media_app()
    async with again.run_test(size=SIZE):
        await wait_for(lambda: len(finished(again)) == 1, limit=30)
        assert finished(again)[0].state is JobState.SUCCEEDED
        pane = active_pane(again)
        await reply_done(again, 2)
        await wait_for(
            lambda: len(pane.views()) == 2 and "is done" in pane.views()[-1].message.content
        )


async def test_a_group_with_a_failed_item_shows_it(media_app: Callable[[], StudioApp]) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f10")
        await wait_for(lambda: isinstance(app.screen, ImageForm))
        form = app.screen
        form.query_one("#prompt").text = "seasons [[emulator: fault=item-fail:2]]"  # type: ignore[attr-defined]
        form.query_one("#max_images").value = "3"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(lambda: len(finished(app)) == 1, limit=20)
        group = finished(app)[0]
        assert group.state is JobState.SUCCEEDED
        assert len([f for f in group.files if f.done]) == 2
        await pilot.press("ctrl+g")
        sidebar = app.screen.query_one("#jobs-sidebar", JobSidebar)
        await wait_for(lambda: listed(sidebar) > 0)
        assert "1 of 3 failed" in str(sidebar.query_one("OptionList").get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        detail = str(app.screen.query_one("#job-text").render())
        assert "image 2" in detail and "OutputImageSensitiveContentDetected" in detail


async def test_gallery_shows_generated_images(media_app: Callable[[], StudioApp]) -> None:
    from studio.tui import previews
    from studio.tui.screens.gallery import GalleryScreen, Tile

    previews.prepare()
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/image a lighthouse")
        await send(pilot, "/video not an image")
        await wait_for(lambda: len(finished(app)) == 2, limit=30)
        await pilot.press("ctrl+t")
        await wait_for(lambda: isinstance(app.screen, GalleryScreen))
        tiles = list(app.screen.query(Tile))
        assert len(tiles) == 2  # the video too (tests/tui/test_media_forms.py has more)
        image = next(t for t in tiles if not t.has_class("-video"))
        assert len(image.query(".preview")) == 1
        assert "a lighthouse" in str(image.query_one(".tile-caption").render())
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, JobDetail))


async def test_job_details_follow_the_job_with_the_sidebar_never_opened(
    media_app: Callable[[], StudioApp],
) -> None:
    """The job sidebar is mounted on first use; a job's details must follow it regardless."""
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/video a paper boat")
        await wait_for(lambda: bool(app.jobs.jobs), limit=20)
        job = next(iter(app.jobs.jobs.values()))
        app.push_screen(JobDetail(job))
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        detail = app.screen
        assert isinstance(detail, JobDetail)
        await wait_for(lambda: detail.job.state is JobState.SUCCEEDED, limit=30)
        assert not [s for s in app.screen_stack if s.query("#jobs-sidebar")]
