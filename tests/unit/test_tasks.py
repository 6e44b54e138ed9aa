"""Normalising every task status spelling and finding the result URL by the documented order."""

from __future__ import annotations

from typing import Any

import pytest

from studio.api.tasks import normalise_status, parse_task
from studio.api.types import Provider, TaskState

SPELLINGS = {
    "NOT_START": TaskState.PENDING,
    "SUBMITTED": TaskState.QUEUED,
    "QUEUED": TaskState.QUEUED,
    "IN_PROGRESS": TaskState.RUNNING,
    "PROCESSING": TaskState.RUNNING,
    "SUCCESS": TaskState.SUCCEEDED,
    "FAILURE": TaskState.FAILED,
    "FAILED": TaskState.FAILED,
    "UNKNOWN": TaskState.UNKNOWN,
    # upstream inner spellings (Ark and Kling)
    "queued": TaskState.QUEUED,
    "running": TaskState.RUNNING,
    "succeeded": TaskState.SUCCEEDED,
    "succeed": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "submitted": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "cancelled": TaskState.FAILED,
    "expired": TaskState.FAILED,
    # the peer SDK's set
    "PENDING": TaskState.PENDING,
    "RUNNING": TaskState.RUNNING,
}


@pytest.mark.parametrize(("spelling", "state"), SPELLINGS.items())
def test_every_spelling(spelling: str, state: TaskState) -> None:
    assert normalise_status(spelling) is state


@pytest.mark.parametrize("value", ["", "   ", None, 3, "weird"])
def test_empty_or_unknown_spelling(value: Any) -> None:
    assert normalise_status(value) is None


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": "success", "message": "", "data": data}


def test_seedance_create_answer_with_empty_status_is_pending() -> None:
    body = {
        "id": "cgt-1",
        "task_id": "asyntask_abc",
        "object": "video",
        "status": "",
        "progress": 0,
        "created_at": 1773328294,
    }
    task = parse_task(body, Provider.SEEDANCE)
    assert task.task_id == "asyntask_abc"
    assert task.state is TaskState.PENDING
    assert task.submitted_at == 1773328294


def test_seedance_success_uses_result_url_first() -> None:
    body = envelope(
        {
            "task_id": "asyntask_x",
            "status": "SUCCESS",
            "result_url": "https://a/result.mp4?X-Tos-Expires=86400&sig=%2F",
            "fail_reason": "https://a/legacy.mp4",
            "progress": "100%",
            "submit_time": 10,
            "start_time": 12,
            "finish_time": 20,
            "data": {"status": "succeeded", "content": {"video_url": "https://a/inner.mp4"}},
        }
    )
    task = parse_task(body, Provider.SEEDANCE)
    assert task.state is TaskState.SUCCEEDED
    assert task.result_url == "https://a/result.mp4?X-Tos-Expires=86400&sig=%2F"
    assert task.result_urls == (
        "https://a/result.mp4?X-Tos-Expires=86400&sig=%2F",
        "https://a/inner.mp4",
        "https://a/legacy.mp4",
    )
    assert task.failure_reason is None
    assert (task.submitted_at, task.started_at, task.finished_at) == (10, 12, 20)
    assert task.progress == 100


def test_seedance_url_fallbacks() -> None:
    inner_only = envelope(
        {"status": "SUCCESS", "data": {"content": {"video_url": "https://a/inner.mp4"}}}
    )
    assert parse_task(inner_only, Provider.SEEDANCE).result_url == "https://a/inner.mp4"
    legacy = envelope({"status": "SUCCESS", "fail_reason": "https://a/legacy.mp4"})
    task = parse_task(legacy, Provider.SEEDANCE)
    assert task.result_url == "https://a/legacy.mp4"
    assert task.failure_reason is None


def test_seedance_in_progress_with_string_progress_and_create_echo() -> None:
    body = envelope(
        {"status": "IN_PROGRESS", "progress": "50%", "start_time": 0, "data": {"id": "cgt-1"}}
    )
    task = parse_task(body, Provider.SEEDANCE)
    assert task.state is TaskState.RUNNING
    assert task.progress == 50
    assert task.started_at is None
    assert task.result_urls == ()


def test_seedance_failure_reason_from_outer_then_inner_error() -> None:
    body = envelope({"status": "FAILURE", "fail_reason": "sensitive input", "data": None})
    assert parse_task(body, Provider.SEEDANCE).failure_reason == "sensitive input"
    body = envelope(
        {
            "status": "FAILURE",
            "fail_reason": "",
            "data": {"status": "failed", "error": {"code": "X", "message": "inner says no"}},
        }
    )
    assert parse_task(body, Provider.SEEDANCE).failure_reason == "inner says no (X)"


def test_outer_status_empty_uses_inner() -> None:
    body = envelope({"status": "", "data": {"status": "running"}})
    task = parse_task(body, Provider.SEEDANCE)
    assert task.state is TaskState.RUNNING
    assert task.status == "running"


def test_unrecognised_outer_and_inner_is_unknown() -> None:
    body = envelope({"status": "MYSTERY", "data": {"status": "odd"}})
    assert parse_task(body, Provider.SEEDANCE).state is TaskState.UNKNOWN


def kling(outer: str, inner: str, **extra: Any) -> dict[str, Any]:
    native = {
        "task_id": "860260753860210752",
        "task_status": inner,
        "task_status_msg": extra.pop("msg", ""),
        "created_at": 1773130665000,
        "updated_at": 1773130790000,
    }
    if "videos" in extra:
        native["task_result"] = {"videos": extra.pop("videos")}
    return envelope(
        {
            "task_id": "860260753860210752",
            "action": "text2video",
            "status": outer,
            "fail_reason": extra.pop("fail_reason", ""),
            "progress": extra.pop("progress", "30%"),
            "submit_time": 1773130665,
            "data": {"code": 0, "message": "SUCCEED", "data": native},
        }
    )


def test_kling_success_nested_video_url() -> None:
    body = kling("SUCCESS", "succeed", videos=[{"url": "https://k/v.mp4", "duration": "5.0"}])
    task = parse_task(body, Provider.KLING, action="text2video")
    assert task.state is TaskState.SUCCEEDED
    assert task.result_urls == ("https://k/v.mp4",)
    assert task.action == "text2video"
    assert task.task_id == "860260753860210752"


@pytest.mark.parametrize(
    ("outer", "inner", "state"),
    [
        ("NOT_START", "submitted", TaskState.PENDING),
        ("SUBMITTED", "submitted", TaskState.QUEUED),
        ("IN_PROGRESS", "processing", TaskState.RUNNING),
        ("PROCESSING", "processing", TaskState.RUNNING),
        ("FAILED", "failed", TaskState.FAILED),
        ("FAILURE", "failed", TaskState.FAILED),
        ("", "processing", TaskState.RUNNING),
    ],
)
def test_kling_dialects(outer: str, inner: str, state: TaskState) -> None:
    assert parse_task(kling(outer, inner), Provider.KLING).state is state


def test_kling_failure_reason_from_task_status_msg() -> None:
    body = kling("FAILED", "failed", msg="Failure to pass the risk control system")
    task = parse_task(body, Provider.KLING)
    assert task.failure_reason == "Failure to pass the risk control system"


def test_kling_ms_timestamps_inside_are_not_used_as_seconds() -> None:
    task = parse_task(kling("SUCCESS", "succeed"), Provider.KLING)
    assert task.submitted_at == 1773130665


def test_garbage_does_not_crash() -> None:
    for body in (None, [], "x", {"data": "x"}, {"code": "success", "data": None}):
        task = parse_task(body, Provider.SEEDANCE)
        assert task.state in (TaskState.PENDING, TaskState.UNKNOWN)
