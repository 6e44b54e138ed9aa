"""The result downloader against the emulator's /files (Range, faults) and a mock transport."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from studio.api.download import Downloader, DownloadError, part_path
from studio.emulator import EmulatorServer

DATA = bytes(range(256)) * 80  # 20 480 bytes


def put(emulator: EmulatorServer, name: str, data: bytes = DATA) -> str:
    emulator.state.files.put(name, data, "video/mp4")
    return f"{emulator.base_url}/files/{name}?X-Tos-Expires=86400&X-Tos-Signature=abc%2F"


def file_requests(emulator: EmulatorServer, name: str) -> list[int]:
    return [r.status for r in emulator.requests if r.path == f"/files/{name}"]


def quick() -> Downloader:
    return Downloader(max_attempts=4, backoff_initial=0.01, backoff_max=0.02)


async def test_downloads_whole_file_atomically(emulator: EmulatorServer, tmp_path: Path) -> None:
    url = put(emulator, "whole.mp4")
    dest = tmp_path / "clip.mp4"
    seen: list[tuple[int, int | None]] = []
    async with quick() as dl:
        got = await dl.fetch(url, dest, on_progress=lambda n, total: seen.append((n, total)))
    assert dest.read_bytes() == DATA
    assert (got.size, got.content_type, got.resumed, got.attempts) == (
        len(DATA),
        "video/mp4",
        False,
        1,
    )
    assert not part_path(dest).exists()
    assert seen[-1] == (len(DATA), len(DATA))
    assert os.stat(dest).st_mode & 0o777 == 0o600


async def test_resumes_a_partial_file_with_a_range_request(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    url = put(emulator, "resume.mp4")
    dest = tmp_path / "clip.mp4"
    part_path(dest).write_bytes(DATA[:5000])
    async with quick() as dl:
        got = await dl.fetch(url, dest)
    assert got.resumed
    assert dest.read_bytes() == DATA
    assert file_requests(emulator, "resume.mp4") == [206]


async def test_a_complete_partial_file_is_finished_from_the_416(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    url = put(emulator, "done.mp4")
    dest = tmp_path / "clip.mp4"
    part_path(dest).write_bytes(DATA)
    async with quick() as dl:
        got = await dl.fetch(url, dest)
    assert dest.read_bytes() == DATA and got.size == len(DATA)
    assert file_requests(emulator, "done.mp4") == [416]


async def test_a_dropped_connection_is_retried_and_resumed(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    url = put(emulator, "drop.mp4")
    emulator.inject("disconnect:6000", count=1, path="/files/drop.mp4")
    dest = tmp_path / "clip.mp4"
    async with quick() as dl:
        got = await dl.fetch(url, dest)
    assert dest.read_bytes() == DATA
    assert got.attempts == 2 and got.resumed
    assert file_requests(emulator, "drop.mp4") == [200, 206]


async def test_an_expired_link_is_not_retried(emulator: EmulatorServer, tmp_path: Path) -> None:
    url = put(emulator, "old.mp4")
    emulator.inject("expired", count=None, path="/files/old.mp4")
    async with quick() as dl:
        with pytest.raises(DownloadError, match="403") as caught:
            await dl.fetch(url, tmp_path / "clip.mp4")
    assert caught.value.expired and not caught.value.retryable
    assert file_requests(emulator, "old.mp4") == [403]
    assert not (tmp_path / "clip.mp4").exists()


async def test_server_errors_are_retried_until_the_limit(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    url = put(emulator, "flaky.mp4")
    emulator.inject("503", count=2, path="/files/flaky.mp4")
    async with quick() as dl:
        got = await dl.fetch(url, tmp_path / "clip.mp4")
    assert got.attempts == 3
    emulator.inject("503", count=None, path="/files/flaky.mp4")
    async with quick() as dl:
        with pytest.raises(DownloadError, match="503"):
            await dl.fetch(url, tmp_path / "again.mp4")


def mock(handler: httpx.MockTransport) -> Downloader:
    return Downloader(max_attempts=3, backoff_initial=0.0, backoff_max=0.0, transport=handler)


def answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """A streamed answer, as a real server gives (``content=`` would arrive pre-read)."""
    all_headers = {"Content-Length": str(len(body)), **(headers or {})}
    return httpx.Response(status, stream=httpx.ByteStream(body), headers=all_headers)


async def test_no_api_key_is_sent_and_a_200_answer_to_a_range_restarts(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(200, DATA, {"Content-Type": "image/png"})

    dest = tmp_path / "a.png"
    part_path(dest).write_bytes(b"stale bytes from another file")
    async with mock(httpx.MockTransport(handler)) as dl:
        got = await dl.fetch("https://tos.example/a.png?sig=1", dest)
    assert dest.read_bytes() == DATA and not got.resumed
    assert seen[0].headers["range"] == "bytes=29-"
    assert "authorization" not in seen[0].headers
    assert seen[0].headers["accept-encoding"] == "identity"


async def test_a_short_body_is_detected_and_retried(tmp_path: Path) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:  # claims 20 480 bytes, sends 100
            return answer(200, DATA[:100], {"Content-Length": str(len(DATA))})
        start = int(request.headers["range"].split("=")[1].rstrip("-"))
        headers = {"Content-Range": f"bytes {start}-{len(DATA) - 1}/{len(DATA)}"}
        return answer(206, DATA[start:], headers)

    dest = tmp_path / "v.mp4"
    async with mock(httpx.MockTransport(handler)) as dl:
        got = await dl.fetch("https://tos.example/v.mp4", dest)
    assert dest.read_bytes() == DATA
    assert got.attempts == 2 and got.resumed


async def test_a_resume_at_the_wrong_offset_starts_over(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "range" in request.headers:
            span = f"bytes 10-{len(DATA) - 1}/{len(DATA)}"
            return answer(206, DATA[10:], {"Content-Range": span})
        return answer(200, DATA)

    dest = tmp_path / "v.mp4"
    part_path(dest).write_bytes(DATA[:500])
    async with mock(httpx.MockTransport(handler)) as dl:
        got = await dl.fetch("https://tos.example/v.mp4", dest)
    assert dest.read_bytes() == DATA and got.attempts == 2
