"""Client-side checks of image and video parameters against the documented limits.

Each ``check_*`` function takes the raw values a form holds and returns ``{field: reason}`` for
every field that would be refused (empty when all is well), so a form can show the reason next
to the field before anything is sent. Limits come from ``shared/anyfast-api.md`` §3.1 (Seedream),
§4.1 (Seedance) and §5.1 (Kling).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Errors = dict[str, str]

SIZE_PRESETS = ("1K", "2K", "4K")
SEEDREAM_MAX_REFERENCES = 14
SEEDREAM_MAX_TOTAL = 15
SEEDREAM_MIN_PIXELS = 512 * 512
SEEDREAM_MAX_PIXELS = 4096 * 4096
SEED_MIN, SEED_MAX = -1, 2**31 - 1

SEEDANCE_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
SEEDANCE_RESOLUTIONS = ("480p", "720p", "1080p")
SEEDANCE_MAX_IMAGES = 9

KLING_MODES = ("std", "pro")
KLING_RATIOS = ("16:9", "9:16", "1:1")
KLING_PROMPT_MAX = 2500
KLING_MULTI_MODEL = "kling-v1-6"

_WXH = re.compile(r"^\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*$")


def parse_size(size: str) -> tuple[int, int] | str | None:
    """``(w, h)`` for ``WxH``, the preset name for ``1K``/``2K``/``4K``, None when invalid."""
    text = size.strip().upper()
    if text in SIZE_PRESETS:
        return text
    match = _WXH.match(size)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _int(raw: str | int | None) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int):
        return raw
    text = raw.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _check_seed(raw: str | int | None, errors: Errors) -> None:
    if raw in (None, ""):
        return
    seed = _int(raw)
    if seed is None or not SEED_MIN <= seed <= SEED_MAX:
        errors["seed"] = f"a whole number from {SEED_MIN} (random) to {SEED_MAX}"


def check_seedream(
    *,
    model: str,
    prompt: str,
    size: str = "",
    references: Sequence[str] = (),
    max_images: str | int | None = None,
    seed: str | int | None = None,
) -> Errors:
    """Seedream: prompt, size preset or WxH (aspect 1:16–16:1), references and group size."""
    errors: Errors = {}
    if not model.strip():
        errors["model"] = "choose a model"
    if not prompt.strip():
        errors["prompt"] = "describe the image"
    if size.strip():
        parsed = parse_size(size)
        if parsed is None:
            errors["size"] = "1K, 2K, 4K or WIDTHxHEIGHT, e.g. 2048x2048"
        elif isinstance(parsed, tuple):
            width, height = parsed
            if not 1 / 16 <= width / height <= 16:
                errors["size"] = "the aspect ratio must be between 1:16 and 16:1"
            elif not SEEDREAM_MIN_PIXELS <= width * height <= SEEDREAM_MAX_PIXELS:
                errors["size"] = "between 512x512 and 4096x4096 pixels in area"
    if len(references) > SEEDREAM_MAX_REFERENCES:
        errors["references"] = f"at most {SEEDREAM_MAX_REFERENCES} reference images"
    if max_images not in (None, ""):
        count = _int(max_images)
        if count is None or not 1 <= count <= 15:
            errors["max_images"] = "a group is 1 to 15 images"
        elif len(references) + count > SEEDREAM_MAX_TOTAL:
            errors["max_images"] = (
                f"references plus images may not exceed {SEEDREAM_MAX_TOTAL} "
                f"(you have {len(references)} references)"
            )
    _check_seed(seed, errors)
    return errors


def seedance_durations(model: str) -> tuple[int, int]:
    """The allowed duration range in seconds for a Seedance model."""
    name = model.lower()
    if "1-0-lite" in name or "1.0-lite" in name:
        return (2, 12)
    if "1-5-pro" in name or "1.5-pro" in name:
        return (4, 12)
    if "2.5" in name or "2-5" in name:
        return (4, 30)
    return (4, 15)


def seedance_resolutions(model: str) -> tuple[str, ...]:
    name = model.lower()
    if "fast" in name or "mini" in name:
        return ("480p", "720p")
    return SEEDANCE_RESOLUTIONS


def check_seedance(
    *,
    model: str,
    prompt: str,
    ratio: str = "",
    resolution: str = "",
    duration: str | int | None = None,
    first_frame: str = "",
    last_frame: str = "",
    references: Sequence[str] = (),
    audio: Sequence[str] = (),
    seed: str | int | None = None,
) -> Errors:
    """Seedance: ratio, resolution and duration for the model; frames vs references; counts."""
    errors: Errors = {}
    if not model.strip():
        errors["model"] = "choose a model"
    if not prompt.strip() and not (first_frame or references):
        errors["prompt"] = "describe the video (or give a first frame)"
    if ratio and ratio not in SEEDANCE_RATIOS:
        errors["ratio"] = "one of " + ", ".join(SEEDANCE_RATIOS)
    allowed = seedance_resolutions(model)
    if resolution and resolution not in allowed:
        errors["resolution"] = f"{model} makes " + " or ".join(allowed)
    if duration not in (None, ""):
        low, high = seedance_durations(model)
        seconds = _int(duration)
        if seconds is None or not low <= seconds <= high:
            errors["duration"] = f"{low} to {high} seconds for {model}"
    if (first_frame or last_frame) and references:
        errors["references"] = "first/last frames and reference images cannot be mixed"
    if last_frame and not first_frame:
        errors["last_frame"] = "a last frame needs a first frame"
    if len(references) > SEEDANCE_MAX_IMAGES:
        errors["references"] = f"at most {SEEDANCE_MAX_IMAGES} reference images"
    if audio and not (first_frame or references):
        errors["audio"] = "reference audio needs at least one image"
    _check_seed(seed, errors)
    return errors


def kling_durations(model: str) -> tuple[str, ...]:
    if model.lower().startswith("kling-v3"):
        return tuple(str(s) for s in range(3, 16))
    return ("5", "10")


def check_kling(
    *,
    action: str,
    model: str = "",
    prompt: str = "",
    negative_prompt: str = "",
    mode: str = "",
    duration: str | int | None = None,
    aspect_ratio: str = "",
    cfg_scale: str | float | None = None,
    image: str = "",
    image_tail: str = "",
    images: Sequence[str] = (),
    camera_control: bool = False,
) -> Errors:
    """Kling text2video, image2video and multi-image2video parameters."""
    errors: Errors = {}
    needs_prompt = action in ("text2video", "multi-image2video")
    if needs_prompt and not prompt.strip():
        errors["prompt"] = "describe the video"
    if len(prompt) > KLING_PROMPT_MAX:
        errors["prompt"] = f"at most {KLING_PROMPT_MAX} characters ({len(prompt)} now)"
    if len(negative_prompt) > KLING_PROMPT_MAX:
        errors["negative_prompt"] = f"at most {KLING_PROMPT_MAX} characters"
    if mode and mode not in KLING_MODES:
        errors["mode"] = "std or pro"
    if duration not in (None, ""):
        allowed = kling_durations(model)
        if str(duration).strip() not in allowed:
            errors["duration"] = "seconds: " + ", ".join(allowed)
    if aspect_ratio and aspect_ratio not in KLING_RATIOS:
        errors["aspect_ratio"] = "one of " + ", ".join(KLING_RATIOS)
    if cfg_scale not in (None, ""):
        try:
            value = float(cfg_scale)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 1:
            errors["cfg_scale"] = "a number from 0 to 1"
        elif model.lower().startswith("kling-v2"):
            errors["cfg_scale"] = f"{model} does not take cfg_scale"
    if action == "image2video":
        if not image and not image_tail:
            errors["image"] = "give a first frame, a last frame, or both"
        if image_tail and camera_control:
            errors["image_tail"] = "a tail image cannot be combined with camera control"
    if action == "multi-image2video":
        if not 1 <= len(images) <= 4:
            errors["images"] = f"1 to 4 images ({len(images)} given)"
        if model and model != KLING_MULTI_MODEL:
            errors["model"] = f"multi-image to video runs on {KLING_MULTI_MODEL} only"
    return errors
