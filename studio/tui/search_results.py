"""What the search screen lists: hits grouped by conversation, each with its snippet (the
matched words marked), and the recent searches kept in the store.

Every text here came from somewhere else (titles, message text, model ids): it is made safe
with :mod:`studio.textsafe` and put in :class:`~textual.content.Content` as plain text, never
parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from textual.content import Content

from studio.store import Role, Store
from studio.store.search import SearchHit, snippet_parts
from studio.textsafe import clean_line

RECENT_KEY = "recent_searches"
"""The ``app_state`` key of the recent searches (newest first)."""
RECENT_SIZE = 20

WHO = {Role.USER: "you", Role.ASSISTANT: "reply", Role.SYSTEM: "system"}
HIT_STYLE = "bold reverse"
LEAD = 36
"""At most about this many cells of a hit's snippet come before its first matched word."""


@dataclass
class HitGroup:
    """One conversation's hits, in the order the search ranked them."""

    conversation_id: int
    title: str
    archived: bool
    hits: list[SearchHit] = field(default_factory=list)


def group_hits(hits: Sequence[SearchHit]) -> list[HitGroup]:
    """``hits`` (best first) grouped by conversation: the conversation of the best hit first."""
    groups: dict[int, HitGroup] = {}
    for hit in hits:
        group = groups.get(hit.conversation_id)
        if group is None:
            group = HitGroup(hit.conversation_id, hit.title, hit.archived)
            groups[hit.conversation_id] = group
        group.hits.append(hit)
    return list(groups.values())


def group_label(group: HitGroup) -> Content:
    """``▌ Title · archived · 3 hits``"""
    count = len(group.hits)
    parts: list[Content | tuple[str, str]] = [
        ("▌ ", "$accent"),
        (clean_line(group.title) or "Untitled", "bold"),
    ]
    if group.archived:
        parts.append(("  archived", "$warning"))
    parts.append((f"  {count} hit{'' if count == 1 else 's'}", "dim"))
    return Content.assemble(*parts)


def snippet_content(snippet: str, *, lead: int | None = None) -> Content:
    """The snippet on one line, the matched words in :data:`HIT_STYLE`. ``lead`` cuts the text
    before the first matched word to about that many cells, so the word shows on a line cut
    at the edge of a narrow terminal."""
    parts = [(clean_line(text), hit) for text, hit in snippet_parts(snippet)]
    if lead is not None and len(parts) > 1 and not parts[0][1] and len(parts[0][0]) > lead:
        kept = parts[0][0][-lead:]
        space = kept.find(" ")
        parts[0] = ("…" + (kept[space:] if 0 <= space < lead // 2 else kept), False)
    return Content.assemble(*((text, HIT_STYLE if hit else "") for text, hit in parts))


def when(created_at: float, now: float) -> str:
    """``14:03`` today, ``3 Nov`` this year, ``3 Nov 2025`` before."""
    moment, today = datetime.fromtimestamp(created_at), datetime.fromtimestamp(now)
    if moment.date() == today.date():
        return moment.strftime("%H:%M")
    if moment.year == today.year:
        return f"{moment.day} {moment:%b}"
    return f"{moment.day} {moment:%b %Y}"


def hit_label(hit: SearchHit, now: float) -> Content:
    """``  you · 3 Nov  …the matched words in context…``"""
    who = WHO.get(hit.role, hit.role.value)
    head = f"  {who:<5}  {when(hit.created_at, now):>10}  "
    return Content.assemble((head, "dim"), snippet_content(hit.snippet, lead=LEAD))


# -- recent searches ----------------------------------------------------------------------------


def recent_searches(store: Store) -> list[str]:
    """The last :data:`RECENT_SIZE` distinct searches, newest first."""
    saved = store.get_state(RECENT_KEY, [])
    if not isinstance(saved, list):
        return []
    return [text for text in saved if isinstance(text, str) and text.strip()][:RECENT_SIZE]


def remember_search(store: Store, text: str) -> None:
    """Put ``text`` first among the recent searches (once: an earlier copy moves up)."""
    text = text.strip()
    if not text:
        return
    kept = [old for old in recent_searches(store) if old != text]
    store.set_state(RECENT_KEY, [text, *kept][:RECENT_SIZE])
