"""The one error the export package raises."""

from __future__ import annotations


class ExportError(Exception):
    """An export or import that could not be done; the message is a sentence for a person."""
