"""``/video`` typed in a conversation and the F12 video form pick the same video family for the
same configured model (one rule, ``studio.jobs.requests.video_family``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Select

from studio.config import Settings
from studio.jobs import EngineConfig, JobProvider
from studio.jobs.requests import default_request, video_family
from studio.tui.app import StudioApp
from studio.tui.screens.media_forms import VideoForm

from .conftest import SIZE, wait_for
from .test_chat import send

FAMILIES = [
    ("seedance-2.0", JobProvider.SEEDANCE),
    ("doubao-seedance-1-5-pro-251215", JobProvider.SEEDANCE),
    ("kling-v3", JobProvider.KLING),
    ("kling-v1-6", JobProvider.KLING),
    # Neither name in it: /video sent it to Seedance while the form opened on Kling.
    ("sora-2", JobProvider.SEEDANCE),
]


@pytest.fixture
def video_app(settings: Settings, tmp_path: Path) -> Callable[[str], StudioApp]:
    config = EngineConfig(media_dir=tmp_path / "media", first_checks=(0.2,), jitter=0.0)

    def make(model: str) -> StudioApp:
        return StudioApp(dataclasses.replace(settings, video_model=model), jobs_config=config)

    return make


@pytest.mark.parametrize(("model", "family"), FAMILIES)
def test_one_rule_names_the_family(model: str, family: JobProvider) -> None:
    assert video_family(model) is family
    assert default_request("video", model, "a fox").provider is family


@pytest.mark.parametrize(("model", "family"), FAMILIES)
async def test_slash_video_and_the_form_pick_the_same_family(
    video_app: Callable[[str], StudioApp], model: str, family: JobProvider
) -> None:
    app = video_app(model)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f12")
        await wait_for(lambda: isinstance(app.screen, VideoForm))
        kind = str(app.screen.query_one("#kind", Select).value)
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, VideoForm))
        await send(pilot, "/video a fox at dusk")
        await wait_for(lambda: bool(app.jobs.jobs))
        (job,) = app.jobs.jobs.values()
    assert job.provider is family
    assert JobProvider(kind.split(":")[0]) is family
