"""``studio image`` and ``studio video``: make images and videos through the job engine.

The request is built by :mod:`studio.jobs.requests` from the options, exactly as the F10/F12
forms build it from their fields, so an option is refused with the words the form shows under
that field. The job is written to the shared store before anything is sent (the TUI shows it),
and a job that fails stays there with its reason.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from collections.abc import Mapping

from studio.api.validation import KLING_MULTI_MODEL
from studio.commands.common import (
    CommandError,
    encodable,
    say,
    settings_or_fail,
    warn,
    write_stdout,
)
from studio.commands.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from studio.commands.job_follow import EndedHere, JobFollower
from studio.commands.job_runtime import job_runtime
from studio.commands.models import safe_json
from studio.config import Settings
from studio.jobs import Job, JobProvider, JobState
from studio.jobs.payload import job_payload
from studio.jobs.requests import (
    IMAGE_DEFAULTS,
    KLING_DEFAULTS,
    SEEDANCE_DEFAULTS,
    MediaRequest,
    image_request,
    video_family,
    video_request,
)

OPTION_NAMES = {
    "model": "--model",
    "prompt": "the prompt",
    "size": "--size",
    "references": "--ref",
    "max_images": "--count",
    "seed": "--seed",
    "ratio": "--ratio",
    "aspect_ratio": "--aspect-ratio",
    "resolution": "--resolution",
    "mode": "--mode",
    "duration": "--duration",
    "cfg_scale": "--cfg-scale",
    "negative_prompt": "--negative-prompt",
    "first_frame": "--first-frame",
    "last_frame": "--last-frame",
    "image": "--image",
    "image_tail": "--image-tail",
    "images": "--image",
    "audio": "--audio",
}
"""The option each form field is set with, to name it in a refusal."""

DEFAULT_SEEDANCE_MODEL = "seedance-2.0"
DEFAULT_KLING_MODEL = "kling-v2-master"


def refusal(errors: Mapping[str, str]) -> CommandError:
    """The form's reasons as one line, each after the option it is about (exit 2)."""
    parts = [f"{OPTION_NAMES.get(name, name)}: {reason}" for name, reason in errors.items()]
    return CommandError("; ".join(parts), EXIT_USAGE)


def _text(value: str | None) -> str:
    return encodable(value) if value else ""


def _paths(values: list[str]) -> str:
    return "\n".join(values)  # the forms' separator (commas or lines) for a list of paths


# -- the requests ----------------------------------------------------------------------------------


def image_fields(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """The F10 form's fields from ``studio image``'s options (its defaults where none)."""
    model = _text(args.model) or settings.image_model
    size = args.size if args.size is not None else IMAGE_DEFAULTS["size"]
    if args.size is None and "3-0" in model:  # Seedream 3.0 takes no size preset
        size = ""
    return {
        "model": model,
        "prompt": _text(" ".join(args.prompt)),
        "size": _text(size),
        "references": _paths(args.ref),
        "max_images": "" if args.count in (None, 1) else str(args.count),
        "seed": _text(args.seed),
        "response_format": "b64_json" if args.inline else "url",
        "watermark": "on" if args.watermark else "",
    }


def video_fields(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """The F12 form's fields for ``args.kind`` from ``studio video``'s options."""
    prompt = _text(" ".join(args.prompt))
    configured = settings.video_model
    if args.kind == "seedance":
        default = (
            configured
            if video_family(configured) is JobProvider.SEEDANCE
            else DEFAULT_SEEDANCE_MODEL
        )
        return {
            "model": _text(args.model) or default,
            "prompt": prompt,
            "ratio": _text(args.ratio) if args.ratio is not None else SEEDANCE_DEFAULTS["ratio"],
            "resolution": (
                _text(args.resolution)
                if args.resolution is not None
                else SEEDANCE_DEFAULTS["resolution"]
            ),
            "duration": _duration(args, SEEDANCE_DEFAULTS["duration"]),
            "seed": _text(args.seed),
            "first_frame": _text(args.first_frame),
            "last_frame": _text(args.last_frame),
            "references": _paths(args.ref),
            "audio": "on" if args.audio else "",
        }
    default = configured if video_family(configured) is JobProvider.KLING else DEFAULT_KLING_MODEL
    if args.kind == "kling:multi-image2video":
        default = KLING_MULTI_MODEL
    fields = {
        "model": _text(args.model) or default,
        "prompt": prompt,
        "mode": _text(args.mode) if args.mode is not None else KLING_DEFAULTS["mode"],
        "duration": _duration(args, KLING_DEFAULTS["duration"]),
        "negative_prompt": _text(args.negative_prompt),
        "cfg_scale": _text(getattr(args, "cfg_scale", None)),
    }
    ratio = getattr(args, "aspect_ratio", None)
    if args.kind != "kling:image2video":
        fields["aspect_ratio"] = (
            _text(ratio) if ratio is not None else KLING_DEFAULTS["aspect_ratio"]
        )
    if args.kind == "kling:image2video":
        fields |= {"image": _text(args.image), "image_tail": _text(args.image_tail)}
    if args.kind == "kling:multi-image2video":
        fields["images"] = _paths(args.images)
    return fields


def _duration(args: argparse.Namespace, default: object) -> str:
    return _text(args.duration) if args.duration is not None else str(default)


def build_image(args: argparse.Namespace, settings: Settings) -> MediaRequest:
    """``studio image``'s request, checked like the F10 form; CommandError (exit 2) if not."""
    request, errors = image_request(image_fields(args, settings))
    if request is None:
        raise refusal(errors)
    return request


def build_video(args: argparse.Namespace, settings: Settings) -> MediaRequest:
    """``studio video``'s request, checked like the F12 form; CommandError (exit 2) if not."""
    request, errors = video_request(args.kind, video_fields(args, settings))
    if request is None:
        raise refusal(errors)
    if getattr(args, "camera_fixed", False):
        request = dataclasses.replace(request, params={**request.params, "camera_fixed": True})
    return request


# -- running them ------------------------------------------------------------------------------


class _Made:
    """The job a command made as it last changed (for what ctrl+c says), and the jobs whose
    end this process wrote; the engine's ``on_change`` (its engine holds only this job)."""

    def __init__(self) -> None:
        self.job: Job | None = None
        self.ended = EndedHere()

    def changed(self, job: Job) -> None:
        self.job = job
        self.ended.changed(job)


def run_image(args: argparse.Namespace) -> int:
    """``studio image``: make it, wait for it, print the saved files' paths."""
    settings = settings_or_fail(demo=args.demo)
    request = build_image(args, settings)
    return _run(settings, request, args, wait=not args.no_wait)


def run_video(args: argparse.Namespace) -> int:
    """``studio video KIND``: start it and print its id (``--wait``: follow it to the end)."""
    settings = settings_or_fail(demo=args.demo)
    request = build_video(args, settings)
    return _run(settings, request, args, wait=args.wait)


def _run(settings: Settings, request: MediaRequest, args: argparse.Namespace, *, wait: bool) -> int:
    made = _Made()
    try:
        return asyncio.run(_make(settings, request, args, made, wait=wait))
    except KeyboardInterrupt:
        job = made.job
        if job is None:
            say("interrupted before the job was written: nothing was sent")
        elif job.state is JobState.PENDING and not job.task_id:
            say(
                f"interrupted while job #{job.id} was being sent: it may not have been "
                f"received; see `studio jobs show {job.id}`"
            )
        else:
            say(
                f"stopped waiting; job #{job.id} goes on: follow it with "
                f"`studio jobs wait {job.id}` (or `studio jobs run`)"
            )
        return EXIT_INTERRUPTED


async def _make(
    settings: Settings,
    request: MediaRequest,
    args: argparse.Namespace,
    made: _Made,
    *,
    wait: bool,
) -> int:
    async with job_runtime(
        settings, demo=args.demo, take_up=False, on_change=made.changed
    ) as runtime:
        job = await runtime.engine.submit_request(request)
        follower = JobFollower(runtime, made.ended, json_lines=args.json)
        if job.state.is_final:  # refused, or of unknown fate, at once
            await follower.report(job)
            return EXIT_FAILED if job.state is not JobState.SUCCEEDED else EXIT_OK
        if not wait:
            if job.state is JobState.PENDING:  # refused for now (429, gateway unreachable)
                warn(
                    f"job #{job.id} is not sent yet ({job.last_error or job.message}); "
                    f"`studio jobs wait {job.id}`, `studio jobs run` or the TUI sends it"
                )
            text = safe_json(job_payload(job), indent=None) if args.json else str(job.id)
            write_stdout(text + "\n")
            return EXIT_OK
        if request.provider is not JobProvider.SEEDREAM:
            say(f"job #{job.id} sent; following it (ctrl+c stops waiting, the job goes on)")
        (done,) = await follower.wait_all([job.id])
        return EXIT_OK if done.state is JobState.SUCCEEDED else EXIT_FAILED
