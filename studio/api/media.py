"""Images in the form each AnyFast endpoint accepts, checked before any request is sent.

Chat vision, Seedream and Seedance take an http(s) URL or a ``data:`` URI (Seedance also an
``asset://`` id): :func:`image_data_uri`. Kling takes a URL or *bare* base64 of a JPEG or PNG of
at most 10 MB and at least 300 px: :func:`image_for_kling`. Formats are recognised from the
bytes, never from the file name. Every problem is a :class:`MediaInputError` naming the file.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import mimetypes
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from studio.api.errors import MediaInputError

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB
KLING_MAX_BYTES = 10 * MB
KLING_MIN_SIDE = 300
KLING_MAX_ASPECT = 2.5
KLING_FORMATS = ("image/jpeg", "image/png")
HEADER_BYTES = MB  # enough to reach a JPEG's frame header past large EXIF/ICC segments

Source = str | os.PathLike[str]

_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
_NOT_IMAGES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "a program",
    b"II*\x00": "a TIFF image, which is not supported",
    b"MM\x00*": "a TIFF image, which is not supported",
    b"ID3": "MP3 audio",
    b"OggS": "Ogg audio or video",
    b"fLaC": "FLAC audio",
    b"\x1aE\xdf\xa3": "a Matroska or WebM video",
}
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What a UI chip shows about an attachment; None where it cannot be known (remote URLs)."""

    name: str
    mime: str | None
    size_bytes: int | None
    width: int | None
    height: int | None


def _ftyp_brands(data: bytes) -> set[bytes]:
    end = min(len(data), int.from_bytes(data[:4], "big"))
    return {data[8:12]} | {data[i : i + 4] for i in range(16, end - 3, 4)}


def sniff_mime(data: bytes) -> str | None:
    """The image MIME type the bytes start with (PNG, JPEG, GIF, WEBP, BMP, HEIC/HEIF, AVIF)."""
    for magic, mime in _SIGNATURES.items():
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return "image/bmp"
    if data[4:8] == b"ftyp":
        brands = _ftyp_brands(data)
        if brands & {b"avif", b"avis"}:
            return "image/avif"
        if brands & {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}:
            return "image/heic"
        if brands & {b"mif1", b"msf1"}:
            return "image/heif"
    return None


def _looks_like(data: bytes) -> str:
    """A short description of bytes that are not an image, for error messages."""
    for magic, what in _NOT_IMAGES.items():
        if data.startswith(magic):
            return what
    if data[4:8] == b"ftyp":
        return "an MP4 or QuickTime video"
    if data[:4] == b"RIFF":
        return {b"WAVE": "WAV audio", b"AVI ": "an AVI video"}.get(data[8:12], "a RIFF file")
    head = data[:4096]
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "binary data of an unknown kind"
    if "\x00" in text:
        return "binary data of an unknown kind"
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if "<svg" in lowered[:2048]:
        return "an SVG image (vector images are not supported; export it as PNG)"
    if lowered.startswith(("<!doctype html", "<html")):
        return "an HTML page"
    return "text"


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker in _JPEG_FRAMES:
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            return int.from_bytes(data[i + 7 : i + 9], "big"), height
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from the header of a PNG, JPEG, GIF, WEBP or BMP; None if unknown."""
    size: tuple[int, int] | None = None
    mime = sniff_mime(data)
    if mime == "image/png" and data[12:16] == b"IHDR" and len(data) >= 24:
        size = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    elif mime == "image/gif" and len(data) >= 10:
        size = int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    elif mime == "image/jpeg":
        size = _jpeg_size(data)
    elif mime == "image/webp" and len(data) >= 25:
        chunk = data[12:16]
        if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a" and len(data) >= 30:
            size = (
                int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF,
            )
        elif chunk == b"VP8L" and data[20] == 0x2F:
            bits = int.from_bytes(data[21:25], "little")
            size = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        elif chunk == b"VP8X" and len(data) >= 30:
            size = (
                1 + int.from_bytes(data[24:27], "little"),
                1 + int.from_bytes(data[27:30], "little"),
            )
    elif mime == "image/bmp" and len(data) >= 26:
        if int.from_bytes(data[14:18], "little") == 12:
            size = int.from_bytes(data[18:20], "little"), int.from_bytes(data[20:22], "little")
        else:
            width = int.from_bytes(data[18:22], "little", signed=True)
            size = abs(width), abs(int.from_bytes(data[22:26], "little", signed=True))
    return size if size and size[0] > 0 and size[1] > 0 else None


def _error(name: str, reason: str) -> MediaInputError:
    return MediaInputError(f"Cannot attach {name}: {reason}")


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _is_scheme(source: Source, *schemes: str) -> bool:
    return isinstance(source, str) and source[:12].lower().startswith(schemes)


def _local_path(source: Source) -> Path:
    if isinstance(source, str) and _is_scheme(source, "file:"):
        parts = urlsplit(source)
        if parts.netloc not in ("", "localhost"):
            raise _error(source, f"the file is on another machine ({parts.netloc})")
        return Path(url2pathname(parts.path))
    return Path(source).expanduser()


def _read_local(source: Source, max_bytes: int | None, limit: int | None) -> tuple[bytes, int]:
    """The first ``limit`` bytes (all when None) of a local file and its size, after checks."""
    name = str(source)
    path = _local_path(source)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise _error(name, "it is a directory, not an image file")
        if not stat.S_ISREG(info.st_mode):
            raise _error(name, "it is not a regular file")
        if info.st_size == 0:
            raise _error(name, "the file is empty")
        if max_bytes is not None and info.st_size > max_bytes:
            raise _error(
                name,
                f"the file is too big ({_megabytes(info.st_size)}; the limit is "
                f"{_megabytes(max_bytes)})",
            )
        with path.open("rb") as handle:
            data = handle.read(-1 if limit is None else limit)
    except FileNotFoundError:
        raise _error(name, "no such file") from None
    except PermissionError:
        raise _error(name, "permission denied (the file cannot be read)") from None
    except OSError as exc:
        raise _error(name, f"the file cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise _error(name, "the file is empty")
    if max_bytes is not None and len(data) > max_bytes:  # grew since stat()
        raise _error(name, f"the file is too big (the limit is {_megabytes(max_bytes)})")
    return data, info.st_size


def _require_image(name: str, data: bytes) -> str:
    mime = sniff_mime(data)
    if mime is None:
        raise _error(
            name, f"not an image (it looks like {_looks_like(data)}); use PNG, JPEG, GIF or WEBP"
        )
    return mime


def decode_data_uri(uri: str) -> bytes:
    """The bytes carried by a ``data:`` URI (base64 or percent-encoded)."""
    header, comma, payload = uri.partition(",")
    if not comma:
        raise _error("the pasted image", "the data: URI has no ',' before its data")
    if not header.lower().endswith(";base64"):
        return unquote_to_bytes(payload)
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _error("the pasted image", "the data: URI is not valid base64") from None


def _checked_data_uri(uri: str, max_bytes: int) -> str:
    """A ``data:`` URI checked like a file: it must declare an image type, decode, hold at most
    ``max_bytes`` of an image. Returned as it is, or rewritten as base64 with the type its bytes
    show when it was percent-encoded or declared another image type (as a file's type comes
    from its bytes, never its name)."""
    name = "the pasted image"
    header = uri.partition(",")[0][len("data:") :]
    declared = header.split(";", 1)[0].strip().lower()
    if not declared.startswith("image/"):
        raise _error(
            name,
            f"the data: URI declares {declared or 'text/plain'}, not an image; "
            "use PNG, JPEG, GIF or WEBP",
        )
    data = decode_data_uri(uri)
    if not data:
        raise _error(name, "the data: URI holds no data")
    if len(data) > max_bytes:
        raise _error(
            name, f"it is too big ({_megabytes(len(data))}; the limit is {_megabytes(max_bytes)})"
        )
    mime = _require_image(name, data)
    if declared == mime and header.lower().endswith(";base64"):
        return uri
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_data_uri(source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """For chat vision, Seedream and Seedance: URLs and ``asset://`` ids as they are, a
    ``data:`` URI once checked like a file, a local path (``~`` and ``file://`` accepted) as
    ``data:<sniffed mime>;base64,...``."""
    if _is_scheme(source, "data:"):
        return _checked_data_uri(str(source), max_bytes)
    if _is_scheme(source, "http://", "https://", "asset://"):
        return str(source)
    data, _ = _read_local(source, max_bytes, None)
    mime = _require_image(str(source), data)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_for_kling(
    source: Source, *, max_bytes: int = KLING_MAX_BYTES, min_side: int = KLING_MIN_SIDE
) -> str:
    """For Kling: http(s) URLs as they are, anything else as bare base64 (no ``data:`` prefix).

    Only JPEG and PNG, at most ``max_bytes``, at least ``min_side`` px on the short side and an
    aspect ratio within 1:2.5 to 2.5:1, as Kling requires.
    """
    name = str(source)
    if _is_scheme(source, "http://", "https://"):
        return name
    if _is_scheme(source, "asset://"):
        raise _error(name, "Kling cannot use asset:// references; attach the file or a URL")
    if _is_scheme(source, "data:"):
        name = "the pasted image"
        data = decode_data_uri(str(source))
        if len(data) > max_bytes:
            raise _error(
                name,
                f"it is too big ({_megabytes(len(data))}; the limit is {_megabytes(max_bytes)})",
            )
    else:
        data, _ = _read_local(source, max_bytes, None)
    mime = _require_image(name, data)
    if mime not in KLING_FORMATS:
        raise _error(
            name, f"Kling accepts only JPEG or PNG images, and this is {mime.split('/')[1].upper()}"
        )
    size = image_size(data)
    if size is None:
        raise _error(name, "the image header is damaged (its dimensions cannot be read)")
    width, height = size
    if min(width, height) < min_side:
        raise _error(name, f"it is {width}×{height} px; Kling needs at least {min_side} px a side")
    if max(width, height) > KLING_MAX_ASPECT * min(width, height):
        raise _error(name, f"it is {width}×{height} px; Kling allows aspect ratios up to 2.5:1")
    return base64.b64encode(data).decode("ascii")


def describe_image(source: Source) -> ImageInfo:
    """Name, type, size and dimensions of an attachment, for display; a local file or ``data:``
    URI must be an image (MediaInputError otherwise). Remote URLs are described by name only."""
    if _is_scheme(source, "asset://"):
        return ImageInfo(str(source)[len("asset://") :], None, None, None, None)
    if _is_scheme(source, "http://", "https://"):
        parts = urlsplit(str(source))
        name = unquote(PurePosixPath(parts.path).name) or parts.hostname or str(source)
        guessed = mimetypes.guess_type(parts.path)[0]
        mime = guessed if guessed and guessed.startswith("image/") else None
        return ImageInfo(name, mime, None, None, None)
    if _is_scheme(source, "data:"):
        name, label = "pasted image", "the pasted image"
        data = decode_data_uri(str(source))
        size_bytes = len(data)
    else:
        name, label = _local_path(source).name, str(source)
        data, size_bytes = _read_local(source, None, HEADER_BYTES)
    mime = _require_image(label, data)
    width, height = image_size(data) or (None, None)
    return ImageInfo(name, mime, size_bytes, width, height)


def chat_content(
    text: str, images: Sequence[Source], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> str | list[dict[str, Any]]:
    """OpenAI message ``content``: ``text`` alone when there are no images, else a list of parts
    (the text part first, left out when the text is blank) and one ``image_url`` part per image."""
    if not images:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text.strip() else []
    for image in images:
        parts.append(
            {"type": "image_url", "image_url": {"url": image_data_uri(image, max_bytes=max_bytes)}}
        )
    return parts
