"""The emulator's auth, model list and chat completions (plain and streamed), over real HTTP."""

from __future__ import annotations

import base64
import json
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from studio.emulator import EmulatorServer
from studio.emulator.replies import tokenize

KEY = "sk-test"


@pytest.fixture(scope="module")
def emu(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    return emulator_factory(
        api_key=KEY, token_rate=0, reply_tokens=40, exact_reply_length=True, ping_interval=0.1
    )


@pytest.fixture
def client(
    emu: EmulatorServer, emulator_client: Callable[[EmulatorServer], httpx.Client]
) -> httpx.Client:
    return emulator_client(emu)


def chat_body(text: str = "How do streams work?", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], **extra}


def sse_events(raw: str) -> list[str]:
    """The events of an SSE body: each ``data:`` payload, or the comment line as is."""
    out = []
    for block in raw.split("\n\n"):
        if not block:
            continue
        out.append(block[len("data: ") :] if block.startswith("data: ") else block)
    return out


def stream_text(client: httpx.Client, body: dict[str, Any], **kw: Any) -> str:
    with client.stream("POST", "/v1/chat/completions", json=body, **kw) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        return response.read().decode()


def content_of(events: list[str], field: str = "content") -> str:
    text = ""
    for event in events:
        if event.startswith("{"):
            chunk = json.loads(event)
            if chunk.get("choices"):
                text += chunk["choices"][0]["delta"].get(field) or ""
    return text


# --- auth, request ids, models -------------------------------------------------------------


def test_missing_key_answers_no_token_provided(emu: EmulatorServer) -> None:
    for headers in ({}, {"Authorization": ""}, {"Authorization": "Bearer"}):
        r = httpx.get(f"{emu.base_url}/v1/models", headers=headers)
        assert r.status_code == 401
        assert r.json() == {
            "error": {
                "message": "No token provided",
                "type": "new_api_error",
                "param": "",
                "code": "",
            }
        }


def test_wrong_key_answers_invalid_api_key(emu: EmulatorServer) -> None:
    r = httpx.post(
        f"{emu.base_url}/kling/v1/videos/text2video",
        headers={"Authorization": "Bearer sk-wrong"},
        json={"prompt": "x"},
    )
    assert r.status_code == 401
    assert r.json() == {
        "error": {
            "message": "Invalid API key provided.",
            "type": "authentication_error",
            "code": "invalid_api_key",
        }
    }


def test_every_answer_carries_a_request_id(client: httpx.Client) -> None:
    for response in (
        client.get("/v1/models"),
        client.get("/v1/models", headers={"Authorization": ""}),
    ):
        rid = response.headers["x-oneapi-request-id"]
        assert len(rid) >= 26
        assert rid[:8].isdigit()


def test_models_list_looks_like_new_api(client: httpx.Client) -> None:
    body = client.get("/v1/models").json()
    assert body["success"] is True
    assert body["object"] == "list"
    by_id = {m["id"]: m for m in body["data"]}
    assert all(m["created"] == 1626777600 and m["object"] == "model" for m in body["data"])
    assert by_id["gpt-4o"]["owned_by"] == "openai"
    assert by_id["gpt-4o"]["supported_endpoint_types"] == ["openai"]
    assert "anthropic" in by_id["claude-sonnet-4-5-20250929"]["supported_endpoint_types"]
    for model in ("claude-opus-4-1-20250805", "deepseek-r1", "kimi-k2.6", "qwen3-235b-a22b"):
        assert model in by_id
    assert by_id["doubao-seedream-4-5-251128"]["supported_endpoint_types"] == ["image-generation"]
    assert by_id["seedance-2.0"]["supported_endpoint_types"] == ["video"]
    assert by_id["kling-v2-master"]["supported_endpoint_types"] == ["video"]


def test_unknown_route_is_an_invalid_url_error(client: httpx.Client) -> None:
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "Invalid URL (GET /v1/nothing-here)"


# --- plain chat ------------------------------------------------------------------------------


def test_non_stream_completion_shape(client: httpx.Client) -> None:
    r = client.post("/v1/chat/completions", json=chat_body("Explain caching in web apps"))
    assert r.status_code == 200
    body = r.json()
    assert body["id"].startswith("chatcmpl-") and body["id"][9:].isalnum()
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o"
    assert isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"].startswith("You asked: “Explain caching in web apps”")
    usage = body["usage"]
    assert usage["completion_tokens"] == 40 == len(tokenize(choice["message"]["content"]))
    assert usage["prompt_tokens"] == round(5 * 1.3)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_replies_are_deterministic_and_prefix_stable(client: httpx.Client) -> None:
    def reply(text: str, tokens: int) -> str:
        r = client.post(
            "/v1/chat/completions",
            json=chat_body(text),
            headers={"X-Emulator": f"tokens={tokens}"},
        )
        return str(r.json()["choices"][0]["message"]["content"])

    first = reply("Compare SQLite and Postgres", 300)
    assert reply("Compare SQLite and Postgres", 300) == first
    assert reply("Compare MySQL and Postgres", 300) != first
    short = reply("Compare SQLite and Postgres", 120)
    assert first.startswith(short)
    for piece in ("## ", "\n- **", "```python\n", "| Option | Latency |"):
        assert piece in first


def test_tokens_rejoin_to_the_markdown() -> None:
    text = "Hello  world\n\n```python\n    x = 1\n```\n| a | b |\n"
    assert "".join(tokenize(text)) == text


def test_max_tokens_cuts_with_finish_reason_length(client: httpx.Client) -> None:
    body = client.post("/v1/chat/completions", json=chat_body(max_tokens=7)).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 7
    raw = stream_text(client, chat_body(stream=True, max_completion_tokens=5))
    events = sse_events(raw)
    assert len(tokenize(content_of(events))) == 5
    assert json.loads(events[-3])["choices"][0]["finish_reason"] == "length"


def test_max_tokens_caps_a_reply_that_ends_at_a_section(
    emulator_factory: Callable[..., EmulatorServer],
    emulator_client: Callable[[EmulatorServer], httpx.Client],
) -> None:
    # By default a reply runs on to the end of the section that reaches reply_tokens; it used to
    # run past max_tokens too, with finish_reason "stop".
    with emulator_factory(api_key=KEY, token_rate=0, reply_tokens=40) as server:
        c = emulator_client(server)
        natural = c.post("/v1/chat/completions", json=chat_body()).json()
        length = natural["usage"]["completion_tokens"]
        assert length > 41
        capped = c.post("/v1/chat/completions", json=chat_body(max_tokens=41)).json()
        assert capped["usage"]["completion_tokens"] == 41
        assert capped["choices"][0]["finish_reason"] == "length"
        text = capped["choices"][0]["message"]["content"]
        assert len(tokenize(text)) == 41
        assert natural["choices"][0]["message"]["content"].startswith(text)
        events = sse_events(stream_text(c, chat_body(stream=True, max_completion_tokens=41)))
        assert content_of(events) == text
        assert json.loads(events[-3])["choices"][0]["finish_reason"] == "length"
        assert json.loads(events[-2])["usage"]["completion_tokens"] == 41
        roomy = c.post("/v1/chat/completions", json=chat_body(max_tokens=length)).json()
        assert roomy["usage"]["completion_tokens"] == length
        assert roomy["choices"][0]["finish_reason"] == "stop"


def test_marker_is_stripped_and_header_wins(client: httpx.Client) -> None:
    body = chat_body("Tell me about rust [[emulator: tokens=5]] please")
    r = client.post("/v1/chat/completions", json=body)
    content = r.json()["choices"][0]["message"]["content"]
    assert r.json()["usage"]["completion_tokens"] == 5
    assert "emulator" not in content
    r = client.post("/v1/chat/completions", json=body, headers={"X-Emulator": "tokens=9"})
    assert r.json()["usage"]["completion_tokens"] == 9
    plain = client.post("/v1/chat/completions", json=chat_body("Tell me about rust please"))
    assert plain.json()["choices"][0]["message"]["content"].startswith(content.rstrip())


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + crc


def _data_uri(kind: str, data: bytes) -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


def test_reply_describes_attached_images(client: httpx.Client) -> None:
    gif = b"GIF89a" + struct.pack("<HH", 10, 20) + b"\x00" * 8
    jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08" + struct.pack(">HH", 40, 30) + b"\x03"
    parts = [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": _data_uri("png", _png_header(64, 48))}},
        {"type": "image_url", "image_url": {"url": _data_uri("gif", gif)}},
        {"type": "image_url", "image_url": {"url": _data_uri("jpeg", jpeg)}},
        {"type": "image_url", "image_url": {"url": "https://example.com/photos/cat.jpg?x=1"}},
    ]
    body = {"model": "claude-sonnet-4-5-20250929", "messages": [{"role": "user", "content": parts}]}
    answer = client.post("/v1/chat/completions", json=body).json()
    first = answer["choices"][0]["message"]["content"].split("\n\n")[0]
    assert "You attached 4 images" in first
    assert "image 1: a 64×48 PNG" in first
    assert "image 2: a 10×20 GIF" in first
    assert "image 3: a 30×40 JPEG" in first
    assert "image 4: cat.jpg" in first
    assert answer["usage"]["prompt_tokens"] == round(4 * 1.3) + 4 * 85


def test_reasoning_models_think_first(client: httpx.Client) -> None:
    body = {
        "model": "deepseek-r1",
        "messages": [{"role": "user", "content": "Why is the sky blue?"}],
    }
    whole = client.post("/v1/chat/completions", json=body).json()
    message = whole["choices"][0]["message"]
    assert message["reasoning_content"]
    assert whole["usage"]["completion_tokens_details"]["reasoning_tokens"] == len(
        tokenize(message["reasoning_content"])
    )
    events = sse_events(stream_text(client, {**body, "stream": True}))
    chunks = [json.loads(e) for e in events[2:] if e.startswith("{")]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    kinds = ["reasoning" if "reasoning_content" in d else "content" for d in deltas if d]
    assert kinds[0] == "reasoning" and kinds[-1] == "content"
    assert kinds == sorted(kinds, key=lambda k: k == "content")
    assert content_of(events, "reasoning_content") == message["reasoning_content"]
    gpt = client.post(
        "/v1/chat/completions", json=chat_body(), headers={"X-Emulator": "think=4"}
    ).json()
    assert gpt["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4
    off = client.post("/v1/chat/completions", json=body, headers={"X-Emulator": "think=0"}).json()
    assert "reasoning_content" not in off["choices"][0]["message"]


# --- streaming wire format ---------------------------------------------------------------------


def test_stream_wire_format(client: httpx.Client) -> None:
    raw = stream_text(client, chat_body("Stream me", stream=True))
    assert raw.endswith("data: [DONE]\n\n")
    events = sse_events(raw)
    first = json.loads(events[0])
    assert first["object"] == "chat.completion.chunk"
    assert first["id"].startswith("chatcmpl-")
    assert first["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    ]
    assert events[1] == ": PING"
    chunks = [json.loads(e) for e in events[2:-1]]
    assert all(c["id"] == first["id"] and c["model"] == "gpt-4o" for c in chunks)
    finish, usage = chunks[-2], chunks[-1]
    assert finish["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 40 == len(chunks) - 2
    assert events[-1] == "[DONE]"
    whole = client.post("/v1/chat/completions", json=chat_body("Stream me")).json()
    assert content_of(events) == whole["choices"][0]["message"]["content"]


def test_include_usage_false_drops_the_usage_chunk(client: httpx.Client) -> None:
    body = chat_body(stream=True, stream_options={"include_usage": False})
    events = sse_events(stream_text(client, body))
    assert events[-1] == "[DONE]"
    assert all(json.loads(e)["choices"] for e in events[2:-1])
    events = sse_events(stream_text(client, chat_body(stream=True, stream_options={})))
    assert json.loads(events[-2])["choices"] == []


def test_token_rate_paces_the_stream(client: httpx.Client) -> None:
    started = time.monotonic()
    stream_text(client, chat_body(stream=True), headers={"X-Emulator": "rate=100; tokens=30"})
    assert time.monotonic() - started >= 0.25


def test_keepalive_pings_while_waiting_for_a_slow_token(client: httpx.Client) -> None:
    # A 0.5 s wait between the two tokens holds four 0.1 s beats: slack for a busy machine.
    raw = stream_text(client, chat_body(stream=True), headers={"X-Emulator": "rate=2; tokens=2"})
    assert raw.count(": PING") >= 3


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model is required"),
        ({"model": "gpt-4o", "messages": []}, "messages must be a non-empty array"),
        ({"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": 5}]}, "content"),
        (chat_body(temperature=2.5), "temperature"),
        (chat_body(max_tokens=0), "max_tokens"),
        (chat_body(stream="yes"), "stream"),
    ],
)
def test_invalid_chat_requests_are_400(
    client: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert fragment in error["message"]
    assert set(error) == {"message", "type", "param", "code"}


def test_bad_json_and_bad_directive_are_400(client: httpx.Client) -> None:
    r = client.post(
        "/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert "invalid JSON" in r.json()["error"]["message"]
    r = client.post("/v1/chat/completions", json=chat_body(), headers={"X-Emulator": "volume=11"})
    assert r.status_code == 400
    assert "unknown emulator directive" in r.json()["error"]["message"]


def test_unknown_model_is_503_model_not_found(client: httpx.Client) -> None:
    r = client.post("/v1/chat/completions", json={**chat_body(), "model": "gpt-9"})
    assert r.status_code == 503
    error = r.json()["error"]
    assert error["code"] == "model_not_found"
    assert error["message"].startswith("No available channel for model gpt-9 under group default")
    assert "(request id: " in error["message"]


# --- faults on chat ----------------------------------------------------------------------------


def collect(client: httpx.Client, directive: str, **extra: Any) -> tuple[str, Exception | None]:
    """Read a stream until it ends or breaks; return what arrived and the error, if any."""
    received = b""
    try:
        with client.stream(
            "POST",
            "/v1/chat/completions",
            json=chat_body(stream=True, **extra),
            headers={"X-Emulator": directive},
        ) as response:
            for piece in response.iter_raw():
                received += piece
    except httpx.HTTPError as exc:
        return received.decode(), exc
    return received.decode(), None


def test_disconnect_fault_cuts_the_stream_after_n_chunks(client: httpx.Client) -> None:
    raw, error = collect(client, "fault=disconnect:3")
    assert isinstance(error, httpx.RemoteProtocolError)
    events = sse_events(raw)
    assert len(tokenize(content_of(events))) == 3
    assert "[DONE]" not in events
    assert all('"finish_reason":"stop"' not in e for e in events)


def test_disconnect_fault_drops_a_plain_request_unanswered(
    client: httpx.Client, emu: EmulatorServer
) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(
            "/v1/chat/completions",
            json=chat_body(),
            headers={"X-Emulator": "fault=disconnect:0", "Idempotency-Key": "idem-1"},
        )
    record = next(r for r in reversed(emu.requests) if r.idempotency_key == "idem-1")
    assert record.status == 0
    assert record.path == "/v1/chat/completions"


def test_malformed_fault_sends_a_broken_line_then_continues(client: httpx.Client) -> None:
    raw, error = collect(client, "fault=malformed:2")
    assert error is None
    events = sse_events(raw)
    broken = [i for i, e in enumerate(events) if e.startswith("{") and not _is_json(e)]
    assert len(broken) == 1
    before = [e for e in events[: broken[0]] if e.startswith("{")]
    assert len(tokenize(content_of(before))) == 2
    assert events[-1] == "[DONE]"


def test_stream_faults_beyond_the_reply_fire_once_at_its_end(client: httpx.Client) -> None:
    raw, error = collect(client, "fault=malformed:40")
    assert error is None
    assert sum(1 for e in sse_events(raw) if e.startswith("{") and not _is_json(e)) == 1
    raw, error = collect(client, "fault=malformed:99")
    assert sum(1 for e in sse_events(raw) if e.startswith("{") and not _is_json(e)) == 1
    raw, error = collect(client, "fault=disconnect:99")
    assert isinstance(error, httpx.RemoteProtocolError)
    assert len(tokenize(content_of(sse_events(raw)))) == 40


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_error_event_fault_ends_the_stream_with_an_error(client: httpx.Client) -> None:
    raw, error = collect(client, "fault=error-event:1")
    assert error is None
    events = sse_events(raw)
    assert json.loads(events[-1]) == {
        "error": {
            "message": "upstream error: overloaded",
            "type": "upstream_error",
            "code": "overloaded",
        }
    }
    assert len(tokenize(content_of(events[:-1]))) == 1
    assert "[DONE]" not in events


def test_stall_fault_sends_only_pings_then_closes(client: httpx.Client) -> None:
    started = time.monotonic()
    raw, error = collect(client, "fault=stall:0.6")
    assert time.monotonic() - started >= 0.55
    assert isinstance(error, httpx.RemoteProtocolError)
    events = sse_events(raw)
    assert json.loads(events[0])["choices"][0]["delta"]["role"] == "assistant"
    assert set(events[1:]) == {": PING"}
    assert len(events) >= 4


def test_drip_fault_delivers_tiny_pieces(client: httpx.Client) -> None:
    pieces: list[bytes] = []
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json=chat_body(stream=True),
        # 4 ms between pieces (~0.5 s in all) leaves a busy client time to read each alone.
        headers={"X-Emulator": "fault=drip:4; tokens=1"},
    ) as response:
        pieces.extend(response.iter_raw())
    raw = b"".join(pieces).decode()
    assert raw.endswith("data: [DONE]\n\n")
    assert len(pieces) >= len(raw) // 21
    assert sorted(len(p) for p in pieces)[len(pieces) // 2] <= 7


@pytest.mark.parametrize(
    ("spec", "status", "check"),
    [
        ("429", 429, lambda r: r.json()["error"]["code"] == "rate_limit_exceeded"),
        ("429:task", 429, lambda r: r.json()["code"] == "rate_limit" and r.json()["data"] is None),
        ("429:empty", 429, lambda r: r.content == b""),
        ("429:retry-after=3", 429, lambda r: r.headers["retry-after"] == "3"),
        ("429:retry-after-ms=250", 429, lambda r: r.headers["retry-after-ms"] == "250"),
        ("403", 403, lambda r: r.json()["error"]["code"] == "insufficient_user_quota"),
        ("500", 500, lambda r: r.json()["error"]["type"] == "new_api_error"),
        ("500:html", 500, lambda r: r.headers["content-type"].startswith("text/html")),
        ("502", 502, lambda r: r.json()["error"]["type"] == "upstream_error"),
        ("503", 503, lambda r: "model gpt-4o under group" in r.json()["error"]["message"]),
        (
            "404",
            404,
            lambda r: r.json()["error"]["message"] == "Invalid URL (POST /v1/chat/completions)",
        ),
    ],
)
def test_status_faults(client: httpx.Client, spec: str, status: int, check: Any) -> None:
    r = client.post(
        "/v1/chat/completions", json=chat_body(), headers={"X-Emulator": f"fault={spec}"}
    )
    assert r.status_code == status
    assert check(r)
    if spec == "429":
        assert "retry-after" not in r.headers
