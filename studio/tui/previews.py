"""Inline image previews through textual-image (Sixel, Kitty graphics, or half-cell blocks).

textual-image asks the terminal about its cell size and graphics support when it is imported,
which is impossible once Textual owns the terminal. Importing it (and Pillow) before the app
starts cost a twentieth of the start-up budget, for screens that mostly show no image. So
:func:`prepare`, just before the app starts, asks the terminal the same questions itself
(the cell size through textual-image's own cached helper, and the device attributes that tell
Sixel support; both through ``studio.tui.compat``) and keeps the answers; textual-image is
imported when the first preview is made, its probes answered from what was kept and its queries
kept off the terminal.

Its Kitty-graphics probe waits 0.1 s for an answer that most terminals never send (xterm,
tmux, GNOME Terminal, ...). Where the environment names a terminal that may speak the protocol
(kitty, WezTerm, Ghostty), textual-image is imported up front, probes included, as it always
was; elsewhere that probe is answered "no" at once. If anything fails, attachments show as
chips only.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from textual.widget import Widget

from studio.tui.compat import image_queries_answered, image_terminal

_available = False
_loaded = False
_answers: dict[str, str] = {}
"""The terminal's answers to the queries made before the app started, by response prefix."""

_KITTY_TERMS = ("xterm-kitty", "xterm-ghostty")
_KITTY_PROGRAMS = ("wezterm", "ghostty", "kitty")
DEVICE_ATTRIBUTES = "\x1b[?"
"""The start of a terminal's device-attributes answer (a ``4`` in it means Sixel)."""


def may_speak_kitty_graphics(environ: Mapping[str, str]) -> bool:
    """Whether the terminal described by ``environ`` might answer a Kitty-graphics query."""
    if environ.get("KITTY_WINDOW_ID") or environ.get("WEZTERM_PANE"):
        return True
    if environ.get("TERM", "") in _KITTY_TERMS:
        return True
    return environ.get("TERM_PROGRAM", "").lower() in _KITTY_PROGRAMS


def prepare(environ: Mapping[str, str] | None = None) -> bool:
    """Ask the terminal now (before the app runs) what previews need; False when unavailable."""
    global _available, _loaded
    environ = os.environ if environ is None else environ
    try:
        if may_speak_kitty_graphics(environ):
            importlib.import_module("textual_image.widget")  # probes the terminal itself
            _loaded = True
        else:
            terminal = image_terminal()
            terminal.get_cell_size()  # asks once; textual-image keeps the answer
            answer = _ask(terminal, DEVICE_ATTRIBUTES, "c", "\x1b[c")
            if answer is not None:
                _answers[DEVICE_ATTRIBUTES] = answer
    except Exception:  # a missing package, an odd terminal: fall back to chips
        _available = False
    else:
        _available = True
    return _available


def _ask(terminal: Any, start: str, end: str, query: str) -> str | None:
    """Send ``query`` and read the answer (``start`` ... ``end``); None if none came."""
    out = sys.__stdout__
    if out is None or not out.isatty():
        return None
    try:
        with terminal.capture_terminal_response(start, end, 0.1) as response:
            out.write(query)
            out.flush()
    except (TimeoutError, terminal.TerminalError):
        return None
    return str(response.sequence)


@contextmanager
def _replayed(start_marker: str, end_marker: str, timeout: float | None = None) -> Iterator[Any]:
    """Stands in for textual-image's ``capture_terminal_response`` once the app runs: the
    answer kept by :func:`prepare`, or no answer at all (a timeout, as from a silent terminal)."""
    answer = _answers.get(start_marker)
    if answer is None:
        raise TimeoutError("the terminal was not asked this before the app started")
    yield SimpleNamespace(sequence=answer)


class _Unsent(io.StringIO):
    """Takes the queries textual-image's probes write while the app owns the terminal."""

    def __init__(self, real: Any) -> None:
        super().__init__()
        self._real = real

    def isatty(self) -> bool:
        return bool(self._real is not None and self._real.isatty())


def _load() -> bool:
    """Import textual-image (and Pillow) with its probes answered from :data:`_answers`."""
    global _available, _loaded
    if _loaded:
        return True
    try:
        real_stdout = sys.__stdout__
        with image_queries_answered(_replayed):
            sys.__stdout__ = _Unsent(real_stdout)  # type: ignore[assignment, misc]
            try:
                importlib.import_module("textual_image.widget")
            finally:
                sys.__stdout__ = real_stdout  # type: ignore[misc]
    except Exception:  # Pillow trouble and the like: chips only from now on
        _available = False
        return False
    _loaded = True
    return True


def available() -> bool:
    return _available


def preview(data: bytes, *, classes: str = "preview") -> Widget | None:
    """A widget showing the image in ``data``, or None when previews are off or it won't decode."""
    if not _available or not data or not _load():
        return None
    try:
        from PIL import Image as PILImage
        from textual_image.widget import Image

        picture = PILImage.open(io.BytesIO(data))
        picture.load()
    except Exception:
        return None
    return Image(picture, classes=classes)


FRAME_TIMEOUT = 10.0
"""Seconds ffmpeg may take to pull the first frame of one video."""


def first_frame(path: str) -> bytes | None:
    """The first frame of the video at ``path`` as PNG bytes, through ``ffmpeg`` when it is on
    PATH (Studio does not require it); None without ffmpeg or when it fails. Blocking: call it
    from a thread."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    command = [ffmpeg, "-v", "error", "-nostdin", "-i", path, "-frames:v", "1"]
    command += ["-f", "image2pipe", "-vcodec", "png", "-"]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=FRAME_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


class FirstFrames:
    """First frames of videos for the session: at most ``limit`` ffmpeg processes run at once
    (a gallery of sixty videos on two cores started sixty), and a file's frame is kept, by
    path, modification time and size, so opening the gallery again runs nothing. Blocking:
    call :meth:`get` from a thread."""

    def __init__(self, limit: int = 2, keep: int = 64) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, int, int], bytes | None] = {}
        self._making: dict[tuple[str, int, int], threading.Event] = {}
        self._keep = keep

    def get(self, path: str) -> bytes | None:
        """The first frame of the video at ``path`` (PNG bytes), or None."""
        try:
            facts = os.stat(path)
        except OSError:
            return None
        key = (os.path.abspath(path), facts.st_mtime_ns, facts.st_size)
        with self._lock:
            if key in self._kept:
                return self._kept[key]
            made = self._making.get(key)
            if made is None:
                if shutil.which("ffmpeg") is None:  # not kept: it may be installed later
                    return None
                self._making[key] = threading.Event()
        if made is not None:  # another caller is making this one: wait for it
            made.wait()
            with self._lock:
                return self._kept.get(key)
        try:
            with self._slots:
                frame = first_frame(path)
            with self._lock:  # a failure is kept too: it would fail again
                self._kept[key] = frame
                while len(self._kept) > self._keep:
                    del self._kept[next(iter(self._kept))]
        finally:
            with self._lock:
                self._making.pop(key).set()
        return frame


first_frames = FirstFrames()
"""The session's first frames (the gallery's tiles share it)."""


_MP4_CONTAINERS = frozenset({b"moov"})  # mvhd sits right in moov


def mp4_duration(path: str) -> float | None:
    """The length in seconds an MP4/QuickTime file declares (its ``mvhd`` box), read from the
    box headers without decoding anything; None when it cannot be read (no such box, a file
    cut short or garbage)."""
    try:
        with open(path, "rb") as handle:
            return _find_mvhd(handle, os.fstat(handle.fileno()).st_size)
    except (OSError, ValueError, struct.error, IndexError, RecursionError):
        return None


def _take(handle: Any, count: int) -> bytes:
    """Exactly ``count`` bytes from ``handle``; ValueError when the file ends first."""
    data = handle.read(count)
    if len(data) != count:
        raise ValueError("the file ends inside a box")
    return bytes(data)


def _find_mvhd(handle: Any, end: int) -> float | None:
    while handle.tell() + 8 <= end:
        start = handle.tell()
        size, kind = struct.unpack(">I4s", _take(handle, 8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", _take(handle, 8))[0], 16
        elif size == 0:
            size = end - start
        if size < header:
            return None
        if kind == b"mvhd":
            version = _take(handle, 4)[0]
            if version == 1:
                _take(handle, 16)
                scale, length = struct.unpack(">IQ", _take(handle, 12))
            else:
                _take(handle, 8)
                scale, length = struct.unpack(">II", _take(handle, 8))
            return length / scale if scale else None
        if kind in _MP4_CONTAINERS:
            found = _find_mvhd(handle, start + size)
            if found is not None:
                return found
        handle.seek(start + size)
    return None
