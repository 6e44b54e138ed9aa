"""The durable store: conversations, messages, attachments and UI state in SQLite.

``Store.open()`` is the way in; everything it returns is a frozen dataclass from
:mod:`studio.store.models`. This package never imports Textual.
"""

from studio.store.models import (
    Attachment,
    Conversation,
    Message,
    MessageStatus,
    NewAttachment,
    NotFoundError,
    Role,
    StoreError,
)
from studio.store.store import Store

__all__ = [
    "Attachment",
    "Conversation",
    "Message",
    "MessageStatus",
    "NewAttachment",
    "NotFoundError",
    "Role",
    "Store",
    "StoreError",
]
