"""A job's row: the mapping between ``jobs`` rows and :class:`~studio.store.job_records.Job`
(JSON columns included), and the pieces of SQL that the job methods of ``Store`` build their
inserts and updates from. Plain functions over an open connection: the caller owns the
transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from studio.store.job_records import Job, JobFile, JobKind, JobProvider, JobState
from studio.store.models import NotFoundError

_JSON_COLUMNS = frozenset(
    {"params", "progress_points", "result", "files", "last_response", "history"}
)
CHANGEABLE = frozenset(
    {
        "state",
        "task_id",
        "progress",
        "progress_points",
        "result",
        "files",
        "failure_reason",
        "message",
        "last_response",
        "submitted_at",
        "started_at",
        "finished_at",
        "deadline_at",
        "next_poll_at",
        "poll_count",
        "urls_expire_at",
        "claimed_by",
        "lease_until",
        "last_error",
        "bytes_done",
        "bytes_total",
        "bytes_rate",
    }
)
"""The columns ``update_job`` may change (history and ``updated_at`` follow by themselves)."""

INSERT_JOB = (
    "INSERT INTO jobs (kind, provider, action, model, prompt, params, conversation_id, retry_of,"
    " state, idempotency_key, history, created_at, updated_at, deadline_at, next_poll_at,"
    " claimed_by, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def dumps(value: Any) -> str | None:
    """``value`` as the JSON text a JSON column holds (``None`` stays NULL)."""
    if value is None:
        return None
    if isinstance(value, tuple) and value and isinstance(value[0], JobFile):
        value = [f.to_json() for f in value]
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, JobFile):
        return value.to_json()
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def _loads(text: str | None, default: Any) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def row_to_job(row: sqlite3.Row) -> Job:
    """Build a :class:`Job` from a ``SELECT * FROM jobs`` row."""
    last = _loads(row["last_response"], None)
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        provider=JobProvider(row["provider"]),
        action=row["action"],
        model=row["model"],
        prompt=row["prompt"],
        params=_loads(row["params"], {}),
        conversation_id=row["conversation_id"],
        retry_of=row["retry_of"],
        state=JobState(row["state"]),
        task_id=row["task_id"],
        idempotency_key=row["idempotency_key"],
        progress=row["progress"],
        progress_points=tuple((float(t), int(p)) for t, p in _loads(row["progress_points"], [])),
        result=_loads(row["result"], {}),
        files=tuple(JobFile.from_json(f) for f in _loads(row["files"], [])),
        failure_reason=row["failure_reason"],
        message=row["message"],
        last_response=last if isinstance(last, dict) else None,
        history=tuple((str(s), float(t)) for s, t in _loads(row["history"], [])),
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
        deadline_at=row["deadline_at"],
        next_poll_at=row["next_poll_at"],
        poll_count=row["poll_count"],
        urls_expire_at=row["urls_expire_at"],
        claimed_by=row["claimed_by"],
        lease_until=row["lease_until"],
        last_error=row["last_error"],
        bytes_done=row["bytes_done"],
        bytes_total=row["bytes_total"],
        bytes_rate=row["bytes_rate"],
    )


def set_clause(fields: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The SET clause (and its values) that writes ``fields``; ``ValueError`` for a column
    outside ``CHANGEABLE``."""
    unknown = set(fields) - CHANGEABLE
    if unknown:
        raise ValueError(f"jobs cannot change {sorted(unknown)}")
    names = sorted(fields)
    values = [dumps(fields[n]) if n in _JSON_COLUMNS else _plain(n, fields[n]) for n in names]
    return ", ".join(f"{n} = ?" for n in names), values


def _plain(name: str, value: Any) -> Any:
    if name == "state":
        return JobState(value).value
    return value


def history_clause(row: Any, fields: Mapping[str, Any], now: float) -> tuple[str, list[Any]]:
    """The SET clause that adds a state change in ``fields`` to the row's history (none when
    the state does not change)."""
    if "state" not in fields or JobState(fields["state"]).value == row["state"]:
        return "", []
    history = _loads(row["history"], [])
    history.append([JobState(fields["state"]).value, now])
    return ", history = ?", [dumps(history)]


def load_job(conn: sqlite3.Connection, job_id: int) -> Job:
    """Job ``job_id``; ``NotFoundError`` when it is gone."""
    row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no job with id {job_id}")
    return row_to_job(row)
