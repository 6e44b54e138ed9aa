"""The F10/F12 forms: the prompt has the focus, keys typed at once land in it, image files are
checked under their field, and /image and /video record the forms' defaults; the gallery
shows videos too."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input, Label, Select, Static, TextArea

from studio.api.validation import KLING_MODES, KLING_RATIOS, SEEDANCE_RATIOS, SEEDANCE_RESOLUTIONS
from studio.config import Settings
from studio.jobs import EngineConfig, Job, JobFile, JobKind, JobProvider, JobState
from studio.tui import previews
from studio.tui.app import StudioApp
from studio.tui.screens.gallery import GalleryScreen, Picture, Tile, video_facts
from studio.tui.screens.job_detail import JobDetail
from studio.tui.screens.media_forms import (
    SEEDANCE_MODELS,
    SEEDREAM_MODELS,
    VIDEO_KINDS,
    ImageForm,
    VideoForm,
    _Form,
)
from studio.tui.widgets.prompt import PromptInput

from .conftest import wait_for
from .test_chat import send

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def jobs_config(tmp_path: Path) -> EngineConfig:
    return EngineConfig(
        media_dir=tmp_path / "media",
        first_checks=(0.2,),
        seedance_interval=0.3,
        kling_interval=0.3,
        jitter=0.0,
        flush_interval=0.1,
        claim_interval=0.5,
    )


@pytest.fixture
def form_app(settings: Settings, jobs_config: EngineConfig) -> Callable[..., StudioApp]:
    def make(**changes: object) -> StudioApp:
        import dataclasses

        return StudioApp(dataclasses.replace(settings, **changes), jobs_config=jobs_config)  # type: ignore[arg-type]

    return make


def png(width: int, height: int) -> bytes:
    """A real (grey) PNG of that size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def prompt_of(form: _Form) -> str | None:
    """The form's prompt text; None until the form is composed."""
    found = form.query("#prompt").results(TextArea)
    return next((area.text for area in found), None)


def main_prompt(app: StudioApp) -> str:
    return "".join(w.text for s in app.screen_stack for w in s.query(PromptInput))


def error(form: _Form, name: str) -> str:
    return str(form.query_one(f"#err-{name}").render())


def type_in_one_write(app: StudioApp, keys: list[str]) -> None:
    """Post every key at once, as the driver does with the keys of one read from the terminal
    (Pilot's ``press`` waits for the app between keys)."""
    for key in keys:
        character = key if len(key) == 1 else None
        app.post_message(events.Key("space" if key == " " else key, character))


async def open_form(app: StudioApp, pilot: object, key: str) -> _Form:
    await pilot.press(key)  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, _Form) and app.screen.focused is not None)
    assert isinstance(app.screen, _Form)
    return app.screen


# --- focus and typing ---------------------------------------------------------------------------


def choices(form: _Form) -> dict[str, tuple[object, list[tuple[str, object]], str]]:
    """Each pick-one field: its value, its options (shown, value) and its label."""
    found = {}
    for select in form.query(Select):
        options = [(str(shown), value) for shown, value in select._options]
        label = str(form.query_one(f"#row-{select.id} Label", Label).render())
        assert not select._allow_blank and form.query_one(f"#err-{select.id}")
        found[str(select.id)] = (select.value, options, label)
    return found


async def test_the_forms_offer_their_choices_with_their_defaults(
    form_app: Callable[..., StudioApp],
) -> None:
    same = lambda values: [(v, v) for v in values]  # noqa: E731
    app = form_app()
    async with app.run_test(size=SIZES[1]) as pilot:
        form = await open_form(app, pilot, "f10")
        assert choices(form) == {
            "model": ("doubao-seedream-4-5-251128", same(SEEDREAM_MODELS), "Model"),
            "response_format": (
                "url",
                [("URL (downloaded at once)", "url"), ("Inline base64", "b64_json")],
                "Delivery",
            ),
        }
        await pilot.press("escape")
        form = await open_form(app, pilot, "f12")
        assert choices(form) == {
            "kind": ("seedance", [tuple(k) for k in VIDEO_KINDS], "Kind"),
            "model": ("seedance-2.0", same(SEEDANCE_MODELS), "Model"),
            "ratio": ("16:9", same(SEEDANCE_RATIOS), "Ratio"),
            "aspect_ratio": ("16:9", same(KLING_RATIOS), "Aspect ratio"),
            "resolution": ("720p", same(SEEDANCE_RESOLUTIONS), "Resolution"),
            "mode": ("std", same(KLING_MODES), "Mode"),
        }


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("key", "form_type"), [("f10", ImageForm), ("f12", VideoForm)])
async def test_forms_open_with_the_prompt_focused(
    form_app: Callable[..., StudioApp], size: tuple[int, int], key: str, form_type: type
) -> None:
    app = form_app()
    async with app.run_test(size=size) as pilot:
        form = await open_form(app, pilot, key)
        assert isinstance(form, form_type)
        assert form.focused is form.query_one("#prompt")
        prompt = form.query_one("#prompt")
        assert prompt.region.height > 0 and prompt.region.bottom <= size[1]  # in sight
        # The fields above it stay in sight too (focusing it centred it, hiding them).
        scroll = form.query_one(".media-form")
        await wait_for(
            lambda: all(
                scroll.region.contains_region(form.query_one(row).region)
                for row in ("#row-model", "#row-prompt")
            )
        )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", ["f10", "f12"])
async def test_keys_sent_in_one_write_with_f10_land_in_the_prompt(
    form_app: Callable[..., StudioApp], size: tuple[int, int], key: str
) -> None:
    app = form_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = "a red kite over the dunes, 4:3"
        type_in_one_write(app, [key, *text])
        await wait_for(lambda: isinstance(app.screen, _Form) and prompt_of(app.screen) == text)
        form = app.screen
        assert isinstance(form, _Form)
        assert form.focused is form.query_one("#prompt")
        if isinstance(form, ImageForm):
            assert form.query_one("#size", Input).value == "2K"  # nothing landed in Size
        assert main_prompt(app) == ""  # nor in the conversation's prompt


async def test_fast_keys_right_after_the_form_opens_land_in_the_prompt(
    form_app: Callable[..., StudioApp],
) -> None:
    app = form_app()
    async with app.run_test(size=SIZES[0]) as pilot:
        await pilot.press("f12", *"a paper boat")
        await wait_for(lambda: isinstance(app.screen, VideoForm))
        form = app.screen
        assert isinstance(form, VideoForm)
        await wait_for(lambda: prompt_of(form) == "a paper boat")
        assert main_prompt(app) == ""


async def test_a_paste_with_f10_lands_in_the_prompt_and_later_in_the_focused_field(
    form_app: Callable[..., StudioApp],
) -> None:
    app = form_app()
    async with app.run_test(size=SIZES[1]) as pilot:
        await pilot.pause()
        type_in_one_write(app, ["f10"])
        app.post_message(events.Paste("a lighthouse at dusk"))
        await wait_for(lambda: isinstance(app.screen, ImageForm))
        form = app.screen
        assert isinstance(form, ImageForm)
        await wait_for(lambda: prompt_of(form) == "a lighthouse at dusk")
        size = form.query_one("#size", Input)
        size.focus()
        size.value = ""
        await pilot.pause()
        app.post_message(events.Paste("2048x2048"))
        await wait_for(lambda: size.value == "2048x2048")
        assert prompt_of(form) == "a lighthouse at dusk"  # not pasted twice, nor moved
        assert main_prompt(app) == ""


# --- image files checked under their field ------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    made = {
        "good": folder / "good.png",
        "small": folder / "small.png",
        "wide": folder / "wide.png",
        "gif": folder / "anim.gif",
        "text": folder / "notes.txt",
        "dir": folder / "a-folder",
        "fifo": folder / "a-pipe",
        "missing": folder / "missing.png",
    }
    made["good"].write_bytes(png(400, 320))
    made["small"].write_bytes(png(120, 90))
    made["wide"].write_bytes(png(1500, 400))
    made["gif"].write_bytes(gif(640, 480))
    made["text"].write_text("not an image\n")
    made["dir"].mkdir()
    os.mkfifo(made["fifo"])
    return made


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("missing", "no such file"),
        ("dir", "it is a directory"),
        ("fifo", "it is not a regular file"),
        ("text", "not an image (it looks like text)"),
    ],
)
async def test_image_form_names_a_bad_reference_under_the_field_and_stays_open(
    form_app: Callable[..., StudioApp], files: dict[str, Path], which: str, reason: str
) -> None:
    app = form_app()
    async with app.run_test(size=SIZES[0]) as pilot:
        form = await open_form(app, pilot, "f10")
        form.query_one("#prompt", TextArea).text = "a kite"
        refs = f"{files['good']}, {files[which]}"
        form.query_one("#references", Input).value = refs
        form.query_one("#seed", Input).value = "42"
        await pilot.press("ctrl+s")
        await wait_for(lambda: error(form, "references") != "")
        shown = error(form, "references")
        assert shown.startswith(f"{files[which]}: {reason}")
        assert "Cannot attach" not in shown and "pasted" not in shown
        assert app.screen is form  # still open, with everything typed
        assert form.focused is form.query_one("#references")
        assert prompt_of(form) == "a kite"
        assert form.query_one("#references", Input).value == refs
        assert form.query_one("#seed", Input).value == "42"
        assert not app.store.list_jobs()
        await pilot.press("x")  # a key to fix the path adds to it, never replaces them all
        assert form.query_one("#references", Input).value == refs + "x"


async def test_an_unreadable_file_is_named_under_its_field(
    form_app: Callable[..., StudioApp], files: dict[str, Path]
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    files["good"].chmod(0)
    app = form_app()
    async with app.run_test(size=SIZES[0]) as pilot:
        form = await open_form(app, pilot, "f10")
        form.query_one("#prompt", TextArea).text = "a kite"
        form.query_one("#references", Input).value = str(files["good"])
        await pilot.press("ctrl+s")
        await wait_for(lambda: "permission denied" in error(form, "references"))
        assert app.screen is form


@pytest.mark.parametrize(
    ("field", "which", "reason"),
    [
        ("first_frame", "small", "is 120×90 px; Seedance needs at least 300 px a side"),
        ("first_frame", "wide", "is 1500×400 px; Seedance takes aspect ratios up to 2.5:1"),
        ("first_frame", "missing", "no such file"),
        ("references", "text", "not an image"),
    ],
)
async def test_seedance_frames_and_references_are_checked_against_its_limits(
    form_app: Callable[..., StudioApp],
    files: dict[str, Path],
    field: str,
    which: str,
    reason: str,
) -> None:
    app = form_app()
    async with app.run_test(size=SIZES[1]) as pilot:
        form = await open_form(app, pilot, "f12")
        form.query_one("#prompt", TextArea).text = "waves"
        form.query_one(f"#{field}", Input).value = str(files[which])
        await pilot.press("ctrl+s")
        await wait_for(lambda: error(form, field) != "")
        assert reason in error(form, field)
        assert str(files[which]) in error(form, field)
        assert app.screen is form and prompt_of(form) == "waves"
        assert not app.store.list_jobs()


@pytest.mark.parametrize(
    ("kind", "field", "which", "reason"),
    [
        ("kling:image2video", "image", "small", "Kling needs at least 300 px a side"),
        ("kling:image2video", "image_tail", "gif", "is GIF; Kling takes JPEG or PNG only"),
        ("kling:multi-image2video", "images", "dir", "it is a directory"),
    ],
)
async def test_kling_images_are_checked_against_its_limits(
    form_app: Callable[..., StudioApp],
    files: dict[str, Path],
    kind: str,
    field: str,
    which: str,
    reason: str,
) -> None:
    app = form_app()
    async with app.run_test(size=SIZES[0]) as pilot:
        form = await open_form(app, pilot, "f12")
        form.query_one("#kind").value = kind  # type: ignore[attr-defined]
        await pilot.pause()
        form.query_one("#prompt", TextArea).text = "a slow pan"
        if field != "image":
            form.query_one("#image", Input).value = str(files["good"])
        value = str(files[which]) if field != "images" else f"{files['good']},{files[which]}"
        form.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        await wait_for(lambda: error(form, field) != "")
        assert reason in error(form, field)
        assert app.screen is form
        assert not app.store.list_jobs()


async def test_good_files_and_links_pass_and_the_job_is_made(
    form_app: Callable[..., StudioApp], files: dict[str, Path]
) -> None:
    app = form_app()
    async with app.run_test(size=SIZES[1]) as pilot:
        form = await open_form(app, pilot, "f12")
        form.query_one("#prompt", TextArea).text = "from a still"
        form.query_one("#first_frame", Input).value = str(files["good"])
        form.query_one("#last_frame", Input).value = "https://example.com/last.png"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, _Form))
        await wait_for(lambda: bool(app.store.list_jobs()))
        job = app.store.list_jobs()[0]
        assert job.params["first_frame"].startswith("data:image/png;base64,")
        assert job.params["last_frame"] == "https://example.com/last.png"


# --- /image and /video record the defaults -------------------------------------------------------


def sidecar_of(job: Job) -> dict[str, object]:
    path = Path(next(f.path for f in job.files if f.done))
    data: dict[str, object] = json.loads(path.with_name(path.name + ".json").read_text())
    return data


async def test_a_video_command_records_the_defaults_it_used(
    form_app: Callable[..., StudioApp],
) -> None:
    app = form_app()
    async with app.run_test(size=SIZES[1]) as pilot:
        await send(pilot, "/video a paper boat")
        await wait_for(lambda: any(j.state.is_final for j in app.jobs.jobs.values()), limit=30)
        job = next(iter(app.jobs.jobs.values()))
        expected = {"ratio": "16:9", "resolution": "720p", "duration": 5, "generate_audio": True}
        assert job.params == expected
        assert app.store.get_job(job.id).params == expected  # type: ignore[union-attr]
        await wait_for(lambda: any(f.done for f in app.jobs.jobs[job.id].files), limit=30)
        assert sidecar_of(app.jobs.jobs[job.id])["parameters"] == expected


async def test_a_kling_video_command_records_the_defaults_it_used(
    form_app: Callable[..., StudioApp],
) -> None:
    app = form_app(video_model="kling-v2-master")
    async with app.run_test(size=SIZES[1]) as pilot:
        await send(pilot, "/video a paper boat")
        await wait_for(lambda: bool(app.jobs.jobs), limit=20)
        job = next(iter(app.jobs.jobs.values()))
        assert job.model == "kling-v2-master" and job.action == "text2video"
        for name, value in {"mode": "std", "duration": "5", "aspect_ratio": "16:9"}.items():
            assert job.params[name] == value


async def test_an_image_command_records_the_defaults_it_used(
    form_app: Callable[..., StudioApp],
) -> None:
    app = form_app()
    async with app.run_test(size=SIZES[1]) as pilot:
        await send(pilot, "/image a lighthouse")
        await wait_for(lambda: bool(app.jobs.jobs), limit=20)
        job = next(iter(app.jobs.jobs.values()))
        assert job.params == {"size": "2K", "response_format": "url", "watermark": False}


# --- the gallery shows videos too ------------------------------------------------------------------


def tile_texts(tile: Tile) -> str:
    return " | ".join(str(s.render()) for s in tile.query(Static))


async def open_gallery(app: StudioApp, pilot: object, count: int) -> GalleryScreen:
    await pilot.press("ctrl+t")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, GalleryScreen))
    screen = app.screen
    assert isinstance(screen, GalleryScreen)
    await wait_for(lambda: len(screen.query(Tile)) == count)
    return screen


async def test_the_gallery_shows_videos_with_their_length_and_opens_their_job(
    form_app: Callable[..., StudioApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "ffmpeg" else which(name))
    previews.prepare()
    app = form_app()
    async with app.run_test(size=SIZES[1]) as pilot:
        await send(pilot, "/image a lighthouse")
        await send(pilot, "/video a paper boat")
        done = lambda: [j for j in app.jobs.jobs.values() if any(f.done for f in j.files)]  # noqa: E731
        await wait_for(lambda: len(done()) == 2, limit=30)
        gallery = await open_gallery(app, pilot, 2)
        assert "1 image · 1 video" in str(gallery.query_one(".dialog-title").render())
        video = next(t for t in gallery.query(Tile) if t.has_class("-video"))
        text = tile_texts(video)
        assert "▶ 2.0 s · 16:9 720p" in text  # the file's own length, the shape asked for
        assert "a paper boat" in text and ".mp4" in text and "KB" in text
        assert not video.query(".preview")  # no ffmpeg: the card only
        video.focus()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        assert app.screen.job.kind is JobKind.VIDEO  # type: ignore[attr-defined]


async def test_a_video_shows_its_first_frame_when_ffmpeg_is_on_path(
    form_app: Callable[..., StudioApp], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    frame = tmp_path / "frame.png"
    frame.write_bytes(png(64, 36))
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "ffmpeg"  # stands in for ffmpeg: prints one PNG frame
    fake.write_text(f"#!/bin/sh\nexec cat '{frame}'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    assert previews.prepare()
    app = form_app()
    async with app.run_test(size=SIZES[0]) as pilot:
        await send(pilot, "/video a paper boat")
        await wait_for(lambda: any(f.done for j in app.jobs.jobs.values() for f in j.files), 30)
        gallery = await open_gallery(app, pilot, 1)
        video = gallery.query_one(Tile)
        await wait_for(lambda: bool(video.query(".preview")))
        assert "▶" in tile_texts(video)  # the card stays beside the frame


def add_video_rows(app: StudioApp, folder: Path, count: int) -> None:
    """``count`` finished video jobs whose files are copies of the emulator's sample clip."""
    sample = Path(previews.__file__).parents[1] / "emulator" / "data" / "sample.mp4"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        clip = folder / f"clip-{n}.mp4"
        clip.write_bytes(sample.read_bytes())
        job = app.store.create_job(
            kind=JobKind.VIDEO,
            provider=JobProvider.SEEDANCE,
            action="generate",
            model="doubao-seedance-1-0-pro-250528",
            prompt=f"clip {n}",
            params={},
            idempotency_key=f"clip-{n}",
        )
        entry = JobFile(0, None, str(clip), size=clip.stat().st_size, done=True)
        app.store.update_job(job.id, state=JobState.SUCCEEDED, files=[entry.to_json()])


async def test_first_frames_come_from_few_ffmpegs_at_once_and_once_per_file(
    form_app: Callable[..., StudioApp], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    frame = tmp_path / "frame.png"
    frame.write_bytes(png(64, 36))
    runs = tmp_path / "runs"
    runs.mkdir()
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "ffmpeg"  # notes how many copies run as it starts, takes a while, prints a frame
    fake.write_text(
        "#!/bin/sh\n"
        f"touch '{runs}'/running.$$\n"
        f"ls '{runs}' | grep -c running >> '{runs}/log'\n"
        "sleep 0.4\n"
        f"rm '{runs}'/running.$$\n"
        f"exec cat '{frame}'\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(previews, "first_frames", previews.FirstFrames(limit=2))
    assert previews.prepare()
    app = form_app()
    videos = 5
    async with app.run_test(size=SIZES[1]) as pilot:
        add_video_rows(app, tmp_path / "clips", videos)

        async def open_and_wait() -> None:
            gallery = await open_gallery(app, pilot, videos)
            tiles = list(gallery.query(Tile))
            await wait_for(lambda: all(t.query(".preview") for t in tiles), limit=30)

        await open_and_wait()
        started = (runs / "log").read_text().split()
        assert len(started) == videos  # one run per file
        assert max(int(n) for n in started) <= 2  # never more than two at once
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, GalleryScreen))
        await open_and_wait()  # the second opening shows the kept frames
        assert len((runs / "log").read_text().split()) == videos  # and runs ffmpeg no more


@pytest.mark.parametrize("where", ["sidecar", "job"])
def test_a_video_card_shows_hostile_parameters_harmlessly(where: str, tmp_path: Path) -> None:
    """A sidecar is a file anyone may edit; its values reach the card as plain text."""
    from studio.emulator.hostile import HOSTILE_LINE
    from studio.jobs.naming import sidecar_path
    from studio.textsafe import is_clean

    from .test_job_sidebar import make_job

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    hostile = {"ratio": HOSTILE_LINE, "resolution": "720p\n\x1b[2Jmore", "duration": 5}
    params = hostile if where == "job" else {}
    sidecar_path(clip).write_text(json.dumps({"parameters": hostile}), encoding="utf-8")
    picture = Picture(make_job(1, params=params), str(clip), 0)
    facts = video_facts(picture)
    assert facts.startswith("▶ 5.0 s · bad request ")
    assert is_clean(facts) and "\n" not in facts and "\x1b" not in facts


async def test_a_row_with_a_relative_path_is_found_in_the_media_folder(
    form_app: Callable[..., StudioApp], jobs_config: EngineConfig
) -> None:
    """Rows written before paths were made absolute held a path relative to where Studio ran."""
    previews.prepare()
    folder = jobs_config.media_dir
    folder.mkdir(parents=True)
    (folder / "20260101-120000-image-old-kite-abc123.png").write_bytes(png(64, 64))
    app = form_app()
    async with app.run_test(size=SIZES[1]) as pilot:
        job = app.store.create_job(
            kind=JobKind.IMAGE,
            provider=JobProvider.SEEDREAM,
            action="generate",
            model="doubao-seedream-4-5-251128",
            prompt="an old kite",
            params={},
            idempotency_key="old-row",
        )
        relative = "elsewhere/data/media/20260101-120000-image-old-kite-abc123.png"
        entry = JobFile(0, None, relative, size=100, done=True)
        app.store.update_job(job.id, state=JobState.SUCCEEDED, files=[entry.to_json()])
        gallery = await open_gallery(app, pilot, 1)
        tile = gallery.query_one(Tile)
        assert "file missing" not in tile_texts(tile)
        assert tile.query(".preview")
