"""The disk cache of the model list: what ``GET /v1/models`` last answered, and from where.

Nothing here does I/O at import time or imports Textual. The model picker shows
:func:`load_cached_models` at once while a worker fetches a fresh list, then stores it with
:func:`save_cached_models`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
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
