"""Job parameters: checked and made self-contained before a job is written."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from studio.api.errors import MediaInputError
from studio.jobs import JobProvider, submission
from studio.jobs.submission import JobRequestError, kling_model, prepare_params, trimmed


def png(path: Path, side: int = 320) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x20\x40\x60" * side for _ in range(side))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_local_images_become_data_uris_and_nones_are_dropped(tmp_path: Path) -> None:
    frame = png(tmp_path / "f.png")
    out = prepare_params(
        JobProvider.SEEDANCE,
        "generate",
        {"first_frame": str(frame), "reference_images": (), "duration": 5, "seed": None},
    )
    assert out["first_frame"].startswith("data:image/png;base64,")
    assert out == {"first_frame": out["first_frame"], "duration": 5}
    urls = prepare_params(JobProvider.SEEDREAM, "generate", {"images": ("https://x/a.png",)})
    assert urls == {"images": ["https://x/a.png"]}


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(JobRequestError, match="does not take colour"):
        prepare_params(JobProvider.SEEDANCE, "generate", {"colour": "red"})
    with pytest.raises(JobRequestError, match="does not take n"):
        prepare_params(JobProvider.SEEDREAM, "generate", {"n": 2})


def test_kling_images_must_fit_the_action(tmp_path: Path) -> None:
    picture = str(png(tmp_path / "k.png"))
    with pytest.raises(JobRequestError, match="unknown Kling action"):
        prepare_params(JobProvider.KLING, "lip-sync", {})
    with pytest.raises(JobRequestError, match="text2video does not take image"):
        prepare_params(JobProvider.KLING, "text2video", {"image": picture})
    with pytest.raises(JobRequestError, match="needs an image"):
        prepare_params(JobProvider.KLING, "image2video", {"mode": "std"})
    with pytest.raises(JobRequestError, match="1 to 4"):
        prepare_params(JobProvider.KLING, "multi-image2video", {"images": [picture] * 5})
    out = prepare_params(JobProvider.KLING, "image2video", {"image": picture, "duration": 5})
    assert out["image"].startswith("data:image/png;base64,") and out["duration"] == 5
    assert kling_model("multi-image2video", None) == "kling-v1-6"
    assert kling_model("text2video", None) == "kling-v1"
    assert kling_model("text2video", "kling-v2-master") == "kling-v2-master"


def test_kling_limits_are_checked_before_the_job_exists(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="300 px"):
        prepare_params(
            JobProvider.KLING, "image2video", {"image": str(png(tmp_path / "s.png", 64))}
        )


def test_parameters_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submission, "MAX_PARAMS_BYTES", 1000)
    with pytest.raises(JobRequestError, match="the limit is"):
        prepare_params(JobProvider.SEEDREAM, "generate", {"images": [str(png(tmp_path / "b.png"))]})
    with pytest.raises(JobRequestError, match="cannot be stored"):
        prepare_params(JobProvider.SEEDREAM, "generate", {"extra": {"x": object()}})


def test_trimmed_keeps_urls_and_cuts_inline_data() -> None:
    url = "https://tos.example/v.mp4?" + "X-Tos-Signature=" + "a" * 300
    raw = {"data": [{"b64_json": "Q" * 50_000, "url": url}], "n": 1}
    out = trimmed(raw)
    assert out["data"][0]["url"] == url
    assert out["data"][0]["b64_json"].endswith("(50000 characters)")
    assert out["n"] == 1
