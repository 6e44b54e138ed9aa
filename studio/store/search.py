"""Full-text search over every message: ranked hits with highlighted snippets.

The index is ``messages_fts`` (migration 7): FTS5 over ``messages.content``, kept in step by
triggers. Any text a person types is a valid query: :func:`match_expression` turns it into an
FTS5 expression in which every word is a quoted string, so FTS5's own syntax (``AND``, ``NEAR``,
``-``, ``*``, ``:``, parentheses, a stray ``"``) is only ever searched for, never obeyed.

Query language (what :func:`match_expression` accepts):

* words separated by spaces must all occur, in any order (``tax report``);
* the last word, from its third character on, also matches longer words (``repo`` finds
  "report"), so results follow typing; a ``*`` at the end of any word asks the same of it
  (``deploy* log``, ``ka*``);
* text in double quotes must occur as that phrase (``"exit code"``);
* case and accents are ignored (``cafe`` finds "Café"); punctuation separates words, so
  ``search_messages`` finds that identifier and ``messages`` finds it too.

Plain functions over the store's read transaction, like :mod:`studio.store.watch`.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.store.models import Role, StoreError

if TYPE_CHECKING:
    from studio.store.store import Store

HIT_START = "\ue000"
"""Marks where a matched word begins inside :attr:`SearchHit.snippet` (a private-use
character, so it never collides with markup or with text a terminal interprets)."""
HIT_END = "\ue001"
"""Marks where a matched word ends inside :attr:`SearchHit.snippet`."""

ELLIPSIS = "…"
"""Stands for the text a snippet leaves out before or after it."""
SNIPPET_TOKENS = 16
"""How many words a snippet shows around the hits (FTS5 picks the best-scoring window)."""

PREFIX_MIN = 3
"""The last word being typed matches longer words once it has this many characters (the
index keeps three-character prefixes; see migration 7)."""

_TERM = re.compile(r'"([^"]*)("?)|(\S+)')
_SPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MARKERS = re.compile(f"([{HIT_START}{HIT_END}])")


class SearchUnavailable(StoreError):
    """This database has no search index: the SQLite that opened it lacked FTS5."""


@dataclass(frozen=True)
class SearchQuery:
    """What to look for, and where. Archived conversations and messages in every state
    (streaming, stopped, failed) are always searched."""

    text: str
    """What the person typed (see the module docstring for what it means)."""
    limit: int = 50
    """At most this many hits (the best ones; never more than :data:`CANDIDATES`)."""
    model: str | None = None
    """Only messages of this model (a user message counts as its conversation's model)."""
    role: Role | None = None
    """Only messages of this role."""
    since: float | None = None
    """Only messages created at or after this time (epoch seconds)."""
    until: float | None = None
    """Only messages created before this time (epoch seconds)."""


@dataclass(frozen=True)
class SearchHit:
    """One message that matched, with where it lives and a highlighted excerpt."""

    message_id: int
    conversation_id: int
    conversation_uuid: str
    title: str
    archived: bool
    role: Role
    model: str | None
    """The message's model, or its conversation's for a message without one."""
    position: int
    created_at: float
    snippet: str
    """Up to :data:`SNIPPET_TOKENS` words around the best match, on one line (runs of white
    space become one space), ``…`` where text is left out, each matched word between
    :data:`HIT_START` and :data:`HIT_END`. Raw message text: sanitise it where it is shown."""
    rank: float
    """FTS5's bm25 score: lower is better (hits come best first)."""


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """Split a snippet into its runs of text, ``True`` for a matched word, markers removed.

    Empty runs are left out; a marker without its partner (a message that contained the
    private-use marker characters itself) never raises.
    """
    parts: list[tuple[str, bool]] = []
    inside = False
    for piece in _MARKERS.split(snippet):
        if piece == HIT_START:
            inside = True
        elif piece == HIT_END:
            inside = False
        elif piece:
            if parts and parts[-1][1] == inside:
                parts[-1] = (parts[-1][0] + piece, inside)
            else:
                parts.append((piece, inside))
    return parts


def match_expression(text: str) -> str | None:
    """The FTS5 MATCH expression for ``text``, or ``None`` when it holds no searchable word.

    Every word (or double-quoted phrase) becomes an FTS5 string, so no input can be a syntax
    error; words without a letter or digit (``-``, ``&&``) are dropped, since the tokenizer
    would find nothing in them.
    """
    terms: list[str] = []
    cleaned = _bindable(text).replace("\x00", " ")
    for match in _TERM.finditer(cleaned):
        phrase, closing, word = match.groups()
        if word is not None:
            body = word.rstrip("*")
            explicit = body != word
            # The word being typed: the last one, with no space after it yet.
            prefix = explicit or match.end() == len(cleaned)
        else:
            body = phrase
            explicit = False
            prefix = not closing  # a phrase still being typed
        if not any(_is_token_char(ch) for ch in body):
            continue
        # "C++" stays the word c, not c*; a prefix shorter than the index's three characters
        # would merge the lists of thousands of words, so "ka" is the word ka until typed on
        # (or until asked for with "ka*").
        prefix = prefix and _trailing_word(body) >= (1 if explicit else PREFIX_MIN)
        quoted = '"' + body.replace('"', '""') + '"'
        terms.append(quoted + "*" if prefix else quoted)
    return " ".join(terms) or None


def _bindable(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes of a command-line argument) as U+FFFD,
    which SQLite can take (it refuses text that is not valid UTF-8)."""
    return _SURROGATE.sub("\ufffd", text)


def _trailing_word(text: str) -> int:
    """How many word characters end ``text`` (the last token's length, as FTS5 sees it)."""
    count = 0
    for ch in reversed(text):
        if not _is_token_char(ch):
            break
        count += 1
    return count


def _is_token_char(ch: str) -> bool:
    """Whether FTS5's unicode61 tokenizer keeps ``ch`` in a word (letters, digits, private
    use); everything else separates words."""
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "Co"


CANDIDATES = 5000
"""Hits are ranked among at most this many matches, the newest (by message id) first.

bm25 costs a few microseconds per match, so ranking every one of 100,000 messages that contain
"the" would take a third of a second; a word found in more messages than this is too common
for its score to say much, and the newest of its messages are the likely ones. A rarer query
is ranked over all its matches, exactly."""

_CANDIDATES_SQL = (
    "SELECT rowid, score FROM ("
    "SELECT messages_fts.rowid AS rowid, messages_fts.rank AS score FROM messages_fts{joins}"
    " WHERE messages_fts MATCH ?{filters}"
    " ORDER BY messages_fts.rowid DESC LIMIT ?"
    ") ORDER BY score, rowid DESC LIMIT ?"
)
_JOIN_MESSAGES = " JOIN messages AS m INDEXED BY messages_search ON m.id = messages_fts.rowid"
_JOIN_CONVERSATIONS = " JOIN conversations AS c ON c.id = m.conversation_id"
_SNIPPETS_SQL = (
    "SELECT messages_fts.rowid, snippet(messages_fts, 0, ?, ?, ?, ?) FROM messages_fts"
    " WHERE messages_fts MATCH ? AND messages_fts.rowid BETWEEN ? AND ?"
    # "+" keeps the list away from FTS5, which would run the whole query again for each id
    # (a prefix's word lists merged fifty times over); the range is read once instead.
    " AND +messages_fts.rowid IN ({marks})"
)
_DETAILS_SQL = (
    "SELECT m.id, m.conversation_id, COALESCE(c.uuid, '') AS uuid, c.title, c.archived,"
    " m.role, COALESCE(m.model, c.model) AS model, m.position, m.created_at"
    " FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id"
    " WHERE m.id IN ({marks})"
)


def ranked_sql(query: SearchQuery, expression: str) -> tuple[str, list[Any]]:
    """The query that picks the best hits' ids and scores, with its parameters (public so
    tests and the benchmark can check its plan)."""
    filters = ""
    params: list[Any] = [expression]
    if query.model is not None:
        filters += " AND COALESCE(m.model, c.model) = ?"
        params.append(_bindable(query.model))
    if query.role is not None:
        filters += " AND m.role = ?"
        params.append(Role(query.role).value)
    if query.since is not None:
        # The id bound lets FTS5 skip the newer messages; the time check stays, as an imported
        # message can be older than its id suggests.
        filters += (
            " AND messages_fts.rowid >= (SELECT COALESCE(MIN(id), 0) FROM messages"
            " WHERE created_at >= ?) AND m.created_at >= ?"
        )
        params += [float(query.since)] * 2
    if query.until is not None:
        filters += (
            " AND messages_fts.rowid <= (SELECT COALESCE(MAX(id), 0) FROM messages"
            " WHERE created_at < ?) AND m.created_at < ?"
        )
        params += [float(query.until)] * 2
    params += [CANDIDATES, min(CANDIDATES, max(0, int(query.limit)))]
    joins = ""
    if filters:  # the columns come from the narrow index; the conversation only for its model
        joins = _JOIN_MESSAGES + (_JOIN_CONVERSATIONS if query.model is not None else "")
    sql = _CANDIDATES_SQL.format(joins=joins, filters=filters)
    return sql, params


def search_messages(store: Store, query: SearchQuery) -> list[SearchHit]:
    """The messages that match ``query``, best first (bm25 over the newest
    :data:`CANDIDATES` matches; the newer of equal ones first).

    An empty query, one with no word in it, or a limit below 1 finds nothing. Raises
    :class:`SearchUnavailable` when the database has no index (SQLite without FTS5), and
    ``StoreError`` for database trouble.
    """
    expression = match_expression(query.text)
    if expression is None or query.limit < 1:
        return []
    sql, params = ranked_sql(query, expression)
    with store._read() as conn:  # the store package's own collaborator
        _require_index(conn)
        ranks = {int(rowid): float(score) for rowid, score in conn.execute(sql, params)}
        if not ranks:
            return []
        marks = ", ".join("?" * len(ranks))
        snippet_args = [HIT_START, HIT_END, ELLIPSIS, SNIPPET_TOKENS, expression]
        snippets = dict(
            conn.execute(
                _SNIPPETS_SQL.format(marks=marks),
                [*snippet_args, min(ranks), max(ranks), *ranks],
            ).fetchall()
        )
        rows = conn.execute(_DETAILS_SQL.format(marks=marks), list(ranks)).fetchall()
    hits = [_row_to_hit(row, ranks[row["id"]], snippets.get(row["id"])) for row in rows]
    hits.sort(key=lambda hit: (hit.rank, -hit.message_id))
    return hits


def models_seen(store: Store) -> list[str]:
    """Every model a message was written with or a conversation names, sorted without regard
    to case: what the model filter can usefully offer."""
    with store._read() as conn:  # the store package's own collaborator
        rows = conn.execute(
            "SELECT DISTINCT model FROM messages WHERE model IS NOT NULL"
            " UNION SELECT model FROM conversations WHERE model IS NOT NULL"
        ).fetchall()
    return sorted((str(row[0]) for row in rows if row[0]), key=str.lower)


def _require_index(conn: sqlite3.Connection) -> None:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'"
    ).fetchone()
    if found is None:
        raise SearchUnavailable(
            "search is not available: the SQLite library in this Python was built without "
            "FTS5 (a Python whose sqlite3 has FTS5 builds the index when it opens the database)"
        )


def _row_to_hit(row: sqlite3.Row, rank: float, snippet: str | None) -> SearchHit:
    return SearchHit(
        message_id=int(row["id"]),
        conversation_id=int(row["conversation_id"]),
        conversation_uuid=str(row["uuid"]),
        title=str(row["title"]),
        archived=bool(row["archived"]),
        role=Role(row["role"]),
        model=row["model"],
        position=int(row["position"]),
        created_at=float(row["created_at"]),
        snippet=_SPACE.sub(" ", snippet or "").strip(),
        rank=rank,
    )
