"""The emulator's shared state and the per-request context handed to endpoint code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from studio.emulator.catalog import Catalog, ModelEntry
from studio.emulator.config import (
    Directives,
    EmulatorConfig,
    Fault,
    RequestKind,
    Slot,
    check_applies,
    kinds_under,
    parse_fault,
    parse_standing_fault,
)
from studio.emulator.responses import (
    ApiError,
    Family,
    Lifecycle,
    invalid_request,
    model_not_found,
)
from studio.emulator.store import FaultBoard, FileStore, RequestLog, RequestRecord, TaskStore


class EmulatorState:
    """Everything one emulator instance remembers: config, faults, log, files, tasks.

    ``api_key`` is the accepted key; ``None`` accepts any non-empty key.
    """

    def __init__(self, config: EmulatorConfig, api_key: str | None = None) -> None:
        self.config = config
        self.api_key = api_key if api_key is not None else config.api_key
        self.catalog = Catalog.load()
        self.faults = FaultBoard([parse_standing_fault(f) for f in config.faults])
        self.log = RequestLog()
        kept = Path(config.data_dir) if config.data_dir else None
        self.files = FileStore(folder=kept / "files" if kept else None)
        self.tasks = TaskStore(folder=kept / "tasks" if kept else None)
        self.lifecycle = Lifecycle()

    def inject(self, spec: str, count: int | None = 1, path: str = "/") -> None:
        """Queue an emulator-wide fault for the next ``count`` requests (``None``: until
        cleared) whose path starts with ``path``. Raises ``ValueError`` for a bad spec."""
        fault = parse_fault(spec)
        check_applies(fault, kinds_under(path or "/"), f"requests under {path or '/'}")
        self.faults.inject(fault, count, path)

    def clear_faults(self) -> int:
        """Remove every emulator-wide fault, including those from the config."""
        return self.faults.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log."""
        return self.log.snapshot()


@dataclass(slots=True)
class Call:
    """One request as endpoint code sees it: parsed body, directives and chosen faults."""

    request: Request
    state: EmulatorState
    body: Any
    directives: Directives
    faults: dict[Slot, Fault]
    kind: RequestKind
    family: Family
    request_id: str

    @property
    def config(self) -> EmulatorConfig:
        """The emulator's configuration."""
        return self.state.config

    async def answer_delay(self) -> None:
        """Wait the seconds of a ``delay=S`` directive (divided by ``speed``) before answering, as
        a slow gateway does; raises ``ShuttingDown`` at once when the server stops."""
        if self.directives.delay:
            await self.state.lifecycle.sleep(self.config.delay(self.directives.delay))

    def fault(self, slot: Slot) -> Fault | None:
        """The fault chosen for ``slot``, if any."""
        return self.faults.get(slot)

    def openai_model(self, family: str) -> tuple[dict[str, Any], ModelEntry]:
        """The JSON object body of an OpenAI-style request and the ``family`` model it names.

        Raises :class:`ApiError`: a 400 when the body or its ``model`` is missing, the
        gateway's 503 ``model_not_found`` when no model of ``family`` has that name.
        """
        body = self.body
        if not isinstance(body, dict):
            raise ApiError(invalid_request("openai", "the request body must be a JSON object"))
        model_id = body.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise ApiError(invalid_request("openai", "model is required"))
        model = self.state.catalog.get(model_id, family)
        if model is None:
            raise ApiError(model_not_found("openai", model_id, self.request_id))
        return body, model

    def file_url(self, name: str, query: str) -> str:
        """An absolute link to ``/files/<name>`` on the host the client used."""
        base = str(self.request.base_url).rstrip("/")
        return f"{base}/files/{name}?{query}"
