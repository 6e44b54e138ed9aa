"""The job commands' arguments, the requests they build and the text they print (no server)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from studio.cli import build_parser
from studio.commands.common import CommandError
from studio.commands.job_lines import detail_block, end_line, list_line, progress_text
from studio.commands.media import build_image, build_video
from studio.config import Settings
from studio.jobs import Job, JobFile, JobKind, JobProvider, JobState
from studio.jobs.requests import IMAGE_DEFAULTS, KLING_DEFAULTS, SEEDANCE_DEFAULTS
from studio.store import Store


def parse(*argv: str) -> dict[str, object]:
    return vars(build_parser().parse_args(list(argv)))


def test_jobs_alone_lists_and_list_options_work_before_or_after_list() -> None:
    assert parse("jobs")["handler"] == "studio.commands.jobs:run_list"
    assert parse("jobs", "--json")["json"] is True
    assert parse("jobs", "--json", "list")["json"] is True  # not reset by `list`
    listed = parse("jobs", "list", "--state", "active", "--state", "failed", "--limit", "3")
    assert listed["state"] == ["active", "failed"] and listed["limit"] == 3
    assert parse("jobs", "list")["limit"] == 50


def test_every_job_action_names_its_handler() -> None:
    for action in ("show", "retry", "cancel", "check"):
        assert parse("jobs", action, "4")["handler"] == f"studio.commands.jobs:run_{action}"
    assert parse("jobs", "wait", "4", "5")["job_ids"] == [4, 5]
    assert parse("jobs", "run", "--forever")["forever"] is True
    watch = parse("jobs", "watch", "--state", "running", "--interval", "2")
    assert watch["handler"] == "studio.commands.jobs_watch:run_watch"
    assert watch["interval"] == 2.0 and watch["state"] == ["running"]


@pytest.mark.parametrize(
    "argv",
    [
        ("jobs", "show", "99999999999999999999999"),
        ("jobs", "wait", "4", "99999999999999999999999"),
        ("jobs", "list", "--limit", "99999999999999999999999"),
        ("chats", "--limit", "99999999999999999999999"),
        ("ask", "--max-tokens", "99999999999999999999999", "hi"),
    ],
)
def test_a_number_past_the_store_s_integers_is_a_usage_error(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        parse(*argv)
    assert refused.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_image_takes_the_forms_defaults_and_the_settings_model() -> None:
    settings = Settings(image_model="doubao-seedream-4-0-250828")
    args = build_parser().parse_args(["image", "a", "cat"])
    request = build_image(args, settings)
    assert request.model == "doubao-seedream-4-0-250828"
    assert request.prompt == "a cat"
    assert request.params["size"] == IMAGE_DEFAULTS["size"]
    assert request.params["max_images"] is None and request.params["watermark"] is False
    three = build_image(build_parser().parse_args(["image", "--count", "3", "x"]), settings)
    assert three.params["max_images"] == 3


def test_video_kinds_take_the_forms_defaults() -> None:
    settings = Settings(video_model="kling-v3")
    seedance = build_video(build_parser().parse_args(["video", "seedance", "x"]), settings)
    assert seedance.provider is JobProvider.SEEDANCE and seedance.model == "seedance-2.0"
    assert seedance.params["ratio"] == SEEDANCE_DEFAULTS["ratio"]
    assert seedance.params["generate_audio"] is True
    kling = build_video(build_parser().parse_args(["video", "kling-t2v", "x"]), settings)
    assert kling.model == "kling-v3" and kling.action == "text2video"  # the configured one
    assert kling.params["mode"] == KLING_DEFAULTS["mode"]
    fixed = build_parser().parse_args(["video", "seedance", "--camera-fixed", "x"])
    assert build_video(fixed, settings).params["camera_fixed"] is True


def test_refusals_name_the_options_in_one_line() -> None:
    args = build_parser().parse_args(["video", "seedance", "--ratio", "2:1", "--seed", "x", "p"])
    with pytest.raises(CommandError) as refused:
        build_video(args, Settings())
    assert refused.value.exit_code == 2
    message = str(refused.value)
    assert "\n" not in message
    assert "--ratio: one of 16:9" in message and "--seed: " in message


def job(**changes: object) -> Job:
    with Store.open(":memory:") as store:
        made = store.create_job(
            kind=JobKind.VIDEO,
            provider=JobProvider.SEEDANCE,
            action="generate",
            model="seedance-2.0",
            prompt="a \x1b[31mred\x1b[0m\u202e fox\nover two lines",
            params={"first_frame": "data:image/png;base64," + "A" * 400, "ratio": "16:9"},
            idempotency_key="k",
        )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def test_printed_job_text_is_safe_for_the_terminal() -> None:
    now = time.time()
    shown = [
        list_line(job(), now),
        detail_block(job(), now),
        progress_text(job(state=JobState.RUNNING, progress=40), now),
        end_line(job(state=JobState.FAILED, failure_reason="bad \x1b]0;title\x07 news")),
    ]
    for text in shown:
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "<image/png inline, 300 bytes>" in shown[1]  # inline data summarised
    assert "#1 running 40%" in shown[2]


def test_end_line_says_where_the_files_are() -> None:
    files = (JobFile(index=0, url=None, path="/m/a.mp4", done=True),)
    done = job(state=JobState.SUCCEEDED, files=files, finished_at=time.time())
    assert end_line(done).endswith(": 1 file")
    assert end_line(done, paths=True).endswith(": /m/a.mp4")
    assert "(in another process)" in end_line(done, elsewhere=True)
