"""Normalise Seedance and Kling task answers into one :class:`VideoTask`.

The gateway, its docs and its SDK spell task states in many ways (``anyfast-api.md`` §4.3, §5.3
and open question 3): ``NOT_START``, ``SUBMITTED``, ``QUEUED``, ``IN_PROGRESS``, ``PROCESSING``,
``SUCCESS``, ``FAILURE``, ``FAILED``, ``UNKNOWN``, and the upstream inner spellings ``queued``,
``running``, ``succeeded``, ``succeed``, ``failed``, ``cancelled``, ``expired``. All of them are
accepted here. The outer (gateway) status wins; the inner (upstream) one is used when the outer
one is empty or unrecognised.
"""

from __future__ import annotations

from typing import Any

from studio.api.types import JSON, Provider, TaskState, VideoTask, _int

_STATES: dict[str, TaskState] = {
    "NOT_START": TaskState.PENDING,
    "NOT_STARTED": TaskState.PENDING,
    "PENDING": TaskState.PENDING,
    "CREATED": TaskState.PENDING,
    "SUBMITTED": TaskState.QUEUED,
    "QUEUED": TaskState.QUEUED,
    "QUEUING": TaskState.QUEUED,
    "IN_PROGRESS": TaskState.RUNNING,
    "PROCESSING": TaskState.RUNNING,
    "RUNNING": TaskState.RUNNING,
    "GENERATING": TaskState.RUNNING,
    "SUCCESS": TaskState.SUCCEEDED,
    "SUCCEEDED": TaskState.SUCCEEDED,
    "SUCCEED": TaskState.SUCCEEDED,
    "COMPLETED": TaskState.SUCCEEDED,
    "FAILURE": TaskState.FAILED,
    "FAILED": TaskState.FAILED,
    "FAIL": TaskState.FAILED,
    "ERROR": TaskState.FAILED,
    "CANCELLED": TaskState.FAILED,
    "CANCELED": TaskState.FAILED,
    "EXPIRED": TaskState.FAILED,
    "UNKNOWN": TaskState.UNKNOWN,
}


def normalise_status(status: Any) -> TaskState | None:
    """The state for one status spelling, or None when the spelling is empty or unknown."""
    if not isinstance(status, str) or not status.strip():
        return None
    return _STATES.get(status.strip().upper().replace("-", "_").replace(" ", "_"))


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _inner(task: JSON, provider: Provider) -> JSON:
    """The upstream body nested in a query answer (Ark's task, or Kling's ``data``)."""
    inner = _dict(task.get("data"))
    if provider is Provider.KLING and isinstance(inner.get("data"), dict):
        # The native Kling envelope {code, message, request_id, data: {...}} sits one level down.
        return _dict(inner["data"])
    return inner


def _inner_status(inner: JSON) -> Any:
    return inner.get("task_status") or inner.get("status")


def _result_urls(task: JSON, inner: JSON) -> tuple[str, ...]:
    """Result URLs in the documented fallback order, without duplicates."""
    found: list[str] = []

    def add(url: Any) -> None:
        if isinstance(url, str) and url.startswith(("http://", "https://")) and url not in found:
            found.append(url)

    add(task.get("result_url"))
    content = _dict(inner.get("content"))
    add(content.get("video_url"))
    for video in _dict(inner.get("task_result")).get("videos") or ():
        add(_dict(video).get("url"))
    add(task.get("fail_reason"))
    return tuple(found)


def _failure_reason(task: JSON, inner: JSON) -> str | None:
    reason = task.get("fail_reason")
    if isinstance(reason, str) and reason.strip() and not reason.startswith("http"):
        return reason.strip()
    error = inner.get("error")
    if isinstance(error, dict) and error.get("message"):
        code = error.get("code")
        return f"{error['message']} ({code})" if code else str(error["message"])
    msg = inner.get("task_status_msg")
    if isinstance(msg, str) and msg.strip():
        return msg.strip()
    return None


def _time(value: Any) -> int | None:
    seconds = _int(value)
    if seconds > 10_000_000_000:  # Kling's native fields are milliseconds
        seconds //= 1000
    return seconds or None


def parse_task(body: Any, provider: Provider, *, action: str | None = None) -> VideoTask:
    """A :class:`VideoTask` from a create answer or a query answer (enveloped or not)."""
    root = _dict(body)
    task = root
    if isinstance(root.get("data"), dict) and ("code" in root or "message" in root):
        task = root["data"]  # the {code: "success", message, data: TaskDto} envelope
    inner = _inner(task, provider)
    outer_status = task.get("status")
    state = normalise_status(outer_status)
    status = outer_status if isinstance(outer_status, str) else ""
    if state is None:
        inner_status = _inner_status(inner)
        state = normalise_status(inner_status)
        if state is not None and isinstance(inner_status, str):
            status = inner_status
    if state is None:
        # Create answers carry "" (or nothing): the task exists but has not started.
        state = TaskState.UNKNOWN if status else TaskState.PENDING
    urls = _result_urls(task, inner)
    progress = 100 if state is TaskState.SUCCEEDED else max(0, min(100, _int(task.get("progress"))))
    task_id = task.get("task_id") or task.get("taskId") or task.get("id") or inner.get("task_id")
    raw_action = task.get("action")
    return VideoTask(
        task_id=str(task_id or ""),
        provider=provider,
        state=state,
        status=status,
        progress=progress,
        result_urls=urls if state is TaskState.SUCCEEDED else (),
        failure_reason=_failure_reason(task, inner) if state is TaskState.FAILED else None,
        action=action or (raw_action if isinstance(raw_action, str) and raw_action else None),
        model=_str_or_none(task.get("model") or inner.get("model")),
        submitted_at=_time(task.get("submit_time") or task.get("created_at")),
        started_at=_time(task.get("start_time")),
        finished_at=_time(task.get("finish_time")),
        raw=root,
    )


def _str_or_none(value: Any) -> str | None:
    return str(value) if value else None
