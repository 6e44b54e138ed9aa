"""CPU per chunk for consuming a 50,000-chunk chat stream from a loopback server.

Three consumers of the same stream, measured side by side in one run:

- ``stream_chat``: Studio's client (``async for delta in client.stream_chat(...)``);
- ``raw httpx``: ``aiter_lines()`` + ``json.loads`` + picking ``choices[0].delta.content`` — the
  floor for any httpx-based client (and not spec-correct SSE);
- ``openai SDK``: ``AsyncOpenAI(...).chat.completions.create(stream=True)``.

The server is ``studio emulator`` in a separate process, so ``time.process_time()`` here counts only
the consumer's CPU. Targets (issue 2): ``stream_chat`` within 1.5x of raw httpx, and at least 10x
cheaper than the openai SDK.

Run:  python tests/bench/sse_throughput.py [--chunks 50000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bench_emulator import KEY, spawn_emulator, stop_emulator

from studio.api import AnyFastClient

MODEL = "gpt-4o"


def messages(chunks: int) -> list[dict[str, Any]]:
    return [{"role": "user", "content": f"Benchmark [[emulator: tokens={chunks}; rate=0]]"}]


async def consume_studio(base: str, chunks: int) -> int:
    n = 0
    async with AnyFastClient(api_key=KEY, base_url=base) as client:
        async for delta in client.stream_chat(model=MODEL, messages=messages(chunks)):
            delta.content  # noqa: B018 - touching the field is the point
            n += 1
    return n


async def consume_raw_httpx(base: str, chunks: int) -> int:
    n = 0
    body = {"model": MODEL, "messages": messages(chunks), "stream": True}
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as http,
        http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response,
    ):
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                break
            obj = json.loads(data)
            choices = obj.get("choices")
            if choices:
                choices[0].get("delta", {}).get("content")
            n += 1
    return n


async def consume_openai(base: str, chunks: int) -> int:
    from openai import AsyncOpenAI

    n = 0
    client = AsyncOpenAI(api_key=KEY, base_url=f"{base}/v1", max_retries=0)
    try:
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=messages(chunks),  # type: ignore[arg-type]
            stream=True,
        )
        async for chunk in stream:
            if chunk.choices:
                chunk.choices[0].delta.content  # noqa: B018
            n += 1
    finally:
        await client.close()
    return n


async def measure(
    consume: Callable[[str, int], Awaitable[int]], base: str, chunks: int
) -> tuple[float, int, float]:
    """(CPU µs per chunk, chunks seen, wall seconds) for one full stream."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    n = await consume(base, chunks)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / n * 1e6, n, wall


async def main(chunks: int, rounds: int) -> int:
    proc, base = spawn_emulator()
    contenders: dict[str, Callable[[str, int], Awaitable[int]]] = {
        "stream_chat (studio)": consume_studio,
        "raw httpx lines": consume_raw_httpx,
        "openai SDK": consume_openai,
    }
    results: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        await measure(consume_studio, base, 2000)  # warm-up: imports, connection, JIT-free caches
        await measure(consume_openai, base, 200)
        for _ in range(rounds):
            for name, consume in contenders.items():
                per_chunk, n, wall = await measure(consume, base, chunks)
                results[name].append(per_chunk)
                print(f"  {name:<22} {per_chunk:8.2f} µs/chunk  ({n} chunks, {wall:.1f} s wall)")
    finally:
        stop_emulator(proc)

    best = {name: statistics.median(values) for name, values in results.items()}
    studio = best["stream_chat (studio)"]
    raw = best["raw httpx lines"]
    sdk = best["openai SDK"]
    print(f"\nmedian CPU per chunk over {rounds} rounds of {chunks} chunks (pid {os.getpid()}):")
    for name, value in best.items():
        print(f"  {name:<22} {value:8.2f} µs")
    ratio_raw = studio / raw
    ratio_sdk = sdk / studio
    ok_raw = ratio_raw <= 1.5
    ok_sdk = ratio_sdk >= 10
    print(
        f"\nstream_chat / raw httpx = {ratio_raw:.2f}x  (target <= 1.5x: {'met' if ok_raw else 'MISSED'})"
    )
    print(
        f"openai SDK / stream_chat = {ratio_sdk:.1f}x  (target >= 10x: {'met' if ok_sdk else 'MISSED'})"
    )
    return 0 if ok_raw and ok_sdk else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.chunks, args.rounds)))
