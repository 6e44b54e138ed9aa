"""The store as the headless commands use it: opening it, finding a conversation by the number
``studio chats`` shows or by its uuid, and a conversation as stable JSON."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from studio.commands.common import CommandError
from studio.commands.exits import EXIT_USAGE
from studio.store import Conversation, Store

CHAT_JSON_VERSION = 1
"""Raised only when a key of :func:`conversation_payload` is renamed or removed."""


def open_store() -> Store:
    """The store the TUI uses (a ``StoreUnavailable`` is worded for a person: exit 4)."""
    return Store.open()


def find_conversation(store: Store, ref: str) -> Conversation:
    """The conversation ``ref`` names: its number (as ``studio chats`` shows it) or its uuid;
    a CommandError (exit 2) that says how to list them when there is none."""
    text = ref.strip()
    conversation: Conversation | None = None
    if text.isascii() and text.isdigit():
        number = int(text)  # past SQLite's 64-bit ids no conversation has it (no overflow)
        conversation = store.get_conversation(number) if number < 2**63 else None
    else:
        try:
            canonical = str(uuidlib.UUID(text))
        except ValueError:
            raise CommandError(
                f"{ref!r} is not a conversation number or uuid (`studio chats` lists them)",
                EXIT_USAGE,
            ) from None
        conversation = store.conversation_by_uuid(canonical)
    if conversation is None:
        raise CommandError(f"no conversation {text} (`studio chats` lists them)", EXIT_USAGE)
    return conversation


def latest_conversation(store: Store) -> Conversation | None:
    """The most recently updated conversation that is not archived."""
    recent = store.list_conversations(archived=False, limit=1)
    return recent[0] if recent else None


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    """One conversation as ``studio chats --json`` prints it (stable; times in epoch seconds)."""
    return {
        "version": CHAT_JSON_VERSION,
        "id": conversation.id,
        "uuid": conversation.uuid,
        "title": conversation.title,
        "model": conversation.model,
        "messages": conversation.message_count,
        "archived": conversation.archived,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
    }
