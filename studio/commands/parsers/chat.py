"""The chat commands' arguments: ``ask``, ``chats`` and ``rm``."""

from __future__ import annotations

import argparse

from studio.commands.parsers import accept_demo, store_int

ASK_EXAMPLES = """\
examples:
  studio ask --demo "Explain SSE in two sentences"     saved as a new conversation
  studio ask -c "And in one?"                          continue the latest conversation
  studio ask --cid 12 "Shorter, please"                continue conversation 12 (`studio chats`)
  git diff | studio ask -m gpt-4o "Review this diff"   stdin is appended to the prompt
  studio ask -a photo.png "What is in this image?"     attach images (repeat -a)
  studio ask --json "Name three moons" | jq -r .reply  one JSON object, nothing streamed
  studio ask --no-save "A throw-away question"         nothing kept

exit codes: 0 ok, 1 request failed (the reply is saved as cut or error), 2 bad usage/config/
input, 3 key missing or refused, 4 the local database cannot be used, 130 interrupted (the
reply is saved as stopped).
"""

CHATS_EXAMPLES = """\
examples:
  studio chats                       the active conversations, newest first
  studio chats --archived --limit 5  the five most recent archived ones
  studio chats --json | jq '.[0].id'
"""

RM_EXAMPLES = """\
examples:
  studio rm 12                        asks first (on a terminal)
  studio rm 12 14 --yes               no question (needed when stdin is not a terminal)
  studio rm 0f8c2a1e-...-9d2b --yes   by uuid
"""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ask``, ``chats`` and ``rm`` to the ``studio`` parser."""
    _add_ask(sub)
    chats = sub.add_parser(
        "chats",
        help="list the saved conversations",
        description="List the saved conversations, newest first: number, title, model,\n"
        "messages, last update. The number is what ask --cid, show, export and rm take.",
        epilog=CHATS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    accept_demo(chats)
    chats.add_argument("--json", action="store_true", help="a JSON list (stable: see README)")
    chats.add_argument("--archived", action="store_true", help="the archived conversations instead")
    chats.add_argument("--limit", type=store_int, metavar="N", help="at most N conversations")
    chats.set_defaults(handler="studio.commands.chats:run_chats")

    rm = sub.add_parser(
        "rm",
        help="delete conversations",
        description="Delete conversations with their messages and attachments. Asks first\n"
        "on a terminal; elsewhere --yes is required.",
        epilog=RM_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    accept_demo(rm)
    rm.add_argument("ids", nargs="+", metavar="ID", help="conversation number or uuid")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask")
    rm.set_defaults(handler="studio.commands.chats:run_rm")


def _add_ask(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = sub.add_parser(
        "ask",
        help="send one prompt and stream the reply to stdout",
        description="Send one prompt and stream the reply to stdout; usage goes to stderr.\n"
        "When stdin is piped it is read and appended to the prompt. The exchange is saved as a\n"
        "conversation (the TUI shows it at once) unless --no-save. With -c or --cid, -m, -s,\n"
        "-t and --max-tokens change that conversation's settings.",
        epilog=ASK_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ask.add_argument("prompt", nargs="*", help="the prompt (words are joined with spaces)")
    ask.add_argument("--demo", action="store_true", help="use the built-in emulator (no key)")
    ask.add_argument("-m", "--model", help="model id (default: default_model from the config)")
    ask.add_argument("-s", "--system", help="a system prompt")
    ask.add_argument(
        "-a",
        "--attach",
        action="append",
        default=[],
        metavar="IMAGE",
        help="attach an image: a local path or an http(s) URL (repeatable)",
    )
    ask.add_argument("-t", "--temperature", type=float, help="sampling temperature, 0 to 2")
    ask.add_argument("--max-tokens", type=store_int, metavar="N", help="cap the reply length")
    ask.add_argument(
        "--no-stream", action="store_true", help="wait for the whole reply, then print it"
    )
    ask.add_argument(
        "--reasoning", action="store_true", help="also show reasoning text (on stderr)"
    )
    ask.add_argument(
        "--raw",
        action="store_true",
        help="print the reply byte for byte (by default control characters are neutralised)",
    )
    ask.add_argument("-q", "--quiet", action="store_true", help="no usage line on stderr")
    which = ask.add_mutually_exclusive_group()
    which.add_argument(
        "-c",
        "--continue",
        dest="continue_latest",
        action="store_true",
        help="continue the latest conversation (the most recently updated, not archived)",
    )
    which.add_argument("--cid", metavar="ID", help="continue conversation ID (its number or uuid)")
    ask.add_argument(
        "--no-save", action="store_true", help="keep nothing (the history of -c/--cid is sent)"
    )
    ask.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object at the end (reply, usage, finish reason, ids); "
        "nothing streams to stdout",
    )
    ask.set_defaults(handler="studio.commands.ask:run_ask")
