"""The model picker: fuzzy filter over the gateway's models, cached list shown first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from studio.api.errors import AnyFastError, describe
from studio.api.types import ModelInfo
from studio.models import (
    capabilities,
    fuzzy_positions,
    load_cached_models,
    rank_models,
    save_cached_models,
)
from studio.textsafe import clean_line

if TYPE_CHECKING:
    from studio.tui.app import StudioApp


class ModelPicker(ModalScreen[str | None]):
    """Pick a model for the current conversation; dismisses with its id (or None)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="picker.cancel"),
        Binding("down", "cursor(1)", "Down", show=False, id="picker.down"),
        Binding("up", "cursor(-1)", "Up", show=False, id="picker.up"),
        Binding("ctrl+f", "favourite", "★ Favourite", id="picker.favourite"),
    ]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current
        self.models: list[ModelInfo] = []
        self._shown: list[ModelInfo] = []

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog model-picker"):
            yield Static("Choose a model", classes="dialog-title")
            yield Input(
                placeholder="type to filter (fuzzy): e.g. sonnet, g4o, seedream", id="query"
            )
            yield OptionList(id="models")
            yield Static("", id="picker-status", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        cached = load_cached_models(base_url=self.studio.gateway.cache_key)
        if cached is not None:
            self.models = list(cached.models)
            self._status(f"{len(self.models)} models (cached) · refreshing…")
        else:
            self._status("Loading models…")
        self._refill()
        self._refresh()

    @work(exclusive=True, group="models", exit_on_error=False)
    async def _refresh(self) -> None:
        try:
            client = await self.studio.gateway.client()
            models = await client.list_models()
        except AnyFastError as exc:
            shown = "cached list" if self.models else "no list"
            self._status(f"Could not refresh ({shown}): {describe(exc)}")
            return
        self.models = models
        save_cached_models(models, self.studio.gateway.cache_key)
        self._status(f"{len(models)} models · Enter picks · ctrl+f toggles favourite")
        self._refill()

    def _status(self, text: str) -> None:
        """A status line; it may quote the gateway's error message and request id."""
        self.query_one("#picker-status", Static).update(clean_line(text))

    def _refill(self) -> None:
        query = self.query_one("#query", Input).value.strip()
        favourites = self.studio.settings.favourite_models
        self._shown = rank_models(self.models, query, favourites=favourites, current=self.current)
        options = self.query_one("#models", OptionList)
        options.clear_options()
        width = min(44, max((len(clean_line(m.id)) for m in self._shown), default=0))
        for model in self._shown:
            options.add_option(Option(self._label(model, query, favourites, width), id=model.id))
        if self._shown:
            ids = [m.id for m in self._shown]
            options.highlighted = (
                ids.index(self.current) if not query and self.current in ids else 0
            )

    def _label(self, model: ModelInfo, query: str, favourites: list[str], width: int) -> Text:
        """The id and provider as the gateway sent them, made safe to show (Text: no markup);
        the letters the query matched are found in what is shown."""
        label = Text()
        label.append("★ " if model.id in favourites else "  ", "yellow")
        shown = clean_line(model.id)
        name = Text(shown, "bold" if model.id == self.current else "")
        for index in fuzzy_positions(query, shown) if query else []:
            name.stylize("reverse", index, index + 1)
        label.append_text(name)
        label.append(" " * max(1, width - len(shown) + 2))
        tags = " ".join(sorted(c.value for c in capabilities(model)))
        label.append(f"{tags:<22}", "cyan")
        if model.owned_by:
            label.append(f"  {clean_line(model.owned_by)}", "dim")
        return label

    @on(Input.Changed, "#query")
    def _query_changed(self) -> None:
        self._refill()

    @on(Input.Submitted, "#query")
    def _query_submitted(self) -> None:
        options = self.query_one("#models", OptionList)
        if options.highlighted is not None and self._shown:
            self.dismiss(self._shown[options.highlighted].id)

    @on(OptionList.OptionSelected, "#models")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cursor(self, step: int) -> None:
        options = self.query_one("#models", OptionList)
        if not self._shown:
            return
        current = options.highlighted or 0
        options.highlighted = max(0, min(len(self._shown) - 1, current + step))

    def action_favourite(self) -> None:
        options = self.query_one("#models", OptionList)
        if options.highlighted is None or not self._shown:
            return
        model = self._shown[options.highlighted].id
        added = self.studio.toggle_favourite(model)
        self.notify(f"{model} {'added to' if added else 'removed from'} favourites", markup=False)
        self._refill()
