"""``studio jobs``: list, show, wait for, retry, cancel, check and run the image and video jobs
of the shared store (the ones the TUI shows). Textual-free; the engine runs as the TUI runs it
(:mod:`studio.commands.job_runtime`), so two processes never poll or save the same job."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from collections.abc import Sequence

from studio.commands.common import CommandError, encodable, say, settings_or_fail, write_stdout
from studio.commands.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from studio.commands.job_follow import EndedHere, JobFollower
from studio.commands.job_lines import (
    detail_block,
    end_line,
    failure_hint,
    list_line,
    progress_text,
    saved_paths,
)
from studio.commands.job_runtime import JobRuntime, job_runtime, open_store
from studio.commands.models import safe_json
from studio.config import Settings
from studio.jobs import ACTIVE_STATES, Job, JobActionError, JobState
from studio.jobs.payload import job_payload
from studio.store import Store
from studio.textsafe import clean_line

ONE_CHECK_SECONDS = 30.0
"""How long ``jobs check`` waits for the check it asked for of a job still running."""


def _states(names: Sequence[str] | None) -> set[JobState] | None:
    if not names:
        return None
    wanted: set[JobState] = set()
    for name in names:
        wanted |= set(ACTIVE_STATES) if name == "active" else {JobState(name)}
    return wanted


def _job(store: Store, job_id: int) -> Job:
    job = store.get_job(job_id)
    if job is None:
        raise CommandError(f"no job #{job_id} (`studio jobs` lists them)", EXIT_USAGE)
    return job


def _print(text: str) -> None:
    write_stdout(encodable(text) + "\n")


# -- reading -------------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    """``studio jobs [list]``: the newest jobs, one a line, or a JSON array."""
    limit = getattr(args, "limit", 50)
    if limit < 1:
        raise CommandError(f"--limit must be at least 1, got {limit}", EXIT_USAGE)
    store = open_store()
    try:
        jobs = store.list_jobs(_states(getattr(args, "state", None)), limit=limit)
    finally:
        store.close()
    if getattr(args, "json", False):
        _print(safe_json([job_payload(job) for job in jobs]))
    elif jobs:
        now = time.time()
        _print("\n".join(list_line(job, now) for job in jobs))
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    """``studio jobs show ID``: one job in full, or its JSON."""
    store = open_store()
    try:
        job = _job(store, args.job_id)
    finally:
        store.close()
    _print(safe_json(job_payload(job)) if args.json else detail_block(job, time.time()))
    return EXIT_OK


# -- following -----------------------------------------------------------------------------------


def run_wait(args: argparse.Namespace) -> int:
    """``studio jobs wait ID...``: follow the jobs to their end, print their files' paths."""
    settings = settings_or_fail(demo=args.demo)
    store = open_store()
    try:
        ids = [_job(store, job_id).id for job_id in dict.fromkeys(args.job_ids)]
    finally:
        store.close()
    try:
        return asyncio.run(_wait(settings, ids, args))
    except KeyboardInterrupt:
        numbers = " ".join(str(i) for i in ids)
        say(
            "stopped waiting; the jobs go on (a TUI or `studio jobs run` takes them up): "
            f"follow them again with `studio jobs wait {numbers}`"
        )
        return EXIT_INTERRUPTED


async def _wait(settings: Settings, ids: list[int], args: argparse.Namespace) -> int:
    ended = EndedHere()
    async with job_runtime(
        settings, demo=args.demo, take_up=False, on_change=ended.changed
    ) as runtime:
        follower = JobFollower(runtime, ended, json_lines=args.json)
        jobs = await follower.wait_all(ids)
    return EXIT_OK if all(job.state is JobState.SUCCEEDED for job in jobs) else EXIT_FAILED


def run_run(args: argparse.Namespace) -> int:
    """``studio jobs run [--forever]``: follow every unfinished job to its end, no TUI."""
    settings = settings_or_fail(demo=args.demo)
    try:
        return asyncio.run(_run(settings, args))
    except KeyboardInterrupt:
        say("stopped; unfinished jobs are taken up by the next `studio jobs run` or TUI")
        return EXIT_INTERRUPTED


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    ended = EndedHere()
    async with job_runtime(
        settings, demo=args.demo, take_up=True, on_change=ended.changed
    ) as runtime:
        follower = JobFollower(runtime, ended, run_lines=True)
        running = asyncio.create_task(follower.run(forever=args.forever))
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals here
            loop.add_signal_handler(signal.SIGTERM, stopping.set)
        stop = asyncio.create_task(stopping.wait())
        try:
            await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGTERM)
            for task in (running, stop):
                task.cancel()
            await asyncio.gather(running, stop, return_exceptions=True)
        if not running.cancelled() and running.exception() is not None:
            raise running.exception()  # type: ignore[misc]
        if stopping.is_set():
            say("stopped (SIGTERM); unfinished jobs are taken up by the next run or TUI")
    return EXIT_OK


# -- actions on one job --------------------------------------------------------------------------


def _act(args: argparse.Namespace, action: str) -> int:
    settings = settings_or_fail(demo=args.demo)
    try:
        return asyncio.run(_acting(settings, args, action))
    except KeyboardInterrupt:
        say(f"interrupted; see where job #{args.job_id} stands with `studio jobs show`")
        return EXIT_INTERRUPTED


async def _acting(settings: Settings, args: argparse.Namespace, action: str) -> int:
    ended = EndedHere()
    async with job_runtime(
        settings, demo=args.demo, take_up=False, on_change=ended.changed
    ) as runtime:
        before = _job(runtime.store, args.job_id)
        try:
            if action == "retry":
                return await _retry(runtime, ended, before, args)
            if action == "cancel":
                job = await runtime.engine.cancel(before.id)
                say(f"job #{job.id} cancelled: {job.message}")
                _print(safe_json(job_payload(job), indent=None) if args.json else str(job.id))
                return EXIT_OK
            return await _check(runtime, ended, before, args)
        except JobActionError as exc:
            raise CommandError(str(exc), EXIT_FAILED) from None


def run_retry(args: argparse.Namespace) -> int:
    """``studio jobs retry ID``: the job's request again, as a new job; prints its id."""
    return _act(args, action="retry")


def run_cancel(args: argparse.Namespace) -> int:
    """``studio jobs cancel ID``: stop tracking the job (the gateway has no cancel)."""
    return _act(args, action="cancel")


def run_check(args: argparse.Namespace) -> int:
    """``studio jobs check ID``: ask the gateway about the job again and say what it said."""
    return _act(args, action="check")


async def _retry(
    runtime: JobRuntime, ended: EndedHere, before: Job, args: argparse.Namespace
) -> int:
    job = await runtime.engine.retry(before.id)
    if job.state.is_final:
        await JobFollower(runtime, ended, json_lines=args.json).report(job)
        return EXIT_FAILED
    say(f"job #{before.id} sent again as job #{job.id} (a new, separately billed request)")
    _print(safe_json(job_payload(job), indent=None) if args.json else str(job.id))
    return EXIT_OK


async def _check(
    runtime: JobRuntime, ended: EndedHere, before: Job, args: argparse.Namespace
) -> int:
    engine, store = runtime.engine, runtime.store
    if before.state.is_active:
        engine.take_up(before.id)  # unless another process holds it (it then says so)
    job = await engine.recheck(before.id)
    if job.state is JobState.DOWNLOADING or job.state is JobState.PENDING:
        (job,) = await JobFollower(runtime, ended, json_lines=args.json).wait_all([job.id])
        return EXIT_OK if job.state is JobState.SUCCEEDED else EXIT_FAILED
    if job.state.is_active and before.state.is_active:  # a check was only scheduled: see it
        job = await _one_check(store, job)
    if args.json:
        _print(safe_json(job_payload(job), indent=None))
    elif job.state.is_active:
        _print(progress_text(job, time.time()))
        say(f"job #{job.id} is still running: follow it with `studio jobs wait {job.id}`")
    else:
        _print(clean_line(end_line(job)))
        for path in saved_paths(job):
            _print(clean_line(path))
        if job.state is not JobState.SUCCEEDED:
            say(failure_hint(job))
    return EXIT_OK


async def _one_check(store: Store, job: Job) -> Job:
    """The job once the check asked for has been made (its row changed), or as it stands
    after :data:`ONE_CHECK_SECONDS`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ONE_CHECK_SECONDS
    while loop.time() < deadline:
        await asyncio.sleep(0.1)
        now = store.get_job(job.id)
        if now is None:
            break
        if now.state is not job.state or now.updated_at != job.updated_at:
            return now
    return store.get_job(job.id) or job
