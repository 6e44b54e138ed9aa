"""Create-request rules for Seedance (``/v1/video/generations``) and Kling (``/kling/...``).

Seedance rejections are shape B ``invalid_request``; Kling's are shape B ``task_failed`` with a
Kling-like message, as the gateway relays the upstream refusal.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from studio.emulator.catalog import Catalog, ModelEntry
from studio.emulator.config import strip_markers
from studio.emulator.media import sniff_image
from studio.emulator.responses import ApiError, task_error

RATIOS = frozenset({"16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"})
KLING_RATIOS = frozenset({"16:9", "9:16", "1:1"})
KLING_CAMERA = frozenset(
    {"simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"}
)
MAX_KLING_PROMPT = 2500
_FRAME_ROLES = frozenset({"first_frame", "last_frame"})
_ROLES = {
    "image_url": frozenset({"first_frame", "last_frame", "reference_image"}),
    "video_url": frozenset({"reference_video"}),
    "audio_url": frozenset({"reference_audio"}),
}


@dataclass(frozen=True, slots=True)
class SeedanceRequest:
    """A valid Seedance create request."""

    model: ModelEntry
    action: str
    duration: int
    resolution: str
    ratio: str
    generate_audio: bool
    seed: int


@dataclass(frozen=True, slots=True)
class KlingRequest:
    """A valid Kling create request."""

    model: str
    action: str
    duration: str
    mode: str
    aspect_ratio: str
    external_task_id: str


def _seedance_bad(message: str) -> ApiError:
    return ApiError(task_error(400, "invalid_request", message))


def _url_ok(url: str, kind: str) -> bool:
    if url.startswith(("http://", "https://", "asset://")):
        return True
    return kind != "video_url" and url.startswith("data:")


def _content_roles(content: Any) -> tuple[dict[str, int], bool]:
    """Count roles in ``content``; the bool says whether any text item is present."""
    if not isinstance(content, list) or not content:
        raise _seedance_bad("content must be a non-empty array")
    roles: dict[str, int] = {}
    has_text = False
    for i, item in enumerate(content):
        if not isinstance(item, dict):
            raise _seedance_bad(f"content[{i}] must be an object")
        kind = item.get("type")
        if kind == "text":
            if not isinstance(item.get("text"), str):
                raise _seedance_bad(f"content[{i}].text must be a string")
            has_text = has_text or bool(strip_markers(item["text"]))
            continue
        if kind not in _ROLES:
            raise _seedance_bad(
                f"content[{i}].type must be text, image_url, video_url or audio_url"
            )
        ref = item.get(kind)
        url = ref.get("url") if isinstance(ref, dict) else None
        if not isinstance(url, str) or not url:
            raise _seedance_bad(f"content[{i}].{kind}.url is required")
        if not _url_ok(url, kind):
            what = "an http(s) or asset:// URL" if kind == "video_url" else "a URL or data URI"
            raise _seedance_bad(f"content[{i}].{kind}.url must be {what}")
        role = item.get("role")
        if role is None:
            role = _default_role(kind, roles)
        if role not in _ROLES[kind]:
            raise _seedance_bad(
                f"content[{i}].role {role!r} is not valid for {kind}: "
                f"use {', '.join(sorted(_ROLES[kind]))}"
            )
        roles[role] = roles.get(role, 0) + 1
    return roles, has_text


def _default_role(kind: str, roles: dict[str, int]) -> str:
    if kind == "image_url":
        if "first_frame" not in roles:
            return "first_frame"
        if "last_frame" not in roles:
            return "last_frame"
        return "reference_image"
    return "reference_video" if kind == "video_url" else "reference_audio"


def validate_seedance(body: Any, catalog: Catalog) -> SeedanceRequest:
    """Check a Seedance create request (content roles, counts, duration, resolution, ratio)."""
    if not isinstance(body, dict):
        raise _seedance_bad("the request body must be a JSON object")
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise _seedance_bad("model is required")
    model = catalog.get(model_id, "seedance")
    if model is None:
        raise _seedance_bad(f"model {model_id} is not a Seedance video model")
    roles, has_text = _content_roles(body.get("content"))
    images = sum(roles.get(r, 0) for r in _ROLES["image_url"])
    videos = roles.get("reference_video", 0)
    audios = roles.get("reference_audio", 0)
    frames = sum(roles.get(r, 0) for r in _FRAME_ROLES)
    references = images - frames + videos + audios
    if not has_text and images == 0:
        raise _seedance_bad("content needs at least one text or image item")
    if roles.get("first_frame", 0) > 1 or roles.get("last_frame", 0) > 1:
        raise _seedance_bad("at most one first_frame and one last_frame are allowed")
    if roles.get("last_frame") and not roles.get("first_frame"):
        raise _seedance_bad("last_frame requires a first_frame")
    if frames and references:
        raise _seedance_bad("first/last frame mode cannot be mixed with reference mode")
    if images > 9:
        raise _seedance_bad("at most 9 images are allowed")
    if videos > 3 or audios > 3:
        raise _seedance_bad("at most 3 reference videos and 3 reference audios are allowed")
    if audios and not (images or videos):
        raise _seedance_bad("reference audio requires at least one image or video")
    if "-t2v-" in model.id and images:
        raise _seedance_bad(f"model {model.id} is text-to-video and takes no images")
    if "-i2v-" in model.id and not images:
        raise _seedance_bad(f"model {model.id} is image-to-video and needs an image")

    low, high = model.extra.get("durations", [4, 15])
    duration = body.get("duration", 5)
    auto = duration == -1 and bool(model.extra.get("auto_duration"))
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise _seedance_bad("duration must be an integer number of seconds")
    if not auto and not low <= duration <= high:
        raise _seedance_bad(f"duration must be between {low} and {high} for {model.id}")
    allowed = list(model.extra.get("resolutions", ["480p", "720p", "1080p"]))
    resolution = body.get("resolution", "720p")
    if resolution not in allowed:
        raise _seedance_bad(f"resolution must be one of {', '.join(allowed)} for {model.id}")
    ratio = body.get("ratio", "16:9")
    if ratio not in RATIOS:
        raise _seedance_bad(f"ratio must be one of {', '.join(sorted(RATIOS))}")
    for flag in ("generate_audio", "watermark", "camera_fixed", "return_last_frame", "draft"):
        if flag in body and not isinstance(body[flag], bool):
            raise _seedance_bad(f"{flag} must be a boolean")
    seed = body.get("seed", -1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _seedance_bad("seed must be an integer")
    if frames:
        action = "firstTailGenerate" if roles.get("last_frame") else "generate"
    elif videos or audios:
        action = "omniGenerate"
    elif references:
        action = "referenceGenerate"
    else:
        action = "generate"
    return SeedanceRequest(
        model=model,
        action=action,
        duration=duration,
        resolution=str(resolution),
        ratio=str(ratio),
        generate_audio=bool(body.get("generate_audio", True)),
        seed=seed,
    )


def _kling_bad(message: str) -> ApiError:
    return ApiError(task_error(400, "task_failed", message))


def _kling_image(value: Any, field: str) -> None:
    """A Kling image is an http(s) URL or raw base64 (no ``data:`` prefix), jpg or png."""
    if not isinstance(value, str) or not value.strip():
        raise _kling_bad(f"{field} must be an image URL or a Base64 string")
    if value.startswith(("http://", "https://")):
        return
    if value.startswith("data:"):
        raise _kling_bad(
            f"Invalid {field}: the Base64 string must not carry a prefix such as "
            "data:image/png;base64,"
        )
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _kling_bad(f"Invalid {field}: not a URL and not valid Base64") from None
    info = sniff_image(raw)
    if info is not None and info.format not in ("JPEG", "PNG"):
        raise _kling_bad(f"Invalid {field}: only jpg, jpeg and png images are supported")


def _kling_text(body: dict[str, Any], key: str, required: bool) -> None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise _kling_bad(f"{key} is required")
        return
    if not isinstance(value, str):
        raise _kling_bad(f"{key} must be a string")
    if required and not strip_markers(value):
        raise _kling_bad(f"{key} is required")
    if len(value) > MAX_KLING_PROMPT:
        raise _kling_bad(f"{key} must not exceed {MAX_KLING_PROMPT} characters")


def _kling_common(body: dict[str, Any], model: ModelEntry) -> tuple[str, str, str]:
    durations = [str(d) for d in model.extra.get("durations", ["5", "10"])]
    duration = body.get("duration", "5")
    if not isinstance(duration, str) or duration not in durations:
        raise _kling_bad(f"duration must be one of {', '.join(durations)} (a string)")
    mode = body.get("mode", "std")
    if mode not in ("std", "pro"):
        raise _kling_bad("mode must be std or pro")
    ratio = body.get("aspect_ratio", "16:9")
    if ratio not in KLING_RATIOS:
        raise _kling_bad("aspect_ratio must be 16:9, 9:16 or 1:1")
    cfg_scale = body.get("cfg_scale")
    if cfg_scale is not None and (
        isinstance(cfg_scale, bool)
        or not isinstance(cfg_scale, int | float)
        or not 0 <= cfg_scale <= 1
    ):
        raise _kling_bad("cfg_scale must be a number between 0 and 1")
    camera = body.get("camera_control")
    if camera is not None:
        if not isinstance(camera, dict) or camera.get("type") not in KLING_CAMERA:
            raise _kling_bad(
                f"camera_control.type must be one of {', '.join(sorted(KLING_CAMERA))}"
            )
        if camera.get("config") is not None and camera["type"] != "simple":
            raise _kling_bad("camera_control.config is only allowed with type simple")
    sound = body.get("sound")
    if sound is not None and (sound not in ("on", "off") or not model.extra.get("sound")):
        raise _kling_bad(f"sound is not supported by {model.id} (on/off, v2.6 and later)")
    if body.get("multi_shot") is True:
        shots = body.get("multi_prompt")
        if not isinstance(shots, list) or not 1 <= len(shots) <= 6:
            raise _kling_bad("multi_prompt must hold 1 to 6 shots when multi_shot is true")
    return duration, str(mode), str(ratio)


def validate_kling(action: str, body: Any, catalog: Catalog) -> KlingRequest:
    """Check a Kling create request for ``text2video``, ``image2video`` or
    ``multi-image2video``."""
    if not isinstance(body, dict):
        raise _kling_bad("the request body must be a JSON object")
    default_model = "kling-v1-6" if action == "multi-image2video" else "kling-v1"
    model_id = body.get("model_name") or body.get("model") or default_model
    model = catalog.get(model_id, "kling")
    if model is None:
        raise _kling_bad(f"model_name {model_id} is not supported")
    multi_shot = body.get("multi_shot") is True
    _kling_text(body, "prompt", required=action != "image2video" and not multi_shot)
    _kling_text(body, "negative_prompt", required=False)
    if action == "image2video":
        image, tail = body.get("image"), body.get("image_tail")
        if not image and not tail:
            raise _kling_bad("image and image_tail cannot both be empty")
        if image:
            _kling_image(image, "image")
        if tail:
            _kling_image(tail, "image_tail")
        exclusive = [
            k
            for k in ("image_tail", "static_mask", "dynamic_masks", "camera_control")
            if body.get(k)
        ]
        if len(exclusive) > 1 and not (exclusive == ["static_mask", "dynamic_masks"]):
            raise _kling_bad(f"{' and '.join(exclusive)} cannot be used together")
    elif action == "multi-image2video":
        if model.id != "kling-v1-6":
            raise _kling_bad("multi-image2video only supports model_name kling-v1-6")
        images = body.get("image_list")
        if not isinstance(images, list) or not 1 <= len(images) <= 4:
            raise _kling_bad("image_list must hold 1 to 4 images")
        for i, item in enumerate(images):
            if not isinstance(item, dict):
                raise _kling_bad(f"image_list[{i}] must be an object with an image field")
            _kling_image(item.get("image"), f"image_list[{i}].image")
    duration, mode, ratio = _kling_common(body, model)
    external = body.get("external_task_id", "")
    return KlingRequest(
        model=model.id,
        action=action,
        duration=duration,
        mode=mode,
        aspect_ratio=ratio,
        external_task_id=external if isinstance(external, str) else "",
    )
