"""The typed values the store hands out and accepts, and its one error type.

Everything here is plain data (frozen, slotted dataclasses and ``StrEnum``\\s), so the TUI, the
headless commands and the job engine can pass these around without knowing about SQLite.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from studio.usage import Usage


class StoreError(Exception):
    """Anything that went wrong in the store: a corrupt or too-new database, a busy lock, a
    closed store. ``sqlite3`` errors never reach callers; they arrive wrapped in this (a file
    that cannot be used at all raises the subclass ``studio.store.errors.StoreUnavailable``)."""


class NotFoundError(StoreError, LookupError):
    """A conversation or message that a change was aimed at does not exist (any more)."""


class Role(enum.StrEnum):
    """Who wrote a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(enum.StrEnum):
    """Where a message is in its life.

    ``STREAMING`` while a reply arrives; then ``COMPLETE`` (the model finished), ``STOPPED``
    (the user stopped it), ``CUT`` (the writer died mid-stream and a later start recovered it)
    or ``ERROR`` (the request failed; ``Message.error`` says why).
    """

    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    CUT = "cut"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation's settings and bookkeeping (its messages are fetched separately)."""

    id: int
    title: str
    title_locked: bool
    """True once the user renamed it: automatic titles no longer replace the title."""
    model: str | None
    system_prompt: str | None
    temperature: float | None
    max_tokens: int | None
    archived: bool
    created_at: float
    """Epoch seconds."""
    updated_at: float
    """Epoch seconds of the last change (a message added, finished or edited; a setting)."""
    message_count: int
    uuid: str = ""
    """Its lasting identity (a uuid4), kept by an export and an import into another store."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """The metadata of a file attached to a message; the bytes come from
    ``Store.attachment_data`` so listing history never loads them."""

    id: int
    message_id: int
    name: str
    mime: str
    size: int
    """Bytes stored in the database (0 for an attachment known only by its URL)."""
    url: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A file to attach to a new message: its bytes, a URL, or both."""

    name: str
    mime: str
    data: bytes | None = None
    url: str | None = None
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        if self.data is None and self.url is None:
            raise ValueError(f"attachment {self.name!r} needs data or a url")


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation, ordered by ``position`` (ascending, unique, with gaps
    where messages were deleted)."""

    id: int
    conversation_id: int
    position: int
    role: Role
    content: str
    reasoning: str
    status: MessageStatus
    model: str | None
    usage: Usage | None
    finish_reason: str | None
    error: str | None
    created_at: float
    updated_at: float
    attachments: tuple[Attachment, ...] = ()
    job_id: int | None = None
    """The job this message stands for: a job's message in its conversation, or the user's
    ``/image``/``/video`` command that made it (``None`` for chat)."""


@dataclass(frozen=True, slots=True)
class RemovedMessage:
    """A message taken out of its conversation (``Store.take_message``), kept whole so that
    ``Store.restore_message`` can put it back exactly: same id, position, text, status,
    timestamps and attachments (their bytes in ``attachment_data``, in order)."""

    message: Message
    attachment_data: tuple[bytes | None, ...] = ()
