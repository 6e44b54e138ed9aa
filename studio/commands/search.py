"""``studio search``: full-text search over every message, one line per hit or JSON.

Exit codes like grep: 0 when something was found, 1 when nothing was, 2 for bad usage (a bad
date or limit, a query with no word in it), 4 when the database cannot be used or has no
search index (a SQLite without FTS5).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from typing import Any

from studio.commands.common import CommandError, encodable, write_stdout
from studio.commands.conversations import open_store
from studio.commands.exits import EXIT_FAILED, EXIT_OK, EXIT_STORE, EXIT_USAGE
from studio.commands.models import safe_json
from studio.store import Role
from studio.store.search import (
    SearchHit,
    SearchQuery,
    SearchUnavailable,
    match_expression,
    search_messages,
    snippet_parts,
)
from studio.textsafe import clean_line
from studio.when import WhenError
from studio.when import parse_when as read_when

EXIT_NO_HITS = EXIT_FAILED
"""Nothing matched (like grep's 1)."""

BOLD = "\x1b[1m"
NORMAL = "\x1b[22m"

DATE_FORMS = (
    "YYYY-MM-DD, YYYY-MM-DDTHH:MM, today, yesterday, or a span back from now like 12h, 7d, 2w"
)


def parse_when(text: str, *, option: str, now: float, end_of_day: bool = False) -> float:
    """The time (epoch seconds) that ``text`` names, by :func:`studio.when.parse_when`'s rules
    (a day, a day and time, today, yesterday, or a span back from ``now``); ``end_of_day``: a
    day means its end (the next midnight, excluded). Anything else is a CommandError (exit 2)
    that names ``option``."""
    try:
        when = read_when(text, end=end_of_day, now=now)
    except WhenError:
        raise CommandError(
            f"{option}: {clean_line(text)!r} is not a date ({DATE_FORMS})", EXIT_USAGE
        ) from None
    if when is None:
        raise CommandError(f"{option}: give a date ({DATE_FORMS})", EXIT_USAGE)
    return when


def build_query(args: argparse.Namespace, *, now: float) -> SearchQuery:
    """The :class:`SearchQuery` the arguments ask for; a CommandError (exit 2) for a bad
    limit, a bad date, an empty range or a query without a word to search for."""
    text = " ".join(args.query)
    if match_expression(text) is None:
        raise CommandError(
            f"nothing to search for in {clean_line(text)!r}: give a word with a letter or digit",
            EXIT_USAGE,
        )
    if args.limit < 1:
        raise CommandError(f"--limit must be 1 or more, got {args.limit}", EXIT_USAGE)
    since = None if args.since is None else parse_when(args.since, option="--since", now=now)
    until = (
        None
        if args.until is None
        else parse_when(args.until, option="--until", now=now, end_of_day=True)
    )
    if since is not None and until is not None and since >= until:
        raise CommandError("--since must be before --until", EXIT_USAGE)
    return SearchQuery(
        text=text,
        limit=args.limit,
        model=args.model,
        role=None if args.role is None else Role(args.role),
        since=since,
        until=until,
    )


def run_search(args: argparse.Namespace) -> int:
    """``studio search``: print the hits (text or ``--json``); exit 0 found, 1 none."""
    query = build_query(args, now=time.time())
    with open_store() as store:
        try:
            hits = search_messages(store, query)
        except SearchUnavailable as exc:
            raise CommandError(str(exc), EXIT_STORE) from None
    if args.json:
        write_stdout(safe_json([hit_payload(hit) for hit in hits]) + "\n")
    else:
        bold = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        write_stdout("".join(hit_line(hit, bold=bold) for hit in hits))
    return EXIT_OK if hits else EXIT_NO_HITS


def hit_line(hit: SearchHit, *, bold: bool) -> str:
    """One hit as a line: conversation id, local time, title and snippet, separated by tabs
    (none inside a field); every field sanitised, the matched words bold when ``bold``."""
    when = datetime.fromtimestamp(hit.created_at).strftime("%Y-%m-%d %H:%M")
    pieces = []
    for text, matched in snippet_parts(hit.snippet):
        shown = clean_line(text)
        pieces.append(f"{BOLD}{shown}{NORMAL}" if matched and bold else shown)
    fields = (str(hit.conversation_id), when, clean_line(hit.title), "".join(pieces))
    return encodable("\t".join(fields)) + "\n"


def hit_payload(hit: SearchHit) -> dict[str, Any]:
    """One hit as the JSON object ``--json`` prints (stable: keys may be added, never renamed
    or removed)."""
    parts = snippet_parts(hit.snippet)
    return {
        "message_id": hit.message_id,
        "conversation_id": hit.conversation_id,
        "conversation_uuid": hit.conversation_uuid,
        "title": hit.title,
        "archived": hit.archived,
        "role": hit.role.value,
        "model": hit.model,
        "position": hit.position,
        "created_at": hit.created_at,
        "snippet": "".join(text for text, _ in parts),
        "snippet_parts": [{"text": text, "hit": matched} for text, matched in parts],
        "rank": hit.rank,
    }
