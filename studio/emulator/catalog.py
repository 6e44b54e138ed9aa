"""The model catalogue served by ``GET /v1/models``, read from package data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

MODELS_CREATED = 1626777600
"""The fixed ``created`` value new-api writes for every model."""

_REASONING_HINTS = ("thinking", "reasoner", "-r1")


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One model: its public listing plus the emulator's rules for it."""

    id: str
    family: str
    owned_by: str
    endpoint_types: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def reasons_by_default(self) -> bool:
        """Reasoning models stream ``reasoning_content`` before the answer."""
        return any(hint in self.id for hint in _REASONING_HINTS)

    def listing(self) -> dict[str, Any]:
        """The entry as ``GET /v1/models`` shows it."""
        return {
            "id": self.id,
            "object": "model",
            "created": MODELS_CREATED,
            "owned_by": self.owned_by,
            "supported_endpoint_types": list(self.endpoint_types),
        }


class Catalog:
    """All models by id, grouped by family (``chat``, ``seedream``, ``seedance``, ``kling``)."""

    def __init__(self, entries: list[ModelEntry]) -> None:
        self.entries = entries
        self._by_id = {e.id: e for e in entries}

    @classmethod
    def load(cls) -> Catalog:
        """Read ``data/models.json`` from the package."""
        raw = resources.files("studio.emulator").joinpath("data/models.json").read_text("utf-8")
        data: dict[str, list[dict[str, Any]]] = json.loads(raw)
        entries: list[ModelEntry] = []
        for family, models in data.items():
            for item in models:
                known = {"id", "owned_by", "supported_endpoint_types"}
                entries.append(
                    ModelEntry(
                        id=item["id"],
                        family=family,
                        owned_by=item["owned_by"],
                        endpoint_types=tuple(item["supported_endpoint_types"]),
                        extra={k: v for k, v in item.items() if k not in known},
                    )
                )
        return cls(entries)

    def get(self, model_id: object, family: str) -> ModelEntry | None:
        """The model if ``model_id`` names one of ``family``."""
        if not isinstance(model_id, str):
            return None
        entry = self._by_id.get(model_id)
        return entry if entry is not None and entry.family == family else None

    def ids(self, family: str) -> list[str]:
        """Every model id of ``family``, in catalogue order."""
        return [e.id for e in self.entries if e.family == family]

    def listing(self) -> dict[str, Any]:
        """The body of ``GET /v1/models``."""
        return {"success": True, "object": "list", "data": [e.listing() for e in self.entries]}
