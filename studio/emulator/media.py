"""Media helpers: deterministic PNG rendering, image sniffing, data URIs and signed-link queries."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_RENDER_SIDE = 512

_SIGNING_KEY = secrets.token_bytes(32)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the first bytes of an image say about it."""

    format: str
    width: int
    height: int


def sniff_image(data: bytes) -> ImageInfo | None:
    """Format and pixel size of a PNG, JPEG, GIF or WEBP image, from its header bytes."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return ImageInfo("PNG", width, height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ImageInfo("GIF", width, height)
    if data.startswith(b"\xff\xd8"):
        return _sniff_jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _sniff_webp(data)
    return None


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


def _sniff_jpeg(data: bytes) -> ImageInfo | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageInfo("JPEG", width, height)
        pos += 2 + length
    return None


def _sniff_webp(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("WEBP", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageInfo("WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("WEBP", width, height)
    return None


def decode_data_uri(uri: str) -> tuple[str, bytes] | None:
    """``(media type, bytes)`` of a ``data:`` URI, or ``None`` if it is not a valid one."""
    if not uri.startswith("data:") or "," not in uri:
        return None
    header, payload = uri[5:].split(",", 1)
    parts = header.split(";")
    media_type = parts[0] or "text/plain"
    if "base64" in (p.strip().lower() for p in parts[1:]):
        try:
            return media_type, base64.b64decode(payload.strip(), validate=False)
        except (binascii.Error, ValueError):
            return None
    return media_type, unquote(payload).encode("utf-8")


def describe_image_ref(ref: str) -> str:
    """A short human description: ``a 64×48 PNG`` for inline data, the file name for links."""
    if ref.startswith("data:"):
        decoded = decode_data_uri(ref)
        if decoded is None:
            return "an unreadable data URI"
        info = sniff_image(decoded[1])
        if info is None:
            return f"an image in an unrecognised format ({len(decoded[1])} bytes)"
        return f"a {info.width}×{info.height} {info.format}"
    parts = urlsplit(ref)
    name = unquote(PurePosixPath(parts.path).name)
    return name or parts.netloc or ref[:40]


def fit_within(width: int, height: int, limit: int = MAX_RENDER_SIDE) -> tuple[int, int]:
    """Scale ``width``×``height`` down so the longer side is at most ``limit``, keeping the
    aspect ratio."""
    longest = max(width, height)
    if longest <= limit:
        return width, height
    factor = limit / longest
    return max(1, round(width * factor)), max(1, round(height * factor))


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _gradient(start: tuple[int, int, int], end: tuple[int, int, int], steps: int) -> bytes:
    out = bytearray()
    span = max(1, steps - 1)
    for i in range(steps):
        out += bytes(round(a + (b - a) * i / span) for a, b in zip(start, end, strict=True))
    return bytes(out)


def render_png(width: int, height: int, seed: str) -> bytes:
    """A real RGB PNG of exactly ``width``×``height``: diagonal gradients in bands, colours
    derived from ``seed`` (same seed, same bytes).

    Each row is a slice of a precomputed diagonal strip, so rendering costs a few milliseconds
    even at 512×512.
    """
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    c1, c2, c3, c4 = ((digest[i], digest[i + 1], digest[i + 2]) for i in (0, 3, 6, 9))
    band = 8 + digest[12] % 56
    steps = width + height
    strips = (_gradient(c1, c2, steps), _gradient(c3, c4, steps))
    raw = bytearray()
    for y in range(height):
        strip = strips[(y // band) % 2]
        raw += b"\x00"
        raw += strip[3 * y : 3 * (y + width)]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(bytes(raw), 6)),
            _png_chunk(b"IEND", b""),
        )
    )


def tos_query(name: str) -> str:
    """A TOS-style pre-signed query string (valid 24 h) for a generated file."""
    now = time.gmtime()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", now)
    day = time.strftime("%Y%m%d", now)
    signature = hmac.new(_SIGNING_KEY, f"{name}\n{stamp}".encode(), hashlib.sha256).hexdigest()
    return (
        "X-Tos-Algorithm=TOS4-HMAC-SHA256"
        f"&X-Tos-Credential=AKLTemulator%2F{day}%2Fcn-beijing%2Ftos%2Frequest"
        f"&X-Tos-Date={stamp}&X-Tos-Expires=86400"
        f"&X-Tos-Signature={signature}&X-Tos-SignedHeaders=host"
    )
