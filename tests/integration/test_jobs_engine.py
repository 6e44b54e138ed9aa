"""The job engine against the emulator, with fast timelines: full lifecycles, failures, storms,
cancel / retry / remove, deadlines and image groups."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.api import AnyFastClient, MediaInputError
from studio.api.download import Downloader
from studio.emulator import EmulatorServer
from studio.emulator.tasks import phase_of
from studio.jobs import EngineConfig, Job, JobActionError, JobKind, JobProvider, JobState
from studio.jobs.engine import JobEngine
from studio.store import Store

FAST = "[[emulator: seconds=0.6]]"


def png(path: Path, width: int = 320, height: int = 320) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\x10\x80\xf0" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def fast_config(tmp_path: Path, **changes: object) -> EngineConfig:
    config = EngineConfig(
        media_dir=tmp_path / "media",
        first_checks=(0.05, 0.1),
        seedance_interval=0.2,
        kling_interval=0.15,
        error_backoff_max=0.4,
        submit_backoff=0.1,
        deadline=30.0,
        lease=2.0,
        claim_interval=0.3,
        flush_interval=0.05,
    )
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "studio.db") as s:
        yield s


@pytest.fixture
def changes() -> list[Job]:
    return []


@pytest.fixture
async def engine(
    store: Store, client: AnyFastClient, tmp_path: Path, changes: list[Job]
) -> AsyncIterator[JobEngine]:
    async with (
        Downloader(backoff_initial=0.01, backoff_max=0.05) as downloader,
        JobEngine(store, client, downloader, fast_config(tmp_path), changes.append) as eng,
    ):
        yield eng


async def finish(engine: JobEngine, job: Job, seconds: float = 10.0) -> Job:
    async with asyncio.timeout(seconds):
        return await engine.wait(job.id)


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll until ``condition()`` holds (the engine runs between polls), at most ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def task_finished(emulator: EmulatorServer, job: Job) -> bool:
    """Whether the emulator's task of ``job`` has come to its end (succeeded or failed)."""
    task = emulator.state.tasks.get(job.task_id or "")
    return task is not None and phase_of(task).stage in ("succeeded", "failed")


def creates(emulator: EmulatorServer, job: Job) -> list[int]:
    return [r.status for r in emulator.requests if r.idempotency_key == job.idempotency_key]


def checks(emulator: EmulatorServer, job: Job) -> int:
    return sum(1 for r in emulator.requests if r.method == "GET" and str(job.task_id) in r.path)


def exists(path: Path) -> bool:
    return path.exists()


def starts_with(path: Path, magic: bytes) -> bool:
    return path.read_bytes().startswith(magic)


def assert_saved(job: Job, media: Path, count: int = 1) -> None:
    assert job.state is JobState.SUCCEEDED
    assert len(job.files) == count
    for file in job.files:
        path = Path(file.path)
        assert file.done and path.parent == media
        assert file.size and path.stat().st_size == file.size
        record = json.loads(path.with_name(path.name + ".json").read_text())
        assert record["prompt"] == job.prompt and record["model"] == job.model
        assert record["task_id"] == job.task_id and record["source_url"] == file.url
        assert record["size"] == file.size
    assert not list(media.glob("*.part"))
    assert len(list(media.iterdir())) == 2 * count


async def test_seedance_full_lifecycle(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path, changes: list[Job]
) -> None:
    frame = png(tmp_path / "first.png")
    job = await engine.submit_seedance(
        "seedance-2.0", "A cat playing piano [[emulator: seconds=1.2]]", first_frame=str(frame)
    )
    assert job.state is JobState.QUEUED and job.task_id
    assert job.params["first_frame"].startswith("data:image/png;base64,")
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    name = Path(done.files[0].path).name
    assert "-video-a-cat-playing-piano-" in name and name.endswith(".mp4")
    assert [s for s, _ in done.history] == [
        "pending",
        "queued",
        "running",
        "downloading",
        "succeeded",
    ]
    assert done.progress == 100 and done.finished_at and done.elapsed(0) > 0
    assert creates(emulator, job) == [200]
    assert any(c.eta(c.updated_at) is not None for c in changes if c.state is JobState.RUNNING)
    assert [c.state for c in changes][:2] == [JobState.PENDING, JobState.QUEUED]
    assert done.claimed_by is None


@pytest.mark.parametrize("action", ["text2video", "image2video", "multi-image2video"])
async def test_kling_lifecycle(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path, action: str
) -> None:
    picture = str(png(tmp_path / "frame.png"))
    options: dict[str, dict[str, Any]] = {
        "text2video": {"aspect_ratio": "9:16"},
        "image2video": {"image": picture},
        "multi-image2video": {"images": [picture, picture]},
    }
    extra = options[action]
    job = await engine.submit_kling(action, prompt=f"a paper boat {FAST}", duration=5, **extra)
    assert job.model == ("kling-v1-6" if action == "multi-image2video" else "kling-v1")
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    assert done.provider is JobProvider.KLING and done.action == action
    assert any(r.path == f"/kling/v1/videos/{action}/{job.task_id}" for r in emulator.requests)
    assert creates(emulator, job) == [200]


async def test_a_failed_task_records_the_reason(engine: JobEngine, tmp_path: Path) -> None:
    prompt = "x [[emulator: fault=fail:the output may be sensitive; seconds=0.5]]"
    done = await finish(engine, await engine.submit_seedance("seedance-2.0", prompt))
    assert done.state is JobState.FAILED
    assert "the output may be sensitive" in (done.failure_reason or "")
    assert done.files == ()
    assert not (tmp_path / "media").exists() or not list((tmp_path / "media").iterdir())


@pytest.mark.parametrize(
    ("provider", "action"), [(JobProvider.SEEDANCE, "generate"), (JobProvider.KLING, "text2video")]
)
async def test_an_unknown_task_id_fails_clearly(
    engine: JobEngine, store: Store, provider: JobProvider, action: str
) -> None:
    job = store.create_job(
        kind=JobKind.VIDEO,
        provider=provider,
        action=action,
        model="seedance-2.0",
        prompt="lost",
        params={},
        idempotency_key="k",
    )
    store.update_job(job.id, state=JobState.QUEUED, task_id="123456789012345678", deadline_at=9e9)
    engine.resume_unfinished()
    done = await finish(engine, job)
    assert done.state is JobState.FAILED
    assert "does not know task 123456789012345678" in (done.failure_reason or "")


async def test_a_429_storm_while_polling_only_slows_the_job_down(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    job = await engine.submit_seedance("seedance-2.0", "storm [[emulator: seconds=1.0]]")
    emulator.inject("429:task", count=None, path="/v1/video/generations/")
    await asyncio.sleep(1.2)
    during = engine.store.get_job(job.id)
    assert during is not None and during.state is JobState.QUEUED
    assert "Could not check the task" in (during.message or "")
    storm_checks = checks(emulator, job)
    emulator.clear_faults()
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    # Each check is one request plus the client's two quick retries; the engine's own backoff
    # keeps the number of checks during the storm small.
    assert storm_checks <= 15
    assert checks(emulator, job) <= storm_checks + 8


async def test_a_429_storm_at_submission_retries_with_the_same_key(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.inject("429:task", count=None, path="/kling/v1/videos/text2video")
    job = await engine.submit_kling("text2video", prompt=f"busy {FAST}")
    assert job.state is JobState.PENDING and job.task_id is None
    assert "sending again" in (job.message or "")
    await asyncio.sleep(0.4)
    emulator.clear_faults()
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    posts = [r for r in emulator.requests if r.path == "/kling/v1/videos/text2video"]
    mine = [r.status for r in posts if r.idempotency_key == job.idempotency_key]
    assert mine.count(200) == 1 and mine.count(429) >= 3
    assert mine[-1] == 200


@pytest.mark.parametrize("fault", ["500", "disconnect:0"])
async def test_an_ambiguous_failure_at_submission_is_uncertain(
    engine: JobEngine, emulator: EmulatorServer, fault: str
) -> None:
    emulator.inject(fault, count=1, path="/v1/video/generations")
    job = await engine.submit_seedance("seedance-2.0", f"paid {FAST}")
    assert job.state is JobState.SUBMISSION_UNCERTAIN
    assert "not known whether the gateway received" in (job.message or "")
    assert len(creates(emulator, job)) == 1
    await asyncio.sleep(0.2)
    assert len(creates(emulator, job)) == 1  # never resent on its own
    with pytest.raises(JobActionError, match="same idempotency key"):
        await engine.recheck(job.id)
    again = await engine.retry(job.id)
    assert again.id != job.id and again.retry_of == job.id
    assert again.idempotency_key != job.idempotency_key
    assert (await finish(engine, again)).state is JobState.SUCCEEDED


async def test_a_rejected_request_fails_at_once(
    engine: JobEngine, emulator: EmulatorServer
) -> None:
    job = await engine.submit_seedance("seedance-2.0", "too long", duration=99)
    assert job.state is JobState.FAILED
    assert "duration" in (job.failure_reason or "")
    assert creates(emulator, job) == [400]


async def test_a_bad_local_image_is_refused_before_anything_is_written(
    engine: JobEngine, store: Store, tmp_path: Path
) -> None:
    with pytest.raises(MediaInputError):
        await engine.submit_kling("image2video", image=str(png(tmp_path / "tiny.png", 32, 32)))
    with pytest.raises(MediaInputError):
        await engine.submit_seedance("seedance-2.0", "x", first_frame=str(tmp_path / "missing.png"))
    assert store.list_jobs() == []


async def test_cancel_retry_and_remove(
    engine: JobEngine, emulator: EmulatorServer, store: Store, tmp_path: Path
) -> None:
    job = await engine.submit_seedance("seedance-2.0", "slow [[emulator: seconds=5]]", duration=5)
    await asyncio.sleep(0.2)
    cancelled = await engine.cancel(job.id)
    assert cancelled.state is JobState.CANCELLED
    assert "no cancel" in (cancelled.message or "") and "billed" in (cancelled.message or "")
    polled = checks(emulator, job)
    await asyncio.sleep(0.4)
    assert checks(emulator, job) == polled
    with pytest.raises(JobActionError, match="already ended"):
        await engine.cancel(job.id)

    again = await engine.retry(job.id)
    assert (again.params, again.prompt, again.model) == (job.params, job.prompt, job.model)
    await engine.cancel(again.id)
    image = await finish(engine, await engine.submit_image("doubao-seedream-4-0-250828", "a fox"))
    saved = Path(image.files[0].path)
    assert exists(saved)
    assert await engine.remove(image.id, delete_files=False) == []
    assert store.get_job(image.id) is None and exists(saved)

    second = await finish(engine, await engine.submit_image("doubao-seedream-4-0-250828", "owl"))
    removed = await engine.remove(second.id, delete_files=True)
    assert len(removed) == 2 and not any(exists(p) for p in removed)
    assert store.get_job(second.id) is None


async def test_deadline_times_out_then_recheck_finishes(
    store: Store, client: AnyFastClient, emulator: EmulatorServer, tmp_path: Path
) -> None:
    config = fast_config(tmp_path, deadline=0.3)
    async with Downloader() as downloader, JobEngine(store, client, downloader, config) as engine:
        job = await engine.submit_seedance("seedance-2.0", "slow [[emulator: seconds=1.0]]")
        timed_out = await finish(engine, job)
        assert timed_out.state is JobState.TIMED_OUT
        assert "recheck" in (timed_out.message or "")
        polled = checks(emulator, job)
        await asyncio.sleep(1.0)
        assert checks(emulator, job) == polled
        rechecked = await engine.recheck(job.id)
        assert rechecked.state in (JobState.DOWNLOADING, JobState.SUCCEEDED)
        done = await finish(engine, job)
        assert_saved(done, tmp_path / "media")
        assert [s for s, _ in done.history][-3:] == ["timed_out", "downloading", "succeeded"]


async def test_group_image_with_one_failed_item(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    prompt = "three foxes [[emulator: fault=item-fail:2]]"
    job = await engine.submit_image("doubao-seedream-4-0-250828", prompt, max_images=3)
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media", count=2)
    assert [f.index for f in done.files] == [0, 2]
    assert [Path(f.path).stem[-2:] for f in done.files] == ["-1", "-3"]
    assert [e["index"] for e in done.result["errors"]] == [1]
    assert "1 of 3 images failed" in (done.message or "")
    assert creates(emulator, job) == [200]


async def test_inline_images_are_written_without_downloads(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    before = sum(1 for r in emulator.requests if r.path.startswith("/files/"))
    job = await engine.submit_image(
        "doubao-seedream-4-0-250828", "owls", max_images=2, response_format="b64_json"
    )
    done = await finish(engine, job)
    assert done.state is JobState.SUCCEEDED and len(done.files) == 2
    assert all(starts_with(Path(f.path), b"\x89PNG") for f in done.files)
    assert sum(1 for r in emulator.requests if r.path.startswith("/files/")) == before
    assert len(json.dumps(done.last_response)) < 10_000


async def test_an_image_request_where_every_item_failed(engine: JobEngine) -> None:
    job = await engine.submit_image(
        "doubao-seedream-4-0-250828", "x [[emulator: fault=item-fail:1]]"
    )
    assert job.state is JobState.FAILED
    assert "image 1:" in (job.failure_reason or "")


async def test_a_failed_download_can_be_rechecked(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.inject("expired", count=None, path="/files/")
    job = await engine.submit_image("doubao-seedream-4-0-250828", "a heron")
    failed = await finish(engine, job)
    assert failed.state is JobState.FAILED
    assert "403" in (failed.failure_reason or "") and "Recheck" in (failed.failure_reason or "")
    assert failed.files[0].error and not failed.files[0].done
    emulator.clear_faults()
    await engine.recheck(job.id)
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    assert creates(emulator, job) == [200]
    with pytest.raises(JobActionError, match="nothing to check"):
        await engine.recheck(job.id)


async def test_a_download_checked_again_starts_from_nothing(
    engine: JobEngine, emulator: EmulatorServer, store: Store, changes: list[Job]
) -> None:
    emulator.inject("expired", count=None, path="/files/")
    failed = await finish(engine, await engine.submit_image("doubao-seedream-4-0-250828", "ibis"))
    assert failed.state is JobState.FAILED
    # A download that got part of the way before it failed leaves its figures behind.
    store.update_job(
        failed.id, bytes_done=4096, bytes_total=9000, bytes_rate=512.0, last_error="HTTP 403"
    )
    emulator.clear_faults()
    changes.clear()
    rechecked = await engine.recheck(failed.id)
    first = next(c for c in changes if c.id == failed.id)
    for shown in (rechecked, first):
        assert shown.state is JobState.DOWNLOADING
        assert (shown.bytes_done, shown.bytes_total, shown.bytes_rate) == (0, None, None)
        assert shown.last_error is None
    done = await finish(engine, failed)
    assert done.state is JobState.SUCCEEDED and done.bytes_done == done.files[0].size


async def test_an_engine_can_stop_and_start_again(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    jobs = [
        await engine.submit_kling("text2video", prompt=f"pause {n} [[emulator: seconds=0.8]]")
        for n in range(3)
    ]
    await asyncio.sleep(0.2)
    await engine.stop()
    assert not engine.running and engine.tracked == 0
    assert all(j.claimed_by is None for j in engine.store.list_jobs())
    await engine.start()
    assert engine.tracked == 3
    for job in jobs:
        done = await finish(engine, job)
        assert done.state is JobState.SUCCEEDED and creates(emulator, job) == [200]
    assert len(list((tmp_path / "media").glob("*.mp4"))) == 3
