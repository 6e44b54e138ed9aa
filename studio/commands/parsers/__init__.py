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
