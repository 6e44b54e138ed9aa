"""Ranking command palette entries with :mod:`studio.fuzzy`: the best first, scores in 0..1.

Textual's palette sorts the hits of every provider together by score, and its own providers
(the system commands) score between 0 and 1: :func:`rank` scales a fuzzy score by the score
the query would get against itself (a perfect prefix), so Studio's hits compete fairly.

An entry's ``text`` is shown as plain text, never parsed as markup; entries made from untrusted
text (titles, model ids, prompts) are made safe with :mod:`studio.textsafe` by their maker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

from textual.command import Hit
from textual.content import Content
from textual.style import Style

from studio.fuzzy import fuzzy_positions, fuzzy_score

MATCH_STYLE = "bold underline"
"""How matched characters are marked when the palette passes no style of its own."""
YIELD_EVERY = 64
"""Entries scored between two returns to the event loop (the palette stays responsive and can
cancel a search the next key makes stale)."""


@dataclass(frozen=True)
class Entry:
    """One thing the palette can do: its name (matched and shown), its key, what it does."""

    text: str
    run: Callable[[], Awaitable[object] | object]
    help: str = ""
    keys: str = ""
    """The keys that do the same, shown dimmed after the name ("" for none)."""


@dataclass(frozen=True)
class Ranked:
    """An entry that matched a query, and how well (0 < score <= 1)."""

    score: float
    entry: Entry


def scaled(query: str, score: float) -> float:
    """``score`` of ``query`` as a fraction of a perfect match, in (0, 1]."""
    best = fuzzy_score(query, query) or 1.0
    return max(0.001, min(1.0, score / best))


async def rank(query: str, entries: Iterable[Entry], limit: int | None = None) -> list[Ranked]:
    """The entries whose text ``query`` finds (fuzzy), best first (ties keep their order), at
    most ``limit`` of them."""
    query = query.strip()
    found: list[Ranked] = []
    for count, entry in enumerate(entries, 1):
        score = fuzzy_score(query, entry.text)
        if score is None:
            score = _by_words(query, entry)
        if score is not None:
            found.append(Ranked(scaled(query, score), entry))
        if count % YIELD_EVERY == 0:
            await asyncio.sleep(0)
    found.sort(key=lambda ranked: -ranked.score)
    return found[:limit] if limit is not None else found


WORDS_WEIGHT = 0.5
"""What a match word by word is worth against one of the whole query in the name."""


def _by_words(query: str, entry: Entry) -> float | None:
    """A weaker score when every word of ``query`` is found, in any order, in the entry's
    name or what it does: "change theme" finds "Theme: choose…" described as changing it."""
    words = query.split()
    if len(words) < 2:
        return None
    haystack = f"{entry.text} {entry.help}"
    scores = [fuzzy_score(word, haystack) for word in words]
    if any(score is None for score in scores):
        return None
    return WORDS_WEIGHT * sum(score or 0.0 for score in scores)


def display(entry: Entry, query: str = "", match_style: Style | None = None) -> Content:
    """The entry's text with the characters ``query`` matched marked, then its keys, dimmed."""
    shown = Content(entry.text)
    style: Style | str = match_style or MATCH_STYLE
    for index in fuzzy_positions(query.strip(), entry.text) if query.strip() else ():
        if not entry.text[index].isspace():
            shown = shown.stylize(style, index, index + 1)
    return Content.assemble(shown, ("  " + entry.keys, "dim")) if entry.keys else shown


async def hits(
    query: str, entries: Iterable[Entry], match_style: Style | None, limit: int | None = None
) -> AsyncIterator[Hit]:
    """The palette's hits for ``query`` among ``entries``, best first (see :func:`rank`)."""
    for ranked in await rank(query, entries, limit):
        entry = ranked.entry
        yield Hit(
            ranked.score,
            display(entry, query, match_style),
            entry.run,
            text=entry.text,
            help=entry.help,
        )
