"""The tool commands' arguments: ``emulator``, ``doctor``, ``models`` and ``config``."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the tool commands to the ``studio`` parser."""
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

    emu.set_defaults(handler="studio.commands.emulator:run_emulator")

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

    doctor.set_defaults(handler="studio.commands.doctor:run_doctor")

    models = sub.add_parser("models", help="list the models your key may use")
    models.add_argument("--demo", action="store_true", help="use the built-in emulator")
    models.add_argument("--json", action="store_true", help="print JSON")

    models.set_defaults(handler="studio.commands.models:run_models")

    cfg = sub.add_parser("config", help="show or change settings")
    cfg.set_defaults(handler="studio.commands.config:run_config")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION")
    cfg_sub.add_parser("show", help="print the effective settings with help (key masked)")
    cfg_sub.add_parser("path", help="print the config file's path")
    cfg_sub.add_parser(
        "edit",
        help="open the file in $VISUAL or $EDITOR; it is kept only once it is valid",
    )
    setp = cfg_sub.add_parser(
        "set",
        help="set a value, e.g. `studio config set api_key -` (reads it without echo)",
    )
    setp.add_argument("key")
    setp.add_argument("value", help="the value; - reads it from stdin without echo")
    unsetp = cfg_sub.add_parser("unset", help="remove a value (back to its default)")
    unsetp.add_argument("key")
