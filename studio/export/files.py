"""Exporting to a file or to text: the public entry points of :mod:`studio.export`."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from studio import paths
from studio.export.errors import ExportError
from studio.export.gather import Transcript, load_transcripts
from studio.export.json_format import render_json
from studio.export.markdown_format import MediaLinks, render_markdown
from studio.export.media import AbsoluteMedia, FolderMedia
from studio.export.text import safe_file_name
from studio.store import Conversation, Store, StoreError

ExportFormat = Literal["md", "json", "html"]
FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)

EXPORTS_FOLDER = "exports"
"""The media folder's subfolder where exports go unless told otherwise."""


def media_folder_name(path: Path) -> str:
    """The folder beside a Markdown export that holds its files: ``<name>_files``."""
    return f"{path.stem}_files"


def default_export_path(
    store: Store,
    conversation_ids: Sequence[int],
    fmt: ExportFormat,
    *,
    folder: Path | None = None,
) -> Path:
    """A new file for this export: in ``folder`` (default: the media folder's ``exports``
    subfolder), named from the title (or the number of conversations) and today's date, never
    one that exists (nor, for Markdown, whose ``_files`` folder exists)."""
    if folder is None:
        folder = configured_media_dir() / EXPORTS_FOLDER
    if len(conversation_ids) == 1:
        conversation = _get(store, conversation_ids[0])
        stem = (
            safe_file_name(conversation.title, "conversation") if conversation else "conversation"
        )
    else:
        stem = f"{len(conversation_ids)}-conversations"
    stem = f"{stem[:60].rstrip('-.')}-{datetime.now().astimezone():%Y-%m-%d}"
    candidate = folder / f"{stem}.{fmt}"
    number = 1
    while candidate.exists() or (fmt == "md" and (folder / media_folder_name(candidate)).exists()):
        number += 1
        candidate = folder / f"{stem}-{number}.{fmt}"
    return candidate


def render_export(store: Store, conversation_ids: Sequence[int], fmt: ExportFormat) -> str:
    """The export as text (for stdout). Markdown links the files on disk by absolute path and
    leaves attachments (kept only in the database) unlinked; HTML embeds its images."""
    transcripts = load_transcripts(store, conversation_ids)
    return _render(transcripts, _check_format(fmt), AbsoluteMedia())


def write_export(
    store: Store, conversation_ids: Sequence[int], fmt: ExportFormat, path: Path
) -> list[Path]:
    """Write the export to ``path`` (its folder created if needed; an existing file replaced)
    and, for Markdown, its files into ``<name>_files/`` beside it; return what was written,
    the document first. :class:`ExportError` with a sentence for a person on any failure."""
    fmt = _check_format(fmt)
    transcripts = load_transcripts(store, conversation_ids)
    path = Path(path)
    try:
        paths.ensure_dir(path.parent)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from exc
    folder = FolderMedia(path.parent / media_folder_name(path), media_folder_name(path))
    text = _render(transcripts, fmt, folder)
    if _special(path):  # /dev/stdout, a named pipe: written into, never renamed over
        try:
            with path.open("w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return [path, *folder.written]
    temp = path.with_name(f".{path.name}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return [path, *folder.written]


def _special(path: Path) -> bool:
    """Whether ``path`` is there and is neither a regular file nor a folder (a device, a pipe,
    a socket, followed through links)."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _render(transcripts: Sequence[Transcript], fmt: ExportFormat, media: MediaLinks) -> str:
    if fmt == "json":
        return render_json(transcripts)
    if fmt == "html":
        from studio.export.html_format import render_html  # Pygments and markdown-it: only here

        return render_html(transcripts)
    return render_markdown(transcripts, media)


def _check_format(fmt: str) -> ExportFormat:
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def _get(store: Store, cid: int) -> Conversation | None:
    try:
        return store.get_conversation(cid)
    except StoreError as exc:
        raise ExportError(f"cannot read the conversations: {exc}") from exc


def configured_media_dir() -> Path:
    """The media folder the settings name (the default one when the config cannot be read)."""
    from studio.config import ConfigError, load_settings

    try:
        return paths.media_dir(load_settings().media_dir)
    except ConfigError:
        return paths.media_dir()
