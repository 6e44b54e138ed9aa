"""Exporting from the TUI: the conversation's key (alt+s) and the list's ``e`` open a dialog
asking the format and the path (suggested under the media folder's exports folder); the export
is written and the toast says where, or says the export's reason when it cannot be."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input

from studio.paths import media_dir
from studio.store import Role, Store
from studio.tui.app import StudioApp
from studio.tui.screens.export_dialog import ExportDialog

from .conftest import SIZE, Toasts, wait_for


def conversation(title: str) -> int:
    with Store.open() as store:
        cid = store.create_conversation(title=title).id
        store.add_message(cid, Role.USER, f"a question about {title}")
        reply = store.start_reply(cid, model="gpt-4o")
        store.save_partial(reply.id, f"an answer about {title}")
        return cid


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def written(path: Path) -> bool:
    return path.exists()


def path_field(app: StudioApp) -> Input:
    return app.screen.query_one("#export-path", Input)


async def test_the_conversation_key_exports_as_json_and_toasts_the_path(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    conversation("Tide tables")
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await pilot.press("alt+s")
        await wait_for(lambda: isinstance(app.screen, ExportDialog))
        suggested = Path(path_field(app).value)
        assert suggested.parent == media_dir() / "exports"
        assert suggested.suffix == ".md" and "Tide" in suggested.name
        await pilot.click("#format-json")
        await wait_for(lambda: path_field(app).value.endswith(".json"))
        target = Path(path_field(app).value)
        assert target.with_suffix(".md") == suggested  # the suggestion follows the format
        path_field(app).focus()
        await pilot.press("enter")
        await wait_for(lambda: toasts.any("Exported to"))
        assert toasts.first("Exported to") == f"Exported to {target}"
        exported = json.loads(read(target))
        assert "Tide tables" in json.dumps(exported, ensure_ascii=False)
        assert not isinstance(app.screen, ExportDialog)


async def test_the_list_exports_the_highlighted_one_where_the_user_says(
    make_app: Callable[..., StudioApp], toasts: Toasts, tmp_path: Path
) -> None:
    conversation("Older one")
    conversation("Newest one")  # opened at start; the list's highlight moves to the older
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await pilot.press("ctrl+l", "down")
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ExportDialog))
        assert "Older" in Path(path_field(app).value).name
        await pilot.click("#format-html")
        target = tmp_path / "mine" / "older.html"
        path_field(app).value = str(target)
        await pilot.click("#format-md")  # a path the user typed is kept
        assert path_field(app).value == str(target)
        await pilot.click("#format-html")
        await pilot.click("#export-go")
        await wait_for(lambda: toasts.any("Exported to"))
        assert str(target) in toasts.first("Exported to")
        page = read(target)
        assert "Older one" in page and "Newest one" not in page


async def test_an_export_that_cannot_be_written_says_why(
    make_app: Callable[..., StudioApp], toasts: Toasts, tmp_path: Path
) -> None:
    conversation("Blocked")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await pilot.press("alt+s")
        await wait_for(lambda: isinstance(app.screen, ExportDialog))
        path_field(app).value = str(blocker / "inside.md")
        await pilot.press("enter")
        await wait_for(lambda: len(toasts.shown) > 0 and not isinstance(app.screen, ExportDialog))
        await wait_for(lambda: any(n.severity == "error" for n in toasts.shown))
        assert not toasts.any("Exported to")
        assert not written(blocker / "inside.md")


async def test_escape_exports_nothing(make_app: Callable[..., StudioApp], toasts: Toasts) -> None:
    conversation("Never mind")
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        await pilot.press("alt+s")
        await wait_for(lambda: isinstance(app.screen, ExportDialog))
        suggested = Path(path_field(app).value)
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, ExportDialog))
        await pilot.pause()
        assert not toasts.any("Exported")
    assert not written(suggested)
