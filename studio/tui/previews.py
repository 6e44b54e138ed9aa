"""Inline image previews through textual-image (Sixel, Kitty graphics, or half-cell blocks).

textual-image asks the terminal about its cell size and graphics support when it is imported,
which is impossible once Textual owns the terminal; :func:`prepare` imports it just before the
app starts. If that fails, or was never done, attachments show as chips only.
"""

from __future__ import annotations

import io

from textual.widget import Widget

_available = False


def prepare() -> bool:
    """Import textual-image now (before the app runs); False when previews are unavailable."""
    global _available
    try:
        import textual_image.widget  # noqa: F401 - imported for its terminal probe
    except Exception:  # a missing package, an odd terminal, Pillow trouble: fall back to chips
        _available = False
    else:
        _available = True
    return _available


def available() -> bool:
    return _available


def preview(data: bytes, *, classes: str = "preview") -> Widget | None:
    """A widget showing the image in ``data``, or None when previews are off or it won't decode."""
    if not _available or not data:
        return None
    try:
        from PIL import Image as PILImage
        from textual_image.widget import Image

        picture = PILImage.open(io.BytesIO(data))
        picture.load()
    except Exception:
        return None
    return Image(picture, classes=classes)
