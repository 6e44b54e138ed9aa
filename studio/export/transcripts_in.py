"""Importing a JSON export into the store."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from studio.export.files import configured_media_dir
from studio.export.json_import import parse_transcripts
from studio.store import Conversation, Store
from studio.store.transcript_import import (
    ImportedConversation,
    ImportedMessage,
    import_conversations,
)


def import_transcripts(
    store: Store, text: str, *, copy: bool = False, media_root: Path | None = None
) -> list[Conversation]:
    """Rebuild the conversations of the JSON export ``text`` in ``store``, all or none.

    A job's saved result is kept only when its path lies inside ``media_root`` (this machine's
    media folder; by default the one the settings name): a transcript is someone else's text,
    and a path it names elsewhere (a key in ``~/.ssh``) would otherwise be copied into later
    exports and deleted with the job.

    Raises :class:`~studio.export.ExportError` for a file that is not a transcript this Studio
    reads, and :class:`~studio.store.transcript_import.ConversationExists` when a conversation
    is in the store already and ``copy`` is false (with ``copy`` it comes in as a new one)."""
    root = (media_root or configured_media_dir()).resolve()
    conversations = [_local_files(c, root) for c in parse_transcripts(text)]
    return import_conversations(store, conversations, copy=copy)


def _local_files(conversation: ImportedConversation, root: Path) -> ImportedConversation:
    messages = tuple(_message_files(m, root) for m in conversation.messages)
    return dataclasses.replace(conversation, messages=messages)


def _message_files(message: ImportedMessage, root: Path) -> ImportedMessage:
    if message.job is None:
        return message
    files = tuple(f for f in message.job.files if _inside(f.path, root))
    return dataclasses.replace(message, job=dataclasses.replace(message.job, files=files))


def _inside(path: str, root: Path) -> bool:
    candidate = Path(path)
    if not candidate.is_absolute():  # the store only ever writes absolute paths
        return False
    try:
        resolved = candidate.resolve()  # .. and links followed: where it really is
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL byte
        return False
    return resolved.is_relative_to(root) and resolved != root
