"""Messages and their attachments: add, stream, finish, page through, edit, delete, recover."""

from __future__ import annotations

import os
import socket
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from studio.store.base import StoreBase, last_rowid
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
from studio.usage import Usage

SELECT_MESSAGES = (
    "SELECT id, conversation_id, position, role, content, reasoning, status, model,"
    " prompt_tokens, completion_tokens, total_tokens, reasoning_tokens, cached_tokens,"
    " finish_reason, error, created_at, updated_at, job_id FROM messages"
)
"""Every column of ``messages`` but the heartbeat, as ``_row_to_message`` reads them."""
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
_FINISH_REPLY = (
    "UPDATE messages SET content = ?, reasoning = ?, status = ?, prompt_tokens = ?,"
    " completion_tokens = ?, total_tokens = ?, reasoning_tokens = ?, cached_tokens = ?,"
    " error = ?, finish_reason = ?, updated_at = ?, heartbeat_at = NULL WHERE id = ?"
)
HOST = socket.gethostname()


def current_writer() -> str:
    """``host:pid`` of this process, recorded with each reply it streams."""
    return f"{HOST}:{os.getpid()}"


def writer_alive(writer: str | None) -> bool:
    """Whether the process named ``host:pid`` may still be running (unknown hosts: assume so)."""
    if not writer:
        return True
    host, _, pid_text = writer.rpartition(":")
    if host != HOST or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


STALE_STREAMS_SQL = (
    "SELECT id, heartbeat_at, writer FROM messages"
    " WHERE status = 'streaming' AND (heartbeat_at IS NULL OR heartbeat_at < ? OR writer LIKE ?)"
)
"""Streaming replies whose heartbeat is older than the bound: a scan of the small partial index
``messages_streaming``, never of the table."""

#: How often ``add_message`` tries again when another writer took the position it computed.
POSITION_ATTEMPTS = 5

_FINAL_STATUSES = frozenset(MessageStatus) - {MessageStatus.STREAMING}


class PositionTakenError(Exception):
    """Internal: the position computed for a new message was taken by another writer."""


def page_sql(cid: int, *, limit: int | None, before_position: int | None) -> tuple[str, list[Any]]:
    """The query behind ``Store.messages`` and its parameters.

    With a ``limit`` it returns the newest rows first (the caller reverses them); either way it
    is a range search on ``messages_conversation_position``. Public so tests can check its plan.
    """
    sql = SELECT_MESSAGES + " WHERE conversation_id = ?"
    params: list[Any] = [cid]
    if before_position is not None:
        sql += " AND position < ?"
        params.append(before_position)
    if limit is None:
        sql += " ORDER BY position ASC"
    else:
        sql += " ORDER BY position DESC LIMIT ?"
        params.append(max(0, limit))
    return sql, params


ATTACHMENTS_IN_RANGE_SQL = (
    "SELECT a.id, a.message_id, a.name, a.mime, a.size, a.url, a.width, a.height"
    " FROM messages AS m JOIN attachments AS a ON a.message_id = m.id"
    " WHERE m.conversation_id = ? AND m.position BETWEEN ? AND ?"
    " ORDER BY a.message_id, a.ordinal"
)
"""The one extra query that loads the attachments of a page of messages."""

NEXT_POSITION_SQL = "SELECT COALESCE(MAX(position), 0) + 1 FROM messages WHERE conversation_id = ?"


def next_position(conn: sqlite3.Connection, cid: int) -> int:
    """The position after the last message of conversation ``cid`` (1 for an empty one)."""
    return int(conn.execute(NEXT_POSITION_SQL, (cid,)).fetchone()[0])


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


def _usage_values(usage: Usage | None) -> tuple[int | None, ...]:
    if usage is None:
        return (None, None, None, None, None)
    return (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.reasoning_tokens,
        usage.cached_tokens,
    )


def _attachment_row(mid: int, ordinal: int, new: NewAttachment) -> tuple[object, ...]:
    size = len(new.data) if new.data is not None else 0
    return (mid, ordinal, new.name, new.mime, size, new.url, new.width, new.height, new.data)


def _row_to_message(row: sqlite3.Row, attachments: tuple[Attachment, ...]) -> Message:
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


def _row_to_attachment(row: sqlite3.Row) -> Attachment:
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


def _require_text(content: object) -> None:
    if not isinstance(content, str):
        raise TypeError(f"message content must be a string, not {type(content).__name__}")


def _is_position_conflict(exc: sqlite3.IntegrityError) -> bool:
    return "messages.conversation_id, messages.position" in str(exc)


class MessagesMixin(StoreBase):
    """The message half of ``Store``."""

    def add_message(
        self,
        cid: int,
        role: Role,
        content: str,
        *,
        attachments: Sequence[NewAttachment] = (),
        model: str | None = None,
        status: MessageStatus = MessageStatus.COMPLETE,
        usage: Usage | None = None,
        error: str | None = None,
        job_id: int | None = None,
    ) -> Message:
        """Append a message to conversation ``cid`` and touch the conversation's ``updated_at``
        (``job_id``: the job it stands for).

        The position is allocated inside the write transaction; should another writer have
        taken it anyway (the unique index refuses the row), it is computed again.
        """
        _require_text(content)
        role, status = Role(role), MessageStatus(status)
        for _ in range(POSITION_ATTEMPTS):
            try:
                return self._insert_message(
                    cid, role, content, attachments, model, status, usage, error, job_id
                )
            except PositionTakenError:
                continue
        raise StoreError(f"could not find a free message position in conversation {cid}")

    def _insert_message(
        self,
        cid: int,
        role: Role,
        content: str,
        attachments: Sequence[NewAttachment],
        model: str | None,
        status: MessageStatus,
        usage: Usage | None,
        error: str | None,
        job_id: int | None = None,
    ) -> Message:
        with self._write() as conn:
            self._require_conversation(conn, cid)
            now = self._now()
            streaming = status is MessageStatus.STREAMING
            heartbeat = now if streaming else None
            position = next_position(conn, cid)
            values: tuple[object, ...] = (cid, position, role.value, content, status.value)
            values += (model, *_usage_values(usage), error, now, now, heartbeat)
            values += (current_writer() if streaming else None, job_id)
            try:
                cursor = conn.execute(_INSERT_MESSAGE, values)
            except sqlite3.IntegrityError as exc:
                if _is_position_conflict(exc):
                    raise PositionTakenError from exc
                raise
            mid = last_rowid(cursor)
            conn.executemany(
                _INSERT_ATTACHMENT,
                [_attachment_row(mid, ordinal, a) for ordinal, a in enumerate(attachments)],
            )
            self._touch_conversation(conn, cid, now)
            return self._load_message(conn, mid)

    # -- messages that stand for jobs ------------------------------------------------------------

    def job_message(self, job_id: int) -> Message | None:
        """The message that stands for job ``job_id`` in its conversation (not the command
        that made it), or ``None``."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT id FROM messages WHERE job_id = ? AND role = 'assistant'", (job_id,)
            ).fetchone()
            return None if row is None else self._load_message(conn, int(row[0]))

    def add_job_message(
        self, cid: int, job_id: int, content: str, *, model: str | None = None
    ) -> Message | None:
        """Add the message that stands for job ``job_id`` at the end of conversation ``cid``,
        unless it has one already (another window may have added it): ``None`` then."""
        if self.job_message(job_id) is not None:
            return None
        try:
            return self.add_message(cid, Role.ASSISTANT, content, model=model, job_id=job_id)
        except StoreError as exc:
            if "messages.job_id" in str(exc):  # added by another window meanwhile
                return None
            raise

    def show_job_outcome(
        self,
        mid: int,
        content: str,
        *,
        status: MessageStatus,
        error: str | None,
        attachments: Sequence[NewAttachment] = (),
    ) -> Message:
        """Put a job's outcome in its message: text, status, error and result images (they
        replace any it had). Raises ``NotFoundError`` when the message is gone."""
        _require_text(content)
        status = MessageStatus(status)
        with self._write() as conn:
            now = self._now()
            cursor = conn.execute(
                "UPDATE messages SET content = ?, status = ?, error = ?, updated_at = ?"
                " WHERE id = ?",
                (content, status.value, error, now, mid),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no message with id {mid}")
            conn.execute("DELETE FROM attachments WHERE message_id = ?", (mid,))
            conn.executemany(
                _INSERT_ATTACHMENT,
                [_attachment_row(mid, ordinal, a) for ordinal, a in enumerate(attachments)],
            )
            message = self._load_message(conn, mid)
            self._touch_conversation(conn, message.conversation_id, now)
            return message

    def link_job(self, mid: int, job_id: int) -> None:
        """Record that message ``mid`` (a user's command) made job ``job_id``."""
        with self._write() as conn:
            conn.execute("UPDATE messages SET job_id = ? WHERE id = ?", (job_id, mid))

    def relink_commands(self, old_job: int, new_job: int) -> None:
        """The commands that made job ``old_job`` now stand for ``new_job`` (its retry)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE messages SET job_id = ? WHERE job_id = ? AND role = 'user'",
                (new_job, old_job),
            )

    def start_reply(self, cid: int, *, model: str) -> Message:
        """Add an empty assistant message in ``STREAMING`` state, with a fresh heartbeat."""
        return self.add_message(
            cid, Role.ASSISTANT, "", model=model, status=MessageStatus.STREAMING
        )

    def save_partial(self, mid: int, content: str, *, reasoning: str = "") -> None:
        """Store the text received so far and refresh the heartbeat: one ``UPDATE``.

        A reply that a second instance wrongly recovered as ``CUT`` (say, the writer's machine
        slept) goes back to ``STREAMING``, since its writer is evidently alive. Raises
        ``NotFoundError`` when the message is gone or already finished.
        """
        with self._write() as conn:
            now = self._now()
            cursor = conn.execute(
                "UPDATE messages SET content = ?, reasoning = ?, status = 'streaming',"
                " updated_at = ?, heartbeat_at = ?, writer = ?"
                " WHERE id = ? AND status IN ('streaming', 'cut')",
                (content, reasoning, now, now, current_writer(), mid),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no streaming message with id {mid}")

    def finish_reply(
        self,
        mid: int,
        content: str,
        *,
        status: MessageStatus,
        usage: Usage | None = None,
        error: str | None = None,
        finish_reason: str | None = None,
        reasoning: str = "",
    ) -> Message:
        """Store a reply's final text and outcome (any status but ``STREAMING``)."""
        _require_text(content)
        status = MessageStatus(status)
        if status not in _FINAL_STATUSES:
            raise ValueError(f"a finished reply cannot have status {status.value!r}")
        with self._write() as conn:
            now = self._now()
            values = (content, reasoning, status.value, *_usage_values(usage), error)
            cursor = conn.execute(_FINISH_REPLY, (*values, finish_reason, now, mid))
            if cursor.rowcount == 0:
                raise NotFoundError(f"no message with id {mid}")
            message = self._load_message(conn, mid)
            self._touch_conversation(conn, message.conversation_id, now)
            return message

    def get_message(self, mid: int) -> Message | None:
        """The message with id ``mid`` (with its attachments), or ``None``."""
        with self._read() as conn:
            try:
                return self._load_message(conn, mid)
            except NotFoundError:
                return None

    def messages(
        self, cid: int, *, limit: int | None = None, before_position: int | None = None
    ) -> list[Message]:
        """Messages of conversation ``cid`` in ascending position order.

        ``before_position`` keeps those before it; ``limit`` keeps the last ``limit`` of those,
        so ``messages(cid, limit=50)`` is the newest page and
        ``messages(cid, limit=50, before_position=page[0].position)`` the one before it.
        Attachments come in one extra query, whatever the number of messages.
        """
        sql, params = page_sql(cid, limit=limit, before_position=before_position)
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
            if limit is not None:
                rows.reverse()
            if not rows:
                return []
            found: defaultdict[int, list[Attachment]] = defaultdict(list)
            bounds = (cid, rows[0]["position"], rows[-1]["position"])
            for row in conn.execute(ATTACHMENTS_IN_RANGE_SQL, bounds):
                found[row["message_id"]].append(_row_to_attachment(row))
        return [_row_to_message(row, tuple(found.get(row["id"], ()))) for row in rows]

    def count_messages(self, cid: int) -> int:
        """How many messages conversation ``cid`` holds (0 if it does not exist)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT message_count FROM conversations WHERE id = ?", (cid,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def edit_message(self, mid: int, content: str) -> Message:
        """Replace a message's text (touching its conversation's ``updated_at``)."""
        _require_text(content)
        with self._write() as conn:
            now = self._now()
            cursor = conn.execute(
                "UPDATE messages SET content = ?, updated_at = ? WHERE id = ?", (content, now, mid)
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no message with id {mid}")
            message = self._load_message(conn, mid)
            self._touch_conversation(conn, message.conversation_id, now)
            return message

    def delete_message(self, mid: int) -> None:
        """Delete one message and its attachments (nothing if it is gone); positions of the
        others are kept."""
        with self._write() as conn:
            conn.execute("DELETE FROM messages WHERE id = ?", (mid,))

    def take_message(self, mid: int) -> RemovedMessage:
        """Delete one message, as ``delete_message`` does, and return it whole (its
        attachments' bytes too) for ``restore_message``: an undoable delete. Raises
        ``NotFoundError`` when it is gone."""
        with self._write() as conn:
            message = self._load_message(conn, mid)
            data = tuple(
                None if row[0] is None else bytes(row[0])
                for row in conn.execute(
                    "SELECT data FROM attachments WHERE message_id = ? ORDER BY ordinal", (mid,)
                )
            )
            conn.execute("DELETE FROM messages WHERE id = ?", (mid,))
        return RemovedMessage(message, data)

    def restore_message(self, removed: RemovedMessage) -> Message:
        """Put back a message that ``take_message`` removed, exactly as it was: the same id
        (ids are never reused, so it is free), position, text, status, usage, timestamps and
        attachments. An attachment id taken meanwhile gets a new one. Raises ``NotFoundError``
        when its conversation is gone and ``StoreError`` when its position was taken since."""
        message = removed.message
        with self._write() as conn:
            self._require_conversation(conn, message.conversation_id)
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
                *_usage_values(message.usage),
                message.finish_reason,
                message.error,
                message.created_at,
                message.updated_at,
                message.job_id,
            )
            conn.execute(_RESTORE_MESSAGE, values)
            for ordinal, att in enumerate(message.attachments):
                data = (
                    removed.attachment_data[ordinal]
                    if ordinal < len(removed.attachment_data)
                    else None
                )
                id_taken = conn.execute(
                    "SELECT 1 FROM attachments WHERE id = ?", (att.id,)
                ).fetchone()
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
            return self._load_message(conn, message.id)

    def delete_messages_from(self, cid: int, position: int) -> int:
        """Delete the message at ``position`` and every later one (regenerate, edit and
        resend); return how many were deleted."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND position >= ?", (cid, position)
            )
            return cursor.rowcount

    def recover_interrupted(self, *, stale_after: float = 10.0) -> list[Message]:
        """Mark as ``CUT`` every streaming reply whose heartbeat is older than ``stale_after``
        seconds (its writer died mid-stream); return them, text as last saved.

        Replies another running instance is still streaming have a fresh heartbeat and are
        left alone. A reply whose writer was a process on this host that no longer exists
        (killed mid-reply) is cut at once, however fresh its heartbeat.
        """
        with self._write() as conn:
            now = self._now()
            bound = now - stale_after
            rows = conn.execute(STALE_STREAMS_SQL, (bound, f"{HOST}:%")).fetchall()
            ids = sorted(
                int(mid)
                for mid, heartbeat, writer in rows
                if heartbeat is None or heartbeat < bound or not writer_alive(writer)
            )
            conn.executemany(
                "UPDATE messages SET status = 'cut', updated_at = ?, heartbeat_at = NULL"
                " WHERE id = ?",
                [(now, mid) for mid in ids],
            )
            return [self._load_message(conn, mid) for mid in ids]

    def attachment_data(self, aid: int) -> bytes | None:
        """The bytes of attachment ``aid`` (``None`` if it is gone or known only by URL)."""
        with self._read() as conn:
            row = conn.execute("SELECT data FROM attachments WHERE id = ?", (aid,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def _load_message(self, conn: sqlite3.Connection, mid: int) -> Message:
        row = conn.execute(_MESSAGE_BY_ID, (mid,)).fetchone()
        if row is None:
            raise NotFoundError(f"no message with id {mid}")
        attachments = conn.execute(_ATTACHMENTS_OF_MESSAGE, (mid,)).fetchall()
        return _row_to_message(row, tuple(_row_to_attachment(a) for a in attachments))
