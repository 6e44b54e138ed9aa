"""Typed results of the AnyFast client.

Every class keeps the server's JSON in ``raw`` for detail views and debugging; everything else is
parsed defensively, because the gateway's shapes vary between models and releases
(see ``shared/anyfast-api.md``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from studio.usage import Usage as Usage  # the store persists it too: a leaf below both

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of ``GET /v1/models``."""

    id: str
    owned_by: str = ""
    endpoint_types: tuple[str, ...] = ()
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> ModelInfo:
        types = data.get("supported_endpoint_types")
        return cls(
            id=str(data.get("id", "")),
            owned_by=str(data.get("owned_by") or ""),
            endpoint_types=tuple(str(t) for t in types) if isinstance(types, list) else (),
            raw=data,
        )


@dataclass(slots=True)
class ChatDelta:
    """One piece of a streamed chat reply.

    ``content`` and ``reasoning`` are the new text (possibly empty); ``finish_reason`` is set on
    the chunk that ends the reply; ``usage`` is set on the final ``choices: []`` chunk.
    ``warning`` is set on a delta of its own when something went wrong *after* the reply was
    complete (a malformed usage chunk, junk before ``[DONE]``): the reply stands, and the
    problem is worth a note, not a failure.
    """

    content: str = ""
    reasoning: str = ""
    role: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    id: str | None = None
    warning: str | None = None


FINISH_NOTES: dict[str, str] = {
    "length": "cut at the max-tokens limit",
    "content_filter": "filtered by the provider",
}
"""Finish reasons that mean the reply is not the model's whole answer, worded for a person."""


def finish_note(finish_reason: str | None) -> str | None:
    """A short note when ``finish_reason`` says the reply was cut or filtered, else None."""
    return FINISH_NOTES.get(finish_reason) if finish_reason else None


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    """A whole (non-streamed) chat reply."""

    id: str
    model: str
    content: str
    reasoning: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ImageItem:
    """One image of a Seedream answer: a URL, inline base64, or a per-item error."""

    url: str | None = None
    b64_json: str | None = None
    size: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None and self.error_message is None


@dataclass(frozen=True, slots=True)
class ImageResult:
    """The answer of ``POST /v1/images/generations`` (Seedream is synchronous)."""

    items: tuple[ImageItem, ...]
    model: str | None = None
    created: int | None = None
    generated_images: int | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @property
    def failed(self) -> tuple[ImageItem, ...]:
        return tuple(i for i in self.items if not i.ok)


class TaskState(enum.StrEnum):
    """The normalised state of a video task, whatever the provider's spelling."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED)


class Provider(enum.StrEnum):
    SEEDANCE = "seedance"
    KLING = "kling"


@dataclass(frozen=True, slots=True)
class VideoTask:
    """One video task (Seedance or Kling), from a create answer or a query answer."""

    task_id: str
    provider: Provider
    state: TaskState
    status: str = ""
    """The provider's own status spelling, as received (outer, else inner)."""
    progress: int = 0
    result_urls: tuple[str, ...] = ()
    failure_reason: str | None = None
    action: str | None = None
    model: str | None = None
    submitted_at: int | None = None
    started_at: int | None = None
    finished_at: int | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @property
    def result_url(self) -> str | None:
        return self.result_urls[0] if self.result_urls else None


def usage_from_json(data: Any) -> Usage | None:
    """The ``usage`` object of a chat answer (or an image generation), read defensively."""
    if not isinstance(data, dict):
        return None
    prompt = _int(data.get("prompt_tokens"))
    completion = _int(data.get("completion_tokens"))
    total = _int(data.get("total_tokens")) or prompt + completion
    details = data.get("completion_tokens_details")
    reasoning = _int(details.get("reasoning_tokens")) if isinstance(details, dict) else 0
    pdetails = data.get("prompt_tokens_details")
    cached = _int(pdetails.get("cached_tokens")) if isinstance(pdetails, dict) else 0
    return Usage(prompt, completion, total, reasoning, cached)


def _int(value: Any) -> int:
    """An int from a JSON value that may be a number, a numeric string or missing."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip().rstrip("%") or 0))
        except ValueError:
            return 0
    return 0
