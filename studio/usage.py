"""Token accounting of a reply: parsed by the client (:func:`studio.api.types.usage_from_json`),
persisted by the store, shown by both surfaces. A leaf (no imports from Studio), so the client
and the store, independent siblings, share it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Usage:
    """Token accounting of one chat reply (or one image generation)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
