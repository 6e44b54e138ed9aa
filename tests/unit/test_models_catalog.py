"""The model catalogue: capabilities, fuzzy matching and ranking, and the disk cache."""

from __future__ import annotations

import itertools
import json
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio import paths
from studio.api.types import ModelInfo
from studio.fuzzy import fuzzy_positions, fuzzy_score
from studio.model_cache import (
    CACHE_VERSION,
    CachedModels,
    default_cache_path,
    load_cached_models,
    save_cached_models,
)
from studio.models import Capability, capabilities, rank_models

C, V, IMG, VID, R = (
    Capability.CHAT,
    Capability.VISION,
    Capability.IMAGE,
    Capability.VIDEO,
    Capability.REASONING,
)
CHAT_TYPES = ("openai",)


def model(id: str, owned_by: str = "", types: tuple[str, ...] = CHAT_TYPES) -> ModelInfo:
    return ModelInfo(id=id, owned_by=owned_by, endpoint_types=types)


# Capabilities ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id", "types", "expected"),
    [
        ("gpt-4o", ("openai",), {C, V}),
        ("gpt-4o-mini", ("openai",), {C, V}),
        ("gpt-4-1", ("openai",), {C, V}),
        ("gpt-4.1-mini", ("openai",), {C, V}),
        ("gpt-4", ("openai",), {C}),
        ("gpt-5", ("openai", "openai-response"), {C, V, R}),
        ("gpt-5-mini", ("openai", "openai-response"), {C, V, R}),
        ("claude-sonnet-4-5-20250929", ("openai", "anthropic"), {C, V}),
        ("claude-opus-4-1-20250805", ("openai", "anthropic"), {C, V}),
        ("claude-haiku-4-5-20251001", ("openai", "anthropic"), {C, V}),
        ("claude-3-5-sonnet-20241022", ("openai", "anthropic"), {C, V}),
        ("claude-sonnet-4-5-20250929-thinking", ("anthropic",), {C, V, R}),
        ("claude-2.1", ("anthropic",), {C}),
        ("gemini-2.5-pro", ("openai", "gemini"), {C, V}),
        ("gemini-2.5-flash-image", ("gemini",), {C, V, IMG}),
        ("grok-4", ("openai",), {C}),
        ("deepseek-v3", ("openai",), {C}),
        ("deepseek-r1", ("openai",), {C, R}),
        ("deepseek-reasoner", ("openai",), {C, R}),
        ("qwen3-235b-a22b", ("openai",), {C}),
        ("qwen3-235b-a22b-thinking-2507", ("openai",), {C, R}),
        ("qwen2.5-vl-72b-instruct", ("openai",), {C, V}),
        ("qwen3-235b-a22b-non-thinking", ("openai",), {C}),
        ("kimi-k2.6", ("openai", "anthropic"), {C}),
        ("o1", ("openai",), {C, R}),
        ("o3-mini", ("openai",), {C, R}),
        ("o4-mini", ("openai",), {C, R}),
        ("omni-moderation", ("openai",), {C}),
        ("doubao-seed-1-6-250615", ("openai",), {C, V}),
        ("doubao-seed-1-6-thinking-250715", ("openai",), {C, V, R}),
        ("doubao-seedream-4-5-251128", ("image-generation",), {IMG}),
        ("doubao-seedream-3-0-t2i-250415", ("image-generation",), {IMG}),
        ("seedance-2.0", ("video",), {VID}),
        ("doubao-seedance-1-0-lite-i2v-250428", ("video",), {VID}),
        ("kling-v2-master", ("video",), {VID}),
        ("mj-imagine", ("mj-imagine",), {IMG}),
        # Unknown or missing endpoint types: the name decides, else it is a chat model.
        ("gpt-image-1", (), {IMG}),
        ("dall-e-3", (), {IMG}),
        ("sora-2", (), {VID}),
        ("veo-3.0-generate", ("something-new",), {VID}),
        ("kling-v3", (), {VID}),
        ("doubao-seedream-4-0", (), {IMG}),
        ("some-new-model", (), {C}),
        ("some-new-model", ("something-new",), {C}),
        ("anthropic/Claude-Sonnet-4", (), {C, V}),
        ("GPT-4o", ("openai",), {C, V}),
    ],
)
def test_capabilities(id: str, types: tuple[str, ...], expected: set[Capability]) -> None:
    assert capabilities(model(id, types=types)) == frozenset(expected)


def test_capability_values() -> None:
    assert [c.value for c in Capability] == ["chat", "vision", "image", "video", "reasoning"]
    assert Capability("vision") is Capability.VISION


def test_every_emulator_model_has_a_capability() -> None:
    catalogue = json.loads(
        (Path(__file__).parents[2] / "studio/emulator/data/models.json").read_text()
    )
    for group, entries in catalogue.items():
        for entry in entries:
            found = capabilities(ModelInfo.from_json(entry))
            assert found, entry["id"]
            if group == "chat":
                assert Capability.CHAT in found
            elif group == "seedream":
                assert found == {Capability.IMAGE}
            else:
                assert found == {Capability.VIDEO}


# Fuzzy matching ----------------------------------------------------------------------------------


def test_fuzzy_score_basics() -> None:
    assert fuzzy_score("", "anything") == 0.0
    assert fuzzy_score("xyz", "gpt-4o") is None
    assert fuzzy_score("o4g", "gpt-4o") is None
    assert fuzzy_score("GPT", "gpt-4o") == fuzzy_score("gpt", "GPT-4O")
    assert fuzzy_score("toolong", "short") is None
    score = fuzzy_score("g", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxg")
    assert score is not None and score > 0


def test_fuzzy_positions() -> None:
    assert fuzzy_positions("g4o", "gpt-4o") == [0, 4, 5]
    assert fuzzy_positions("sonnet", "claude-3-7-sonnet-20250219") == list(range(11, 17))
    assert fuzzy_positions("s45", "claude-sonnet-4-5-20250929") == [7, 14, 16]
    assert fuzzy_positions("", "gpt") == []
    assert fuzzy_positions("zz", "gpt") == []


def better(query: str, winner: str, loser: str) -> bool:
    a, b = fuzzy_score(query, winner), fuzzy_score(query, loser)
    assert a is not None, winner
    return b is None or a > b


@pytest.mark.parametrize(
    ("query", "winner", "loser"),
    [
        ("sonnet", "claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805"),
        ("sonnet", "claude-sonnet-4-5-20250929", "claude-3-7-sonnet-20250219"),
        ("g4o", "gpt-4o", "gpt-4o-mini"),
        ("s45", "claude-sonnet-4-5-20250929", "doubao-seedream-4-5-251128"),
        ("s45", "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514"),
        ("ds", "doubao-seedream-4-5", "deepseek-v3"),  # initials beat letters inside a word
        ("r1", "deepseek-r1", "doubao-seedance-1-5-pro-251215"),
        ("gem", "gemini-2.5-pro", "doubao-seed-1-6-250615"),
        ("kling", "kling-v1", "kling-v2-1-master"),  # shorter wins a tie
        ("gpt", "gpt-5", "claude-opus-4-1"),  # a prefix beats nothing
        ("opus", "claude-opus-4-1-20250805", "claude-haiku-4-5"),
        ("mini", "gpt-4o-mini", "minimax-m2-turbo-preview-long-name"),
    ],
)
def test_fuzzy_ordering(query: str, winner: str, loser: str) -> None:
    assert better(query, winner, loser)


def test_contiguous_beats_scattered() -> None:
    assert better("seed", "doubao-seed-1-6", "s-e-e-d")
    assert better("abc", "abc-x", "a-b-c")


def test_a_prefix_beats_the_same_word_later() -> None:
    assert better("kimi", "kimi-k2", "old-kimi-k")


def is_subsequence(query: str, text: str) -> bool:
    position = 0
    for char in query:
        while position < len(text) and text[position].lower() != char.lower():
            position += 1
        if position == len(text):
            return False
        position += 1
    return True


ALPHABET = st.sampled_from("abcABC12-_./ éÉ")


@given(st.text(ALPHABET, max_size=6), st.text(ALPHABET, max_size=30))
def test_fuzzy_score_is_none_iff_not_a_subsequence(query: str, text: str) -> None:
    score = fuzzy_score(query, text)
    positions = fuzzy_positions(query, text)
    if is_subsequence(query, text):
        assert score is not None
        assert score >= 0
        assert len(positions) == len(query)
        assert all(a < b for a, b in itertools.pairwise(positions))
        assert all(text[p].lower() == q.lower() for p, q in zip(positions, query, strict=True))
    else:
        assert score is None
        assert positions == []


@given(st.text(ALPHABET, min_size=1, max_size=6), st.text(ALPHABET, max_size=30))
def test_a_query_found_as_a_substring_always_matches(query: str, text: str) -> None:
    assert fuzzy_score(query, text + query + text) is not None


# Ranking -----------------------------------------------------------------------------------------

CATALOGUE = [
    model("gpt-4o", "openai"),
    model("gpt-4o-mini", "openai"),
    model("claude-sonnet-4-5-20250929", "vertex-ai"),
    model("claude-opus-4-1-20250805", "aws"),
    model("claude-3-7-sonnet-20250219", "vertex-ai"),
    model("deepseek-r1", "custom"),
    model("doubao-seedream-4-5-251128", "volcengine", ("image-generation",)),
    model("seedance-2.0", "volcengine", ("video",)),
    model("kling-v2-master", "custom", ("video",)),
    model("qwen3-235b-a22b", "ali"),
]


def ids(models: list[ModelInfo]) -> list[str]:
    return [m.id for m in models]


def test_empty_query_lists_favourites_first_then_alphabetically() -> None:
    ranked = rank_models(
        CATALOGUE,
        "  ",
        favourites=["seedance-2.0", "missing-model", "claude-opus-4-1-20250805", "seedance-2.0"],
        current="gpt-4o",
    )
    assert ids(ranked) == [
        "seedance-2.0",
        "claude-opus-4-1-20250805",
        "claude-3-7-sonnet-20250219",
        "claude-sonnet-4-5-20250929",
        "deepseek-r1",
        "doubao-seedream-4-5-251128",
        "gpt-4o",
        "gpt-4o-mini",
        "kling-v2-master",
        "qwen3-235b-a22b",
    ]


def test_empty_query_is_case_insensitively_alphabetical() -> None:
    ranked = rank_models([model("b"), model("A"), model("a"), model("C")], "", favourites=[])
    assert ids(ranked) == ["A", "a", "b", "C"]


def test_query_ranks_by_score_and_drops_non_matches() -> None:
    ranked = rank_models(CATALOGUE, "sonnet", favourites=[], current=None)
    assert ids(ranked) == ["claude-sonnet-4-5-20250929", "claude-3-7-sonnet-20250219"]
    assert ids(rank_models(CATALOGUE, "g4o", favourites=[]))[:2] == ["gpt-4o", "gpt-4o-mini"]
    assert ids(rank_models(CATALOGUE, "s45", favourites=[]))[0] == "claude-sonnet-4-5-20250929"
    assert rank_models(CATALOGUE, "zzz", favourites=[]) == []


def test_favourites_get_a_small_boost() -> None:
    plain = ids(rank_models(CATALOGUE, "g4o", favourites=[]))
    boosted = ids(rank_models(CATALOGUE, "g4o", favourites=["gpt-4o-mini"]))
    assert plain[:2] == ["gpt-4o", "gpt-4o-mini"]
    assert boosted[:2] == ["gpt-4o-mini", "gpt-4o"]
    # ...but a small one: a much better match still wins.
    ranked = ids(rank_models(CATALOGUE, "sonnet", favourites=["claude-opus-4-1-20250805"]))
    assert "claude-opus-4-1-20250805" not in ranked


def test_owner_matches_count_but_lower_than_id_matches() -> None:
    models = [model("kling-v2-master", "custom"), model("aws-thing", "other"), model("x", "aws")]
    assert ids(rank_models(models, "aws", favourites=[])) == ["aws-thing", "x"]
    # Equal owner matches fall back to alphabetical order.
    assert ids(rank_models(CATALOGUE, "volcengine", favourites=[])) == [
        "doubao-seedream-4-5-251128",
        "seedance-2.0",
    ]


def test_every_term_must_match() -> None:
    ranked = ids(rank_models(CATALOGUE, "claude sonnet", favourites=[]))
    assert ranked == ["claude-sonnet-4-5-20250929", "claude-3-7-sonnet-20250219"]
    assert ids(rank_models(CATALOGUE, "sonnet 4.5", favourites=[])) == [
        "claude-sonnet-4-5-20250929"
    ]
    assert ids(rank_models(CATALOGUE, "volc dance", favourites=[])) == ["seedance-2.0"]


def test_current_breaks_ties_and_duplicates_are_dropped() -> None:
    models = [model("model-a"), model("model-b"), model("model-a", "dup")]
    assert ids(rank_models(models, "model", favourites=[])) == ["model-a", "model-b"]
    assert ids(rank_models(models, "model", favourites=[], current="model-b")) == [
        "model-b",
        "model-a",
    ]
    assert rank_models(models, "model", favourites=[])[0].owned_by == ""


# The cache ---------------------------------------------------------------------------------------

BASE = "https://www.anyfast.ai"
FETCHED = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)


def server_models() -> list[ModelInfo]:
    return [
        ModelInfo.from_json(
            {
                "id": "gpt-4o",
                "object": "model",
                "created": 1626777600,
                "owned_by": "openai",
                "supported_endpoint_types": ["openai"],
            }
        ),
        ModelInfo.from_json(
            {
                "id": "doubao-seedream-4-5-251128",
                "owned_by": "volcengine",
                "supported_endpoint_types": ["image-generation"],
                "default_size": "2048x2048",
                "名字": "种子",
            }
        ),
        ModelInfo.from_json({"id": "bare"}),
    ]


def test_cache_round_trip_keeps_raw_json(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "models.json"
    models = server_models()
    assert save_cached_models(models, BASE + "/", path, now=FETCHED) == path
    cached = load_cached_models(path, base_url=BASE)
    assert isinstance(cached, CachedModels)
    assert cached.models == tuple(models)
    assert [m.raw for m in cached.models] == [m.raw for m in models]
    assert [ModelInfo.from_json(m.raw) for m in cached.models] == models
    assert cached.fetched_at == FETCHED
    assert cached.base_url == BASE
    assert cached.age(FETCHED + timedelta(hours=2)) == timedelta(hours=2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["models.json"]  # no temporary left


def test_cache_stores_hand_made_models_faithfully(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    made = [
        ModelInfo("m1", "me", ("openai", "anthropic")),
        ModelInfo("m2", raw={"id": "stale", "extra": 1}),
    ]
    save_cached_models(made, BASE, path, now=FETCHED)
    cached = load_cached_models(path)
    assert cached is not None
    assert cached.models == tuple(made)
    assert cached.models[1].raw["extra"] == 1


def test_cache_defaults_to_the_cache_dir() -> None:
    assert default_cache_path() == paths.cache_dir() / "models.json"
    assert load_cached_models() is None
    written = save_cached_models(server_models(), BASE)
    assert written == default_cache_path()
    cached = load_cached_models(base_url=BASE)
    assert cached is not None
    assert cached.fetched_at.tzinfo is not None


def test_cache_of_another_base_url_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    save_cached_models(server_models(), BASE, path, now=FETCHED)
    assert load_cached_models(path, base_url="https://www.anyfast.com.cn") is None
    assert load_cached_models(path, base_url=" https://www.anyfast.ai// ") is not None
    assert load_cached_models(path) is not None


def test_cache_replaces_the_previous_list(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    save_cached_models(server_models(), BASE, path, now=FETCHED)
    save_cached_models([model("only")], "http://127.0.0.1:8000", path, now=FETCHED)
    cached = load_cached_models(path, base_url="http://127.0.0.1:8000")
    assert cached is not None
    assert ids(list(cached.models)) == ["only"]


def valid_document() -> dict[str, object]:
    return {
        "version": CACHE_VERSION,
        "base_url": BASE,
        "fetched_at": FETCHED.isoformat(),
        "models": [{"id": "gpt-4o"}],
    }


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{not json",
        "[]",
        "null",
        json.dumps({**valid_document(), "version": CACHE_VERSION + 1}),
        json.dumps({**valid_document(), "version": None}),
        json.dumps({**valid_document(), "base_url": 3}),
        json.dumps({**valid_document(), "fetched_at": "yesterday"}),
        json.dumps({**valid_document(), "fetched_at": "2025-06-01T12:30:00"}),
        json.dumps({**valid_document(), "models": {"id": "x"}}),
        json.dumps({**valid_document(), "models": ["gpt-4o"]}),
        json.dumps({**valid_document(), "models": [{"id": ""}]}),
        json.dumps({**valid_document(), "models": [{"owned_by": "x"}]}),
        "[" * 100_000,
    ],
)
def test_a_corrupt_cache_is_ignored(tmp_path: Path, content: str) -> None:
    path = tmp_path / "models.json"
    path.write_text(content, encoding="utf-8")
    assert load_cached_models(path, base_url=BASE) is None


def test_the_valid_document_loads(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps(valid_document()), encoding="utf-8")
    cached = load_cached_models(path, base_url=BASE)
    assert cached is not None
    assert ids(list(cached.models)) == ["gpt-4o"]


def test_unreadable_caches_are_ignored(tmp_path: Path) -> None:
    assert load_cached_models(tmp_path / "missing.json") is None
    assert load_cached_models(tmp_path) is None  # a directory
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert load_cached_models(binary) is None


def test_saving_where_it_cannot_be_written_returns_none(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert save_cached_models(server_models(), BASE, blocker / "models.json") is None


def test_import_does_no_io_and_no_textual() -> None:
    code = (
        "import builtins, sys\nopened = []\nreal = builtins.open\n"
        "builtins.open = lambda *a, **k: opened.append(a) or real(*a, **k)\n"
        "import studio.models, studio.model_cache, studio.fuzzy\nprint(opened)\nprint('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "False"]
