"""The model catalogue behind the model picker: capabilities, fuzzy ranking and a disk cache.

Nothing here does I/O at import time or imports Textual. The TUI fetches ``GET /v1/models`` in a
worker, shows :func:`load_cached_models` first, ranks with :func:`rank_models` as the user types
and stores a fresh list with :func:`save_cached_models`.
"""

from __future__ import annotations

import enum
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from studio import paths
from studio.api.types import ModelInfo

CACHE_FILE_NAME = "models.json"
CACHE_VERSION = 1
CACHE_MAX_BYTES = 16 * 1024 * 1024
"""A cache file larger than this is treated as corrupt rather than read."""


class Capability(enum.StrEnum):
    """What a model can do, as shown by badges in the model picker."""

    CHAT = "chat"
    VISION = "vision"
    IMAGE = "image"
    VIDEO = "video"
    REASONING = "reasoning"


_CHAT_ENDPOINTS = frozenset({"openai", "anthropic", "gemini", "openai-response"})

_VISION = re.compile(
    r"""^(?:
        gpt-4o | gpt-4\.1 | gpt-4-1 | gpt-5
      | claude-3 | claude-sonnet | claude-opus | claude-haiku | claude-[a-z]+-4
      | gemini
      | qwen[^/]*-vl
      | doubao-seed-
    )""",
    re.VERBOSE,
)
_REASONING = re.compile(
    r"""^deepseek-r1 | reasoner | (?<!non-)(?<!no-)(?<!no)thinking
      | ^o[134](?![0-9a-z]) | ^gpt-5 | ^qwq""",
    re.VERBOSE,
)
_IMAGE = re.compile(r"seedream | ^gpt-image | ^dall-e | ^imagen | ^gemini[^/]*-image", re.VERBOSE)
_VIDEO = re.compile(r"seedance | ^kling | ^sora | ^veo", re.VERBOSE)


def capabilities(model: ModelInfo) -> frozenset[Capability]:
    """What ``model`` can do, from its endpoint types and the family its name belongs to.

    Matching is case-insensitive and uses the last ``/``-separated part of the id, so
    ``vendor/gpt-4o`` counts as ``gpt-4o``.

    From ``supported_endpoint_types``:
      ``openai``, ``anthropic``, ``gemini``, ``openai-response`` → chat;
      ``image-generation`` and Midjourney's ``mj-*`` → image; ``video`` → video.

    From the name (``*`` is anything; without a leading ``*`` the id must start with it):
      image: ``*seedream*``, ``gpt-image*``, ``dall-e*``, ``imagen*``, ``gemini*-image*``;
      video: ``*seedance*``, ``kling*``, ``sora*``, ``veo*``;
      vision (chat models only): ``gpt-4o*``, ``gpt-4.1*``, ``gpt-4-1*``, ``gpt-5*``, Claude 3
      and later (``claude-3*``, ``claude-sonnet*``, ``claude-opus*``, ``claude-haiku*``,
      ``claude-<name>-4*``), ``gemini*``, ``qwen*-vl*``, ``doubao-seed-*`` (not Seedream or
      Seedance);
      reasoning (chat models only): ``deepseek-r1*``, ``*reasoner*``, ``*thinking*`` (but not
      ``non-thinking`` / ``no-thinking`` / ``nothinking``), ``o1``/``o3``/``o4`` and their
      variants (``o3-mini``, ``o4-mini``...), ``gpt-5*``, ``qwq*``.

    Chat also applies when the endpoint types name nothing known (missing, empty or only unknown
    types) and the name gives neither image nor video.
    """
    name = model.id.strip().lower().rsplit("/", 1)[-1]
    types = {t.strip().lower() for t in model.endpoint_types}
    found: set[Capability] = set()
    known_types = False
    for kind in types:
        if kind in _CHAT_ENDPOINTS:
            found.add(Capability.CHAT)
        elif kind == "image-generation" or kind.startswith("mj-"):
            found.add(Capability.IMAGE)
        elif kind == "video":
            found.add(Capability.VIDEO)
        else:
            continue
        known_types = True
    if _IMAGE.search(name):
        found.add(Capability.IMAGE)
    if _VIDEO.search(name):
        found.add(Capability.VIDEO)
    if not known_types and not found & {Capability.IMAGE, Capability.VIDEO}:
        found.add(Capability.CHAT)
    if Capability.CHAT in found:
        if _VISION.search(name):
            found.add(Capability.VISION)
        if _REASONING.search(name):
            found.add(Capability.REASONING)
    return frozenset(found)


# Fuzzy matching ---------------------------------------------------------------------------------

SCORE_MATCH = 16.0
"""Every matched character."""
BONUS_BOUNDARY = 8.0
"""A match at the start of the text or right after a separator (``-``, ``_``, ``.``, ``/``...)."""
BONUS_TRANSITION = 7.0
"""A match where letters turn into digits or back, or lower case into upper case."""
BONUS_CONSECUTIVE = 6.0
"""A match right after the previous one."""
FIRST_CHAR_MULTIPLIER = 2.0
"""The first query character's position bonus counts this many times (rewards prefixes)."""
GAP_START = 3.0
GAP_EXTEND = 1.0
GAP_MAX = 11.0
"""A gap between two matches costs GAP_START + GAP_EXTEND per further skipped character, at most
GAP_MAX, which keeps every match's score positive."""
LEADING_PENALTY = 0.25
LEADING_MAX = 20
"""Skipped characters before the first match cost LEADING_PENALTY each (up to LEADING_MAX)."""
LENGTH_PENALTY = 0.1
LENGTH_MAX = 100
"""Each character of the text costs LENGTH_PENALTY (up to LENGTH_MAX): shorter texts win ties."""


def _position_bonus(text: str, index: int) -> float:
    """How much a match at ``text[index]`` is worth beyond SCORE_MATCH (word starts)."""
    if index == 0:
        return BONUS_BOUNDARY
    before, here = text[index - 1], text[index]
    if not before.isalnum():
        return BONUS_BOUNDARY if here.isalnum() else 0.0
    if before.isdigit() != here.isdigit() and here.isalnum():
        return BONUS_TRANSITION
    if before.islower() and here.isupper():
        return BONUS_TRANSITION
    return 0.0


def _gap_cost(gap: int) -> float:
    return min(GAP_START + GAP_EXTEND * (gap - 1), GAP_MAX)


def _is_subsequence(query: Sequence[str], text: Sequence[str]) -> bool:
    position = 0
    for char in query:
        while position < len(text) and text[position] != char:
            position += 1
        if position == len(text):
            return False
        position += 1
    return True


def _align(query: str, text: str) -> tuple[float, list[int]] | None:
    """The best-scoring way to find ``query`` in ``text`` in order: its score and positions."""
    folded_query = [char.lower() for char in query]
    folded_text = [char.lower() for char in text]
    m, n = len(folded_query), len(folded_text)
    if m == 0:
        return 0.0, []
    if m > n or not _is_subsequence(folded_query, folded_text):
        return None
    bonus = [_position_bonus(text, j) for j in range(n)]
    unreachable = float("-inf")
    # best[i][j]: the best score of query[: i + 1] with query[i] matched at text[j];
    # came_from[i][j]: where query[i - 1] was matched on that best path.
    best: list[list[float]] = []
    came_from: list[list[int]] = []
    window = int((GAP_MAX - GAP_START) / GAP_EXTEND) + 1  # gaps shorter than this cost less
    for i in range(m):
        previous = best[i - 1] if i else []
        # far_best[k]: where previous[: k + 1] peaks (for gaps that all cost GAP_MAX).
        far_best: list[int] = []
        for k, value in enumerate(previous):
            far_best.append(k if not far_best or value > previous[far_best[-1]] else far_best[-1])
        row = [unreachable] * n
        links = [-1] * n
        last_start = n - (m - i)  # leave room for the rest of the query
        for j in range(i, last_start + 1):
            if folded_text[j] != folded_query[i]:
                continue
            if i == 0:
                leading = min(j, LEADING_MAX) * LEADING_PENALTY
                row[j] = SCORE_MATCH + FIRST_CHAR_MULTIPLIER * bonus[j] - leading
                continue
            candidate, link = unreachable, -1
            if j >= 1 and previous[j - 1] > unreachable:
                candidate, link = previous[j - 1] + BONUS_CONSECUTIVE, j - 1
            # A gap of g >= 1 skipped characters: k = j - 1 - g.
            for k in range(j - 2, -1, -1):
                gap = j - 1 - k
                if gap > window:
                    break
                if previous[k] > unreachable and previous[k] - _gap_cost(gap) > candidate:
                    candidate, link = previous[k] - _gap_cost(gap), k
            far_end = j - 2 - window  # every k up to here costs GAP_MAX
            if far_end >= 0:
                k = far_best[far_end]
                if previous[k] > unreachable and previous[k] - GAP_MAX > candidate:
                    candidate, link = previous[k] - GAP_MAX, k
            if link >= 0:
                row[j] = candidate + SCORE_MATCH + bonus[j]
                links[j] = link
        best.append(row)
        came_from.append(links)
    last = max(range(n), key=best[m - 1].__getitem__)
    score = best[m - 1][last]
    if score == unreachable:  # pragma: no cover - the subsequence check rules this out
        return None
    positions = [last]
    for i in range(m - 1, 0, -1):
        positions.append(came_from[i][positions[-1]])
    positions.reverse()
    return score - min(n, LENGTH_MAX) * LENGTH_PENALTY, positions


def fuzzy_score(query: str, text: str) -> float | None:
    """How well ``query`` matches ``text`` as a fuzzy subsequence; higher is better.

    ``None`` when the characters of ``query`` do not all appear in ``text`` in order (compared
    case-insensitively, one character at a time); ``0.0`` for an empty query; otherwise a positive
    score of the best alignment, which rewards contiguous runs, matches at word starts (after
    ``-``, ``_``, ``.``, ``/``, spaces, and where letters and digits meet), a match at the very
    start, few and short gaps, and shorter texts.
    """
    aligned = _align(query, text)
    return None if aligned is None else aligned[0]


def fuzzy_positions(query: str, text: str) -> list[int]:
    """The indices of ``text`` matched by ``query`` in the best alignment (for highlighting).

    Strictly increasing, one per query character; empty when ``query`` is empty or does not
    match.
    """
    aligned = _align(query, text)
    return [] if aligned is None else aligned[1]


OWNER_WEIGHT = 0.5
"""A query term that matches only ``owned_by`` scores this fraction of a match on the id."""
FAVOURITE_BOOST = 8.0
CURRENT_BOOST = 1.0
_SEPARATORS = re.compile(r"[-_./: ]+")


def _term_score(term: str, model: ModelInfo) -> float | None:
    """The best score of one query term against ``model``'s id, else its owner (weighted)."""
    candidates = [term]
    loose = _SEPARATORS.sub("", term)
    if loose and loose != term:
        candidates.append(loose)  # "4.5" should find "4-5"
    for candidate in candidates:
        on_id = fuzzy_score(candidate, model.id)
        on_owner = fuzzy_score(candidate, model.owned_by) if model.owned_by else None
        scores: list[float] = []
        if on_id is not None:
            scores.append(on_id)
        if on_owner is not None:
            scores.append(on_owner * OWNER_WEIGHT)
        if scores:
            return max(scores)
    return None


def _unique(models: Iterable[ModelInfo]) -> list[ModelInfo]:
    seen: set[str] = set()
    result: list[ModelInfo] = []
    for model in models:
        if model.id not in seen:
            seen.add(model.id)
            result.append(model)
    return result


def _alphabetical(model: ModelInfo) -> tuple[str, str]:
    return model.id.casefold(), model.id


def rank_models(
    models: Iterable[ModelInfo],
    query: str,
    *,
    favourites: Sequence[str] = (),
    current: str | None = None,
) -> list[ModelInfo]:
    """The models to list in the picker for ``query``, best first (duplicate ids dropped).

    With a blank query: the favourites present, in their configured order, then every other model
    alphabetically. With a query: only models that match, by fuzzy score. The query is split on
    whitespace into terms that must all match, each against the id or, weighted by
    ``OWNER_WEIGHT``, ``owned_by``; a term that fails as typed is retried without separators.
    Favourites get a small boost (``FAVOURITE_BOOST``) and the ``current`` model a smaller one
    that mostly breaks ties; remaining ties go alphabetically.
    """
    unique = _unique(models)
    terms = query.split()
    if not terms:
        by_id = {model.id: model for model in unique}
        pinned = [by_id[name] for name in dict.fromkeys(favourites) if name in by_id]
        pinned_ids = {model.id for model in pinned}
        rest = sorted((m for m in unique if m.id not in pinned_ids), key=_alphabetical)
        return pinned + rest
    favourite_ids = set(favourites)
    scored: list[tuple[float, ModelInfo]] = []
    for model in unique:
        total = 0.0
        for term in terms:
            score = _term_score(term, model)
            if score is None:
                break
            total += score
        else:
            if model.id in favourite_ids:
                total += FAVOURITE_BOOST
            if current is not None and model.id == current:
                total += CURRENT_BOOST
            scored.append((total, model))
    scored.sort(key=lambda pair: (-pair[0], *_alphabetical(pair[1])))
    return [model for _, model in scored]


# The disk cache ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CachedModels:
    """A model list saved by :func:`save_cached_models`: what ``base_url`` answered, and when."""

    models: tuple[ModelInfo, ...]
    fetched_at: datetime
    base_url: str

    def age(self, now: datetime | None = None) -> timedelta:
        """How long ago the list was fetched."""
        return (now or datetime.now(UTC)) - self.fetched_at


def default_cache_path() -> Path:
    """Where the model list is cached: ``paths.cache_dir()/models.json``."""
    return paths.cache_dir() / CACHE_FILE_NAME


def _base_key(base_url: str) -> str:
    """``base_url`` as a cache key: surrounding space and trailing slashes do not matter."""
    return base_url.strip().rstrip("/")


def _model_json(model: ModelInfo) -> dict[str, Any]:
    """The JSON to store for ``model``: its raw server JSON when that still describes it."""
    if model.raw and ModelInfo.from_json(model.raw) == model:
        try:
            json.dumps(model.raw)
        except (TypeError, ValueError):
            pass
        else:
            return model.raw
    data = dict(model.raw)
    data.update(
        id=model.id,
        owned_by=model.owned_by,
        supported_endpoint_types=list(model.endpoint_types),
    )
    return data


def save_cached_models(
    models: Iterable[ModelInfo],
    base_url: str,
    path: Path | None = None,
    *,
    now: datetime | None = None,
) -> Path | None:
    """Store ``models`` as the answer of ``base_url``; return the file, or ``None`` on failure.

    The file (default :func:`default_cache_path`) is replaced atomically (a temporary file in the
    same directory, flushed, then renamed), is owner-only, and keeps each model's raw JSON so
    ``ModelInfo.from_json`` rebuilds it. A cache is best-effort: failures are reported by the
    ``None`` result, never raised.
    """
    target = default_cache_path() if path is None else Path(path)
    fetched_at = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        document = {
            "version": CACHE_VERSION,
            "base_url": _base_key(base_url),
            "fetched_at": fetched_at.isoformat(),
            "models": [_model_json(model) for model in models],
        }
        text = json.dumps(document, ensure_ascii=False, indent=1)
        paths.ensure_dir(target.parent)
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        return None
    return target


def load_cached_models(
    path: Path | None = None, *, base_url: str | None = None
) -> CachedModels | None:
    """The cached model list, or ``None`` when there is none usable; never raises.

    ``None`` when the file (default :func:`default_cache_path`) is missing, unreadable, corrupt,
    of another format version, or, when ``base_url`` is given, was fetched from another gateway.
    """
    target = default_cache_path() if path is None else Path(path)
    try:
        if target.stat().st_size > CACHE_MAX_BYTES:
            return None
        document = json.loads(target.read_text(encoding="utf-8"))
        return _parse_cache(document, base_url)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, RecursionError):
        return None


def _parse_cache(document: Any, base_url: str | None) -> CachedModels | None:
    """The :class:`CachedModels` in a decoded cache file, or ``None`` if it is not one."""
    if not isinstance(document, dict) or document.get("version") != CACHE_VERSION:
        return None
    stored_url = document.get("base_url")
    stamp = document.get("fetched_at")
    entries = document.get("models")
    if not isinstance(stored_url, str) or not isinstance(stamp, str):
        return None
    if not isinstance(entries, list):
        return None
    if base_url is not None and _base_key(base_url) != _base_key(stored_url):
        return None
    fetched_at = datetime.fromisoformat(stamp)
    if fetched_at.tzinfo is None:
        return None
    models: list[ModelInfo] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            return None
        models.append(ModelInfo.from_json(entry))
    return CachedModels(tuple(models), fetched_at, stored_url)
