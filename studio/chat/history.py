"""Turning a conversation into the messages sent to the gateway, and the small rules about what a
prompt is (a title, a ``/image`` or ``/video`` command). No Textual here."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from studio.store import Conversation, Message, MessageStatus, Role

if TYPE_CHECKING:
    from studio.chat.records import ChatRecords

TITLE_WORDS = 8


def title_from_prompt(text: str) -> str:
    """A conversation title from its first prompt: the first words of the first line."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    words = first.split()
    title = " ".join(words[:TITLE_WORDS])
    if len(words) > TITLE_WORDS:
        title += "…"
    return title[:80] or "New conversation"


JOB_COMMANDS = ("/image", "/video")


def job_command(text: str) -> tuple[str, str] | None:
    """``("video", PROMPT)`` for ``/video PROMPT`` (likewise ``/image``), else ``None``."""
    command, _, rest = text.strip().partition(" ")
    if command not in JOB_COMMANDS:
        return None
    return command[1:], rest.strip()


def is_job_command(message: Message) -> bool:
    """Whether ``message`` is the user's ``/image`` or ``/video`` command (never chat)."""
    return message.role is Role.USER and job_command(message.content) is not None


def api_messages(
    records: ChatRecords, conversation: Conversation, *, commands_are_jobs: bool = True
) -> list[dict[str, Any]]:
    """System prompt plus every message worth sending, with images as data URIs.

    A failed reply with no text is left out; a stopped or cut reply is sent as far as it got,
    so the model sees what the user saw. Jobs are not chat: a ``/image`` or ``/video`` command
    and the message showing its job (with the result images) are never sent; to show the model
    a result, attach its file. ``commands_are_jobs=False`` (``studio ask``, which has no jobs)
    sends such a prompt as the question it is.
    """
    out: list[dict[str, Any]] = []
    if conversation.system_prompt:
        out.append({"role": "system", "content": conversation.system_prompt})
    for message in records.messages(conversation.id):
        if message.status is MessageStatus.STREAMING:
            continue
        if message.job_id is not None or (commands_are_jobs and is_job_command(message)):
            continue
        if message.role is Role.ASSISTANT and not message.content:
            continue
        if not message.attachments:
            out.append({"role": message.role.value, "content": message.content})
            continue
        parts: list[dict[str, Any]] = []
        if message.content.strip():
            parts.append({"type": "text", "text": message.content})
        for att in message.attachments:
            url = att.url
            if url is None:
                data = records.attachment_data(att.id) or b""
                url = f"data:{att.mime};base64,{base64.b64encode(data).decode('ascii')}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
        out.append({"role": message.role.value, "content": parts})
    return out
