"""``JobEngine.take_up``: an engine that claims no job by itself (``claim_batch=0``, as the
headless ``jobs wait`` runs it) takes up exactly the jobs it is asked about, and only those
nobody else holds."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from studio.api import AnyFastClient
from studio.api.download import Downloader
from studio.jobs import Job, JobKind, JobProvider, JobState
from studio.jobs.engine import JobEngine
from studio.store import Store

from .test_jobs_engine import fast_config


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    with Store.open(tmp_path / "studio.db") as s:
        yield s


def engine_on(store: Store, client: AnyFastClient, tmp_path: Path, **changes: object) -> JobEngine:
    fields: dict[str, object] = {"claim_batch": 0, **changes}
    config = dataclasses.replace(fast_config(tmp_path), **fields)  # type: ignore[arg-type]
    return JobEngine(store, client, Downloader(), config)


def pending(store: Store, prompt: str) -> Job:
    """A job written and released before it was sent (sending it is safe)."""
    return store.create_job(
        kind=JobKind.VIDEO,
        provider=JobProvider.SEEDANCE,
        action="generate",
        model="seedance-2.0",
        prompt=prompt,
        params={},
        idempotency_key=f"key-{prompt}",
    )


async def test_take_up_follows_the_job_asked_about_and_no_other(
    store: Store, client: AnyFastClient, tmp_path: Path
) -> None:
    wanted = pending(store, "wanted [[emulator: seconds=0.5]]")
    other = pending(store, "other [[emulator: seconds=0.5]]")
    async with engine_on(store, client, tmp_path) as engine:
        await asyncio.sleep(0.5)  # several housekeeping rounds: nothing is claimed by itself
        assert store.get_job(wanted.id).state is JobState.PENDING  # type: ignore[union-attr]
        assert engine.take_up(wanted.id)
        async with asyncio.timeout(10):
            done = await engine.wait(wanted.id)
        assert done.state is JobState.SUCCEEDED and done.files[0].done
        left = store.get_job(other.id)
        assert left is not None and left.state is JobState.PENDING and left.claimed_by is None


async def test_take_up_leaves_a_job_another_engine_holds_and_an_ended_one(
    store: Store, client: AnyFastClient, tmp_path: Path
) -> None:
    job = pending(store, "held [[emulator: seconds=5]]")
    async with (
        engine_on(store, client, tmp_path, claim_batch=1000, owner="first") as first,
        engine_on(store, client, tmp_path, owner="second") as second,
    ):
        assert job.id in first.book  # the first engine took it up when it started
        assert not second.take_up(job.id)
        assert job.id not in second.book
        await first.cancel(job.id)
        assert not second.take_up(job.id)  # cancelled: nothing to take up
        stored = store.get_job(job.id)
        assert stored is not None and stored.state is JobState.CANCELLED
        assert stored.claimed_by is None
