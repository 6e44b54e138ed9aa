"""File names and sidecars of saved results."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from studio.jobs import Job, JobFile, JobKind, JobProvider, JobState
from studio.jobs.naming import (
    base_name,
    extension_for,
    extension_from_url,
    sidecar,
    sidecar_path,
    slugify,
    summarise,
    task_tail,
    unique_path,
)


def make_job(**changes: Any) -> Job:
    values: dict[str, Any] = {
        "id": 7,
        "kind": JobKind.VIDEO,
        "provider": JobProvider.SEEDANCE,
        "action": "generate",
        "model": "seedance-2.0",
        "prompt": "A cat playing the piano, cinematic lighting",
        "params": {"duration": 5},
        "conversation_id": None,
        "retry_of": None,
        "state": JobState.DOWNLOADING,
        "task_id": "asyntask_h81efT0qwtLnzyt6VENmCZ6VXSfNxE2E",
        "idempotency_key": "k",
        "progress": 100,
        "progress_points": (),
        "result": {"finished_at": 1_700_000_100.0},
        "files": (),
        "failure_reason": None,
        "message": None,
        "last_response": None,
        "history": (),
        "created_at": 1_700_000_000.0,
        "submitted_at": 1_700_000_001.0,
        "started_at": None,
        "finished_at": None,
        "updated_at": 1_700_000_000.0,
        "deadline_at": None,
        "next_poll_at": None,
        "poll_count": 0,
        "urls_expire_at": 1_700_086_400.0,
        "claimed_by": None,
        "lease_until": None,
    }
    values.update(changes)
    return Job(**values)


@pytest.mark.parametrize(
    ("prompt", "slug"),
    [
        ("A cat playing the piano, cinematic lighting", "a-cat-playing-the-piano-cinematic"),
        ("  Hello,   WORLD!!  ", "hello-world"),
        ("一只猫在弹钢琴", "一只猫在弹钢琴"),
        ("Café crème", "café-crème"),
        ("x [[emulator: fault=fail; seconds=3]] y", "x-y"),
        ("!!!", "untitled"),
        ("", "untitled"),
        ("a" * 100, "a" * 40),
        ("../../etc/passwd", "etc-passwd"),
    ],
)
def test_slugify(prompt: str, slug: str) -> None:
    assert slugify(prompt) == slug
    assert "/" not in slugify(prompt)
    assert len(slugify(prompt)) <= 40


def test_task_tail() -> None:
    assert task_tail("asyntask_h81efT0qwtLnzyt6VENmCZ6VXSfNxE2E", 3) == "fNxE2E"
    assert task_tail("860260753860210752", 3) == "210752"
    assert task_tail(None, 3) == "j3"
    assert task_tail("---", 3) == "j3"


@pytest.mark.parametrize(
    ("url", "content_type", "kind", "ext"),
    [
        ("https://x/v.mp4?X-Tos-Expires=86400&a=%2F", None, JobKind.VIDEO, ".mp4"),
        ("https://x/file?sig=1", "video/mp4", JobKind.VIDEO, ".mp4"),
        ("https://x/file", "image/jpeg; charset=binary", JobKind.IMAGE, ".jpeg"),
        ("https://x/a.JPG", None, JobKind.IMAGE, ".jpg"),
        ("https://x/a.exe", None, JobKind.IMAGE, ".png"),
        (None, None, JobKind.VIDEO, ".mp4"),
        ("https://x/a.png", "image/webp", JobKind.IMAGE, ".webp"),
    ],
)
def test_extension(url: str | None, content_type: str | None, kind: JobKind, ext: str) -> None:
    assert extension_for(url, content_type, kind) == ext


def test_extension_from_url_ignores_unknown_suffixes() -> None:
    assert extension_from_url("https://x/y/clip.webm?x=1") == ".webm"
    assert extension_from_url("https://x/y/clip") is None


def test_base_name_reads_like_a_description() -> None:
    job = make_job()
    name = base_name(job)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(job.created_at))
    assert name == f"{stamp}-video-a-cat-playing-the-piano-cinematic-fNxE2E"
    assert re.fullmatch(r"\d{8}-\d{6}-video-[\w-]+-\w{6}", name)
    assert base_name(job, 2).endswith("-fNxE2E-3")


def test_unique_path_avoids_files_parts_sidecars_and_taken_names(tmp_path: Path) -> None:
    assert unique_path(tmp_path, "clip", ".mp4") == tmp_path / "clip.mp4"
    (tmp_path / "clip.mp4").write_bytes(b"x")
    assert unique_path(tmp_path, "clip", ".mp4") == tmp_path / "clip-2.mp4"
    (tmp_path / "clip-2.mp4.part").write_bytes(b"x")
    (tmp_path / "clip-3.mp4.json").write_text("{}")
    assert unique_path(tmp_path, "clip", ".mp4", taken={"clip-4.mp4"}) == tmp_path / "clip-5.mp4"


def test_summarise_shortens_inline_images() -> None:
    data_uri = "data:image/png;base64," + "A" * 4000
    params = {"images": [data_uri, "https://x/a.png"], "image": "B" * 2000, "duration": 5}
    short = summarise(params)
    assert short["images"][0] == "<image/png inline, 3000 bytes>"
    assert short["images"][1] == "https://x/a.png"
    assert short["image"] == "<inline data, 2000 characters>"
    assert short["duration"] == 5


def test_sidecar_records_how_the_result_was_made(tmp_path: Path) -> None:
    job = make_job(params={"duration": 5, "first_frame": "data:image/png;base64,AAAA"})
    file = JobFile(0, "https://x/v.mp4?sig=1", str(tmp_path / "v.mp4"), 12, True, None, "video/mp4")
    record = sidecar(job, file, 1_700_000_200.0)
    assert record["prompt"] == job.prompt
    assert record["model"] == "seedance-2.0"
    assert record["task_id"] == job.task_id
    assert record["source_url"] == "https://x/v.mp4?sig=1"
    assert record["parameters"]["duration"] == 5
    assert record["parameters"]["first_frame"].startswith("<image/png inline")
    assert record["file"] == "v.mp4"
    assert record["size"] == 12
    for key in ("created_at", "submitted_at", "finished_at", "saved_at"):
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", record[key])
    assert "idempotency_key" not in record
    assert sidecar_path(Path("/m/v.mp4")) == Path("/m/v.mp4.json")
