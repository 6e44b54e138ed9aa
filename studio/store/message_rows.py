"""One message's rows: the SQL and mapping between ``messages``/``attachments`` rows and
:class:`~studio.store.models.Message`, and the inserts, loads and removals that the message
methods of ``Store`` run inside their transactions.

Plain functions over an open connection: the caller owns the transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from studio.store.base import last_rowid
from studio.store.models import (
    Attachment,
    Message,
    MessageStatus,
    NewAttachment,
    NotFoundError,
    RemovedMessage,
    Role,
    StoreError,
)
from studio.store.processes import current_writer
from studio.usage import Usage

SELECT_MESSAGES = (
    "SELECT id, conversation_id, position, role, content, reasoning, status, model,"
    " prompt_tokens, completion_tokens, total_tokens, reasoning_tokens, cached_tokens,"
    " finish_reason, error, created_at, updated_at, job_id FROM messages"
)
"""Every column of ``messages`` but the heartbeat, as ``row_to_message`` reads them."""
_MESSAGE_BY_ID = SELECT_MESSAGES + " WHERE id = ?"
_ATTACHMENTS_OF_MESSAGE = (
    "SELECT id, message_id, name, mime, size, url, width, height FROM attachments"
    " WHERE message_id = ? ORDER BY ordinal"
)
_INSERT_MESSAGE = (
    "INSERT INTO messages (conversation_id, position, role, content, status, model,"
    " prompt_tokens, completion_tokens, total_tokens, reasoning_tokens, cached_tokens, error,"
    " created_at, updated_at, heartbeat_at, writer, job_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_ATTACHMENT = (
    "INSERT INTO attachments (message_id, ordinal, name, mime, size, url, width, height, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_RESTORE_MESSAGE = (
    "INSERT INTO messages (id, conversation_id, position, role, content, reasoning, status,"
    " model, prompt_tokens, completion_tokens, total_tokens, reasoning_tokens, cached_tokens,"
    " finish_reason, error, created_at, updated_at, job_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_RESTORE_ATTACHMENT = (
    "INSERT INTO attachments (id, message_id, ordinal, name, mime, size, url, width, height, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
NEXT_POSITION_SQL = "SELECT COALESCE(MAX(position), 0) + 1 FROM messages WHERE conversation_id = ?"


class PositionTakenError(Exception):
    """Internal: the position computed for a new message was taken by another writer."""


def next_position(conn: sqlite3.Connection, cid: int) -> int:
    """The position after the last message of conversation ``cid`` (1 for an empty one)."""
    return int(conn.execute(NEXT_POSITION_SQL, (cid,)).fetchone()[0])


def require_text(content: object) -> None:
    """Refuse message content that is not a string (``TypeError``)."""
    if not isinstance(content, str):
        raise TypeError(f"message content must be a string, not {type(content).__name__}")


def usage_values(usage: Usage | None) -> tuple[int | None, ...]:
    """The five token columns of ``messages`` for ``usage`` (all ``None`` without one)."""
    if usage is None:
        return (None, None, None, None, None)
    return (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.reasoning_tokens,
        usage.cached_tokens,
    )


def _usage(row: sqlite3.Row) -> Usage | None:
    if row["total_tokens"] is None and row["prompt_tokens"] is None:
        return None
    return Usage(
        prompt_tokens=row["prompt_tokens"] or 0,
        completion_tokens=row["completion_tokens"] or 0,
        total_tokens=row["total_tokens"] or 0,
        reasoning_tokens=row["reasoning_tokens"] or 0,
        cached_tokens=row["cached_tokens"] or 0,
    )


def row_to_message(row: sqlite3.Row, attachments: tuple[Attachment, ...]) -> Message:
    """Build a ``Message`` from a row selected with ``SELECT_MESSAGES`` and its attachments."""
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        position=row["position"],
        role=Role(row["role"]),
        content=row["content"],
        reasoning=row["reasoning"],
        status=MessageStatus(row["status"]),
        model=row["model"],
        usage=_usage(row),
        finish_reason=row["finish_reason"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        attachments=attachments,
        job_id=row["job_id"],
    )


def row_to_attachment(row: sqlite3.Row) -> Attachment:
    """Build an ``Attachment`` (without its bytes) from an ``attachments`` row."""
    return Attachment(
        id=row["id"],
        message_id=row["message_id"],
        name=row["name"],
        mime=row["mime"],
        size=row["size"],
        url=row["url"],
        width=row["width"],
        height=row["height"],
    )


def load_message(conn: sqlite3.Connection, mid: int) -> Message:
    """Message ``mid`` with its attachments; ``NotFoundError`` when it is gone."""
    row = conn.execute(_MESSAGE_BY_ID, (mid,)).fetchone()
    if row is None:
        raise NotFoundError(f"no message with id {mid}")
    attachments = conn.execute(_ATTACHMENTS_OF_MESSAGE, (mid,)).fetchall()
    return row_to_message(row, tuple(row_to_attachment(a) for a in attachments))


def insert_attachments(
    conn: sqlite3.Connection, mid: int, attachments: Sequence[NewAttachment]
) -> None:
    """Add ``attachments`` to message ``mid``, in order."""
    conn.executemany(
        _INSERT_ATTACHMENT,
        [_attachment_row(mid, ordinal, a) for ordinal, a in enumerate(attachments)],
    )


def _attachment_row(mid: int, ordinal: int, new: NewAttachment) -> tuple[object, ...]:
    size = len(new.data) if new.data is not None else 0
    return (mid, ordinal, new.name, new.mime, size, new.url, new.width, new.height, new.data)


def insert_message(
    conn: sqlite3.Connection,
    cid: int,
    role: Role,
    content: str,
    *,
    attachments: Sequence[NewAttachment],
    model: str | None,
    status: MessageStatus,
    usage: Usage | None,
    error: str | None,
    job_id: int | None,
    now: float,
) -> int:
    """Add a message (and its attachments) at the end of conversation ``cid``; return its id.

    A streaming one gets a heartbeat and this process as its writer. Raises
    ``PositionTakenError`` when another writer took the position computed for it.
    """
    streaming = status is MessageStatus.STREAMING
    heartbeat = now if streaming else None
    position = next_position(conn, cid)
    values: tuple[object, ...] = (cid, position, role.value, content, status.value)
    values += (model, *usage_values(usage), error, now, now, heartbeat)
    values += (current_writer() if streaming else None, job_id)
    try:
        cursor = conn.execute(_INSERT_MESSAGE, values)
    except sqlite3.IntegrityError as exc:
        if "messages.conversation_id, messages.position" in str(exc):
            raise PositionTakenError from exc
        raise
    mid = last_rowid(cursor)
    insert_attachments(conn, mid, attachments)
    return mid


def take_message(conn: sqlite3.Connection, mid: int) -> RemovedMessage:
    """Delete message ``mid`` and return it whole, its attachments' bytes too; raises
    ``NotFoundError`` when it is gone."""
    message = load_message(conn, mid)
    data = tuple(
        None if row[0] is None else bytes(row[0])
        for row in conn.execute(
            "SELECT data FROM attachments WHERE message_id = ? ORDER BY ordinal", (mid,)
        )
    )
    conn.execute("DELETE FROM messages WHERE id = ?", (mid,))
    return RemovedMessage(message, data)


def restore_message(conn: sqlite3.Connection, removed: RemovedMessage) -> None:
    """Write back the rows of a message ``take_message`` removed: same id, position and
    attachments (an attachment id taken meanwhile gets a new one). Raises ``StoreError`` when
    its position was taken since."""
    message = removed.message
    taken = conn.execute(
        "SELECT 1 FROM messages WHERE conversation_id = ? AND position = ?",
        (message.conversation_id, message.position),
    ).fetchone()
    if taken is not None:
        raise StoreError("another message has taken its place in the conversation")
    values: tuple[object, ...] = (
        message.id,
        message.conversation_id,
        message.position,
        message.role.value,
        message.content,
        message.reasoning,
        message.status.value,
        message.model,
        *usage_values(message.usage),
        message.finish_reason,
        message.error,
        message.created_at,
        message.updated_at,
        message.job_id,
    )
    conn.execute(_RESTORE_MESSAGE, values)
    for ordinal, att in enumerate(message.attachments):
        data = removed.attachment_data[ordinal] if ordinal < len(removed.attachment_data) else None
        id_taken = conn.execute("SELECT 1 FROM attachments WHERE id = ?", (att.id,)).fetchone()
        conn.execute(
            _RESTORE_ATTACHMENT,
            (
                None if id_taken is not None else att.id,
                message.id,
                ordinal,
                att.name,
                att.mime,
                att.size,
                att.url,
                att.width,
                att.height,
                data,
            ),
        )
