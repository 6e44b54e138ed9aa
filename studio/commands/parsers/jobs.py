"""The job commands' arguments: ``image``, ``video`` and ``jobs``.

Option values are not checked here (no ``choices``) beyond their type: ``studio.jobs.requests``
checks them, with the very words the F10/F12 forms show under a field.
"""

from __future__ import annotations

import argparse
from typing import Any

from studio.commands.parsers import store_int

STATES = (
    "active",
    "pending",
    "queued",
    "running",
    "downloading",
    "succeeded",
    "failed",
    "timed_out",
    "submission_uncertain",
    "cancelled",
)
"""What ``jobs list --state`` takes: a job state, or ``active`` for every unfinished one."""

_FORMAT = argparse.RawDescriptionHelpFormatter

IMAGE_EXAMPLES = """\
examples:
  studio image "a lighthouse at dawn, watercolour"          one image, its path on stdout
  studio image --count 3 --size 4K "three album covers"      a group of up to 3 images
  studio image --ref sketch.png "the same scene, in colour"  with a reference image
  studio image --demo --json "a red square"                  the job as JSON (emulator)
  open "$(studio image "a cat" | head -1)"                   open what it made
"""

VIDEO_EXAMPLES = """\
examples:
  studio video seedance "a cat playing the piano"              prints the job id at once
  studio video seedance --wait --duration 8 "waves at night"   waits, prints the file's path
  studio video kling-t2v --mode pro "a paper boat on a river"
  studio video kling-i2v --image start.png --image-tail end.png "a smooth morph"
  studio video kling-multi --image a.png --image b.png "they meet"
  id=$(studio video seedance "fog") && studio jobs wait "$id"
"""

JOBS_EXAMPLES = """\
examples:
  studio jobs                               the newest jobs, one a line
  studio jobs list --state active --json    the unfinished jobs as JSON
  studio jobs show 12                       one job in full
  studio jobs wait 12 13                    follow jobs to the end, print their files
  studio jobs check 12                      ask the gateway about a job again
  studio jobs retry 12                      the same request again, as a new job
  studio jobs run --forever                 follow every job, like a TUI with no screen
  studio jobs watch                         a live table of the active jobs

exit codes: 0 ok; 1 a job failed, timed out or could not be handled; 2 bad usage;
3 the API key is missing or refused; 4 the database cannot be used; 130 interrupted.
"""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``image``, ``video`` and ``jobs`` to the ``studio`` parser."""
    _add_image(sub)
    _add_video(sub)
    _add_jobs(sub)


def _common(parser: argparse.ArgumentParser, *, json_help: str, nested: bool = False) -> None:
    # nested (a video kind): `studio video --demo seedance ...` sets it on the parent parser,
    # and a kind's own default must not overwrite it
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if nested else False,
        help="use the built-in emulator (no key)",
    )
    parser.add_argument("--json", action="store_true", help=json_help)


def _add_image(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    image = sub.add_parser(
        "image",
        help="make images with Seedream; print the saved files' paths",
        description="Make an image (or a group) with Seedream through the job engine, wait for "
        "it, save the files in the media folder and print their paths, one a line. The job is "
        "in the store (the TUI shows it). The options are checked like the F10 form's fields.",
        epilog=IMAGE_EXAMPLES,
        formatter_class=_FORMAT,
    )
    image.add_argument("prompt", nargs="*", help="the prompt (words are joined with spaces)")
    image.add_argument("-m", "--model", help="Seedream model (default: image_model setting)")
    image.add_argument("--size", help="1K, 2K, 4K or WIDTHxHEIGHT (default 2K)")
    image.add_argument(
        "--count", type=int, metavar="N", help="a group of up to N images (default one)"
    )
    image.add_argument("--seed", metavar="N", help="a fixed seed (default random)")
    image.add_argument(
        "--ref",
        action="append",
        default=[],
        metavar="IMAGE",
        help="a reference image: a path or an http(s) URL (repeatable, up to 14)",
    )
    image.add_argument("--watermark", action="store_true", help="ask for a watermark")
    image.add_argument(
        "--inline",
        action="store_true",
        help="have the images sent inline (base64) instead of as links",
    )
    image.add_argument(
        "--no-wait",
        action="store_true",
        help="print the job id once the request is sent; save the files later (TUI, jobs run)",
    )
    _common(image, json_help="print the ended job as JSON (see the README) instead of paths")
    image.set_defaults(handler="studio.commands.media:run_image")


def _video_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", nargs="*", help="the prompt (words are joined with spaces)")
    parser.add_argument("--duration", metavar="S", help="length in seconds (default 5)")
    parser.add_argument(
        "--wait",
        action="store_true",
        help="follow the job to the end like `jobs wait`: print its files' paths",
    )
    _common(
        parser, json_help="print the job as JSON (see the README) instead of its id", nested=True
    )


def _kling_common(parser: argparse.ArgumentParser, *, ratio: bool, cfg: bool = True) -> None:
    parser.add_argument("-m", "--model", help="Kling model (default: video_model if a Kling one)")
    parser.add_argument("--mode", help="std or pro (default std)")
    if ratio:
        parser.add_argument(
            "--aspect-ratio", "--ratio", dest="aspect_ratio", help="16:9, 9:16 or 1:1"
        )
    parser.add_argument("--negative-prompt", metavar="TEXT", help="what to keep out")
    if cfg:
        parser.add_argument("--cfg-scale", metavar="X", help="0 to 1 (default: the model's)")


def _add_video(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    video = sub.add_parser(
        "video",
        help="start a video job (Seedance or Kling); print its id",
        description="Start a video job through the job engine and print its id once the "
        "gateway took the request; --wait follows it to the end and prints the saved file's "
        "path instead. The options are checked like the F12 form's fields.",
        epilog=VIDEO_EXAMPLES,
        formatter_class=_FORMAT,
    )
    video.add_argument("--demo", action="store_true", help="use the built-in emulator (no key)")
    kinds = video.add_subparsers(dest="video_kind", metavar="KIND", required=True)

    seedance = kinds.add_parser(
        "seedance",
        help="Seedance: text, first/last frame or reference images to video",
        epilog=VIDEO_EXAMPLES,
        formatter_class=_FORMAT,
    )
    seedance.add_argument(
        "-m", "--model", help="Seedance model (default: video_model if a Seedance one)"
    )
    seedance.add_argument("--ratio", help="16:9, 4:3, 1:1, 3:4, 9:16, 21:9 or adaptive")
    seedance.add_argument("--resolution", help="480p, 720p or 1080p (default 720p)")
    seedance.add_argument("--seed", metavar="N", help="a fixed seed (default random)")
    seedance.add_argument(
        "--audio",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="generate audio (default on)",
    )
    seedance.add_argument(
        "--camera-fixed", action="store_true", help="keep the camera still (Seedance option)"
    )
    seedance.add_argument("--first-frame", metavar="IMAGE", help="first frame: a path or a URL")
    seedance.add_argument("--last-frame", metavar="IMAGE", help="last frame: a path or a URL")
    seedance.add_argument(
        "--ref",
        action="append",
        default=[],
        metavar="IMAGE",
        help="a reference image (repeatable, up to 9)",
    )
    _video_common(seedance)
    seedance.set_defaults(handler="studio.commands.media:run_video", kind="seedance")

    t2v = kinds.add_parser(
        "kling-t2v", help="Kling: text to video", epilog=VIDEO_EXAMPLES, formatter_class=_FORMAT
    )
    _kling_common(t2v, ratio=True)
    _video_common(t2v)
    t2v.set_defaults(handler="studio.commands.media:run_video", kind="kling:text2video")

    i2v = kinds.add_parser(
        "kling-i2v",
        help="Kling: an image (and a tail image) to video",
        epilog=VIDEO_EXAMPLES,
        formatter_class=_FORMAT,
    )
    _kling_common(i2v, ratio=False)
    i2v.add_argument("--image", metavar="IMAGE", help="the first frame: a path or a URL")
    i2v.add_argument("--image-tail", metavar="IMAGE", help="the last frame: a path or a URL")
    _video_common(i2v)
    i2v.set_defaults(handler="studio.commands.media:run_video", kind="kling:image2video")

    multi = kinds.add_parser(
        "kling-multi",
        help="Kling: 1 to 4 images to video",
        epilog=VIDEO_EXAMPLES,
        formatter_class=_FORMAT,
    )
    _kling_common(multi, ratio=True, cfg=False)
    multi.add_argument(
        "--image",
        dest="images",
        action="append",
        default=[],
        metavar="IMAGE",
        help="an image: a path or a URL (repeat, 1 to 4)",
    )
    _video_common(multi)
    multi.set_defaults(handler="studio.commands.media:run_video", kind="kling:multi-image2video")


def _list_options(parser: argparse.ArgumentParser, *, keep_parent: bool) -> None:
    """``--json``, ``--state``, ``--limit`` on ``jobs`` and on ``jobs list`` (where an option
    left out keeps what was given before ``list``)."""
    unset: dict[str, Any] = {"default": argparse.SUPPRESS} if keep_parent else {}
    parser.add_argument("--json", action="store_true", help="print JSON (see the README)", **unset)
    parser.add_argument(
        "--state",
        action="append",
        choices=STATES,
        metavar="STATE",
        help="only jobs in this state (repeatable): " + ", ".join(STATES),
        **unset,
    )
    parser.add_argument(
        "--limit",
        type=store_int,
        metavar="N",
        help="at most N jobs, newest first (default 50)",
        **({"default": argparse.SUPPRESS} if keep_parent else {"default": 50}),
    )


def _job_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job_id", type=store_int, metavar="ID", help="the job's number")


def _add_jobs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = sub.add_parser(
        "jobs",
        help="list, show, follow, retry, cancel or check image and video jobs",
        description="The image and video jobs in the store, the same the TUI shows. Without an "
        "action, lists them.",
        epilog=JOBS_EXAMPLES,
        formatter_class=_FORMAT,
    )
    _list_options(jobs, keep_parent=False)
    jobs.add_argument("--demo", action="store_true", help="use the built-in emulator (no key)")
    jobs.set_defaults(handler="studio.commands.jobs:run_list")
    actions = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")

    listing = actions.add_parser(
        "list",
        help="the jobs, newest first, one a line",
        description="The jobs, newest first: id, kind, state, model, created, prompt.",
        epilog="examples:\n  studio jobs list --state failed --state timed_out\n"
        "  studio jobs list --json --limit 5 | jq '.[].state'",
        formatter_class=_FORMAT,
    )
    _list_options(listing, keep_parent=True)
    listing.add_argument("--demo", action="store_true", default=argparse.SUPPRESS, help="ignored")
    listing.set_defaults(handler="studio.commands.jobs:run_list")

    show = actions.add_parser(
        "show",
        help="one job in full (sanitised), or its JSON",
        description="One job in full: state, prompt, parameters, task, times, files, reason.",
        epilog="examples:\n  studio jobs show 12\n"
        "  studio jobs show 12 --json | jq -r '.files[].path'",
        formatter_class=_FORMAT,
    )
    _job_id(show)
    show.add_argument("--json", action="store_true", help="print JSON (see the README)")
    _demo(show)
    show.set_defaults(handler="studio.commands.jobs:run_show")

    wait = actions.add_parser(
        "wait",
        help="follow jobs to the end; print their files' paths",
        description="Follow the jobs to the end through the job engine (it saves their "
        "results; a job another Studio process follows is watched through the store), with a "
        "progress line on stderr when it is a terminal. Prints each result's path, one a line. "
        "Exit 0 when every job succeeded, 1 otherwise. ctrl+c stops waiting; the jobs go on.",
        epilog="example:\n  studio jobs wait 12 13 && echo all done",
        formatter_class=_FORMAT,
    )
    wait.add_argument("job_ids", type=store_int, nargs="+", metavar="ID", help="the jobs' numbers")
    wait.add_argument(
        "--json", action="store_true", help="print each ended job as one line of JSON"
    )
    _demo(wait)
    wait.set_defaults(handler="studio.commands.jobs:run_wait")

    for name, text, example in (
        (
            "retry",
            "send a job's request again, as a new (separately billed) job; print its id",
            'new=$(studio jobs retry 12) && studio jobs wait "$new"',
        ),
        (
            "cancel",
            "stop tracking a job (the gateway has no cancel; it may still be billed)",
            "studio jobs cancel 12",
        ),
        (
            "check",
            "ask the gateway about a job again: collect a finished task's result (fresh "
            "links), track a running one again, or save files that went missing",
            "studio jobs check 12",
        ),
    ):
        action = actions.add_parser(
            name,
            help=text,
            description=text[0].upper() + text[1:] + ".",
            epilog=f"example:\n  {example}",
            formatter_class=_FORMAT,
        )
        _job_id(action)
        action.add_argument("--json", action="store_true", help="print the job as JSON")
        _demo(action)
        action.set_defaults(handler=f"studio.commands.jobs:run_{name}")

    run = actions.add_parser(
        "run",
        help="follow every unfinished job to the end without the TUI",
        description="Follow every unfinished job to the end (send, check, save), a line per job "
        "that ends; exit when none is left, or keep going with --forever (and take up jobs "
        "other processes create). Safe next to a running TUI: a job is followed by one process.",
        epilog="examples:\n  nohup studio jobs run > jobs.log 2>&1 &\n"
        "  studio jobs run --forever          in a tmux pane or a systemd user service",
        formatter_class=_FORMAT,
    )
    run.add_argument(
        "--forever", action="store_true", help="keep running and take up new jobs as they come"
    )
    _demo(run)
    run.set_defaults(handler="studio.commands.jobs:run_run")

    watch = actions.add_parser(
        "watch",
        help="a live table of the active jobs (ctrl+c leaves)",
        description="A table of the active jobs, refreshed in place; plain lines when stdout "
        "is not a terminal.",
        epilog="examples:\n  studio jobs watch\n  ssh box studio jobs watch --interval 5",
        formatter_class=_FORMAT,
    )
    watch.add_argument(
        "--state", action="append", choices=STATES, metavar="STATE", help="only these states"
    )
    watch.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="seconds between refreshes (default 1)",
    )
    _demo(watch)
    watch.set_defaults(handler="studio.commands.jobs_watch:run_watch")


def _demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo", action="store_true", help="use the built-in emulator's gateway (no key)"
    )
