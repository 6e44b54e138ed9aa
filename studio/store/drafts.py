"""Unsent drafts: the prompt text and pending attachments of each conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from studio.store.base import StoreBase
from studio.store.models import NewAttachment


@dataclass(frozen=True, slots=True)
class Draft:
    """What a conversation's prompt held when it was last saved, and its pending images."""

    conversation_id: int
    text: str
    attachments: tuple[NewAttachment, ...]
    updated_at: float
    """Epoch seconds of the last save."""

    @property
    def empty(self) -> bool:
        return not self.text and not self.attachments


_INSERT_ATTACHMENT = (
    "INSERT INTO draft_attachments (conversation_id, ordinal, name, mime, url, width, height,"
    " data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class DraftsMixin(StoreBase):
    """The drafts part of ``Store``."""

    def get_draft(self, cid: int) -> Draft | None:
        """The saved draft of conversation ``cid`` (with its attachments' bytes), or ``None``."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT text, updated_at FROM drafts WHERE conversation_id = ?", (cid,)
            ).fetchone()
            if row is None:
                return None
            rows = conn.execute(
                "SELECT name, mime, url, width, height, data FROM draft_attachments"
                " WHERE conversation_id = ? ORDER BY ordinal",
                (cid,),
            ).fetchall()
        attachments = tuple(
            NewAttachment(
                name=r["name"],
                mime=r["mime"],
                data=None if r["data"] is None else bytes(r["data"]),
                url=r["url"],
                width=r["width"],
                height=r["height"],
            )
            for r in rows
            if r["data"] is not None or r["url"] is not None
        )
        return Draft(cid, row["text"], attachments, row["updated_at"])

    def draft_ids(self) -> set[int]:
        """The conversations that have a saved draft."""
        with self._read() as conn:
            return {row[0] for row in conn.execute("SELECT conversation_id FROM drafts")}

    def save_draft(
        self, cid: int, text: str, attachments: Sequence[NewAttachment] | None = None
    ) -> bool:
        """Save the draft of conversation ``cid``, replacing any other (the last write wins).

        ``attachments=None`` keeps the attachments saved before (typing never rewrites image
        bytes); a sequence replaces them. A draft with no text and no attachments is deleted.
        Returns False, saving nothing, when the conversation is gone (deleted elsewhere).
        """
        if not isinstance(text, str):
            raise TypeError(f"a draft's text must be a string, not {type(text).__name__}")
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is None:
                return False
            if attachments is None:
                (kept,) = conn.execute(
                    "SELECT count(*) FROM draft_attachments WHERE conversation_id = ?", (cid,)
                ).fetchone()
            else:
                kept = len(attachments)
            if not text and not kept:
                conn.execute("DELETE FROM drafts WHERE conversation_id = ?", (cid,))
                return True
            conn.execute(
                "INSERT INTO drafts (conversation_id, text, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (conversation_id) DO UPDATE"
                " SET text = excluded.text, updated_at = excluded.updated_at",
                (cid, text, self._now()),
            )
            if attachments is not None:
                conn.execute("DELETE FROM draft_attachments WHERE conversation_id = ?", (cid,))
                conn.executemany(
                    _INSERT_ATTACHMENT,
                    [
                        (cid, ordinal, a.name, a.mime, a.url, a.width, a.height, a.data)
                        for ordinal, a in enumerate(attachments)
                    ],
                )
            return True

    def clear_draft(self, cid: int) -> None:
        """Forget the draft of conversation ``cid`` (sent, or thrown away)."""
        with self._write() as conn:
            conn.execute("DELETE FROM drafts WHERE conversation_id = ?", (cid,))
