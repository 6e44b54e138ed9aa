"""Video tasks: Seedance (``/v1/video/generations``) and Kling (``/kling/v1/videos/...``).

A task's visible state is a pure function of the clock: NOT_START for the first 5 % of its
timeline, QUEUED/SUBMITTED until 20 %, IN_PROGRESS until the end (or until 60 % for a task
created with a ``fail`` fault), then SUCCESS or FAILURE.
"""

from __future__ import annotations

import functools
import math
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, NamedTuple

from starlette.responses import JSONResponse, Response

from studio.emulator.config import Slot, text_items
from studio.emulator.media import tos_query
from studio.emulator.responses import ApiError, random_alnum, random_digits, task_error
from studio.emulator.state import Call
from studio.emulator.store import VideoTask
from studio.emulator.validation import validate_kling, validate_seedance

KLING_ACTIONS = ("text2video", "image2video", "multi-image2video")
DEFAULT_SEEDANCE_FAILURE = (
    "The request failed because the output video may contain sensitive information."
)
DEFAULT_KLING_FAILURE = "Failure to pass the risk control system"
SAMPLE_SECONDS = "2.0"
_NOT_START_END = 0.05
_QUEUED_END = 0.20
_FAIL_AT = 0.60

Stage = Literal["not_start", "queued", "running", "succeeded", "failed"]


@functools.cache
def sample_video() -> bytes:
    """The real 2-second MP4 served as every video result."""
    return resources.files("studio.emulator").joinpath("data/sample.mp4").read_bytes()


def marker_text(body: Any) -> str:
    """Where a video create request may carry an ``[[emulator: ...]]`` marker."""
    if not isinstance(body, dict):
        return ""
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return prompt
    content = body.get("content")
    return text_items(content) if isinstance(content, list) else ""


@dataclass(frozen=True, slots=True)
class Phase:
    """Where a task stands now."""

    stage: Stage
    fraction: float
    end: float
    start_time: int
    finish_time: int
    now: int


def phase_of(task: VideoTask) -> Phase:
    """The task's stage from the time elapsed since it was created."""
    elapsed = time.time() - task.started
    fraction = 1.0 if task.total <= 0 else elapsed / task.total
    end = _FAIL_AT if task.fails else 1.0
    stage: Stage
    if fraction >= end:
        stage = "failed" if task.fails else "succeeded"
    elif fraction >= _QUEUED_END:
        stage = "running"
    elif fraction >= _NOT_START_END:
        stage = "queued"
    else:
        stage = "not_start"
    started = stage in ("running", "succeeded", "failed")
    finished = stage in ("succeeded", "failed")
    return Phase(
        stage=stage,
        fraction=fraction,
        end=end,
        start_time=task.created + math.floor(_QUEUED_END * task.total) if started else 0,
        finish_time=task.created + math.ceil(end * task.total) if finished else 0,
        now=int(time.time()),
    )


def _progress(phase: Phase, first: int) -> int:
    """Running progress rises from ``first`` % to 95 %."""
    if phase.stage in ("succeeded", "failed"):
        return 100
    if phase.stage == "queued":
        return 10
    if phase.stage == "not_start":
        return 0
    share = (phase.fraction - _QUEUED_END) / (phase.end - _QUEUED_END)
    return max(first, min(95, first + int(share * (95 - first))))


def _start_task(call: Call, **fields: Any) -> JSONResponse:
    """Start a task (its timeline, outcome and result file) and answer with the gateway's video
    object, the same for both providers."""
    outcome = call.fault(Slot.OUTCOME)
    config = call.config
    seconds = call.directives.seconds
    task = VideoTask(
        created=int(time.time()),
        started=time.time(),
        total=config.delay(seconds if seconds is not None else config.video_seconds),
        fails=outcome is not None and outcome.kind == "fail",
        fail_reason=outcome.reason if outcome is not None and outcome.kind == "fail" else "",
        legacy_url=outcome is not None and outcome.kind == "legacy-url",
        dialect=call.directives.dialect,
        **fields,
    )
    call.state.files.put(task.file_name, sample_video(), "video/mp4", shared=True)
    call.state.tasks.add(task)
    return JSONResponse(
        {
            "id": task.id,
            "task_id": task.id,
            "object": "video",
            "model": task.model,
            "status": "",
            "progress": 0,
            "created_at": task.created,
        }
    )


async def create_seedance(call: Call) -> Response:
    """``POST /v1/video/generations``."""
    req = validate_seedance(call.body, call.state.catalog)
    await call.answer_delay()
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime())
    upstream_id = f"cgt-{stamp}-{random_alnum(5).lower()}"
    return _start_task(
        call,
        id="asyntask_" + random_alnum(32),
        provider="seedance",
        model=req.model.id,
        action=req.action,
        upstream_id=upstream_id,
        file_name=f"{upstream_id}.mp4",
        params={
            "upstream_model": req.model.extra.get("upstream", req.model.id),
            "duration": req.duration,
            "resolution": req.resolution,
            "ratio": req.ratio,
            "generate_audio": req.generate_audio,
            "seed": req.seed if req.seed >= 0 else int(random_digits(4)),
            "super_resolution": bool(req.model.extra.get("super_resolution")),
            "request_id": call.request_id,
        },
    )


async def create_kling(call: Call) -> Response:
    """``POST /kling/v1/videos/{text2video|image2video|multi-image2video}``."""
    action = str(call.request.path_params["action"])
    req = validate_kling(action, call.body, call.state.catalog)
    await call.answer_delay()
    task_id = random_digits(18)
    return _start_task(
        call,
        id=task_id,
        provider="kling",
        model=req.model,
        action=req.action,
        upstream_id=random_digits(18),
        file_name=f"kling-{task_id}.mp4",
        params={
            "kling_request_id": str(uuid.uuid4()),
            "external_task_id": req.external_task_id,
            "duration": req.duration,
            "mode": req.mode,
        },
    )


def _not_found(call: Call) -> JSONResponse:
    status = call.directives.notfound
    fault = call.fault(Slot.NOTFOUND)
    if status is None and fault is not None:
        status = fault.status
    if status is None:
        status = call.config.not_found_status
    return task_error(status, "task_not_exist", "task_not_exist")


def _lookup(call: Call, provider: str) -> tuple[VideoTask, Phase]:
    """The queried task of ``provider`` and where it stands; the unknown-task error if none."""
    task = call.state.tasks.get(str(call.request.path_params["task_id"]))
    if task is None or task.provider != provider:
        raise ApiError(_not_found(call))
    return task, phase_of(task)


def _video_url(call: Call, task: VideoTask) -> str:
    return call.file_url(task.file_name, tos_query(task.file_name))


class _Spelling(NamedTuple):
    """How one stage is written: Seedance's status, Kling's in each dialect, Kling's own."""

    seedance: str
    gateway: str
    anyfast: str
    kling: str


_STATUS: dict[Stage, _Spelling] = {
    "not_start": _Spelling("NOT_START", "NOT_START", "SUBMITTED", "submitted"),
    "queued": _Spelling("QUEUED", "SUBMITTED", "SUBMITTED", "submitted"),
    "running": _Spelling("IN_PROGRESS", "IN_PROGRESS", "PROCESSING", "processing"),
    "succeeded": _Spelling("SUCCESS", "SUCCESS", "SUCCESS", "succeed"),
    "failed": _Spelling("FAILURE", "FAILURE", "FAILED", "failed"),
}


async def query_seedance(call: Call) -> Response:
    """``GET /v1/video/generations/{task_id}``."""
    task, phase = _lookup(call, "seedance")
    p = task.params
    data: dict[str, Any] = {
        "task_id": task.id,
        "action": task.action,
        "status": _STATUS[phase.stage].seedance,
    }
    inner: dict[str, Any] = {"id": task.upstream_id}
    fail_reason = ""
    if phase.stage != "not_start" and phase.stage != "queued":
        inner.update(model=p["upstream_model"], status="running")
        inner.update(created_at=task.created, updated_at=phase.finish_time or phase.now)
    if phase.stage == "succeeded":
        url = _video_url(call, task)
        if task.legacy_url:
            fail_reason = url
        else:
            data["result_url"] = url
            if p["super_resolution"]:
                data["original_result_url"] = url
            inner["content"] = {"video_url": url}
        tokens = _video_tokens(p["resolution"], p["ratio"], p["duration"])
        inner.update(
            status="succeeded",
            draft=False,
            duration=p["duration"],
            framespersecond=24,
            generate_audio=p["generate_audio"],
            ratio=p["ratio"],
            resolution=p["resolution"],
            seed=p["seed"],
            service_tier="default",
            usage={"completion_tokens": tokens, "total_tokens": tokens},
        )
        if p["super_resolution"]:
            inner["super_resolution"] = p["resolution"]
    elif phase.stage == "failed":
        fail_reason = task.fail_reason or DEFAULT_SEEDANCE_FAILURE
        code = "InternalServiceError" if task.fail_reason else "OutputVideoSensitiveContentDetected"
        inner.update(status="failed", error={"code": code, "message": fail_reason})
    data.update(
        fail_reason=fail_reason,
        submit_time=task.created,
        start_time=phase.start_time,
        finish_time=phase.finish_time,
        progress=f"{_progress(phase, 20)}%",
        request_id=p["request_id"],
        data=inner,
    )
    return JSONResponse({"code": "success", "message": "", "data": data})


def _video_tokens(resolution: str, ratio: str, duration: int) -> int:
    """Ark bills roughly width × height × fps × seconds / 1024."""
    height = {"480p": 480, "720p": 720, "1080p": 1080, "2k": 1440, "4k": 2160}.get(resolution, 720)
    wide, _, tall = ("16:9" if ratio == "adaptive" else ratio).partition(":")
    width = height * int(wide) // int(tall)
    return width * height * 24 * (duration if duration > 0 else 5) // 1024


async def query_kling(call: Call) -> Response:
    """``GET /kling/v1/videos/{action}/{task_id}`` and ``GET /kling/v1/videos/{task_id}``."""
    task, phase = _lookup(call, "kling")
    spelling = _STATUS[phase.stage]
    dialect = call.directives.dialect or task.dialect or call.config.status_dialect
    updated = phase.finish_time or phase.start_time or task.created
    native: dict[str, Any] = {
        "task_id": task.id,
        "task_status": spelling.kling,
        "task_status_msg": "",
    }
    if task.params["external_task_id"]:
        native["task_info"] = {"external_task_id": task.params["external_task_id"]}
    native.update(created_at=task.created * 1000, updated_at=updated * 1000)
    fail_reason = ""
    if phase.stage == "succeeded":
        url = _video_url(call, task)
        if task.legacy_url:
            fail_reason = url
        else:
            video = {"id": task.upstream_id, "url": url, "duration": SAMPLE_SECONDS}
            native["task_result"] = {"videos": [video]}
    elif phase.stage == "failed":
        fail_reason = task.fail_reason or DEFAULT_KLING_FAILURE
        native["task_status_msg"] = fail_reason
    data = {
        "task_id": task.id,
        "action": task.action,
        "status": spelling.gateway if dialect == "gateway" else spelling.anyfast,
        "fail_reason": fail_reason,
        "submit_time": task.created,
        "start_time": phase.start_time,
        "finish_time": phase.finish_time,
        "progress": f"{_progress(phase, 30)}%",
        "data": {
            "code": 0,
            "message": "SUCCEED",
            "request_id": task.params["kling_request_id"],
            "data": native,
        },
    }
    return JSONResponse({"code": "success", "message": "", "data": data})
