"""The screens beside the chat follow the theme too, redrawn while they are open: the gallery's
tiles and its cards for videos and missing files, a job's details, and the keys in F1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.segment import Segment
from textual.color import Color
from textual.geometry import Region
from textual.widget import Widget

from studio.jobs import JobKind, JobState
from studio.store.job_records import JobFile, JobProvider
from studio.tui.app import StudioApp
from studio.tui.screens.gallery import GalleryScreen, Tile
from studio.tui.screens.help import HelpScreen, KeysView
from studio.tui.screens.job_detail import JobDetail
from studio.tui.screens.main import MainScreen

from .conftest import SIZE, wait_for

SAMPLE = Path(__file__).parents[2] / "studio" / "emulator" / "data" / "sample.mp4"


def drawn(widget: Widget) -> list[list[Segment]]:
    """The widget's lines as the screen gets them: borders, padding and background included."""
    width, height = widget.outer_size
    return [list(strip) for strip in widget.render_lines(Region(0, 0, width, height))]


def fg(segment: Segment) -> Color:
    assert segment.style is not None and segment.style.color is not None
    return Color.from_rich_color(segment.style.color)


def bg(segment: Segment) -> Color:
    assert segment.style is not None and segment.style.bgcolor is not None
    return Color.from_rich_color(segment.style.bgcolor)


def find(widget: Widget, text: str) -> Segment:
    """The first segment the widget draws that reads ``text``."""
    for line in drawn(widget):
        for segment in line:
            if segment.text.strip() == text:
                return segment
    raise AssertionError(f"{text!r} is not drawn")


async def drawn_in(widget: Widget, text: str, colour: Color) -> None:
    """Wait until ``widget`` draws ``text`` in ``colour``."""
    await wait_for(lambda: fg(find(widget, text)) == colour)


def contrast(one: Color, other: Color) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""

    def luminance(colour: Color) -> float:
        def channel(value: int) -> float:
            v = value / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = colour.rgb
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def variable(app: StudioApp, name: str) -> Color:
    return Color.parse(app.theme_variables[name])


def add_results(app: StudioApp, folder: Path) -> None:
    """A video saved in ``folder``, and an image and a video whose files have gone."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, (kind, name) in enumerate(
        ((JobKind.VIDEO, "lost.mp4"), (JobKind.IMAGE, "gone.png"), (JobKind.VIDEO, "clip.mp4"))
    ):
        path = folder / name
        if name == "clip.mp4":
            path.write_bytes(SAMPLE.read_bytes())
        video = kind is JobKind.VIDEO
        job = app.store.create_job(
            kind=kind,
            provider=JobProvider.SEEDANCE if video else JobProvider.SEEDREAM,
            action="generate",
            model="doubao-seedance-1-0-pro-250528" if video else "doubao-seedream-4-5-251128",
            prompt=f"a paper boat {n}",
            params={"ratio": "16:9"} if video else {},
            idempotency_key=f"result-{n}",
        )
        entry = JobFile(0, None, str(path), size=1234, done=True)
        app.store.update_job(job.id, state=JobState.SUCCEEDED, files=[entry.to_json()])


async def test_the_gallery_follows_the_theme_while_it_is_open(
    make_app: Callable[..., StudioApp], tmp_path: Path
) -> None:
    app = make_app()
    add_results(app, tmp_path / "media")
    app.theme = "studio-dark"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        app.push_screen(GalleryScreen())
        await wait_for(lambda: isinstance(app.screen, GalleryScreen))
        gallery = app.screen
        await wait_for(lambda: len(gallery.query(Tile)) == 3)
        focused, *others = gallery.query(Tile)
        await wait_for(lambda: focused.has_focus)
        borders, cards = set(), set()
        for theme in ("studio-dark", "studio-light", "high-contrast", "studio-dark"):
            app.theme = theme
            await pilot.pause()
            accent = variable(app, "accent")
            await wait_for(lambda: fg(drawn(focused)[0][0]) == accent)  # noqa: B023
            for tile in others:
                corner = drawn(tile)[0][0]
                assert corner.text == "╭"
                # Every tile's border shows against the dialog, in a light theme too.
                assert contrast(fg(corner), bg(corner)) > 1.4, (theme, fg(corner), bg(corner))
                borders.add(fg(corner))
                # The card standing in for a video or a missing file: on the theme's panel,
                # its text readable.
                card = tile.query_one(".tile-fallback")
                word = next(s for s in drawn(card)[1] if s.text.strip())
                assert bg(word) == variable(app, "panel")
                assert contrast(fg(word), bg(word)) >= 4.5, (theme, word)
                cards.add(bg(word))
        assert len(borders) == 3 and len(cards) == 3  # each theme its own, and back again


def add_failed_job(app: StudioApp) -> int:
    job = app.store.create_job(
        kind=JobKind.IMAGE,
        provider=JobProvider.SEEDREAM,
        action="generate",
        model="doubao-seedream-4-5-251128",
        prompt="a fox in the snow",
        params={},
        idempotency_key="failed-fox",
    )
    entry = JobFile(0, "https://example.invalid/fox.png", "/nowhere/fox.png", error="HTTP 404")
    app.store.update_job(
        job.id,
        state=JobState.FAILED,
        failure_reason="OutputImageSensitiveContentDetected",
        files=[entry.to_json()],
    )
    return job.id


async def test_a_jobs_details_take_the_themes_job_colours_while_open(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    job_id = add_failed_job(app)
    app.theme = "ember"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        job = app.store.get_job(job_id)
        assert job is not None
        app.push_screen(JobDetail(job))
        await wait_for(lambda: isinstance(app.screen, JobDetail))
        detail = app.screen
        await wait_for(lambda: bool(detail.query("#job-text")))
        text = detail.query_one("#job-text")
        for theme in ("ember", "studio-light"):
            app.theme = theme
            await pilot.pause()
            failed = variable(app, "studio-job-failed")
            # The state, the failure and the file's error: all in the theme's colour for
            # failures (red in Textual's own themes).
            for part in ("failed", "Failure:", "✖", "HTTP 404"):
                await drawn_in(text, part, failed)


async def test_f1_draws_the_keys_in_the_themes_accent_while_open(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    app.theme = "studio-dark"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        keys = app.screen.query_one(KeysView)
        seen = set()
        for theme in ("studio-dark", "studio-light", "high-contrast"):
            app.theme = theme
            await pilot.pause()
            accent = variable(app, "text-accent")
            await drawn_in(keys, "f1", accent)
            seen.add(accent)
        assert len(seen) == 3
