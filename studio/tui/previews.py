"""Inline image previews through textual-image (Sixel, Kitty graphics, or half-cell blocks).

textual-image asks the terminal about its cell size and graphics support when it is imported,
which is impossible once Textual owns the terminal; :func:`prepare` imports it just before the
app starts. If that fails, or was never done, attachments show as chips only.

Its Kitty-graphics probe waits 0.1 s for an answer that most terminals never send (xterm,
tmux, GNOME Terminal, ...): a tenth of the start-up budget. So that probe runs only where the
environment names a terminal that speaks the protocol; elsewhere the answer is "no" at once.
"""

from __future__ import annotations

import importlib
import io
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from textual.widget import Widget

_available = False

_KITTY_TERMS = ("xterm-kitty", "xterm-ghostty")
_KITTY_PROGRAMS = ("wezterm", "ghostty", "kitty")
_KITTY_GRAPHICS_START = "\x1b_G"


def may_speak_kitty_graphics(environ: Mapping[str, str]) -> bool:
    """Whether the terminal described by ``environ`` might answer a Kitty-graphics query."""
    if environ.get("KITTY_WINDOW_ID") or environ.get("WEZTERM_PANE"):
        return True
    if environ.get("TERM", "") in _KITTY_TERMS:
        return True
    return environ.get("TERM_PROGRAM", "").lower() in _KITTY_PROGRAMS


@contextmanager
def _no_kitty_probe(terminal: Any) -> Iterator[None]:
    """Within this block, a Kitty-graphics probe through ``terminal`` answers "no" at once."""
    original: Callable[..., Any] = terminal.capture_terminal_response

    def capture(start_marker: str, *args: Any, **kwargs: Any) -> Any:
        if start_marker == _KITTY_GRAPHICS_START:
            raise TimeoutError("Kitty graphics not probed in this terminal")
        return original(start_marker, *args, **kwargs)

    terminal.capture_terminal_response = capture
    try:
        yield
    finally:
        terminal.capture_terminal_response = original


def prepare(environ: Mapping[str, str] | None = None) -> bool:
    """Import textual-image now (before the app runs); False when previews are unavailable."""
    global _available
    environ = os.environ if environ is None else environ
    try:
        from textual_image import _terminal

        probe = nullcontext() if may_speak_kitty_graphics(environ) else _no_kitty_probe(_terminal)
        with probe:
            importlib.import_module("textual_image.widget")  # probes the terminal
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
