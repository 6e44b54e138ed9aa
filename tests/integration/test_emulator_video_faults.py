"""``stall`` and ``drip`` on the JSON answers (video creates and queries, image generations),
and faults refused where they would be accepted and then do nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from studio.api import AnyFastClient, Timeouts
from studio.api.errors import AnyFastError
from studio.emulator import EmulatorConfig, EmulatorServer
from studio.emulator.config import FaultError, parse_standing_fault

KEY = "sk-video-faults"
SEEDANCE = "/v1/video/generations"


@pytest.fixture(scope="module")
def emu(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    return emulator_factory(api_key=KEY, video_seconds=0.5)


@pytest.fixture
def http(
    emu: EmulatorServer, emulator_client: Callable[[EmulatorServer], httpx.Client]
) -> httpx.Client:
    return emulator_client(emu)


def seedance_body(text: str) -> dict[str, Any]:
    return {"model": "seedance-2.0", "content": [{"type": "text", "text": text}]}


def pieces(client: httpx.Client, method: str, path: str, **kw: Any) -> tuple[int, list[bytes]]:
    """The status and the body as the pieces it arrived in."""
    with client.stream(method, path, **kw) as response:
        return response.status_code, list(response.iter_raw())


def test_stall_holds_a_video_create_answer_then_drops_it(http: httpx.Client) -> None:
    """The headers come, the body does not; the task was created all the same."""
    started = time.monotonic()
    with http.stream(
        "POST", SEEDANCE, json=seedance_body("a held answer [[emulator: fault=stall:0.6]]")
    ) as response:
        assert response.status_code == 200
        assert time.monotonic() - started < 0.5  # the status line is not held
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()
    assert time.monotonic() - started >= 0.55


def test_stall_on_a_video_query_runs_into_the_read_timeout(
    emu: EmulatorServer, http: httpx.Client
) -> None:
    task = http.post(SEEDANCE, json=seedance_body("a query held")).json()["id"]
    emu.inject("stall:5", count=1, path=f"{SEEDANCE}/")
    with pytest.raises(httpx.ReadTimeout):
        http.get(f"{SEEDANCE}/{task}", timeout=httpx.Timeout(5.0, read=0.3))
    answer = http.get(f"{SEEDANCE}/{task}")  # only one query was held
    assert answer.status_code == 200 and answer.json()["data"]["task_id"] == task


def test_drip_trickles_a_kling_create_and_a_query(emu: EmulatorServer, http: httpx.Client) -> None:
    body = {"model_name": "kling-v2-master", "prompt": "slowly [[emulator: fault=drip:2]]"}
    status, parts = pieces(http, "POST", "/kling/v1/videos/text2video", json=body)
    whole = b"".join(parts)
    assert status == 200
    assert len(parts) >= len(whole) // 7  # ~7-byte pieces, each written on its own
    task = json.loads(whole)["id"]
    emu.inject("drip:1", count=1, path="/kling/v1/videos/")
    status, parts = pieces(http, "GET", f"/kling/v1/videos/text2video/{task}")
    assert status == 200 and len(parts) > 10
    assert json.loads(b"".join(parts))["data"]["task_id"] == task


def test_drip_trickles_an_image_generation(http: httpx.Client) -> None:
    body = {"model": "doubao-seedream-4-5-251128", "prompt": "dots [[emulator: fault=drip:1]]"}
    status, parts = pieces(http, "POST", "/v1/images/generations", json=body)
    assert status == 200 and len(parts) > 10
    assert json.loads(b"".join(parts))["data"][0]["url"]


async def test_the_client_reads_a_dripped_task_and_times_out_on_a_stalled_one(
    emu: EmulatorServer,
) -> None:
    timeouts = Timeouts(connect=2.0, stream_idle=5.0, stream_stall=5.0, request=1.0)
    async with AnyFastClient(
        api_key=KEY, base_url=emu.base_url, timeouts=timeouts, max_retries=0
    ) as client:
        task = await client.create_seedance_task(
            "seedance-2.0", "dripped [[emulator: fault=drip:1]]"
        )
        assert task.task_id
        emu.inject("stall:30", count=1, path=f"{SEEDANCE}/")
        started = time.monotonic()
        with pytest.raises(AnyFastError):
            await client.get_seedance_task(task.task_id)
        assert time.monotonic() - started < 5
        assert (await client.get_seedance_task(task.task_id)).task_id == task.task_id


# --- refused where it would do nothing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "path", "applies"),
    [
        ("drip:5", "/v1/models", "video creates"),
        ("stall:5", "/files/", "streamed chat"),
        ("hang:5", "/v1/video", "chat requests"),
        ("fail", "/v1/chat", "video creates"),
        ("expired", "/kling", "file downloads"),
    ],
)
def test_a_fault_that_would_do_nothing_under_its_path_is_refused(
    emu: EmulatorServer, spec: str, path: str, applies: str
) -> None:
    with pytest.raises(FaultError, match=f"does nothing on requests under {path}") as info:
        parse_standing_fault(f"{spec}@{path}")
    assert applies in str(info.value)
    with pytest.raises(ValueError, match="does nothing"):
        EmulatorConfig(faults=(f"{spec}@{path}",))
    with pytest.raises(ValueError, match=applies):
        emu.inject(spec, count=1, path=path)
    refused = httpx.post(
        f"{emu.base_url}/_emulator/faults", json={"spec": spec, "count": 1, "path": path}
    )
    assert refused.status_code == 400 and "does nothing" in refused.text
    assert not httpx.get(f"{emu.base_url}/_emulator/faults").json()["faults"]


def test_faults_where_they_apply_are_still_accepted() -> None:
    for entry in ("stall:5@/v1/video", "drip:5@/kling", "drip:5@/files/", "hang:5@/v1/chat"):
        parse_standing_fault(entry)
    EmulatorConfig(faults=("stall:1", "drip:1*2@/v1/images", "notfound:404@/kling/v1/videos/x"))


def test_a_directive_naming_a_fault_that_does_nothing_here_is_a_400(http: httpx.Client) -> None:
    answer = http.post(SEEDANCE, json=seedance_body("x [[emulator: fault=hang:5]]"))
    assert answer.status_code == 400
    message = answer.json()["message"]
    assert "does nothing on video creates" in message and "chat requests" in message
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    answer = http.post(
        "/v1/chat/completions", json=chat, headers={"X-Emulator": "fault=item-fail:2"}
    )
    assert answer.status_code == 400
    assert "image generations" in answer.json()["error"]["message"]


def test_the_command_line_takes_a_path_and_refuses_a_fault_that_does_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "ANYFAST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "studio", "emulator", "--port", "0", "--fault", "hang:5@/kling"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "does nothing on requests under /kling" in result.stderr
    assert "hang applies to chat requests, streamed chat" in result.stderr
