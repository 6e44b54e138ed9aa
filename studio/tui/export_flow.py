"""Exporting a conversation from the TUI: the dialog asks the format and the path, the export is
written in a thread (a long conversation with many images never holds up the screen), and a
toast says where it went, or the export's own sentence when it failed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from studio.paths import media_dir

if TYPE_CHECKING:
    from studio.export import ExportFormat
    from studio.tui.app import StudioApp


async def export_conversation(app: StudioApp, cid: int) -> None:
    """Ask how to export conversation ``cid`` and export it (run in a worker: it waits for
    the dialog)."""
    from studio.export import EXPORTS_FOLDER, ExportError, default_export_path, write_export
    from studio.tui.screens.export_dialog import ExportDialog

    store = app.store
    conversation = store.get_conversation(cid)
    if conversation is None:
        return
    folder = media_dir(app.settings.media_dir) / EXPORTS_FOLDER

    def suggest(fmt: ExportFormat) -> Path:
        return default_export_path(store, [cid], fmt, folder=folder)

    try:
        first = suggest("md")
    except ExportError as exc:
        app.notify(str(exc), severity="error", timeout=10, markup=False)
        return
    choice = await app.push_screen_wait(ExportDialog(conversation.title, suggest, first))
    if choice is None:
        return
    try:
        written = await asyncio.to_thread(write_export, store, [cid], choice.fmt, choice.path)
    except ExportError as exc:
        app.notify(str(exc), severity="error", timeout=10, markup=False)
        return
    document, *beside = written or [choice.path]
    extra = f" (and {len(beside)} file{'s' * (len(beside) != 1)} beside it)" if beside else ""
    app.notify(f"Exported to {document}{extra}", timeout=10, markup=False)
