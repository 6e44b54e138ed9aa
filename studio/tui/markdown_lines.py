"""Markdown rendered to screen lines, in the colours of the app's theme.

A reply is shown by one widget that paints lines rendered here (Rich's Markdown, which parses
with markdown-it and highlights code with Pygments), rather than by Textual's ``Markdown``,
which mounts a widget per paragraph, list item and table cell: every widget makes each layout
of the screen dearer, and a long reply held hundreds (``tests/bench/stream_render.py``).

Rich and markdown-it are imported on first use, so a screen with no reply on it draws its
first frame without them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from textual.color import Color
from textual.strip import Strip

if TYPE_CHECKING:
    from rich.console import Console
    from rich.segment import Segment

DARK_CODE_THEME = "monokai"
LIGHT_CODE_THEME = "friendly"


def theme_color(variables: Mapping[str, str], name: str, fallback: str) -> str:
    """A theme variable as an opaque ``#rrggbb`` (translucent colours are blended onto the
    background, as the terminal would show them); ``fallback`` if it is missing or not a colour."""
    background = _parse(variables.get("background", "")) or Color(0, 0, 0)
    color = _parse(variables.get(name, "")) or _parse(fallback) or background
    if color.a < 1:
        color = background.blend(color.with_alpha(1), color.a)
    return color.hex6


def _parse(text: str) -> Color | None:
    try:
        return Color.parse(text)
    except Exception:  # "auto 60%" and other non-colours
        return None


def markdown_styles(variables: Mapping[str, str]) -> dict[str, str]:
    """Rich's Markdown style names mapped to the theme's colours."""

    def c(name: str, fallback: str) -> str:
        return theme_color(variables, name, fallback)

    fg = c("foreground", "#e0e0e0")
    muted = c("foreground-muted", fg)
    surface = c("surface", "#1e1e1e")
    styles = {
        "markdown.paragraph": "",
        "markdown.text": "",
        "markdown.code": f"bold {c('text-accent', '#ffc473')} on {surface}",
        "markdown.code_block": f"{fg} on {surface}",
        "markdown.block_quote": f"italic {muted}",
        "markdown.list": "",
        "markdown.item.bullet": f"bold {c('text-accent', '#ffc473')}",
        "markdown.item.number": f"bold {c('text-accent', '#ffc473')}",
        "markdown.hr": muted,
        "markdown.link": f"underline {c('text-primary', '#57a5e2')}",
        "markdown.link_url": f"underline {muted}",
        "markdown.table.border": muted,
        "markdown.table.header": f"bold {c('text-primary', '#57a5e2')}",
        "markdown.kbd": f"bold {c('text-warning', '#ffc473')}",
        "markdown.h1.border": c("markdown-h1-color", "#0178d4"),
        "markdown.h7": f"italic {muted}",
    }
    for level, default in enumerate(
        ("bold", "bold underline", "bold", "bold italic", "italic", "italic"), start=1
    ):
        text_style = variables.get(f"markdown-h{level}-text-style", default) or default
        color = c(f"markdown-h{level}-color", c("primary", "#0178d4") if level < 4 else fg)
        styles[f"markdown.h{level}"] = f"{text_style} {color}".strip()
    return styles


class MarkdownLines:
    """Renders Markdown text to :class:`Strip` lines of a given width."""

    def __init__(self, variables: Mapping[str, str], *, dark: bool) -> None:
        self.styles = markdown_styles(variables)
        self.code_theme = DARK_CODE_THEME if dark else LIGHT_CODE_THEME
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console
            from rich.theme import Theme

            self._console = Console(
                file=io.StringIO(),
                width=80,
                color_system="truecolor",
                force_terminal=True,
                legacy_windows=False,
                theme=Theme(self.styles),
                markup=False,
                emoji=False,
                highlight=False,
            )
        return self._console

    def render(self, text: str, width: int) -> list[Strip]:
        """``text`` as lines exactly ``width`` cells wide (no lines for blank text)."""
        if not text.strip() or width < 1:
            return []
        from rich.markdown import Markdown

        console = self.console
        options = console.options.update(width=width, max_width=width, height=None)
        lines = console.render_lines(Markdown(text, code_theme=self.code_theme), options, pad=True)
        # Rich starts a leading list with a blank line and ends a rule with one; blocks are
        # spaced by the view.
        start, end = 0, len(lines)
        while start < end and _blank(lines[start]):
            start += 1
        while end > start and _blank(lines[end - 1]):
            end -= 1
        lines = lines[start:end]
        return [Strip(line, width) for line in lines]


def _blank(line: list[Segment]) -> bool:
    return all(
        not segment.text.strip() and (segment.style is None or segment.style.bgcolor is None)
        for segment in line
    )


@lru_cache(maxsize=8)
def _renderer(key: tuple[tuple[str, str], ...], dark: bool) -> MarkdownLines:
    return MarkdownLines(dict(key), dark=dark)


def renderer_for(variables: Mapping[str, str], *, dark: bool) -> MarkdownLines:
    """The (shared) renderer for a theme's variables."""
    return _renderer(tuple(sorted(variables.items())), dark)
