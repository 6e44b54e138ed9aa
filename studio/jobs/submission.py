"""Turning a job's stored parameters into the right client call, and back.

Parameters are checked and made self-contained *before* a job is written: local image paths
become ``data:`` URIs (so a retry next week does not depend on the file still being there), and
an image that the provider would refuse is refused here, before anything is sent or stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from studio.api.client import KLING_ACTIONS, AnyFastClient
from studio.api.media import image_data_uri, image_for_kling
from studio.api.types import ImageResult, VideoTask
from studio.store.job_records import Job, JobProvider

MAX_PARAMS_BYTES = 64 * 1024 * 1024
"""The most a job's parameters (inline images included) may weigh in the store."""

SEEDREAM_PARAMS = frozenset(
    {"size", "images", "max_images", "response_format", "watermark", "seed", "extra"}
)
SEEDANCE_PARAMS = frozenset(
    {
        "first_frame",
        "last_frame",
        "reference_images",
        "reference_videos",
        "reference_audios",
        "ratio",
        "resolution",
        "duration",
        "generate_audio",
        "seed",
        "watermark",
        "camera_fixed",
        "return_last_frame",
        "extra",
    }
)
IMAGE_FIELDS: dict[JobProvider, tuple[str, ...]] = {
    JobProvider.SEEDREAM: ("images",),
    JobProvider.SEEDANCE: ("first_frame", "last_frame", "reference_images"),
    JobProvider.KLING: ("image", "image_tail", "images"),
}
KLING_DEFAULT_MODEL = {"multi-image2video": "kling-v1-6"}
KLING_IMAGE_FIELDS = {
    "text2video": frozenset(),
    "image2video": frozenset({"image", "image_tail"}),
    "multi-image2video": frozenset({"images"}),
}


class JobRequestError(ValueError):
    """Parameters a job cannot be created with (unknown names, too large, wrong action)."""


def kling_model(action: str, model_name: str | None) -> str:
    """The Kling model a job uses: the one asked for, else the gateway's default."""
    return model_name or KLING_DEFAULT_MODEL.get(action, "kling-v1")


def _inline(provider: JobProvider, source: Any) -> str:
    if not isinstance(source, str):
        source = str(source)
    uri = image_data_uri(source)
    if provider is JobProvider.KLING:
        image_for_kling(uri)  # Kling's own limits (JPEG/PNG, ≥300 px, ≤10 MB), checked now
    return uri


def prepare_params(provider: JobProvider, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters to store for a new job: ``None`` values dropped, tuples made lists, local
    images inlined as data URIs. Raises :class:`JobRequestError` for parameters the client
    does not take and ``MediaInputError`` for an image that cannot be sent."""
    if provider is JobProvider.KLING:
        _check_kling(action, params)
    allowed = {JobProvider.SEEDREAM: SEEDREAM_PARAMS, JobProvider.SEEDANCE: SEEDANCE_PARAMS}
    known = allowed.get(provider)
    unknown = set(params) - known if known is not None else set()
    if unknown:
        raise JobRequestError(f"{provider.value} does not take {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if key in IMAGE_FIELDS[provider]:
            if isinstance(value, list | tuple):
                value = [_inline(provider, v) for v in value]
                if not value:
                    continue
            else:
                value = _inline(provider, value)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    try:
        size = len(json.dumps(out, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise JobRequestError(f"the parameters cannot be stored: {exc}") from None
    if size > MAX_PARAMS_BYTES:
        raise JobRequestError(
            f"the parameters (images included) weigh {size // (1024 * 1024)} MB; "
            f"the limit is {MAX_PARAMS_BYTES // (1024 * 1024)} MB"
        )
    return out


def _check_kling(action: str, params: Mapping[str, Any]) -> None:
    """What the client would refuse only after the job is written: refuse it now."""
    if action not in KLING_ACTIONS:
        raise JobRequestError(f"unknown Kling action {action!r}; expected one of {KLING_ACTIONS}")
    given = {k for k in IMAGE_FIELDS[JobProvider.KLING] if params.get(k)}
    wrong = given - KLING_IMAGE_FIELDS[action]
    if wrong:
        raise JobRequestError(f"Kling {action} does not take {', '.join(sorted(wrong))}")
    if action == "image2video" and not given:
        raise JobRequestError("Kling image2video needs an image, a tail image, or both")
    if action == "multi-image2video":
        images = params.get("images") or ()
        if isinstance(images, str) or not 1 <= len(images) <= 4:
            raise JobRequestError("Kling multi-image2video takes a list of 1 to 4 images")


async def send(client: AnyFastClient, job: Job) -> VideoTask | ImageResult:
    """Send the create request of ``job`` with its idempotency key."""
    params = dict(job.params)
    key = job.idempotency_key
    if job.provider is JobProvider.SEEDREAM:
        return await client.generate_images(job.model, job.prompt, idempotency_key=key, **params)
    if job.provider is JobProvider.SEEDANCE:
        return await client.create_seedance_task(
            job.model, job.prompt or None, idempotency_key=key, **params
        )
    params["model_name"] = job.model
    if job.action == "text2video":
        return await client.create_kling_text2video(job.prompt, idempotency_key=key, **params)
    if job.action == "image2video":
        return await client.create_kling_image2video(
            image=params.pop("image", None),
            image_tail=params.pop("image_tail", None),
            prompt=job.prompt or None,
            idempotency_key=key,
            **params,
        )
    images = params.pop("images", [])
    return await client.create_kling_multi_image2video(
        images, job.prompt, idempotency_key=key, **params
    )


def trimmed(raw: Any, limit: int = 4096) -> Any:
    """A server answer fit for ``last_response``: long inline data (``b64_json``) cut short."""
    if isinstance(raw, dict):
        return {k: trimmed(v, limit) for k, v in raw.items()}
    if isinstance(raw, list):
        return [trimmed(v, limit) for v in raw]
    if isinstance(raw, str) and len(raw) > limit and " " not in raw:
        return raw[:64] + f"… ({len(raw)} characters)"
    return raw
