"""The image files a request names, checked against what each provider accepts
(``anyfast-api.md`` §4.1 and §5.1) before anything is sent: a missing file, a directory, an
unreadable file, a file that is no image, an image too small, too big or too wide."""

from __future__ import annotations

from dataclasses import dataclass

from studio.api import media
from studio.api.errors import MediaInputError


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
