"""Meaningful names for saved results, and the sidecar JSON written beside each one.

A name reads ``<YYYYmmdd-HHMMSS>-<kind>-<prompt slug>-<task id tail>[-N].<ext>``: when the job
was created (local time), image or video, the first words of the prompt, the end of the task id
(so two results of one prompt differ), the item number in an image group, and the extension from
the link or the content type.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from collections.abc import Collection, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from studio.api.download import PART_SUFFIX
from studio.store.job_records import Job, JobFile, JobKind

SIDECAR_SUFFIX = ".json"
SLUG_LENGTH = 40
_MARKERS = re.compile(r"\[\[.*?\]\]", re.DOTALL)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_TAIL_CHARS = re.compile(r"[^A-Za-z0-9]")

CONTENT_TYPES: dict[str, str] = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "image/png": ".png",
    "image/jpeg": ".jpeg",
    "image/jpg": ".jpeg",
    "image/webp": ".webp",
    "image/gif": ".gif",
}
KNOWN_EXTENSIONS = frozenset({*CONTENT_TYPES.values(), ".jpg"})
DEFAULT_EXTENSION = {JobKind.IMAGE: ".png", JobKind.VIDEO: ".mp4"}


def slugify(prompt: str, length: int = SLUG_LENGTH) -> str:
    """The first words of ``prompt`` as ``lower-case-words`` (letters of any script kept),
    cut at a word boundary; ``untitled`` when nothing is left."""
    text = unicodedata.normalize("NFKC", _MARKERS.sub(" ", prompt)).casefold()
    words = [w for w in _NOT_WORD.split(text) if w]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > length:
            if not slug:
                slug = word[:length]
            break
        slug = candidate
    return slug or "untitled"


def task_tail(task_id: str | None, job_id: int, length: int = 6) -> str:
    """The last ``length`` letters and digits of the task id (``j<job id>`` without one)."""
    clean = _TAIL_CHARS.sub("", task_id or "")
    return clean[-length:] if clean else f"j{job_id}"


def extension_from_url(url: str | None) -> str | None:
    """The file extension of a link's path, when it is a known media type."""
    if not url:
        return None
    suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()
    return suffix if suffix in KNOWN_EXTENSIONS else None


def extension_for(url: str | None, content_type: str | None, kind: JobKind) -> str:
    """The extension for a result: from the content type, else the link, else by kind."""
    if content_type:
        found = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
        if found:
            return found
    return extension_from_url(url) or DEFAULT_EXTENSION[kind]


def base_name(job: Job, index: int | None = None) -> str:
    """The name of a result without extension; ``index`` (0-based) numbers group items."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(job.created_at))
    name = f"{stamp}-{job.kind.value}-{slugify(job.prompt)}-{task_tail(job.task_id, job.id)}"
    return name if index is None else f"{name}-{index + 1}"


def unique_path(folder: Path, stem: str, ext: str, taken: Collection[str] = ()) -> Path:
    """``folder/stem.ext``, or ``stem-2.ext``, ``stem-3.ext``… when that name is in use on
    disk (as a file, a partial download or a sidecar) or in ``taken``."""
    number = 1
    while True:
        name = f"{stem}{ext}" if number == 1 else f"{stem}-{number}{ext}"
        path = folder / name
        busy = name in taken or any(
            p.exists() for p in (path, sidecar_path(path), path.with_name(name + PART_SUFFIX))
        )
        if not busy:
            return path
        number += 1


def sidecar_path(path: Path) -> Path:
    """Where the sidecar of a result lives: ``<file>.json``."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _iso(value: float | None) -> str | None:
    if value is None:
        return None
    return dt.datetime.fromtimestamp(value).astimezone().isoformat(timespec="seconds")


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def summarise(value: Any) -> Any:
    """Parameters fit for a sidecar: inline images (data URIs, long base64) become a short
    description instead of megabytes of text."""
    if isinstance(value, Mapping):
        return {str(k): summarise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [summarise(v) for v in value]
    if isinstance(value, str) and value.startswith("data:") and "," in value:
        header, _, payload = value.partition(",")
        return f"<{header[5:].split(';')[0] or 'data'} inline, {len(payload) * 3 // 4} bytes>"
    if isinstance(value, str) and len(value) > 512 and " " not in value:
        return f"<inline data, {len(value)} characters>"
    return value


def sidecar(job: Job, file: JobFile, saved_at: float) -> dict[str, Any]:
    """What the sidecar of one result records (never the API key: it is not in a job)."""
    return {
        "file": Path(file.path).name,
        "prompt": job.prompt,
        "model": job.model,
        "provider": job.provider.value,
        "action": job.action,
        "kind": job.kind.value,
        "parameters": summarise(job.params),
        "task_id": job.task_id,
        "job_id": job.id,
        "item": file.index + 1,
        "source_url": file.url,
        "size": file.size,
        "content_type": file.content_type,
        "conversation_id": job.conversation_id,
        "created_at": _iso(job.created_at),
        "submitted_at": _iso(job.submitted_at),
        "finished_at": _iso(_float(job.result.get("finished_at")) or job.finished_at),
        "saved_at": _iso(saved_at),
        "links_expire_at": _iso(job.urls_expire_at),
    }
