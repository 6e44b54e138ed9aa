"""The ``studio`` command line.

Parsing only: every subcommand lives in :mod:`studio.commands` and is imported when it runs, so
``studio --help`` and the headless commands never import Textual (or the emulator's server stack
unless ``--demo`` asks for it).

Exit codes: see :mod:`studio.commands.exits`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from studio import __version__
from studio.commands.exits import EXIT_FAILED, EXIT_INTERRUPTED

EPILOG = """\
examples:
  studio --demo                                        the studio (TUI) with the built-in emulator
  studio                                               the studio against your configured gateway
  studio ask --demo "Explain SSE in two sentences"   no key, no network: the built-in emulator
  git diff | studio ask -m gpt-4o "Review this diff"  stdin is appended to the prompt
  studio ask -a photo.png "What is in this image?"    attach images (repeat -a)
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

    emu = sub.add_parser(
        "emulator",
        help="run the built-in AnyFast emulator as an HTTP server",
        description="Run a local AnyFast gateway emulator (chat, Seedream, Seedance, Kling) "
        "with fault injection. See the README for the fault grammar.",
    )
    emu.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    emu.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    emu.add_argument("--key", help="the only API key accepted (default: any non-empty key)")
    emu.add_argument(
        "--speed", type=float, default=1.0, help="time scale: 10 runs timelines 10x faster"
    )
    emu.add_argument(
        "--token-rate", type=float, default=60.0, help="chat tokens per second (0 = instant)"
    )
    emu.add_argument("--reply-tokens", type=int, default=180, help="default reply length")
    emu.add_argument(
        "--video-seconds", type=float, default=45.0, help="length of a video task's timeline"
    )
    emu.add_argument(
        "--not-found-status",
        type=int,
        choices=(400, 404),
        default=400,
        help="status for an unknown task id",
    )
    emu.add_argument(
        "--dialect",
        choices=("gateway", "anyfast"),
        default="gateway",
        help="task status spellings: new-api's (gateway) or AnyFast's Kling guide (anyfast)",
    )
    emu.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault into every request, e.g. 429:empty, disconnect:5, or only under a "
        "path, e.g. stall:30@/v1/video (repeatable)",
    )

    doctor = sub.add_parser(
        "doctor",
        help="check the config, the key, the gateway, the database and the media folder",
        description="Check everything Studio needs, one line each (ok, or the problem and how "
        "to fix it). Creates and repairs nothing (the media check writes and removes one empty "
        "file). Exit 0 when every check passes, 1 otherwise.",
    )
    doctor.add_argument(
        "--demo", action="store_true", help="check the built-in emulator instead of the gateway"
    )
    doctor.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to wait for the gateway (default 5)",
    )

    models = sub.add_parser("models", help="list the models your key may use")
    models.add_argument("--demo", action="store_true", help="use the built-in emulator")
    models.add_argument("--json", action="store_true", help="print JSON")

    cfg = sub.add_parser("config", help="show or change settings")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION")
    cfg_sub.add_parser("show", help="print the effective settings with help (key masked)")
    cfg_sub.add_parser("path", help="print the config file's path")
    setp = cfg_sub.add_parser(
        "set",
        help="set a value, e.g. `studio config set api_key -` (reads it without echo)",
    )
    setp.add_argument("key")
    setp.add_argument("value", help="the value; - reads it from stdin without echo")
    unsetp = cfg_sub.add_parser("unset", help="remove a value (back to its default)")
    unsetp.add_argument("key")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``studio`` script and ``python -m studio``."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help, --version or a usage error: argparse printed, then exits
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # `studio --help | head -3`
            from studio.commands.common import discard_stdout

            discard_stdout()
        raise
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
        from studio.tui.app import run_app  # Textual is imported here and only here

        return run_app(settings_or_fail(demo=args.demo), demo=args.demo)
    if args.command == "ask":
        from studio.commands.ask import run_ask

        return run_ask(args)
    if args.command == "emulator":
        from studio.commands.emulator import run_emulator

        return run_emulator(args)
    if args.command == "doctor":
        from studio.commands.doctor import run_doctor

        return run_doctor(args)
    if args.command == "models":
        from studio.commands.models import run_models

        return run_models(args)
    from studio.commands.config import run_config

    return run_config(args)
