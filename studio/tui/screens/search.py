"""The search screen (ctrl+f): full-text search over every message, archived conversations too.

Typing searches (debounced; the query runs in a thread, so typing never waits for it, and an
answer to an older query is dropped when a newer one was asked). Hits are grouped by
conversation, each with its snippet, the matched words marked; filters narrow them by model,
role and date. Enter dismisses the screen with the hit; :func:`open_search` then opens its
conversation scrolled to it (:meth:`OpenConversations.open_at`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from studio.store import Role, StoreError
from studio.store.search import SearchHit, SearchQuery, models_seen, search_messages
from studio.textsafe import clean_line
from studio.tui.search_results import (
    group_hits,
    group_label,
    hit_label,
    recent_searches,
    remember_search,
)
from studio.when import HOW, WhenError, parse_when

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

DEBOUNCE = 0.15
"""Seconds of quiet typing before the query runs."""
LIMIT = 100
"""At most this many hits are listed (the best ones)."""
ROLES = (("you (user)", Role.USER), ("replies (assistant)", Role.ASSISTANT))

EMPTY = "Type to search every message, in archived conversations too."
HINT = "↑↓ hits · Enter opens · Tab filters · Esc closes"


class SearchScreen(ModalScreen[SearchHit | None]):
    """Search every message; dismisses with the hit chosen (or ``None``)."""

    CSS_PATH = "search.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="search.close"),
        Binding("down", "cursor(1)", "Next hit", show=False, id="search.next"),
        Binding("up", "cursor(-1)", "Previous hit", show=False, id="search.previous"),
        Binding("pagedown", "cursor(10)", "Hits below", show=False, id="search.page_down"),
        Binding("pageup", "cursor(-10)", "Hits above", show=False, id="search.page_up"),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.first_query = query
        """What to search for as the screen opens (a recent search run again), if anything."""
        self._timer: Timer | None = None
        self._asked = 0
        """How many searches were started: an answer carries its number, and one older than the
        latest is dropped."""
        self.hits: list[SearchHit] = []
        """The hits listed, in the order shown."""
        self._problems: list[str] = []
        """Why the date filters are refused (one sentence each), if they are."""
        self.state = "empty"
        """What the screen shows: ``empty``, ``searching``, ``hits``, ``none`` or ``error``."""

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog search"):
            yield Static("Search conversations", classes="dialog-title")
            yield Input(placeholder="words to find (the last one may be a prefix)", id="query")
            with Horizontal(id="filters"):
                yield Select[str](
                    self._model_options(), prompt="any model", id="model", compact=True
                )
                yield Select[Role](
                    [(Content(label), role) for label, role in ROLES],
                    prompt="any role",
                    id="role",
                    compact=True,
                )
                yield Input(placeholder="since: 7d", id="since", compact=True)
                yield Input(placeholder="until: date", id="until", compact=True)
            yield Static("", id="filter-error", markup=False)
            yield Static(EMPTY, id="status", markup=False)
            yield OptionList(id="results")
            yield Static(HINT, classes="dialog-hint", id="keys", markup=False)

    def _model_options(self) -> list[tuple[Content, str]]:
        """Every model a message or conversation of the store names, and the default one."""
        seen = set(models_seen(self.studio.store))
        seen.add(self.studio.settings.default_model)
        return [(Content(clean_line(model)), model) for model in sorted(seen, key=str.lower)]

    def on_mount(self) -> None:
        field = self.query_one("#query", Input)
        field.focus()
        self._show_recent()
        if self.first_query:
            with field.prevent(Input.Changed):
                field.value = self.first_query
            field.cursor_position = len(field.value)
            self.search_now()

    # -- asking --------------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self.search_now)

    def search_now(self) -> None:
        """Run the query as the fields hold it now (in a thread); typing calls it debounced."""
        self._asked += 1
        query = self._query()
        if self._problems:
            self.hits = []
            self.query_one("#results", OptionList).clear_options()
            self._set_status("Nothing is searched until the dates are right.", "error")
            return
        if query is None:
            self._show_recent()
            return
        number = self._asked
        self._set_status("Searching…", "searching")
        self.run_worker(
            lambda: self._search(number, query),
            thread=True,
            group="search",
            exit_on_error=False,
        )

    def _search(self, number: int, query: SearchQuery) -> None:
        """In a worker thread: ask the store, then hand the answer to the screen."""
        try:
            hits, error = search_messages(self.studio.store, query), None
        except StoreError as exc:
            hits, error = [], str(exc)
        self.app.call_from_thread(self._answer, number, query, hits, error)

    def _query(self) -> SearchQuery | None:
        """The query the fields ask for; ``None`` when there is no text or a date is not one
        (the reason shown under the fields)."""
        text = self.query_one("#query", Input).value
        now = time.time()
        problems = []
        bounds: dict[str, float | None] = {}
        for name in ("since", "until"):
            try:
                bounds[name] = parse_when(
                    self.query_one(f"#{name}", Input).value, end=name == "until", now=now
                )
            except WhenError as exc:
                problems.append(f"{name.capitalize()}: {exc}")
        since, until = bounds.get("since"), bounds.get("until")
        if since is not None and until is not None and since > until:
            problems.append("Since is after until: no message can match.")
        self._problems = problems
        self._show_filter_note()
        if problems or not text.strip():
            return None
        model = self.query_one("#model", Select).value
        role = self.query_one("#role", Select).value
        return SearchQuery(
            text,
            limit=LIMIT,
            model=model if isinstance(model, str) else None,
            role=role if isinstance(role, Role) else None,
            since=since,
            until=until,
        )

    # -- showing -------------------------------------------------------------------------------

    def _show_filter_note(self) -> None:
        """Under the filters: why a date is refused, or while a date field has the focus, what
        it accepts."""
        note = self.query_one("#filter-error", Static)
        problems = self._problems
        focused = self.focused.id if self.focused is not None else None
        text = "\n".join(problems)
        if not problems and focused in ("since", "until"):
            text = f"{focused.capitalize()}: {HOW}."
        note.update(text)
        note.set_class(not problems, "-note")
        note.display = bool(text)

    def on_descendant_focus(self) -> None:
        self._show_filter_note()

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self._show_filter_note)

    def _set_status(self, text: str, state: str) -> None:
        self.state = state
        self.query_one("#status", Static).update(text)

    def _answer(
        self, number: int, query: SearchQuery, hits: list[SearchHit], error: str | None
    ) -> None:
        if number != self._asked or not self.is_attached:
            return  # a newer search was asked meanwhile: its answer is the one to show
        options = self.query_one("#results", OptionList)
        self.hits = []
        if error is not None:
            options.clear_options()
            self._set_status(f"The search failed: {clean_line(error)}", "error")
            return
        filtered = any(v is not None for v in (query.model, query.role, query.since, query.until))
        if not hits:
            options.clear_options()
            where = " with these filters" if filtered else ""
            self._set_status(f"No message matches “{clean_line(query.text)}”{where}.", "none")
            return
        now = time.time()
        shown: list[Option | None] = []
        groups = group_hits(hits)
        for group in groups:
            if shown:
                shown.append(None)  # a rule between conversations
            shown.append(Option(group_label(group), disabled=True))
            for hit in group.hits:
                shown.append(Option(hit_label(hit, now), id=f"hit-{len(self.hits)}"))
                self.hits.append(hit)
        options.set_options(shown)
        options.highlighted = 1
        options.scroll_home(animate=False)
        found = f"{len(hits)} message{'' if len(hits) == 1 else 's'}"
        chats = f"{len(groups)} conversation{'' if len(groups) == 1 else 's'}"
        best = f" (the best {LIMIT})" if len(hits) >= LIMIT else ""
        self._set_status(f"{found}{best} in {chats}", "hits")

    def _show_recent(self) -> None:
        """The empty screen: what to do, and the recent searches to run again."""
        self.hits = []
        options = self.query_one("#results", OptionList)
        recent = recent_searches(self.studio.store)
        options.set_options(
            Option(Content.assemble(("↺ ", "$text-muted"), clean_line(text)), id=f"recent-{i}")
            for i, text in enumerate(recent)
        )
        again = " Recent searches below: Enter searches again." if recent else ""
        self._set_status(EMPTY + again, "empty")

    # -- choosing ------------------------------------------------------------------------------

    def action_close(self) -> None:
        """Close; a search that found something is remembered, as one that opened a hit is."""
        if self.state == "hits":
            remember_search(self.studio.store, self.query_one("#query", Input).value)
        self.dismiss(None)

    def action_cursor(self, step: int) -> None:
        options = self.query_one("#results", OptionList)
        if options.option_count == 0:
            return
        if options.highlighted is None:
            options.action_first()
            return
        for _ in range(abs(step)):
            options.action_cursor_down() if step > 0 else options.action_cursor_up()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        options = self.query_one("#results", OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is None:
            return
        kind, _, index = option_id.partition("-")
        if kind == "recent":
            recent = recent_searches(self.studio.store)
            query = self.query_one("#query", Input)
            query.value = recent[int(index)]
            query.cursor_position = len(query.value)
            query.focus()
            self.search_now()
        elif kind == "hit":
            remember_search(self.studio.store, self.query_one("#query", Input).value)
            self.dismiss(self.hits[int(index)])


def search_possible(app: StudioApp) -> bool:
    """Whether search can open now: on the main screen (the command palette aside)."""
    from textual.command import CommandPalette

    from studio.tui.screens.main import MainScreen

    screens = [s for s in app.screen_stack if not isinstance(s, CommandPalette)]
    return bool(screens) and isinstance(screens[-1], MainScreen)


def open_search(app: StudioApp, query: str = "") -> None:
    """Open the search screen over the main screen (searching for ``query`` at once, if given);
    the hit chosen opens in the active pane."""
    from studio.tui.screens.main import MainScreen

    main = next((s for s in reversed(app.screen_stack) if isinstance(s, MainScreen)), None)
    if main is None or isinstance(app.screen, SearchScreen):
        return

    async def chosen(hit: SearchHit | None) -> None:
        if hit is not None:
            await main.tabs.open_at(hit.conversation_id, hit.message_id, hit.snippet)

    app.push_screen(SearchScreen(query), chosen)
