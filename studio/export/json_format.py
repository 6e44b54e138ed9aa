"""The JSON export: lossless and versioned, so ``studio import`` can rebuild every conversation.

The document (``schema_version`` 1; the README documents it)::

    {"format": "anyfast-studio-transcripts", "schema_version": 1, "conversations": [...]}

Each conversation carries its uuid, settings and timestamps and its messages; each message its
position, role, text, reasoning, status, model, usage, finish reason, error, timestamps, its
attachments with their bytes in base64, and the job it stands for as that job's snapshot
(``studio.jobs.payload.job_payload`` without this store's own ids). The same store always
writes the same bytes: keys in a fixed order, no export time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from studio.export.gather import Transcript, Turn
from studio.jobs.payload import job_payload
from studio.store.job_records import Job
from studio.usage import Usage

FORMAT_NAME = "anyfast-studio-transcripts"
SCHEMA_VERSION = 1

LOCAL_JOB_KEYS = ("id", "conversation_id", "retry_of")
"""Keys of a job's payload that are only this store's numbers: left out of the snapshot."""


def render_json(transcripts: Sequence[Transcript]) -> str:
    """The JSON document for ``transcripts`` (UTF-8 text, two-space indents, a final newline)."""
    document = {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "conversations": [_conversation(t) for t in transcripts],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _conversation(transcript: Transcript) -> dict[str, Any]:
    c = transcript.conversation
    return {
        "uuid": c.uuid,
        "title": c.title,
        "title_locked": c.title_locked,
        "model": c.model,
        "system_prompt": c.system_prompt,
        "temperature": c.temperature,
        "max_tokens": c.max_tokens,
        "archived": c.archived,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "messages": [_message(turn) for turn in transcript.turns],
    }


def _message(turn: Turn) -> dict[str, Any]:
    m = turn.message
    return {
        "position": m.position,
        "role": m.role.value,
        "content": m.content,
        "reasoning": m.reasoning,
        "status": m.status.value,
        "model": m.model,
        "usage": usage_json(m.usage),
        "finish_reason": m.finish_reason,
        "error": m.error,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "attachments": [
            {
                "name": a.name,
                "mime": a.mime,
                "size": a.size,
                "url": a.url,
                "width": a.width,
                "height": a.height,
                "data": None if data is None else base64.b64encode(data).decode("ascii"),
            }
            for a, data in zip(m.attachments, turn.attachment_data, strict=True)
        ],
        "job_linked": m.job_id is not None,
        "job": None if turn.job is None else job_snapshot(turn.job),
    }


def usage_json(usage: Usage | None) -> dict[str, int] | None:
    """A reply's token counts as JSON (``None`` without any)."""
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cached_tokens": usage.cached_tokens,
    }


def job_snapshot(job: Job) -> dict[str, Any]:
    """The job as a transcript keeps it: its payload without this store's own ids."""
    payload = job_payload(job)
    for key in LOCAL_JOB_KEYS:
        payload.pop(key, None)
    return payload
