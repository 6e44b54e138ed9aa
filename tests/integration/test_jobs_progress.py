"""What the engine records so a job's row can say why it waits and how far its download is:
a short reason with every retry, and bytes saved, expected and per second while saving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from studio.api import AnyFastClient
from studio.api.download import Downloader
from studio.api.errors import APIConnectionError, APITimeoutError, RateLimitError, ServerError
from studio.emulator import EmulatorServer
from studio.jobs import Job, JobState
from studio.jobs.context import short_error
from studio.jobs.engine import JobEngine
from studio.store import Store

from .test_jobs_engine import FAST, fast_config, finish


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
    config = fast_config(tmp_path, flush_interval=0.1)
    async with (
        Downloader(backoff_initial=0.01, backoff_max=0.05) as downloader,
        JobEngine(store, client, downloader, config, changes.append) as eng,
    ):
        yield eng


def test_short_errors_fit_a_row() -> None:
    assert short_error(APIConnectionError()) == "gateway unreachable"
    assert short_error(APITimeoutError()) == "no answer in time"
    assert short_error(RateLimitError(status=429)) == "HTTP 429 rate limited"
    assert short_error(ServerError("upstream exploded", status=502)) == "HTTP 502"


async def test_a_slow_download_records_bytes_and_rate_for_every_window(
    engine: JobEngine, emulator: EmulatorServer, store: Store, tmp_path: Path, changes: list[Job]
) -> None:
    emulator.inject("drip:1", count=None, path="/files/")  # 7 bytes a millisecond at most
    job = await engine.submit_seedance("seedance-2.0", f"a slow river {FAST}")
    seen_in_store: list[Job] = []

    async def watch() -> None:  # what another window reads: the store, not this engine
        while True:
            row = await asyncio.to_thread(store.get_job, job.id)
            if row is not None and row.state is JobState.DOWNLOADING:
                seen_in_store.append(row)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    try:
        done = await finish(engine, job, seconds=60)
    finally:
        watcher.cancel()
    assert done.state is JobState.SUCCEEDED
    size = done.files[0].size
    assert size and size > 3000  # enough to take a few progress records at this pace
    saving = [j for j in changes if j.state is JobState.DOWNLOADING and j.bytes_done]
    partial = [j for j in saving if j.bytes_done and j.bytes_done < size]
    assert partial, [(j.bytes_done, j.bytes_total) for j in saving]
    assert all(j.bytes_total == size for j in partial)
    assert any(j.bytes_rate and 0 < j.bytes_rate < 10 * 7000 for j in partial)
    done_bytes = [j.bytes_done or 0 for j in saving]
    assert done_bytes == sorted(done_bytes)  # never goes backwards
    stored = [j for j in seen_in_store if j.bytes_done and j.bytes_done < size]
    assert stored and stored[-1].bytes_total == size
    assert done.bytes_done == done.bytes_total == size
    assert done.bytes_rate is None  # no rate once saved


async def test_a_failed_check_records_a_short_reason_then_clears_it(
    engine: JobEngine, emulator: EmulatorServer, store: Store
) -> None:
    job = await engine.submit_seedance("seedance-2.0", "flaky [[emulator: seconds=1.0]]")
    emulator.inject("500", count=None, path="/v1/video/generations/")
    failed: Job | None = None
    async with asyncio.timeout(10):
        while failed is None:
            row = await asyncio.to_thread(store.get_job, job.id)
            if row is not None and row.last_error:
                failed = row
            await asyncio.sleep(0.05)
    assert failed.last_error == "HTTP 500"
    assert failed.next_poll_at is not None and failed.next_poll_at > failed.updated_at - 1
    assert "Could not check the task" in (failed.message or "")
    emulator.clear_faults()
    done = await finish(engine, job, seconds=20)
    assert done.state is JobState.SUCCEEDED
    assert done.last_error is None


async def test_a_refused_send_records_why_it_is_retried(
    engine: JobEngine, emulator: EmulatorServer
) -> None:
    emulator.inject("429:task", count=None, path="/kling/v1/videos/text2video")
    job = await engine.submit_kling("text2video", prompt=f"busy {FAST}")
    assert job.state is JobState.PENDING
    assert job.last_error == "HTTP 429 rate limited"
    assert job.next_poll_at is not None
    emulator.clear_faults()
    done = await finish(engine, job)
    assert done.state is JobState.SUCCEEDED and done.last_error is None


async def test_a_download_retry_says_why(
    store: Store, client: AnyFastClient, emulator: EmulatorServer, tmp_path: Path
) -> None:
    changes: list[Job] = []
    config = fast_config(tmp_path, flush_interval=0.05)
    async with (
        Downloader(backoff_initial=0.5, backoff_max=0.5) as downloader,
        JobEngine(store, client, downloader, config, changes.append) as engine,
    ):
        emulator.inject("503", count=2, path="/files/")
        job = await engine.submit_seedance("seedance-2.0", f"a busy bucket {FAST}")
        done = await finish(engine, job, seconds=20)
    assert done.state is JobState.SUCCEEDED and done.last_error is None
    saving = [j for j in changes if j.state is JobState.DOWNLOADING]
    assert any(j.last_error == "HTTP 503" for j in saving), [j.last_error for j in saving]
