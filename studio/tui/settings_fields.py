"""One field of the settings screen per setting of ``studio.config``: its name, help and
default, an editor fitting its kind, and the reason a value is refused, under it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.markup import escape
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static, Switch

from studio.config import Settings, checked_text, toml_value
from studio.config.settings import DEFAULTS, SPECS
from studio.textsafe import clean_line, is_clean

MODEL_SETTINGS = ("default_model", "image_model", "video_model", "favourite_models")
"""Settings naming models: typing one suggests ids from the gateway's model list, and its
Pick… button chooses one in the model picker."""


def _default_text(name: str) -> str:
    default = DEFAULTS[name]
    if default is None or default == {} or default == []:
        return "not set"
    if isinstance(default, float):
        return as_text(default)  # 600, as the field shows it (not 600.0)
    return default if isinstance(default, str) else toml_value(default)


def as_text(value: Any) -> str:
    """``value`` as its field shows it (a list comma-separated, ``2.0`` as ``2``)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class SettingField(Vertical):
    """The editor of setting ``name``: ``value()`` gives ``(value, None)`` or ``(None, the
    reason it is refused)``; :meth:`show_problem` writes a reason under the field."""

    def __init__(self, name: str, settings: Settings, themes: Sequence[str]) -> None:
        super().__init__(id=f"setting-{name}", classes="setting")
        self.setting = name
        self.initial = getattr(settings, name)
        self._themes = themes
        self._settings = settings

    def compose(self) -> ComposeResult:
        name = self.setting
        origin = self._settings.origin(name)
        note = f"  [b]{origin}, which wins over the file[/]" if origin.startswith("from") else ""
        default = escape(_default_text(name))
        yield Label(f"{name}  [dim](default: {default})[/]{note}", classes="setting-name")
        yield Static(SPECS[name].help, classes="setting-help", markup=False)
        yield from self._editor()
        problem = Static("", classes="setting-problem", markup=False)
        problem.display = False
        yield problem

    def _editor(self) -> ComposeResult:
        name, spec, value = self.setting, SPECS[self.setting], self.initial
        editor_id = f"edit-{name}"
        if spec.kind == "bool":
            yield Switch(bool(value), id=editor_id)
        elif spec.kind == "choice" or name == "theme":
            options = spec.choices or tuple(self._themes)
            if value not in options:
                options = (*options, value)
            select = Select(
                [(Content(clean_line(o)), o) for o in options],  # names are never markup
                value=value,
                allow_blank=False,
                compact=True,
                id=editor_id,
            )
            if name != "theme":
                yield select
                return
            with Horizontal(classes="setting-key"):
                yield select
                yield Button("Preview…", id="pick-theme", compact=True)
        elif spec.kind == "keymap":
            count = len(value)
            yield Static(
                f"{count} key override{'' if count == 1 else 's'}; edit the [keymap] table "
                "with `studio config edit` (F1 lists the binding ids).",
                id=editor_id,
                markup=False,
            )
        elif spec.kind == "secret":
            masked = self._settings.masked_key()
            if self._settings.api_key_source == "command":
                masked += " from api_key_command, which wins over a key typed here"
            with Horizontal(classes="setting-key"):
                yield Input(
                    placeholder=f"{masked} — type a new key to replace it",
                    password=True,
                    compact=True,
                    id=editor_id,
                )
                yield Button("Check", id="check-key", compact=True)
        elif name in MODEL_SETTINGS:
            with Horizontal(classes="setting-key"):
                yield Input(as_text(value), id=editor_id, placeholder="not set", compact=True)
                yield Button("Pick…", id=f"pick-{name}", classes="pick-model", compact=True)
        else:
            yield Input(as_text(value), id=editor_id, placeholder="not set", compact=True)

    def offer_models(self, models: Sequence[str]) -> None:
        """Suggest model ids from the gateway's list while a model setting is typed."""
        if self.setting not in MODEL_SETTINGS or not models:
            return
        editors = self.query(Input)
        if not editors:  # not composed yet
            self.call_after_refresh(self.offer_models, models)
            return
        safe = [model for model in models if is_clean(model)]  # ids from the gateway
        editors.first().suggester = SuggestFromList(safe, case_sensitive=False)

    def put_model(self, model: str) -> None:
        """A model chosen in the picker: the field's model, or one more favourite (once)."""
        editor = self.query_one(Input)
        if not is_clean(model) or (self.setting == "favourite_models" and "," in model):
            self.show_problem(f"{clean_line(model)}: this model id cannot be saved as a setting")
            return
        if self.setting != "favourite_models":
            editor.value = model
            return
        names = [n.strip() for n in editor.value.split(",") if n.strip()]
        if model not in names:
            editor.value = ", ".join([*names, model])

    def value(self) -> tuple[Any, str | None]:
        """The value the field holds, checked: ``(value, None)`` or ``(None, reason)``."""
        spec = SPECS[self.setting]
        if spec.kind == "keymap":
            return self.initial, None
        if spec.kind == "bool":
            return self.query_one(Switch).value, None
        if spec.kind == "choice" or self.setting == "theme":
            return self.query_one(Select).value, None
        text = self.query_one(Input).value
        if spec.kind == "secret" and not text.strip():
            return self.initial, None  # blank: the key stays as it is
        return checked_text(self.setting, text)

    def show_problem(self, problem: str | None) -> None:
        """Write ``problem`` (or nothing) under the field."""
        self.show_status(problem, refused=problem is not None)

    def show_status(self, text: str | None, *, refused: bool = False) -> None:
        """Write ``text`` under the field (a refusal in the error colour); None hides it."""
        shown = self.query_one(".setting-problem", Static)
        shown.update(clean_line(text or ""))
        shown.display = bool(text)
        self.set_class(refused, "refused")
