"""The chat commands' arguments: ``ask``."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ask`` to the ``studio`` parser."""
    ask = sub.add_parser(
        "ask",
        help="send one prompt and stream the reply to stdout",
        description="Send one prompt and stream the reply to stdout; usage goes to stderr. "
        "When stdin is piped it is read and appended to the prompt.",
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
    ask.add_argument("--max-tokens", type=int, metavar="N", help="cap the reply length")
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

    ask.set_defaults(handler="studio.commands.ask:run_ask")
