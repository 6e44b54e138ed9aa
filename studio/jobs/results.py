"""Saving a job's results in the media folder: planning names, downloading (or writing inline
images), sidecars, and deleting them again."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from studio import paths
from studio.api.download import (
    Downloader,
    DownloadError,
    ProgressCallback,
    RetryCallback,
    part_path,
)
from studio.api.media import sniff_mime
from studio.jobs.naming import (
    DEFAULT_EXTENSION,
    base_name,
    extension_for,
    extension_from_url,
    sidecar,
    sidecar_path,
    unique_path,
)
from studio.store.job_records import Job, JobFile

FILE_MODE = 0o600


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsynced and renamed into place."""
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


class ResultSaver:
    """Puts results of jobs in ``media_dir``, at most ``limit`` downloads at a time."""

    def __init__(
        self, downloader: Downloader, media_dir: Path, limit: int, clock: Callable[[], float]
    ) -> None:
        self.downloader = downloader
        self.media_dir = media_dir
        self._slots = asyncio.Semaphore(max(1, limit))
        self._clock = clock

    def folder(self) -> Path:
        """The media folder, created owner-only when missing."""
        return paths.ensure_dir(self.media_dir)

    def plan(self, job: Job, items: Sequence[tuple[int, str | None]]) -> tuple[JobFile, ...]:
        """Choose a free, meaningful path for each ``(index, url)`` result (url ``None`` for
        inline data). Items of an image group are numbered."""
        folder = self.folder()
        group = len(items) > 1 or any(index > 0 for index, _ in items)
        taken: set[str] = set()
        planned: list[JobFile] = []
        for index, url in items:
            ext = extension_from_url(url) or DEFAULT_EXTENSION[job.kind]
            path = unique_path(folder, base_name(job, index if group else None), ext, taken)
            taken.add(path.name)
            planned.append(JobFile(index=index, url=url, path=str(path)))
        return tuple(planned)

    def save_inline(self, job: Job, file: JobFile, b64: str) -> JobFile:
        """Write an image the gateway sent inline (``b64_json``)."""
        try:
            data = base64.b64decode(b64, validate=False)
        except (binascii.Error, ValueError):
            return dataclasses.replace(file, error="the inline image is not valid base64")
        content_type = sniff_mime(data)
        path = Path(file.path)
        wanted = extension_for(None, content_type, job.kind)
        if path.suffix != wanted:
            path = unique_path(path.parent, path.stem, wanted)
        write_atomic(path, data)
        saved = dataclasses.replace(
            file, path=str(path), size=len(data), done=True, error=None, content_type=content_type
        )
        self.write_sidecar(job, saved)
        return saved

    async def fetch(
        self,
        job: Job,
        file: JobFile,
        *,
        on_progress: ProgressCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> JobFile:
        """Download one result (resuming a partial file) and write its sidecar; the returned
        entry is ``done``, or carries the ``error`` that stopped it. ``on_progress(done,
        total)`` is called as bytes reach the disk (``total`` None while unknown),
        ``on_retry(error, pause)`` before a failed attempt is tried again."""
        earlier = self._saved_earlier(job, file)
        if earlier is not None:
            return earlier
        dest = Path(file.path)
        if not file.url:
            return dataclasses.replace(file, error="there is no link to download it from")
        async with self._slots:
            try:
                got = await self.downloader.fetch(
                    file.url, dest, on_progress=on_progress, on_retry=on_retry
                )
            except DownloadError as err:
                return dataclasses.replace(file, error=str(err))
            except OSError as err:  # the folder vanished, the disk is full, ...
                return dataclasses.replace(file, error=f"the file could not be written: {err}")
        if extension_from_url(file.url) is None:
            wanted = extension_for(None, got.content_type, job.kind)
            if wanted != dest.suffix:
                renamed = unique_path(dest.parent, dest.stem, wanted)
                os.replace(dest, renamed)
                dest = renamed
        saved = dataclasses.replace(
            file,
            path=str(dest),
            size=got.size,
            done=True,
            error=None,
            content_type=got.content_type,
        )
        self.write_sidecar(job, saved)
        return saved

    def _saved_earlier(self, job: Job, file: JobFile) -> JobFile | None:
        """The entry of a result an earlier run finished (renamed into place), if any; its
        sidecar is written if that run stopped just before."""
        dest = Path(file.path)
        if not dest.exists() or part_path(dest).exists():
            return None
        saved = dataclasses.replace(file, size=dest.stat().st_size, done=True, error=None)
        if not sidecar_path(dest).exists():
            self.write_sidecar(job, saved)
        return saved

    def write_sidecar(self, job: Job, file: JobFile) -> None:
        """Write ``<file>.json`` describing how the result was made."""
        record = sidecar(job, file, self._clock())
        text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        write_atomic(sidecar_path(Path(file.path)), text.encode("utf-8"))

    def delete(self, job: Job, *, results: bool) -> list[Path]:
        """Delete partial downloads of ``job`` and, with ``results``, its saved files and
        sidecars; return what was deleted."""
        removed: list[Path] = []
        for file in job.files:
            path = Path(file.path)
            doomed = [part_path(path)]
            if results:
                doomed += [path, sidecar_path(path)]
            for candidate in doomed:
                with contextlib.suppress(FileNotFoundError):
                    candidate.unlink()
                    removed.append(candidate)
        return removed
