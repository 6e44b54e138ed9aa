"""Downloading generated media from the pre-signed result links the gateway hands out.

Result URLs point at third-party storage (TOS and the like) and carry their own signature, so
they are fetched with a separate ``httpx.AsyncClient`` that never sends the API key. Each file
streams into ``<name>.part``; a later attempt (or a later run) resumes it with
``Range: bytes=<size>-`` and starts over when the server answers the whole file instead. The
size is checked against ``Content-Length`` / ``Content-Range``, the data is fsynced, and only
then is the file renamed into place, so a finished name always holds a whole file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from studio import __version__

PART_SUFFIX = ".part"
FILE_MODE = 0o600
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")
_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$")

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes saved so far, expected total or None) as a download advances."""
RetryCallback = Callable[["DownloadError", float], None]
"""Called with the error and the pause (seconds) before a failed attempt is tried again."""


class DownloadError(Exception):
    """A download that failed; ``retryable`` says whether trying again may help, ``status`` is
    the HTTP status when the server answered. An expired link answers 403 (or 404/410)."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status

    @property
    def expired(self) -> bool:
        """Whether the link looks expired or gone (no point in trying it again)."""
        return self.status in (401, 403, 404, 410)


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A file saved in full."""

    path: Path
    size: int
    content_type: str | None
    resumed: bool
    """Whether bytes from an earlier attempt (a ``.part`` file) were kept."""
    attempts: int


def part_path(dest: Path) -> Path:
    """The temporary file a download of ``dest`` streams into."""
    return dest.with_name(dest.name + PART_SUFFIX)


def parse_content_range(value: str | None) -> tuple[int, int | None] | None:
    """``(first byte, total or None)`` of a ``Content-Range: bytes a-b/N`` header."""
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None
    total = match.group(3)
    return int(match.group(1)), None if total == "*" else int(total)


class Downloader:
    """Fetches result links to files, with retries, resume and size checks.

    ``max_attempts`` counts every try of one file; the pause between tries grows from
    ``backoff_initial`` to ``backoff_max`` seconds (with jitter). Use as an async context
    manager or call :meth:`aclose`.
    """

    def __init__(
        self,
        *,
        max_attempts: int = 5,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        timeout: httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_attempts = max(1, max_attempts)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._http = httpx.AsyncClient(
            # No Authorization header, ever: these are third-party pre-signed links.
            headers={
                "User-Agent": f"anyfast-studio/{__version__}",
                "Accept-Encoding": "identity",
            },
            timeout=timeout or httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=30.0),
            follow_redirects=True,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based), jittered."""
        base = min(self.backoff_initial * 2 ** (attempt - 1), self.backoff_max)
        return float(base * (1.0 - 0.25 * random.random()))

    async def fetch(
        self,
        url: str,
        dest: str | os.PathLike[str],
        *,
        on_progress: ProgressCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> Downloaded:
        """Download ``url`` to ``dest`` (its folder must exist), resuming ``dest.part`` if an
        earlier attempt left one. Raises :class:`DownloadError` once retries are exhausted or
        the failure cannot be helped by retrying (an expired link); ``on_retry`` hears of
        each failed attempt that will be tried again."""
        target = Path(dest)
        attempt = 0
        resumed = False
        while True:
            attempt += 1
            try:
                size, content_type, kept = await self._attempt(url, target, on_progress)
            except DownloadError as err:
                if not err.retryable or attempt >= self.max_attempts:
                    raise
                pause = self.backoff(attempt)
                if on_retry is not None:
                    on_retry(err, pause)
                await asyncio.sleep(pause)
                continue
            resumed = resumed or kept
            return Downloaded(target, size, content_type, resumed, attempt)

    async def _attempt(
        self, url: str, dest: Path, on_progress: ProgressCallback | None
    ) -> tuple[int, str | None, bool]:
        part = part_path(dest)
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            async with self._http.stream("GET", url, headers=headers) as response:
                total, mode = self._plan(response, part, offset)
                kept = mode != "wb"
                if mode is not None:  # None: the partial file already holds everything
                    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if kept else os.O_TRUNC)
                    fd = os.open(part, flags, FILE_MODE)
                    try:
                        start = offset if kept else 0
                        if on_progress is not None:  # the size is known before any byte comes
                            on_progress(start, total)
                        await self._copy(response, fd, start, total, on_progress)
                    finally:
                        os.close(fd)
                size, content_type = self._finish(part, dest, total, response)
                return size, content_type, kept
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            raise DownloadError(f"the download was interrupted: {detail}", retryable=True) from exc

    def _plan(
        self, response: httpx.Response, part: Path, offset: int
    ) -> tuple[int | None, str | None]:
        """(expected total size, file mode) for this answer; mode None = nothing to fetch."""
        status = response.status_code
        if status == 416 and offset:
            match = _UNSATISFIED_RANGE.match(response.headers.get("content-range", ""))
            if match is not None and int(match.group(1)) == offset:
                return offset, None
            part.unlink(missing_ok=True)
            raise DownloadError("the partial file did not match; starting over", retryable=True)
        if status >= 400:
            retryable = status in (408, 425, 429) or status >= 500
            reason = response.reason_phrase or "error"
            hint = " (the link has probably expired)" if status in (403, 410) else ""
            raise DownloadError(
                f"the server answered HTTP {status} {reason}{hint}",
                retryable=retryable,
                status=status,
            )
        if status == 206 and offset:
            span = parse_content_range(response.headers.get("content-range"))
            if span is None or span[0] != offset:
                part.unlink(missing_ok=True)
                raise DownloadError("the server resumed at the wrong place", retryable=True)
            return span[1], "ab"
        length = response.headers.get("content-length")
        return (int(length) if length and length.isdigit() else None), "wb"

    async def _copy(
        self,
        response: httpx.Response,
        fd: int,
        written: int,
        total: int | None,
        on_progress: ProgressCallback | None,
    ) -> None:
        """Write each piece as it arrives, unbuffered: whatever reached the disk before a
        crash is kept for the next attempt to resume from."""
        async for chunk in response.aiter_raw():
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            written += len(chunk)
            if on_progress is not None:
                on_progress(written, total)
        os.fsync(fd)

    def _finish(
        self, part: Path, dest: Path, total: int | None, response: httpx.Response
    ) -> tuple[int, str | None]:
        size = part.stat().st_size
        if total is not None and size != total:
            if size > total:
                part.unlink(missing_ok=True)
            raise DownloadError(f"got {size} bytes of {total}", retryable=True)
        if size == 0:
            part.unlink(missing_ok=True)
            raise DownloadError("the server sent an empty file", retryable=True)
        os.replace(part, dest)
        _fsync_dir(dest.parent)
        content_type = response.headers.get("content-type")
        return size, content_type.split(";")[0].strip() if content_type else None


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
