"""Emulator settings, per-request directives and the fault grammar.

A *fault* is a short text such as ``429:empty`` or ``disconnect:5`` (see :func:`parse_fault`).
A *directive* is a ``key=value`` pair sent in the ``X-Emulator`` header or in a
``[[emulator: key=value; ...]]`` marker inside the prompt (see :func:`parse_directives`).
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Dialect = Literal["gateway", "anyfast"]

STATUS_FAULTS = frozenset({403, 404, 429, 500, 502, 503, 504})
_MARKER = re.compile(r"[ \t]*\[\[\s*emulator\s*:(.*?)\]\][ \t]*", re.IGNORECASE | re.DOTALL)


class FaultError(ValueError):
    """A fault or directive text that does not follow the grammar."""


class RequestKind(enum.StrEnum):
    """What a request is, which decides the faults that can apply to it."""

    MODELS = "models"
    CHAT = "chat"
    CHAT_STREAM = "chat_stream"
    IMAGE = "image"
    VIDEO_CREATE = "video_create"
    VIDEO_QUERY = "video_query"
    FILE = "file"


class Slot(enum.StrEnum):
    """Faults in the same slot exclude each other; the first one queued wins."""

    ANSWER = "answer"
    STREAM = "stream"
    DRIP = "drip"
    OUTCOME = "outcome"
    ITEM = "item"
    NOTFOUND = "notfound"
    TEXT = "text"
    FINISH = "finish"


_ALL_KINDS = frozenset(RequestKind)
JSON_ANSWERS = frozenset({RequestKind.IMAGE, RequestKind.VIDEO_CREATE, RequestKind.VIDEO_QUERY})
"""Requests answered with one JSON body, where ``stall`` holds the body back and ``drip``
trickles it out (``studio.emulator.app``)."""
_APPLIES: dict[str, frozenset[RequestKind]] = {
    "status": _ALL_KINDS,
    "disconnect": _ALL_KINDS,
    "malformed": frozenset({RequestKind.CHAT_STREAM}),
    "error-event": frozenset({RequestKind.CHAT_STREAM}),
    "stall": frozenset({RequestKind.CHAT_STREAM}) | JSON_ANSWERS,
    "silent": frozenset({RequestKind.CHAT_STREAM}),
    "hang": frozenset({RequestKind.CHAT, RequestKind.CHAT_STREAM}),
    "content-filter": frozenset({RequestKind.CHAT, RequestKind.CHAT_STREAM}),
    "drip": frozenset({RequestKind.CHAT_STREAM, RequestKind.FILE}) | JSON_ANSWERS,
    "fail": frozenset({RequestKind.VIDEO_CREATE}),
    "legacy-url": frozenset({RequestKind.VIDEO_CREATE}),
    "item-fail": frozenset({RequestKind.IMAGE}),
    "notfound": frozenset({RequestKind.VIDEO_QUERY}),
    "expired": frozenset({RequestKind.FILE}),
    "hostile": frozenset({RequestKind.MODELS, RequestKind.CHAT, RequestKind.CHAT_STREAM}),
}
_SLOTS: dict[str, Slot] = {
    "status": Slot.ANSWER,
    "disconnect": Slot.ANSWER,
    "expired": Slot.ANSWER,
    "malformed": Slot.STREAM,
    "error-event": Slot.STREAM,
    "stall": Slot.STREAM,
    "silent": Slot.STREAM,
    "hang": Slot.ANSWER,
    "drip": Slot.DRIP,
    "fail": Slot.OUTCOME,
    "legacy-url": Slot.OUTCOME,
    "item-fail": Slot.ITEM,
    "notfound": Slot.NOTFOUND,
    "hostile": Slot.TEXT,
    "content-filter": Slot.FINISH,
}


KIND_NAMES: dict[RequestKind, str] = {
    RequestKind.MODELS: "the model list",
    RequestKind.CHAT: "chat requests",
    RequestKind.CHAT_STREAM: "streamed chat",
    RequestKind.IMAGE: "image generations",
    RequestKind.VIDEO_CREATE: "video creates",
    RequestKind.VIDEO_QUERY: "video queries",
    RequestKind.FILE: "file downloads",
}
_ROUTES: tuple[tuple[str, RequestKind], ...] = (
    ("/v1/models", RequestKind.MODELS),
    ("/v1/chat/completions", RequestKind.CHAT),
    ("/v1/chat/completions", RequestKind.CHAT_STREAM),
    ("/v1/images/generations", RequestKind.IMAGE),
    ("/v1/video/generations", RequestKind.VIDEO_CREATE),
    ("/v1/video/generations/", RequestKind.VIDEO_QUERY),
    ("/kling/v1/videos/", RequestKind.VIDEO_CREATE),
    ("/kling/v1/videos/", RequestKind.VIDEO_QUERY),
    ("/files/", RequestKind.FILE),
)
"""The path each kind of request is sent to (a prefix where the path goes on)."""


def kinds_under(path: str) -> frozenset[RequestKind]:
    """The kinds of request that a fault limited to paths starting with ``path`` can meet."""
    path = path or "/"
    return frozenset(
        kind for route, kind in _ROUTES if route.startswith(path) or path.startswith(route)
    )


def where_it_applies(fault: Fault) -> str:
    """``"streamed chat, image generations, ..."``: the requests ``fault`` changes."""
    return ", ".join(name for kind, name in KIND_NAMES.items() if fault.applies_to(kind))


def check_applies(fault: Fault, kinds: frozenset[RequestKind], where: str) -> None:
    """Raise :class:`FaultError` when ``fault`` would change none of ``kinds`` (it would be
    accepted and then do nothing): the message says where it does apply."""
    if not any(fault.applies_to(kind) for kind in kinds):
        raise FaultError(
            f"fault {fault.spec!r} does nothing on {where}; "
            f"{fault.kind} applies to {where_it_applies(fault)}"
        )


@dataclass(frozen=True, slots=True)
class Fault:
    """One parsed fault.

    ``kind`` is the family (``status``, ``disconnect``, ``stall`` …); ``status`` and
    ``variant`` describe status faults (``429`` + ``empty``) and ``malformed:usage``;
    ``number`` holds the N, S, MS or K argument; ``reason`` the text of ``fail:REASON``.
    """

    kind: str
    spec: str
    status: int = 0
    variant: str = ""
    number: float = 0.0
    reason: str = ""

    @property
    def slot(self) -> Slot:
        """The slot this fault occupies; one fault per slot applies to a request."""
        return _SLOTS[self.kind]

    def applies_to(self, kind: RequestKind) -> bool:
        """Whether this fault changes a request of the given kind."""
        return kind in _APPLIES[self.kind]

    @property
    def count(self) -> int:
        """The integer argument (N chunks or bytes, K-th item)."""
        return int(self.number)


def _number(text: str, spec: str, *, integer: bool, minimum: float) -> float:
    try:
        value = float(int(text)) if integer else float(text)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise FaultError(f"fault {spec!r}: {text!r} is not {kind}") from None
    if not math.isfinite(value) or value < minimum:
        raise FaultError(f"fault {spec!r}: the argument must be at least {minimum:g}")
    return value


def parse_fault(spec: str) -> Fault:
    """Parse one fault text.

    Grammar: ``429`` | ``429:task`` | ``429:empty`` | ``429:retry-after=S`` |
    ``429:retry-after-ms=MS`` | ``403`` | ``404`` | ``500`` | ``500:html`` | ``502`` | ``503`` |
    ``504`` |
    ``disconnect:N`` | ``malformed:N`` | ``malformed:usage`` | ``error-event:N`` | ``stall:S`` |
    ``silent:S`` | ``hang:S`` | ``drip:MS`` | ``content-filter:N`` |
    ``fail`` | ``fail:REASON`` | ``legacy-url`` | ``item-fail:K`` | ``notfound:400|404`` |
    ``expired`` | ``hostile`` | ``STATUS:hostile`` (any 4xx or 5xx).
    """
    text = spec.strip()
    head, sep, arg = text.partition(":")
    head = head.strip().lower()
    arg = arg.strip()
    if head.isdigit():
        status = int(head)
        hostile = sep and arg.lower() == "hostile" and 400 <= status <= 599
        if status not in STATUS_FAULTS and not hostile:
            raise FaultError(f"fault {spec!r}: status must be one of {sorted(STATUS_FAULTS)}")
        return _status_fault(text, status, arg if sep else "")
    if head == "malformed" and arg.lower() == "usage":
        return Fault("malformed", text, variant="usage")
    if head in ("disconnect", "malformed", "error-event", "item-fail", "content-filter"):
        if not sep:
            raise FaultError(f"fault {spec!r} needs an argument, e.g. {head}:3")
        minimum = 1.0 if head == "item-fail" else 0.0
        return Fault(head, text, number=_number(arg, text, integer=True, minimum=minimum))
    if head in ("stall", "drip", "silent", "hang"):
        if not sep:
            raise FaultError(f"fault {spec!r} needs an argument, e.g. {head}:5")
        return Fault(head, text, number=_number(arg, text, integer=False, minimum=0.0))
    if head == "fail":
        return Fault("fail", text, reason=arg)
    if head in ("legacy-url", "expired", "hostile") and not sep:
        return Fault(head, text)
    if head == "notfound" and arg in ("400", "404"):
        return Fault("notfound", text, status=int(arg))
    raise FaultError(f"unknown fault {spec!r}")


def _status_fault(spec: str, status: int, arg: str) -> Fault:
    if not arg:
        return Fault("status", spec, status=status)
    key, _, value = arg.partition("=")
    key = key.strip().lower()
    if status == 429 and key in ("task", "empty") and not value:
        return Fault("status", spec, status=status, variant=key)
    if status == 429 and key in ("retry-after", "retry-after-ms"):
        number = _number(value.strip(), spec, integer=False, minimum=0.0)
        return Fault("status", spec, status=status, variant=key, number=number)
    if key == "hostile" and not value:
        return Fault("status", spec, status=status, variant="hostile")
    if status == 500 and key == "html" and not value:
        return Fault("status", spec, status=status, variant="html")
    raise FaultError(f"unknown fault {spec!r}")


@dataclass(frozen=True, slots=True)
class StandingFault:
    """A fault from :attr:`EmulatorConfig.faults`: ``SPEC[*COUNT][@PATH]``."""

    fault: Fault
    count: int | None
    path: str


def parse_standing_fault(entry: str) -> StandingFault:
    """Parse a config fault entry such as ``429:empty``, ``disconnect:3*2`` or ``500@/kling``."""
    text = entry.strip()
    path = "/"
    at = text.find("@/")
    if at >= 0:
        text, path = text[:at], text[at + 1 :]
    count: int | None = None
    star = re.search(r"\*(\d+)$", text)
    if star:
        count = int(star.group(1))
        text = text[: star.start()]
        if count < 1:
            raise FaultError(f"fault entry {entry!r}: the count must be at least 1")
    fault = parse_fault(text)
    check_applies(fault, kinds_under(path), f"requests under {path}")
    return StandingFault(fault, count, path)


@dataclass(frozen=True, slots=True)
class Directives:
    """Per-request instructions to the emulator (``None`` = not given)."""

    tokens: int | None = None
    rate: float | None = None
    think: int | None = None
    faults: tuple[Fault, ...] = ()
    dialect: Dialect | None = None
    notfound: int | None = None
    seconds: float | None = None
    delay: float | None = None
    """Seconds an image generation or a video create waits before answering."""

    def over(self, other: Directives) -> Directives:
        """These directives with ``other`` filling the gaps (``self`` wins, faults first)."""
        return Directives(
            tokens=self.tokens if self.tokens is not None else other.tokens,
            rate=self.rate if self.rate is not None else other.rate,
            think=self.think if self.think is not None else other.think,
            faults=self.faults + other.faults,
            dialect=self.dialect or other.dialect,
            notfound=self.notfound if self.notfound is not None else other.notfound,
            seconds=self.seconds if self.seconds is not None else other.seconds,
            delay=self.delay if self.delay is not None else other.delay,
        )


def parse_directives(text: str) -> Directives:
    """Parse ``key=value; key=value``.

    Keys: tokens, rate, think, fault (may repeat), dialect, notfound, seconds, delay.
    """
    result = Directives()
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep or not value:
            raise FaultError(f"emulator directive {part!r} must look like key=value")
        result = _apply_directive(result, key, value)
    return result


def _apply_directive(d: Directives, key: str, value: str) -> Directives:
    if key == "fault":
        return replace(d, faults=(*d.faults, parse_fault(value)))
    where = f"emulator directive {key}={value}"
    if key == "tokens":
        return replace(d, tokens=int(_number(value, where, integer=True, minimum=0)))
    if key == "think":
        return replace(d, think=int(_number(value, where, integer=True, minimum=0)))
    if key == "rate":
        return replace(d, rate=_number(value, where, integer=False, minimum=0))
    if key == "seconds":
        return replace(d, seconds=_number(value, where, integer=False, minimum=0))
    if key == "delay":
        return replace(d, delay=_number(value, where, integer=False, minimum=0))
    if key == "dialect":
        if value == "gateway":
            return replace(d, dialect="gateway")
        if value == "anyfast":
            return replace(d, dialect="anyfast")
        raise FaultError("emulator directive dialect must be gateway or anyfast")
    if key == "notfound":
        if value not in ("400", "404"):
            raise FaultError("emulator directive notfound must be 400 or 404")
        return replace(d, notfound=int(value))
    raise FaultError(f"unknown emulator directive {key!r}")


def extract_markers(text: str) -> tuple[str, Directives]:
    """Remove every ``[[emulator: ...]]`` marker from ``text``; return the clean text and the
    merged directives (a later marker wins over an earlier one)."""
    found: list[str] = []

    def _cut(match: re.Match[str]) -> str:
        found.append(match.group(1))
        return " "

    clean = _MARKER.sub(_cut, text)
    if not found:
        return text, Directives()
    merged = Directives()
    for body in found:
        merged = parse_directives(body).over(merged)
    return clean.strip(), merged


def text_items(items: list[Any]) -> str:
    """The ``text`` of every ``{"type": "text"}`` item, one per line: where a marker may sit in a
    list of message parts or of video ``content`` items."""
    return "\n".join(
        str(item.get("text", ""))
        for item in items
        if isinstance(item, dict) and item.get("type") == "text"
    )


def strip_markers(text: str) -> str:
    """``text`` without emulator markers (directives ignored, never raises)."""
    if "[[" not in text:
        return text
    return _MARKER.sub(" ", text).strip()


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator behaves.

    ``api_key``: the key accepted (``None``: :class:`EmulatorServer` makes one up, and
    :func:`serve_forever` accepts any non-empty key). ``speed`` divides every emulated delay.
    ``token_rate``: chat tokens per second (0 = as fast as possible). ``reply_tokens``: default
    reply length; the reply ends with the section that reaches it (never mid-table) unless
    ``exact_reply_length`` is set (a ``tokens=N`` directive is always exact); either way it
    never passes the request's ``max_tokens``. ``not_found_status``: 400 (gateway) or 404
    (AnyFast OpenAPI) for unknown task ids. ``status_dialect``: ``gateway`` or ``anyfast``
    Kling status names. ``faults``: standing faults, each ``SPEC[*COUNT][@PATH]``.
    ``ping_interval``: seconds between SSE keep-alives. ``video_seconds``: emulated length of a
    video task from creation to its end. ``data_dir``: a folder where tasks and generated files
    are kept across restarts and shared between processes (``None``: memory only).
    """

    api_key: str | None = None
    speed: float = 1.0
    token_rate: float = 60.0
    reply_tokens: int = 180
    exact_reply_length: bool = False
    not_found_status: int = 400
    status_dialect: Dialect = "gateway"
    faults: tuple[str, ...] = field(default=())
    ping_interval: float = 10.0
    video_seconds: float = 45.0
    data_dir: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError("speed must be a positive number")
        if not (math.isfinite(self.token_rate) and self.token_rate >= 0):
            raise ValueError("token_rate must be zero or positive")
        if self.reply_tokens < 0:
            raise ValueError("reply_tokens must be zero or positive")
        if self.not_found_status not in (400, 404):
            raise ValueError("not_found_status must be 400 or 404")
        if self.status_dialect not in ("gateway", "anyfast"):
            raise ValueError("status_dialect must be 'gateway' or 'anyfast'")
        if not (math.isfinite(self.ping_interval) and self.ping_interval > 0):
            raise ValueError("ping_interval must be a positive number")
        if not (math.isfinite(self.video_seconds) and self.video_seconds >= 0):
            raise ValueError("video_seconds must be zero or positive")
        for entry in self.faults:
            parse_standing_fault(entry)

    def delay(self, base_seconds: float) -> float:
        """Real seconds for an emulated delay of ``base_seconds``."""
        return base_seconds / self.speed
