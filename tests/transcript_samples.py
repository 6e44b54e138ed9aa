"""A store full of what transcripts must carry, shared by the export/import tests."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.store import MessageStatus, NewAttachment, Role, Store
from studio.store.job_records import JobFile, JobKind, JobProvider, JobState
from studio.usage import Usage

RED_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAFElEQVR4nGM8ISfHAANMDEgAhQMAJtoBCkAAOw8AAAAASUVORK5CYII="
)
"""A 4x3 red PNG that every browser decodes."""

USER_TEXT = "# Not a heading\n<script>document.title='pwned'</script>\n<b>bold?</b> ```inline```"
REPLY_TEXT = (
    "Here is code:\n\n```python\nprint('hi')\n```\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "Raw <img src=x onerror=alert(1)> and ![remote](https://example.com/x.png)\n"
)
CUT_TEXT = "Start of code:\n\n```python\nx = 1\n"
ERROR_TEXT = "The gateway said: HTTP 500\nline two"


def ticking_clock(start: float = 1_750_000_000.25) -> Callable[[], float]:
    """A clock that moves 1.5 s per reading (distinct, exactly representable times)."""
    counter = itertools.count()
    return lambda: start + 1.5 * next(counter)


@dataclass
class Sample:
    """The ids of what :func:`fill` wrote."""

    chat: int
    archived: int
    image_file: Path


def fill(store: Store, media: Path) -> Sample:
    """Two conversations: a rich one (every status, usage, reasoning, an attachment, an image
    job with a saved result, a link to a job that is gone) and an archived one."""
    chat = store.create_conversation(
        title="Plans <b>& #1",
        model="gpt-4o",
        system_prompt="Be brief.\n# rules",
        temperature=0.7,
        max_tokens=800,
    )
    store.rename_conversation(chat.id, "Plans <b>& #1")
    store.add_message(
        chat.id,
        Role.USER,
        USER_TEXT,
        attachments=[NewAttachment("photo one.png", "image/png", data=RED_PNG, width=4, height=3)],
    )
    reply = store.start_reply(chat.id, model="gpt-4o")
    store.save_partial(reply.id, "x", reasoning="thinking ``` hard")
    store.finish_reply(
        reply.id,
        REPLY_TEXT,
        reasoning="thinking ``` hard",
        status=MessageStatus.COMPLETE,
        usage=Usage(12, 30, 42, 5, 3),
        finish_reason="stop",
    )
    store.add_message(chat.id, Role.USER, "Go on")
    cut = store.start_reply(chat.id, model="gpt-4o")
    store.finish_reply(cut.id, CUT_TEXT, status=MessageStatus.STOPPED)
    store.add_message(chat.id, Role.USER, "Again")
    failed = store.start_reply(chat.id, model="gpt-4o")
    store.finish_reply(failed.id, "", status=MessageStatus.ERROR, error=ERROR_TEXT)

    media.mkdir(parents=True, exist_ok=True)
    image_file = media / "red square.png"
    image_file.write_bytes(RED_PNG)
    job = store.create_job(
        kind=JobKind.IMAGE,
        provider=JobProvider.SEEDREAM,
        action="generate",
        model="seedream-4.0",
        prompt="a red square",
        params={"size": "1K", "n": 1},
        idempotency_key="key-1",
        conversation_id=chat.id,
    )
    store.update_job(
        job.id,
        state=JobState.SUCCEEDED,
        task_id="task-1",
        progress=100,
        finished_at=store._now(),
        files=(
            JobFile(0, "https://cdn.example/r.png", str(image_file), 70, True, None, "image/png"),
        ),
    )
    store.add_message(chat.id, Role.USER, "/image a red square", job_id=job.id)
    store.add_message(
        chat.id,
        Role.ASSISTANT,
        f"Image job #{job.id} is done.",
        model="seedream-4.0",
        job_id=job.id,
    )
    gone = store.create_job(
        kind=JobKind.VIDEO,
        provider=JobProvider.KLING,
        action="text2video",
        model="kling-v1",
        prompt="waves",
        params={},
        idempotency_key="key-2",
        conversation_id=chat.id,
    )
    store.add_message(chat.id, Role.ASSISTANT, "Video job did not finish.", job_id=gone.id)
    store.delete_job(gone.id)

    old = store.create_conversation(title="Old times")
    store.add_message(old.id, Role.USER, "hello")
    store.add_message(old.id, Role.ASSISTANT, "hi", model="gpt-4o-mini")
    store.set_archived(old.id, True)
    return Sample(chat.id, old.id, image_file)
