"""What the user asks the job layer for: one typed media request, the rule that tells the two
video families apart, the defaults ``/image`` and ``/video`` send, and the request a form's
fields make (every field checked against the documented limits, the image files it names
against the provider's, :mod:`studio.jobs.inputs`). Every surface (the F10/F12 forms, a
``/video`` typed in a conversation, the headless commands) builds its requests here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.api.validation import check_kling, check_seedance, check_seedream
from studio.jobs.inputs import (
    KLING_IMAGES,
    SEEDANCE_IMAGES,
    SEEDREAM_IMAGES,
    ImageLimits,
    check_images,
)
from studio.store.job_records import JobProvider

IMAGE_DEFAULTS: dict[str, Any] = {"size": "2K", "response_format": "url", "watermark": False}
SEEDANCE_DEFAULTS: dict[str, Any] = {
    "ratio": "16:9",
    "resolution": "720p",
    "duration": 5,
    "generate_audio": True,
}
KLING_DEFAULTS: dict[str, Any] = {"mode": "std", "duration": "5", "aspect_ratio": "16:9"}
"""What the forms start with, and what ``/image`` and ``/video`` send (so a job's row and its
sidecar say what was asked for, not only what the gateway would have assumed)."""


@dataclass(frozen=True)
class MediaRequest:
    """What the user asked for: which ``provider`` (a :class:`JobProvider` or its name) makes
    it, with which ``model`` and ``prompt``; ``action`` is Kling's (text2video, image2video,
    multi-image2video), ``params`` the provider's options (local image paths allowed)."""

    provider: JobProvider
    model: str
    prompt: str
    action: str = "generate"
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "provider", JobProvider(self.provider))


def video_family(model: str) -> JobProvider:
    """Which video family serves ``model``: Kling for Kling's models (``kling-v1``,
    ``kling-v2-master``, ``kling-v3``, ...: they have endpoints of their own, under
    ``/kling/v1/videos``), Seedance for every other id, since ``/v1/video/generations`` is the
    gateway's generic video endpoint (``seedance-2.0``, ``doubao-seedance-1-5-pro-251215``, and
    ids Studio does not know)."""
    return JobProvider.KLING if "kling" in model.lower() else JobProvider.SEEDANCE


def default_request(kind: str, model: str, prompt: str) -> MediaRequest:
    """``/image PROMPT`` or ``/video PROMPT``: ``model`` with the forms' defaults made explicit.
    A default the model does not take (its duration range, say) is left to the gateway."""
    if kind == "image":
        params = dict(IMAGE_DEFAULTS)
        if "3-0" in model:  # Seedream 3.0 documents 1024x1024, not the 4.x presets
            del params["size"]
        return MediaRequest(JobProvider.SEEDREAM, model, prompt, params=params)
    if video_family(model) is JobProvider.KLING:
        errors = check_kling(action="text2video", model=model, prompt=prompt, **KLING_DEFAULTS)
        params = {k: v for k, v in KLING_DEFAULTS.items() if k not in errors}
        return MediaRequest(
            JobProvider.KLING, model, prompt, "text2video", {"model_name": model, **params}
        )
    errors = check_seedance(
        model=model,
        prompt=prompt,
        ratio=SEEDANCE_DEFAULTS["ratio"],
        resolution=SEEDANCE_DEFAULTS["resolution"],
        duration=SEEDANCE_DEFAULTS["duration"],
    )
    params = {k: v for k, v in SEEDANCE_DEFAULTS.items() if k not in errors}
    return MediaRequest(JobProvider.SEEDANCE, model, prompt, params=params)


# -- requests from the fields of a form ------------------------------------------------------------

Checked = tuple[MediaRequest | None, dict[str, str]]
"""A request built from a form's fields, or ``None`` with ``{field: reason}`` for each field
that would be refused (the documented limits first, then the image files named)."""


def split_paths(raw: str) -> list[str]:
    """The paths (or links) typed in one field, separated by commas or new lines."""
    return [p.strip() for p in raw.replace("\n", ",").split(",") if p.strip()]


def _with_images(errors: dict[str, str], files: dict[str, list[str]], limits: ImageLimits) -> None:
    for name, reason in check_images(files, limits).items():
        errors.setdefault(name, reason)


def image_request(fields: Mapping[str, str]) -> Checked:
    """The Seedream request of the image form's ``fields`` (each as typed: model, prompt, size,
    references, max_images, seed, response_format, and watermark, empty when off)."""
    refs = split_paths(fields.get("references", ""))
    values = {k: fields.get(k, "") for k in ("model", "prompt", "size", "max_images", "seed")}
    errors = check_seedream(**values, references=refs)
    _with_images(errors, {"references": refs}, SEEDREAM_IMAGES)
    if errors:
        return None, errors
    params: dict[str, Any] = {
        "size": values["size"] or None,
        "images": refs,
        "max_images": int(values["max_images"]) if values["max_images"] else None,
        "seed": int(values["seed"]) if values["seed"] else None,
        "watermark": bool(fields.get("watermark")),
        "response_format": fields.get("response_format") or "url",
    }
    return MediaRequest(JobProvider.SEEDREAM, values["model"], values["prompt"], params=params), {}


def video_request(kind: str, fields: Mapping[str, str]) -> Checked:
    """The request of the video form's ``fields`` (each as typed; audio empty when off) for
    ``kind``: ``seedance``, or ``kling:`` and the Kling action."""
    if kind == "seedance":
        return _seedance_request(fields)
    return _kling_request(kind.split(":", 1)[1], fields)


def _seedance_request(fields: Mapping[str, str]) -> Checked:
    model, prompt = fields.get("model", ""), fields.get("prompt", "")
    refs = split_paths(fields.get("references", ""))
    names = ("ratio", "resolution", "duration", "first_frame", "last_frame", "seed")
    checked = {k: fields.get(k, "") for k in names}
    errors = check_seedance(model=model, prompt=prompt, references=refs, **checked)
    files = {
        "first_frame": split_paths(checked["first_frame"])[:1],
        "last_frame": split_paths(checked["last_frame"])[:1],
        "references": refs,
    }
    _with_images(errors, files, SEEDANCE_IMAGES)
    if errors:
        return None, errors
    params: dict[str, Any] = {
        "ratio": checked["ratio"] or None,
        "resolution": checked["resolution"] or None,
        "duration": int(checked["duration"]) if checked["duration"] else None,
        "first_frame": checked["first_frame"] or None,
        "last_frame": checked["last_frame"] or None,
        "reference_images": refs,
        "generate_audio": bool(fields.get("audio")),
        "seed": int(checked["seed"]) if checked["seed"] else None,
    }
    return MediaRequest(JobProvider.SEEDANCE, model, prompt, params=params), {}


def _kling_request(action: str, fields: Mapping[str, str]) -> Checked:
    model, prompt = fields.get("model", ""), fields.get("prompt", "")
    names = ("negative_prompt", "mode", "duration", "cfg_scale", "image", "image_tail")
    values = {k: fields.get(k, "") for k in names}
    values["aspect_ratio"] = fields.get("aspect_ratio", "") if action != "image2video" else ""
    images = split_paths(fields.get("images", ""))
    errors = check_kling(
        action=action,
        model=model,
        prompt=prompt,
        images=images,
        negative_prompt=values["negative_prompt"],
        mode=values["mode"],
        duration=values["duration"],
        aspect_ratio=values["aspect_ratio"],
        cfg_scale=values["cfg_scale"],
        image=values["image"],
        image_tail=values["image_tail"],
    )
    files = {"image": [values["image"]], "image_tail": [values["image_tail"]]}
    if action == "multi-image2video":
        files = {"images": images}
    elif action != "image2video":
        files = {}
    _with_images(errors, {n: [p for p in paths if p] for n, paths in files.items()}, KLING_IMAGES)
    if errors:
        return None, errors
    params: dict[str, Any] = {
        "model_name": model,
        "negative_prompt": values["negative_prompt"] or None,
        "mode": values["mode"] or None,
        "duration": values["duration"] or None,
        "aspect_ratio": values["aspect_ratio"] or None,
        "cfg_scale": float(values["cfg_scale"]) if values["cfg_scale"] else None,
    }
    if action == "image2video":
        params |= {"image": values["image"] or None, "image_tail": values["image_tail"] or None}
    if action == "multi-image2video":
        params["images"] = images
    return MediaRequest(JobProvider.KLING, model, prompt, action=action, params=params), {}
