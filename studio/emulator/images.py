"""``POST /v1/images/generations``: Seedream, synchronous, with real (small) PNG results."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from studio.emulator.config import Slot, strip_markers
from studio.emulator.media import fit_within, render_png, tos_query
from studio.emulator.responses import ApiError, invalid_request, random_alnum
from studio.emulator.state import Call

MAX_REFERENCES = 14
MAX_TOTAL_IMAGES = 15
DEFAULT_GROUP_SIZE = 3
MAX_PIXELS = 4096 * 4096
MIN_PIXELS = 512 * 512
"""The same area limits as the client's checks (``studio.api.validation``)."""
_PRESETS = {"1K": 1024, "2K": 2048, "4K": 4096}
_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×*]\s*(\d{1,5})\s*$")
_SENSITIVE = (
    "The request failed because the output image may contain sensitive information. "
    "Request id: {rid}"
)


def marker_text(body: Any) -> str:
    """Where a Seedream request may carry an ``[[emulator: ...]]`` marker: the prompt."""
    prompt = body.get("prompt") if isinstance(body, dict) else None
    return prompt if isinstance(prompt, str) else ""


def _bad(message: str) -> ApiError:
    return ApiError(invalid_request("openai", message))


def parse_size(value: Any, default: str) -> tuple[int, int]:
    """Pixel size from ``1K``/``2K``/``4K`` or ``WxH`` (aspect ratio 1/16 … 16)."""
    if value is None:
        value = default
    if not isinstance(value, str):
        raise _bad("size must be a string such as 2K or 2048x2048")
    preset = _PRESETS.get(value.strip().upper())
    if preset is not None:
        return preset, preset
    match = _SIZE.match(value)
    if not match:
        raise _bad(f"size {value!r} is not valid: use 1K, 2K, 4K or WIDTHxHEIGHT")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 1 or height < 1:
        raise _bad("size must have a positive width and height")
    if not 1 / 16 <= width / height <= 16:
        raise _bad(f"size {value!r}: the aspect ratio must be between 1:16 and 16:1")
    if width * height > MAX_PIXELS:
        raise _bad(f"size {value!r}: at most {MAX_PIXELS} pixels are allowed")
    if width * height < MIN_PIXELS:
        raise _bad(f"size {value!r}: at least {MIN_PIXELS} pixels (512x512) are required")
    return width, height


@dataclass(frozen=True, slots=True)
class ImagePlan:
    """A validated Seedream request."""

    model: str
    prompt: str
    width: int
    height: int
    count: int
    b64: bool


def _references(value: Any) -> list[str]:
    if value is None:
        return []
    refs = [value] if isinstance(value, str) else value
    if not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs):
        raise _bad("image must be a URL or data URI, or an array of them")
    if len(refs) > MAX_REFERENCES:
        raise _bad(f"image: at most {MAX_REFERENCES} reference images are allowed")
    return refs


def plan_images(call: Call) -> ImagePlan:
    """Validate the request against the Seedream rules."""
    body, model = call.openai_model("seedream")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not strip_markers(prompt):
        raise _bad("prompt is required")
    width, height = parse_size(body.get("size"), str(model.extra.get("default_size", "2048x2048")))
    refs = _references(body.get("image"))
    mode = body.get("sequential_image_generation", "disabled")
    if mode not in ("auto", "disabled"):
        raise _bad("sequential_image_generation must be auto or disabled")
    options = body.get("sequential_image_generation_options")
    max_images: int | None = None
    if options is not None:
        if not isinstance(options, dict):
            raise _bad("sequential_image_generation_options must be an object")
        raw_max = options.get("max_images")
        if raw_max is not None:
            if isinstance(raw_max, bool) or not isinstance(raw_max, int):
                raise _bad("max_images must be an integer")
            if not 1 <= raw_max <= MAX_TOTAL_IMAGES:
                raise _bad(f"max_images must be between 1 and {MAX_TOTAL_IMAGES}")
            if len(refs) + raw_max > MAX_TOTAL_IMAGES:
                raise _bad(f"reference images plus max_images must not exceed {MAX_TOTAL_IMAGES}")
            max_images = raw_max
    response_format = body.get("response_format", "url")
    if response_format not in ("url", "b64_json"):
        raise _bad("response_format must be url or b64_json")
    count = 1
    if mode == "auto":
        count = max_images or min(DEFAULT_GROUP_SIZE, MAX_TOTAL_IMAGES - len(refs))
    return ImagePlan(
        model=model.id,
        prompt=strip_markers(prompt),
        width=width,
        height=height,
        count=max(1, count),
        b64=response_format == "b64_json",
    )


async def generate_images(call: Call) -> Response:
    """Render the images, store them under ``/files`` and answer with links or base64."""
    plan = plan_images(call)
    await call.answer_delay()
    failing = call.fault(Slot.ITEM)
    fail_at = failing.count if failing is not None else 0
    size = f"{plan.width}x{plan.height}"
    render_w, render_h = fit_within(plan.width, plan.height)
    items: list[dict[str, Any]] = []
    made = 0
    batch = random_alnum(10).lower()
    for index in range(1, plan.count + 1):
        if index == fail_at:
            message = _SENSITIVE.format(rid=call.request_id)
            items.append(
                {"error": {"code": "OutputImageSensitiveContentDetected", "message": message}}
            )
            continue
        png = render_png(render_w, render_h, f"{plan.prompt}\0{index}\0{size}")
        made += 1
        if plan.b64:
            items.append({"b64_json": base64.b64encode(png).decode("ascii"), "size": size})
            continue
        name = f"seedream-{batch}-{index}.png"
        call.state.files.put(name, png, "image/png")
        items.append({"url": call.file_url(name, tos_query(name)), "size": size})
    tokens = made * (plan.width * plan.height // 256)
    return JSONResponse(
        {
            "model": plan.model,
            "created": int(time.time()),
            "data": items,
            "usage": {"generated_images": made, "output_tokens": tokens, "total_tokens": tokens},
        }
    )
