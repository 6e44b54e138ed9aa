"""Thread-safe stores: queued faults, the request log, generated files, video tasks.

The server runs on its own thread while tests call :meth:`FaultBoard.inject` or read the log
from the main thread, hence the locks (each held only for a few dictionary operations).

Files and tasks live in memory, and also in a folder when one is given (``--demo`` keeps them in
Studio's data dir): a task created by one process is then known to the next, and to another
process running at the same time, exactly as with the real gateway. Entries older than the
gateway's 24-hour link lifetime are pruned when a store opens.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from studio.emulator.config import Dialect, Fault, RequestKind, Slot, StandingFault


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the emulator received. ``status`` is 0 when the connection was dropped
    before any answer was sent."""

    method: str
    path: str
    status: int
    idempotency_key: str | None
    at: float


class RequestLog:
    """Every request received, in the order their answers started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        """Record one request."""
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the log."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()


@dataclass(slots=True)
class _QueuedFault:
    fault: Fault
    remaining: int | None
    path: str


class FaultBoard:
    """Emulator-wide faults: queued ones (``inject``) before standing ones (the config).

    For each request, per-request faults come first, then queued, then standing; within each
    :class:`Slot` only the first applicable fault is used, and only used faults are consumed.
    """

    def __init__(self, standing: list[StandingFault]) -> None:
        self._lock = threading.Lock()
        self._queued: list[_QueuedFault] = []
        self._standing = [_QueuedFault(s.fault, s.count, s.path) for s in standing]

    def inject(self, fault: Fault, count: int | None = 1, path: str = "/") -> None:
        """Queue ``fault`` for ``count`` requests (``None``: until cleared) under ``path``."""
        if count is not None and count < 1:
            raise ValueError("count must be at least 1, or None for 'until cleared'")
        with self._lock:
            self._queued.append(_QueuedFault(fault, count, path or "/"))

    def clear(self) -> int:
        """Remove every emulator-wide fault (queued and standing); return how many."""
        with self._lock:
            removed = len(self._queued) + len(self._standing)
            self._queued.clear()
            self._standing.clear()
            return removed

    def describe(self) -> list[dict[str, Any]]:
        """The active faults as JSON-ready dicts (queued first)."""
        with self._lock:
            return [
                {"spec": q.fault.spec, "count": q.remaining, "path": q.path}
                for q in (*self._queued, *self._standing)
            ]

    def select(self, path: str, kind: RequestKind, own: tuple[Fault, ...]) -> dict[Slot, Fault]:
        """The faults that apply to one request, one per slot, consuming queued ones."""
        chosen: dict[Slot, Fault] = {}
        for fault in own:
            if fault.applies_to(kind):
                chosen.setdefault(fault.slot, fault)
        with self._lock:
            for pool in (self._queued, self._standing):
                for entry in list(pool):
                    fault = entry.fault
                    if fault.slot in chosen or not fault.applies_to(kind):
                        continue
                    if not path.startswith(entry.path):
                        continue
                    chosen[fault.slot] = fault
                    if entry.remaining is not None:
                        entry.remaining -= 1
                        if entry.remaining <= 0:
                            pool.remove(entry)
        return chosen


KEEP_SECONDS = 24 * 3600
"""How long a kept file or task outlives its process: the gateway's result links last 24 h."""

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _prune(folder: Path, older_than: float) -> None:
    """Remove the entries of ``folder`` last written before ``older_than`` (a wall time)."""
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            with contextlib.suppress(OSError):
                if entry.is_file() and entry.stat().st_mtime < older_than:
                    entry.unlink()


class FileStore:
    """Generated files by name, oldest evicted first beyond a size budget.

    With a ``folder``, every file is also written there and read back from it when this process
    does not have it in memory (it was made by an earlier or another process).
    """

    def __init__(self, max_bytes: int = 256 * 1024 * 1024, folder: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._files: OrderedDict[str, tuple[bytes, str, int]] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0
        self._folder = folder
        if folder is not None:
            _prune(folder, time.time() - KEEP_SECONDS)

    def put(self, name: str, data: bytes, content_type: str, *, shared: bool = False) -> None:
        """Store a file. ``shared`` data (the one sample video, referenced by every video task)
        does not count towards the budget, and is never evicted: that would free nothing and
        break a finished task's link."""
        weight = 0 if shared else len(data)
        with self._lock:
            old = self._files.pop(name, None)
            if old is not None:
                self._bytes -= old[2]
            self._files[name] = (data, content_type, weight)
            self._bytes += weight
            while self._bytes > self._max_bytes:
                oldest = next((k for k, v in self._files.items() if v[2] and k != name), None)
                if oldest is None:
                    break
                self._bytes -= self._files.pop(oldest)[2]
        if self._folder is not None and _SAFE_NAME.match(name):
            kept = self._folder / name
            if not (shared and kept.exists()):
                _write_atomically(kept, data)
                _write_atomically(self._folder / f"{name}.type", content_type.encode())

    def get(self, name: str) -> tuple[bytes, str] | None:
        """The bytes and content type of a stored file."""
        with self._lock:
            found = self._files.get(name)
        if found is not None:
            return found[0], found[1]
        if self._folder is None or not _SAFE_NAME.match(name) or name.endswith(".type"):
            return None
        try:
            data = (self._folder / name).read_bytes()
            content_type = (self._folder / f"{name}.type").read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return data, content_type or "application/octet-stream"


@dataclass(slots=True)
class VideoTask:
    """One emulated video task; its visible state is derived from the clock (``started`` is a
    wall time, so a task kept on disk resumes its timeline in the next process)."""

    id: str
    provider: Literal["seedance", "kling"]
    model: str
    action: str
    created: int
    started: float
    total: float
    fails: bool
    fail_reason: str
    legacy_url: bool
    dialect: Dialect | None
    upstream_id: str
    file_name: str
    params: dict[str, Any] = field(default_factory=dict)


class TaskStore:
    """Video tasks by id; with a ``folder``, each is also kept there as a JSON file."""

    def __init__(self, folder: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, VideoTask] = {}
        self._folder = folder
        if folder is not None:
            _prune(folder, time.time() - KEEP_SECONDS)

    def add(self, task: VideoTask) -> None:
        """Remember a new task."""
        with self._lock:
            self._tasks[task.id] = task
        if self._folder is not None and _SAFE_NAME.match(task.id):
            data = json.dumps(dataclasses.asdict(task), ensure_ascii=False)
            _write_atomically(self._folder / f"{task.id}.json", data.encode())

    def get(self, task_id: str) -> VideoTask | None:
        """The task with this id, if any."""
        with self._lock:
            found = self._tasks.get(task_id)
        if found is not None or self._folder is None or not _SAFE_NAME.match(task_id):
            return found
        try:
            raw = json.loads((self._folder / f"{task_id}.json").read_text("utf-8"))
            task = VideoTask(**raw)
        except (OSError, ValueError, TypeError):
            return None
        with self._lock:
            return self._tasks.setdefault(task_id, task)

    def __len__(self) -> int:
        with self._lock:
            return len(self._tasks)
