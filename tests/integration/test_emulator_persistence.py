"""The demo gateway keeps its tasks and files in a folder: a job started against one emulator
process is finished against the next, as with the real gateway after a restart of Studio."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx

from studio.api import AnyFastClient
from studio.api.download import Downloader
from studio.emulator import EmulatorConfig, EmulatorServer
from studio.emulator.store import KEEP_SECONDS
from studio.emulator.tasks import sample_video
from studio.gateway import DEMO_GATEWAY_FOLDER, demo_emulator_config
from studio.jobs import EngineConfig, JobState
from studio.jobs.engine import JobEngine
from studio.paths import data_dir
from studio.store import Store

KEY = "sk-test-persist-0123456789"
TIMINGS = {
    "first_checks": (0.05, 0.1),
    "seedance_interval": 0.1,
    "kling_interval": 0.1,
    "error_backoff_max": 0.2,
    "submit_backoff": 0.1,
    "flush_interval": 0.05,
}


def kept(tmp_path: Path, **fields: object) -> EmulatorServer:
    config = EmulatorConfig(api_key=KEY, token_rate=0, data_dir=str(tmp_path / "gw"), **fields)
    return EmulatorServer(config)


def create_task(emu: EmulatorServer, seconds: float) -> str:
    body = {
        "model": "seedance-2.0",
        "content": [{"type": "text", "text": f"a fox [[emulator: seconds={seconds}]]"}],
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    reply = httpx.post(f"{emu.base_url}/v1/video/generations", json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


def query(emu: EmulatorServer, task_id: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}"}
    return httpx.get(f"{emu.base_url}/v1/video/generations/{task_id}", headers=headers)


def test_a_task_outlives_its_emulator_process(tmp_path: Path) -> None:
    with kept(tmp_path) as first:
        task_id = create_task(first, seconds=0.2)
    with kept(tmp_path) as second:
        deadline = time.monotonic() + 10
        while (answer := query(second, task_id).json()["data"])["status"] != "SUCCESS":
            assert time.monotonic() < deadline, answer
            time.sleep(0.05)
        assert answer["result_url"].startswith(second.base_url)
        assert httpx.get(answer["result_url"]).content == sample_video()


def test_two_emulators_on_one_folder_know_each_others_tasks(tmp_path: Path) -> None:
    with kept(tmp_path) as one, kept(tmp_path) as other:
        task_id = create_task(one, seconds=30)
        assert query(other, task_id).status_code == 200
        assert query(other, "task_unknown").status_code == 400


def test_without_a_folder_nothing_is_kept(tmp_path: Path) -> None:
    config = EmulatorConfig(api_key=KEY, token_rate=0)
    with EmulatorServer(config) as first:
        task_id = create_task(first, seconds=30)
    with EmulatorServer(config) as second:
        assert query(second, task_id).status_code == 400
    assert not (tmp_path / "gw").exists()


def test_entries_older_than_a_day_are_pruned(tmp_path: Path) -> None:
    with kept(tmp_path) as first:
        task_id = create_task(first, seconds=30)
    (path,) = (tmp_path / "gw" / "tasks").glob("*.json")
    old = time.time() - KEEP_SECONDS - 60
    os.utime(path, (old, old))
    with kept(tmp_path) as second:
        assert query(second, task_id).status_code == 400
    assert not path.exists()


def test_the_demo_gateway_lives_in_the_data_dir() -> None:
    config = demo_emulator_config()
    assert config.data_dir == str(data_dir() / DEMO_GATEWAY_FOLDER)


async def test_a_job_started_before_a_restart_finishes_after_it(tmp_path: Path) -> None:
    db, media = tmp_path / "studio.db", tmp_path / "media"
    cfg = EngineConfig(media_dir=media, **TIMINGS)  # type: ignore[arg-type]
    with kept(tmp_path) as first, Store.open(db) as store:
        async with (
            AnyFastClient(api_key=KEY, base_url=first.base_url) as client,
            Downloader() as downloader,
            JobEngine(store, client, downloader, cfg) as engine,
        ):
            job = await engine.submit_seedance("seedance-2.0", "a fox [[emulator: seconds=1]]")
            for _ in range(500):  # until the task id is recorded (10 s at most)
                current = store.get_job(job.id)
                if current is not None and current.task_id:
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the task was never created")
    # The first emulator (Studio's demo gateway) is gone; a new one starts on another port.
    with kept(tmp_path) as second, Store.open(db) as store:
        async with (
            AnyFastClient(api_key=KEY, base_url=second.base_url) as client,
            Downloader() as downloader,
            JobEngine(store, client, downloader, cfg) as engine,
        ):
            async with asyncio.timeout(15):
                done = await engine.wait(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    assert [p.read_bytes() for p in media.iterdir() if p.suffix == ".mp4"] == [sample_video()]
