"""The one sanitiser for text that Studio shows but did not write (client-guide §6).

Model replies, gateway errors, model ids, request ids, job failure reasons, file names and
conversation titles may carry bytes that drive a terminal: an ``ESC ] 52`` that writes the
clipboard, an ``ESC ] 0`` that sets the window title, a ``CSI 2 J`` that clears the screen, C1
controls that some terminals take as ``CSI``, and bidi overrides that make text read differently
from what it is (Trojan Source, CVE-2021-42574). Every surface -- the TUI and every command --
passes such text through :func:`clean` (multi-line) or :func:`clean_line` (one line) where it is
shown. What is stored stays exactly as received; ``--raw`` on a command is the only way around.

What each character becomes:

* C0 controls (but tab and newline), ESC and DEL: their visible Control Pictures (``␛``, ``␇``,
  ``␈``, ``␡`` ...). A CR that ends a line (``CRLF``) is dropped; a lone CR is shown as ``␍``.
* C1 controls (U+0080-U+009F): ``⟨U+009B⟩``.
* bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): ``⟨U+202E⟩``.
* zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and the bidi marks U+200E/U+200F/U+061C:
  removed (they draw nothing, so removing them hides nothing a reader could see).
* U+2028 and U+2029 (line and paragraph separators): a newline (a space on one line).

No import beyond the standard library: every layer may use it, and it never loads Textual.
"""

from __future__ import annotations

import re

_C0_PICTURE = {c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}
_C0_PICTURE[0x7F] = "\u2421"  # ␡

_C1 = {c: f"⟨U+{c:04X}⟩" for c in range(0x80, 0xA0)}
_BIDI = {c: f"⟨U+{c:04X}⟩" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_INVISIBLE: dict[int, str | None] = dict.fromkeys((0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF))
_INVISIBLE.update(dict.fromkeys((0x200E, 0x200F, 0x061C)))

_MULTILINE: dict[int, str | None] = {**_C0_PICTURE, **_C1, **_BIDI, **_INVISIBLE}
_MULTILINE[0x2028] = "\n"
_MULTILINE[0x2029] = "\n"

_ONE_LINE: dict[int, str | None] = dict(_MULTILINE)
_ONE_LINE[0x09] = " "
_ONE_LINE[0x0A] = " "
_ONE_LINE[0x2028] = " "
_ONE_LINE[0x2029] = " "

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]"
)
_UNSAFE_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]"
)


def clean(text: str, *, tabs: bool = True) -> str:
    """``text`` made harmless for a terminal, newlines kept (and tabs, unless ``tabs=False``).

    A no-op (the same object back) for the common case of text with nothing to clean.
    """
    if not _UNSAFE.search(text) and (tabs or "\t" not in text):
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    cleaned = text.translate(_MULTILINE)
    return cleaned if tabs else cleaned.replace("\t", "    ")


def clean_line(text: str) -> str:
    """``text`` made harmless and kept on one line: newlines and tabs become spaces.

    For titles, model ids, file names, error messages in a status line or a toast title.
    """
    if not _UNSAFE_ONE_LINE.search(text):
        return text
    return text.replace("\r\n", "\n").translate(_ONE_LINE)


def is_clean(text: str) -> bool:
    """Whether :func:`clean` would leave ``text`` as it is."""
    return _UNSAFE.search(text) is None
