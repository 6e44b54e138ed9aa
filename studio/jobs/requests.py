"""What the user asks the job layer for: one typed media request, the rule that tells the two
video families apart, the defaults ``/image`` and ``/video`` send, and the checks of the image
files a request names (``anyfast-api.md`` §4.1 and §5.1). Every surface (the F10/F12 forms, a
``/video`` typed in a conversation, the headless commands) builds requests here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.api import media
from studio.api.errors import MediaInputError
from studio.api.validation import check_kling, check_seedance
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


# -- input images ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageLimits:
    """What a provider accepts as an input image (``anyfast-api.md`` §4.1, §5.1)."""

    provider: str
    max_bytes: int
    min_side: int = 0
    max_side: int = 0
    max_aspect: float = 0.0
    formats: tuple[str, ...] = ()
    assets: bool = True
    """Whether ``asset://`` ids are taken."""


SEEDREAM_IMAGES = ImageLimits("Seedream", media.DEFAULT_MAX_BYTES)
SEEDANCE_IMAGES = ImageLimits(
    "Seedance", media.DEFAULT_MAX_BYTES, min_side=300, max_side=6000, max_aspect=2.5
)
KLING_IMAGES = ImageLimits(
    "Kling",
    media.KLING_MAX_BYTES,
    min_side=media.KLING_MIN_SIDE,
    max_aspect=media.KLING_MAX_ASPECT,
    formats=media.KLING_FORMATS,
    assets=False,
)


def _megabytes(size: int) -> str:
    return f"{size / media.MB:.1f} MB"


def image_problem(source: str, limits: ImageLimits) -> str | None:
    """Why the image ``source`` (a path, a ``file://``/http(s) link, an ``asset://`` id) cannot
    be sent to ``limits.provider``, worded for the field; None when it can. Links are not
    fetched: the gateway judges those."""
    lowered = source[:12].lower()
    if lowered.startswith(("http://", "https://")):
        return None
    if lowered.startswith("asset://"):
        return None if limits.assets else f"{limits.provider} cannot use asset:// ids"
    try:
        info = media.describe_image(source)
    except MediaInputError as exc:  # "Cannot attach NAME: reason", worded for chat
        return str(exc).removeprefix("Cannot attach ").replace("the pasted image", source)
    name, who = source, limits.provider
    if info.size_bytes is not None and info.size_bytes > limits.max_bytes:
        return (
            f"{name} is too big ({_megabytes(info.size_bytes)}; "
            f"{who} takes at most {_megabytes(limits.max_bytes)})"
        )
    if limits.formats and info.mime not in limits.formats:
        kind = (info.mime or "unknown").split("/")[-1].upper()
        return f"{name} is {kind}; {who} takes JPEG or PNG only"
    if info.width is None or info.height is None:
        if limits.min_side or limits.max_side or limits.max_aspect:
            return f"{name}: the image header is damaged (its size cannot be read)"
        return None
    width, height = info.width, info.height
    if limits.min_side and min(width, height) < limits.min_side:
        return f"{name} is {width}×{height} px; {who} needs at least {limits.min_side} px a side"
    if limits.max_side and max(width, height) > limits.max_side:
        return f"{name} is {width}×{height} px; {who} takes at most {limits.max_side} px a side"
    if limits.max_aspect and max(width, height) > limits.max_aspect * min(width, height):
        return f"{name} is {width}×{height} px; {who} takes aspect ratios up to 2.5:1"
    return None


def check_images(fields: dict[str, list[str]], limits: ImageLimits) -> dict[str, str]:
    """``{field: reason}`` for every field naming an image ``limits.provider`` cannot take (the
    first bad one, and how many more there are)."""
    errors: dict[str, str] = {}
    for name, sources in fields.items():
        problems = [p for p in (image_problem(s, limits) for s in sources) if p]
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            errors[name] = problems[0] + more
    return errors
