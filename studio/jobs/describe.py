"""Facts about a job for the places that describe it (the sidebar, the job view, the reports
in conversations). Plain data over :class:`~studio.store.job_records.Job`: no Textual here."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from studio.store.job_records import Job

_DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+)?[^,]*,")


def item_errors(job: Job) -> list[dict[str, object]]:
    """The failed images of a group (the rest succeeded), as recorded by the engine."""
    errors = job.result.get("errors") if isinstance(job.result, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def duration(seconds: float | None) -> str:
    """A duration as ``45s``, ``3m07s`` or ``1h02m``; ``–`` when unknown."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def rough_duration(seconds: float) -> str:
    """A duration to the nearest minute (seconds under a minute): ETAs are estimates."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def shown_value(value: Any) -> str:
    """A parameter as shown: inline images summarised (``<image/png inline, 1,950 bytes>``)
    instead of their base64, a list of one value without brackets."""

    def short(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {str(k): short(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [short(v) for v in item]
        if isinstance(item, str):
            found = _DATA_URI.match(item)
            if found:
                size = (len(item) - found.end()) * 3 // 4
                return f"<{found.group(1) or 'data'} inline, {size:,} bytes>"
            if len(item) > 512 and " " not in item:
                return f"<inline data, {len(item):,} characters>"
        return item

    value = short(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str | int | float | bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def summarised(raw: Any) -> Any:
    """A server answer with its inline data (data URIs, long base64) summarised."""
    if isinstance(raw, Mapping):
        return {str(k): summarised(v) for k, v in raw.items()}
    if isinstance(raw, list | tuple):
        return [summarised(v) for v in raw]
    if isinstance(raw, str) and (_DATA_URI.match(raw) or (len(raw) > 512 and " " not in raw)):
        return shown_value(raw)
    return raw
