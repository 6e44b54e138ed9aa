"""Reading a JSON export back: every field checked, so a malformed or unknown file is refused
with one sentence before anything is written (see :mod:`studio.export.json_format`)."""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid as uuidlib
from collections.abc import Callable
from typing import Any, TypeVar

from studio.export.errors import ExportError
from studio.export.json_format import FORMAT_NAME, SCHEMA_VERSION
from studio.store import MessageStatus, Role
from studio.store.job_records import JobFile, JobKind, JobProvider, JobState
from studio.store.transcript_import import (
    ImportedAttachment,
    ImportedConversation,
    ImportedJob,
    ImportedMessage,
)
from studio.usage import Usage

T = TypeVar("T")

_LATEST_TIME = 253402300800.0
"""The start of the year 10000: times at or past it cannot be shown as dates."""


class _Bad(Exception):
    """Internal: a field that is missing or of the wrong kind, with where it is."""


def parse_transcripts(text: str) -> list[ImportedConversation]:
    """The conversations of a JSON export; :class:`ExportError` (one sentence saying where and
    what) for anything that is not a transcript of a schema version this Studio reads."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"not a JSON file: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ExportError(f'not a Studio transcript (no "format": "{FORMAT_NAME}")')
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ExportError(
            f"transcript schema_version {version!r} is not one this Studio reads "
            f"(it reads {SCHEMA_VERSION}); a newer Studio may have written it"
        )
    try:
        items = _field(document, "conversations", list, "")
        return [_conversation(item, f"conversations[{i}]") for i, item in enumerate(items)]
    except _Bad as exc:
        raise ExportError(f"malformed transcript: {exc}") from None


def _field(obj: Any, key: str, kind: type[T] | tuple[type, ...], where: str) -> T:
    if not isinstance(obj, dict):
        raise _Bad(f"{where or 'the document'} is not an object")
    if key not in obj:
        raise _Bad(f"{where}.{key} is missing".lstrip("."))
    value = obj[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise _Bad(f"{where}.{key} is not a number".lstrip("."))
    if not isinstance(value, kind):
        raise _Bad(f"{where}.{key} has the wrong type".lstrip("."))
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise _Bad(f"{where}.{key} is out of range".lstrip("."))  # SQLite's integers
    return value  # type: ignore[return-value]


def _optional(obj: Any, key: str, kind: type[T] | tuple[type, ...], where: str) -> T | None:
    if isinstance(obj, dict) and obj.get(key) is None:
        return None
    return _field(obj, key, kind, where)


def _optional_number(obj: Any, key: str, where: str) -> float | None:
    value: float | None = _optional(obj, key, (int, float), where)
    if value is None:
        return None
    if not math.isfinite(value):
        raise _Bad(f"{where}.{key} is not a finite number")
    return float(value)


def _time(obj: Any, key: str, where: str) -> float:
    value = float(_field(obj, key, (int, float), where))
    if not 0 <= value < _LATEST_TIME:  # NaN too: a date nothing could show
        raise _Bad(f"{where}.{key} is not a time")
    return value


def _optional_time(obj: Any, key: str, where: str) -> float | None:
    return None if _optional(obj, key, (int, float), where) is None else _time(obj, key, where)


def _enum(obj: Any, key: str, make: Callable[[str], T], where: str) -> T:
    value = _field(obj, key, str, where)
    try:
        return make(value)
    except ValueError:
        raise _Bad(f"{where}.{key} has an unknown value {value!r}") from None


def _conversation(item: Any, where: str) -> ImportedConversation:
    identity = _field(item, "uuid", str, where)
    try:
        identity = str(uuidlib.UUID(identity))
    except ValueError:
        raise _Bad(f"{where}.uuid is not a uuid") from None
    title = _field(item, "title", str, where)
    if not title.strip():
        raise _Bad(f"{where}.title is empty")
    max_tokens = _optional(item, "max_tokens", int, where)
    messages = _field(item, "messages", list, where)
    parsed = tuple(_message(m, f"{where}.messages[{i}]") for i, m in enumerate(messages))
    if len({m.position for m in parsed}) != len(parsed):
        raise _Bad(f"{where}.messages: two messages have the same position")
    return ImportedConversation(
        uuid=identity,
        title=title,
        title_locked=_field(item, "title_locked", bool, where),
        model=_optional(item, "model", str, where),
        system_prompt=_optional(item, "system_prompt", str, where),
        temperature=_optional_number(item, "temperature", where),
        max_tokens=max_tokens,
        archived=_field(item, "archived", bool, where),
        created_at=_time(item, "created_at", where),
        updated_at=_time(item, "updated_at", where),
        messages=parsed,
    )


def _message(item: Any, where: str) -> ImportedMessage:
    attachments = _field(item, "attachments", list, where)
    job = _optional(item, "job", dict, where)
    return ImportedMessage(
        position=_field(item, "position", int, where),
        role=_enum(item, "role", Role, where),
        content=_field(item, "content", str, where),
        reasoning=_field(item, "reasoning", str, where),
        status=_enum(item, "status", MessageStatus, where),
        model=_optional(item, "model", str, where),
        usage=_usage(_optional(item, "usage", dict, where), f"{where}.usage"),
        finish_reason=_optional(item, "finish_reason", str, where),
        error=_optional(item, "error", str, where),
        created_at=_time(item, "created_at", where),
        updated_at=_time(item, "updated_at", where),
        attachments=tuple(
            _attachment(a, f"{where}.attachments[{i}]") for i, a in enumerate(attachments)
        ),
        job_linked=_field(item, "job_linked", bool, where) or job is not None,
        job=None if job is None else _job(job, f"{where}.job"),
    )


def _usage(item: dict[str, Any] | None, where: str) -> Usage | None:
    if item is None:
        return None
    names = (
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "reasoning_tokens",
        "cached_tokens",
    )
    return Usage(**{name: _field(item, name, int, where) for name in names})


def _attachment(item: Any, where: str) -> ImportedAttachment:
    encoded = _optional(item, "data", str, where)
    data = None
    if encoded is not None:
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise _Bad(f"{where}.data is not base64") from None
    url = _optional(item, "url", str, where)
    if data is None and url is None:
        raise _Bad(f"{where} has neither data nor a url")
    return ImportedAttachment(
        name=_field(item, "name", str, where),
        mime=_field(item, "mime", str, where),
        size=_field(item, "size", int, where),
        data=data,
        url=url,
        width=_optional(item, "width", int, where),
        height=_optional(item, "height", int, where),
    )


def _job(item: dict[str, Any], where: str) -> ImportedJob:
    files = _field(item, "files", list, where)
    params = _field(item, "params", dict, where)
    return ImportedJob(
        kind=_enum(item, "kind", JobKind, where),
        provider=_enum(item, "provider", JobProvider, where),
        action=_field(item, "action", str, where),
        model=_field(item, "model", str, where),
        prompt=_field(item, "prompt", str, where),
        params=params,
        state=_enum(item, "state", JobState, where),
        progress=_field(item, "progress", int, where),
        task_id=_optional(item, "task_id", str, where),
        failure_reason=_optional(item, "failure_reason", str, where),
        last_error=_optional(item, "last_error", str, where),
        created_at=_time(item, "created_at", where),
        submitted_at=_optional_time(item, "submitted_at", where),
        started_at=_optional_time(item, "started_at", where),
        finished_at=_optional_time(item, "finished_at", where),
        deadline_at=_optional_time(item, "deadline_at", where),
        urls_expire_at=_optional_time(item, "urls_expire_at", where),
        files=tuple(_job_file(f, f"{where}.files[{i}]") for i, f in enumerate(files)),
    )


def _job_file(item: Any, where: str) -> JobFile:
    return JobFile(
        index=_field(item, "index", int, where),
        url=_optional(item, "url", str, where),
        path=_field(item, "path", str, where),
        size=_optional(item, "size", int, where),
        done=_field(item, "saved", bool, where),
        error=_optional(item, "error", str, where),
        content_type=_optional(item, "content_type", str, where),
    )
