"""Turning a stored conversation into the messages sent to the gateway. No Textual here."""

from __future__ import annotations

import base64
from typing import Any

from studio.store import Conversation, MessageStatus, Role, Store

TITLE_WORDS = 8


def title_from_prompt(text: str) -> str:
    """A conversation title from its first prompt: the first words of the first line."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    words = first.split()
    title = " ".join(words[:TITLE_WORDS])
    if len(words) > TITLE_WORDS:
        title += "…"
    return title[:80] or "New conversation"


def api_messages(store: Store, conversation: Conversation) -> list[dict[str, Any]]:
    """System prompt plus every message worth sending, with images as data URIs.

    A failed reply with no text is left out; a stopped or cut reply is sent as far as it got,
    so the model sees what the user saw.
    """
    out: list[dict[str, Any]] = []
    if conversation.system_prompt:
        out.append({"role": "system", "content": conversation.system_prompt})
    for message in store.messages(conversation.id):
        if message.status is MessageStatus.STREAMING:
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
                data = store.attachment_data(att.id) or b""
                url = f"data:{att.mime};base64,{base64.b64encode(data).decode('ascii')}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
        out.append({"role": message.role.value, "content": parts})
    return out
