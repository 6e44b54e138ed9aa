"""Queries over many messages: a page of a conversation's history, and the streaming replies
whose writer has gone quiet. Plain functions over an open connection (the caller owns the
transaction); each is a range search on an index, and the SQL is public so tests can check
its plan.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from studio.store.message_rows import SELECT_MESSAGES, row_to_attachment, row_to_message
from studio.store.models import Attachment, Message
from studio.store.processes import HOST, writer_alive

ATTACHMENTS_IN_RANGE_SQL = (
    "SELECT a.id, a.message_id, a.name, a.mime, a.size, a.url, a.width, a.height"
    " FROM messages AS m JOIN attachments AS a ON a.message_id = m.id"
    " WHERE m.conversation_id = ? AND m.position BETWEEN ? AND ?"
    " ORDER BY a.message_id, a.ordinal"
)
"""The one extra query that loads the attachments of a page of messages."""

STALE_STREAMS_SQL = (
    "SELECT id, heartbeat_at, writer FROM messages"
    " WHERE status = 'streaming' AND (heartbeat_at IS NULL OR heartbeat_at < ? OR writer LIKE ?)"
)
"""Streaming replies whose heartbeat is older than the bound: a scan of the small partial index
``messages_streaming``, never of the table."""


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


def read_page(
    conn: sqlite3.Connection, cid: int, *, limit: int | None, before_position: int | None
) -> list[Message]:
    """The messages ``Store.messages`` returns, in ascending position order, with their
    attachments (loaded in one extra query)."""
    sql, params = page_sql(cid, limit=limit, before_position=before_position)
    rows = conn.execute(sql, params).fetchall()
    if limit is not None:
        rows.reverse()
    if not rows:
        return []
    found: defaultdict[int, list[Attachment]] = defaultdict(list)
    bounds = (cid, rows[0]["position"], rows[-1]["position"])
    for row in conn.execute(ATTACHMENTS_IN_RANGE_SQL, bounds):
        found[row["message_id"]].append(row_to_attachment(row))
    return [row_to_message(row, tuple(found.get(row["id"], ()))) for row in rows]


def stale_streams(conn: sqlite3.Connection, bound: float) -> list[int]:
    """Ids (ascending) of the streaming replies whose heartbeat is older than ``bound`` or
    whose writer was a process on this host that no longer exists."""
    rows = conn.execute(STALE_STREAMS_SQL, (bound, f"{HOST}:%")).fetchall()
    return sorted(
        int(mid)
        for mid, heartbeat, writer in rows
        if heartbeat is None or heartbeat < bound or not writer_alive(writer)
    )
