"""The durable store: conversations, messages, attachments and UI state in SQLite.

``Store.open()`` is the way in; everything it returns is a frozen dataclass from
:mod:`studio.store.models`. This package never imports Textual.
"""

from studio.store.errors import StoreProblem, StoreUnavailable
from studio.store.health import DatabaseHealth, check_database
from studio.store.models import (
    Attachment,
    Conversation,
    Message,
    MessageStatus,
    NewAttachment,
    NotFoundError,
    RemovedMessage,
    Role,
    StoreError,
)
from studio.store.store import Store

__all__ = [
    "Attachment",
    "Conversation",
    "DatabaseHealth",
    "Message",
    "MessageStatus",
    "NewAttachment",
    "NotFoundError",
    "RemovedMessage",
    "Role",
    "Store",
    "StoreError",
    "StoreProblem",
    "StoreUnavailable",
    "check_database",
]
