"""The transcript commands' arguments: ``export``, ``import`` and ``show``."""

from __future__ import annotations

import argparse

from studio.commands.parsers import accept_demo

EXPORT_EXAMPLES = """\
examples:
  studio export 12                          conversation 12 as Markdown on stdout
  studio export 12 -o chat.html             one self-contained HTML page (format from the suffix)
  studio export 12 14 --format json -o ~/backup/   a new file in that folder, named from the title
  studio export --all --archived --format json -o all.json   everything, for `studio import`
  studio export 3f2b...-uuid --format html > chat.html

ID is the number `studio chats` shows, or the conversation's uuid. Markdown written to a file
copies attachments and generated images and videos into <name>_files/ beside it; on stdout it
links the generated files by their absolute path.
"""

IMPORT_EXAMPLES = """\
examples:
  studio import all.json                    rebuild the conversations of a JSON export
  studio import --copy chat.json            import again those already here, as new copies
  ssh box studio export --all --format json | studio import -

A conversation already in the store (same uuid) is refused unless --copy; a file that is not a
Studio JSON export (or of a newer schema_version) is refused. Either way nothing is imported.
"""

SHOW_EXAMPLES = """\
examples:
  studio show 12                            conversation 12 as Markdown, safe for the terminal
  studio show 12 | less -R
  studio show --raw 12 > chat.md            exactly as exported (control characters kept)
"""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export``, ``import`` and ``show`` to the ``studio`` parser."""
    export = sub.add_parser(
        "export",
        help="export conversations as Markdown, JSON or HTML",
        description="Export conversations as Markdown (readable), JSON (lossless, for\n"
        "`studio import`) or HTML (one self-contained page). Without -o, to stdout.",
        epilog=EXPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    accept_demo(export)
    export.add_argument("ids", nargs="*", metavar="ID", help="conversation number or uuid")
    export.add_argument("--all", action="store_true", help="every conversation (not archived)")
    export.add_argument(
        "--archived", action="store_true", help="with --all: the archived conversations too"
    )
    export.add_argument(
        "-f",
        "--format",
        choices=("md", "json", "html"),
        help="md, json or html (default: from -o's suffix, else md)",
    )
    export.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="a file, or a folder to put a new file in (named from the title and the date)",
    )
    export.set_defaults(handler="studio.commands.transcripts:run_export")

    imp = sub.add_parser(
        "import",
        help="import conversations from a JSON export",
        description="Rebuild the conversations of a `studio export --format json` file: the\n"
        "same uuids, times, messages, statuses, usage and attachments. All or nothing.",
        epilog=IMPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    accept_demo(imp)
    imp.add_argument("file", metavar="FILE.json", help="the JSON export (- reads stdin)")
    imp.add_argument(
        "--copy",
        action="store_true",
        help="import a conversation that is already here as a new one (new uuid, title "
        "marked as a copy)",
    )
    imp.set_defaults(handler="studio.commands.transcripts:run_import")

    show = sub.add_parser(
        "show",
        help="print a conversation as Markdown",
        description="Print a conversation as Markdown (as `studio export` writes it),\n"
        "sanitised for the terminal.",
        epilog=SHOW_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    accept_demo(show)
    show.add_argument("id", metavar="ID", help="conversation number (`studio chats`) or uuid")
    show.add_argument(
        "--raw",
        action="store_true",
        help="print it byte for byte (by default control characters are neutralised)",
    )
    show.set_defaults(handler="studio.commands.transcripts:run_show")
