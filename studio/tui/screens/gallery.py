"""The gallery: every generated image and video, newest first, as previews (or text where there
are none). A video shows its first frame when ``ffmpeg`` is on PATH (Studio does not require
it), and always a card: its length, shape and size."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from studio import paths
from studio.jobs import Job, JobKind
from studio.jobs.naming import sidecar_path
from studio.textsafe import clean_line
from studio.tui import previews
from studio.tui.widgets.message_view import human_size

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

MAX_TILES = 60
"""The newest results shown (decoding hundreds of previews would make opening slow)."""


@dataclass(frozen=True)
class Picture:
    """One saved result: an image, or a video when :attr:`video`."""

    job: Job
    path: str
    size: int

    @property
    def video(self) -> bool:
        return self.job.kind is JobKind.VIDEO


def locate(path: str, media_dir: Path | None) -> str:
    """Where a recorded file is. Rows written before paths were made absolute may hold a path
    relative to the directory Studio ran in; when that is not found from here, the file of
    that name in the media folder is taken (names are unique: they end with the task id)."""
    recorded = Path(path)
    if recorded.is_absolute() or media_dir is None or recorded.exists():
        return path
    moved = media_dir / recorded.name
    return str(moved) if moved.exists() else path


def pictures(jobs: list[Job], media_dir: Path | None = None) -> list[Picture]:
    """Saved files of image and video jobs, newest job first."""
    found: list[Picture] = []
    for job in sorted(jobs, key=lambda j: j.id, reverse=True):
        found += [Picture(job, locate(f.path, media_dir), f.size or 0) for f in job.files if f.done]
    return found[:MAX_TILES]


def video_facts(picture: Picture) -> str:
    """``▶ 5.0 s · 16:9 720p``: the length the file declares (else the one asked for) and the
    shape asked for, from the job or else its sidecar."""
    params: dict[str, Any] = dict(picture.job.params) or _sidecar_parameters(picture.path)
    seconds: Any = previews.mp4_duration(picture.path) or params.get("duration")
    parts = ["▶"]
    try:
        parts.append(f"{float(seconds):.1f} s")
    except (TypeError, ValueError):
        parts.append("video")
    keys = ("ratio", "aspect_ratio", "resolution")
    shape = [clean_line(str(params[k])) for k in keys if params.get(k)]  # a sidecar is editable
    return " · ".join([" ".join(parts), *([" ".join(shape)] if shape else [])])


def _sidecar_parameters(path: str) -> dict[str, Any]:
    try:
        data = json.loads(sidecar_path(Path(path)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = data.get("parameters") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


class Tile(Vertical, can_focus=True):
    """One image or video: its preview (or a text stand-in) and a caption."""

    BINDINGS = [Binding("enter", "open", "Details", id="gallery.open")]

    @dataclass
    class Opened(Message):
        job_id: int

    def __init__(self, picture: Picture) -> None:
        super().__init__(classes="tile -video" if picture.video else "tile")
        self.picture = picture

    def compose(self) -> ComposeResult:
        picture = self.picture
        name = clean_line(Path(picture.path).name)  # from the result's URL
        exists = Path(picture.path).is_file()
        missing = "" if exists else " (file missing)"
        if picture.video:
            facts = video_facts(picture)
            yield Static(f"{facts}{missing}", classes="tile-fallback tile-video", markup=False)
        else:
            data = _read(picture.path)
            shown = previews.preview(data) if data else None
            if shown is not None:
                yield shown
            else:
                yield Static(f"▣ {name}{missing}", classes="tile-fallback", markup=False)
        caption = f"#{picture.job.id} {clean_line(picture.job.prompt[:40])}"
        yield Static(caption, classes="tile-caption", markup=False)
        yield Static(f"{human_size(picture.size)} · {name}", classes="tile-meta", markup=False)

    @property
    def wants_frame(self) -> bool:
        """A video whose file is here, where previews can be shown."""
        return self.picture.video and previews.available() and Path(self.picture.path).is_file()

    def show_frame(self, frame: bytes) -> None:
        """Put the video's first frame above its card."""
        shown = previews.preview(frame)
        if shown is not None and self.is_attached:
            self.mount(shown, before=0)

    def action_open(self) -> None:
        self.post_message(self.Opened(self.picture.job.id))

    def on_click(self) -> None:
        self.focus()


class GalleryScreen(ModalScreen[None]):
    """Tiles of the generated images and videos; Enter opens the job behind one."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="gallery.close")]

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def _media_dir(self) -> Path:
        config = self.studio.jobs.config
        if config is not None:
            return config.media_dir
        return paths.media_dir(self.studio.settings.media_dir)

    def compose(self) -> ComposeResult:
        jobs = list(self.studio.jobs.jobs.values()) or self.studio.store.list_jobs()
        shown = pictures(jobs, self._media_dir())
        videos = sum(p.video for p in shown)
        images = len(shown) - videos
        parts = [_count(n, what) for n, what in ((images, "image"), (videos, "video")) if n]
        count = " · ".join(parts) or "empty"
        with VerticalScroll(classes="dialog gallery"):
            yield Static(f"Gallery · {count}", classes="dialog-title")
            if not shown:
                yield Static(
                    "Nothing yet: f10 makes an image and f12 a video, "
                    "or /image and /video in a conversation."
                )
            with Grid(classes="tiles"):
                for picture in shown:
                    yield Tile(picture)
            yield Static(
                "Tab moves between results · Enter: details · esc closes", classes="dialog-hint"
            )

    def on_mount(self) -> None:
        tiles = self.query(Tile)
        if tiles:
            tiles.first().focus()
        videos = [tile for tile in tiles if tile.wants_frame]
        if videos:
            self._load_first_frames(videos)

    @work(thread=True, exclusive=True, exit_on_error=False, group="first-frames")
    def _load_first_frames(self, tiles: list[Tile]) -> None:
        """One worker for the screen's videos, one after another (ffmpeg is heavy; the frames
        are kept for the session, so a second opening shows them at once)."""
        worker = get_current_worker()
        for tile in tiles:
            if worker.is_cancelled:
                return
            frame = previews.first_frames.get(tile.picture.path)
            if frame is not None and not worker.is_cancelled:
                self.app.call_from_thread(tile.show_frame, frame)

    @on(Tile.Opened)
    def _opened(self, event: Tile.Opened) -> None:
        from studio.tui.screens.job_detail import JobDetail

        job = self.studio.jobs.jobs.get(event.job_id) or self.studio.store.get_job(event.job_id)
        if job is not None:
            self.app.push_screen(JobDetail(job))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""
