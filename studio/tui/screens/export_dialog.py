"""The export dialog: which format (Markdown, JSON, HTML) and where, with a path suggested under
the media folder's ``exports`` folder that follows the format until the user edits it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from studio.export import ExportError, ExportFormat
from studio.textsafe import clean_line

FORMAT_LABELS: dict[ExportFormat, str] = {
    "md": "Markdown (.md): a readable document, files in a folder beside it",
    "json": "JSON (.json): everything, to import again",
    "html": "HTML (.html): one file for any browser, images inside",
}


@dataclass(frozen=True)
class ExportChoice:
    """What the user chose: the format and the file to write."""

    fmt: ExportFormat
    path: Path


class ExportDialog(ModalScreen[ExportChoice | None]):
    """Ask for an export's format and path; Enter (or Export) exports, esc cancels.

    ``suggest(fmt)`` gives the default path for a format; while the path field holds the last
    suggestion, picking another format suggests anew (a path the user typed is kept)."""

    BINDINGS = [
        Binding(
            "escape",
            "dismiss(None)",
            "Cancel",
            id="export.cancel",
            tooltip="Close without exporting",
        ),
    ]

    def __init__(self, title: str, suggest: Callable[[ExportFormat], Path], first: Path) -> None:
        super().__init__()
        self.title_text = title
        self.suggest = suggest
        self.fmt: ExportFormat = "md"
        self.suggested = first

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog export-dialog"):
            yield Static(
                f"Export “{clean_line(self.title_text)}”", classes="dialog-title", markup=False
            )
            with RadioSet(id="export-format"):
                for fmt, label in FORMAT_LABELS.items():
                    yield RadioButton(label, value=fmt == self.fmt, id=f"format-{fmt}")
            yield Input(str(self.suggested), id="export-path")
            yield Static(
                "Enter exports; esc cancels. A relative path is taken from the folder Studio "
                "was started in.",
                classes="dialog-hint",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", id="export-go", variant="primary")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        button_id = event.pressed.id or ""
        fmt = button_id.removeprefix("format-")
        if fmt not in FORMAT_LABELS:
            return
        self.fmt = fmt
        path = self.query_one("#export-path", Input)
        if path.value.strip() != str(self.suggested):
            return  # the user's own path stays
        try:
            self.suggested = self.suggest(self.fmt)
        except ExportError:
            self.suggested = self.suggested.with_suffix(f".{self.fmt}")
        path.value = str(self.suggested)

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._export()

    @on(Button.Pressed, "#export-go")
    def _go(self, event: Button.Pressed) -> None:
        event.stop()
        self._export()

    @on(Button.Pressed, "#export-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def _export(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.notify("Give a file to write the export to.", severity="warning", markup=False)
            return
        self.dismiss(ExportChoice(self.fmt, Path(text).expanduser()))
