"""Importing a JSON export into the store."""

from __future__ import annotations

from studio.export.json_import import parse_transcripts
from studio.store import Conversation, Store
from studio.store.transcript_import import import_conversations


def import_transcripts(store: Store, text: str, *, copy: bool = False) -> list[Conversation]:
    """Rebuild the conversations of the JSON export ``text`` in ``store``, all or none.

    Raises :class:`~studio.export.ExportError` for a file that is not a transcript this Studio
    reads, and :class:`~studio.store.transcript_import.ConversationExists` when a conversation
    is in the store already and ``copy`` is false (with ``copy`` it comes in as a new one)."""
    return import_conversations(store, parse_transcripts(text), copy=copy)
