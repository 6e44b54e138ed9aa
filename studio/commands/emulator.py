"""``studio emulator``: run the built-in AnyFast emulator as a standalone HTTP server."""

from __future__ import annotations

import argparse
import sys

from studio.commands.exits import EXIT_OK, EXIT_USAGE


def run_emulator(args: argparse.Namespace) -> int:
    from studio.emulator import EmulatorConfig, serve_forever
    from studio.emulator.config import FaultError, parse_standing_fault

    try:  # SPEC[*COUNT][@PATH], refused when it would do nothing on the requests under PATH
        for spec in args.fault:
            parse_standing_fault(spec)
        faults = tuple(spec.strip() for spec in args.fault)
    except FaultError as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.speed <= 0:
        print("studio: --speed must be greater than 0", file=sys.stderr)
        return EXIT_USAGE
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"studio: warning: binding {args.host} exposes the emulator beyond this machine",
            file=sys.stderr,
        )
    config = EmulatorConfig(
        api_key=args.key,
        speed=args.speed,
        token_rate=args.token_rate,
        reply_tokens=args.reply_tokens,
        video_seconds=args.video_seconds,
        not_found_status=args.not_found_status,
        status_dialect=args.dialect,
        faults=faults,
    )
    serve_forever(config, host=args.host, port=args.port)
    return EXIT_OK
