"""Transcripts: conversations exported as Markdown, JSON or HTML, and JSON imported back.

Textual-free, so the headless commands and the TUI share it. The public API:
:func:`default_export_path`, :func:`write_export`, :func:`render_export`,
:func:`import_transcripts`, :class:`ExportError` and :data:`ExportFormat`.
"""

from studio.export.errors import ExportError
from studio.export.files import (
    EXPORTS_FOLDER,
    FORMATS,
    ExportFormat,
    default_export_path,
    render_export,
    write_export,
)
from studio.export.transcripts_in import import_transcripts

__all__ = [
    "EXPORTS_FOLDER",
    "FORMATS",
    "ExportError",
    "ExportFormat",
    "default_export_path",
    "import_transcripts",
    "render_export",
    "write_export",
]
