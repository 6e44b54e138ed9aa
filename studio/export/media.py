"""The files a transcript shows: attachments (bytes in the store) and the saved results of the
job a message stands for (files in the media folder), and where each export puts them."""

from __future__ import annotations

import base64
import mimetypes
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from studio.export.errors import ExportError
from studio.export.gather import Turn
from studio.export.text import safe_file_name
from studio.store import Role


@dataclass(frozen=True, slots=True)
class MediaItem:
    """One file shown with a message."""

    name: str
    mime: str
    data: bytes | None = None
    """The bytes, for an attachment stored in the database."""
    path: Path | None = None
    """The file, for a job's saved result."""
    url: str | None = None
    """Where it came from, when known."""

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")

    @property
    def is_video(self) -> bool:
        return self.mime.startswith("video/")

    def read(self) -> bytes | None:
        """Its bytes, or ``None`` when it has none here (known by URL, or a file gone)."""
        if self.data is not None:
            return self.data
        if self.path is None:
            return None
        try:
            return self.path.read_bytes()
        except OSError:
            return None


def media_items(turn: Turn) -> list[MediaItem]:
    """A message's attachments, then the saved results of the job it reports (not of the
    user's command that made the job; a result already attached as a preview only once)."""
    items = [
        MediaItem(a.name, a.mime, data=data, url=a.url)
        for a, data in zip(turn.message.attachments, turn.attachment_data, strict=True)
    ]
    if turn.job is not None and turn.message.role is Role.ASSISTANT:
        attached = {a.name for a in turn.message.attachments}
        for result in turn.job.files:
            path = Path(result.path)
            if not result.done or not result.path or path.name in attached:
                continue
            mime = result.content_type or mimetypes.guess_type(path.name)[0] or ""
            items.append(MediaItem(path.name, mime, path=path, url=result.url))
    return items


class FolderMedia:
    """Copies each file into ``folder`` (created on first use) and links it by the relative
    path ``prefix/name``: the Markdown export's ``<name>_files/``."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self.written: list[Path] = []

    def link(self, item: MediaItem) -> str | None:
        """The relative link to the copy of ``item``, or ``None`` when it has no bytes here."""
        target = self.folder / f"{len(self.written) + 1:03d}-{safe_file_name(item.name)}"
        try:
            if item.data is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                target.write_bytes(item.data)
            elif item.path is not None and item.path.is_file():
                self.folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item.path, target)
            else:
                return None
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self.written.append(target)
        return quote(f"{self.prefix}/{target.name}")


class AbsoluteMedia:
    """Links the files that are on disk by their absolute path (Markdown on stdout: nothing is
    written; an attachment, kept only in the database, gets no link)."""

    def link(self, item: MediaItem) -> str | None:
        """``item``'s absolute path, or ``None`` when it is not a file on disk."""
        if item.path is None or not item.path.is_file():
            return None
        return str(item.path.absolute())


def data_uri(item: MediaItem) -> str | None:
    """``item`` as a ``data:`` URI (the HTML export embeds images so), or ``None`` without
    bytes."""
    data = item.read()
    if data is None:
        return None
    return (
        f"data:{item.mime or 'application/octet-stream'};base64,{base64.b64encode(data).decode()}"
    )
