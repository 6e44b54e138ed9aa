"""Small UI state kept between runs: JSON values by key, and the prompt history."""

from __future__ import annotations

import json
from typing import Any

from studio.store.base import StoreBase
from studio.store.models import StoreError

#: How many prompts the history keeps.
PROMPT_HISTORY_SIZE = 500


class StateMixin(StoreBase):
    """The UI-state part of ``Store``."""

    def get_state(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key``, or ``default`` when there is none."""
        with self._read() as conn:
            row = conn.execute("SELECT value FROM app_state WHERE key = ?", (key,)).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except ValueError as exc:  # written by something other than this store
            raise StoreError(f"the stored value of {key!r} is not valid JSON") from exc

    def set_state(self, key: str, value: Any) -> None:
        """Store ``value`` (anything ``json.dumps`` accepts) under ``key``, replacing any
        previous value. Raises ``TypeError`` (``ValueError`` for NaN and infinities) for a value
        JSON cannot represent."""
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO app_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, encoded),
            )

    def add_prompt_history(self, text: str) -> None:
        """Remember a sent prompt: blank ones and repeats of the latest are skipped, and only
        the newest ``PROMPT_HISTORY_SIZE`` are kept."""
        if not text.strip():
            return
        with self._write() as conn:
            latest = conn.execute(
                "SELECT text FROM prompt_history ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if latest is not None and latest[0] == text:
                return
            conn.execute(
                "INSERT INTO prompt_history (text, created_at) VALUES (?, ?)", (text, self._now())
            )
            conn.execute(
                "DELETE FROM prompt_history WHERE id <= "
                "(SELECT id FROM prompt_history ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (PROMPT_HISTORY_SIZE,),
            )

    def prompt_history(self, limit: int = 100) -> list[str]:
        """The most recent prompts, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT text FROM prompt_history ORDER BY id DESC LIMIT ?", (max(0, limit),)
            ).fetchall()
        return [row[0] for row in rows]
