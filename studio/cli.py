"""The ``studio`` command line.

Parsing only: every subcommand lives in :mod:`studio.commands` and is imported when it runs, so
``studio --help`` and the headless commands never import Textual (or the emulator's server stack
unless ``--demo`` asks for it).

Exit codes: see :mod:`studio.commands.exits`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from studio import __version__
from studio.commands.exits import EXIT_FAILED, EXIT_INTERRUPTED

EPILOG = """\
examples:
  studio --demo                                        the studio (TUI) with the built-in emulator
  studio                                               the studio against your configured gateway
  studio ask --demo "Explain SSE in two sentences"   no key, no network: the built-in emulator
  git diff | studio ask -m gpt-4o "Review this diff"  stdin is appended to the prompt
  studio ask -a photo.png "What is in this image?"    attach images (repeat -a)
  studio ask -c "And the second point?"               go on with the latest conversation
  studio chats                                        the saved conversations (ask saves each)
  studio image --demo "a lighthouse at dawn"          make an image, print its path
  studio video seedance --wait "fog at sea"           make a video, print its path when done
  studio search kubernetes ingress                    full-text search over every conversation
  studio config set api_key sk-...                    store your key (file mode 0600)
  studio emulator --port 8000                          run the emulator for other clients
  studio doctor                                        check config, key, gateway, database

exit codes: 0 ok, 1 request failed, 2 bad usage/config/input, 3 key missing or refused,
4 the local database cannot be used, 130 interrupted.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="AnyFast Studio: chat, images and videos through the AnyFast gateway. "
        "Without a command, opens the studio (a terminal UI).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the studio against the built-in emulator (no key, no network)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from studio.commands.parsers import chat, jobs, search, tools, transcripts

    for group in (chat, jobs, search, tools, transcripts):
        group.add_parsers(sub)

    return parser


STUDIO_ONLY: tuple[list[str], ...] = ([], ["--demo"])
"""Arguments that open the studio and nothing else: the TUI starts without building (or
importing) every subcommand's parser, which costs tens of milliseconds before the first frame."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``studio`` script and ``python -m studio``."""
    given = list(sys.argv[1:] if argv is None else argv)
    if given in STUDIO_ONLY:
        return _run(argparse.Namespace(command=None, demo=bool(given)))
    parser = build_parser()
    try:
        args = parser.parse_args(given)
    except SystemExit:  # --help, --version or a usage error: argparse printed, then exits
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # `studio --help | head -3`
            from studio.commands.common import discard_stdout

            discard_stdout()
        raise
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the command ``args`` name; every failure becomes one line and an exit code."""
    try:
        code = _dispatch(args)
        from studio.commands.common import write_stdout

        write_stdout("")  # a full disk shows here as one line, not as noise in the exit flush
        return code
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`studio ask ... | head`): stop quietly
        from studio.commands.common import discard_stdout

        discard_stdout()
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: a person never sees a traceback
        from studio.commands.common import handle_error

        return handle_error(exc)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command is None:
        from studio.commands.common import settings_or_fail
        from studio.tui.launch import run_app  # Textual is imported here and only here

        return run_app(settings_or_fail(demo=args.demo), demo=args.demo)
    module_name, _, function = args.handler.partition(":")
    handler: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(module_name), function
    )
    return handler(args)
