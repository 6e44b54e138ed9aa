"""``studio chats`` (the saved conversations, newest first) and ``studio rm`` (delete some)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from studio.commands.common import CommandError, encodable, write_stdout
from studio.commands.conversations import conversation_payload, find_conversation, open_store
from studio.commands.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from studio.commands.models import safe_json
from studio.store import Conversation
from studio.textsafe import clean_line

TITLE_WIDTH = 40
"""Columns of a title in ``studio chats`` (longer ones end in an ellipsis)."""


def run_chats(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise CommandError(f"--limit must be at least 1, got {args.limit}", EXIT_USAGE)
    with open_store() as store:
        conversations = store.list_conversations(archived=args.archived, limit=args.limit)
    if args.json:
        text = safe_json([conversation_payload(c) for c in conversations]) + "\n"
    else:
        text = chat_table(conversations)
    write_stdout(encodable(text))
    return EXIT_OK


def chat_table(conversations: list[Conversation]) -> str:
    """One line per conversation: number, title, model, messages, last update (local time);
    every field from the store sanitised for the terminal."""
    if not conversations:
        return ""
    width = max(len(str(c.id)) for c in conversations)
    lines = []
    for conversation in conversations:
        title = _fit(clean_line(conversation.title) or "Untitled", TITLE_WIDTH)
        model = clean_line(conversation.model or "(default model)")
        count = conversation.message_count
        updated = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.updated_at))
        lines.append(
            f"{conversation.id:>{width}}  {title:<{TITLE_WIDTH}}  {model}  "
            f"{count} msg{'s' * (count != 1)}  {updated}\n"
        )
    return "".join(lines)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def run_rm(args: argparse.Namespace) -> int:
    with open_store() as store:
        doomed: dict[int, Conversation] = {}
        for ref in args.ids:  # every one found before any is deleted
            conversation = find_conversation(store, ref)
            doomed[conversation.id] = conversation
        chosen = list(doomed.values())
        if not args.yes and not confirm(chosen, sys.stdin, sys.stderr):
            raise CommandError("nothing deleted", EXIT_FAILED)
        for conversation in chosen:
            store.delete_conversation(conversation.id)
            write_stdout(encodable(f"removed {describe(conversation)}\n"))
    return EXIT_OK


def describe(conversation: Conversation) -> str:
    """``12 “Title” (3 messages)``, the title sanitised."""
    count = conversation.message_count
    title = clean_line(conversation.title)
    return f"{conversation.id} “{title}” ({count} message{'s' * (count != 1)})"


def confirm(conversations: list[Conversation], stdin: TextIO, stderr: TextIO) -> bool:
    """Ask on the terminal whether to delete ``conversations``; without a terminal to ask on,
    a CommandError that says to add --yes."""
    if not stdin.isatty():
        raise CommandError(
            "stdin is not a terminal, so there is no one to ask: add --yes to delete", EXIT_USAGE
        )
    listed = ", ".join(describe(c) for c in conversations)
    stderr.write(encodable(f"Delete {listed}? [y/N] "))
    stderr.flush()
    answer = stdin.readline()
    return answer.strip().lower() in ("y", "yes")
