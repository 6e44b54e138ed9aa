"""One loop, one priority queue: hands each job to a worker when its next check is due.

Hundreds of jobs cost one sleeping task (the loop, waiting for the earliest due time) plus a
fixed pool of workers, instead of a sleeping task per job. A job is never run by two workers at
once; scheduling it while it runs takes effect when the run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("studio.jobs")


class Scheduler:
    """Runs ``run(job_id)`` on one of ``workers`` workers at each job's due time (``clock``
    seconds, the engine's wall clock)."""

    def __init__(
        self, clock: Callable[[], float], run: Callable[[int], Awaitable[None]], workers: int
    ) -> None:
        self._clock = clock
        self._run = run
        self._workers = max(1, workers)
        self._heap: list[tuple[float, int, int]] = []
        self._due: dict[int, float] = {}
        self._later: dict[int, float] = {}
        self._active: set[int] = set()
        self._counter = itertools.count()
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._due) + len(self._later) + len(self._active)

    def due_at(self, job_id: int) -> float | None:
        """When ``job_id`` runs next, if it is scheduled."""
        return self._due.get(job_id, self._later.get(job_id))

    def schedule(self, job_id: int, at: float) -> None:
        """Run ``job_id`` at ``at`` (replacing any earlier schedule of it)."""
        if job_id in self._active:
            self._later[job_id] = at
            return
        self._due[job_id] = at
        heapq.heappush(self._heap, (at, next(self._counter), job_id))
        if self._heap[0][2] == job_id:
            self._wake.set()

    def cancel(self, job_id: int) -> None:
        """Forget any schedule of ``job_id`` (a run in progress is not interrupted)."""
        self._due.pop(job_id, None)
        self._later.pop(job_id, None)

    async def run_forever(self) -> None:
        """Dispatch due jobs until cancelled."""
        workers = [asyncio.create_task(self._work()) for _ in range(self._workers)]
        try:
            while True:
                self._dispatch_due()
                self._wake.clear()
                delay = self._heap[0][0] - self._clock() if self._heap else None
                if delay is not None and delay <= 0:
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            # Dispatched but never run: forget them, so a later run starts clean.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._active.clear()
            self._later.clear()

    def _dispatch_due(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            at, _, job_id = heapq.heappop(self._heap)
            if self._due.get(job_id) != at:
                continue  # replaced or cancelled since
            del self._due[job_id]
            self._active.add(job_id)
            self._queue.put_nowait(job_id)

    async def _work(self) -> None:
        while True:
            job_id = await self._queue.get()
            try:
                await self._run(job_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("checking job %d failed", job_id)
            finally:
                self._active.discard(job_id)
                later = self._later.pop(job_id, None)
                if later is not None:
                    self.schedule(job_id, later)
