"""The search command's arguments: ``search``."""

from __future__ import annotations

import argparse

from studio.commands.parsers import accept_demo

SEARCH_EXAMPLES = """\
examples:
  studio search kubernetes ingress          messages with both words, best first
  studio search '"exit code"'               that exact phrase
  studio search deploy --role assistant --since 7d   replies of the last seven days
  studio search invoice --model gpt-4o --since 2026-01-01 --until 2026-03-31
  studio search --json --limit 200 tax | jq -r '.[].conversation_id' | sort -u
  studio search -- -v                       a query that starts with a dash

Every word must occur (case and accents ignored); the last word, from its third letter on,
also matches longer words ("repo" finds "report"); "a*" asks the same of any word. Archived
conversations are searched too. DATE is YYYY-MM-DD (local time; --until includes that day),
YYYY-MM-DDTHH:MM, or a span back from now: 12h, 7d, 2w.

output: one line per hit, tab-separated: conversation id, time (local), title, snippet; on a
terminal the matched words are bold (not with NO_COLOR). --json prints one JSON array of hits:
message_id, conversation_id, conversation_uuid, title, archived, role, model, position,
created_at (epoch seconds), snippet (plain text), snippet_parts ([{"text", "hit"}]), rank.

exit codes: 0 hits found, 1 none, 2 bad usage (a bad date or limit, nothing to search for),
4 the local database cannot be used (or has no search index).
"""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``search`` to the ``studio`` parser."""
    search = sub.add_parser(
        "search",
        help="full-text search over every conversation's messages",
        description="Search the text of every message of every conversation (archived ones "
        "too), ranked best first, with the matched words highlighted.",
        epilog=SEARCH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    accept_demo(search)
    search.add_argument("query", nargs="+", metavar="QUERY", help="words to look for")
    search.add_argument("--json", action="store_true", help="print the hits as a JSON array")
    search.add_argument(
        "-n",
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="at most N hits (default 50, up to 5000)",
    )
    search.add_argument("-m", "--model", metavar="M", help="only messages of this model")
    search.add_argument(
        "--role", choices=("user", "assistant"), help="only your prompts, or only the replies"
    )
    search.add_argument("--since", metavar="DATE", help="only messages from DATE on")
    search.add_argument("--until", metavar="DATE", help="only messages up to DATE")

    search.set_defaults(handler="studio.commands.search:run_search")
