"""Small text helpers shared by the Markdown and HTML exports: times, fences, escapes, file
names and the words for a reply's status and usage."""

from __future__ import annotations

import re
from datetime import datetime

from studio.store import Message, MessageStatus
from studio.usage import Usage

_BACKTICKS = re.compile(r"`+")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&])")
_UNSAFE_NAME = re.compile(r"[^\w.+-]+")


def local_time(epoch: float) -> str:
    """``epoch`` in local time, ISO-like: ``2026-12-04 10:09:02+01:00``."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat(sep=" ", timespec="seconds")


def iso_time(epoch: float) -> str:
    """``epoch`` as a full ISO 8601 local time (for HTML ``datetime`` attributes)."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def fence(text: str, info: str = "text") -> str:
    """``text`` in a fenced code block that nothing inside can close: the fence is one
    backtick longer than the longest run of backticks in the text (three at least)."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    marks = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{marks}{info}\n{body}{marks}"


def close_open_fence(markdown: str) -> str:
    """``markdown`` with a closing fence added when a fenced block is left open at its end (a
    reply stopped mid-code-block), so it cannot swallow the rest of the document."""
    opened: tuple[str, int] | None = None
    for line in markdown.split("\n"):
        match = _FENCE_LINE.match(line)
        if match is None:
            continue
        run = match.group(1)
        if opened is None:
            if run[0] == "`" and "`" in match.group(2):
                continue  # not a fence: backticks in a backtick fence's info string
            opened = (run[0], len(run))
        elif run[0] == opened[0] and len(run) >= opened[1] and not match.group(2).strip():
            opened = None
    if opened is None:
        return markdown
    tail = "" if markdown.endswith("\n") else "\n"
    return f"{markdown}{tail}{opened[0] * opened[1]}"


_HTML_BLOCK_STARTS = (
    (re.compile(r"^ {0,3}<(pre|script|style|textarea)(?=[\s>]|$)", re.I), None),
    (re.compile(r"^ {0,3}<!--"), "-->"),
    (re.compile(r"^ {0,3}<\?"), "?>"),
    (re.compile(r"^ {0,3}<![A-Za-z]"), ">"),
    (re.compile(r"^ {0,3}<!\[CDATA\["), "]]>"),
)
"""CommonMark's HTML blocks that run until an end marker, not to a blank line (types 1-5)."""


def close_open_html(markdown: str) -> str:
    """``markdown`` with the end marker added when an HTML block that only its marker ends
    (``<pre>``, ``<!--`` ...) is left open (outside code fences), so it cannot turn the rest of
    the document into raw HTML."""
    lowered = markdown.lower()
    fenced: tuple[str, int] | None = None
    offset = 0
    for line in markdown.split("\n"):
        start_of_line, offset = offset, offset + len(line) + 1
        match = _FENCE_LINE.match(line)
        if match is not None:
            run = match.group(1)
            if fenced is None:
                fenced = (run[0], len(run))
            elif run[0] == fenced[0] and len(run) >= fenced[1] and not match.group(2).strip():
                fenced = None
            continue
        if fenced is not None:
            continue
        for start, marker in _HTML_BLOCK_STARTS:
            found = start.match(line)
            if found is None:
                continue
            end = marker or f"</{found.group(1).lower()}>"
            if lowered.find(end, start_of_line + found.end()) < 0:
                tail = "" if markdown.endswith("\n") else "\n"
                return f"{markdown}{tail}{end}"
            break
    return markdown


def escape_inline(text: str) -> str:
    """``text`` (one line: a title, a file name, a model id) as literal Markdown inline text."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def safe_file_name(name: str, fallback: str = "file") -> str:
    """A file name made of letters, digits and ``.+-_`` only, never hidden, at most 80 chars."""
    cleaned = _UNSAFE_NAME.sub("-", name).strip("-.")[:80].strip("-.")
    return cleaned or fallback


def status_note(message: Message) -> str | None:
    """Why a reply is not a complete answer, in words; ``None`` when it is."""
    status = message.status
    if status is MessageStatus.STOPPED:
        return "Stopped by the user before the reply was complete."
    if status is MessageStatus.CUT:
        return "Cut: the reply was interrupted (Studio closed while it arrived)."
    if status is MessageStatus.STREAMING:
        return "Still arriving when it was exported."
    if status is MessageStatus.ERROR:
        return "Failed."
    if message.finish_reason == "length":
        return "Cut at the token limit (finish reason: length)."
    return None


def usage_note(usage: Usage | None) -> str | None:
    """A reply's token counts in words, or ``None`` without any."""
    if usage is None:
        return None
    words = (
        f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion"
        f" = {usage.total_tokens} tokens"
    )
    extra = []
    if usage.reasoning_tokens:
        extra.append(f"{usage.reasoning_tokens} reasoning")
    if usage.cached_tokens:
        extra.append(f"{usage.cached_tokens} cached")
    return words + (f" ({', '.join(extra)})" if extra else "")
