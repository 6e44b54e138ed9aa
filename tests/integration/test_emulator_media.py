"""Seedream image generation and the ``/files`` downloads (ranges, expiry, cut connections)."""

from __future__ import annotations

import base64
import struct
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from studio.emulator import EmulatorServer
from studio.emulator.store import FileStore

KEY = "sk-media"
MODEL = "doubao-seedream-4-0-250828"


@pytest.fixture(scope="module")
def emu(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    return emulator_factory(api_key=KEY)


@pytest.fixture
def client(
    emu: EmulatorServer, emulator_client: Callable[[EmulatorServer], httpx.Client]
) -> httpx.Client:
    return emulator_client(emu)


def generate(client: httpx.Client, **fields: Any) -> httpx.Response:
    return client.post(
        "/v1/images/generations", json={"model": MODEL, "prompt": "a red fox", **fields}
    )


def decode_png(data: bytes) -> tuple[int, int]:
    """Check a PNG fully (signature, chunk CRCs, pixel data length); return its size."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF
        if kind == b"IHDR":
            size = struct.unpack(">II", payload[:8])
            assert payload[8:10] == b"\x08\x02"
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + length
    assert kind == b"IEND"
    width, height = size
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
    return width, height


def test_url_mode_returns_signed_links_to_real_pngs(client: httpx.Client) -> None:
    r = generate(client)
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == MODEL and isinstance(body["created"], int)
    assert len(body["data"]) == 1
    item = body["data"][0]
    assert item["size"] == "2048x2048"
    url = urlsplit(item["url"])
    query = parse_qs(url.query)
    assert url.path.startswith("/files/") and url.path.endswith(".png")
    assert query["X-Tos-Algorithm"] == ["TOS4-HMAC-SHA256"]
    assert query["X-Tos-Expires"] == ["86400"]
    assert len(query["X-Tos-Date"][0]) == 16 and query["X-Tos-Date"][0].endswith("Z")
    assert len(query["X-Tos-Signature"][0]) == 64
    assert "%2F" in item["url"]
    assert body["usage"] == {"generated_images": 1, "output_tokens": 16384, "total_tokens": 16384}
    download = httpx.get(item["url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/png"
    assert int(download.headers["content-length"]) == len(download.content)
    assert decode_png(download.content) == (512, 512)


def test_b64_mode_keeps_the_aspect_ratio_and_is_deterministic(client: httpx.Client) -> None:
    first = generate(client, size="2560x1440", response_format="b64_json").json()["data"][0]
    assert set(first) == {"b64_json", "size"}
    assert first["size"] == "2560x1440"
    png = base64.b64decode(first["b64_json"])
    assert decode_png(png) == (512, 288)
    again = generate(client, size="2560x1440", response_format="b64_json").json()["data"][0]
    assert again["b64_json"] == first["b64_json"]
    other = generate(client, size="2560x1440", response_format="b64_json", prompt="a blue whale")
    assert other.json()["data"][0]["b64_json"] != first["b64_json"]
    small = generate(client, size="1K", response_format="b64_json").json()["data"][0]
    assert small["size"] == "1024x1024"
    assert decode_png(base64.b64decode(small["b64_json"])) == (512, 512)


def test_group_mode_and_item_failure(client: httpx.Client) -> None:
    default = generate(client, sequential_image_generation="auto").json()
    assert len(default["data"]) == 3
    body = generate(
        client,
        prompt="a comic strip [[emulator: fault=item-fail:2]]",
        sequential_image_generation="auto",
        sequential_image_generation_options={"max_images": 4},
        image=["https://example.com/ref.png"],
    ).json()
    assert len(body["data"]) == 4
    assert body["data"][1]["error"]["code"] == "OutputImageSensitiveContentDetected"
    assert body["data"][1]["error"]["message"]
    assert all("url" in item for i, item in enumerate(body["data"]) if i != 1)
    assert body["usage"]["generated_images"] == 3


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"prompt": ""}, "prompt is required"),
        ({"size": "huge"}, "size"),
        ({"size": "100x1700"}, "aspect ratio"),
        ({"size": "5x5"}, "at least 262144 pixels"),
        ({"size": "511x511"}, "at least 262144 pixels"),
        ({"image": ["https://e.com/a.png"] * 15}, "at most 14"),
        ({"sequential_image_generation": "sometimes"}, "sequential_image_generation"),
        (
            {
                "sequential_image_generation": "auto",
                "sequential_image_generation_options": {"max_images": 16},
            },
            "max_images",
        ),
        (
            {
                "image": ["https://e.com/a.png"] * 10,
                "sequential_image_generation": "auto",
                "sequential_image_generation_options": {"max_images": 6},
            },
            "must not exceed 15",
        ),
        ({"response_format": "gif"}, "response_format"),
    ],
)
def test_invalid_image_requests_are_400(
    client: httpx.Client, fields: dict[str, Any], fragment: str
) -> None:
    r = generate(client, **fields)
    assert r.status_code == 400
    assert fragment in r.json()["error"]["message"]


def test_unknown_image_model_is_503(client: httpx.Client) -> None:
    r = client.post("/v1/images/generations", json={"model": "dall-e-9", "prompt": "x"})
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "model_not_found"


@pytest.fixture
def png_url(client: httpx.Client) -> str:
    return str(generate(client, size="1024x1024").json()["data"][0]["url"])


def test_range_requests_resume_a_download(png_url: str) -> None:
    whole = httpx.get(png_url).content
    head = httpx.get(png_url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206
    assert head.headers["content-range"] == f"bytes 0-99/{len(whole)}"
    assert head.headers["content-length"] == "100"
    rest = httpx.get(png_url, headers={"Range": "bytes=100-"})
    assert rest.status_code == 206
    assert head.content + rest.content == whole
    tail = httpx.get(png_url, headers={"Range": "bytes=-10"})
    assert tail.content == whole[-10:]
    bad = httpx.get(png_url, headers={"Range": f"bytes={len(whole)}-"})
    assert bad.status_code == 416
    assert bad.headers["content-range"] == f"bytes */{len(whole)}"
    stale = httpx.get(png_url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.content == whole


def test_invalid_range_is_ignored_and_unsatisfiable_is_a_tos_error(png_url: str) -> None:
    whole = httpx.get(png_url).content
    backwards = httpx.get(png_url, headers={"Range": "bytes=5-3"})  # invalid: ignored
    assert backwards.status_code == 200 and backwards.content == whole
    beyond = httpx.get(png_url, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(whole)}"
    assert beyond.headers["content-type"].startswith("application/xml")
    assert "<Code>InvalidRange</Code>" in beyond.text


def test_video_files_outlive_the_image_budget() -> None:
    # Shared video data costs the budget nothing, so evicting it would free nothing and only
    # break a finished task's link; images are evicted oldest first.
    store = FileStore(max_bytes=250)
    store.put("task.mp4", b"v" * 1000, "video/mp4", shared=True)
    for i in range(4):
        store.put(f"img-{i}.png", b"p" * 100, "image/png")
    assert store.get("task.mp4") == (b"v" * 1000, "video/mp4")
    kept = [store.get(f"img-{i}.png") is not None for i in range(4)]
    assert kept == [False, False, True, True]


def test_unknown_file_is_404(emu: EmulatorServer) -> None:
    r = httpx.get(f"{emu.base_url}/files/nothing.png")
    assert r.status_code == 404
    assert "<Code>NoSuchKey</Code>" in r.text


def test_expired_fault_answers_tos_access_denied(png_url: str) -> None:
    r = httpx.get(png_url, headers={"X-Emulator": "fault=expired"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/xml")
    assert "<Code>AccessDenied</Code>" in r.text
    assert "expired" in r.text


def test_disconnect_fault_cuts_a_download_after_n_bytes(emu: EmulatorServer, png_url: str) -> None:
    emu.inject("disconnect:100", count=1, path="/files")
    received = bytearray()

    def download() -> None:
        with httpx.stream("GET", png_url) as response:
            assert response.status_code == 200
            for piece in response.iter_raw():
                received.extend(piece)

    with pytest.raises(httpx.RemoteProtocolError):
        download()
    assert len(received) == 100
    resumed = httpx.get(png_url, headers={"Range": "bytes=100-"})
    whole = httpx.get(png_url).content
    assert received + resumed.content == whole


def test_drip_fault_slows_a_download_into_small_pieces(emu: EmulatorServer, png_url: str) -> None:
    emu.inject("drip:10", count=1, path="/files")  # 20 pieces, 10 ms apart
    with httpx.stream("GET", png_url, headers={"Range": "bytes=0-139"}) as response:
        pieces = list(response.iter_raw())
    assert b"".join(pieces)[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(b"".join(pieces)) == 140
    assert len(pieces) >= 5


def test_delay_directive_holds_the_image_answer_and_video_creates(client: httpx.Client) -> None:
    started = time.monotonic()
    r = generate(client, prompt="a slow fox [[emulator: delay=0.6]]")
    assert r.status_code == 200 and r.json()["data"][0]["url"]
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    r = client.post(
        "/v1/images/generations",
        json={"model": MODEL, "prompt": "a header fox"},
        headers={"X-Emulator": "delay=0.4"},
    )
    assert r.status_code == 200 and time.monotonic() - started >= 0.4
    started = time.monotonic()
    r = client.post(
        "/v1/video/generations",
        json={
            "model": "seedance-2.0",
            "content": [{"type": "text", "text": "a slow boat [[emulator: delay=0.4]]"}],
        },
    )
    assert r.status_code == 200, r.text
    assert time.monotonic() - started >= 0.4
    r = client.post(
        "/kling/v1/videos/text2video",
        json={"model_name": "kling-v1", "prompt": "a slow kite"},
        headers={"X-Emulator": "delay=0.4"},
    )
    assert r.status_code == 200, r.text
    assert time.monotonic() - started >= 0.8


def test_a_delayed_answer_ends_when_the_emulator_stops(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    server = emulator_factory(api_key=KEY)
    outcome: list[object] = []

    def ask() -> None:
        headers = {"Authorization": f"Bearer {KEY}", "X-Emulator": "delay=30"}
        try:
            outcome.append(
                httpx.post(
                    f"{server.base_url}/v1/images/generations",
                    json={"model": MODEL, "prompt": "never"},
                    headers=headers,
                    timeout=20,
                )
            )
        except httpx.HTTPError as exc:
            outcome.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    # The request log records answers, not arrivals: give the request time to arrive (a
    # stop before it did would end in a connect error, which the last line tells apart).
    time.sleep(0.5)
    started = time.monotonic()
    server.stop()
    asker.join(10)
    assert time.monotonic() - started < 5
    assert outcome and isinstance(outcome[0], httpx.RemoteProtocolError)  # dropped unanswered
