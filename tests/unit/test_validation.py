"""Media parameter checks: every documented limit gives a reason on the right field."""

from __future__ import annotations

import pytest

from studio.api.validation import (
    check_kling,
    check_seedance,
    check_seedream,
    parse_size,
    seedance_durations,
)


def test_parse_size() -> None:
    assert parse_size("2k") == "2K"
    assert parse_size("2048x1152") == (2048, 1152)
    assert parse_size(" 1024 × 768 ") == (1024, 768)
    assert parse_size("huge") is None


def test_valid_seedream_has_no_errors() -> None:
    assert check_seedream(model="doubao-seedream-4-5-251128", prompt="a fox", size="2K") == {}
    assert check_seedream(model="m", prompt="a fox", size="2048x1152", max_images=4, seed=-1) == {}


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"prompt": ""}, "prompt", "describe"),
        ({"size": "100x5000"}, "size", "1:16"),
        ({"size": "100x100"}, "size", "512x512"),
        ({"size": "big"}, "size", "WIDTHxHEIGHT"),
        ({"max_images": 16}, "max_images", "1 to 15"),
        ({"max_images": 5, "references": ["r"] * 11}, "max_images", "exceed 15"),
        ({"references": ["r"] * 15}, "references", "14"),
        ({"seed": "abc"}, "seed", "whole number"),
    ],
)
def test_seedream_limits(kwargs: dict[str, object], field: str, words: str) -> None:
    args: dict[str, object] = {"model": "doubao-seedream-4-5-251128", "prompt": "x", **kwargs}
    errors = check_seedream(**args)  # type: ignore[arg-type]
    assert field in errors
    assert words in errors[field]


def test_seedance_duration_ranges_per_family() -> None:
    assert seedance_durations("seedance-2.0") == (4, 15)
    assert seedance_durations("doubao-seedance-1-0-lite-t2v-250428") == (2, 12)
    assert seedance_durations("doubao-seedance-1-5-pro-251215") == (4, 12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"duration": 20}, "duration"),
        ({"duration": "x"}, "duration"),
        ({"model": "seedance-fast", "resolution": "1080p"}, "resolution"),
        ({"ratio": "5:4"}, "ratio"),
        ({"first_frame": "a.png", "references": ["b.png"]}, "references"),
        ({"last_frame": "b.png"}, "last_frame"),
        ({"references": ["r"] * 10}, "references"),
        ({"audio": ["a.wav"]}, "audio"),
        ({"prompt": ""}, "prompt"),
    ],
)
def test_seedance_limits(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"model": "seedance-2.0", "prompt": "a cat", **kwargs}
    assert field in check_seedance(**args)  # type: ignore[arg-type]


def test_valid_seedance() -> None:
    assert check_seedance(model="seedance-2.0", prompt="a cat", duration=5, ratio="16:9") == {}
    assert check_seedance(model="seedance-2.0", prompt="", first_frame="a.png") == {}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "text2video", "prompt": ""}, "prompt"),
        ({"action": "text2video", "prompt": "x" * 2501}, "prompt"),
        ({"action": "text2video", "prompt": "x", "duration": "7"}, "duration"),
        ({"action": "text2video", "prompt": "x", "mode": "max"}, "mode"),
        ({"action": "text2video", "prompt": "x", "aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"action": "text2video", "prompt": "x", "cfg_scale": "2"}, "cfg_scale"),
        (
            {"action": "text2video", "prompt": "x", "model": "kling-v2-master", "cfg_scale": 0.5},
            "cfg_scale",
        ),
        ({"action": "image2video"}, "image"),
        ({"action": "image2video", "image_tail": "t.png", "camera_control": True}, "image_tail"),
        ({"action": "multi-image2video", "prompt": "x", "images": []}, "images"),
        ({"action": "multi-image2video", "prompt": "x", "images": ["a"] * 5}, "images"),
        (
            {
                "action": "multi-image2video",
                "prompt": "x",
                "images": ["a"],
                "model": "kling-v2-master",
            },
            "model",
        ),
    ],
)
def test_kling_limits(kwargs: dict[str, object], field: str) -> None:
    assert field in check_kling(**kwargs)  # type: ignore[arg-type]


def test_valid_kling() -> None:
    assert check_kling(action="text2video", prompt="x", duration=5, mode="pro") == {}
    assert check_kling(action="text2video", prompt="x", model="kling-v3", duration="12") == {}
    assert check_kling(action="image2video", image="a.png") == {}
    assert (
        check_kling(action="multi-image2video", prompt="x", images=["a", "b"], model="kling-v1-6")
        == {}
    )
