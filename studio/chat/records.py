"""Where a chat session keeps its messages: the store (the TUI), or memory (``studio ask``, which
does not save). :class:`ChatRecords` is what a session needs; ``Store`` has it as it is."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from studio.api.types import Usage
from studio.store import (
    Attachment,
    Conversation,
    Message,
    MessageStatus,
    NewAttachment,
    NotFoundError,
    Role,
)

DEFAULT_TITLE = "New conversation"


class ChatRecords(Protocol):
    """The part of ``Store`` a :class:`~studio.chat.session.ChatSession` reads and writes."""

    def get_conversation(self, cid: int) -> Conversation | None: ...

    def messages(
        self, cid: int, *, limit: int | None = None, before_position: int | None = None
    ) -> list[Message]: ...

    def attachment_data(self, aid: int) -> bytes | None: ...

    def add_message(
        self,
        cid: int,
        role: Role,
        content: str,
        *,
        attachments: Sequence[NewAttachment] = (),
    ) -> Message: ...

    def start_reply(self, cid: int, *, model: str) -> Message: ...

    def save_partial(self, mid: int, content: str, *, reasoning: str = "") -> None: ...

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
    ) -> Message: ...

    def delete_messages_from(self, cid: int, position: int) -> int: ...

    def set_auto_title(self, cid: int, title: str) -> bool: ...

    def add_prompt_history(self, text: str) -> None: ...


class MemoryRecords:
    """One conversation kept in memory only: what a session needs when nothing is saved.

    Attachments are kept by URL (a ``data:`` URI for a local file), so the history sent is the
    one the store would give for the same messages.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        now = time.time()
        self.conversation = Conversation(
            id=1,
            title=DEFAULT_TITLE,
            title_locked=False,
            model=model,
            system_prompt=system_prompt,
            temperature=temperature,
            max_tokens=max_tokens,
            archived=False,
            created_at=now,
            updated_at=now,
            message_count=0,
            uuid=str(uuid.uuid4()),
        )
        self._messages: list[Message] = []
        self._data: dict[int, bytes | None] = {}
        self._next_id = 1

    def get_conversation(self, cid: int) -> Conversation | None:
        return self.conversation if cid == self.conversation.id else None

    def messages(
        self, cid: int, *, limit: int | None = None, before_position: int | None = None
    ) -> list[Message]:
        before = before_position
        kept = [
            m
            for m in self._messages
            if m.conversation_id == cid and (before is None or m.position < before)
        ]
        return kept[-limit:] if limit else kept

    def get_message(self, mid: int) -> Message | None:
        return next((m for m in self._messages if m.id == mid), None)

    def attachment_data(self, aid: int) -> bytes | None:
        return self._data.get(aid)

    def add_message(
        self,
        cid: int,
        role: Role,
        content: str,
        *,
        attachments: Sequence[NewAttachment] = (),
        model: str | None = None,
        status: MessageStatus = MessageStatus.COMPLETE,
    ) -> Message:
        mid = self._take_id()
        kept: list[Attachment] = []
        for new in attachments:
            aid = self._take_id()
            self._data[aid] = new.data
            size = len(new.data or b"")
            kept.append(
                Attachment(aid, mid, new.name, new.mime, size, new.url, new.width, new.height)
            )
        now = time.time()
        position = self._messages[-1].position + 1 if self._messages else 1
        message = Message(
            id=mid,
            conversation_id=cid,
            position=position,
            role=role,
            content=content,
            reasoning="",
            status=status,
            model=model,
            usage=None,
            finish_reason=None,
            error=None,
            created_at=now,
            updated_at=now,
            attachments=tuple(kept),
        )
        self._messages.append(message)
        return message

    def start_reply(self, cid: int, *, model: str) -> Message:
        return self.add_message(
            cid, Role.ASSISTANT, "", model=model, status=MessageStatus.STREAMING
        )

    def save_partial(self, mid: int, content: str, *, reasoning: str = "") -> None:
        self._change(mid, content=content, reasoning=reasoning)

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
        return self._change(
            mid,
            content=content,
            status=status,
            usage=usage,
            error=error,
            finish_reason=finish_reason,
            reasoning=reasoning,
        )

    def delete_messages_from(self, cid: int, position: int) -> int:
        kept = [m for m in self._messages if m.conversation_id != cid or m.position < position]
        removed = len(self._messages) - len(kept)
        self._messages = kept
        return removed

    def set_auto_title(self, cid: int, title: str) -> bool:
        if cid != self.conversation.id or self.conversation.title != DEFAULT_TITLE:
            return False
        self.conversation = replace(self.conversation, title=title)
        return True

    def add_prompt_history(self, text: str) -> None:
        """Nothing outlives the session here, so no prompt history either."""

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _change(self, mid: int, **changes: object) -> Message:
        for index, message in enumerate(self._messages):
            if message.id == mid:
                changed = replace(message, updated_at=time.time(), **changes)  # type: ignore[arg-type]
                self._messages[index] = changed
                return changed
        raise NotFoundError(f"no message with id {mid}")
