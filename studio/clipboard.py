"""Copying text that works over SSH, inside tmux and GNU screen, and never crashes the app.

The terminal clipboard escape (OSC 52) travels with the output stream, so it reaches the
clipboard of the machine the user sits at, even through SSH. tmux drops an application's OSC 52
unless ``set-clipboard`` is on, and GNU screen swallows it, so Studio also sends the forms those
multiplexers pass through (a DCS passthrough string). The native clipboard (pyperclip) only knows
the machine Studio runs on, so it is used only when that machine has a display of its own, and
every failure of it is caught. None of this can confirm that the terminal accepted the text, so
the messages say what was *sent*.

The TUI calls :func:`copy_text` with a function that writes raw escape sequences to the terminal;
this module never imports Textual. :func:`plan_copy` is the pure decision behind it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from studio.paths import ensure_dir

ClipboardMode = Literal["auto", "osc52", "native", "off"]
"""The ``clipboard`` setting: both mechanisms, the terminal escape only, pyperclip only, none."""

CLIPBOARD_MODES: tuple[str, ...] = get_args(ClipboardMode)

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"
"""String Terminator, which ends a DCS string."""

OSC52_LIMIT = 100_000
"""Base64 bytes of an OSC 52 payload beyond which many terminals cut it off (xterm's limit)."""

SCREEN_DCS_LIMIT = 768
"""The longest string GNU screen (4.2.1 and later) accepts in one DCS sequence, in bytes."""

NATIVE_TIMEOUT = 5.0
"""Seconds to wait for the native clipboard (xclip and friends can hang on a dead display)."""

SSH_VARIABLES = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")

METHOD_LABELS = {"osc52": "OSC 52", "tmux": "tmux", "screen": "screen"}


def osc52_sequence(text: str) -> str:
    """The OSC 52 sequence that puts ``text`` on the clipboard: ``ESC ] 52 ; c ; <base64> BEL``.

    The text is encoded as UTF-8 (lone surrogates are replaced rather than raising).
    """
    payload = base64.b64encode(text.encode("utf-8", "replace")).decode("ascii")
    return f"{ESC}]52;c;{payload}{BEL}"


def tmux_wrap(sequence: str) -> str:
    """``sequence`` in tmux's DCS passthrough form: ``ESC P tmux; <sequence> ESC \\``.

    Every ESC inside is doubled, as tmux requires. tmux forwards it to the outer terminal when
    ``allow-passthrough`` is on (the default before tmux 3.3).
    """
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def _chunks(sequence: str, limit: int) -> Iterator[str]:
    """Split ``sequence`` into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    start = 0
    size = 0
    for index, char in enumerate(sequence):
        width = len(char.encode("utf-8", "replace"))
        if size + width > limit and index > start:
            yield sequence[start:index]
            start, size = index, 0
        size += width
    if start < len(sequence):
        yield sequence[start:]


def screen_wrap(sequence: str, *, limit: int = SCREEN_DCS_LIMIT) -> str:
    """``sequence`` in GNU screen's DCS passthrough form: ``ESC P <sequence> ESC \\``.

    screen rejects a DCS string longer than ``limit`` bytes, so the sequence is cut into pieces
    that each fit with their four bytes of framing, and every piece is wrapped on its own; the
    outer terminal sees the pieces joined back together.
    """
    if limit <= len(ESC + "P" + ST):
        raise ValueError(f"a DCS limit of {limit} bytes leaves no room for content")
    room = limit - len(ESC + "P" + ST)
    return "".join(f"{ESC}P{piece}{ST}" for piece in _chunks(sequence, room))


def is_over_ssh(env: Mapping[str, str]) -> bool:
    """Whether the environment says this process runs in an SSH session."""
    return any(env.get(name, "").strip() for name in SSH_VARIABLES)


def has_local_display(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether the machine Studio runs on has a clipboard the user can paste from.

    Never over SSH (the remote machine's clipboard is not the user's, even with X forwarding the
    terminal escape is the reliable route); otherwise always on macOS and Windows, and on other
    systems when ``DISPLAY`` or ``WAYLAND_DISPLAY`` is set.
    """
    if is_over_ssh(env):
        return False
    if platform == "darwin" or platform.startswith(("win", "cygwin")):
        return True
    return bool(env.get("DISPLAY", "").strip() or env.get("WAYLAND_DISPLAY", "").strip())


@dataclass(frozen=True, slots=True)
class CopyPlan:
    """What copying one text will do.

    ``sequences`` are written to the terminal in order, ``methods`` names them (``"osc52"``,
    ``"tmux"``, ``"screen"``) in the same order, ``native`` says whether pyperclip is tried,
    ``has_display`` whether a local display was detected, and ``too_long`` that the OSC 52
    payload (``payload_bytes`` of base64) exceeds what many terminals accept, so the UI should
    offer "save to file".
    """

    mode: ClipboardMode
    sequences: tuple[str, ...]
    methods: tuple[str, ...]
    native: bool
    has_display: bool
    too_long: bool
    payload_bytes: int


def _normalise_mode(mode: str) -> ClipboardMode:
    value = mode.strip().lower() if isinstance(mode, str) else ""
    if value == "osc52":
        return "osc52"
    if value == "native":
        return "native"
    if value == "off":
        return "off"
    return "auto"


def plan_copy(
    text: str,
    *,
    mode: ClipboardMode | str,
    env: Mapping[str, str],
    has_display: bool,
) -> CopyPlan:
    """Decide how to copy ``text`` (pure: nothing is written).

    * ``off``: nothing.
    * ``native``: pyperclip only.
    * ``osc52``: the plain OSC 52 sequence, plus its tmux form when ``$TMUX`` is set and its
      screen form when ``$STY`` is set.
    * ``auto`` (and any unknown mode): as ``osc52``, plus pyperclip when ``has_display``.
    """
    resolved = _normalise_mode(mode)
    plain = osc52_sequence(text)
    payload_bytes = len(plain) - len(f"{ESC}]52;c;{BEL}")
    sequences: list[str] = []
    methods: list[str] = []
    if resolved in ("auto", "osc52"):
        sequences.append(plain)
        methods.append("osc52")
        if env.get("TMUX", "").strip():
            sequences.append(tmux_wrap(plain))
            methods.append("tmux")
        if env.get("STY", "").strip():
            sequences.append(screen_wrap(plain))
            methods.append("screen")
    native = resolved == "native" or (resolved == "auto" and has_display)
    return CopyPlan(
        mode=resolved,
        sequences=tuple(sequences),
        methods=tuple(methods),
        native=native,
        has_display=has_display,
        too_long=bool(sequences) and payload_bytes > OSC52_LIMIT,
        payload_bytes=payload_bytes,
    )


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What copying did: ``message`` is the toast to show, worded to claim no more than is known.

    ``methods_used`` lists the escape forms actually written (see :class:`CopyPlan`);
    ``native_ok`` is ``None`` when pyperclip was not tried. ``too_long`` asks the UI to offer
    "save to file".
    """

    chars: int
    methods_used: tuple[str, ...]
    native_ok: bool | None
    message: str
    too_long: bool = False

    @property
    def ok(self) -> bool:
        """Whether the text went anywhere at all."""
        return bool(self.methods_used) or self.native_ok is True


def _reason(error: BaseException) -> str:
    """A one-line, bounded description of ``error`` for a toast."""
    text = " ".join(str(error).split())
    if not text:
        text = type(error).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def _native_copy(text: str) -> None:
    """Put ``text`` on the local clipboard with pyperclip (imported only when needed)."""
    import pyperclip

    pyperclip.copy(text)


def _count(chars: int) -> str:
    return f"{chars:,} character" + ("" if chars == 1 else "s")


def _describe(
    plan: CopyPlan,
    chars: int,
    written: tuple[str, ...],
    native_ok: bool | None,
    native_error: str,
    write_error: str,
) -> str:
    """The toast text for the outcome of ``plan``."""
    if plan.mode == "off":
        return "Clipboard is off (set clipboard = osc52 in the config)"
    count = _count(chars)
    if native_ok:
        message = f"Copied {count} to the clipboard"
    elif written:
        labels = ", ".join(METHOD_LABELS.get(m, m) for m in written)
        message = f"Sent {count} to the terminal clipboard ({labels})"
        if native_ok is False:
            message += f" — the local clipboard failed: {native_error}"
    elif plan.mode == "native" and not plan.has_display:
        return "No local clipboard here (over SSH?) — set clipboard = osc52"
    elif native_ok is False and write_error:
        return (
            f"Nothing was copied: the terminal write failed ({write_error}) and the local "
            f"clipboard failed: {native_error}"
        )
    elif native_ok is False:
        return f"The local clipboard failed: {native_error} — set clipboard = osc52"
    else:
        return f"Nothing was copied: could not write to the terminal ({write_error})"
    if written and plan.too_long and not native_ok:
        message += " — it may be too long for the terminal; save it to a file instead"
    return message


async def copy_text(
    text: str,
    *,
    mode: ClipboardMode | str,
    write: Callable[[str], None],
    env: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
    native_timeout: float = NATIVE_TIMEOUT,
) -> CopyResult:
    """Copy ``text`` as the ``clipboard`` setting ``mode`` says; never raises.

    The planned escape sequences go through ``write`` (which must write them raw to the
    terminal), then pyperclip runs in a thread if planned, bounded by ``native_timeout`` seconds.
    Every failure, of ``write`` or of pyperclip, ends up in the returned message.
    """
    try:
        chars = len(text)
        if not text:
            return CopyResult(0, (), None, "Nothing to copy")
        display = has_local_display(env, platform)
        plan = plan_copy(text, mode=mode, env=env, has_display=display)
        written: list[str] = []
        write_error = ""
        for method, sequence in zip(plan.methods, plan.sequences, strict=True):
            try:
                write(sequence)
            except Exception as error:
                write_error = _reason(error)
            else:
                written.append(method)
        native_ok: bool | None = None
        native_error = ""
        if plan.native:
            try:
                await asyncio.wait_for(asyncio.to_thread(_native_copy, text), native_timeout)
            except TimeoutError:
                native_ok, native_error = False, "it did not answer"
            except Exception as error:
                native_ok, native_error = False, _reason(error)
            else:
                native_ok = True
        used = tuple(written)
        message = _describe(plan, chars, used, native_ok, native_error, write_error)
        too_long = plan.too_long and bool(used) and not native_ok
        return CopyResult(chars, used, native_ok, message, too_long=too_long)
    except Exception as error:  # a last resort: copying must never take the app down
        return CopyResult(len(text), (), None, f"Copy failed: {_reason(error)}")


_UNSAFE_STEM = re.compile(r"[^A-Za-z0-9._-]+")


def save_text(
    text: str,
    directory: str | os.PathLike[str],
    stem: str,
    *,
    now: datetime | None = None,
) -> Path:
    """Write ``text`` to a new file ``<stem>-YYYYmmdd-HHMMSS.md`` in ``directory``; return its path.

    The "save to file" fallback for texts too long for OSC 52. The directory is created (0o700)
    if missing, the file is created owner-only (0o600) and never overwrites anything: a ``-2``,
    ``-3``... suffix keeps names unique. Characters of ``stem`` that do not belong in a file name
    become ``-``. Raises ``OSError`` when the file cannot be written.
    """
    folder = ensure_dir(directory)
    safe_stem = _UNSAFE_STEM.sub("-", stem).strip("-.") or "clipboard"
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    data = text.encode("utf-8", "replace")
    attempt = 1
    while True:
        suffix = "" if attempt == 1 else f"-{attempt}"
        path = folder / f"{safe_stem}-{stamp}{suffix}.md"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            attempt += 1
            continue
        break
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # the umask must not matter either way
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def last_code_block(markdown: str) -> str | None:
    """The content of the last fenced code block of ``markdown``, or ``None`` if it has none.

    Follows CommonMark fences: an opening line of three or more backticks or tildes with any info
    string (a backtick fence's info string may not contain a backtick); the block ends at a line
    of the same character at least as long as the opening fence and nothing else, so shorter or
    other fences inside are content; an unterminated block runs to the end of the text. Fences
    may be indented (as inside list items); that much indentation is removed from the content.
    """
    last: str | None = None
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        index += 1
        if opening is None:
            continue
        fence = opening["fence"]
        if fence[0] == "`" and "`" in opening["info"]:
            continue  # inline code such as ```a``` is not a fence
        indent = len(opening["indent"].expandtabs(4))
        content: list[str] = []
        while index < len(lines):
            line = lines[index]
            index += 1
            closing = _FENCE.match(line)
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            content.append(_dedent(line, indent))
        last = "\n".join(content)
    return last


def _dedent(line: str, width: int) -> str:
    """``line`` without up to ``width`` columns of leading whitespace."""
    removed = 0
    position = 0
    while position < len(line) and removed < width and line[position] in " \t":
        removed += 4 - removed % 4 if line[position] == "\t" else 1
        position += 1
    return line[position:]
