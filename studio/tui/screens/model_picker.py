"""The model picker: fuzzy filter over the gateway's models, cached list shown first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.css.styles import RulesMap
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from studio.api.errors import AnyFastError, describe
from studio.api.types import ModelInfo
from studio.fuzzy import fuzzy_positions
from studio.model_cache import load_cached_models, save_cached_models
from studio.models import Capability, capabilities, rank_models
from studio.textsafe import clean_line
from studio.tui.favourites import toggle_favourite

if TYPE_CHECKING:
    from studio.tui.app import StudioApp


class ModelPicker(ModalScreen[str | None]):
    """Pick a model (for the current conversation, unless told otherwise); dismisses with its
    id, or None. ``title`` says what it is for; ``kind`` lists only models with that
    capability (image models for the image setting...)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="picker.cancel"),
        Binding("down", "cursor(1)", "Down", show=False, id="picker.down"),
        Binding("up", "cursor(-1)", "Up", show=False, id="picker.up"),
        Binding("ctrl+f", "favourite", "★ Favourite", id="picker.favourite"),
    ]

    def __init__(
        self, current: str | None, *, title: str | None = None, kind: Capability | None = None
    ) -> None:
        super().__init__()
        self.current = current
        self.heading = title or "Choose a model"
        self.kind = kind
        self.models: list[ModelInfo] = []
        self._shown: list[ModelInfo] = []
        self._note = ""
        """What the status line says after the count: loading, refreshed, or an error."""

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog model-picker"):
            yield Static(self.heading, classes="dialog-title", markup=False)
            yield Input(
                placeholder="type to filter (fuzzy): e.g. sonnet, g4o, seedream", id="query"
            )
            yield OptionList(id="models")
            yield Static("", id="picker-status", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        cached = load_cached_models(base_url=self.studio.gateway.cache_key)
        if cached is not None:
            self.models = list(cached.models)
            self._note = "(cached) · refreshing…"
        else:
            self._note = "· loading…"
        self._refill()
        self._refresh()

    @work(exclusive=True, group="models", exit_on_error=False)
    async def _refresh(self) -> None:
        try:
            client = await self.studio.gateway.client()
            models = await client.list_models()
        except AnyFastError as exc:
            shown = "cached list" if self.models else "no list"
            self._note = f"· could not refresh ({shown}): {describe(exc)}"
            self._show_count()
            return
        self.models = models
        save_cached_models(models, self.studio.gateway.cache_key)
        self._note = "· Enter picks · ctrl+f toggles favourite"
        self._refill()

    def _show_count(self) -> None:
        """How many models are listed ("2 of 45 models" under a filter), then the note, which
        may quote the gateway's error message and request id."""
        total = len({model.id for model in self._offered()})
        count = f"{total} model{'' if total == 1 else 's'}"
        if self.query_one("#query", Input).value.strip():
            count = f"{len(self._shown)} of {count}"
        text = f"{count} {self._note}" if self.models else self._note.removeprefix("· ")
        self.query_one("#picker-status", Static).update(clean_line(text))

    def _refill(self) -> None:
        query = self.query_one("#query", Input).value.strip()
        favourites = self.studio.settings.favourite_models
        self._shown = rank_models(
            self._offered(), query, favourites=favourites, current=self.current
        )
        options = self.query_one("#models", OptionList)
        columns = Columns.of(self._shown)
        colours = RowColours.of_theme(self.app.theme_variables)
        options.set_options(
            Option(
                ModelRow(
                    model, columns, query, model.id in favourites, model.id == self.current, colours
                ),
                id=model.id,
            )
            for model in self._shown
        )
        if self._shown:
            ids = [m.id for m in self._shown]
            options.highlighted = (
                ids.index(self.current) if not query and self.current in ids else 0
            )
        self._show_count()

    def _offered(self) -> list[ModelInfo]:
        """The models listed: those of :attr:`kind`, or all."""
        if self.kind is None:
            return self.models
        return [model for model in self.models if self.kind in capabilities(model)]

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
        added = toggle_favourite(self.studio, model)
        if added is None:
            return  # not saved: the app said why
        self.notify(f"{model} {'added to' if added else 'removed from'} favourites", markup=False)
        self._refill()


TAG_ORDER = ("chat", "vision", "reasoning", "image", "video")
GAP = "  "


@dataclass(frozen=True)
class Columns:
    """The widest id, provider and capability tags among the models listed: every row lays
    itself out from these, so the columns line up whatever the width."""

    id: int
    provider: int
    tags: int

    PROVIDER_MAX = 14
    """A longer provider name is cut with an ellipsis."""
    TAGS_MIN = 8
    """What the id leaves at least for the tags when the id has to be cut."""

    @classmethod
    def of(cls, models: list[ModelInfo]) -> Columns:
        return cls(
            max((cell_len(clean_line(m.id)) for m in models), default=0),
            min(cls.PROVIDER_MAX, max((cell_len(provider(m)) for m in models), default=0)),
            max((cell_len(tags(m)) for m in models), default=0),
        )

    def widths(self, width: int) -> tuple[int, int]:
        """The id's and the provider's columns in a row ``width`` cells wide (the star first,
        the tags last take what is left): the id whole where it fits."""
        fixed = 2 + len(GAP) * 2
        room_for_id = width - fixed - self.provider - self.TAGS_MIN
        return max(min(self.id, 12), min(self.id, room_for_id)), self.provider


def provider(model: ModelInfo) -> str:
    return clean_line(model.owned_by or "")


def tags(model: ModelInfo) -> str:
    have = {c.value for c in capabilities(model)}
    return " ".join(tag for tag in TAG_ORDER if tag in have)


def fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut with an ellipsis."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…" if width > 0 else ""


@dataclass(frozen=True)
class RowColours:
    """The colours of a row's favourite star and capability tags (the theme's, when known)."""

    star: str = "yellow"
    tags: str = "cyan"

    @classmethod
    def of_theme(cls, variables: Mapping[str, str]) -> RowColours:
        from studio.tui.markdown_lines import theme_color

        return cls(
            theme_color(variables, "text-warning", cls.star),
            theme_color(variables, "text-accent", cls.tags),
        )


def model_line(
    model: ModelInfo,
    columns: Columns,
    width: int,
    query: str,
    favourite: bool,
    current: bool,
    colours: RowColours = RowColours(),
) -> Text:
    """One line: star, id, provider and capability tags, as the gateway sent them made safe to
    show (Text: never markup); the letters the query matched are marked in the id shown."""
    id_width, provider_width = columns.widths(width)
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append("★ " if favourite else "  ", colours.star)
    shown = clean_line(model.id)
    name = Text(fit(shown, id_width), "bold" if current else "")
    visible = id_width - 1 if cell_len(shown) > id_width else id_width
    for index in fuzzy_positions(query, shown) if query else []:
        if index < visible:
            name.stylize("reverse", index, index + 1)
    line.append_text(name)
    line.append(GAP)
    line.append(fit(provider(model), provider_width), "dim")
    line.append(GAP)
    line.append(tags(model), colours.tags)
    line.truncate(width, overflow="ellipsis")
    return line


class ModelRow(Visual):
    """A model as an option: always one line, laid out for the width the list has (which the
    list gives when it draws the row, again after a resize)."""

    def __init__(
        self,
        model: ModelInfo,
        columns: Columns,
        query: str,
        favourite: bool,
        current: bool,
        colours: RowColours = RowColours(),
    ) -> None:
        self.colours = colours
        self.model = model
        self.columns = columns
        self.query = query
        self.favourite = favourite
        self.current = current

    def line(self, width: int) -> Text:
        return model_line(
            self.model,
            self.columns,
            width,
            self.query,
            self.favourite,
            self.current,
            self.colours,
        )

    def __str__(self) -> str:
        return self.line(200).plain.rstrip()

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        rules = RulesMap(text_wrap="nowrap", text_overflow="ellipsis")
        content = Content.from_rich_text(self.line(width))
        return content.render_strips(width, 1, style, replace(options, rules=rules))

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.line(container_width).cell_len

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1
