"""Crashes and company: an engine process killed mid-poll and mid-download, then restarted;
two engines on one database; jobs left pending by a dead process."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.api import AnyFastClient, Provider, VideoTask
from studio.api.download import Downloader
from studio.emulator import EmulatorServer
from studio.emulator.tasks import sample_video
from studio.jobs import EngineConfig, Job, JobKind, JobProvider, JobState
from studio.jobs.engine import JobEngine
from studio.store import Store
from studio.store.processes import HOST

KEY = "sk-test-resume-0123456789"
TIMINGS: dict[str, Any] = {
    "first_checks": (0.05, 0.1),
    "seedance_interval": 0.2,
    "kling_interval": 0.15,
    "error_backoff_max": 0.4,
    "submit_backoff": 0.1,
    "lease": 2.0,
    "claim_interval": 0.2,
    "flush_interval": 0.05,
}
WORKER = """
import asyncio, os, sys
from pathlib import Path
from studio.api import AnyFastClient
from studio.api.download import Downloader
from studio.jobs import EngineConfig
from studio.jobs.engine import JobEngine
from studio.store import Store

async def main(db, media, base_url, prompt):
    store = Store.open(db)
    config = EngineConfig(media_dir=Path(media), **TIMINGS)
    async with AnyFastClient(api_key=os.environ["ANYFAST_API_KEY"], base_url=base_url) as client:
        async with Downloader(backoff_initial=0.01, backoff_max=0.05) as downloader:
            async with JobEngine(store, client, downloader, config) as engine:
                await engine.submit_seedance("seedance-2.0", prompt)
                await asyncio.sleep(3600)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def emu(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    return emulator_factory(api_key=KEY, token_rate=0, video_seconds=2.0)


@pytest.fixture
def fresh(emu: EmulatorServer) -> Iterator[EmulatorServer]:
    emu.clear_faults()
    emu.state.log.clear()
    yield emu
    emu.clear_faults()


def config(tmp_path: Path, **changes: Any) -> EngineConfig:
    return EngineConfig(media_dir=tmp_path / "media", **{**TIMINGS, **changes})


@pytest.fixture
async def client(fresh: EmulatorServer, fast_backoff: None) -> AsyncIterator[AnyFastClient]:
    async with AnyFastClient(api_key=KEY, base_url=fresh.base_url) as c:
        yield c


def start_worker(tmp_path: Path, emu: EmulatorServer, prompt: str) -> subprocess.Popen[bytes]:
    code = f"TIMINGS = {TIMINGS!r}\n{WORKER}"
    args = [str(tmp_path / "studio.db"), str(tmp_path / "media"), emu.base_url, prompt]
    env = {**os.environ, "ANYFAST_API_KEY": KEY}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env)


def wait_for(condition: Callable[[], Any], seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def dead_pid() -> int:
    """The pid of a process that has already exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


async def restart_and_finish(tmp_path: Path, client: AnyFastClient, job_id: int) -> Job:
    with Store.open(tmp_path / "studio.db") as store:
        async with (
            Downloader(backoff_initial=0.01) as downloader,
            JobEngine(store, client, downloader, config(tmp_path)) as engine,
        ):
            assert engine.tracked == 1  # the dead process's job was taken over at once
            async with asyncio.timeout(15):
                return await engine.wait(job_id)


def assert_one_result(job: Job, media: Path) -> None:
    assert job.state is JobState.SUCCEEDED
    names = sorted(p.name for p in media.iterdir())
    assert len(names) == 2 and names[1] == names[0] + ".json", names
    assert (media / names[0]).read_bytes() == sample_video()


def creates(emu: EmulatorServer) -> list[str | None]:
    return [r.idempotency_key for r in emu.requests if r.method == "POST"]


async def test_killed_mid_poll_then_restarted(
    tmp_path: Path, fresh: EmulatorServer, client: AnyFastClient
) -> None:
    proc = start_worker(tmp_path, fresh, "a crash [[emulator: seconds=2.5]]")
    try:
        with Store.open(tmp_path / "studio.db") as store:
            job = wait_for(lambda: next((j for j in store.list_jobs() if j.poll_count >= 2), None))
    finally:
        kill(proc)
    assert job.state in (JobState.QUEUED, JobState.RUNNING) and job.task_id
    done = await restart_and_finish(tmp_path, client, job.id)
    assert_one_result(done, tmp_path / "media")
    assert creates(fresh) == [job.idempotency_key]
    assert done.task_id == job.task_id


async def test_killed_mid_download_then_resumed_with_a_range_request(
    tmp_path: Path, fresh: EmulatorServer, client: AnyFastClient
) -> None:
    fresh.inject("drip:1", count=None, path="/files/")
    proc = start_worker(tmp_path, fresh, "a slow link [[emulator: seconds=0.3]]")
    media = tmp_path / "media"
    try:
        part = wait_for(lambda: next((p for p in media.glob("*.part") if p.stat().st_size), None))
    finally:
        kill(proc)
    fresh.clear_faults()
    kept = part.stat().st_size
    assert 0 < kept < len(sample_video())
    with Store.open(tmp_path / "studio.db") as store:
        (job,) = store.list_jobs()
    assert job.state is JobState.DOWNLOADING
    done = await restart_and_finish(tmp_path, client, job.id)
    assert_one_result(done, media)
    files = [r.status for r in fresh.requests if r.path.startswith("/files/")]
    assert files == [200, 206]
    assert creates(fresh) == [job.idempotency_key]


class RecordingClient(AnyFastClient):
    """A client that remembers which task ids it checked, and when."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checked: list[tuple[str, float]] = []

    def ids(self) -> set[str]:
        return {task_id for task_id, _ in self.checked}

    async def get_task(
        self, provider: Provider | str, task_id: str, action: str | None = None
    ) -> VideoTask:
        self.checked.append((task_id, time.monotonic()))
        return await super().get_task(provider, task_id, action)


async def test_two_engines_on_one_database_never_check_the_same_job(
    tmp_path: Path, fresh: EmulatorServer, fast_backoff: None
) -> None:
    db = tmp_path / "studio.db"
    cfg = config(tmp_path)
    async with (
        RecordingClient(api_key=KEY, base_url=fresh.base_url) as client_a,
        RecordingClient(api_key=KEY, base_url=fresh.base_url) as client_b,
        Downloader() as downloader,
    ):
        with Store.open(db) as store_a, Store.open(db) as store_b:
            engine_a = JobEngine(store_a, client_a, downloader, cfg)
            engine_b = JobEngine(store_b, client_b, downloader, cfg)
            await engine_a.start()
            await engine_b.start()
            prompt = "twins [[emulator: seconds=0.8]]"
            engines = (engine_a, engine_b, engine_a, engine_b)
            jobs = [await e.submit_kling("text2video", prompt=prompt) for e in engines[:2]]
            jobs += [await e.submit_seedance("seedance-2.0", prompt) for e in engines[2:]]
            async with asyncio.timeout(15):
                results = [await e.wait(j.id) for e, j in zip(engines, jobs, strict=True)]
            both_running = (client_a.ids(), client_b.ids())
            # An engine that stops hands its unfinished job over to the other one.
            handed = await engine_a.submit_seedance(
                "seedance-2.0", "handed [[emulator: seconds=1]]"
            )
            await asyncio.sleep(0.2)
            await engine_a.stop()
            stopped_at = time.monotonic()
            async with asyncio.timeout(15):
                results.append(await engine_b.wait(handed.id))
            await engine_b.stop()
    assert all(j.state is JobState.SUCCEEDED for j in results)
    checked_a, checked_b = both_running
    assert checked_a == {jobs[0].task_id, jobs[2].task_id}
    assert checked_b == {jobs[1].task_id, jobs[3].task_id}
    assert handed.task_id in client_a.ids() and handed.task_id in client_b.ids()
    assert max(t for i, t in client_a.checked if i == handed.task_id) < stopped_at
    assert min(t for i, t in client_b.checked if i == handed.task_id) > stopped_at
    assert len(creates(fresh)) == len(set(creates(fresh))) == 5
    assert len(list((tmp_path / "media").glob("*.mp4"))) == 5


async def test_pending_jobs_after_a_restart(
    tmp_path: Path, fresh: EmulatorServer, client: AnyFastClient
) -> None:
    gone = dead_pid()
    with Store.open(tmp_path / "studio.db") as store:
        params: dict[str, Any] = {
            "kind": JobKind.VIDEO,
            "provider": JobProvider.SEEDANCE,
            "action": "generate",
            "model": "seedance-2.0",
            "prompt": "left behind [[emulator: seconds=0.3]]",
            "params": {},
        }
        # Its process died while it may have been sending: nobody can know, so never resend.
        crashed = store.create_job(
            **params, idempotency_key="crashed", claimed_by=f"{HOST}:{gone}#1", lease_until=9e9
        )
        # Released cleanly before it was sent: safe to send, with its own key.
        released = store.create_job(**params, idempotency_key="released")
        async with (
            Downloader() as downloader,
            JobEngine(store, client, downloader, config(tmp_path)) as engine,
        ):
            async with asyncio.timeout(15):
                uncertain = await engine.wait(crashed.id)
                sent = await engine.wait(released.id)
    assert uncertain.state is JobState.SUBMISSION_UNCERTAIN
    assert "stopped while the request was being sent" in (uncertain.failure_reason or "")
    assert sent.state is JobState.SUCCEEDED
    assert creates(fresh) == ["released"]


async def test_an_engine_config_scaled_for_the_demo_runs_a_job_quickly(
    tmp_path: Path, fresh: EmulatorServer, client: AnyFastClient
) -> None:
    demo = dataclasses.replace(EngineConfig.demo(tmp_path / "media"), flush_interval=0.05)
    with Store.open(tmp_path / "studio.db") as store:
        async with Downloader() as downloader, JobEngine(store, client, downloader, demo) as engine:
            job = await engine.submit_kling("text2video", prompt="demo [[emulator: seconds=1]]")
            async with asyncio.timeout(10):
                done = await engine.wait(job.id)
    assert done.state is JobState.SUCCEEDED
