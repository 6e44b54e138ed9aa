"""Conversations: create, list, rename, archive, change settings, delete."""

from __future__ import annotations

import sqlite3
import uuid as uuidlib
from typing import Any, TypedDict, Unpack

from studio.store.base import StoreBase, last_rowid
from studio.store.models import Conversation, NotFoundError

DEFAULT_TITLE = "New conversation"

SELECT_CONVERSATIONS = (
    "SELECT id, title, title_locked, model, system_prompt, temperature, max_tokens, archived,"
    " created_at, updated_at, message_count, uuid FROM conversations"
)
"""Every column of ``conversations``, in the order ``row_to_conversation`` reads them by name."""
_CONVERSATION_BY_ID = SELECT_CONVERSATIONS + " WHERE id = ?"
_CONVERSATION_BY_UUID = SELECT_CONVERSATIONS + " WHERE uuid = ?"


class ConversationChanges(TypedDict, total=False):
    """The settings ``Store.update_conversation`` may change; ``None`` clears one."""

    model: str | None
    system_prompt: str | None
    temperature: float | None
    max_tokens: int | None


_CHANGEABLE = frozenset(ConversationChanges.__annotations__)


def list_sql(
    *, archived: bool | None, title_filter: str | None, limit: int | None
) -> tuple[str, list[Any]]:
    """The query behind ``Store.list_conversations`` and its parameters.

    Public so tests can check its plan: it walks ``conversations_archived_updated`` (or
    ``conversations_updated``) backwards instead of sorting.
    """
    where: list[str] = []
    params: list[Any] = []
    if archived is not None:
        where.append("archived = ?")
        params.append(int(archived))
    if title_filter:
        where.append("instr(studio_casefold(title), ?) > 0")
        params.append(title_filter.casefold())
    sql = SELECT_CONVERSATIONS
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY updated_at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(max(0, limit))
    return sql, params


def row_to_conversation(row: sqlite3.Row) -> Conversation:
    """Build a ``Conversation`` from a row selected with ``SELECT_CONVERSATIONS``."""
    return Conversation(
        id=row["id"],
        title=row["title"],
        title_locked=bool(row["title_locked"]),
        model=row["model"],
        system_prompt=row["system_prompt"],
        temperature=row["temperature"],
        max_tokens=row["max_tokens"],
        archived=bool(row["archived"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        message_count=row["message_count"],
        uuid=row["uuid"],
    )


def _clean_title(title: str) -> str:
    if not isinstance(title, str):
        raise TypeError(f"a title must be a string, not {type(title).__name__}")
    cleaned = " ".join(title.split())
    if not cleaned:
        raise ValueError("a title cannot be empty")
    return cleaned


def _clean_uuid(value: str) -> str:
    """``value`` as the canonical lower-case uuid text; ``ValueError`` when it is not one."""
    try:
        return str(uuidlib.UUID(str(value).strip()))
    except ValueError:
        raise ValueError(f"not a uuid: {value!r}") from None


def _validate_setting(key: str, value: Any) -> Any:
    """Check one conversation setting's type; return the value as stored."""
    if value is None:
        return None
    if key in ("model", "system_prompt"):
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a string or None, not {type(value).__name__}")
        return value
    if key == "temperature":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"temperature must be a number or None, not {type(value).__name__}")
        if value < 0:
            raise ValueError(f"temperature cannot be negative: {value}")
        return float(value)
    if key == "max_tokens":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"max_tokens must be an int or None, not {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"max_tokens must be positive: {value}")
        return value
    raise TypeError(f"unknown conversation setting {key!r}; expected one of {sorted(_CHANGEABLE)}")


class ConversationsMixin(StoreBase):
    """The conversation half of ``Store``."""

    def create_conversation(
        self,
        *,
        title: str = DEFAULT_TITLE,
        model: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        uuid: str | None = None,
    ) -> Conversation:
        """Start a conversation with these settings (``None`` means "use the default").

        ``uuid`` is its lasting identity (a new uuid4 unless given, as an import gives the one
        it read); a uuid the store already holds raises ``ValueError``."""
        values = {
            "model": _validate_setting("model", model),
            "system_prompt": _validate_setting("system_prompt", system_prompt),
            "temperature": _validate_setting("temperature", temperature),
            "max_tokens": _validate_setting("max_tokens", max_tokens),
        }
        clean = _clean_title(title)
        identity = str(uuidlib.uuid4()) if uuid is None else _clean_uuid(uuid)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM conversations WHERE uuid = ?", (identity,)).fetchone():
                raise ValueError(f"a conversation with uuid {identity} exists already")
            now = self._now()
            cursor = conn.execute(
                "INSERT INTO conversations (title, model, system_prompt, temperature, max_tokens,"
                " created_at, updated_at, uuid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (clean, *values.values(), now, now, identity),
            )
            return self._load_conversation(conn, last_rowid(cursor))

    def get_conversation(self, cid: int) -> Conversation | None:
        """The conversation with id ``cid``, or ``None``."""
        with self._read() as conn:
            row = conn.execute(_CONVERSATION_BY_ID, (cid,)).fetchone()
        return None if row is None else row_to_conversation(row)

    def conversation_by_uuid(self, uuid: str) -> Conversation | None:
        """The conversation whose lasting identity is ``uuid`` (any case), or ``None``."""
        with self._read() as conn:
            row = conn.execute(_CONVERSATION_BY_UUID, (uuid.strip().lower(),)).fetchone()
        return None if row is None else row_to_conversation(row)

    def list_conversations(
        self,
        *,
        archived: bool | None = False,
        title_filter: str | None = None,
        limit: int | None = None,
    ) -> list[Conversation]:
        """Conversations, most recently updated first.

        ``archived`` picks active (``False``, the default) or archived (``True``) ones, or all
        (``None``); ``title_filter`` keeps titles containing it, ignoring case.
        """
        sql, params = list_sql(archived=archived, title_filter=title_filter, limit=limit)
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [row_to_conversation(row) for row in rows]

    def rename_conversation(self, cid: int, title: str) -> Conversation:
        """Give the conversation the user's title and lock it against automatic titles."""
        clean = _clean_title(title)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE conversations SET title = ?, title_locked = 1, updated_at = ? WHERE id = ?",
                (clean, self._now(), cid),
            )
            _require_changed(cursor, cid)
            return self._load_conversation(conn, cid)

    def set_auto_title(self, cid: int, title: str) -> bool:
        """Title a conversation from its first prompt: only while it still has the default
        title, and never once the user has renamed it.

        Returns whether the title was applied.
        """
        clean = _clean_title(title)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE conversations SET title = ?, updated_at = ?"
                " WHERE id = ? AND title_locked = 0 AND title = ?",
                (clean, self._now(), cid, DEFAULT_TITLE),
            )
            if cursor.rowcount:
                return True
            self._require_conversation(conn, cid)
            return False

    def set_archived(self, cid: int, archived: bool) -> None:
        """Archive or restore a conversation (its ``updated_at`` is kept, so it returns to its
        place in the list)."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE conversations SET archived = ? WHERE id = ?", (int(bool(archived)), cid)
            )
            _require_changed(cursor, cid)

    def delete_conversation(self, cid: int) -> None:
        """Delete a conversation with its messages and attachments (nothing if it is gone)."""
        with self._write() as conn:
            conn.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    def update_conversation(self, cid: int, **changes: Unpack[ConversationChanges]) -> Conversation:
        """Change settings: ``model``, ``system_prompt``, ``temperature``, ``max_tokens``.

        ``None`` clears a setting. Unknown names raise ``TypeError``, wrong types ``TypeError``,
        out-of-range values ``ValueError``.
        """
        values = {key: _validate_setting(key, value) for key, value in changes.items()}
        with self._write() as conn:
            if not values:
                self._require_conversation(conn, cid)
                return self._load_conversation(conn, cid)
            assignments = ", ".join(f"{key} = ?" for key in values)  # keys validated above
            cursor = conn.execute(
                f"UPDATE conversations SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
                (*values.values(), self._now(), cid),
            )
            _require_changed(cursor, cid)
            return self._load_conversation(conn, cid)

    def _load_conversation(self, conn: sqlite3.Connection, cid: int) -> Conversation:
        row = conn.execute(_CONVERSATION_BY_ID, (cid,)).fetchone()
        if row is None:
            raise NotFoundError(f"no conversation with id {cid}")
        return row_to_conversation(row)


def _require_changed(cursor: sqlite3.Cursor, cid: int) -> None:
    if cursor.rowcount == 0:
        raise NotFoundError(f"no conversation with id {cid}")
