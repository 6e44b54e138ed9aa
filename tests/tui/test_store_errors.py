"""A database Studio cannot use, met by the studio (TUI): at start-up it refuses with one line
on stderr and exit 4 before Textual takes the terminal; a damaged conversation found later is
reported in its pane while the app keeps running; damage anywhere else ends the app cleanly with
the same line, never with Textual's traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from studio import paths
from studio.commands.exits import EXIT_STORE
from studio.store import Role, Store, StoreProblem, StoreUnavailable
from studio.tui.app import StudioApp
from studio.tui.compat import ErrorHookApp
from studio.tui.widgets.message_view import MessageView
from tests.bad_stores import write_damaged, write_not_a_database, write_too_new

from .conftest import SIZE, Toasts, active_pane, wait_for

HEADLESS = {"TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}


def studio(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def write_damaged_first_page(path: Path) -> bytes:
    with Store.open(path) as store:
        store.create_conversation(title="soon unreadable")
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema table; the header stays SQLite's
    path.write_bytes(bytes(data))
    return bytes(data)


def write_damaged_conversation_list(path: Path) -> bytes:
    """Damage the page that holds the conversations table: opening works, listing does not."""
    with Store.open(path) as store:
        for number in range(30):
            store.create_conversation(title=f"TITLE{number:03d}" + "t" * 70)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    start = data.index(b"TITLE010") // page_size * page_size
    data[start : start + 12] = b"\xff" * 12
    path.write_bytes(bytes(data))
    return bytes(data)


# -- at start-up: refused before Textual starts --------------------------------------------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("not_a_database", "is not a SQLite file, so not a Studio database"),
        ("damaged", "is damaged (SQLite reports:"),
        ("too_new", "was written by a newer Studio and was left untouched; upgrade"),
        ("unwritable", "is a file where Studio needs a folder"),
    ],
)
def test_studio_refuses_an_unusable_database_at_start(case: str, expected: str) -> None:
    db = paths.database_file()
    if case == "unwritable":
        db.parent.parent.mkdir(parents=True)
        db.parent.write_bytes(b"a file where the data folder goes")
        watched, before = db.parent, db.parent.read_bytes()
    else:
        db.parent.mkdir(parents=True)
        write = {
            "not_a_database": write_not_a_database,
            "damaged": write_damaged_first_page,
            "too_new": write_too_new,
        }[case]
        watched, before = db, write(db)
    result = studio("--demo")
    assert result.returncode == EXIT_STORE, result.stderr
    assert result.stdout == ""  # Textual never took the terminal
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("studio: ") and expected in lines[0]
    assert str(watched) in lines[0]
    assert "unexpected" not in lines[0] and "Traceback" not in result.stderr
    assert watched.read_bytes() == before


# -- while the app runs ----------------------------------------------------------------------


async def test_a_damaged_conversation_is_reported_in_its_pane_and_the_app_keeps_running(
    make_app: Callable[..., StudioApp],
    toasts: Toasts,
) -> None:
    path = paths.database_file()
    damaged = write_damaged(path)
    page_before = damaged.page_bytes(path)
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = active_pane(app)
        assert pane.conversation_id == damaged.damaged_id  # the most recent one opens first
        await wait_for(lambda: bool(pane.query(".store-error")))
        shown = str(pane.query_one(".store-error", Static).render())
        assert shown.startswith("This conversation cannot be read")
        assert f"The Studio database {path} is damaged" in shown
        assert "Quit Studio before moving the file" in shown
        assert any(
            n.severity == "error" and f"{path} is damaged" in str(n.message) for n in toasts.shown
        )
        # the app is still running: another conversation opens and shows its messages
        await app.screen.open_conversation(damaged.intact_id)  # type: ignore[attr-defined]
        intact = active_pane(app)
        await wait_for(lambda: len(intact.query(MessageView)) == 2)
        await pilot.pause()
        assert app.return_code is None and app.store_failure is None
        assert not intact.query(".store-error")
        await app.action_quit()
    assert app.return_code == 0
    assert damaged.page_bytes(path) == page_before  # never "repaired" by overwriting


async def test_damage_found_anywhere_else_ends_the_app_cleanly(
    make_app: Callable[..., StudioApp],
) -> None:
    path = paths.database_file()
    path.parent.mkdir(parents=True)
    write_damaged_conversation_list(path)
    app = make_app()
    async with app.run_test(size=SIZE):  # re-raises whatever Textual would print
        await wait_for(lambda: app.return_code is not None)
    assert app.return_code not in (None, 0)  # the command line turns it into exit 4
    assert isinstance(app.store_failure, StoreUnavailable)
    assert app.store_failure.problem is StoreProblem.DAMAGED
    assert app.store_failure.path == path


def test_studio_prints_the_sentence_after_textual_exits() -> None:
    """The real process, on Textual's headless driver: the line, exit 4, no traceback."""
    path = paths.database_file()
    path.parent.mkdir(parents=True)
    before = write_damaged_conversation_list(path)
    Store.open(path).close()  # opening alone reads no damaged page: the app finds it
    result = studio("--demo", env=HEADLESS)
    assert result.returncode == EXIT_STORE, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"studio: The Studio database {path} is damaged")
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    assert path.read_bytes() == before


# -- the private Textual hook --------------------------------------------------------------------


class _Boom(Static):
    def boom(self) -> None:
        app = self.app
        assert isinstance(app, _Failing)
        raise app.error


class _Failing(ErrorHookApp[None]):
    def __init__(self, error: Exception, handled: bool) -> None:
        super().__init__()
        self.error = error
        self.handled = handled
        self.seen: list[Exception] = []

    def compose(self) -> ComposeResult:
        yield _Boom("x")

    def handle_unexpected(self, error: Exception) -> bool:
        self.seen.append(error)
        if self.handled:
            self.exit(return_code=7)
        return self.handled


async def test_textual_still_sends_uncaught_errors_through_the_hook() -> None:
    """Fails loudly when Textual renames or stops calling ``App._handle_exception``."""
    assert callable(getattr(App, "_handle_exception", None))
    error = RuntimeError("boom")
    app = _Failing(error, handled=True)
    await _boom_in(app)
    assert app.seen == [error] and app.return_code == 7

    unhandled = _Failing(RuntimeError("still a bug"), handled=False)
    with pytest.raises(RuntimeError, match="still a bug"):
        await _boom_in(unhandled)
    assert unhandled.return_code == 1  # Textual's own handling, untouched


async def _boom_in(app: _Failing) -> None:
    async with app.run_test():
        boom = app.query_one(_Boom)
        boom.call_later(boom.boom)  # raises inside the widget's message loop
        await wait_for(lambda: app.return_code is not None)


def test_store_failure_unwraps_workers_and_causes(tmp_path: Path) -> None:
    from textual.worker import WorkerFailed

    from studio.tui.app import store_failure

    damaged = StoreUnavailable.damaged(tmp_path / "studio.db", "SQLite reports: malformed")
    assert store_failure(damaged) is damaged
    assert store_failure(WorkerFailed(damaged)) is damaged
    outer = RuntimeError("while loading")
    outer.__cause__ = damaged
    assert store_failure(outer) is damaged
    assert store_failure(RuntimeError("unrelated")) is None


async def test_messages_of_a_healthy_store_still_load(make_app: Callable[..., StudioApp]) -> None:
    """The guard around loading a page changes nothing when nothing is wrong."""
    with Store.open(paths.database_file()) as store:
        conversation = store.create_conversation(title="fine")
        store.add_message(conversation.id, Role.USER, "hello")
    app = make_app()
    async with app.run_test(size=SIZE):
        pane = active_pane(app)
        await wait_for(lambda: len(pane.query(MessageView)) == 1)
        assert not pane.query(".store-error")
