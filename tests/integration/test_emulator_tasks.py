"""Seedance and Kling video tasks: create shapes, timelines, failures, dialects, validation."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from studio.emulator import EmulatorServer

KEY = "sk-video"
TERMINAL = {"SUCCESS", "FAILURE", "FAILED"}
GATEWAY_ORDER = ["NOT_START", "QUEUED", "SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILURE"]
ANYFAST_ORDER = ["SUBMITTED", "PROCESSING", "SUCCESS", "FAILED"]


@pytest.fixture(scope="module")
def emu(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    # 45 emulated seconds at speed 50: each task runs about 0.9 s.
    return emulator_factory(api_key=KEY, speed=50, video_seconds=45)


@pytest.fixture
def client(
    emu: EmulatorServer, emulator_client: Callable[[EmulatorServer], httpx.Client]
) -> httpx.Client:
    return emulator_client(emu)


def seedance(client: httpx.Client, text: str = "a cat at a piano", **fields: Any) -> httpx.Response:
    body = {"model": "seedance-2.0", "content": [{"type": "text", "text": text}], **fields}
    return client.post("/v1/video/generations", json=body)


def poll(
    client: httpx.Client, path: str, *, timeout: float = 5.0, **kw: Any
) -> list[dict[str, Any]]:
    """Query until the task is terminal; every answer's ``data`` in order."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(path, **kw)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["code"] == "success" and body["message"] == ""
        seen.append(body["data"])
        if body["data"]["status"] in TERMINAL:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"task at {path} did not finish in {timeout} s")


def assert_ordered(statuses: list[str], order: list[str]) -> None:
    ranks = [order.index(s) for s in statuses]
    assert ranks == sorted(ranks), statuses


def download_mp4(url: str) -> bytes:
    r = httpx.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "video/mp4"
    assert r.content[4:8] == b"ftyp"
    return r.content


# --- Seedance ----------------------------------------------------------------------------


def test_seedance_create_answer_shape(client: httpx.Client) -> None:
    r = seedance(client)
    assert r.status_code == 200
    body = r.json()
    assert re.fullmatch(r"asyntask_[A-Za-z0-9]{32}", body["id"])
    assert body["task_id"] == body["id"]
    assert body["object"] == "video"
    assert body["model"] == "seedance-2.0"
    assert body["status"] == "" and body["progress"] == 0
    assert isinstance(body["created_at"], int)


def test_seedance_timeline_reaches_success(client: httpx.Client) -> None:
    task_id = seedance(client).json()["id"]
    seen = poll(client, f"/v1/video/generations/{task_id}")
    statuses = [d["status"] for d in seen]
    assert_ordered(statuses, GATEWAY_ORDER)
    assert "IN_PROGRESS" in statuses and statuses[-1] == "SUCCESS"
    for data in seen:
        assert data["task_id"] == task_id and data["action"] == "generate"
        assert re.fullmatch(r"\d+%", data["progress"])
        if data["status"] in ("NOT_START", "QUEUED"):
            assert set(data["data"]) == {"id"} and data["data"]["id"].startswith("cgt-")
            assert data["start_time"] == 0
        if data["status"] == "IN_PROGRESS":
            assert 20 <= int(data["progress"][:-1]) <= 95
            assert data["data"]["status"] == "running"
            assert data["start_time"] >= data["submit_time"] > 0
            assert data["finish_time"] == 0
            assert "result_url" not in data
    final = seen[-1]
    assert final["progress"] == "100%" and final["fail_reason"] == ""
    assert final["finish_time"] >= final["start_time"] > 0
    assert final["request_id"]
    inner = final["data"]
    assert inner["status"] == "succeeded"
    assert inner["content"]["video_url"] == final["result_url"]
    assert inner["model"] == "doubao-seedance-2-0-260128"
    assert inner["duration"] == 5 and inner["resolution"] == "720p" and inner["ratio"] == "16:9"
    assert inner["usage"]["completion_tokens"] > 0
    assert "X-Tos-Expires=86400" in final["result_url"]
    download_mp4(final["result_url"])


def test_seedance_failure_fault(client: httpx.Client) -> None:
    created = seedance(client, "a storm [[emulator: fault=fail:Content policy hit]]").json()
    seen = poll(client, f"/v1/video/generations/{created['id']}")
    statuses = [d["status"] for d in seen]
    assert "IN_PROGRESS" in statuses and statuses[-1] == "FAILURE"
    final = seen[-1]
    assert final["fail_reason"] == "Content policy hit"
    assert "result_url" not in final
    assert final["data"]["status"] == "failed"
    assert final["data"]["error"]["message"] == "Content policy hit"
    assert final["data"]["error"]["code"]


def test_seedance_legacy_url_fault_puts_the_link_in_fail_reason(client: httpx.Client) -> None:
    created = seedance(client, "waves [[emulator: fault=legacy-url; seconds=0]]").json()
    final = poll(client, f"/v1/video/generations/{created['id']}")[-1]
    assert final["status"] == "SUCCESS"
    assert "result_url" not in final
    assert "content" not in final["data"]
    assert final["fail_reason"].startswith("http")
    download_mp4(final["fail_reason"])


def test_frame_and_reference_actions(client: httpx.Client) -> None:
    frames = [
        {"type": "text", "text": "morph [[emulator: seconds=0]]"},
        {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": "https://e.com/b.png"}, "role": "last_frame"},
    ]
    r = client.post("/v1/video/generations", json={"model": "seedance-fast", "content": frames})
    final = poll(client, f"/v1/video/generations/{r.json()['id']}")[-1]
    assert final["action"] == "firstTailGenerate"
    refs = [
        {"type": "image_url", "image_url": {"url": "asset://asset-1"}, "role": "reference_image"},
        {"type": "text", "text": "@image1 dances [[emulator: seconds=0]]"},
    ]
    r = client.post("/v1/video/generations", json={"model": "seedance-2.0", "content": refs})
    assert (
        poll(client, f"/v1/video/generations/{r.json()['id']}")[-1]["action"] == "referenceGenerate"
    )


IMG = {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}
TEXT = {"type": "text", "text": "x"}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"content": [TEXT]}, "model is required"),
        ({"model": "gpt-4o", "content": [TEXT]}, "not a Seedance"),
        ({"model": "seedance-2.0"}, "content"),
        ({"model": "seedance-2.0", "content": []}, "content"),
        (
            {
                "model": "seedance-2.0",
                "content": [{"type": "audio_url", "audio_url": {"url": "https://e.com/a.mp3"}}],
            },
            "text or image",
        ),
        (
            {
                "model": "seedance-2.0",
                "content": [
                    TEXT,
                    {**IMG, "role": "first_frame"},
                    {**IMG, "role": "reference_image"},
                ],
            },
            "cannot be mixed",
        ),
        (
            {
                "model": "seedance-2.0",
                "content": [TEXT] + [{**IMG, "role": "reference_image"}] * 10,
            },
            "9 images",
        ),
        (
            {
                "model": "seedance-2.0",
                "content": [
                    TEXT,
                    {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}},
                ],
            },
            "video_url.url",
        ),
        (
            {
                "model": "seedance-2.0",
                "content": [
                    TEXT,
                    {"type": "audio_url", "audio_url": {"url": "https://e.com/a.mp3"}},
                ],
            },
            "audio requires",
        ),
        (
            {"model": "seedance-2.0", "content": [TEXT, {**IMG, "role": "last_frame"}]},
            "first_frame",
        ),
        ({"model": "seedance-2.0", "content": [TEXT, {**IMG, "role": "sidekick"}]}, "role"),
        ({"model": "seedance-2.0", "content": [TEXT], "duration": 20}, "between 4 and 15"),
        (
            {"model": "doubao-seedance-1-5-pro-251215", "content": [TEXT], "duration": 13},
            "between 4 and 12",
        ),
        ({"model": "seedance-fast", "content": [TEXT], "resolution": "1080p"}, "resolution"),
        ({"model": "seedance-2.0", "content": [TEXT], "ratio": "5:4"}, "ratio"),
        ({"model": "doubao-seedance-1-0-lite-t2v-250428", "content": [TEXT, IMG]}, "text-to-video"),
    ],
)
def test_invalid_seedance_requests(
    client: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    r = client.post("/v1/video/generations", json=body)
    assert r.status_code == 400
    answer = r.json()
    assert answer["code"] == "invalid_request" and answer["data"] is None
    assert fragment in answer["message"]


def test_seedance_family_duration_ranges(client: httpx.Client) -> None:
    lite = {"model": "doubao-seedance-1-0-lite-t2v-250428", "content": [TEXT], "duration": 2}
    assert client.post("/v1/video/generations", json=lite).status_code == 200
    assert seedance(client, duration=15, resolution="1080p", ratio="9:16").status_code == 200


def test_unknown_task_ids(client: httpx.Client, emu: EmulatorServer) -> None:
    missing = {"code": "task_not_exist", "message": "task_not_exist", "data": None}
    r = client.get("/v1/video/generations/asyntask_nope")
    assert r.status_code == 400 and r.json() == missing
    r = client.get("/v1/video/generations/asyntask_nope", headers={"X-Emulator": "notfound=404"})
    assert r.status_code == 404 and r.json() == missing
    emu.inject("notfound:404", count=1, path="/kling")
    assert client.get("/kling/v1/videos/text2video/123").status_code == 404
    assert client.get("/kling/v1/videos/123").status_code == 400
    seedance_id = seedance(client).json()["id"]
    assert client.get(f"/kling/v1/videos/{seedance_id}").json() == missing


def test_not_found_status_from_config(
    emulator_factory: Callable[..., EmulatorServer],
    emulator_client: Callable[[EmulatorServer], httpx.Client],
) -> None:
    with emulator_factory(api_key=KEY, not_found_status=404) as server:
        r = emulator_client(server).get("/v1/video/generations/x")
        assert r.status_code == 404


def test_create_dropped_after_the_task_was_made(client: httpx.Client, emu: EmulatorServer) -> None:
    emu.inject("disconnect:0", count=1, path="/v1/video")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(
            "/v1/video/generations",
            json={"model": "seedance-2.0", "content": [TEXT]},
            headers={"Idempotency-Key": "video-key-1"},
        )
    record = emu.requests[-1]
    assert (record.path, record.status, record.idempotency_key) == (
        "/v1/video/generations",
        0,
        "video-key-1",
    )


# --- Kling -------------------------------------------------------------------------------


def kling(client: httpx.Client, action: str = "text2video", **fields: Any) -> httpx.Response:
    body = {"prompt": "a dog surfing", **fields}
    return client.post(f"/kling/v1/videos/{action}", json=body)


def test_kling_create_answer_is_the_gateway_video_object(client: httpx.Client) -> None:
    body = kling(client, model_name="kling-v2-master").json()
    assert re.fullmatch(r"[1-9]\d{17}", body["id"])
    assert body["task_id"] == body["id"]
    assert body["object"] == "video" and body["model"] == "kling-v2-master"
    assert body["status"] == "" and body["progress"] == 0


def test_kling_timeline_on_both_query_paths(client: httpx.Client) -> None:
    task_id = kling(client, external_task_id="mine-1").json()["id"]
    seen = poll(client, f"/kling/v1/videos/text2video/{task_id}")
    statuses = [d["status"] for d in seen]
    assert_ordered(statuses, GATEWAY_ORDER)
    assert "IN_PROGRESS" in statuses and statuses[-1] == "SUCCESS"
    for data in seen:
        native = data["data"]
        assert native["code"] == 0 and native["message"] == "SUCCEED" and native["request_id"]
        inner = native["data"]
        assert inner["task_id"] == task_id
        assert inner["created_at"] == data["submit_time"] * 1000
        assert inner["task_info"] == {"external_task_id": "mine-1"}
        expected = {"NOT_START": "submitted", "SUBMITTED": "submitted", "IN_PROGRESS": "processing"}
        if data["status"] in expected:
            assert inner["task_status"] == expected[data["status"]]
        if data["status"] == "IN_PROGRESS":
            assert 30 <= int(data["progress"][:-1]) <= 95
    final = seen[-1]
    assert final["progress"] == "100%" and final["action"] == "text2video"
    inner = final["data"]["data"]
    assert inner["task_status"] == "succeed"
    assert inner["updated_at"] == final["finish_time"] * 1000
    video = inner["task_result"]["videos"][0]
    assert video["duration"] == "2.0"
    download_mp4(video["url"])
    bare = client.get(f"/kling/v1/videos/{task_id}").json()["data"]
    assert bare["status"] == "SUCCESS"
    other_action = client.get(f"/kling/v1/videos/image2video/{task_id}").json()["data"]
    assert other_action["task_id"] == task_id


def test_kling_failure_in_both_dialects(client: httpx.Client) -> None:
    task_id = kling(
        client, "image2video", image="https://e.com/a.jpg", prompt="[[emulator: fault=fail]]"
    ).json()["id"]
    gateway = poll(client, f"/kling/v1/videos/image2video/{task_id}")
    assert [d["status"] for d in gateway][-1] == "FAILURE"
    final = gateway[-1]
    assert final["fail_reason"] == "Failure to pass the risk control system"
    assert final["data"]["data"]["task_status"] == "failed"
    assert final["data"]["data"]["task_status_msg"] == final["fail_reason"]
    anyfast = client.get(
        f"/kling/v1/videos/{task_id}", headers={"X-Emulator": "dialect=anyfast"}
    ).json()["data"]
    assert anyfast["status"] == "FAILED"


def test_kling_anyfast_dialect_from_the_create_marker(client: httpx.Client) -> None:
    task_id = kling(client, prompt="a kite [[emulator: dialect=anyfast]]").json()["id"]
    seen = poll(client, f"/kling/v1/videos/text2video/{task_id}")
    statuses = [d["status"] for d in seen]
    assert_ordered(statuses, ANYFAST_ORDER)
    assert "PROCESSING" in statuses and statuses[-1] == "SUCCESS"


def test_kling_anyfast_dialect_from_the_config(
    emulator_factory: Callable[..., EmulatorServer],
    emulator_client: Callable[[EmulatorServer], httpx.Client],
) -> None:
    with emulator_factory(api_key=KEY, status_dialect="anyfast", video_seconds=0) as server:
        c = emulator_client(server)
        task_id = kling(c).json()["id"]
        assert c.get(f"/kling/v1/videos/{task_id}").json()["data"]["status"] == "SUCCESS"
        failing = kling(c, prompt="x [[emulator: fault=fail:nope]]").json()["id"]
        assert c.get(f"/kling/v1/videos/{failing}").json()["data"]["status"] == "FAILED"


def test_kling_legacy_url(client: httpx.Client) -> None:
    task_id = kling(client, prompt="x [[emulator: fault=legacy-url; seconds=0]]").json()["id"]
    final = poll(client, f"/kling/v1/videos/{task_id}")[-1]
    assert final["status"] == "SUCCESS"
    assert "task_result" not in final["data"]["data"]
    download_mp4(final["fail_reason"])


RAW_PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode()


def test_kling_accepts_raw_base64_and_multi_image(client: httpx.Client) -> None:
    assert kling(client, "image2video", image=RAW_PNG, prompt="").status_code == 200
    multi = kling(
        client,
        "multi-image2video",
        image_list=[{"image": RAW_PNG}, {"image": "https://e.com/b.png"}],
    )
    assert multi.status_code == 200 and multi.json()["model"] == "kling-v1-6"
    assert kling(client, model_name="kling-v3", duration="15").status_code == 200


@pytest.mark.parametrize(
    ("action", "fields", "fragment"),
    [
        ("text2video", {"prompt": ""}, "prompt is required"),
        ("text2video", {"prompt": "x" * 2501}, "2500"),
        ("image2video", {}, "cannot both be empty"),
        ("image2video", {"image": "data:image/png;base64," + RAW_PNG}, "prefix"),
        ("image2video", {"image": "not base64 at all!"}, "Base64"),
        (
            "image2video",
            {
                "image": "https://e.com/a.png",
                "image_tail": "https://e.com/b.png",
                "camera_control": {"type": "down_back"},
            },
            "cannot be used together",
        ),
        ("multi-image2video", {"image_list": []}, "1 to 4"),
        ("multi-image2video", {"image_list": [{"image": "https://e.com/a.png"}] * 5}, "1 to 4"),
        (
            "multi-image2video",
            {"image_list": [{"image": "https://e.com/a.png"}], "model_name": "kling-v2-master"},
            "kling-v1-6",
        ),
        ("text2video", {"duration": 5}, "duration"),
        ("text2video", {"duration": "7"}, "duration"),
        ("text2video", {"mode": "ultra"}, "mode"),
        ("text2video", {"aspect_ratio": "4:3"}, "aspect_ratio"),
        ("text2video", {"cfg_scale": 2}, "cfg_scale"),
        ("text2video", {"model_name": "kling-v9"}, "model_name"),
        ("text2video", {"camera_control": {"type": "spin"}}, "camera_control"),
        ("text2video", {"sound": "on"}, "sound"),
    ],
)
def test_invalid_kling_requests(
    client: httpx.Client, action: str, fields: dict[str, Any], fragment: str
) -> None:
    r = kling(client, action, **fields)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "task_failed" and body["data"] is None
    assert fragment in body["message"]


def test_unknown_kling_action_is_404(client: httpx.Client) -> None:
    r = kling(client, "omni-video")
    assert r.status_code == 404


def test_task_endpoint_faults_use_task_shapes(client: httpx.Client) -> None:
    r = kling(client, prompt="[[emulator: fault=429:task]]")
    assert r.status_code == 429
    assert r.json() == {
        "code": "rate_limit",
        "message": "当前分组上游负载已饱和，请稍后再试",
        "data": None,
    }
    r = seedance(client, "[[emulator: fault=503]]")
    assert r.status_code == 503
    assert r.json()["code"] == "model_not_found"
    assert "seedance-2.0" in r.json()["message"]
