"""``studio export``, ``studio import`` and ``studio show``: transcripts from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.commands.common import CommandError, encodable, say, write_stdout
from studio.commands.conversations import find_conversation, open_store
from studio.commands.exits import EXIT_OK, EXIT_USAGE
from studio.export import (
    FORMATS,
    ExportError,
    ExportFormat,
    default_export_path,
    import_transcripts,
    render_export,
    write_export,
)
from studio.store import Store
from studio.store.transcript_import import ConversationExists
from studio.textsafe import clean, clean_line

_SUFFIXES: dict[str, ExportFormat] = {
    ".md": "md",
    ".markdown": "md",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
}


def run_export(args: argparse.Namespace) -> int:
    if args.all == bool(args.ids):
        raise CommandError("name the conversations to export (ID...) or give --all", EXIT_USAGE)
    if args.archived and not args.all:
        raise CommandError("--archived goes with --all", EXIT_USAGE)
    output = Path(args.output).expanduser() if args.output else None
    fmt = export_format(args.format, output)
    with open_store() as store:
        ids = _chosen(store, args)
        try:
            if output is None:
                text = render_export(store, ids, fmt)
                write_stdout(encodable(clean(text) if sys.stdout.isatty() else text))
                return EXIT_OK
            if output.is_dir() or args.output.endswith(("/", "\\")):
                output = default_export_path(store, ids, fmt, folder=output)
            written = write_export(store, ids, fmt, output)
        except ExportError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
    write_stdout(encodable(clean_line(str(written[0])) + "\n"))
    if len(written) > 1:
        say(f"{len(written) - 1} file(s) copied into {written[1].parent}")
    return EXIT_OK


def export_format(chosen: str | None, output: Path | None) -> ExportFormat:
    """``--format`` when given, else the one ``-o``'s suffix names, else Markdown."""
    if chosen is not None:
        if chosen not in FORMATS:
            raise CommandError(f"unknown format {chosen!r}", EXIT_USAGE)
        return chosen
    if output is not None:
        return _SUFFIXES.get(output.suffix.lower(), "md")
    return "md"


def _chosen(store: Store, args: argparse.Namespace) -> list[int]:
    if args.all:
        conversations = store.list_conversations(archived=None if args.archived else False)
        if not conversations:
            raise CommandError("there are no conversations to export", EXIT_USAGE)
        return [c.id for c in conversations]
    ids: list[int] = []
    for ref in args.ids:  # every one found before anything is written
        cid = find_conversation(store, ref).id
        if cid not in ids:
            ids.append(cid)
    return ids


def run_import(args: argparse.Namespace) -> int:
    text = _read_input(args.file)
    with open_store() as store:
        try:
            imported = import_transcripts(store, text, copy=args.copy)
        except ExportError as exc:
            raise CommandError(f"{args.file}: {exc}", EXIT_USAGE) from None
        except ConversationExists as exc:
            raise CommandError(
                f"{exc}; nothing imported (add --copy to import it as a new conversation)",
                EXIT_USAGE,
            ) from None
    lines = [
        f"imported {c.id} “{clean_line(c.title)}” ({c.message_count} message"
        f"{'s' * (c.message_count != 1)})\n"
        for c in imported
    ]
    write_stdout(encodable("".join(lines)))
    return EXIT_OK


def _read_input(name: str) -> str:
    try:
        if name == "-":
            return sys.stdin.buffer.read().decode("utf-8")
        return Path(name).expanduser().read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{name}: not a JSON export (not UTF-8 text)", EXIT_USAGE) from None
    except OSError as exc:
        raise CommandError(f"cannot read {name}: {exc.strerror or exc}", EXIT_USAGE) from None


def run_show(args: argparse.Namespace) -> int:
    with open_store() as store:
        conversation = find_conversation(store, args.id)
        try:
            text = render_export(store, [conversation.id], "md")
        except ExportError as exc:
            raise CommandError(str(exc)) from None
    write_stdout(encodable(text if args.raw else clean(text)))
    return EXIT_OK
