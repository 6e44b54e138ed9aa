"""An incremental Server-Sent Events decoder that follows the WHATWG rules exactly.

Hand-written on purpose: the common libraries lose the first event after a byte-order mark, die on
``event: ping`` with no data, and split lines on U+2028 (``str.splitlines``). This one works on
bytes, so a multi-byte character or a CRLF split across network chunks survives, and any chunking
of the same bytes yields the same events (a property test checks it).

Rules implemented (client-guide §2):

- one leading U+FEFF is stripped, even when its three bytes arrive split;
- lines end with CRLF, LF or CR, and nothing else;
- a line starting with ``:`` is a comment; a line without a colon is a field with an empty value;
  after the first colon exactly one leading space is removed;
- fields ``event``, ``data`` (joined with ``\\n``), ``id`` (ignored if it holds NUL; persists) and
  ``retry`` (ASCII digits only); others are ignored;
- a blank line dispatches, but only when at least one ``data`` line was seen;
- an event not ended by a blank line at the end of the stream is discarded.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event. ``event`` is ``"message"`` unless the stream named it."""

    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Feed it bytes as they arrive; it returns the events completed by each chunk."""

    __slots__ = (
        "_bom_done",
        "_data",
        "_event",
        "_last_id",
        "_partial",
        "_pending_cr",
        "_retry",
        "comments",
    )

    def __init__(self) -> None:
        self._partial = b""
        self._bom_done = False
        self._pending_cr = False
        self._data: list[bytes] = []
        self._event = ""
        self._last_id = ""
        self._retry: int | None = None
        self.comments = 0
        """How many comment lines (keep-alives such as ``: PING``) were seen."""

    @property
    def last_event_id(self) -> str:
        return self._last_id

    @property
    def has_unterminated_event(self) -> bool:
        """True when bytes of an event arrived that no blank line has dispatched yet."""
        return bool(self._data or self._partial)

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one network chunk; returns the events it completed (often none or one)."""
        if not chunk:
            return []
        if self._pending_cr:
            # The previous chunk ended in CR: a LF starting this one belongs to that line ending.
            self._pending_cr = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
                if not chunk:
                    return []
        if self._partial:
            chunk = self._partial + chunk
            self._partial = b""
        if not self._bom_done:
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._partial = chunk
                return []
            self._bom_done = True
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if b"\r" in chunk:
            if chunk[-1] == 0x0D:
                self._pending_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        self._partial = lines.pop()
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    # Dispatch (inlined: this runs once per chat chunk).
                    raw = data[0] if len(data) == 1 else b"\n".join(data)
                    events.append(
                        ServerSentEvent(
                            raw.decode("utf-8", "replace"),
                            self._event or "message",
                            self._last_id,
                            self._retry,
                        )
                    )
                    data = self._data = []
                self._event = ""
                continue
            if line.startswith(b"data:"):
                # The hot path: every chat chunk is one `data: {...}` line.
                data.append(line[6:] if line[5:6] == b" " else line[5:])
                continue
            if line[0] == 0x3A:  # ":" — a comment, used as a keep-alive
                self.comments += 1
                continue
            self._field(line)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of stream. Per the spec an event without its blank line is discarded."""
        self._partial = b""
        self._data = []
        self._event = ""
        return []

    def _field(self, line: bytes) -> None:
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\x00" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)
