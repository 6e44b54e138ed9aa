"""Emulator-wide faults, the request log, HTTP control, the fault grammar and server lifecycles."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from studio.emulator import (
    EmulatorConfig,
    EmulatorServer,
    FaultError,
    create_app,
    parse_fault,
)
from studio.emulator.config import extract_markers, parse_directives, parse_standing_fault

KEY = "sk-control"
ROOT = Path(__file__).resolve().parents[2]
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def emu(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    return emulator_factory(api_key=KEY, token_rate=0, reply_tokens=10)


@pytest.fixture
def client(
    emu: EmulatorServer, emulator_client: Callable[[EmulatorServer], httpx.Client]
) -> httpx.Client:
    return emulator_client(emu)


# --- queued faults ---------------------------------------------------------------------------


def test_injected_fault_applies_count_times_on_its_path(
    emu: EmulatorServer, client: httpx.Client
) -> None:
    emu.inject("429:empty", count=2, path="/v1/chat")
    assert client.get("/v1/models").status_code == 200
    codes = [client.post("/v1/chat/completions", json=CHAT).status_code for _ in range(3)]
    assert codes == [429, 429, 200]


def test_injected_faults_are_used_in_order(emu: EmulatorServer, client: httpx.Client) -> None:
    emu.inject("429", count=1, path="/v1/models")
    emu.inject("500", count=1, path="/v1/models")
    codes = [client.get("/v1/models").status_code for _ in range(3)]
    assert codes == [429, 500, 200]


def test_fault_until_cleared(emu: EmulatorServer, client: httpx.Client) -> None:
    emu.inject("502", count=None)
    assert [client.get("/v1/models").status_code for _ in range(3)] == [502, 502, 502]
    emu.clear_faults()
    assert client.get("/v1/models").status_code == 200


def test_inapplicable_faults_are_not_consumed(emu: EmulatorServer, client: httpx.Client) -> None:
    emu.inject("malformed:1", count=1)
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as r:
        raw = r.read().decode()
    assert '"delta":{"content":\n' in raw


def test_request_directive_wins_over_queued_fault(
    emu: EmulatorServer, client: httpx.Client
) -> None:
    emu.inject("500", count=1, path="/v1/chat")
    r = client.post("/v1/chat/completions", json=CHAT, headers={"X-Emulator": "fault=403"})
    assert r.status_code == 403
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 500


def test_bad_fault_spec_is_rejected(emu: EmulatorServer) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        emu.inject("explode")
    with pytest.raises(ValueError, match="count"):
        emu.inject("429", count=0)


def test_standing_faults_from_the_config(
    emulator_factory: Callable[..., EmulatorServer],
    emulator_client: Callable[[EmulatorServer], httpx.Client],
) -> None:
    faults = ("503@/v1/chat", "429*1@/v1/models")
    with emulator_factory(api_key=KEY, token_rate=0, faults=faults) as server:
        c = emulator_client(server)
        assert [c.get("/v1/models").status_code for _ in range(2)] == [429, 200]
        assert c.post("/v1/chat/completions", json=CHAT).status_code == 503
        assert c.post("/v1/chat/completions", json=CHAT).status_code == 503
        server.clear_faults()
        assert c.post("/v1/chat/completions", json=CHAT).status_code == 200


# --- request log and HTTP control ------------------------------------------------------------


def test_request_log_records_every_request(emu: EmulatorServer, client: httpx.Client) -> None:
    before = len(emu.requests)
    client.get("/v1/models", headers={"Idempotency-Key": "k-1"})
    client.get("/v1/models", headers={"Authorization": "Bearer sk-nope"})
    client.get("/files/missing.png")
    records = emu.requests[before:]
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/v1/models", 200),
        ("GET", "/v1/models", 401),
        ("GET", "/files/missing.png", 404),
    ]
    assert records[0].idempotency_key == "k-1" and records[1].idempotency_key is None
    assert all(abs(r.at - time.time()) < 60 for r in records)


def test_http_control_endpoints(emu: EmulatorServer, client: httpx.Client) -> None:
    with httpx.Client(base_url=emu.base_url) as plain:
        r = plain.post(
            "/_emulator/faults", json={"spec": "429:task", "count": 1, "path": "/v1/models"}
        )
        assert r.status_code == 200
        assert r.json()["faults"] == [{"spec": "429:task", "count": 1, "path": "/v1/models"}]
        assert client.get("/v1/models").status_code == 429
        assert client.get("/v1/models").status_code == 200
        assert (
            plain.post("/_emulator/faults", json={"spec": "500", "count": None}).status_code == 200
        )
        assert plain.get("/_emulator/faults").json()["faults"][0]["count"] is None
        assert client.get("/v1/models").status_code == 500
        assert plain.delete("/_emulator/faults").json() == {"ok": True, "cleared": 1}
        assert client.get("/v1/models").status_code == 200
        bad = plain.post("/_emulator/faults", json={"spec": "nonsense"})
        assert bad.status_code == 400
        log = plain.get("/_emulator/requests").json()["requests"]
        assert {"method", "path", "status", "idempotency_key", "at"} <= set(log[-1])
        assert log[-1]["path"] == "/_emulator/faults" and log[-1]["status"] == 400


# --- grammar and config ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind", "status", "variant", "number"),
    [
        ("429", "status", 429, "", 0),
        ("429:task", "status", 429, "task", 0),
        ("429:empty", "status", 429, "empty", 0),
        ("429:retry-after=2.5", "status", 429, "retry-after", 2.5),
        ("429:retry-after-ms=300", "status", 429, "retry-after-ms", 300),
        ("500:html", "status", 500, "html", 0),
        ("503", "status", 503, "", 0),
        ("disconnect:4", "disconnect", 0, "", 4),
        ("malformed:0", "malformed", 0, "", 0),
        ("error-event:2", "error-event", 0, "", 2),
        ("stall:1.5", "stall", 0, "", 1.5),
        ("drip:20", "drip", 0, "", 20),
        ("item-fail:3", "item-fail", 0, "", 3),
        ("notfound:404", "notfound", 404, "", 0),
        ("legacy-url", "legacy-url", 0, "", 0),
        ("expired", "expired", 0, "", 0),
    ],
)
def test_fault_grammar(spec: str, kind: str, status: int, variant: str, number: float) -> None:
    fault = parse_fault(spec)
    assert (fault.kind, fault.status, fault.variant, fault.number) == (
        kind,
        status,
        variant,
        number,
    )


def test_fail_reason_keeps_its_text() -> None:
    assert parse_fault("fail").reason == ""
    assert parse_fault("fail:Policy: no cats").reason == "Policy: no cats"


@pytest.mark.parametrize(
    "spec",
    [
        "418",
        "404:x",
        "429:later",
        "disconnect",
        "disconnect:x",
        "stall:-1",
        "item-fail:0",
        "notfound:500",
        "boom",
    ],
)
def test_bad_fault_specs(spec: str) -> None:
    with pytest.raises(FaultError):
        parse_fault(spec)


def test_directives_and_markers() -> None:
    d = parse_directives(
        "tokens=12; rate=0; fault=429:retry-after=1; fault=drip:5; dialect=anyfast"
    )
    assert (d.tokens, d.rate, d.dialect) == (12, 0.0, "anyfast")
    assert [f.spec for f in d.faults] == ["429:retry-after=1", "drip:5"]
    text, marked = extract_markers(
        "Draw [[emulator: think=3; notfound=404]] a cat [[emulator: think=5]]"
    )
    assert text == "Draw a cat"
    assert (marked.think, marked.notfound) == (5, 404)
    merged = parse_directives("think=1").over(marked)
    assert (merged.think, merged.notfound) == (1, 404)
    with pytest.raises(FaultError):
        parse_directives("tokens")
    with pytest.raises(FaultError):
        parse_directives("dialect=klingon")


def test_standing_fault_entries() -> None:
    entry = parse_standing_fault("disconnect:2*3@/files")
    assert (entry.fault.kind, entry.count, entry.path) == ("disconnect", 3, "/files")
    assert parse_standing_fault("fail:a*b").fault.reason == "a*b"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"speed": 0},
        {"token_rate": -1},
        {"not_found_status": 500},
        {"status_dialect": "other"},
        {"ping_interval": 0},
        {"faults": ("nope",)},
    ],
)
def test_config_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must|unknown fault"):
        EmulatorConfig(**kwargs)  # type: ignore[arg-type]


# --- lifecycles --------------------------------------------------------------------------------


def test_generated_key_and_clean_stop() -> None:
    threads_before = set(threading.enumerate())
    server = EmulatorServer()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    assert re.fullmatch(r"sk-emu-[0-9a-f]{32}", server.api_key)
    with server:
        r = httpx.get(
            f"{server.base_url}/v1/models", headers={"Authorization": f"Bearer {server.api_key}"}
        )
        assert r.status_code == 200
        assert server.running
    assert not server.running
    assert set(threading.enumerate()) <= threads_before
    with server:
        assert httpx.get(f"{server.base_url}/v1/models").status_code == 401


def test_stop_ends_a_stalled_stream_promptly() -> None:
    server = EmulatorServer(EmulatorConfig(api_key=KEY)).start()
    outcome: list[str] = []

    def read() -> None:
        try:
            with httpx.stream(
                "POST",
                f"{server.base_url}/v1/chat/completions",
                json={**CHAT, "stream": True},
                headers={"Authorization": f"Bearer {KEY}", "X-Emulator": "fault=stall:60"},
                timeout=30,
            ) as response:
                for _ in response.iter_raw():
                    outcome.append("data")
        except httpx.HTTPError as exc:
            outcome.append(type(exc).__name__)

    reader = threading.Thread(target=read)
    try:
        reader.start()
        deadline = time.monotonic() + 5
        while "data" not in outcome and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        server.stop()
        # Well under uvicorn's graceful-shutdown timeout (3 s), which a stalled stream that
        # ignored the stop would run into.
        assert time.monotonic() - started < 2
        reader.join(5)
        assert outcome[-1] == "RemoteProtocolError"
    finally:
        server.stop()
        reader.join(5)


async def test_create_app_runs_under_any_asgi_server() -> None:
    app = create_app(EmulatorConfig(token_rate=0, reply_tokens=3, exact_reply_length=True))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu") as c:
        r = await c.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer any"})
        assert r.status_code == 200
        assert r.json()["usage"]["completion_tokens"] == 3
        assert (await c.get("/v1/models")).status_code == 401
    assert app.state.requests[-1].status == 401


@pytest.mark.parametrize(
    ("api_key", "stop_signal"), [(None, signal.SIGINT), ("sk-cli", signal.SIGTERM)]
)
def test_serve_forever_in_a_subprocess(api_key: str | None, stop_signal: signal.Signals) -> None:
    code = (
        "from studio.emulator import EmulatorConfig, serve_forever; "
        f"serve_forever(EmulatorConfig(api_key={api_key!r}), host='127.0.0.1', port=0)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        assert (api_key or "any key") in line
        url = match.group(0)
        r = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer whatever"})
        assert r.status_code == (200 if api_key is None else 401)
        if api_key:
            ok = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {api_key}"})
            assert ok.status_code == 200
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_emulator_never_imports_textual() -> None:
    code = "import sys, studio.emulator; assert 'textual' not in sys.modules, 'textual imported'"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
