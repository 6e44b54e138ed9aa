"""Rendering cost and responsiveness of a streamed reply in the real chat pane, headless.

Replies of 2k, 8k and 32k tokens are streamed from ``studio emulator`` (a separate process, so
``time.process_time()`` here counts only the app) through the real ``StudioApp`` (chat pane,
store, status line, ``StreamingMarkdown``) running headless at 160x48, (a) as fast as the server
can send them (``rate=0``) and (b) paced at 200 tokens/s by the emulator. In the same run, the
baseline to beat: a minimal Textual app (one ``Markdown`` in an anchored ``VerticalScroll`` above a
``TextArea``) fed the *same* tokens one delta at a time through ``Markdown.get_stream`` +
``await stream.write(delta)``, then ``await stream.stop()``. The baseline replays the exact
request Studio sent, through the same ``AnyFastClient``, so both parse the same SSE bytes and
render identical Markdown (headings, lists, code fences, tables); the run checks that the token
sequences match.

What is measured (``perf_counter`` wall times, all in this process):

- **CPU/token**: ``process_time()`` from sending the prompt to the first frame composed after
  the reply was finished, divided by the reply's tokens (content deltas);
- **done** and **lag**: from the moment the client handed the *last* content delta to the app
  (the bench wraps ``AnyFastClient.stream_chat`` and stamps each content delta as it is
  yielded) to the end of the renderer's finishing call (*done*: Studio's
  ``StreamingMarkdown.finish``, the baseline's ``MarkdownStream.stop``) and to the first frame
  composed after it (*lag*, the "finishes within 100 ms of its last token" figure; for Studio
  it includes the chat pane's own work after ``finish``, such as storing the reply and
  restyling the message);
- **key latency** (paced runs): every 100 ms, from the send until 0.5 s after that final frame,
  a thread (like a terminal driver's input thread) posts a printable ``Key`` to the app
  (``driver.send_message``, stamped just before). *handled* ends when the focused prompt's key
  handler returned (the character is in the prompt's text; the run checks every key arrived);
  *frame* ends at the first frame composed after that. p50/p95/max are reported for the keys
  sent while the reply streamed (before its last token), which the target is about; for the
  keys sent after it, while the reply is finished, the worst is shown.

"Frame composed" means the screen's compositor produced an update (``App._display`` was
called); headless, Textual skips only encoding it to escape codes and writing it out. Each app
runs as if alone in the process: its own task and thread pool, and a garbage collection before
and after it, so one run's collections do not scan the apps of earlier runs.

Targets (issue: stream render): Studio's CPU/token at 32k within 1.5x of its CPU/token at 2k
(fast runs; linear, not quadratic); at 200 tokens/s a lag of at most 100 ms and a key handled
within 100 ms at p95, for every paced size. The baseline's figures are reported, not judged.

The baseline's cost grows with the document: at 32k tokens it needs minutes. A baseline run not
done ``--baseline-budget`` seconds after the stream's own duration is stopped and reported as a
lower bound (``>``); by default the baseline is paced only at 2k and 8k
(``--baseline-paced-sizes``): the 32k paced baseline would add 3+ minutes to report a foregone
lower bound. Studio's fast runs are repeated ``--rounds`` times and the cheapest is kept.

Run:  python tests/bench/stream_render.py [--sizes 2000,8000,32000]
          [--paced-sizes 2000,8000,32000] [--baseline-paced-sizes 2000,8000] [--rate 200]
          [--rounds 3] [--baseline-budget 45]
(About 8 minutes on 2 cores, 3 of them for the 32k paced Studio run.)
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import copy
import gc
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_emulator import KEY, spawn_emulator, stop_emulator
from textual import events, work
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, TextArea

from studio.api import AnyFastClient
from studio.api.types import ChatDelta
from studio.config import Settings
from studio.store import MessageStatus, Store
from studio.tui.app import StudioApp
from studio.tui.compat import driver_of, watch_frames
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.prompt import PromptInput
from studio.tui.widgets.streaming import StreamingMarkdown

SIZE = (160, 48)
KEY_INTERVAL = 0.1
"""Seconds between injected key presses."""
AFTERMATH = 0.5
"""Seconds after the final frame during which keys are still sent (and counted)."""
LINEAR_LIMIT = 1.5
LAG_LIMIT_MS = 100.0
KEY_P95_LIMIT_MS = 100.0
WARMUP_TOKENS = 600
STUDIO_BUDGET = 120.0
"""Seconds beyond the stream's own duration within which a Studio run must be done."""


# -- instrumentation ---------------------------------------------------------------------------


@dataclass
class Probe:
    """Timestamps of one run, filled in by the hooks below."""

    request: dict[str, Any] | None = None
    tokens: list[str] = field(default_factory=list)
    delta_times: list[float] = field(default_factory=list)
    done_at: float | None = None
    end_frame: float | None = None
    end_cpu: float | None = None
    frames: list[float] = field(default_factory=list)
    injected: dict[int, float] = field(default_factory=dict)
    keys: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_frame(self) -> None:
        now = time.perf_counter()
        self.frames.append(now)
        if self.done_at is not None and self.end_frame is None:
            self.end_frame = now
            self.end_cpu = time.process_time()

    def on_done(self) -> None:
        self.done_at = time.perf_counter()

    def on_key(self, event: events.Key) -> None:
        with self.lock:
            sent = self.injected.pop(id(event), None)
        if sent is not None:
            self.keys.append((sent, time.perf_counter()))


PROBE = Probe()
"""The probe of the run in progress (one run at a time)."""


def install_hooks() -> None:
    """Wrap the client, ``StreamingMarkdown.finish`` and the prompt's key handler (bench only)."""
    original_stream = AnyFastClient.stream_chat

    def stream_chat(
        self: AnyFastClient, model: str, messages: Sequence[Any], **params: Any
    ) -> AsyncIterator[ChatDelta]:
        probe = PROBE
        probe.request = {"model": model, "messages": copy.deepcopy(list(messages)), **params}
        inner = original_stream(self, model, messages, **params)

        async def deltas() -> AsyncIterator[ChatDelta]:
            try:
                async for delta in inner:
                    if delta.content:
                        probe.delta_times.append(time.perf_counter())
                        probe.tokens.append(delta.content)
                    yield delta
            finally:
                close = getattr(inner, "aclose", None)
                if close is not None:
                    await close()

        return deltas()

    original_finish = StreamingMarkdown.finish

    async def finish(self: StreamingMarkdown, final_text: str | None = None) -> None:
        await original_finish(self, final_text)
        PROBE.on_done()

    original_key = PromptInput.on_key

    async def on_key(self: PromptInput, event: events.Key) -> None:
        await original_key(self, event)
        PROBE.on_key(event)

    AnyFastClient.stream_chat = stream_chat  # type: ignore[method-assign]
    StreamingMarkdown.finish = finish  # type: ignore[method-assign]
    PromptInput.on_key = on_key  # type: ignore[method-assign]


def hook_frames(app: App[Any]) -> None:
    """Stamp every frame the app's screen composes."""
    watch_frames(app, lambda _screen, _drawn: PROBE.on_frame(), before=True)


class KeyInjector(threading.Thread):
    """Posts a printable key to the app every ``interval`` s, like a terminal's input thread."""

    def __init__(self, app: App[Any], probe: Probe, interval: float = KEY_INTERVAL) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.probe = probe
        self.interval = interval
        self.sent: list[events.Key] = []  # keeps the events alive, so their ids stay unique
        self._stop_event = threading.Event()

    def run(self) -> None:
        driver = driver_of(self.app)
        assert driver is not None
        while not self._stop_event.wait(self.interval):
            event = events.Key("x", "x")
            event.set_sender(self.app)
            self.sent.append(event)
            with self.probe.lock:
                self.probe.injected[id(event)] = time.perf_counter()
            driver.send_message(event)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# -- results -----------------------------------------------------------------------------------


@dataclass
class Result:
    """The figures of one streamed reply (``aborted``: stopped at the budget; lower bounds)."""

    who: str
    tokens: int
    rate: int
    cpu_us: float
    wall: float
    lag_ms: float
    done_lag_ms: float
    blocks: int
    key_handled: list[float]
    """Latencies (ms) of the keys sent while the reply streamed (before its last token)."""
    key_frame: list[float]
    key_after: list[float]
    """Latencies (ms) of the keys sent after the last token, while the reply was finished."""
    keys_sent: int
    token_list: list[str]
    request: dict[str, Any] | None = None
    aborted: bool = False

    @property
    def keys_ok(self) -> bool:
        return self.keys_sent == len(self.key_handled) + len(self.key_after)

    @property
    def mode(self) -> str:
        return "fast" if self.rate == 0 else f"{self.rate}/s"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -int(-len(ordered) * q // 1))
    return ordered[rank - 1]


def result_of(
    probe: Probe,
    who: str,
    tokens: int,
    rate: int,
    start: tuple[float, float],
    keys_sent: int,
    blocks: int,
) -> Result:
    """Turn a finished run's probe into figures; ``start`` is (CPU, wall) at the send.

    For a run stopped at its budget the figures are lower bounds: CPU so far over all the
    reply's tokens, and the time since the last token (NaN if tokens are still missing)."""
    cpu0, wall0 = start
    aborted = probe.end_frame is None
    end_frame = probe.end_frame if probe.end_frame is not None else time.perf_counter()
    end_cpu = probe.end_cpu if probe.end_cpu is not None else time.process_time()
    done_at = probe.done_at if probe.done_at is not None else end_frame
    n = tokens if aborted else len(probe.tokens)
    last = probe.delta_times[-1] if len(probe.delta_times) >= tokens else None
    streaming = [(s, h) for s, h in probe.keys if last is None or s < last]
    handled = [(h - s) * 1000 for s, h in streaming]
    after = [(h - s) * 1000 for s, h in probe.keys if last is not None and s >= last]
    framed = []
    for s, h in streaming:
        i = bisect.bisect_left(probe.frames, h)
        if i < len(probe.frames):
            framed.append((probe.frames[i] - s) * 1000)
    return Result(
        who=who,
        tokens=n,
        rate=rate,
        cpu_us=(end_cpu - cpu0) / n * 1e6,
        wall=end_frame - wall0,
        lag_ms=(end_frame - last) * 1000 if last is not None else float("nan"),
        done_lag_ms=(done_at - last) * 1000 if last is not None else float("nan"),
        blocks=blocks,
        key_handled=handled,
        key_frame=framed,
        key_after=after,
        keys_sent=keys_sent,
        token_list=list(probe.tokens),
        request=probe.request,
        aborted=aborted,
    )


async def wait_until(condition: Callable[[], bool], limit: float, what: str) -> None:
    """Poll ``condition`` every 10 ms (the app runs between polls); fail after ``limit`` s."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_for_end(probe: Probe, tokens: int, rate: int, budget: float) -> bool:
    """Wait for the final frame until ``budget`` s after the stream's own duration (from the
    emulator's pace); True if it came."""
    deadline = time.perf_counter() + (tokens / rate if rate else 0) + budget
    while probe.end_frame is None:
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def stream_with_keys(
    app: App[Any],
    probe: Probe,
    rate: int,
    tokens: int,
    budget: float,
    start: Callable[[], Awaitable[None]],
) -> tuple[bool, int]:
    """Start the reply (with key presses when paced), wait for it; (finished, keys sent)."""
    injector = KeyInjector(app, probe) if rate else None
    await start()
    if injector is not None:
        injector.start()
    try:
        finished = await wait_for_end(probe, tokens, rate, budget)
        if finished and injector is not None:
            await asyncio.sleep(AFTERMATH)
    finally:
        if injector is not None:
            injector.stop()
    sent = len(injector.sent) if injector else 0
    if finished:
        await wait_until(lambda: len(probe.keys) >= sent, 30, "the keys")
    return finished, sent


# -- Studio --------------------------------------------------------------------------------------


async def run_studio(base: str, home: Path, tokens: int, rate: int) -> Result:
    """Stream one reply through a fresh StudioApp and measure it."""
    global PROBE
    store = Store.open(home / f"studio-{tokens}-{rate}-{time.monotonic_ns()}.db")
    settings = Settings(api_key=KEY, base_url=base, max_retries=0, clipboard="off")
    app = StudioApp(settings, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            lambda: isinstance(getattr(app.screen, "active_pane", None), ChatPane), 20, "the pane"
        )
        pane: ChatPane = app.screen.active_pane  # type: ignore[attr-defined]
        await app.gateway.client()
        await pilot.pause(0.3)  # let start-up work (model list, first layout) settle
        pane.focus_prompt()
        await pilot.pause()
        hook_frames(app)
        PROBE = probe = Probe()
        prompt = f"Benchmark the renderer [[emulator: tokens={tokens}; rate={rate}]]"
        start = time.process_time(), time.perf_counter()
        finished, sent = await stream_with_keys(
            app, probe, rate, tokens, STUDIO_BUDGET, lambda: pane.send(prompt)
        )
        if not finished:
            raise RuntimeError(f"Studio was not done {STUDIO_BUDGET} s after {tokens} tokens")
        view = pane.views()[-1]
        markdown = view.query_one(StreamingMarkdown)
        stored = app.store.get_message(view.message_id)
        if stored is None or stored.status is not MessageStatus.COMPLETE or not markdown.finished:
            raise RuntimeError("the reply did not complete")
        if stored.content != "".join(probe.tokens) or markdown.text != stored.content:
            raise RuntimeError("the stored or shown reply differs from the streamed tokens")
        typed = pane.query_one(PromptInput).text
        if typed != "x" * sent:
            raise RuntimeError(f"the prompt holds {len(typed)} of {sent} keys")
        return result_of(probe, "studio", tokens, rate, start, sent, markdown.block_count)


# -- baseline --------------------------------------------------------------------------------------


class BaselinePrompt(TextArea):
    """A plain TextArea whose key handler is stamped like Studio's prompt."""

    async def _on_key(self, event: events.Key) -> None:
        await super()._on_key(event)
        PROBE.on_key(event)


class BaselineApp(App[None]):
    """One ``Markdown`` in an anchored ``VerticalScroll``, fed through ``MarkdownStream``."""

    CSS = """
    VerticalScroll { height: 1fr; }
    BaselinePrompt { height: 3; }
    """

    def __init__(self, base: str, request: dict[str, Any]) -> None:
        super().__init__()
        self.request = request
        self.client = AnyFastClient(api_key=KEY, base_url=base, max_retries=0)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown()
        yield BaselinePrompt(compact=True, soft_wrap=True)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()
        self.query_one(BaselinePrompt).focus()

    async def on_unmount(self) -> None:
        await self.client.aclose()

    @work(exclusive=True, exit_on_error=False)
    async def stream_reply(self) -> None:
        stream = Markdown.get_stream(self.query_one(Markdown))
        try:
            async for delta in self.client.stream_chat(**copy.deepcopy(self.request)):
                if delta.content:
                    await stream.write(delta.content)
        finally:
            await stream.stop()
            PROBE.on_done()


async def run_baseline(
    base: str, request: dict[str, Any], tokens: int, rate: int, budget: float
) -> Result:
    """Stream the same request into the baseline app and measure it."""
    global PROBE
    app = BaselineApp(base, request)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        hook_frames(app)
        PROBE = probe = Probe()
        start = time.process_time(), time.perf_counter()

        async def begin() -> None:
            app.stream_reply()

        finished, sent = await stream_with_keys(app, probe, rate, tokens, budget, begin)
        result = result_of(probe, "baseline", tokens, rate, start, sent, 1)
        if not finished:
            app.workers.cancel_all()
    return result


# -- emulator ------------------------------------------------------------------------------------


# -- report --------------------------------------------------------------------------------------


def fmt_ms(values: Sequence[float]) -> str:
    if not values:
        return ""
    return f"{percentile(values, 0.5):6.1f} {percentile(values, 0.95):6.1f} {max(values):6.1f}"


def print_table(results: list[Result]) -> None:
    print(
        f"\n{'renderer':<9} {'mode':<6} {'tokens':>6} {'blocks':>6} {'CPU µs/tok':>11} "
        f"{'wall s':>7} {'done ms':>8} {'lag ms':>8} {'keys':>5}  "
        f"{'handled p50/p95/max ms':<23}{'key→frame p50/p95/max ms':<25}{'after: max':>10}"
    )
    for r in results:
        bound = ">" if r.aborted else " "
        keys = f"{len(r.key_handled):>5}" if r.rate else f"{'':>5}"
        unhandled = r.keys_sent - len(r.key_handled) - len(r.key_after)
        lost = "" if r.keys_ok else f"  ({unhandled} keys unhandled)"
        after = f"{max(r.key_after):10.1f}" if r.key_after else f"{'':>10}"
        done = f"{bound}{r.done_lag_ms:7.0f}" if not r.aborted else f"{'-':>8}"
        lag = f"{bound}{r.lag_ms:7.0f}" if r.lag_ms == r.lag_ms else f"{'-':>8}"
        print(
            f"{r.who:<9} {r.mode:<6} {r.tokens:>6} {r.blocks:>6} {bound}{r.cpu_us:>10.1f} "
            f"{bound}{r.wall:>6.1f} {done} {lag} {keys}  "
            f"{fmt_ms(r.key_handled):<23}{fmt_ms(r.key_frame):<25}{after}{lost}"
        )
    print(
        "(keys: sent while streaming; 'after: max': the slowest key sent after the last token, "
        f"until {AFTERMATH} s after the final frame.)"
    )
    if any(r.aborted for r in results):
        print("('>': stopped at the budget; the figure is a lower bound.)")


def find(results: list[Result], who: str, tokens: int, rate: int) -> Result | None:
    return next((r for r in results if (r.who, r.tokens, r.rate) == (who, tokens, rate)), None)


def judge(results: list[Result], sizes: Sequence[int], paced: Sequence[int], rate: int) -> bool:
    """Print PASS/MISS per target (and the baseline's figures); True when all are met."""
    ok = True

    def verdict(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"  {'PASS' if passed else 'MISS'}  {text}")

    small, large = min(sizes), max(sizes)
    print("\ntargets (studio):")
    a, b = find(results, "studio", small, 0), find(results, "studio", large, 0)
    if a and b and large > small:
        ratio = b.cpu_us / a.cpu_us
        verdict(
            ratio <= LINEAR_LIMIT,
            f"fast: CPU/token at {large} = {ratio:.2f}x CPU/token at {small} (<= {LINEAR_LIMIT}x)",
        )
    for tokens in paced:
        r = find(results, "studio", tokens, rate)
        if r is None:
            continue
        verdict(
            r.lag_ms <= LAG_LIMIT_MS,
            f"{tokens} tokens at {rate}/s: final frame {r.lag_ms:.0f} ms after the last token "
            f"(<= {LAG_LIMIT_MS:.0f} ms; StreamingMarkdown.finish done after {r.done_lag_ms:.0f})",
        )
        p95 = percentile(r.key_handled, 0.95)
        verdict(
            r.keys_ok and p95 <= KEY_P95_LIMIT_MS,
            f"{tokens} tokens at {rate}/s: key handled p95 {p95:.0f} ms over "
            f"{len(r.key_handled)} keys while streaming "
            f"(<= {KEY_P95_LIMIT_MS:.0f} ms)" + ("" if r.keys_ok else ", some keys unhandled"),
        )

    print("\nbaseline (plain MarkdownStream, one delta per write), not judged:")
    a, b = find(results, "baseline", small, 0), find(results, "baseline", large, 0)
    if a and b and large > small:
        bound = ">=" if b.aborted else "="
        print(
            f"  fast: CPU/token at {large} {bound} {b.cpu_us / a.cpu_us:.2f}x CPU/token at {small}"
        )
    for r in results:
        if r.who == "baseline" and r.rate:
            lag = f"> {r.lag_ms:.0f}" if r.aborted else f"{r.lag_ms:.0f}"
            print(
                f"  {r.tokens} tokens at {r.rate}/s: final frame {lag} ms after the last token, "
                f"key handled p95 {percentile(r.key_handled, 0.95):.0f} ms"
            )
    return ok


# -- main ----------------------------------------------------------------------------------------


async def isolated(run: Coroutine[Any, Any, Result]) -> Result:
    """Run one app as if it were alone in the process, and free it afterwards.

    A closed Textual app stays alive through the context variable naming the active app and
    through the threads started while it captured ``sys.stderr``; left alone, every later run's
    garbage collections would also scan the earlier runs' apps. So each run gets its own task
    (its own context) and its own default thread pool, and the garbage is collected before and
    after it.
    """
    global PROBE
    loop = asyncio.get_running_loop()
    gc.collect()
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="bench"))
    try:
        return await asyncio.create_task(run)
    finally:
        loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="bench"))
        PROBE = Probe()
        gc.collect()


def request_of(result: Result) -> dict[str, Any]:
    """The chat request Studio sent in ``result``'s run (the baseline replays it)."""
    if result.request is None:
        raise RuntimeError("Studio sent no chat request")
    return result.request


def merge_rounds(results: list[Result]) -> list[Result]:
    """One row per (renderer, tokens, rate): the round with the least CPU/token (other load on
    the machine only ever adds to it)."""
    best: dict[tuple[str, int, int], Result] = {}
    for r in results:
        key = (r.who, r.tokens, r.rate)
        if key not in best or r.cpu_us < best[key].cpu_us:
            best[key] = r
    return list(best.values())


async def main(
    sizes: list[int],
    paced: list[int],
    baseline_paced: list[int],
    rate: int,
    rounds: int,
    budget: float,
) -> int:
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        home = Path(tmp)
        os.environ["STUDIO_HOME"] = str(home)
        proc, base = spawn_emulator(env={**os.environ})
        try:
            install_hooks()
            warm = await isolated(run_studio(base, home, WARMUP_TOKENS, 0))
            await isolated(run_baseline(base, request_of(warm), WARMUP_TOKENS, 0, budget))
            plan = [(n, 0) for n in sizes] + [(n, rate) for n in paced]
            for tokens, r in plan:
                for round_no in range(rounds if r == 0 else 1):
                    studio = await isolated(run_studio(base, home, tokens, r))
                    runs = [studio]
                    if round_no == 0 and (r == 0 or tokens in baseline_paced):
                        baseline = await isolated(
                            run_baseline(base, request_of(studio), tokens, r, budget)
                        )
                        if baseline.token_list != studio.token_list[: len(baseline.token_list)]:
                            raise RuntimeError("the baseline received different tokens")
                        runs.append(baseline)
                    for x in runs:
                        print(
                            f"  {x.who:<8} {tokens:>6} tokens {x.mode:<6} {x.cpu_us:8.1f} µs/token "
                            f"{x.wall:7.1f} s" + ("  (stopped at the budget)" if x.aborted else ""),
                            flush=True,
                        )
                    results.extend(runs)
        finally:
            stop_emulator(proc)

    merged = merge_rounds(results)
    print_table(merged)
    skipped = [n for n in paced if n not in baseline_paced]
    if skipped:
        print(f"\nnote: the baseline was not paced at {skipped} tokens (--baseline-paced-sizes).")
    unpaced = [n for n in sizes if n not in paced]
    if unpaced:
        print(f"note: Studio was paced at {rate}/s only for {paced}, not for {unpaced}.")
    ok = judge(merged, sizes, paced, rate)
    print(
        f"\ntotal {time.perf_counter() - started:.0f} s (pid {os.getpid()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})"
    )
    return 0 if ok else 1


def sizes_arg(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes_arg, default=[2000, 8000, 32000])
    parser.add_argument("--paced-sizes", type=sizes_arg, default=[2000, 8000, 32000])
    parser.add_argument("--baseline-paced-sizes", type=sizes_arg, default=[2000, 8000])
    parser.add_argument("--rate", type=int, default=200, help="tokens/s of the paced runs")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of Studio's fast runs (the best is kept)"
    )
    parser.add_argument(
        "--baseline-budget",
        type=float,
        default=45.0,
        help="seconds beyond the stream's own duration before a baseline run is stopped",
    )
    args = parser.parse_args()
    raise SystemExit(
        asyncio.run(
            main(
                args.sizes,
                args.paced_sizes,
                args.baseline_paced_sizes,
                args.rate,
                args.rounds,
                args.baseline_budget,
            )
        )
    )
