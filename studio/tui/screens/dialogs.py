"""Small modal dialogs: ask for a line of text, confirm, edit conversation settings, attach."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, Label, Static, TextArea

from studio.textsafe import clean, clean_line
from studio.tui.widgets.safe_text_area import SafeTextArea


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text (rename, paste a key). The text it starts with (a title) is
    shown made safe: what the user then submits is what they saw."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")]

    def __init__(
        self, title: str, value: str = "", *, password: bool = False, hint: str = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.password = password
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(clean_line(self.title_text), classes="dialog-title", markup=False)
            yield Input(clean_line(self.value), password=self.password, id="value")
            if self.hint:
                yield Static(clean(self.hint), classes="dialog-hint", markup=False)

    @on(Input.Submitted, "#value")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class Confirm(ModalScreen[bool]):
    """A yes/no question; y (or Enter on the focused Yes) confirms, n or esc backs out.

    Enter presses the focused button: No unless ``default_yes`` (for a question the user
    asked for with one key, such as "retry this paid job?", where Enter should answer it).
    ``detail`` is a line of explanation under the question; ``yes`` and ``no`` name the
    buttons ("Retry", "Keep it")."""

    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "No", id="confirm.no", tooltip="Back out"),
        Binding("y", "dismiss(True)", "Yes", id="confirm.yes", tooltip="Confirm"),
    ]

    def __init__(
        self,
        question: str,
        detail: str = "",
        *,
        yes: str = "Yes",
        no: str = "No",
        default_yes: bool = False,
    ) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes
        self.no = no
        self.default_yes = default_yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Static(clean(self.question), classes="dialog-title", markup=False)
            if self.detail:
                yield Static(clean(self.detail), classes="confirm-detail", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(Content(f"{clean_line(self.yes)} (y)"), variant="error", id="yes")
                yield Button(Content(f"{clean_line(self.no)} (n)"), id="no")

    def on_mount(self) -> None:
        self.query_one("#yes" if self.default_yes else "#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class Choice(ModalScreen[str | None]):
    """Pick one of a few answers (buttons); esc means None.

    An answer is ``(value, label)`` or ``(value, label, key)``: the key picks it at once (it is
    shown on its button). Answers that do not fit side by side are stacked."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="choice.cancel", tooltip="Back out")
    ]
    SIDE_BY_SIDE = 64
    """The most cells the buttons may take in a row; more are stacked."""

    def __init__(
        self,
        question: str,
        answers: Sequence[tuple[str, str] | tuple[str, str, str]],
        detail: str = "",
    ) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.answers = [(a[0], a[1], a[2] if len(a) > 2 else "") for a in answers]

    def compose(self) -> ComposeResult:
        labels = [
            clean_line(label) + (f" ({key})" if key else "") for _, label, key in self.answers
        ]
        stacked = sum(len(label) + 6 for label in labels) > self.SIDE_BY_SIDE
        with Vertical(classes="dialog"):
            yield Static(clean(self.question), classes="dialog-title", markup=False)
            if self.detail:
                yield Static(clean(self.detail), classes="confirm-detail", markup=False)
            row = Vertical if stacked else Horizontal
            with row(classes="dialog-buttons" + (" -stacked" if stacked else "")):
                for (value, _, _), label in zip(self.answers, labels, strict=True):
                    yield Button(Content(label), id=f"choice-{value}", compact=stacked)

    def on_key(self, event: events.Key) -> None:
        for value, _, key in self.answers:
            if key and event.key == key:
                event.stop()
                self.dismiss(None if value == "cancel" else value)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        value = (event.button.id or "").removeprefix("choice-")
        self.dismiss(None if value == "cancel" else value)


@dataclass(frozen=True)
class ConversationOptions:
    system_prompt: str | None
    temperature: float | None
    max_tokens: int | None


class SettingsForm(ModalScreen[ConversationOptions | None]):
    """Per-conversation system prompt, temperature and max tokens, validated before saving."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="settings.cancel"),
        Binding("ctrl+s", "save", "Save", id="settings.save", show=True),
    ]

    def __init__(self, title: str, current: ConversationOptions) -> None:
        super().__init__()
        self.title_text = title
        self.current = current

    def compose(self) -> ComposeResult:
        c = self.current
        # The fields scroll (the focused one scrolls into view); the reason a value is refused
        # and the buttons stay below them, on screen however short the terminal is.
        with Vertical(classes="dialog settings-form"):
            title = clean_line(self.title_text)
            yield Static(f"Settings — {title}", classes="dialog-title", markup=False)
            body = VerticalScroll(classes="dialog-body")
            body.can_focus = False  # Tab goes from field to field, not to the scroll area
            with body:
                yield Label("System prompt")
                yield SafeTextArea(c.system_prompt or "", id="system", soft_wrap=True)
                with Horizontal(classes="settings-numbers"):
                    with Vertical():
                        yield Label("Temperature (0–2; empty: default)")
                        temperature = "" if c.temperature is None else str(c.temperature)
                        yield Input(temperature, id="temperature")
                    with Vertical():
                        yield Label("Max tokens (empty: no limit)")
                        max_tokens = "" if c.max_tokens is None else str(c.max_tokens)
                        yield Input(max_tokens, id="max_tokens")
            yield Static("", id="form-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        error = self.query_one("#form-error", Static)
        error.display = False
        raw_t = self.query_one("#temperature", Input).value.strip()
        raw_m = self.query_one("#max_tokens", Input).value.strip()
        try:
            temperature = float(raw_t) if raw_t else None
        except ValueError:
            temperature = -1.0
        if temperature is not None and not 0 <= temperature <= 2:
            self._refuse("#temperature", "Temperature must be a number from 0 to 2.")
            return
        if raw_m and not (raw_m.isdigit() and int(raw_m) > 0):
            self._refuse("#max_tokens", "Max tokens must be a whole number above 0.")
            return
        system = self.query_one("#system", TextArea).text.strip() or None
        self.dismiss(ConversationOptions(system, temperature, int(raw_m) if raw_m else None))

    def _refuse(self, field_id: str, reason: str) -> None:
        """Say why above the buttons and take the user to the field."""
        error = self.query_one("#form-error", Static)
        error.update(reason)
        error.display = True
        field = self.query_one(field_id, Input)
        field.focus()
        # The reason takes a line from the fields: show the field again once it has.
        self.call_after_refresh(field.scroll_visible, animate=False)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class PathSuggester(Suggester):
    """Completes local file paths as you type (Tab or → accepts)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value.startswith(("http://", "https://")):
            return None
        return await asyncio.to_thread(complete_path, value)


def complete_path(value: str) -> str | None:
    """``value`` extended by the first matching file or folder name (folders get a slash)."""
    folder, stem = os.path.split(os.path.expanduser(value))
    try:
        names = sorted(os.listdir(folder or "."))
    except OSError:
        return None
    for name in names:
        if name.startswith(stem) and name != stem and not name.startswith("."):
            suffix = "/" if os.path.isdir(os.path.join(folder, name)) else ""
            return value + name[len(stem) :] + suffix
    return None


class AttachPrompt(ModalScreen[str | None]):
    """Ask for an image path (with completion) or an http(s) URL."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="attach.cancel"),
        Binding("tab", "complete", "Complete", priority=True, id="attach.complete"),
    ]

    def action_complete(self) -> None:
        field = self.query_one("#path", Input)
        field.cursor_position = len(field.value)
        field.action_cursor_right()  # at the end of the text, this accepts the suggestion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Attach an image", classes="dialog-title")
            yield Input(
                placeholder="path/to/image.png or https://…",
                suggester=PathSuggester(),
                id="path",
            )
            yield Static(
                f"Tab completes paths · from {clean_line(str(Path.cwd()))}",
                classes="dialog-hint",
                markup=False,
            )

    @on(Input.Submitted, "#path")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
