"""Every SSE rule of client-guide §2 as a test vector, plus the chunking property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.api.sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


def datas(*chunks: bytes) -> list[str]:
    return [e.data for e in decode(*chunks)]


VECTORS: list[tuple[str, bytes, list[tuple[str, str, str]]]] = [
    ("simple", b"data: hello\n\n", [("message", "hello", "")]),
    ("two events", b"data: a\n\ndata: b\n\n", [("message", "a", ""), ("message", "b", "")]),
    ("bom stripped", b"\xef\xbb\xbfdata: first\n\n", [("message", "first", "")]),
    (
        "only one bom stripped",
        b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n",
        [],  # the second BOM makes the field name "\ufeffdata", which is ignored
    ),
    (
        "crlf endings",
        b"data: a\r\n\r\ndata: b\r\n\r\n",
        [("message", "a", ""), ("message", "b", "")],
    ),
    ("cr endings", b"data: a\r\rdata: b\r\r", [("message", "a", ""), ("message", "b", "")]),
    ("mixed endings", b"data: a\r\n\ndata: b\r\r\n", [("message", "a", ""), ("message", "b", "")]),
    ("comment ignored", b": PING\ndata: x\n\n", [("message", "x", "")]),
    ("comment only", b": PING\n\n: PING\n\n", []),
    ("no space after colon", b"data:x\n\n", [("message", "x", "")]),
    ("only one space removed", b"data:  two\n\n", [("message", " two", "")]),
    ("multi-line data joined", b"data: a\ndata: b\n\n", [("message", "a\nb", "")]),
    ("field without colon is empty", b"data\n\n", [("message", "", "")]),
    ("data with empty value then text", b"data\ndata: x\n\n", [("message", "\nx", "")]),
    ("event ping without data", b"event: ping\n\n", []),
    ("event ping then message", b"event: ping\n\ndata: x\n\n", [("message", "x", "")]),
    ("named event", b"event: update\ndata: x\n\n", [("update", "x", "")]),
    (
        "event name resets",
        b"event: a\ndata: 1\n\ndata: 2\n\n",
        [("a", "1", ""), ("message", "2", "")],
    ),
    (
        "id persists",
        b"id: 7\ndata: a\n\ndata: b\n\n",
        [("message", "a", "7"), ("message", "b", "7")],
    ),
    (
        "id with nul ignored",
        b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
        [("message", "a", "1"), ("message", "b", "1")],
    ),
    ("blank lines after id", b"id: 1\n\n\n\ndata: a\n\n", [("message", "a", "1")]),
    ("unknown field ignored", b"foo: bar\ndata: a\n\n", [("message", "a", "")]),
    ("colon in value kept", b"data: a: b\n\n", [("message", "a: b", "")]),
    ("unterminated event discarded", b"data: a\n\ndata: b\n", [("message", "a", "")]),
    ("unterminated line discarded", b"data: a\n\ndata: b", [("message", "a", "")]),
    ("u2028 is not a line end", "data: a\u2028b\n\n".encode(), [("message", "a\u2028b", "")]),
    ("nel is not a line end", "data: a\x85b\n\n".encode(), [("message", "a\x85b", "")]),
    ("invalid utf-8 replaced", b"data: \xff\n\n", [("message", "\ufffd", "")]),
    ("done marker is data", b"data: [DONE]\n\n", [("message", "[DONE]", "")]),
]


@pytest.mark.parametrize(
    ("stream", "expected"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS]
)
def test_vector(stream: bytes, expected: list[tuple[str, str, str]]) -> None:
    got = [(e.event, e.data, e.id) for e in decode(stream)]
    assert got == expected
    # The same bytes fed one at a time must give the same events.
    one_by_one = [(e.event, e.data, e.id) for e in decode(*(bytes([b]) for b in stream))]
    assert one_by_one == expected


def test_retry_field_digits_only() -> None:
    events = decode(b"retry: 1500\ndata: a\n\nretry: 15x\ndata: b\n\nretry:\ndata: c\n\n")
    assert [e.retry for e in events] == [1500, 1500, 1500]


def test_bom_split_across_chunks() -> None:
    assert datas(b"\xef", b"\xbb", b"\xbfdata: x\n\n") == ["x"]
    assert datas(b"\xef\xbb", b"\xbfdata: y\n\n") == ["y"]


def test_short_first_chunk_that_is_not_a_bom() -> None:
    assert datas(b"d", b"ata: z\n\n") == ["z"]
    assert datas(b"\n", b"data: z\n\n") == ["z"]


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    # If the CR and LF were counted as two line endings, the LF would be a blank line and
    # dispatch "a" early, joining nothing; with event fields this shows up as a lost event name.
    assert [(e.event, e.data) for e in decode(b"event: x\r", b"\ndata: a\r", b"\n\r\n")] == [
        ("x", "a")
    ]


def test_multibyte_character_split_across_chunks() -> None:
    raw = "data: héllo ✓ 🎬\n\n".encode()
    cut = raw.index("🎬".encode()) + 2
    assert datas(raw[:cut], raw[cut:]) == ["héllo ✓ 🎬"]


def test_comments_are_counted() -> None:
    decoder = SSEDecoder()
    decoder.feed(b": PING\n: PING\ndata: x\n\n")
    assert decoder.comments == 2


def test_unterminated_event_is_reported() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: partial")
    assert decoder.has_unterminated_event
    assert decoder.close() == []


GATEWAY_STREAM = (
    b'data: {"id":"chatcmpl-X","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
    b": PING\n\n"
    b'data: {"id":"chatcmpl-X","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    + 'data: {"choices":[{"delta":{"content":"lö \u2028 🎬"}}]}\n\n'.encode()
    + b'data: {"choices":[],"usage":{"prompt_tokens":1}}\r\n\r\n'
    b"event: ping\n\n"
    b"id: 3\r\rdata: [DONE]\n\n"
)

events_alphabet = st.sampled_from(
    [
        b"data: x\n\n",
        b"data: \xc3\xa9\xe2\x9c\x93\n\n",
        b": PING\n",
        b"\r\n",
        b"\r",
        b"\n",
        b"event: ping\n",
        b"id: 9\n",
        b"retry: 10\n",
        b"data\n",
        b"data:y\r\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(st.just(GATEWAY_STREAM), st.lists(events_alphabet, max_size=30).map(b"".join)),
    bom=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=40),
)
def test_any_chunking_yields_the_same_events(body: bytes, bom: bool, cuts: list[int]) -> None:
    stream = (b"\xef\xbb\xbf" if bom else b"") + body
    whole = decode(stream)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert decode(*pieces) == whole
