"""Request rate, engine CPU and key latency with 500 video jobs tracked at once.

500 video jobs (by default 4 in 5 Seedance, 1 in 5 Kling text2video, interleaved) are submitted
against ``studio emulator`` (a separate process, so ``time.process_time()`` here counts only
Studio) with a scaled cadence: Seedance every 5 s, Kling every 7/3 s (the engine's defaults, 15 s
and 7 s, divided by 3), the quick first checks (2/4/8 s, each capped at the cadence) and ±20 %
jitter. The emulator's video timeline (``--video-seconds``, 150) is long enough that every job
stays queued or running to the end of each window; the run checks that it did. Two phases, each
with its own 500 jobs and database:

1. **engine alone** — ``JobEngine`` without Textual (``on_change`` only counts). Once every job
   has had its first checks (the book's ``poll_count`` reached ``len(first_checks)``), a window
   of ``--window`` seconds (60) is measured. Then, for comparison, bare ``httpx`` asks about the
   same tasks at the same rate and concurrency for ``--floor-seconds`` (15).
2. **in the app** — the real ``StudioApp`` headless at 160x48 (``run_test``) with
   ``jobs_config=`` the same ``EngineConfig``; its ``JobsController`` runs the engine. 500 jobs
   are submitted through ``app.jobs.submit(MediaRequest(...))``, the job sidebar is opened
   (ctrl+g; the run checks it shows, its list focused). Once the first checks are done a window
   of ``--app-window`` seconds (40) starts; during its first ``--key-seconds`` (20) a thread
   posts a key every 100 ms through the driver, like a terminal's input thread (``Key`` event,
   ``set_sender(app)``, ``driver.send_message``, stamped with ``perf_counter`` just before).

What is measured:

- **requests per job per minute**, from the emulator's own request log
  (``GET /_emulator/requests``: a job's requests are its create, found by its idempotency key,
  and every query of its task id). The client runs with ``max_retries=0``, so every request the
  engine makes is one the gateway sees. The window starts after every job's first checks, so
  *steady* figures exclude them (the log is read ``tail`` seconds after the window, for the
  check that follows each one in it):

  - *by gaps* (judged): for every query in the window, the time to the same job's next query;
    60 / the mean of those gaps, over all jobs of a provider, ± its standard error. It does not
    depend on where the window's edges fall among the checks (all jobs start within a second or
    two, so their checks stay loosely in step), and taking the gap *after* each query keeps long
    gaps from being under-sampled. The rate-jittered cadence averages about 1.4 % under the
    limit; the default run's standard error is about 0.2 %, but much smaller runs (a few jobs,
    a few seconds) can land above the limit by chance;
  - *in window*: queries inside the window per job, over the window: mean, per-job p95 and max
    (a window holds a whole number of jittered checks, so single jobs scatter around the mean);
  - *min gap* (judged): the shortest of those gaps, against the shortest the jitter allows
    (cadence / 1.2);
  - *whole run* (reported): every request of a job (create, first checks, steady checks) from its
    create to the end of the window, over that span — above the cadence by design, as the first
    checks add about three requests in a job's first minute.
- **engine CPU**: ``process_time()`` of this process over the window (phase 1: the engine only;
  phase 2: app + engine), as % of one core and µs per query; beside it the bare-httpx floor, the
  emulator's CPU (``/proc/PID/stat``) and everything else the machine did meanwhile
  (``/proc/stat``: other processes, so a busy shared machine shows, and interrupts). Also the
  scheduler's lateness: from a job's due time (``next_poll_at``) to when a worker starts it.
- **key latency** (phase 2): from injection to *handled*: the action bound to the key returned
  (``OptionList.action_cursor_down`` of the sidebar's list for ``down``,
  ``JobSidebar.action_cycle_filter`` for ``f``; the bench wraps both, matches calls to keys in
  order, and checks every key arrived); *frame*: to the first frame the screen composed after
  that (``App._display`` was called; headless, Textual only skips writing it out). p50/p95/max.
  Also the time of each sidebar redraw (``JobSidebar.show``, called by the controller's 4 Hz
  redraw timer when jobs changed — about once a second, after each bookkeeping flush). With
  ``--keys down,f`` keys alternate; some filters show no jobs, where ``down`` changes nothing.

Targets (issue: job scale): steady requests per job per minute at or under the configured
cadence (60 / interval, per provider; and no two steady checks of a job closer than the jitter
allows), in both phases; key handled within 100 ms at p95 with the sidebar open. CPU, lateness,
whole-run and in-window rates and frame latency are reported, not judged. ``--profile`` runs
cProfile over one window (which inflates its CPU and latencies) and prints the top functions.

Run:  python tests/bench/job_scale.py [--jobs 500] [--window 60] [--app-window 40]
          [--key-seconds 20] [--keys down|f|down,f] [--seedance-interval 5]
          [--kling-interval 2.333] [--kling-share 0.2] [--video-seconds 150]
          [--floor-seconds 15] [--profile engine|app]
(About 2 min 45 s on 2 cores with the defaults.)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import io
import itertools
import math
import os
import pstats
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_emulator import KEY, spawn_emulator, stop_emulator
from textual import events
from textual.app import App
from textual.widgets import OptionList

from studio.api import AnyFastClient
from studio.api.download import Downloader
from studio.config import Settings
from studio.jobs import EngineConfig, Job, JobProvider, JobState
from studio.jobs.engine import JobEngine
from studio.jobs.requests import MediaRequest
from studio.store import Store
from studio.tui.app import StudioApp
from studio.tui.compat import driver_of, watch_frames
from studio.tui.widgets.job_sidebar import JobSidebar

SIZE = (160, 48)
KEY_TARGET_MS = 100.0
GAP_TOLERANCE = 0.001
"""Seconds of slack on the min-gap check (both timestamps come from the same system clock)."""
IN_FLIGHT = frozenset({JobState.QUEUED, JobState.RUNNING})
SEEDANCE_MODEL = "seedance-2.0"
KLING_MODEL = "kling-v1"


@dataclass(frozen=True)
class Plan:
    """The run's knobs (from the command line)."""

    jobs: int
    window: float
    app_window: float
    key_seconds: float
    floor_seconds: float
    key_interval: float
    keys: tuple[str, ...]
    seedance_interval: float
    kling_interval: float
    kling_share: float
    jitter: float
    first_checks: tuple[float, ...]
    video_seconds: float
    speed: float
    profile: str | None

    @property
    def tail(self) -> float:
        """How long after a window the log must run on to hold the check that follows each
        check in it (the longest jittered cadence, plus slack)."""
        longest = max(self.seedance_interval, self.kling_interval)
        return longest / (1.0 - min(max(self.jitter, 0.0), 0.9)) + 1.0

    def config(self, media_dir: Path) -> EngineConfig:
        return EngineConfig(
            media_dir=media_dir,
            first_checks=self.first_checks,
            seedance_interval=self.seedance_interval,
            kling_interval=self.kling_interval,
            jitter=self.jitter,
            deadline=3600.0,
        )

    def is_kling(self, index: int) -> bool:
        """Every ``1 / kling_share``-th job is a Kling job (spread evenly, not in a block)."""
        return int((index + 1) * self.kling_share) > int(index * self.kling_share)

    def request(self, index: int) -> MediaRequest:
        """The ``index``-th job, as the video form would send it."""
        prompt = f"job {index}: a lighthouse in a storm, slow dolly-in"
        if self.is_kling(index):
            kling = {
                "model_name": KLING_MODEL,
                "mode": "std",
                "duration": "5",
                "aspect_ratio": "16:9",
            }
            return MediaRequest(
                JobProvider.KLING, KLING_MODEL, prompt, action="text2video", params=kling
            )
        seedance = {"ratio": "16:9", "resolution": "720p", "duration": 5, "generate_audio": False}
        return MediaRequest(JobProvider.SEEDANCE, SEEDANCE_MODEL, prompt, params=seedance)


# -- the emulator --------------------------------------------------------------------------------


class Emulator:
    """``studio emulator`` in a subprocess; its stderr is drained (last lines kept)."""

    def __init__(self, plan: Plan, env: dict[str, str]) -> None:
        self.tail: collections.deque[str] = collections.deque(maxlen=20)
        self.proc, self.url = spawn_emulator(
            "--video-seconds",
            str(plan.video_seconds),
            "--speed",
            str(plan.speed),
            env=env,
            tail=self.tail,
        )
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        try:
            for line in self.proc.stderr:
                self.tail.append(line)
        except ValueError:  # closed by stop()
            pass

    def cpu(self) -> float:
        """The emulator's CPU seconds so far (user + system), NaN where ``/proc`` is missing."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def requests(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as http:
            response = await http.get("/_emulator/requests")
            response.raise_for_status()
            records: list[dict[str, Any]] = response.json()["requests"]
            return records

    def stop(self) -> None:
        stop_emulator(self.proc)


# -- instrumentation -----------------------------------------------------------------------------


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy so far (``/proc/stat``), NaN without it."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Lateness:
    """Wraps the engine's scheduler: how late each check starts after its job's due time."""

    def __init__(self, engine: JobEngine) -> None:
        self.samples: list[float] = []
        self.recording = False
        scheduler = engine.scheduler
        run = scheduler._run
        book = engine.book
        clock = engine.clock

        async def timed(job_id: int) -> None:
            job = book.get(job_id)
            due = job.next_poll_at if job is not None and job.state in IN_FLIGHT else None
            if self.recording and due is not None:
                self.samples.append(clock() - due)
            await run(job_id)

        scheduler._run = timed


@dataclass
class KeyProbe:
    """Injected keys waiting to be handled (in order), handled latencies, frame latencies."""

    pending: dict[str, collections.deque[float]] = field(default_factory=dict)
    handled: list[tuple[str, float, float]] = field(default_factory=list)
    """(key, injected, handled) perf_counter stamps."""
    awaiting_frame: list[tuple[str, float]] = field(default_factory=list)
    frames: list[tuple[str, float]] = field(default_factory=list)
    """(key, seconds from injection to the first frame composed after it was handled)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    shows: list[float] = field(default_factory=list)
    """Seconds spent in each ``JobSidebar.show`` while measuring."""
    recording: bool = False
    target: OptionList | None = None

    def injected(self, key: str) -> None:
        with self.lock:
            self.pending.setdefault(key, collections.deque()).append(time.perf_counter())

    def on_handled(self, key: str) -> None:
        now = time.perf_counter()
        with self.lock:
            queue = self.pending.get(key)
            sent = queue.popleft() if queue else None
        if sent is not None:
            self.handled.append((key, sent, now))
            self.awaiting_frame.append((key, sent))

    def on_frame(self) -> None:
        if self.awaiting_frame:
            now = time.perf_counter()
            self.frames.extend((key, now - sent) for key, sent in self.awaiting_frame)
            self.awaiting_frame.clear()

    def outstanding(self) -> int:
        with self.lock:
            return sum(len(q) for q in self.pending.values())


PROBE = KeyProbe()


def install_hooks(app: App[Any]) -> None:
    """Wrap the two key actions, the sidebar's redraw and the app's frame output (bench only)."""
    cursor_down = OptionList.action_cursor_down

    def action_cursor_down(self: OptionList) -> None:
        cursor_down(self)
        if self is PROBE.target:
            PROBE.on_handled("down")

    cycle = JobSidebar.action_cycle_filter

    def action_cycle_filter(self: JobSidebar) -> None:
        cycle(self)
        PROBE.on_handled("f")

    show = JobSidebar.show

    def timed_show(self: JobSidebar, jobs: Any) -> None:
        t0 = time.perf_counter()
        show(self, jobs)
        if PROBE.recording:
            PROBE.shows.append(time.perf_counter() - t0)

    OptionList.action_cursor_down = action_cursor_down  # type: ignore[method-assign]
    JobSidebar.action_cycle_filter = action_cycle_filter  # type: ignore[method-assign]
    JobSidebar.show = timed_show  # type: ignore[method-assign]

    watch_frames(app, lambda _screen, _drawn: PROBE.on_frame())


class KeyInjector(threading.Thread):
    """Posts a key every ``interval`` s through the app's driver, like a terminal's input
    thread; keys are taken from ``keys`` in turn."""

    def __init__(self, app: App[Any], keys: Sequence[str], interval: float) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.keys = list(keys)
        self.interval = interval
        self.sent: collections.Counter[str] = collections.Counter()
        self._stop_event = threading.Event()

    def run(self) -> None:
        driver = driver_of(self.app)
        assert driver is not None
        n = 0
        while not self._stop_event.wait(self.interval):
            key = self.keys[n % len(self.keys)]
            n += 1
            event = events.Key(key, key if len(key) == 1 else None)
            event.set_sender(self.app)
            PROBE.injected(key)
            self.sent[key] += 1
            driver.send_message(event)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# -- analysis ------------------------------------------------------------------------------------


@dataclass
class ProviderRate:
    """Requests per job per minute for one provider's jobs."""

    provider: str
    jobs: int
    cadence: float
    jitter: float
    steady: list[float]
    """Per job: queries inside the window, per minute."""
    gaps: list[float]
    """For every query inside the window: the time to the job's next query (which may fall
    after the window; the log is read a little later for that)."""
    whole: list[float]
    """Per job: every request from its create to the window's end, per minute."""
    unfollowed: int
    """Queries in the window with no later query of their job in the log."""

    @property
    def limit(self) -> float:
        return 60.0 / self.cadence

    @property
    def gap_floor(self) -> float:
        return self.cadence / (1.0 + min(max(self.jitter, 0.0), 0.9))

    @property
    def steady_mean(self) -> float:
        return statistics.fmean(self.steady) if self.steady else float("nan")

    @property
    def gap_rate(self) -> float:
        """60 / the mean steady gap: the steady rate per job, free of where the window's edges
        fall among the checks (the gap *after* each query in the window is taken, so short gaps
        are not favoured, as they would be by gaps that must fit inside the window)."""
        return 60.0 * len(self.gaps) / sum(self.gaps) if self.gaps else float("nan")

    @property
    def gap_rate_error(self) -> float:
        """The standard error of :attr:`gap_rate` (the jitter makes every gap a random draw)."""
        if len(self.gaps) < 2:
            return float("nan")
        mean = statistics.fmean(self.gaps)
        return 60.0 * statistics.stdev(self.gaps) / math.sqrt(len(self.gaps)) / mean**2

    @property
    def min_gap(self) -> float:
        return min(self.gaps) if self.gaps else float("nan")

    @property
    def ok(self) -> bool:
        if not self.gaps:
            return False
        return self.gap_rate <= self.limit and self.min_gap >= self.gap_floor - GAP_TOLERANCE


@dataclass
class Phase:
    """The figures of one phase."""

    name: str
    submit_seconds: float
    settle_seconds: float
    window: float
    rates: list[ProviderRate]
    polls: int
    non_ok: int
    in_flight: int
    jobs: int
    cpu: float
    emulator_cpu: float
    machine_cpu: float
    """Busy CPU seconds of the whole machine (every process, interrupts)."""
    changes: int
    lateness: list[float]
    floor: tuple[float, int] = (float("nan"), 0)
    """Bare httpx at the same rate: CPU µs per request, requests."""
    cpu_label: str = "engine"
    profile: str = ""

    @property
    def ok(self) -> bool:
        return self.in_flight == self.jobs and all(r.ok for r in self.rates)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))
    return ordered[int(rank) - 1]


def analyse(
    jobs: Sequence[Job], log: list[dict[str, Any]], w0: float, w1: float, plan: Plan
) -> tuple[list[ProviderRate], int, int]:
    """Per-provider rates, the queries in the window, and the non-200 answers in it."""
    by_task = {job.task_id: job for job in jobs if job.task_id}
    by_key = {job.idempotency_key: job for job in jobs}
    created: dict[int, float] = {}
    queries: dict[int, list[float]] = collections.defaultdict(list)
    non_ok = 0
    for record in log:
        at = float(record["at"])
        if record["method"] == "POST":
            job = by_key.get(record["idempotency_key"])
            if job is not None:
                created[job.id] = min(created.get(job.id, at), at)
            continue
        job = by_task.get(str(record["path"]).rsplit("/", 1)[-1])
        if job is None:
            continue
        queries[job.id].append(at)
        if w0 <= at < w1 and record["status"] != 200:
            non_ok += 1
    minutes = (w1 - w0) / 60.0
    polls = 0
    rates = []
    for provider, cadence in (
        (JobProvider.SEEDANCE, plan.seedance_interval),
        (JobProvider.KLING, plan.kling_interval),
    ):
        mine = [job for job in jobs if job.provider is provider]
        if not mine:
            continue
        steady, whole, gaps = [], [], []
        unfollowed = 0
        for job in mine:
            times = sorted(queries.get(job.id, []))
            inside = [t for t in times if w0 <= t < w1]
            polls += len(inside)
            steady.append(len(inside) / minutes)
            after = [b - a for a, b in itertools.pairwise(times) if w0 <= a < w1]
            gaps.extend(after)
            unfollowed += len(inside) - len(after)
            start = created.get(job.id)
            if start is not None:
                count = 1 + sum(1 for t in times if t < w1)
                whole.append(count / ((w1 - start) / 60.0))
        rates.append(
            ProviderRate(
                provider.value,
                len(mine),
                cadence,
                plan.jitter,
                steady,
                gaps,
                whole,
                unfollowed,
            )
        )
    return rates, polls, non_ok


async def settle(engine: JobEngine, ids: Sequence[int], checks: int, limit: float) -> float:
    """Wait until every job has had its first ``checks`` checks; return the seconds waited."""
    t0 = time.perf_counter()

    def late() -> list[int]:
        return [i for i in ids if (job := engine.book.get(i)) is None or job.poll_count < checks]

    while late():
        if time.perf_counter() - t0 > limit:
            raise RuntimeError(f"{len(late())} jobs did not get their first {checks} checks")
        await asyncio.sleep(0.1)
    return time.perf_counter() - t0


def in_flight(engine: JobEngine, ids: Sequence[int]) -> int:
    return sum(1 for i in ids if (job := engine.book.get(i)) is not None and job.state in IN_FLIGHT)


async def wait_for_keys(limit: float) -> None:
    """Give the keys still queued up to ``limit`` seconds to be handled."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if not PROBE.outstanding():
            return
        await asyncio.sleep(0.01)


def profile_text(profiler: cProfile.Profile, top: int = 25) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# -- phase 1: the engine alone -------------------------------------------------------------------


async def submit_direct(engine: JobEngine, request: MediaRequest) -> Job:
    """What ``JobsController.submit`` does, without the app."""
    return await engine.submit_request(request)


async def engine_phase(plan: Plan, emulator: Emulator, folder: Path) -> Phase:
    store = Store.open(folder / "engine.db")
    client = AnyFastClient(api_key=KEY, base_url=emulator.url, max_retries=0)
    downloader = Downloader()
    changes = 0

    def on_change(_job: Job) -> None:
        nonlocal changes
        changes += 1

    engine = JobEngine(store, client, downloader, plan.config(folder / "media"), on_change)
    lateness = Lateness(engine)
    await engine.start()
    try:
        t0 = time.perf_counter()
        jobs = await asyncio.gather(
            *(submit_direct(engine, plan.request(i)) for i in range(plan.jobs))
        )
        submit_seconds = time.perf_counter() - t0
        ids = [job.id for job in jobs]
        settle_seconds = await settle(engine, ids, len(plan.first_checks), 120)
        profiler = cProfile.Profile() if plan.profile == "engine" else None
        changes = 0
        w0, cpu0, emu0, busy0 = time.time(), time.process_time(), emulator.cpu(), machine_busy()
        lateness.recording = True
        if profiler is not None:
            profiler.enable()
        await asyncio.sleep(plan.window)
        if profiler is not None:
            profiler.disable()
        lateness.recording = False
        w1, cpu1, emu1, busy1 = time.time(), time.process_time(), emulator.cpu(), machine_busy()
        flying = in_flight(engine, ids)
        held = [engine.book.get(i) or store.get_job(i) for i in ids]
        await asyncio.sleep(plan.tail)  # the check after each one in the window
    finally:
        await engine.stop()
        await client.aclose()
        await downloader.aclose()
        store.close()
    log = await emulator.requests()
    jobs = [j for j in held if j is not None]
    rates, polls, non_ok = analyse(jobs, log, w0, w1, plan)
    floor = await http_floor(plan, emulator, jobs, polls / (w1 - w0))
    return Phase(
        name="engine alone",
        submit_seconds=submit_seconds,
        settle_seconds=settle_seconds,
        window=w1 - w0,
        rates=rates,
        polls=polls,
        non_ok=non_ok,
        in_flight=flying,
        jobs=plan.jobs,
        cpu=cpu1 - cpu0,
        emulator_cpu=emu1 - emu0,
        machine_cpu=busy1 - busy0,
        changes=changes,
        lateness=lateness.samples,
        floor=floor,
        profile=profile_text(profiler) if profiler is not None else "",
    )


async def http_floor(
    plan: Plan, emulator: Emulator, jobs: Sequence[Job], rate: float
) -> tuple[float, int]:
    """CPU µs per request of bare ``httpx`` asking about the same tasks at the same rate and
    concurrency as the engine did (the floor for any httpx-based poller), and how many."""
    if plan.floor_seconds <= 0 or rate <= 0 or not jobs:
        return float("nan"), 0
    paths = [
        f"/kling/v1/videos/{job.action}/{job.task_id}"
        if job.provider is JobProvider.KLING
        else f"/v1/video/generations/{job.task_id}"
        for job in jobs
        if job.task_id
    ]
    headers = {"Authorization": f"Bearer {KEY}"}
    gate = asyncio.Semaphore(plan.config(Path()).max_concurrent_requests)
    done = 0

    async def query(http: httpx.AsyncClient, path: str) -> None:
        nonlocal done
        async with gate:
            response = await http.get(path)
            response.json()
            done += 1

    async with httpx.AsyncClient(base_url=emulator.url, headers=headers, timeout=60) as http:
        await asyncio.gather(*(query(http, path) for path in paths[:8]))  # warm the pool
        done = 0
        tasks = []
        cpu0, start = time.process_time(), time.perf_counter()
        due = start
        for n in itertools.count():
            if due - start >= plan.floor_seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(query(http, paths[n % len(paths)])))
            due += 1.0 / rate
        await asyncio.gather(*tasks)
        cpu = time.process_time() - cpu0
    return cpu / done * 1e6 if done else float("nan"), done


# -- phase 2: the app, sidebar open --------------------------------------------------------------


@dataclass
class Keys:
    sent: collections.Counter[str]
    handled: list[tuple[str, float]]
    frames: list[tuple[str, float]]
    shows: list[float]
    seconds: float
    cpu: float
    highlighted: int | None

    def of(self, key: str | None) -> tuple[list[float], list[float]]:
        handled = [ms for k, ms in self.handled if key is None or k == key]
        frames = [ms for k, ms in self.frames if key is None or k == key]
        return handled, frames

    @property
    def complete(self) -> bool:
        return sum(self.sent.values()) == len(self.handled)


async def app_phase(plan: Plan, emulator: Emulator, folder: Path) -> tuple[Phase, Keys]:
    global PROBE
    PROBE = KeyProbe()
    settings = Settings(api_key=KEY, base_url=emulator.url, max_retries=0)
    store = Store.open(folder / "app.db")
    app = StudioApp(settings, store=store, jobs_config=plan.config(folder / "media"))
    async with app.run_test(size=SIZE) as pilot:
        install_hooks(app)
        engine = await app.jobs.ensure_started()
        lateness = Lateness(engine)
        t0 = time.perf_counter()
        jobs = await asyncio.gather(*(app.jobs.submit(plan.request(i)) for i in range(plan.jobs)))
        submit_seconds = time.perf_counter() - t0
        ids = [job.id for job in jobs]
        await pilot.press("ctrl+g")
        await pilot.pause()
        sidebar = app.screen.query_one("#jobs-sidebar", JobSidebar)
        options = sidebar.query_one(OptionList)
        if sidebar.has_class("hidden") or app.focused is not options:
            raise RuntimeError("ctrl+g did not open the job sidebar with its list focused")
        PROBE.target = options
        settle_seconds = await settle(engine, ids, len(plan.first_checks), 120)
        await asyncio.sleep(0.5)  # at least one redraw of the full list before measuring
        profiler = cProfile.Profile() if plan.profile == "app" else None
        injector = KeyInjector(app, plan.keys, plan.key_interval)
        w0, cpu0, emu0, busy0 = time.time(), time.process_time(), emulator.cpu(), machine_busy()
        lateness.recording = PROBE.recording = True
        if profiler is not None:
            profiler.enable()
        injector.start()
        await asyncio.sleep(plan.key_seconds)
        await asyncio.to_thread(injector.stop)
        await wait_for_keys(5.0)
        await asyncio.sleep(0.2)  # the frame after the last key
        k1, kcpu1 = time.time(), time.process_time()
        if profiler is not None:
            profiler.disable()
        PROBE.recording = False
        await asyncio.sleep(max(0.0, w0 + plan.app_window - time.time()))
        lateness.recording = False
        w1, cpu1, emu1, busy1 = time.time(), time.process_time(), emulator.cpu(), machine_busy()
        flying = in_flight(engine, ids)
        held = [engine.book.get(i) or store.get_job(i) for i in ids]
        highlighted = options.highlighted
        await asyncio.sleep(plan.tail)
    log = await emulator.requests()
    rates, polls, non_ok = analyse([j for j in held if j is not None], log, w0, w1, plan)
    phase = Phase(
        name="in the app, sidebar open",
        submit_seconds=submit_seconds,
        settle_seconds=settle_seconds,
        window=w1 - w0,
        rates=rates,
        polls=polls,
        non_ok=non_ok,
        in_flight=flying,
        jobs=plan.jobs,
        cpu=cpu1 - cpu0,
        emulator_cpu=emu1 - emu0,
        machine_cpu=busy1 - busy0,
        changes=0,
        lateness=lateness.samples,
        cpu_label="app + engine",
        profile=profile_text(profiler) if profiler is not None else "",
    )
    keys = Keys(
        sent=injector.sent,
        handled=[(k, (h - s) * 1000) for k, s, h in PROBE.handled],
        frames=[(k, s * 1000) for k, s in PROBE.frames],
        shows=PROBE.shows,
        seconds=k1 - w0,
        cpu=kcpu1 - cpu0,
        highlighted=highlighted,
    )
    return phase, keys


# -- output --------------------------------------------------------------------------------------


def ms(values: Sequence[float], q: float) -> str:
    value = percentile(values, q)
    return "   n/a" if value != value else f"{value:6.1f}"


def print_phase(phase: Phase) -> None:
    print(f"\n{phase.name}")
    print(
        f"  submitted {phase.jobs} jobs in {phase.submit_seconds:.1f} s; first checks done "
        f"{phase.settle_seconds:.1f} s later; window {phase.window:.1f} s; "
        f"in flight at its end {phase.in_flight}/{phase.jobs}"
    )
    print(
        "  requests/job/min  jobs  cadence  limit   steady: by gaps  in window (mean/p95/max)"
        "   whole run   min gap (floor)"
    )
    for r in phase.rates:
        whole = statistics.fmean(r.whole) if r.whole else float("nan")
        print(
            f"  {r.provider:<16} {r.jobs:>5} {r.cadence:6.2f} s {r.limit:6.2f}   "
            f"{r.gap_rate:8.2f} ±{r.gap_rate_error:4.2f}   {r.steady_mean:9.2f} "
            f"{percentile(r.steady, 0.95):6.1f} {max(r.steady):5.1f}     {whole:9.2f}   "
            f"{r.min_gap:6.2f} s ({r.gap_floor:.2f} s)  "
            f"{'ok' if r.ok else 'OVER'}"
        )
        if r.unfollowed:
            print(f"    ({r.unfollowed} {r.provider} checks in the window had no next check)")
    window = max(phase.window, 1e-9)
    per_poll = phase.cpu / phase.polls * 1e6 if phase.polls else float("nan")
    print(
        f"  {phase.cpu_label} CPU {phase.cpu / window * 100:5.1f} % of one core, "
        f"{per_poll:6.0f} µs per query ({phase.polls} queries, {phase.polls / window:.1f}/s; "
        f"{phase.non_ok} not 200)"
    )
    if phase.floor[1]:
        print(
            f"  bare httpx, same tasks, rate and concurrency: {phase.floor[0]:6.0f} µs per "
            f"request ({phase.floor[1]} requests; the floor for an httpx poller)"
        )
    if phase.changes:
        print(f"  on_change calls {phase.changes / window:.1f}/s")
    print(f"  emulator CPU {phase.emulator_cpu / window * 100:5.1f} % of one core")
    others = max(0.0, phase.machine_cpu - phase.cpu - phase.emulator_cpu)  # jiffy rounding
    print(
        f"  everything else on the machine (other processes, interrupts): "
        f"{others / window * 100:5.1f} % of one core ({os.cpu_count()} cores)"
    )
    late = [x * 1000 for x in phase.lateness]
    print(
        f"  check lateness (due → started) ms: p50 {ms(late, 0.5)}  p95 {ms(late, 0.95)}  "
        f"max {ms(late, 1.0)}  ({len(late)} checks)"
    )


def print_keys(plan: Plan, keys: Keys) -> None:
    sent = sum(keys.sent.values())
    print(
        f"  keys: {sent} sent every {plan.key_interval * 1000:.0f} ms over "
        f"{keys.seconds:.1f} s, {len(keys.handled)} handled; the list's highlight ended on "
        f"option {keys.highlighted}; app + engine CPU meanwhile "
        f"{keys.cpu / keys.seconds * 100:.1f} % of one core"
    )
    print("  key latency ms          p50     p95     max")
    groups: list[str | None] = [None] if len(plan.keys) == 1 else [None, *plan.keys]
    for key in groups:
        handled, frames = keys.of(key)
        name = key or "+".join(plan.keys)
        print(f"  {name:<8} handled     {ms(handled, 0.5)}  {ms(handled, 0.95)}  {ms(handled, 1)}")
        print(f"  {name:<8} frame       {ms(frames, 0.5)}  {ms(frames, 0.95)}  {ms(frames, 1)}")
    shows = [x * 1000 for x in keys.shows]
    print(
        f"  JobSidebar.show ms      {ms(shows, 0.5)}  {ms(shows, 0.95)}  {ms(shows, 1)}  "
        f"({len(shows)} redraws, {sum(shows) / 1000 / keys.seconds * 100:.1f} % of the time)"
    )


# -- main ----------------------------------------------------------------------------------------


async def main(plan: Plan) -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        folder = Path(tmp)
        os.environ["STUDIO_HOME"] = str(folder)
        os.environ.pop("STUDIO_CONFIG", None)
        env = {**os.environ, "STUDIO_HOME": str(folder)}
        emulator = Emulator(plan, env)
        kling = sum(1 for i in range(plan.jobs) if plan.is_kling(i))
        print(
            f"job_scale: {plan.jobs} jobs ({plan.jobs - kling} Seedance every "
            f"{plan.seedance_interval:g} s, {kling} Kling every {plan.kling_interval:g} s), "
            f"first checks {'/'.join(f'{d:g}' for d in plan.first_checks)} s, jitter "
            f"±{plan.jitter * 100:.0f} %, video timeline {plan.video_seconds:g} s; "
            f"{os.cpu_count()} CPUs, emulator pid {emulator.proc.pid}",
            flush=True,
        )
        try:
            engine = await engine_phase(plan, emulator, folder)
            print_phase(engine)
            if engine.profile:
                print(engine.profile)
            gc.collect()
            app, keys = await app_phase(plan, emulator, folder)
            print_phase(app)
            print_keys(plan, keys)
            if app.profile:
                print(app.profile)
        finally:
            emulator.stop()

    handled, _ = keys.of(None)
    p95 = percentile(handled, 0.95)
    verdicts = [
        (
            f"steady requests/job/min within the cadence, engine alone ({engine.window:.0f} s)",
            engine.ok,
        ),
        (f"steady requests/job/min within the cadence, in the app ({app.window:.0f} s)", app.ok),
        (f"key handled p95 {p95:.1f} ms < {KEY_TARGET_MS:.0f} ms, sidebar open", p95 < 100),
        (f"every key handled ({len(keys.handled)}/{sum(keys.sent.values())})", keys.complete),
    ]
    print("\ntargets")
    for text, ok in verdicts:
        print(f"  {text}: {'met' if ok else 'MISSED'}")
    for phase in (engine, app):
        if phase.in_flight != phase.jobs:
            print(
                f"  note: {phase.jobs - phase.in_flight} jobs of '{phase.name}' left the queued/"
                "running states before the window ended; raise --video-seconds"
            )
    print(f"\ntotal {time.perf_counter() - started:.0f} s (pid {os.getpid()})")
    return 0 if all(ok for _, ok in verdicts) else 1


def checks_arg(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def keys_arg(text: str) -> tuple[str, ...]:
    keys = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = set(keys) - {"down", "f"}
    if not keys or unknown:
        raise argparse.ArgumentTypeError("keys are down and/or f, e.g. down or down,f")
    return keys


def parse(argv: Sequence[str] | None = None) -> Plan:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--window", type=float, default=60.0, help="engine-alone window, s")
    parser.add_argument(
        "--app-window", type=float, default=40.0, help="requests window in the app, s"
    )
    parser.add_argument(
        "--key-seconds", type=float, default=20.0, help="keys in the app window's first seconds"
    )
    parser.add_argument("--key-interval", type=float, default=0.1)
    parser.add_argument(
        "--floor-seconds", type=float, default=15.0, help="bare-httpx comparison, 0 = skip"
    )
    parser.add_argument("--keys", type=keys_arg, default=("down",), help="down, f or down,f")
    parser.add_argument("--seedance-interval", type=float, default=5.0)
    parser.add_argument("--kling-interval", type=float, default=7.0 / 3)
    parser.add_argument("--kling-share", type=float, default=0.2, help="fraction of Kling jobs")
    parser.add_argument("--jitter", type=float, default=0.2)
    parser.add_argument("--first-checks", type=checks_arg, default=(2.0, 4.0, 8.0))
    parser.add_argument("--video-seconds", type=float, default=150.0)
    parser.add_argument("--speed", type=float, default=1.0, help="the emulator's time scale")
    parser.add_argument("--profile", choices=("engine", "app"), help="cProfile one window")
    args = parser.parse_args(argv)
    return Plan(
        jobs=args.jobs,
        window=args.window,
        app_window=max(args.app_window, args.key_seconds),
        key_seconds=args.key_seconds,
        floor_seconds=args.floor_seconds,
        key_interval=args.key_interval,
        keys=args.keys,
        seedance_interval=args.seedance_interval,
        kling_interval=args.kling_interval,
        kling_share=args.kling_share,
        jitter=args.jitter,
        first_checks=args.first_checks,
        video_seconds=args.video_seconds,
        speed=args.speed,
        profile=args.profile,
    )


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
