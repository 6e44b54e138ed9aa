"""Stopping the emulator is immediate: quitting ``studio --demo`` waits for it."""

from __future__ import annotations

import threading
import time

import httpx

from studio.emulator import EmulatorConfig, EmulatorServer


def _stop_seconds(emulator: EmulatorServer) -> float:
    started = time.perf_counter()
    emulator.stop()
    return time.perf_counter() - started


def test_stop_does_not_wait_on_uvicorn_clocks() -> None:
    """uvicorn looks at its exit flag every 0.1 s and sleeps 0.1 s before closing connections:
    a stop took 0.1-0.3 s. The best of three stops (one with an idle keep-alive connection
    open) is well under 0.1 s."""
    times = []
    for keep_alive in (False, True, False):
        emulator = EmulatorServer(EmulatorConfig(api_key="sk-stop-test")).start()
        with httpx.Client() as client:
            if keep_alive:
                answer = client.get(f"{emulator.base_url}/v1/models")
                assert answer.status_code == 401  # the connection stays open
            times.append(_stop_seconds(emulator))
        assert not emulator.running
    assert min(times) < 0.08, times


def test_stop_ends_a_streaming_answer_at_once() -> None:
    config = EmulatorConfig(api_key="sk-stop-test", token_rate=5, reply_tokens=500)
    emulator = EmulatorServer(config).start()
    received = threading.Event()
    ended: list[BaseException | None] = []

    def read() -> None:
        try:
            with (
                httpx.Client(timeout=10) as client,
                client.stream(
                    "POST",
                    f"{emulator.base_url}/v1/chat/completions",
                    headers={"Authorization": "Bearer sk-stop-test"},
                    json={
                        "model": "gpt-4o",
                        "stream": True,
                        "messages": [{"role": "user", "content": "hi"}],
                    },
                ) as answer,
            ):
                for _chunk in answer.iter_bytes():
                    received.set()
            ended.append(None)
        except httpx.HTTPError as exc:
            ended.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    assert received.wait(10)
    seconds = _stop_seconds(emulator)
    reader.join(5)
    assert ended, "the stream did not end when the emulator stopped"
    assert seconds < 1.0
