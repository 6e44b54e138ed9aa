"""What a streaming reply reports, in order: :class:`ReplyStarted`, then :class:`ReplyDelta` (and
:class:`ReplyWarning`) as the reply arrives, then one end: :class:`ReplyFinished` (complete or
stopped) or :class:`ReplyFailed` (cut or error). Any surface consumes them; no Textual here."""

from __future__ import annotations

from dataclasses import dataclass

from studio.api.types import Usage, finish_note
from studio.store import Message, MessageStatus


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    """The request is about to be sent; ``message`` is the reply's placeholder (streaming)."""

    message: Message
    model: str


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    """A piece of the reply: text, the model's reasoning, or both."""

    content: str
    reasoning: str


@dataclass(frozen=True, slots=True)
class ReplyWarning:
    """Trouble after a complete reply (say, junk after the finish reason): worth a note only."""

    text: str


@dataclass(frozen=True, slots=True)
class ReplyEnded:
    """How a reply ended. ``message`` is the reply as stored, or, when the store refused it
    (``save_error``), as it would have been stored: the session saves it again later."""

    message: Message
    save_error: Exception | None

    @property
    def status(self) -> MessageStatus:
        return self.message.status

    @property
    def usage(self) -> Usage | None:
        return self.message.usage

    @property
    def finish_reason(self) -> str | None:
        return self.message.finish_reason

    @property
    def note(self) -> str:
        """A word or two for a status line: why a complete reply stopped early (``cut at
        limit`` for finish_reason ``length``), else the status of one that did not complete."""
        if self.status is MessageStatus.COMPLETE:
            return finish_note(self.finish_reason) or ""
        return self.status.value


@dataclass(frozen=True, slots=True)
class ReplyFinished(ReplyEnded):
    """The reply ended without an error: complete (the model finished, perhaps at its token
    limit: see :attr:`finish_reason`) or stopped by the user."""


@dataclass(frozen=True, slots=True)
class ReplyFailed(ReplyEnded):
    """The request failed (status error) or the stream broke mid-reply (status cut, its text
    kept as far as it got). ``error`` is what was raised; ``message.error`` says it in words."""

    error: BaseException


ReplyEvent = ReplyStarted | ReplyDelta | ReplyWarning | ReplyFinished | ReplyFailed
"""Every event a :class:`~studio.chat.session.Reply` yields."""
