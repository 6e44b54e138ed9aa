"""Where ``studio ask`` keeps the exchange: a conversation in the store (a new one, the latest
with ``-c``, a given one with ``--cid``), or, with ``--no-save``, a conversation in memory (a
copy of the continued one, if any) that nothing outlives."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from studio.api import media
from studio.chat import ChatRecords, MemoryRecords
from studio.commands.common import say
from studio.commands.conversations import find_conversation, latest_conversation
from studio.config import Settings
from studio.store import Conversation, NewAttachment, Store

_URLS = ("http://", "https://", "asset://")


@dataclass(frozen=True)
class AskTarget:
    """The conversation a prompt goes to, and where it is kept."""

    records: ChatRecords
    conversation_id: int
    saved: bool
    """Kept in the store (False: in memory, ``--no-save``)."""
    uuid: str | None
    """Its lasting identity when saved."""


def stored_attachment(source: str) -> NewAttachment:
    """An image to attach, as the TUI keeps one: a URL (or ``asset://`` id) by reference, a
    local file or ``data:`` URI as its bytes with their type and size. Raises MediaInputError
    (exit 2) with the reason when it cannot be attached."""
    if source[:12].lower().startswith(_URLS):
        info = media.describe_image(source)
        return NewAttachment(name=info.name, mime=info.mime or "image/*", url=source)
    uri = media.image_data_uri(source)  # read and checked as it is sent
    info = media.describe_image(source)
    return NewAttachment(
        name=info.name,
        mime=info.mime or "application/octet-stream",
        data=media.decode_data_uri(uri),
        width=info.width,
        height=info.height,
    )


def ask_target(args: argparse.Namespace, settings: Settings, store: Store | None) -> AskTarget:
    """The conversation ``args`` ask about; ``store`` is None when nothing needs it (a new
    conversation that is not saved). -m, -s, -t and --max-tokens given with -c or --cid change
    the continued conversation's settings (kept with it when saved)."""
    changes = _changes(args)
    continued = _continued(args, store)
    if store is None or args.no_save:
        return _in_memory(args, settings, store, continued, changes)
    if continued is None:
        conversation = store.create_conversation(
            model=args.model or settings.default_model,
            system_prompt=args.system,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
        )
    elif changes:
        conversation = store.update_conversation(continued.id, **changes)
    else:
        conversation = continued
    return AskTarget(store, conversation.id, saved=True, uuid=conversation.uuid)


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "model": args.model,
        "system_prompt": args.system,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
    }
    return {key: value for key, value in given.items() if value is not None}


def _continued(args: argparse.Namespace, store: Store | None) -> Conversation | None:
    if store is None:
        return None
    if args.cid is not None:
        return find_conversation(store, args.cid)
    if not args.continue_latest:
        return None
    latest = latest_conversation(store)
    if latest is None:
        say("no conversation to continue yet: starting a new one")
    return latest


def _in_memory(
    args: argparse.Namespace,
    settings: Settings,
    store: Store | None,
    continued: Conversation | None,
    changes: dict[str, Any],
) -> AskTarget:
    if continued is None or store is None:
        records = MemoryRecords(
            model=args.model or settings.default_model,
            system_prompt=args.system,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
        )
        return AskTarget(records, records.conversation.id, saved=False, uuid=None)
    settings_now: dict[str, Any] = {
        "model": continued.model,
        "system_prompt": continued.system_prompt,
        "temperature": continued.temperature,
        "max_tokens": continued.max_tokens,
        **changes,
    }
    records = MemoryRecords(**settings_now)
    cid = records.conversation.id
    for message in store.messages(continued.id):
        if message.job_id is not None:
            continue  # a job's message is never sent (the history leaves it out too)
        attachments = [
            NewAttachment(
                name=a.name,
                mime=a.mime,
                data=store.attachment_data(a.id),
                url=a.url,
                width=a.width,
                height=a.height,
            )
            for a in message.attachments
        ]
        records.add_message(
            cid,
            message.role,
            message.content,
            attachments=attachments,
            model=message.model,
            status=message.status,
        )
    return AskTarget(records, cid, saved=False, uuid=None)
