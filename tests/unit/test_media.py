"""Media inputs: format sniffing, header sizes, data URIs, Kling base64 and every error path."""

from __future__ import annotations

import base64
import os
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.api import media
from studio.api.errors import AnyFastError, MediaInputError
from studio.api.media import ImageInfo

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- tiny real images -------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png(width: int, height: int) -> bytes:
    """A valid 8-bit greyscale PNG, all black."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes(width) for _ in range(height))
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int, *, sof: int = 0xC0) -> bytes:
    """SOI, a JFIF APP0, a comment, a fill byte, then the frame header (SOFn) and EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = b"\xff\xfe" + struct.pack(">H", 7) + b"hello"
    frame = bytes([0xFF, sof]) + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + comment + b"\xff" + frame + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def _riff(chunk: bytes, body: bytes) -> bytes:
    payload = b"WEBP" + chunk + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def webp_vp8x(width: int, height: int) -> bytes:
    dims = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return _riff(b"VP8X", b"\x00\x00\x00\x00" + dims)


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return _riff(b"VP8L", b"\x2f" + bits.to_bytes(4, "little") + b"\x00")


def webp_vp8(width: int, height: int) -> bytes:
    return _riff(b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height))


def bmp(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info


def ftyp(*brands: bytes) -> bytes:
    body = brands[0] + b"\x00\x00\x00\x00" + b"".join(brands[1:])
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00" * 16


def put(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def message(exc: pytest.ExceptionInfo[MediaInputError]) -> str:
    return str(exc.value)


# --- sniffing and sizes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (png(1, 1), "image/png"),
        (jpeg(1, 1), "image/jpeg"),
        (gif(1, 1), "image/gif"),
        (b"GIF87a" + bytes(10), "image/gif"),
        (webp_vp8x(1, 1), "image/webp"),
        (bmp(1, 1), "image/bmp"),
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"mif1", b"avif", b"miaf"), "image/avif"),
        (ftyp(b"mif1", b"miaf"), "image/heif"),
        (ftyp(b"isom", b"mp41"), None),
        (b"BMx", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_sniff_mime(data: bytes, mime: str | None) -> None:
    assert media.sniff_mime(data) == mime


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (png(7, 3), (7, 3)),
        (jpeg(640, 480), (640, 480)),
        (jpeg(1200, 800, sof=0xC2), (1200, 800)),  # progressive
        (gif(300, 301), (300, 301)),
        (webp_vp8x(4000, 3000), (4000, 3000)),
        (webp_vp8l(513, 257), (513, 257)),
        (webp_vp8(320, 240), (320, 240)),
        (bmp(10, -20), (10, 20)),  # top-down BMP
        (PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR", None),  # truncated
        (jpeg(0, 10), None),
        (b"\xff\xd8\xff\xe0\x00", None),
        (b"\xff\xd8" + b"\x00" * 20, None),
        (b"hello world", None),
    ],
)
def test_image_size(data: bytes, size: tuple[int, int] | None) -> None:
    assert media.image_size(data) == size


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_sniffing_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    media.sniff_mime(data)
    media.image_size(data)
    media.image_size(b"\xff\xd8\xff" + data)
    media.image_size(b"RIFF\x00\x00\x00\x00WEBP" + data)


@settings(deadline=None)
@given(st.integers(1, 65535), st.integers(1, 65535))
def test_header_dimensions_round_trip(width: int, height: int) -> None:
    assert media.image_size(jpeg(width, height)) == (width, height)
    assert media.image_size(gif(width, height)) == (width, height)
    assert media.image_size(webp_vp8x(width, height)) == (width, height)


# --- image_data_uri ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "https://example.com/a.png",
        "http://example.com/a.png",
        "HTTPS://EXAMPLE.COM/A.PNG",
        "data:image/png;base64,iVBORw0KGgo=",
        "asset://asset-123",
    ],
)
def test_remote_sources_pass_through(source: str) -> None:
    assert media.image_data_uri(source) == source


def test_local_png_becomes_data_uri(tmp_path: Path) -> None:
    data = png(2, 2)
    uri = media.image_data_uri(put(tmp_path, "a.png", data))
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == data


def test_mime_comes_from_bytes_not_extension(tmp_path: Path) -> None:
    assert media.image_data_uri(str(put(tmp_path, "photo.png", jpeg(5, 5)))).startswith(
        "data:image/jpeg;base64,"
    )
    assert media.image_data_uri(put(tmp_path, "noext", gif(1, 1))).startswith("data:image/gif;")


def test_tilde_and_file_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    put(tmp_path, "my pic.webp", webp_vp8x(2, 2))
    expected = media.image_data_uri(tmp_path / "my pic.webp")
    assert expected.startswith("data:image/webp;base64,")
    assert media.image_data_uri("~/my pic.webp") == expected
    assert media.image_data_uri(f"file://{tmp_path}/my%20pic.webp") == expected
    assert media.image_data_uri(f"file://localhost{tmp_path}/my%20pic.webp") == expected


def test_file_url_on_another_host(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="on another machine"):
        media.image_data_uri("file://server/share/a.png")


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=4096))
def test_data_uri_round_trips_any_png_payload(
    tmp_path_factory: pytest.TempPathFactory, tail: bytes
) -> None:
    data = PNG_SIGNATURE + tail
    path = tmp_path_factory.mktemp("prop") / "x.png"
    path.write_bytes(data)
    uri = media.image_data_uri(path)
    header, payload = uri.split(",", 1)
    assert header == "data:image/png;base64"
    assert base64.b64decode(payload, validate=True) == data
    assert media.decode_data_uri(uri) == data


# --- errors -----------------------------------------------------------------------------------


def test_media_error_is_an_anyfast_error() -> None:
    assert issubclass(MediaInputError, AnyFastError)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.png"
    with pytest.raises(MediaInputError) as info:
        media.image_data_uri(path)
    assert message(info) == f"Cannot attach {path}: no such file"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="is a directory") as info:
        media.image_data_uri(tmp_path)
    assert str(tmp_path) in message(info)


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_device_is_not_a_regular_file() -> None:
    with pytest.raises(MediaInputError, match="not a regular file"):
        media.image_data_uri("/dev/null")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = put(tmp_path, "secret.png", png(1, 1))
    path.chmod(0)
    with pytest.raises(MediaInputError, match="permission denied") as info:
        media.image_data_uri(path)
    assert str(path) in message(info)


def test_permission_denied_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = put(tmp_path, "secret.png", png(1, 1))

    def denied(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(MediaInputError, match="permission denied"):
        media.image_data_uri(path)


def test_other_read_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = put(tmp_path, "a.png", png(1, 1))

    def broken(self: Path, *args: object, **kwargs: object) -> object:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Path, "open", broken)
    with pytest.raises(MediaInputError, match=r"cannot be read \(Input/output error\)"):
        media.image_data_uri(path)


def test_empty_file(tmp_path: Path) -> None:
    path = put(tmp_path, "empty.png", b"")
    with pytest.raises(MediaInputError, match="the file is empty") as info:
        media.image_data_uri(path)
    assert str(path) in message(info)


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"%PDF-1.7\n...", "a PDF document"),
        (b"Dear diary,\nToday I attached the wrong file.\n", "text"),
        ("naïve café\n".encode(), "text"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG image"),
        (b"<!DOCTYPE html><html></html>", "an HTML page"),
        (b"PK\x03\x04rest", "a ZIP archive"),
        (b"II*\x00rest", "a TIFF image, which is not supported"),
        (ftyp(b"isom", b"mp41"), "an MP4 or QuickTime video"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "WAV audio"),
        (b"ID3\x04rest", "MP3 audio"),
        (b"\x00\x01\x02\x03\xfe\xfd", "binary data of an unknown kind"),
        (b"\xc3\x28 invalid utf-8", "binary data of an unknown kind"),
    ],
)
def test_not_an_image_says_what_it_looks_like(tmp_path: Path, data: bytes, looks_like: str) -> None:
    path = put(tmp_path, "thing.png", data)
    with pytest.raises(MediaInputError) as info:
        media.image_data_uri(path)
    text = message(info)
    assert text.startswith(f"Cannot attach {path}: not an image (it looks like {looks_like}")
    assert text.endswith("use PNG, JPEG, GIF or WEBP")


def test_too_big_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = put(tmp_path, "big.png", png(1, 1) + bytes(2 * 1024 * 1024))

    def must_not_open(self: Path, *args: object, **kwargs: object) -> object:
        raise AssertionError("opened a file that is known to be too big")

    monkeypatch.setattr(Path, "open", must_not_open)
    with pytest.raises(MediaInputError) as info:
        media.image_data_uri(path, max_bytes=1024 * 1024)
    assert (
        message(info) == f"Cannot attach {path}: the file is too big (2.0 MB; the limit is 1.0 MB)"
    )


def test_default_limit_is_20_mb(tmp_path: Path) -> None:
    assert media.DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    path = put(tmp_path, "big.png", PNG_SIGNATURE + bytes(media.DEFAULT_MAX_BYTES))
    with pytest.raises(MediaInputError, match=r"limit is 20\.0 MB"):
        media.image_data_uri(path)


# --- Kling ------------------------------------------------------------------------------------


def test_kling_urls_pass_through() -> None:
    assert media.image_for_kling("https://example.com/a.jpg") == "https://example.com/a.jpg"


def test_kling_local_png_is_bare_base64(tmp_path: Path) -> None:
    data = png(300, 400)
    encoded = media.image_for_kling(put(tmp_path, "frame.png", data))
    assert not encoded.startswith("data:")
    assert base64.b64decode(encoded, validate=True) == data


def test_kling_local_jpeg(tmp_path: Path) -> None:
    data = jpeg(1280, 720)
    assert base64.b64decode(media.image_for_kling(put(tmp_path, "f.jpg", data))) == data


def test_kling_data_uri_becomes_bare_base64() -> None:
    data = jpeg(1024, 1024)
    encoded = base64.b64encode(data).decode()
    uri = f"data:image/jpeg;base64,{encoded[:40]}\n{encoded[40:]}"  # whitespace tolerated
    assert media.image_for_kling(uri) == encoded


def test_kling_percent_encoded_data_uri() -> None:
    data = png(300, 300)
    uri = "data:image/png," + "".join(f"%{b:02X}" for b in data)
    assert base64.b64decode(media.image_for_kling(uri)) == data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (gif(400, 400), "Kling accepts only JPEG or PNG images, and this is GIF"),
        (webp_vp8x(400, 400), "Kling accepts only JPEG or PNG images, and this is WEBP"),
        (png(299, 1000), "it is 299×1000 px; Kling needs at least 300 px a side"),
        (jpeg(200, 200), "it is 200×200 px; Kling needs at least 300 px a side"),
        (jpeg(1000, 300), "it is 1000×300 px; Kling allows aspect ratios up to 2.5:1"),
        (PNG_SIGNATURE + b"garbage", "the image header is damaged"),
        (b"%PDF-1.4", "not an image (it looks like a PDF document"),
    ],
)
def test_kling_refusals(tmp_path: Path, data: bytes, expected: str) -> None:
    path = put(tmp_path, "frame.img", data)
    with pytest.raises(MediaInputError) as info:
        media.image_for_kling(path)
    assert message(info).startswith(f"Cannot attach {path}: {expected}")


def test_kling_aspect_limit_is_inclusive(tmp_path: Path) -> None:
    media.image_for_kling(put(tmp_path, "wide.jpg", jpeg(750, 300)))


def test_kling_size_limit(tmp_path: Path) -> None:
    assert media.KLING_MAX_BYTES == 10 * 1024 * 1024
    path = put(tmp_path, "big.png", png(300, 300) + bytes(media.KLING_MAX_BYTES))
    with pytest.raises(MediaInputError, match=r"too big \(10.0 MB; the limit is 10.0 MB\)"):
        media.image_for_kling(path)
    data = jpeg(400, 400) + bytes(2048)
    uri = "data:image/jpeg;base64," + base64.b64encode(data).decode()
    with pytest.raises(MediaInputError, match="the pasted image: it is too big"):
        media.image_for_kling(uri, max_bytes=1024)


def test_kling_configurable_minimum(tmp_path: Path) -> None:
    path = put(tmp_path, "small.png", png(64, 64))
    assert media.image_for_kling(path, min_side=64)


def test_kling_refuses_assets_and_bad_data_uris() -> None:
    with pytest.raises(MediaInputError, match="Kling cannot use asset://"):
        media.image_for_kling("asset://asset-1")
    with pytest.raises(MediaInputError, match="not valid base64"):
        media.image_for_kling("data:image/png;base64,@@@@")
    with pytest.raises(MediaInputError, match="has no ','"):
        media.image_for_kling("data:image/png;base64")


# --- describe_image ---------------------------------------------------------------------------


def test_describe_local_file(tmp_path: Path) -> None:
    data = png(33, 21)
    info = media.describe_image(put(tmp_path, "shot.png", data))
    assert info == ImageInfo("shot.png", "image/png", len(data), 33, 21)


def test_describe_large_file_reads_only_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media, "HEADER_BYTES", 64)
    data = jpeg(5000, 4000) + bytes(200_000)
    info = media.describe_image(put(tmp_path, "huge.jpg", data))
    assert info == ImageInfo("huge.jpg", "image/jpeg", len(data), 5000, 4000)


def test_describe_unknown_dimensions(tmp_path: Path) -> None:
    info = media.describe_image(put(tmp_path, "p.heic", ftyp(b"heic", b"mif1")))
    assert (info.mime, info.width, info.height) == ("image/heic", None, None)


def test_describe_remote_and_pasted() -> None:
    assert media.describe_image("https://cdn.example/img/cat%20one.PNG?sig=1") == ImageInfo(
        "cat one.PNG", "image/png", None, None, None
    )
    assert media.describe_image("https://cdn.example/") == ImageInfo(
        "cdn.example", None, None, None, None
    )
    assert media.describe_image("asset://asset-42") == ImageInfo("asset-42", None, None, None, None)
    data = gif(12, 34)
    uri = "data:image/gif;base64," + base64.b64encode(data).decode()
    assert media.describe_image(uri) == ImageInfo("pasted image", "image/gif", len(data), 12, 34)


def test_describe_rejects_non_images(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="looks like text"):
        media.describe_image(put(tmp_path, "notes.png", b"just some notes"))
    with pytest.raises(MediaInputError, match="the pasted image: not an image"):
        media.describe_image("data:text/plain;base64," + base64.b64encode(b"hi").decode())


# --- chat_content -----------------------------------------------------------------------------


def test_chat_content_without_images_is_plain_text() -> None:
    assert media.chat_content("hello", []) == "hello"


def test_chat_content_with_images(tmp_path: Path) -> None:
    local = put(tmp_path, "a.png", png(1, 1))
    content = media.chat_content("What is this?", [str(local), "https://x.example/b.jpg"])
    assert content == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": media.image_data_uri(local)}},
        {"type": "image_url", "image_url": {"url": "https://x.example/b.jpg"}},
    ]


def test_chat_content_leaves_out_blank_text() -> None:
    content = media.chat_content("  ", ["https://x.example/b.jpg"])
    assert content == [{"type": "image_url", "image_url": {"url": "https://x.example/b.jpg"}}]


def test_chat_content_fails_on_the_first_bad_image(tmp_path: Path) -> None:
    good = put(tmp_path, "a.png", png(1, 1))
    with pytest.raises(MediaInputError, match=r"missing\.png: no such file"):
        media.chat_content("hi", [good, tmp_path / "missing.png"])
    with pytest.raises(MediaInputError, match="too big"):
        media.chat_content("hi", [good], max_bytes=10)
