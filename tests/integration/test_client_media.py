"""Seedream images and Seedance / Kling video tasks: the real client against the emulator."""

from __future__ import annotations

import asyncio
import base64
import struct
import zlib
from pathlib import Path

import httpx
import pytest

from studio.api import (
    AnyFastClient,
    APIConnectionError,
    BadRequestError,
    MediaInputError,
    Provider,
    RateLimitError,
    ServerError,
    TaskNotFoundError,
    TaskState,
    VideoTask,
)
from studio.emulator import EmulatorServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png(path: Path, width: int, height: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\x10\x80\xf0" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(PNG_SIGNATURE + body)
    return path


async def fetch(url: str) -> bytes:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
        response.raise_for_status()
        return response.content


async def wait_until_done(client: AnyFastClient, task: VideoTask) -> list[VideoTask]:
    seen = [task]
    for _ in range(400):
        current = await client.get_task(task.provider, task.task_id, task.action)
        seen.append(current)
        if current.state.is_terminal:
            return seen
        await asyncio.sleep(0.02)
    raise AssertionError(f"task never finished: {seen[-1]}")


ORDER = [TaskState.PENDING, TaskState.QUEUED, TaskState.RUNNING, TaskState.SUCCEEDED]


def assert_forward_only(states: list[TaskState]) -> None:
    ranks = [ORDER.index(s) for s in states if s in ORDER]
    assert ranks == sorted(ranks), states


# -- Seedream ---------------------------------------------------------------------------------


async def test_image_url_mode_downloads_a_real_png(client: AnyFastClient) -> None:
    result = await client.generate_images("doubao-seedream-4-5-251128", "a lighthouse", size="2K")
    assert len(result.items) == 1
    item = result.items[0]
    assert item.ok and item.url and "X-Tos-Expires=86400" in item.url
    assert (await fetch(item.url)).startswith(PNG_SIGNATURE)


async def test_image_b64_mode(client: AnyFastClient) -> None:
    result = await client.generate_images(
        "doubao-seedream-4-0-250828", "a fox", size="1024x768", response_format="b64_json"
    )
    item = result.items[0]
    assert item.b64_json and item.url is None
    raw = base64.b64decode(item.b64_json)
    assert raw.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", raw[16:24])
    assert width * 768 == height * 1024  # aspect ratio kept


async def test_group_with_one_failed_item_keeps_the_others(client: AnyFastClient) -> None:
    result = await client.generate_images(
        "doubao-seedream-4-5-251128",
        "four seasons of one tree [[emulator: fault=item-fail:2]]",
        max_images=4,
    )
    assert len(result.items) == 4
    assert [i.ok for i in result.items] == [True, False, True, True]
    failed = result.failed[0]
    assert failed.error_code == "OutputImageSensitiveContentDetected"
    assert failed.error_message


async def test_reference_image_from_a_local_path(client: AnyFastClient, tmp_path: Path) -> None:
    ref = png(tmp_path / "ref.png", 64, 64)
    result = await client.generate_images(
        "doubao-seedream-4-5-251128", "same style", images=[str(ref)]
    )
    assert result.items[0].ok


async def test_image_validation_errors(client: AnyFastClient) -> None:
    with pytest.raises(BadRequestError):
        await client.generate_images("doubao-seedream-4-5-251128", "x", size="100x5000")
    with pytest.raises(MediaInputError):
        await client.generate_images("doubao-seedream-4-5-251128", "x", images=["/nope.png"])


# -- Seedance -------------------------------------------------------------------------------


async def test_seedance_full_lifecycle(client: AnyFastClient) -> None:
    task = await client.create_seedance_task("seedance-2.0", "a cat playing piano", duration=5)
    assert task.provider is Provider.SEEDANCE
    assert task.task_id.startswith("asyntask_")
    assert task.state is TaskState.PENDING
    seen = await wait_until_done(client, task)
    states = [t.state for t in seen]
    assert_forward_only(states)
    assert {TaskState.QUEUED, TaskState.RUNNING} <= set(states)
    done = seen[-1]
    assert done.state is TaskState.SUCCEEDED and done.progress == 100
    assert done.result_url and done.finished_at and done.submitted_at
    assert (await fetch(done.result_url))[4:8] == b"ftyp"
    running = [t for t in seen if t.state is TaskState.RUNNING]
    assert all(0 < t.progress < 100 for t in running)


async def test_seedance_with_frames_and_validation(client: AnyFastClient, tmp_path: Path) -> None:
    first = png(tmp_path / "first.png", 320, 320)
    task = await client.create_seedance_task(
        "seedance-2.0", "zoom in", first_frame=str(first), ratio="1:1", resolution="720p"
    )
    assert (await wait_until_done(client, task))[-1].state is TaskState.SUCCEEDED
    with pytest.raises(BadRequestError):
        await client.create_seedance_task("seedance-2.0", "too long", duration=99)
    with pytest.raises(BadRequestError):
        await client.create_seedance_task(
            "seedance-2.0", "mixed", first_frame=str(first), reference_images=[str(first)]
        )


async def test_seedance_failure_has_a_reason(client: AnyFastClient) -> None:
    task = await client.create_seedance_task(
        "seedance-2.0", "x [[emulator: fault=fail:input image may be sensitive]]"
    )
    done = (await wait_until_done(client, task))[-1]
    assert done.state is TaskState.FAILED
    assert done.failure_reason and "sensitive" in done.failure_reason
    assert done.result_urls == ()


async def test_seedance_legacy_url_in_fail_reason(client: AnyFastClient) -> None:
    task = await client.create_seedance_task("seedance-2.0", "x [[emulator: fault=legacy-url]]")
    done = (await wait_until_done(client, task))[-1]
    assert done.state is TaskState.SUCCEEDED
    assert done.result_url and done.result_url.startswith("http")
    assert done.failure_reason is None
    assert "result_url" not in done.raw["data"]


@pytest.mark.parametrize("spec", [None, "notfound:404"])
async def test_unknown_task_ids(
    client: AnyFastClient, emulator: EmulatorServer, spec: str | None
) -> None:
    if spec:
        emulator.inject(spec, count=None)
    with pytest.raises(TaskNotFoundError) as info:
        await client.get_seedance_task("asyntask_doesnotexist")
    assert info.value.status == (404 if spec else 400)
    with pytest.raises(TaskNotFoundError):
        await client.get_kling_task("123456789012345678", "text2video")


# -- Kling --------------------------------------------------------------------------------------


async def test_kling_text2video_lifecycle(client: AnyFastClient) -> None:
    task = await client.create_kling_text2video(
        "a paper boat in the rain", model_name="kling-v2-master", duration=5, aspect_ratio="9:16"
    )
    assert task.provider is Provider.KLING and task.action == "text2video"
    assert task.task_id.isdigit() and len(task.task_id) >= 18
    seen = await wait_until_done(client, task)
    assert_forward_only([t.state for t in seen])
    done = seen[-1]
    assert done.state is TaskState.SUCCEEDED
    assert (await fetch(done.result_url or ""))[4:8] == b"ftyp"


async def test_kling_image2video_sends_bare_base64(client: AnyFastClient, tmp_path: Path) -> None:
    image = png(tmp_path / "start.png", 320, 320)
    tail = png(tmp_path / "end.png", 320, 320)
    task = await client.create_kling_image2video(
        image=str(image), image_tail=str(tail), prompt="morph"
    )
    assert task.action == "image2video"
    assert (await wait_until_done(client, task))[-1].state is TaskState.SUCCEEDED


async def test_kling_image2video_rejects_tiny_images_before_sending(
    client: AnyFastClient, emulator: EmulatorServer, tmp_path: Path
) -> None:
    before = len(emulator.requests)
    with pytest.raises(MediaInputError, match="300"):
        await client.create_kling_image2video(image=str(png(tmp_path / "s.png", 64, 64)))
    assert len(emulator.requests) == before


async def test_kling_multi_image2video(client: AnyFastClient, tmp_path: Path) -> None:
    images = [str(png(tmp_path / f"{i}.png", 300, 400)) for i in range(3)]
    task = await client.create_kling_multi_image2video(images, "a montage", model_name="kling-v1-6")
    assert task.action == "multi-image2video"
    assert (await wait_until_done(client, task))[-1].state is TaskState.SUCCEEDED
    with pytest.raises(ValueError, match="1 to 4"):
        await client.create_kling_multi_image2video(images * 2, "too many")


async def test_kling_failure_and_anyfast_dialect(client: AnyFastClient) -> None:
    task = await client.create_kling_text2video(
        "x [[emulator: fault=fail:Failure to pass the risk control system; dialect=anyfast]]"
    )
    seen = await wait_until_done(client, task)
    assert seen[-1].state is TaskState.FAILED
    assert seen[-1].status == "FAILED"
    assert seen[-1].failure_reason == "Failure to pass the risk control system"
    assert any(t.status == "PROCESSING" for t in seen)


async def test_kling_bare_query_path_is_the_fallback(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    task = await client.create_kling_text2video("fallback test")
    emulator.inject("404", count=None, path="/kling/v1/videos/text2video/")
    current = await client.get_kling_task(task.task_id, "text2video")
    assert current.task_id == task.task_id
    paths = [r.path for r in emulator.requests[-2:]]
    assert paths == [
        f"/kling/v1/videos/text2video/{task.task_id}",
        f"/kling/v1/videos/{task.task_id}",
    ]
    # The client remembers which form works and goes there first next time.
    await client.get_kling_task(task.task_id, "text2video")
    assert emulator.requests[-1].path == f"/kling/v1/videos/{task.task_id}"


async def test_kling_validation(client: AnyFastClient) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.create_kling_text2video("x", duration=7)
    assert info.value.code == "task_failed"


# -- paid creates are careful ---------------------------------------------------------------


async def test_create_is_not_retried_after_a_5xx_and_says_uncertain(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    before = len(emulator.requests)
    emulator.inject("500", count=1, path="/v1/video/generations")
    with pytest.raises(ServerError) as info:
        await client.create_seedance_task("seedance-2.0", "a paid request")
    assert info.value.uncertain
    assert len(emulator.requests) - before == 1


async def test_create_retried_on_429_with_the_same_idempotency_key(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    before = len(emulator.requests)
    emulator.inject("429:task", count=1, path="/kling/v1/videos/text2video")
    task = await client.create_kling_text2video("retry me", idempotency_key="job-42")
    assert task.task_id
    creates = [r for r in emulator.requests[before:] if r.method == "POST"]
    assert [r.idempotency_key for r in creates] == ["job-42", "job-42"]


async def test_create_429_storm_is_reported(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    emulator.inject("429:task", count=None, path="/v1/video/generations")
    with pytest.raises(RateLimitError) as info:
        await client.create_seedance_task("seedance-2.0", "storm")
    assert "上游负载已饱和" in info.value.message
    assert not info.value.uncertain


async def test_create_dropped_connection_is_uncertain_and_not_retried(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    before = len(emulator.requests)
    emulator.inject("disconnect:0", count=1, path="/v1/video/generations")
    with pytest.raises(APIConnectionError) as info:
        await client.create_seedance_task("seedance-2.0", "dropped")
    assert info.value.uncertain
    assert len(emulator.requests) - before == 1
