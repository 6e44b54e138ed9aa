"""A hostile text: what a prompt-injected model or a compromised gateway could send.

The emulator serves it on demand (the ``hostile`` fault: a chat reply, a model id in the model
list and a mid-stream error; ``STATUS:hostile``: an error message and request id), so tests can
check that no surface of Studio lets any of these sequences reach the terminal raw.

Each sequence carries a payload found nowhere else, so a test can look for the sequence itself in
what Studio wrote and not be fooled by Studio's own (legitimate) escape sequences.
"""

from __future__ import annotations

HOSTILE_SEQUENCES: dict[str, str] = {
    "OSC 52 (write the clipboard)": "\x1b]52;c;SE9TVElMRS1DTElQQk9BUkQ=\x07",
    "OSC 0 (set the window title)": "\x1b]0;HOSTILE-TITLE-0\x07",
    "OSC 2 (set the window title)": "\x1b]2;HOSTILE-TITLE-2\x1b\\",
    "OSC 8 (hyperlink)": "\x1b]8;;https://hostile.invalid/phish\x1b\\click\x1b]8;;\x1b\\",
    "CSI 2J (clear the screen)": "\x1b[2J\x1b[1;1HHOSTILE-CLEAR",
    "C1 CSI (8-bit)": "\x9b31mHOSTILE-C1-CSI",
    "C1 OSC (8-bit)": "\x9d0;HOSTILE-C1-OSC\x9c",
    "BEL": "HOSTILE-BEL\x07",
    "CR (overwrite the line)": "HOSTILE-SAFE\rHOSTILE-CR",
    "BS (overwrite characters)": "HOSTILE-BS\x08\x08\x08",
    "RLO/PDF (bidi override)": "HOSTILE-\u202eFDP-OLR\u202c",
    "RLI/PDI (bidi isolate)": "HOSTILE-\u2067ILR\u2069",
    "ZWSP/ZWJ (zero width)": "HOSTILE\u200b-ZW\u200dJ",
}
"""Name -> the raw sequence, each with a unique payload."""

HOSTILE_TEXT = "Here is the answer.\n\n" + "\n\n".join(
    f"{name}: {seq} end." for name, seq in HOSTILE_SEQUENCES.items()
)
"""A reply (Markdown paragraphs) that holds every hostile sequence."""

HOSTILE_LINE = "bad request " + " ".join(HOSTILE_SEQUENCES.values())
"""An error message that holds every sequence on one line."""

HOSTILE_MODEL_ID = "gpt-4o\x1b]52;c;SE9TVElMRS1NT0RFTA==\x07\x1b[2J\u202eevil"
"""A model id the ``hostile`` fault adds to the model list."""

HOSTILE_REQUEST_ID = "req-\x1b]0;HOSTILE-REQUEST-ID\x07"

DANGEROUS = (
    "\x07",
    "\x08",
    "\r",
    "\x9b",
    "\x9c",
    "\x9d",
    "\u202e",
    "\u202c",
    "\u2067",
    "\u2069",
    "\u200b",
    "\u200d",
    "\x1b]52;c;SE9TVElMRS",
    "\x1b]0;HOSTILE",
    "\x1b]2;HOSTILE",
    "\x1b]8;;https://hostile",
    "\x1b[2J\x1b[1;1HHOSTILE",
)
"""What must never appear in bytes written to a terminal while hostile text is shown (raw
controls that Studio itself never writes, and each escape sequence with its unique payload)."""


def leaks(output: str) -> list[str]:
    """The dangerous sequences found in ``output`` (text written to a terminal); ``[]`` is safe."""
    return [seq for seq in DANGEROUS if seq in output]
