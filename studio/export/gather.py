"""Reading what an export needs from the store: each conversation with its messages, their
attachments' bytes and the jobs the messages stand for, in one typed value per conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from studio.export.errors import ExportError
from studio.store import Conversation, Message, Store, StoreError
from studio.store.job_records import Job


@dataclass(frozen=True, slots=True)
class Turn:
    """One message and what belongs to it."""

    message: Message
    attachment_data: tuple[bytes | None, ...]
    """The bytes of each attachment, in order (``None`` for one known only by its URL)."""
    job: Job | None
    """The job the message stands for, when it still exists."""


@dataclass(frozen=True, slots=True)
class Transcript:
    """One conversation, ready to be written in any format."""

    conversation: Conversation
    turns: tuple[Turn, ...]


def load_transcripts(store: Store, conversation_ids: Sequence[int]) -> list[Transcript]:
    """The conversations ``conversation_ids``, in that order; :class:`ExportError` when there
    are none or one does not exist, or the store cannot be read."""
    if not conversation_ids:
        raise ExportError("there is no conversation to export")
    try:
        return [_load(store, cid) for cid in conversation_ids]
    except StoreError as exc:
        raise ExportError(f"cannot read the conversations: {exc}") from exc


def _load(store: Store, cid: int) -> Transcript:
    conversation = store.get_conversation(cid)
    if conversation is None:
        raise ExportError(f"there is no conversation {cid}")
    jobs: dict[int, Job | None] = {}
    turns = []
    for message in store.messages(cid):
        data = tuple(store.attachment_data(a.id) for a in message.attachments)
        job = None
        if message.job_id is not None:
            if message.job_id not in jobs:
                jobs[message.job_id] = store.get_job(message.job_id)
            job = jobs[message.job_id]
        turns.append(Turn(message, data, job))
    return Transcript(conversation, tuple(turns))
