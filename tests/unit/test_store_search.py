"""Full-text search in the store: the index follows every write, ranks, highlights, filters,
survives any query text, and is built for databases from before version 7."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.store import MessageStatus, Role, Store, schema
from studio.store.schema import Migration
from studio.store.search import (
    HIT_END,
    HIT_START,
    SearchQuery,
    SearchUnavailable,
    match_expression,
    ranked_sql,
    search_messages,
    snippet_parts,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open(":memory:") as opened:
        yield opened


def found(store: Store, text: str, **filters: object) -> list[int]:
    """The ids of the messages ``text`` finds, best first."""
    query = SearchQuery(text, **filters)  # type: ignore[arg-type]
    return [hit.message_id for hit in search_messages(store, query)]


def test_the_index_follows_insert_edit_and_delete(store: Store) -> None:
    cid = store.create_conversation(title="notes").id
    message = store.add_message(cid, Role.USER, "the quarterly budget review")
    assert found(store, "budget") == [message.id]
    store.edit_message(message.id, "the annual forecast")
    assert found(store, "budget") == []
    assert found(store, "forecast") == [message.id]
    store.delete_message(message.id)
    assert found(store, "forecast") == []


def test_a_streaming_reply_is_found_as_it_grows_and_after_it_finishes(store: Store) -> None:
    cid = store.create_conversation(title="stream").id
    reply = store.start_reply(cid, model="gpt-4o")
    store.save_partial(reply.id, "Kubernetes ingress")
    assert found(store, "ingress") == [reply.id]
    store.save_partial(reply.id, "Kubernetes ingress controllers route traffic")
    assert found(store, "traffic") == [reply.id]
    store.finish_reply(reply.id, "Kubernetes services, finally", status=MessageStatus.STOPPED)
    assert found(store, "ingress") == []
    assert found(store, "finally") == [reply.id]


def test_deleting_a_conversation_removes_its_messages_from_the_index(store: Store) -> None:
    doomed = store.create_conversation(title="doomed").id
    kept = store.create_conversation(title="kept").id
    store.add_message(doomed, Role.USER, "zeppelin schedules")
    survivor = store.add_message(kept, Role.USER, "zeppelin museum")
    store.delete_conversation(doomed)
    assert found(store, "zeppelin") == [survivor.id]
    with store._read() as conn:  # the index's own consistency check
        conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")


def test_taken_and_restored_messages_leave_and_rejoin_the_index(store: Store) -> None:
    cid = store.create_conversation().id
    message = store.add_message(cid, Role.USER, "marmalade recipe")
    removed = store.take_message(message.id)
    assert found(store, "marmalade") == []
    store.restore_message(removed)
    assert found(store, "marmalade") == [message.id]


def test_archived_conversations_and_every_status_are_searched(store: Store) -> None:
    archived = store.create_conversation(title="old").id
    store.set_archived(archived, True)
    kept = store.add_message(archived, Role.USER, "walrus facts")
    failed = store.add_message(
        archived, Role.ASSISTANT, "walrus partial", status=MessageStatus.ERROR, error="HTTP 500"
    )
    hits = search_messages(store, SearchQuery("walrus"))
    assert {hit.message_id for hit in hits} == {kept.id, failed.id}
    assert all(hit.archived and hit.title == "old" for hit in hits)


def test_hits_carry_where_they_live(store: Store) -> None:
    clock = Clock(1_700_000_000.0)
    with Store.open(":memory:", clock=clock) as timed:
        conversation = timed.create_conversation(title="Trip", model="claude")
        timed.add_message(conversation.id, Role.USER, "first")
        reply = timed.add_message(
            conversation.id, Role.ASSISTANT, "pack a raincoat", model="gpt-4o"
        )
        (hit,) = search_messages(timed, SearchQuery("raincoat"))
    assert hit.message_id == reply.id
    assert hit.conversation_id == conversation.id
    assert hit.conversation_uuid == conversation.uuid
    assert (hit.title, hit.archived, hit.role, hit.model) == (
        "Trip",
        False,
        Role.ASSISTANT,
        "gpt-4o",
    )
    assert (hit.position, hit.created_at) == (2, 1_700_000_000.0)
    assert hit.rank < 0  # bm25: lower is better


def test_ranking_puts_the_most_relevant_message_first(store: Store) -> None:
    cid = store.create_conversation().id
    filler = " ".join(["words about other things"] * 30)
    weak = store.add_message(cid, Role.USER, f"parquet once {filler}")
    strong = store.add_message(cid, Role.USER, "parquet parquet files: parquet compression")
    middle = store.add_message(cid, Role.USER, "parquet and csv")
    assert found(store, "parquet") == [strong.id, middle.id, weak.id]


def test_equal_scores_list_the_newer_message_first(store: Store) -> None:
    cid = store.create_conversation().id
    older = store.add_message(cid, Role.USER, "same text here")
    newer = store.add_message(cid, Role.USER, "same text here")
    assert found(store, "same text") == [newer.id, older.id]


def test_several_words_are_all_required_in_any_order_and_case(store: Store) -> None:
    cid = store.create_conversation().id
    both = store.add_message(cid, Role.USER, "Report on the TAX year")
    store.add_message(cid, Role.USER, "tax only")
    assert found(store, "tax report") == [both.id]


def test_the_last_word_is_a_prefix_from_three_letters(store: Store) -> None:
    cid = store.create_conversation().id
    report = store.add_message(cid, Role.USER, "the report")
    store.add_message(cid, Role.USER, "re-reading")  # the words "re" and "reading"
    assert found(store, "rep") == [report.id]
    assert found(store, "repo") == [report.id]
    assert set(found(store, "re")) == {report.id + 1}  # two letters: the whole word only
    assert found(store, "rep ") == []  # a finished word is matched whole
    assert found(store, "repo* the") == [report.id]  # an explicit prefix anywhere
    assert match_expression("C++*") == '"C++"'  # never a prefix of the word before "++"


def test_accents_and_case_are_ignored(store: Store) -> None:
    cid = store.create_conversation().id
    cafe = store.add_message(cid, Role.USER, "Un CAFÉ à Zürich")
    assert found(store, "cafe zurich") == [cafe.id]
    assert found(store, "Café") == [cafe.id]


def test_a_quoted_phrase_must_occur_as_it_is(store: Store) -> None:
    cid = store.create_conversation().id
    phrase = store.add_message(cid, Role.USER, "the exit code was 3")
    store.add_message(cid, Role.USER, "code review before exit")
    assert found(store, '"exit code"') == [phrase.id]
    assert len(found(store, "exit code")) == 2


def test_identifiers_and_code_are_found_by_their_words(store: Store) -> None:
    cid = store.create_conversation().id
    code = store.add_message(cid, Role.ASSISTANT, "call search_messages(store, query) in C++")
    assert found(store, "search_messages") == [code.id]
    assert found(store, "messages") == [code.id]
    assert found(store, "C++") == [code.id]


def test_snippets_mark_the_matched_words(store: Store) -> None:
    cid = store.create_conversation().id
    store.add_message(cid, Role.USER, "Where is the\nnearest   station? I need a train.")
    (hit,) = search_messages(store, SearchQuery("train station"))
    assert hit.snippet == (
        f"Where is the nearest {HIT_START}station{HIT_END}? I need a {HIT_START}train{HIT_END}."
    )
    assert snippet_parts(hit.snippet) == [
        ("Where is the nearest ", False),
        ("station", True),
        ("? I need a ", False),
        ("train", True),
        (".", False),
    ]


def test_a_long_message_gives_a_short_snippet_around_the_hit(store: Store) -> None:
    cid = store.create_conversation().id
    words = [f"w{n}" for n in range(400)]
    words[200] = "needle"
    store.add_message(cid, Role.USER, " ".join(words))
    (hit,) = search_messages(store, SearchQuery("needle"))
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert f"{HIT_START}needle{HIT_END}" in hit.snippet
    assert 12 <= len(hit.snippet.split()) <= 20


def test_snippet_parts_tolerates_stray_markers() -> None:
    assert snippet_parts("") == []
    assert snippet_parts(f"a{HIT_END}b{HIT_START}c") == [("ab", False), ("c", True)]
    assert snippet_parts(f"{HIT_START}{HIT_END}x") == [("x", False)]


@pytest.fixture
def filtered() -> Iterator[tuple[Store, dict[str, int]]]:
    clock = Clock(1000.0)
    with Store.open(":memory:", clock=clock) as store:
        first = store.create_conversation(title="a", model="claude").id
        second = store.create_conversation(title="b", model="gpt-4o").id
        ids = {}
        ids["user-claude"] = store.add_message(first, Role.USER, "lighthouse one").id
        clock.now = 2000.0
        ids["reply-gpt"] = store.add_message(
            first, Role.ASSISTANT, "lighthouse two", model="gpt-4o"
        ).id
        clock.now = 3000.0
        ids["user-gpt"] = store.add_message(second, Role.USER, "lighthouse three").id
        yield store, ids


def test_filters_by_model_role_and_time(filtered: tuple[Store, dict[str, int]]) -> None:
    store, ids = filtered

    def names(**filters: object) -> set[str]:
        by_id = {v: k for k, v in ids.items()}
        return {by_id[i] for i in found(store, "lighthouse", **filters)}

    assert names() == set(ids)
    # a user message counts as its conversation's model; a reply as its own
    assert names(model="gpt-4o") == {"reply-gpt", "user-gpt"}
    assert names(model="claude") == {"user-claude"}
    assert names(role=Role.USER) == {"user-claude", "user-gpt"}
    assert names(role=Role.ASSISTANT) == {"reply-gpt"}
    assert names(since=2000.0) == {"reply-gpt", "user-gpt"}
    assert names(until=2000.0) == {"user-claude"}
    assert names(since=1500.0, until=2500.0) == {"reply-gpt"}
    assert names(since=5000.0) == set()
    assert names(role=Role.USER, model="gpt-4o", since=2500.0) == {"user-gpt"}


def test_an_imported_older_message_is_found_by_its_time(
    filtered: tuple[Store, dict[str, int]],
) -> None:
    store, _ = filtered
    cid = store.create_conversation(title="imported").id
    with store._write() as conn:  # an import writes old times with new ids
        conn.execute(
            "INSERT INTO messages (conversation_id, position, role, content, created_at,"
            " updated_at) VALUES (?, 1, 'user', 'lighthouse old', 10, 10)",
            (cid,),
        )
    assert len(found(store, "lighthouse", until=1500.0)) == 2
    assert len(found(store, "lighthouse", since=1500.0)) == 2


def test_limit_keeps_the_best(store: Store) -> None:
    cid = store.create_conversation().id
    for n in range(10):
        store.add_message(cid, Role.USER, "orbit " * (n + 1) + "end")
    assert len(found(store, "orbit", limit=3)) == 3
    assert found(store, "orbit", limit=0) == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "-",
        '"',
        '""',
        "*",
        "()",
        "AND",
        "NEAR",
        "OR NOT",
        "a:b",
        "^x",
        "C++",
        "don't",
        "NEAR(a b)",
        'say "hi',
        "x AND",
        "col:*",
        "\x00",
        "{a b}",
        "'",
        "+1",
        "-x",
        "a -b",
    ],
)
def test_fts5_syntax_is_searched_for_never_obeyed(store: Store, text: str) -> None:
    cid = store.create_conversation().id
    store.add_message(cid, Role.USER, "AND NEAR OR NOT don't C++ say hi x col a b")
    search_messages(store, SearchQuery(text))  # never raises


def test_undecodable_argument_bytes_never_raise(store: Store) -> None:
    cid = store.create_conversation(title="t", model="m").id
    message = store.add_message(cid, Role.USER, "ab cd")
    assert found(store, "ab\udcffcd") == [message.id]  # a separator, like U+FFFD itself
    assert found(store, "ab", model="m\udcff") == []


def test_keywords_are_words_like_any_other(store: Store) -> None:
    cid = store.create_conversation().id
    near = store.add_message(cid, Role.USER, "the station is near")
    store.add_message(cid, Role.USER, "the station is far")
    assert found(store, "station NEAR") == [near.id]
    assert found(store, "don't") == []


def test_queries_without_a_word_find_nothing() -> None:
    for text in ("", "  ", "-", "&&", '"', "* *", "🙂"):
        assert match_expression(text) is None


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.characters(exclude_categories=())))  # surrogates too
def test_any_text_is_a_valid_query(store: Store, text: str) -> None:
    if not store.list_conversations():
        cid = store.create_conversation().id
        store.add_message(cid, Role.USER, 'alpha beta gamma " * - NEAR AND ü 日本語')
    hits = search_messages(store, SearchQuery(text))
    assert all(isinstance(hit.snippet, str) for hit in hits)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12))
def test_any_word_of_a_message_finds_it(store: Store, word: str) -> None:
    cid = store.create_conversation().id
    message = store.add_message(cid, Role.USER, f"before {word} after")
    assert message.id in found(store, word, limit=5000)


def v6_database(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = schema.migrations()
    older: tuple[Migration, ...] = packaged[:6]
    monkeypatch.setattr(schema, "migrations", lambda: older)
    with Store.open(path) as store:
        assert store.schema_version == 6
        cid = store.create_conversation(title="before search").id
        store.add_message(cid, Role.USER, "an old question about glaciers")
        store.add_message(cid, Role.ASSISTANT, "glaciers move slowly", model="m")
    monkeypatch.setattr(schema, "migrations", lambda: packaged)


def test_opening_a_version_6_database_indexes_what_it_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v6.db"
    v6_database(path, monkeypatch)
    with Store.open(path) as store:
        assert store.schema_version == schema.latest_version() >= 7
        assert len(found(store, "glaciers")) == 2
        cid = store.create_conversation().id
        store.add_message(cid, Role.USER, "new glaciers")  # and keeps it up to date
        assert len(found(store, "glaciers")) == 3


def test_without_fts5_the_store_opens_and_a_later_one_builds_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v6.db"
    v6_database(path, monkeypatch)
    monkeypatch.setattr(schema, "fts5_available", lambda conn: False)
    with Store.open(path) as store:
        assert store.schema_version == schema.latest_version()
        cid = store.create_conversation().id
        store.add_message(cid, Role.USER, "glaciers written without an index")
        with pytest.raises(SearchUnavailable, match="FTS5"):
            search_messages(store, SearchQuery("glaciers"))
    monkeypatch.undo()
    with Store.open(path) as store:
        assert len(found(store, "glaciers")) == 3
    with sqlite3.connect(path) as raw:  # and only once
        triggers = raw.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'messages_fts%'"
        ).fetchone()[0]
    assert triggers == 3


def test_a_fresh_database_builds_the_index_with_fts5_probed(tmp_path: Path) -> None:
    with Store.open(tmp_path / "new.db") as store, store._read() as conn:
        assert schema.fts5_available(conn)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"messages_fts", "messages_search", "messages_created"} <= names
    assert not any("probe" in name for name in names)


def test_filters_read_the_narrow_index_not_the_messages(store: Store) -> None:
    query = SearchQuery("x", role=Role.USER, model="m", since=1.0, until=2.0)
    sql, params = ranked_sql(query, '"x"')
    with store._read() as conn:
        plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "VIRTUAL TABLE INDEX" in plan
    assert "SEARCH m USING COVERING INDEX messages_search" in plan
    unfiltered, _ = ranked_sql(SearchQuery("x"), '"x"')
    assert "JOIN" not in unfiltered


def test_models_seen_lists_every_model_messages_and_conversations_name() -> None:
    from studio.store.search import models_seen

    with Store.open(":memory:") as store:
        chat = store.create_conversation(title="switched", model="gpt-4o")
        store.add_message(chat.id, Role.USER, "hello")
        reply = store.start_reply(chat.id, model="claude-old")
        store.finish_reply(reply.id, "hi", status=MessageStatus.COMPLETE)
        store.update_conversation(chat.id, model="Zeta-model")
        store.create_conversation(title="no model")
        assert models_seen(store) == ["claude-old", "Zeta-model"]
