"""What the command palette finds besides actions: conversations (open), models (switch the
conversation in view), jobs (their details), themes (switch) and recent searches (run again).

Each kind is a :class:`textual.command.Provider` of its own, so one that waits (the model
list, fetched when none is cached) never holds up the others. Each offers its entries only
when typing (the palette's first list stays the actions) and only where they make sense
(conversations and models on the main screen). Titles, model ids and prompts come from
elsewhere: they are made safe with :func:`~studio.textsafe.clean_line` before being shown.
"""

from __future__ import annotations

from abc import abstractmethod
from functools import partial
from typing import TYPE_CHECKING

from textual.command import Hits, Provider

from studio.textsafe import clean_line
from studio.tui.palette_match import Entry, hits

if TYPE_CHECKING:
    from studio.api.types import ModelInfo
    from studio.tui.app import StudioApp
    from studio.tui.screens.main import MainScreen

LIMIT = 20
"""At most this many hits of each kind (the best)."""
CONVERSATIONS = 500
"""The most recently updated conversations searched by title."""
JOBS = 500
"""The newest jobs searched."""
PROMPT_CELLS = 60
"""A job's prompt is cut to about this many characters in its entry."""
TITLE_CELLS = 80
"""So is a conversation's title."""
MODEL_FETCH_TIMEOUT = 3.0
"""Seconds the model entries wait for the gateway's list when none is cached."""


def _main_screen(provider: Provider) -> MainScreen | None:
    from studio.tui.screens.main import MainScreen

    screen = provider.screen
    return screen if isinstance(screen, MainScreen) else None


def _shorten(text: str, cells: int) -> str:
    line = " ".join(clean_line(text).split())
    return line if len(line) <= cells else line[: cells - 1] + "…"


class Finder(Provider):
    """A palette provider over a list of entries made when the palette opens."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.entries: list[Entry] = []

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    async def startup(self) -> None:
        self.entries = await self.make_entries()

    @abstractmethod
    async def make_entries(self) -> list[Entry]:
        """The entries to search while the palette is open."""

    async def search(self, query: str) -> Hits:
        async for hit in hits(query, self.entries, self.match_style, LIMIT):
            yield hit


class ConversationFinder(Finder):
    """Conversations by title (the most recent :data:`CONVERSATIONS`): Enter opens one."""

    async def make_entries(self) -> list[Entry]:
        screen = _main_screen(self)
        if screen is None:
            return []
        found = self.studio.store.list_conversations(archived=None, limit=CONVERSATIONS)
        return [
            Entry(
                f"Open: {_shorten(c.title, TITLE_CELLS) or 'Untitled'}",
                partial(screen.open_conversation, c.id),
                f"Open this conversation · {c.message_count} messages"
                + (" · archived" if c.archived else ""),
            )
            for c in found
        ]


class ModelFinder(Finder):
    """Chat models (the cached list, else the gateway's, and the favourites): Enter makes one
    the model of the conversation in view."""

    async def make_entries(self) -> list[Entry]:
        screen = _main_screen(self)
        if screen is None or screen.active_id is None:
            return []
        settings = self.studio.settings
        ids = [*settings.favourite_models, settings.default_model, *await self._listed()]
        conversation = self.studio.store.get_conversation(screen.active_id)
        current = (conversation.model if conversation else None) or settings.default_model
        return [
            Entry(
                f"Model: {clean_line(model)}",
                partial(screen.actions.use_model, model),
                "The model of this conversation now"
                if model == current
                else "Use this model in this conversation",
            )
            for model in dict.fromkeys(m for m in ids if m)
        ]

    async def _listed(self) -> list[str]:
        """The gateway's chat models' ids: cached, else fetched (briefly) and cached."""
        from studio.models import Capability, capabilities

        return [m.id for m in await self._models() if Capability.CHAT in capabilities(m)]

    async def _models(self) -> list[ModelInfo]:
        from studio.api.errors import AnyFastError
        from studio.model_cache import load_cached_models, save_cached_models

        gateway = self.studio.gateway
        cached = load_cached_models(base_url=gateway.cache_key)
        if cached is not None:
            return list(cached.models)
        if gateway.needs_key:
            return []
        try:
            models = await gateway.list_models_once(MODEL_FETCH_TIMEOUT)
        except (AnyFastError, TimeoutError):
            return []
        save_cached_models(models, gateway.cache_key)
        return models


class JobFinder(Finder):
    """Jobs (the newest :data:`JOBS`) by number, kind, model, state and prompt: Enter shows the
    job's details."""

    async def make_entries(self) -> list[Entry]:
        from studio.tui.job_styles import STATE_STYLE
        from studio.tui.screens.job_detail import open_details

        jobs = sorted(self.studio.jobs.jobs.values(), key=lambda job: -job.id)[:JOBS]
        return [
            Entry(
                f"Job #{job.id} {job.kind} · {STATE_STYLE[job.state][0]} · "
                f"{clean_line(job.model)} · {_shorten(job.prompt, PROMPT_CELLS)}",
                partial(open_details, self.studio, job.id),
                "Show this job's details",
            )
            for job in jobs
        ]


class ThemeFinder(Finder):
    """Every theme the app has (Studio's and Textual's): Enter switches to it."""

    async def make_entries(self) -> list[Entry]:
        current = self.app.theme
        picker = Entry(
            "Theme: choose with a live preview…",
            self.app.action_change_theme,
            "Change the theme, each one shown as you move; Enter keeps and saves it",
        )
        return [picker] + [
            Entry(
                f"Theme: {clean_line(name)}",
                partial(setattr, self.app, "theme", name),
                "The theme in use" if name == current else "Switch to this theme",
            )
            for name in sorted(self.app.available_themes)
        ]


class RecentSearchFinder(Finder):
    """The recent searches: Enter opens the search screen running one again."""

    async def make_entries(self) -> list[Entry]:
        from studio.tui.screens.search import open_search, search_possible
        from studio.tui.search_results import recent_searches

        if not search_possible(self.studio):
            return []
        return [
            Entry(
                f"Search again: {clean_line(text)}",
                partial(open_search, self.studio, text),
                "Search every message for this again",
            )
            for text in recent_searches(self.studio.store)
        ]


FINDERS: dict[str, type[Finder]] = {
    "conversations": ConversationFinder,
    "models": ModelFinder,
    "jobs": JobFinder,
    "themes": ThemeFinder,
    "searches": RecentSearchFinder,
}
"""Every finder by what it finds, for ``App.COMMANDS``."""
