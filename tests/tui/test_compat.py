"""Each private Textual (and textual-image) API that ``studio.tui.compat`` leans on is still
there and still does what Studio relies on: these fail first when an upgrade changes one."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import inspect
import weakref
from typing import Any

from textual.app import App, ComposeResult
from textual.driver import Driver
from textual.geometry import Size
from textual.widget import Widget

from studio.tui import compat
from studio.tui.widgets.streaming import StreamingMarkdown

from .conftest import wait_for


class Tall(Widget):
    """A widget as tall as it is told to be."""

    DEFAULT_CSS = "Tall { height: auto; }"

    def __init__(self) -> None:
        super().__init__()
        self.lines = 3

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.lines


class Plain(App[None]):
    def compose(self) -> ComposeResult:
        yield Tall()


def record_writes(driver: Driver) -> list[str]:
    """What is written to ``driver`` from now on (the headless driver writes nowhere)."""
    written: list[str] = []
    driver.write = written.append  # type: ignore[method-assign,assignment]
    driver.flush = lambda: written.append("<flush>")  # type: ignore[method-assign]
    return written


async def test_the_driver_is_the_apps_way_to_the_terminal() -> None:
    app = Plain()
    assert compat.driver_of(app) is None  # before it runs
    async with app.run_test():
        driver = compat.driver_of(app)
        assert isinstance(driver, Driver)
        written = record_writes(driver)
        compat.write_to_terminal(app, "\x1b]2;title\x07")
        assert written == ["\x1b]2;title\x07", "<flush>"]
        App.copy_to_clipboard(app, "hi")  # Textual's own copy writes to the same driver
        assert written[-1] == "\x1b]52;c;aGk=\a"
    compat.write_to_terminal(Plain(), "ignored")  # no terminal: nothing happens


async def test_remember_copied_is_what_app_clipboard_returns() -> None:
    app = Plain()
    async with app.run_test():
        compat.remember_copied(app, "copied text")
        assert app.clipboard == "copied text"


async def test_relayout_measures_a_height_changed_while_a_layout_was_pending() -> None:
    assert "self._layout_updates" in inspect.getsource(Widget._get_box_model)
    app = Plain()
    async with app.run_test() as pilot:
        tall = app.query_one(Tall)
        await wait_for(lambda: tall.size.height == 3)
        before = tall._layout_updates
        tall.refresh(layout=True)
        compat.relayout(tall)
        assert tall._layout_updates == before + 2  # Textual bumped it once, relayout once more
        tall.lines = 7
        compat.relayout(tall)
        await pilot.pause()
        await wait_for(lambda: tall.size.height == 7)


async def test_watch_frames_sees_each_frame_before_or_after_it_is_shown() -> None:
    app = Plain()
    seen: list[tuple[str, bool]] = []
    async with app.run_test():
        compat.watch_frames(app, lambda screen, drawn: seen.append(("after", drawn)))
        compat.watch_frames(app, lambda screen, drawn: seen.append(("before", drawn)), before=True)
        tall = app.query_one(Tall)
        tall.lines = 5
        tall.refresh(layout=True)
        await wait_for(lambda: ("after", True) in seen)
        assert seen[:2] == [("before", True), ("after", True)]
        with app.batch_update():  # what makes a frame held back
            assert app._batch_count > 0
        assert app._batch_count == 0


class Reply(App[None]):
    def compose(self) -> ComposeResult:
        yield StreamingMarkdown("para\n\n" * 400)


async def test_a_block_filler_does_not_keep_its_app_alive() -> None:
    async def run() -> weakref.ref[App[None]]:
        app = Reply()
        async with app.run_test(size=(40, 10)) as pilot:
            await pilot.pause()
            assert app.query_one(StreamingMarkdown).block_count > 1
        return weakref.ref(app)

    # In a context of its own: the test's would keep the app as Textual's active app.
    ended = await asyncio.create_task(run(), context=contextvars.Context())
    gc.collect()
    assert ended() is None


def test_textual_image_terminal_helpers_are_there() -> None:
    terminal = compat.image_terminal()
    assert callable(terminal.get_cell_size)
    assert issubclass(terminal.TerminalError, Exception)
    params = list(inspect.signature(terminal.capture_terminal_response).parameters)
    assert params == ["start_marker", "end_marker", "timeout"]


def test_image_queries_are_answered_inside_the_block_only() -> None:
    terminal = compat.image_terminal()
    original = terminal.capture_terminal_response

    def answer(*args: Any) -> Any:
        raise TimeoutError

    with compat.image_queries_answered(answer):
        assert terminal.capture_terminal_response is answer
    assert terminal.capture_terminal_response is original
