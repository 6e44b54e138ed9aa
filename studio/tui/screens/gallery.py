"""The gallery: every generated image, newest first, as previews (or text where there are none)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from studio.jobs import Job, JobKind
from studio.textsafe import clean_line
from studio.tui import previews
from studio.tui.widgets.message_view import human_size

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

MAX_TILES = 60
"""The newest images shown (decoding hundreds of previews would make opening slow)."""


@dataclass(frozen=True)
class Picture:
    job: Job
    path: str
    size: int


def pictures(jobs: list[Job]) -> list[Picture]:
    """Saved image files of image jobs, newest job first."""
    found: list[Picture] = []
    for job in sorted(jobs, key=lambda j: j.id, reverse=True):
        if job.kind is not JobKind.IMAGE:
            continue
        found += [Picture(job, f.path, f.size or 0) for f in job.files if f.done]
    return found[:MAX_TILES]


class Tile(Vertical, can_focus=True):
    """One image: its preview (or a text stand-in) and a caption."""

    BINDINGS = [Binding("enter", "open", "Details", id="gallery.open")]

    @dataclass
    class Opened(Message):
        job_id: int

    def __init__(self, picture: Picture) -> None:
        super().__init__(classes="tile")
        self.picture = picture

    def compose(self) -> ComposeResult:
        name = clean_line(Path(self.picture.path).name)  # from the result's URL
        data = _read(self.picture.path)
        shown = previews.preview(data) if data else None
        if shown is not None:
            yield shown
        else:
            missing = "" if data else " (file missing)"
            yield Static(f"▣ {name}{missing}", classes="tile-fallback", markup=False)
        caption = f"#{self.picture.job.id} {clean_line(self.picture.job.prompt[:40])}"
        yield Static(caption, classes="tile-caption", markup=False)
        yield Static(f"{human_size(self.picture.size)} · {name}", classes="tile-meta", markup=False)

    def action_open(self) -> None:
        self.post_message(self.Opened(self.picture.job.id))

    def on_click(self) -> None:
        self.focus()


class GalleryScreen(ModalScreen[None]):
    """Tiles of the generated images; Enter opens the job behind one."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="gallery.close")]

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        shown = pictures(list(self.studio.jobs.jobs.values()) or self.studio.store.list_jobs())
        with VerticalScroll(classes="dialog gallery"):
            yield Static(f"Gallery · {len(shown)} images", classes="dialog-title")
            if not shown:
                yield Static("No images yet: f10 makes one, or /image in a conversation.")
            with Grid(classes="tiles"):
                for picture in shown:
                    yield Tile(picture)
            yield Static(
                "Tab moves between images · Enter: details · esc closes", classes="dialog-hint"
            )

    def on_mount(self) -> None:
        tiles = self.query(Tile)
        if tiles:
            tiles.first().focus()

    @on(Tile.Opened)
    def _opened(self, event: Tile.Opened) -> None:
        from studio.tui.screens.job_detail import JobDetail

        job = self.studio.jobs.jobs.get(event.job_id) or self.studio.store.get_job(event.job_id)
        if job is not None:
            self.app.push_screen(JobDetail(job))


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""
