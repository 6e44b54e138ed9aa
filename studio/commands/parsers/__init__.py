"""The ``studio`` subcommands' arguments, one module per group of commands.

Each module has ``add_parsers(sub)``, which adds its subcommands and sets ``handler`` to the
``"module:function"`` that runs each one; :mod:`studio.cli` imports the handler only when its
command runs. Only :mod:`argparse` here: ``studio --help`` must stay fast and Textual-free.
"""

import argparse


def accept_demo(parser: argparse.ArgumentParser) -> None:
    """``--demo`` on a command that only reads and writes the local store: accepted (so a
    script can pass it to every command), changing nothing, since the demo keeps its
    conversations and jobs in the same store."""
    parser.add_argument(
        "--demo",
        action="store_true",
        help="accepted for symmetry: this command only uses the local store, which the demo shares",
    )


def store_int(text: str) -> int:
    """An integer option the store can bind (SQLite's 64 bits); argparse says why not (exit 2)
    instead of a crash report when the number is past them."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not -(2**63) <= number < 2**63:
        raise argparse.ArgumentTypeError(f"out of range: {text}")
    return number
