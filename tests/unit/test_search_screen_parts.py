"""The search screen's parts that need no app: date filters, grouping, snippets, recent searches."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from studio.store import Role, Store
from studio.store.search import HIT_END, HIT_START, SearchHit
from studio.tui.search_results import (
    RECENT_SIZE,
    group_hits,
    group_label,
    recent_searches,
    remember_search,
    snippet_content,
)
from studio.when import WhenError, parse_when

NOW = datetime(2026, 12, 4, 15, 30).timestamp()


def test_a_day_means_from_its_first_second_until_the_next_midnight() -> None:
    assert parse_when("2026-11-30", now=NOW) == datetime(2026, 11, 30).timestamp()
    assert parse_when("2026-11-30", end=True, now=NOW) == datetime(2026, 12, 1).timestamp()


@pytest.mark.parametrize(
    ("text", "back"),
    [("12h", 12 * 3600), ("7d", 7 * 86400), ("2w", 14 * 86400), (" 3 D ", 3 * 86400)],
)
def test_a_span_counts_back_from_now(text: str, back: float) -> None:
    assert parse_when(text, now=NOW) == NOW - back


def test_a_day_and_time() -> None:
    assert parse_when("2026-11-30T14:05", now=NOW) == datetime(2026, 11, 30, 14, 5).timestamp()
    assert parse_when("2026-11-30 14:05", end=True, now=NOW) == parse_when(
        "2026-11-30t14:05", now=NOW
    )


def test_today_yesterday_and_blank() -> None:
    assert parse_when("today", now=NOW) == datetime(2026, 12, 4).timestamp()
    assert parse_when("Yesterday", now=NOW) == datetime(2026, 12, 3).timestamp()
    assert parse_when("   ", now=NOW) is None


@pytest.mark.parametrize(
    "text", ["next tuesday", "7", "d7", "2026-13-01", "7y", "1e9d", "2026-11-30T25:00"]
)
def test_anything_else_is_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(WhenError, match="is not a date: use a day like 2026-11-30"):
        parse_when(text, now=NOW)


def hit(
    mid: int, cid: int, title: str = "T", snippet: str = "x", archived: bool = False
) -> SearchHit:
    return SearchHit(mid, cid, "", title, archived, Role.USER, None, mid, NOW, snippet, -1.0)


def test_hits_group_by_conversation_best_first() -> None:
    groups = group_hits([hit(1, 7), hit(2, 3), hit(3, 7), hit(4, 3, archived=True)])
    assert [(g.conversation_id, [h.message_id for h in g.hits]) for g in groups] == [
        (7, [1, 3]),
        (3, [2, 4]),
    ]
    label = group_label(group_hits([hit(1, 1, "[b]x[/b]\x1b[2J", archived=True)])[0])
    assert label.plain == "▌ [b]x[/b]␛[2J  archived  1 hit"


def test_a_snippet_marks_its_hits_and_keeps_them_in_view() -> None:
    snippet = f"a long way before the {HIT_START}word{HIT_END} and after"
    content = snippet_content(snippet)
    assert content.plain == "a long way before the word and after"
    marked = [content.plain[s.start : s.end] for s in content.spans]
    assert "word" in marked
    cut = snippet_content(snippet, lead=10)
    assert cut.plain.startswith("…") and cut.plain.endswith("word and after")
    assert len(cut.plain.split("word")[0]) <= 11


def test_recent_searches_keep_the_last_distinct_ones(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    try:
        for i in range(RECENT_SIZE + 5):
            remember_search(store, f"q{i}")
        remember_search(store, "q10")
        remember_search(store, "  ")
        recent = recent_searches(store)
        assert recent[0] == "q10" and recent.count("q10") == 1
        assert len(recent) == RECENT_SIZE
        assert recent[1] == f"q{RECENT_SIZE + 4}"
    finally:
        store.close()
