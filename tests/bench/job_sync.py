"""What one window's sync tick costs: ``JobWatcher.poll()`` against a store another connection
writes to, as two Studio windows on one data folder.

A database of ``--jobs`` (500) jobs is written through connection A (each with a realistic
prompt, parameters, a last response and a history), then connection B's watcher takes its
first look. Then, each case ``--rounds`` times, timed with ``perf_counter`` around B's
``poll()`` only:

- **nothing changed** — no commit since the last poll: one ``PRAGMA data_version``;
- **unrelated commit** — A committed something that is not a job (a chat reply being saved
  elsewhere does this twice a second): the ``id, updated_at, state`` scan of the watched window,
  no job loaded;
- **one job changed** — A changed one job's progress: the scan plus that one row loaded;
- **first look** — a fresh watcher reading every job in the window (what a window does once at
  start).

Then the same "nothing changed" and "one job changed" through the app's whole sync step,
``JobsController.sync()`` (poll + merge into ``.jobs``; a stand-in app with only a store), which
is what the 4 Hz redraw tick adds; redrawing the sidebar, when a job did change, is as before.

Prints p50 / p95 / max in microseconds per case. Runnable by hand, not part of the test run:

    python tests/bench/job_sync.py [--jobs 500] [--rounds 2000]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from studio.jobs import JobKind, JobProvider, JobState
from studio.store import Store
from studio.store.watch import JobWatcher
from studio.tui.jobs import JobsController


class StandIn:
    """The little of ``StudioApp`` that ``JobsController.sync`` touches."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def notify(self, *args: object, **kwargs: object) -> None:
        pass


def fill(store: Store, count: int) -> list[int]:
    ids = []
    for n in range(count):
        job = store.create_job(
            kind=JobKind.VIDEO,
            provider=JobProvider.SEEDANCE,
            action="generate",
            model="seedance-2.0",
            prompt=f"a paper boat drifting past a lighthouse at dusk, take {n} " * 3,
            params={"resolution": "1080p", "ratio": "16:9", "duration": 5, "seed": n},
            idempotency_key=f"bench-{n}",
        )
        store.update_job(
            job.id,
            state=JobState.RUNNING,
            task_id=f"cgt-{n:08d}",
            progress=n % 100,
            last_response={"id": f"cgt-{n:08d}", "status": "running", "model": "seedance-2.0"},
        )
        ids.append(job.id)
    return ids


def timed(rounds: int, before: Callable[[], None], poll: Callable[[], object]) -> list[float]:
    spans = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        poll()
        spans.append((time.perf_counter() - start) * 1e6)
    return spans


def report(name: str, spans: list[float]) -> None:
    spans.sort()
    p95 = spans[min(len(spans) - 1, int(len(spans) * 0.95))]
    print(
        f"{name:<20} p50 {statistics.median(spans):8.1f} µs   p95 {p95:8.1f} µs"
        f"   max {spans[-1]:8.1f} µs   ({len(spans)} rounds)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "studio.db"
        with Store.open(path) as a, Store.open(path) as b:
            ids = fill(a, args.jobs)
            watcher = JobWatcher(b)
            first = watcher.poll()
            assert first is not None and len(first.changed) == min(args.jobs, watcher.window)
            print(
                f"{args.jobs} jobs, watched window {watcher.window}, SQLite {sqlite3.sqlite_version}"
            )

            def nothing() -> None:
                pass

            report("nothing changed", timed(args.rounds, nothing, watcher.poll))

            def unrelated() -> None:
                a.set_state("bench", time.time())

            report("unrelated commit", timed(args.rounds // 4, unrelated, watcher.poll))

            progress = iter(range(10**9))
            target = ids[len(ids) // 2]

            def one_job() -> None:
                a.update_job(target, progress=next(progress) % 100)

            spans = timed(args.rounds // 4, one_job, watcher.poll)
            report("one job changed", spans)

            def fresh() -> object:
                return JobWatcher(b).poll()

            report("first look", timed(max(5, args.rounds // 100), nothing, fresh))

            controller = JobsController(StandIn(b))  # type: ignore[arg-type]
            controller.sync()
            report("tick, no change", timed(args.rounds, nothing, controller.sync))
            report("tick, one job", timed(args.rounds // 4, one_job, controller.sync))
            assert controller.jobs[target] == a.get_job(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
