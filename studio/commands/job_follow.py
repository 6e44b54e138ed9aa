"""Following jobs to their end from the command line: ``jobs wait``, ``jobs run``, ``image`` and
``video --wait`` share it.

The engine of the command's :class:`~studio.commands.job_runtime.JobRuntime` does the work
(sends, checks, saves) on the jobs it holds; a job another process holds (a TUI window, a
``jobs run`` service) is watched through the store until it ends there. A progress line on
stderr (only on a terminal) shows where each job stands; each job's end is printed, told to
``notify_command`` when this process ended it, and shown as a terminal notification.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterable
from typing import TextIO

from studio.commands.common import CommandError, encodable, say, warn, write_stdout
from studio.commands.job_lines import (
    end_line,
    failure_hint,
    progress_text,
    saved_paths,
)
from studio.commands.job_runtime import JobRuntime
from studio.commands.models import safe_json
from studio.commands.waiting import ProgressLine
from studio.jobs import ACTIVE_STATES, Job, JobState
from studio.jobs.describe import item_errors
from studio.jobs.payload import job_payload
from studio.store import NotFoundError
from studio.textsafe import clean_line

RUN_LOOK_EVERY = 1.0
"""Seconds between ``jobs run``'s looks for jobs to take up (other processes' new jobs)."""

TROUBLE_LOOK_EVERY = 1.0
"""Seconds between looks for a followed job's failed attempts (said once each on stderr)."""


class EndedHere:
    """The engine's ``on_change``: remembers the jobs whose end this process's engine wrote."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def changed(self, job: Job) -> None:
        if job.state.is_final:
            self.ids.add(job.id)
        else:
            self.ids.discard(job.id)


class JobFollower:
    """Follows jobs on ``runtime`` to their end and tells of each end.

    ``ended_here`` is the :class:`EndedHere` given to the runtime's engine. ``json_lines``
    prints each ended job as one line of JSON instead of its files' paths; ``run_lines``
    prints ``jobs run``'s one line per ended job instead.
    """

    def __init__(
        self,
        runtime: JobRuntime,
        ended_here: EndedHere,
        *,
        json_lines: bool = False,
        run_lines: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.runtime = runtime
        self.ended_here = ended_here
        self.json_lines = json_lines
        self.run_lines = run_lines
        self._out = out
        self._watching: dict[int, Job] = {}
        self._told: dict[int, str] = {}
        """The failed attempt last said for each job (a dead gateway is said once, not per try)."""
        self.progress = ProgressLine(sys.stderr if err is None else err, self._progress_text)

    def _progress_text(self) -> str:
        now = time.time()
        jobs = [self.runtime.store.get_job(job_id) for job_id in list(self._watching)]
        shown = [progress_text(job, now) for job in jobs if job is not None]
        return "   ".join(shown) + "   (ctrl+c stops waiting)" if shown else ""

    async def wait_all(self, job_ids: Iterable[int]) -> list[Job]:
        """Follow every job to its end (reporting each as it ends); return them as they ended,
        in the order given. A job nobody (alive) holds is taken up by this engine, now or as
        soon as its holder lets it go; one another process holds is watched through the store."""
        ids = list(dict.fromkeys(job_ids))
        self.progress.start()
        keepers = [
            asyncio.create_task(self._take_up_watched()),
            asyncio.create_task(self._tell_trouble()),
        ]
        try:
            ended = await asyncio.gather(*(self._follow(job_id) for job_id in ids))
        finally:
            for keeper in keepers:
                keeper.cancel()
            self.progress.stop()
            await asyncio.gather(*keepers, return_exceptions=True)
        return list(ended)

    async def _tell_trouble(self) -> None:
        """Say on stderr (a terminal or not) when a followed job's attempt fails, once per
        reason: a dead network or a gateway answering 500 must not look like a silent hang.
        The engine keeps trying; the job is kept whatever happens here."""
        while True:
            for job_id in list(self._watching):
                job = self.runtime.store.get_job(job_id)
                error = None if job is None else job.last_error
                if error and self._told.get(job_id) != error:
                    self._told[job_id] = error
                    self.progress.clear()
                    say(
                        f"job #{job_id}: {error}; still trying (ctrl+c stops waiting, the job "
                        f"is kept: `studio jobs wait {job_id}` follows it again)"
                    )
                elif not error:
                    self._told.pop(job_id, None)
            await asyncio.sleep(TROUBLE_LOOK_EVERY)

    async def _take_up_watched(self) -> None:
        engine = self.runtime.engine
        while True:
            for job_id in list(self._watching):
                if job_id not in engine.book:
                    engine.take_up(job_id)
            await asyncio.sleep(engine.config.claim_interval)

    async def _follow(self, job_id: int) -> Job:
        current = self.runtime.store.get_job(job_id)
        if current is not None:
            self._watching[job_id] = current
        try:
            job = await self.runtime.engine.wait(job_id)
        except NotFoundError:
            raise CommandError(f"job #{job_id} was removed meanwhile") from None
        finally:
            self._watching.pop(job_id, None)
        await self.report(job)
        return job

    async def report(self, job: Job) -> None:
        """Print how ``job`` ended and tell of it (``notify_command``, terminal, bell)."""
        self.progress.clear()
        here = job.id in self.ended_here.ids
        if self.json_lines:
            self._print(safe_json(job_payload(job), indent=None))
        elif self.run_lines:
            self._print(end_line(job, elsewhere=not here, paths=True))
        else:
            self._print_result(job)
        await self.runtime.alerts.ended(job, here=here)

    def _print_result(self, job: Job) -> None:
        for path in saved_paths(job):
            self._print(clean_line(path))
        if job.state is JobState.SUCCEEDED:
            failed = item_errors(job)
            if failed:
                warn(f"{len(failed)} image(s) of job #{job.id}'s group failed: {job.message}")
            return
        say(f"{end_line(job)} ({failure_hint(job)})")

    def _print(self, line: str) -> None:
        write_stdout(encodable(line) + "\n", self._out)

    async def run(self, *, forever: bool, look_every: float = RUN_LOOK_EVERY) -> int:
        """``jobs run``: follow every unfinished job (taking up those nobody holds, new ones
        included) until none is left, or for ever; return how many ended meanwhile."""
        engine, store = self.runtime.engine, self.runtime.store
        following: dict[int, asyncio.Task[Job]] = {}
        ended = 0
        self.progress.start()
        try:
            while True:
                active = {job.id for job in store.list_jobs(ACTIVE_STATES, limit=None)}
                if active - set(following):
                    engine.resume_unfinished()  # new jobs nobody holds: take them up now
                    for job_id in sorted(active - set(following)):
                        following[job_id] = asyncio.create_task(self._follow(job_id))
                for job_id, task in list(following.items()):
                    if task.done():
                        del following[job_id]
                        try:
                            task.result()
                        except CommandError as exc:  # removed meanwhile: nothing to follow
                            say(str(exc))
                            continue
                        ended += 1
                if not forever and not following and not active:
                    return ended
                await asyncio.sleep(look_every)
        finally:
            self.progress.stop()
            for task in following.values():
                task.cancel()
            await asyncio.gather(*following.values(), return_exceptions=True)
