"""A running TUI and headless job commands on one store and one emulator at once: each sees the
other's jobs, and a job is sent, checked and saved by one process only (the engine's claims).

The TUI runs here under Pilot; the commands are real ``studio`` processes on the same data
folder (``STUDIO_HOME`` of the test) talking to the same emulator, whose request log shows who
asked for what.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from studio.config import Settings
from studio.emulator import EmulatorServer
from studio.jobs import EngineConfig, Job, JobProvider, JobState
from studio.jobs.requests import MediaRequest
from studio.store import Store
from studio.tui.app import StudioApp

from .conftest import SIZE, wait_for
from .test_conversation_sync import studio_command

QUICK = "[[emulator: seconds=1]]"


def kling(prompt: str) -> MediaRequest:
    model = "kling-v2-master"
    params = {"model_name": model, "duration": "5", "mode": "std"}
    return MediaRequest(JobProvider.KLING, model, prompt, "text2video", params)


def ended(app: StudioApp, ids: list[int]) -> bool:
    """Whether the TUI shows every one of ``ids`` as done."""
    jobs = app.jobs.jobs
    return all(i in jobs and jobs[i].state is JobState.SUCCEEDED for i in ids)


async def test_a_command_and_the_tui_follow_one_queue_and_never_double_work(
    media_app: Callable[[], StudioApp], emu: EmulatorServer
) -> None:
    env = {"ANYFAST_API_KEY": emu.api_key, "ANYFAST_BASE_URL": emu.base_url}
    app = media_app()
    async with app.run_test(size=SIZE):
        await app.jobs.ensure_started()
        runner = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "studio",
            "jobs",
            "run",
            "--forever",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **env},
        )
        try:
            made_by_commands = []
            for n in range(3):
                code, out, err = await studio_command(emu, "video", "kling-t2v", f"cli {n} {QUICK}")
                assert code == 0, err
                made_by_commands.append(int(out))
            made_in_tui = [(await app.jobs.submit(kling(f"tui {n} {QUICK}"))).id for n in range(3)]
            everything = made_by_commands + made_in_tui
            # The TUI shows the commands' jobs too, from their start to their end.
            await wait_for(lambda: set(made_by_commands) <= set(app.jobs.jobs), limit=10)
            await wait_for(lambda: ended(app, everything), limit=60)
        finally:
            runner.send_signal(signal.SIGTERM)
            out_bytes, err_bytes = await asyncio.wait_for(runner.communicate(), 30)
    assert runner.returncode == 0, err_bytes.decode()

    with Store.open() as store:
        jobs: list[Job] = [j for j in (store.get_job(i) for i in everything) if j is not None]
    assert [j.state for j in jobs] == [JobState.SUCCEEDED] * 6
    log = emu.requests
    for job in jobs:
        # Sent once (one create under its idempotency key), saved once (one GET of its file).
        assert sum(r.idempotency_key == job.idempotency_key for r in log) == 1
        file_path = urlsplit(str(job.files[0].url)).path
        assert sum(r.method == "GET" and r.path == file_path for r in log) == 1

    # The jobs `jobs run` ended are its own; the others it saw end in the TUI.
    lines = out_bytes.decode().splitlines()
    mine = {int(line.split()[1][1:]) for line in lines if "another process" not in line}
    seen = {int(line.split()[1][1:]) for line in lines}
    assert mine <= set(made_by_commands)  # the TUI's jobs were held by the TUI all along
    assert seen <= set(everything)


async def test_a_demo_tui_takes_up_a_job_a_command_made_on_the_persistent_demo_gateway(
    tmp_path: Path, emu: EmulatorServer
) -> None:
    fast = EngineConfig.demo(tmp_path / "media", claim_interval=0.5, flush_interval=0.1)
    app = StudioApp(Settings(), demo=True, jobs_config=fast)
    async with app.run_test(size=SIZE):
        await app.jobs.ensure_started()  # its emulator starts now: it never saw the task below
        code, out, err = await studio_command(
            emu, "video", "seedance", "--demo", f"from a shell {QUICK}"
        )
        assert code == 0, err
        job_id = int(out)
        await wait_for(lambda: ended(app, [job_id]), limit=30)
    with Store.open() as store:
        job = store.get_job(job_id)
    assert job is not None and job.files[0].done


async def test_jobs_wait_follows_a_job_the_tui_holds_through_the_store(
    media_app: Callable[[], StudioApp], emu: EmulatorServer
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE):
        job = await app.jobs.submit(kling(f"held by the TUI {QUICK}"))
        code, out, err = await studio_command(emu, "jobs", "wait", str(job.id))
        assert code == 0, err
        await wait_for(lambda: ended(app, [job.id]), limit=10)
    with Store.open() as store:
        done = store.get_job(job.id)
    assert done is not None
    assert out.splitlines() == [done.files[0].path]  # the file the TUI saved
    file_path = urlsplit(str(done.files[0].url)).path
    assert sum(r.method == "GET" and r.path == file_path for r in emu.requests) == 1
