"""Actions on a job from the TUI, against the emulator: paid actions ask first, check again
works on every ended job and always says what happened, an uncertain submission offers its
ways out, and the detail dialog shows what applies, fits, and shows its keys on the key bar."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Button, Input

from studio.config import Settings
from studio.emulator import EmulatorServer
from studio.jobs import EngineConfig, Job, JobFile, JobKind, JobProvider, JobState
from studio.jobs.engine import JobEngine
from studio.tui.app import StudioApp
from studio.tui.screens.dialogs import Choice, Confirm, TextPrompt
from studio.tui.screens.job_detail import JobButtons, JobDetail, JobText
from studio.tui.widgets.footer import KeyBar

from .conftest import SIZE, wait_for

FAST = "[[emulator: seconds=0.6]]"


class Toasts:
    """What the app said in toasts, from the ``Notify`` messages it handled."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def hook(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.said.append(str(message.notification.message))

    def any(self, *words: str) -> bool:
        return any(all(w in text for w in words) for text in self.said)


@pytest.fixture
def toasts() -> Toasts:
    return Toasts()


@pytest.fixture
def jobs_app(settings: Settings, tmp_path: Path) -> Callable[[], StudioApp]:
    fast = EngineConfig(
        media_dir=tmp_path / "media",
        first_checks=(0.1,),
        seedance_interval=0.2,
        kling_interval=0.2,
        jitter=0.0,
        submit_backoff=0.2,
        error_backoff_max=1.0,
        flush_interval=0.05,
        claim_interval=0.5,
    )

    def make() -> StudioApp:
        app = StudioApp(settings, jobs_config=fast)
        app.bell = lambda: None  # type: ignore[method-assign]
        return app

    return make


def png(path: Path, width: int, height: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\x10\x80\xf0" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


async def engine_of(app: StudioApp) -> JobEngine:
    return await app.jobs.ensure_started()


async def ended(app: StudioApp, job: Job, limit: float = 20.0) -> Job:
    await wait_for(lambda: stored(app, job).state.is_final, limit=limit)
    return stored(app, job)


def stored(app: StudioApp, job: Job) -> Job:
    found = app.store.get_job(job.id)
    assert found is not None
    return found


async def open_detail(app: StudioApp, job: Job) -> JobDetail:
    app.push_screen(JobDetail(stored(app, job)))
    await wait_for(lambda: isinstance(app.screen, JobDetail) and bool(app.screen.query(JobButtons)))
    assert isinstance(app.screen, JobDetail)
    return app.screen


def buttons(detail: JobDetail) -> list[str]:
    return [b.id or "" for b in detail.query_one(JobButtons).query(Button)]


def key_bar(app: StudioApp) -> str:
    return str(app.screen.query_one(KeyBar).render())


# -- paid actions ask first ----------------------------------------------------------------------


async def test_retry_asks_first_and_three_presses_make_one_job(
    jobs_app: Callable[[], StudioApp], toasts: Toasts
) -> None:
    app = jobs_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        engine = await engine_of(app)
        job = await ended(app, await engine.submit_seedance("seedance-2.0", f"a kite {FAST}"))
        await open_detail(app, job)
        await pilot.press("r", "r", "r")
        await wait_for(lambda: isinstance(app.screen, Confirm))
        assert sum(isinstance(s, Confirm) for s in app.screen_stack) == 1
        assert "billed separately" in str(app.screen.query_one(".confirm-detail").render())
        assert len(app.store.list_jobs()) == 1  # nothing sent before the answer
        await pilot.press("escape")
        await wait_for(lambda: toasts.any("nothing was done"))
        assert isinstance(app.screen, JobDetail) and len(app.store.list_jobs()) == 1

        await pilot.press("r", "r", "r")
        await wait_for(lambda: isinstance(app.screen, Confirm))
        await pilot.press("enter")  # Enter confirms: the question was asked for with one key
        await wait_for(lambda: len(app.store.list_jobs()) == 2)
        await wait_for(lambda: toasts.any("Sent again as job #", "billed separately"))
        new = app.store.list_jobs()[0]
        assert new.retry_of == job.id and new.idempotency_key != job.idempotency_key
        await pilot.pause(0.3)
        assert len(app.store.list_jobs()) == 2  # the other two presses made nothing

        await pilot.press("r")  # asking again says it was already retried
        await wait_for(lambda: isinstance(app.screen, Confirm))
        detail = str(app.screen.query_one(".confirm-detail").render())
        assert f"already retried as job #{new.id}" in detail
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        assert len(app.store.list_jobs()) == 2


async def test_retry_from_elsewhere_asks_too(jobs_app: Callable[[], StudioApp]) -> None:
    """A conversation's job message routes its retry through app.job_action: it asks too."""
    app = jobs_app()
    async with app.run_test(size=SIZE) as pilot:
        engine = await engine_of(app)
        job = await ended(app, await engine.submit_seedance("seedance-2.0", f"owl {FAST}"))
        await app.job_action(job.id, "retry")
        await app.job_action(job.id, "retry")
        await wait_for(lambda: isinstance(app.screen, Confirm))
        await pilot.pause(0.2)
        assert sum(isinstance(s, Confirm) for s in app.screen_stack) == 1
        await pilot.press("y")
        await wait_for(lambda: len(app.store.list_jobs()) == 2)


def task_done(emu: EmulatorServer, task_id: str | None) -> bool:
    """Whether the emulator's task has finished (as the gateway would now say)."""
    from studio.emulator.tasks import phase_of

    task = emu.state.tasks.get(task_id or "")
    return task is not None and phase_of(task).stage == "succeeded"


async def test_cancel_asks_first_then_check_again_collects_the_result(
    jobs_app: Callable[[], StudioApp], toasts: Toasts, tmp_path: Path, emu: EmulatorServer
) -> None:
    app = jobs_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        engine = await engine_of(app)
        # Long enough that the task is still running when the cancel lands, on a busy machine.
        job = await engine.submit_seedance("seedance-2.0", "paid [[emulator: seconds=6]]")
        detail = await open_detail(app, job)
        assert "cancel" in buttons(detail) and "retry" not in buttons(detail)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, Confirm))
        assert "keeps running and is billed" in str(
            app.screen.query_one(".confirm-detail").render()
        )
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        assert stored(app, job).state.is_active
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(lambda: stored(app, job).state is JobState.CANCELLED)
        await wait_for(lambda: toasts.any("no longer tracked", "check it again"))
        await wait_for(lambda: "recheck" in buttons(detail) and "cancel" not in buttons(detail))
        await wait_for(lambda: "k Check again" in key_bar(app))

        # The task finishes at the gateway all the same.
        await wait_for(lambda: task_done(emu, stored(app, job).task_id), limit=20)
        await pilot.press("k")
        await wait_for(lambda: toasts.any(f"Job #{job.id} checked again", "finished"))
        done = await ended(app, job)
        assert done.state is JobState.SUCCEEDED and done.files[0].done
        assert Path(done.files[0].path).parent == tmp_path / "media"


async def test_check_again_always_says_what_happened(
    jobs_app: Callable[[], StudioApp], toasts: Toasts
) -> None:
    app = jobs_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        engine = await engine_of(app)
        refused = await engine.submit_seedance("seedance-2.0", "too long", duration=99)
        assert refused.state is JobState.FAILED and refused.task_id is None
        detail = await open_detail(app, refused)
        assert "recheck" not in buttons(detail)  # nothing a check could do: no button ...
        await pilot.press("k")  # ... but the key answers
        await wait_for(lambda: toasts.any("never gave job", "a task id"))
        await pilot.press("escape")

        prompt = "x [[emulator: fault=fail:the output may be sensitive; seconds=0.3]]"
        failed = await ended(app, await engine.submit_seedance("seedance-2.0", prompt))
        await open_detail(app, failed)
        await pilot.press("k")
        await wait_for(lambda: toasts.any(f"Job #{failed.id} checked again", "may be sensitive"))


async def test_a_running_job_removed_warns_it_may_be_billed(
    jobs_app: Callable[[], StudioApp],
) -> None:
    app = jobs_app()
    async with app.run_test(size=SIZE) as pilot:
        engine = await engine_of(app)
        job = await engine.submit_seedance("seedance-2.0", "long [[emulator: seconds=5]]")
        await open_detail(app, job)
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, Choice))
        warning = str(app.screen.query_one(".confirm-detail").render())
        assert "keeps running" in warning and "billed" in warning
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        assert stored(app, job).state.is_active


async def test_answering_remove_for_a_job_removed_meanwhile_is_harmless(
    jobs_app: Callable[[], StudioApp], toasts: Toasts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remove question stayed open (not in front, say) while another window removed the
    job: answering it says so and the app carries on (it exited on the engine's NotFoundError)."""
    from studio.store import Store

    app = jobs_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await engine_of(app)
        job = seeded(app, JobState.SUCCEEDED)
        app.jobs.record(job)  # as listed when the detail was opened
        await open_detail(app, job)
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, Choice))
        monkeypatch.setattr(app.job_actions, "withdraw", lambda _job_id: False, raising=False)
        with Store.open() as other:  # another window's connection
            other.delete_job(job.id)
        await wait_for(lambda: job.id not in app.jobs.jobs)  # this window has seen it go
        assert isinstance(app.screen, Choice)
        await pilot.click("#choice-keep")
        await wait_for(lambda: toasts.any(f"Job #{job.id} was already removed"))
        await wait_for(lambda: not isinstance(app.screen, Choice | JobDetail))
        assert app.is_running


async def test_a_remove_that_cannot_delete_a_file_says_so(
    jobs_app: Callable[[], StudioApp], toasts: Toasts, tmp_path: Path
) -> None:
    """A result that cannot be deleted (here a directory where the file was): the job stays,
    a toast says why, and the app carries on (it exited on the OSError)."""
    in_the_way = tmp_path / "media" / "result.png"
    (in_the_way / "something").mkdir(parents=True)
    app = jobs_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await engine_of(app)
        job = seeded(app, JobState.SUCCEEDED, files=(JobFile(0, None, str(in_the_way), 10, True),))
        await open_detail(app, job)
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, Choice))
        await pilot.click("#choice-delete")
        await wait_for(lambda: toasts.any(f"Job #{job.id} could not be removed"))
        assert app.is_running and app.store.get_job(job.id) is not None


# -- uncertain submissions -----------------------------------------------------------------------


async def uncertain(app: StudioApp, emu: EmulatorServer, prompt: str) -> Job:
    emu.inject("500", count=1, path="/v1/video/generations")
    job = await (await engine_of(app)).submit_seedance("seedance-2.0", prompt)
    assert job.state is JobState.SUBMISSION_UNCERTAIN
    return job


async def test_an_uncertain_job_is_sent_again_under_its_key(
    jobs_app: Callable[[], StudioApp], emu: EmulatorServer, toasts: Toasts
) -> None:
    app = jobs_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        job = await uncertain(app, emu, f"again {FAST}")
        detail = await open_detail(app, job)
        assert buttons(detail) == ["resend", "attach", "retry", "remove"]
        assert str(detail.query_one("#retry", Button).label) == "Retry (r)"
        await pilot.press("k")  # nothing to check: the ways out are offered
        await wait_for(lambda: isinstance(app.screen, Choice))
        await pilot.press("s")
        await wait_for(lambda: toasts.any("sent again under the same idempotency key"))
        done = await ended(app, job)
        assert done.state is JobState.SUCCEEDED
        assert [j.id for j in app.store.list_jobs()] == [job.id]
        keys = [r.idempotency_key for r in emu.requests if r.path == "/v1/video/generations"]
        assert keys.count(job.idempotency_key) == 2


async def test_a_task_found_in_the_console_is_attached(
    jobs_app: Callable[[], StudioApp], emu: EmulatorServer, toasts: Toasts
) -> None:
    app = jobs_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        job = await uncertain(app, emu, f"found {FAST}")
        client = await app.gateway.client()
        task = await client.create_seedance_task("seedance-2.0", f"found {FAST}")
        await open_detail(app, job)

        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one(Input).value = "not/an id"
        await pilot.press("enter")
        await wait_for(lambda: toasts.any("not a task id", "Nothing was changed"))
        assert stored(app, job).state is JobState.SUBMISSION_UNCERTAIN

        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one(Input).value = "cgt-20990101000000-none0"
        await pilot.press("enter")
        await wait_for(lambda: toasts.any("does not know task cgt-20990101000000-none0"))
        assert stored(app, job).task_id is None

        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one(Input).value = task.task_id
        await pilot.press("enter")
        await wait_for(lambda: toasts.any(f"Task {task.task_id} attached to job #{job.id}"))
        done = await ended(app, job)
        assert done.state is JobState.SUCCEEDED and done.task_id == task.task_id


# -- the detail dialog ---------------------------------------------------------------------------


def seeded(app: StudioApp, state: JobState, **fields: Any) -> Job:
    job = app.store.create_job(
        kind=fields.pop("kind", JobKind.VIDEO),
        provider=fields.pop("provider", JobProvider.SEEDANCE),
        action="generate",
        model="seedance-2.0",
        prompt="a lighthouse at dusk",
        params=fields.pop("params", {}),
        idempotency_key="key",
    )
    updated = app.store.update_job(job.id, state=state, **fields)
    assert updated is not None
    return updated


@pytest.fixture
def long_media(tmp_path: Path) -> Path:
    folder = tmp_path / "a-rather-long-media-folder-name-for-studio-results" / "images-2026"
    folder.mkdir(parents=True)
    return folder


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_every_button_of_the_detail_shows_and_its_keys_are_on_the_key_bar(
    jobs_app: Callable[[], StudioApp], long_media: Path, size: tuple[int, int]
) -> None:
    picture = png(long_media / "20260312-231129-image-a-lighthouse-at-dusk-abc123-1.png", 64, 32)
    cases: list[tuple[JobState, dict[str, Any]]] = [
        (JobState.SUBMISSION_UNCERTAIN, {}),
        (JobState.RUNNING, {"task_id": "cgt-1"}),
        (
            JobState.FAILED,
            {
                "task_id": "cgt-2",
                "files": (JobFile(0, "https://x/y.mp4", str(picture), 10, True),),
            },
        ),
    ]
    app = jobs_app()
    async with app.run_test(size=size) as pilot:
        for state, fields in cases:
            job = seeded(app, state, **fields)
            detail = await open_detail(app, job)
            await pilot.pause()
            shown = buttons(detail)
            dialog = detail.query_one(".job-detail").region
            for button in detail.query_one(JobButtons).query(Button):
                region = button.region
                assert region.height == 1 and region.width >= len(str(button.label))
                assert dialog.contains_region(region), (state, button.id, region, dialog)
            bar = key_bar(app)
            if state is JobState.SUBMISSION_UNCERTAIN:
                assert shown == ["resend", "attach", "retry", "remove"]
                assert "r Retry" in bar and "s Send again" in bar and "Cancel" not in bar
            elif state is JobState.RUNNING:
                assert shown == ["recheck", "cancel", "remove"]
                assert "c Cancel" in bar and "Retry" not in bar
            else:
                assert shown == ["copy_url", "copy_path", "open_file", "recheck", "retry", "remove"]
                assert "r Retry" in bar
            await pilot.press("escape")
            await wait_for(lambda: not isinstance(app.screen, JobDetail))


async def test_the_detail_summarises_inline_images_and_folds_paths_at_slashes(
    jobs_app: Callable[[], StudioApp], long_media: Path
) -> None:
    from studio.tui import previews

    previews.prepare()
    picture = png(long_media / "20260312-231129-image-a-lighthouse-at-dusk-abc123-1.png", 64, 32)
    inline = "data:image/png;base64," + base64.b64encode(bytes(1950)).decode()
    url = "https://cdn.example.com/results/0217531234567890abcdef/0.png?X-Tos-Expires=86400&X-Tos-Signature=abcdef0123456789"
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        job = seeded(
            app,
            JobState.SUCCEEDED,
            kind=JobKind.IMAGE,
            provider=JobProvider.SEEDREAM,
            params={"images": [inline], "size": "2K"},
            files=(JobFile(0, url, str(picture), 10, True),),
            last_response={"data": [{"url": url, "b64_json": inline}]},
        )
        detail = await open_detail(app, job)
        await pilot.pause()
        text = detail.query_one(JobText)
        lines = [
            "".join(s.text for s in text.render_line(y)).rstrip() for y in range(text.size.height)
        ]
        assert "  images: <image/png inline, 1,950 bytes>" in lines
        assert not any("base64" in line for line in lines)
        raw = str(detail.query_one("#job-raw").render())
        assert "<image/png inline, 1,950 bytes>" in raw and "base64" not in raw
        for whole in (str(picture), url):
            pieces = [line.strip() for line in lines if line.strip() and line.strip() in whole]
            assert "".join(pieces) == whole, pieces
            assert len(pieces) > 1  # folded: none of them fits one line at 80 columns
            assert all(p.endswith(("/", "?", "&")) for p in pieces[:-1])


async def test_an_image_preview_keeps_its_aspect(
    jobs_app: Callable[[], StudioApp], long_media: Path
) -> None:
    from studio.tui import previews

    if not previews.prepare():
        pytest.skip("no image previews here")
    from studio.tui.compat import image_terminal

    get_cell_size = image_terminal().get_cell_size

    picture = png(long_media / "wide.png", 1024, 576)  # 16:9, as Seedream makes them
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        job = seeded(
            app,
            JobState.SUCCEEDED,
            kind=JobKind.IMAGE,
            provider=JobProvider.SEEDREAM,
            files=(JobFile(0, None, str(picture), 10, True),),
        )
        detail = await open_detail(app, job)
        await pilot.pause()
        region = detail.query_one(".preview").region
        cell = get_cell_size()
        expected = (1024 / cell.width) / (576 / cell.height)
        assert region.height >= 4
        assert abs(region.width / region.height - expected) <= expected * 0.15, region
