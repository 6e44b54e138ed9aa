"""The model catalogue behind the model picker: capabilities and ranking for a typed query.

Nothing here does I/O at import time or imports Textual. The picker ranks with
:func:`rank_models` as the user types (fuzzy matching in :mod:`studio.fuzzy`) and badges each
model with its :func:`capabilities`; the list itself is cached by :mod:`studio.model_cache`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence

from studio.api.types import ModelInfo
from studio.fuzzy import fuzzy_score


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


# Ranking ----------------------------------------------------------------------------------------

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
