"""``data:`` URIs given as attachments are checked like files before anything is sent: they must
declare an image type, decode, hold an image and respect the size limit."""

from __future__ import annotations

import base64
from urllib.parse import quote_from_bytes

import pytest

from studio.api import media
from studio.api.errors import MediaInputError

from .test_media import gif, jpeg, png


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("data:image/png;base64,@@@@", "the data: URI is not valid base64"),
        ("data:image/png;base64,iVBORw0KGgo", "the data: URI is not valid base64"),
        ("data:image/png", "has no ','"),
        ("data:image/png;base64,", "holds no data"),
        ("data:text/plain;base64," + b64(b"hello"), "declares text/plain, not an image"),
        ("data:application/pdf;base64," + b64(b"%PDF-1.7"), "declares application/pdf"),
        ("data:;base64," + b64(png(2, 2)), "declares text/plain, not an image"),
        ("data:," + quote_from_bytes(png(2, 2)), "declares text/plain, not an image"),
        ("data:image/png;base64," + b64(b"hello there"), "not an image (it looks like text)"),
        ("data:image/png;base64," + b64(b"%PDF-1.7 ..."), "it looks like a PDF document"),
        (
            "data:image/svg+xml;base64," + b64(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            "an SVG image",
        ),
    ],
)
def test_bad_data_uri_is_refused(uri: str, reason: str) -> None:
    with pytest.raises(MediaInputError) as info:
        media.image_data_uri(uri)
    assert str(info.value).startswith("Cannot attach the pasted image: ")
    assert reason in str(info.value)
    with pytest.raises(MediaInputError):
        media.chat_content("What is this?", [uri])


def test_data_uri_over_the_limit_is_refused() -> None:
    uri = "data:image/gif;base64," + b64(gif(1, 1) + b"\0" * 2000)
    with pytest.raises(MediaInputError, match=r"too big \(0\.0 MB; the limit is 0\.0 MB\)"):
        media.image_data_uri(uri, max_bytes=1000)
    assert media.image_data_uri(uri, max_bytes=5000) == uri


def test_good_data_uri_passes_unchanged() -> None:
    uri = "data:image/png;base64," + b64(png(3, 2))
    assert media.image_data_uri(uri) == uri
    assert media.image_data_uri("DATA:IMAGE/PNG;BASE64," + b64(png(3, 2))).startswith("DATA:")


def test_data_uri_is_relabelled_with_the_type_its_bytes_show() -> None:
    data = jpeg(4, 4)
    assert media.image_data_uri("data:image/png;base64," + b64(data)) == (
        "data:image/jpeg;base64," + b64(data)
    )
    assert media.image_data_uri("data:image/jpg;base64," + b64(data)).startswith(
        "data:image/jpeg;base64,"
    )


def test_percent_encoded_data_uri_is_sent_as_base64() -> None:
    data = png(2, 2)
    uri = "data:image/png," + quote_from_bytes(data)
    assert media.image_data_uri(uri) == "data:image/png;base64," + b64(data)
