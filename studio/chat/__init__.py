"""The chat core under every surface: :class:`ChatSession` (history, streaming, save cadence,
stop, regenerate, edit and resend) and the events it reports. No Textual here."""

from studio.chat.events import (
    ReplyDelta,
    ReplyEnded,
    ReplyEvent,
    ReplyFailed,
    ReplyFinished,
    ReplyStarted,
    ReplyWarning,
)
from studio.chat.records import ChatRecords, MemoryRecords
from studio.chat.session import SAVE_EVERY, ChatSession, Reply, Sent

__all__ = [
    "SAVE_EVERY",
    "ChatRecords",
    "ChatSession",
    "MemoryRecords",
    "Reply",
    "ReplyDelta",
    "ReplyEnded",
    "ReplyEvent",
    "ReplyFailed",
    "ReplyFinished",
    "ReplyStarted",
    "ReplyWarning",
    "Sent",
]
