"""The message methods of ``Store``: add, stream, finish, page through, edit, delete, restore,
recover, and the messages that stand for generation jobs.

The rows and queries behind them live in :mod:`studio.store.message_rows` and
:mod:`studio.store.message_queries`; these methods own the transactions.
"""

from __future__ import annotations

from collections.abc import Sequence

from studio.store import message_queries, message_rows
from studio.store.base import StoreBase
from studio.store.message_rows import PositionTakenError, load_message, require_text, usage_values
from studio.store.models import (
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

_FINISH_REPLY = (
    "UPDATE messages SET content = ?, reasoning = ?, status = ?, prompt_tokens = ?,"
    " completion_tokens = ?, total_tokens = ?, reasoning_tokens = ?, cached_tokens = ?,"
    " error = ?, finish_reason = ?, updated_at = ?, heartbeat_at = NULL WHERE id = ?"
)

#: How often ``add_message`` tries again when another writer took the position it computed.
POSITION_ATTEMPTS = 5

_FINAL_STATUSES = frozenset(MessageStatus) - {MessageStatus.STREAMING}


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
        require_text(content)
        role, status = Role(role), MessageStatus(status)
        for _ in range(POSITION_ATTEMPTS):
            try:
                with self._write() as conn:
                    self._require_conversation(conn, cid)
                    now = self._now()
                    mid = message_rows.insert_message(
                        conn,
                        cid,
                        role,
                        content,
                        attachments=attachments,
                        model=model,
                        status=status,
                        usage=usage,
                        error=error,
                        job_id=job_id,
                        now=now,
                    )
                    self._touch_conversation(conn, cid, now)
                    return load_message(conn, mid)
            except PositionTakenError:
                continue
        raise StoreError(f"could not find a free message position in conversation {cid}")

    # -- messages that stand for jobs ------------------------------------------------------------

    def job_message(self, job_id: int) -> Message | None:
        """The message that stands for job ``job_id`` in its conversation (not the command
        that made it), or ``None``."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT id FROM messages WHERE job_id = ? AND role = 'assistant'", (job_id,)
            ).fetchone()
            return None if row is None else load_message(conn, int(row[0]))

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
        require_text(content)
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
            message_rows.insert_attachments(conn, mid, attachments)
            message = load_message(conn, mid)
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
        require_text(content)
        status = MessageStatus(status)
        if status not in _FINAL_STATUSES:
            raise ValueError(f"a finished reply cannot have status {status.value!r}")
        with self._write() as conn:
            now = self._now()
            values = (content, reasoning, status.value, *usage_values(usage), error)
            cursor = conn.execute(_FINISH_REPLY, (*values, finish_reason, now, mid))
            if cursor.rowcount == 0:
                raise NotFoundError(f"no message with id {mid}")
            message = load_message(conn, mid)
            self._touch_conversation(conn, message.conversation_id, now)
            return message

    def get_message(self, mid: int) -> Message | None:
        """The message with id ``mid`` (with its attachments), or ``None``."""
        with self._read() as conn:
            try:
                return load_message(conn, mid)
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
        with self._read() as conn:
            return message_queries.read_page(
                conn, cid, limit=limit, before_position=before_position
            )

    def count_messages(self, cid: int) -> int:
        """How many messages conversation ``cid`` holds (0 if it does not exist)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT message_count FROM conversations WHERE id = ?", (cid,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def edit_message(self, mid: int, content: str) -> Message:
        """Replace a message's text (touching its conversation's ``updated_at``)."""
        require_text(content)
        with self._write() as conn:
            now = self._now()
            cursor = conn.execute(
                "UPDATE messages SET content = ?, updated_at = ? WHERE id = ?", (content, now, mid)
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no message with id {mid}")
            message = load_message(conn, mid)
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
            return message_rows.take_message(conn, mid)

    def restore_message(self, removed: RemovedMessage) -> Message:
        """Put back a message that ``take_message`` removed, exactly as it was: the same id
        (ids are never reused, so it is free), position, text, status, usage, timestamps and
        attachments. An attachment id taken meanwhile gets a new one. Raises ``NotFoundError``
        when its conversation is gone and ``StoreError`` when its position was taken since."""
        with self._write() as conn:
            self._require_conversation(conn, removed.message.conversation_id)
            message_rows.restore_message(conn, removed)
            return load_message(conn, removed.message.id)

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
            ids = message_queries.stale_streams(conn, bound)
            conn.executemany(
                "UPDATE messages SET status = 'cut', updated_at = ?, heartbeat_at = NULL"
                " WHERE id = ?",
                [(now, mid) for mid in ids],
            )
            return [load_message(conn, mid) for mid in ids]

    def attachment_data(self, aid: int) -> bytes | None:
        """The bytes of attachment ``aid`` (``None`` if it is gone or known only by URL)."""
        with self._read() as conn:
            row = conn.execute("SELECT data FROM attachments WHERE id = ?", (aid,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])
