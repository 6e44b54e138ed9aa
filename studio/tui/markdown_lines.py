"""Markdown rendered to screen lines, in the colours of the app's theme.

A reply is shown by one widget that paints lines rendered here (Rich's Markdown, which parses
with markdown-it and highlights code with Pygments), rather than by Textual's ``Markdown``,
which mounts a widget per paragraph, list item and table cell: every widget makes each layout
of the screen dearer, and a long reply held hundreds (``tests/bench/stream_render.py``).

Rich and markdown-it are imported on first use, so a screen with no reply on it draws its
first frame without them.
"""

from __future__ import annotations

import bisect
import io
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from textual.color import Color
from textual.strip import Strip

from studio.textsafe import clean, clean_line, is_clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.segment import Segment
    from rich.syntax import SyntaxTheme, TokenType

DARK_CODE_THEME = "monokai"
LIGHT_CODE_THEME = "friendly"


def theme_color(variables: Mapping[str, str], name: str, fallback: str) -> str:
    """A theme variable as an opaque ``#rrggbb`` (translucent colours are blended onto the
    background, as the terminal would show them); ``fallback`` if it is missing or not a colour.
    A 16-colour theme's ANSI colour stays one (``color(4)``, ``default``): the terminal's
    palette decides how it looks."""
    background = _parse(variables.get("background", "")) or Color(0, 0, 0)
    color = _parse(variables.get(name, "")) or _parse(fallback) or background
    if color.ansi is not None:
        return "default" if color.ansi < 0 else f"color({color.ansi})"
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
        "markdown.code_block": f"{fg} on {code_background(variables) or surface}",
        "markdown.block_quote": f"italic {muted}",
        "markdown.list": "",
        "markdown.item.bullet": f"bold {c('text-accent', '#ffc473')}",
        "markdown.item.number": f"bold {c('text-accent', '#ffc473')}",
        "markdown.hr": muted,
        # A link's text takes link_url (Rich makes terminal hyperlinks), link only without.
        "markdown.link": f"underline {c('text-primary', '#57a5e2')}",
        "markdown.link_url": f"underline {c('text-primary', '#57a5e2')}",
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
        text_style = "" if text_style == "none" else text_style  # Rich has no "none" style
        color = c(f"markdown-h{level}-color", c("primary", "#0178d4") if level < 4 else fg)
        styles[f"markdown.h{level}"] = f"{text_style} {color}".strip()
    return styles


def code_background(variables: Mapping[str, str]) -> str | None:
    """The theme's code block background as a Rich colour (``default`` for the terminal's own);
    None when the theme sets none."""
    value = variables.get("studio-code-background", "")
    if not value:
        return None
    return theme_color(variables, "studio-code-background", variables.get("surface", "#1e1e1e"))


def code_theme(variables: Mapping[str, str], *, dark: bool) -> SyntaxTheme | str:
    """The theme's Pygments style (``$studio-code-style``) on its code block background (the
    style's own background when the theme sets none: Textual's themes)."""
    from rich.style import Style
    from rich.syntax import PygmentsSyntaxTheme

    style = variables.get("studio-code-style") or (DARK_CODE_THEME if dark else LIGHT_CODE_THEME)
    if not variables.get("studio-code-background"):
        return style
    background = Style(bgcolor=code_background(variables))

    class CodeTheme(PygmentsSyntaxTheme):
        def get_background_style(self) -> Style:
            return background

        def get_style_for_token(self, token_type: TokenType) -> Style:
            # Tokens carry the Pygments style's own background: the theme's is laid over it.
            return super().get_style_for_token(token_type) + background

    try:
        return CodeTheme(style)
    except Exception:  # a style that went missing since the theme was checked
        return CodeTheme(DARK_CODE_THEME if dark else LIGHT_CODE_THEME)


class MarkdownLines:
    """Renders Markdown text to :class:`Strip` lines of a given width."""

    def __init__(self, variables: Mapping[str, str], *, dark: bool) -> None:
        self.styles = markdown_styles(variables)
        self.variables = dict(variables)
        self.dark = dark
        self._code_theme: SyntaxTheme | str | None = None
        self._console: Console | None = None

    def serves(self, variables: Mapping[str, str], *, dark: bool) -> bool:
        """Whether this renderer draws in the colours of a theme with these ``variables``."""
        return dark == self.dark and variables == self.variables

    @property
    def code_theme(self) -> SyntaxTheme | str:
        """The Pygments style of code blocks, on the theme's code background."""
        if self._code_theme is None:
            self._code_theme = code_theme(self.variables, dark=self.dark)
        return self._code_theme

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
        """``text`` as lines exactly ``width`` cells wide (no lines for blank text).

        The text came from the network: it is made safe for the terminal here, where it is
        shown (client-guide §6), and only here, so what is stored stays as received. ``clean``
        gives back the same string when there is nothing to clean: one scan per block. The
        rendered lines are checked too: Markdown decodes character references (``&#x202e;``,
        ``&#8203;``) into characters that were not in the text."""
        if not text.strip() or width < 1:
            return []
        from rich.markdown import Markdown

        console = self.console
        options = console.options.update(width=width, max_width=width, height=None)
        # Rich passes code_theme on to Syntax, which takes a SyntaxTheme as well as a name.
        markdown = Markdown(clean(text), code_theme=cast(str, self.code_theme))
        lines = console.render_lines(markdown, options, pad=True)
        # Rich starts a leading list with a blank line and ends a rule with one; blocks are
        # spaced by the view.
        start, end = 0, len(lines)
        while start < end and _blank(lines[start]):
            start += 1
        while end > start and _blank(lines[end - 1]):
            end -= 1
        lines = lines[start:end]
        if is_clean("".join([segment.text for line in lines for segment in line])):
            return [Strip(line, width) for line in lines]
        return [_cleaned(line, width) for line in lines]


def _cleaned(line: list[Segment], width: int) -> Strip:
    """A rendered line with what a character reference smuggled in made visible (its width may
    change: it is cut or padded back to ``width``); a clean line is kept as it is."""
    from rich.segment import Segment

    if all(is_clean(s.text) for s in line):
        return Strip(line, width)
    segments = [Segment(clean_line(s.text), s.style, s.control) for s in line]
    return Strip(segments).adjust_cell_length(width)


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


def estimate_height(text: str, width: int) -> int:
    """Lines ``text`` will probably take at ``width``, without rendering it: each source line
    wrapped at the width. Code fences stand for a code block's padding, a table's rule for its
    own, so the guess is close for prose, code and tables alike."""
    if not text.strip() or width < 1:
        return 0
    return sum(max(1, -(-len(line) // width)) for line in text.strip("\n").split("\n"))


class BlockLayout:
    """Blocks of Markdown placed one under another, one blank line apart, each rendered at the
    current width when first needed.

    A block not yet rendered at this width takes the height :func:`estimate_height` guesses;
    rendering it gives the real one. So a width change (a resized terminal, the split view, the
    job sidebar) or a long history costs only the blocks on screen at once; the others are
    rendered on demand or by :meth:`fill`, a little at a time.
    """

    def __init__(self, blocks: list[str]) -> None:
        self.blocks = blocks
        self.width = 0
        self.renderer: MarkdownLines | None = None
        self.lines: list[list[Strip] | None] = [None] * len(blocks)
        self.heights: list[int] = [0] * len(blocks)
        self._offsets: list[int] | None = None
        self._height = 0

    # -- changes ---------------------------------------------------------------------------------

    def reset(self, renderer: MarkdownLines | None, width: int) -> None:
        """Use ``renderer`` at ``width``: every block is to be rendered again (the heights stay
        as they were where the width is the same, or are estimated)."""
        if width != self.width:
            self.heights = [estimate_height(block, width) for block in self.blocks]
            self._offsets = None
        self.renderer = renderer
        self.width = width
        self.lines = [None] * len(self.blocks)

    def changed(self, index: int) -> None:
        """Block ``index``'s text changed (it keeps its old height until rendered)."""
        self.lines[index] = None

    def extend(self, blocks: list[str]) -> None:
        self.blocks.extend(blocks)
        self.lines.extend([None] * len(blocks))
        self.heights.extend(estimate_height(block, self.width) for block in blocks)
        self._offsets = None

    # -- rendering -------------------------------------------------------------------------------

    def render(self, index: int) -> bool:
        """Render block ``index`` at the current width; True if its height changed."""
        assert self.renderer is not None
        lines = self.lines[index] = self.renderer.render(self.blocks[index], self.width)
        if len(lines) == self.heights[index]:
            return False
        self.heights[index] = len(lines)
        self._offsets = None
        return True

    @property
    def unrendered(self) -> bool:
        return None in self.lines

    def fill(self, budget: float) -> bool:
        """Render blocks not yet rendered, the last first, for about ``budget`` seconds; True
        if a height changed."""
        deadline = time.perf_counter() + budget
        moved = False
        for index in range(len(self.blocks) - 1, -1, -1):
            if self.lines[index] is None:
                moved = self.render(index) or moved
                if time.perf_counter() >= deadline:
                    break
        return moved

    # -- placing ---------------------------------------------------------------------------------

    @property
    def offsets(self) -> list[int]:
        """The first line of each block."""
        if self._offsets is None:
            offsets, y = [], 0
            for height in self.heights:
                if height and y:
                    y += 1  # a blank line between blocks
                offsets.append(y)
                y += height
            self._offsets = offsets
            self._height = y
        return self._offsets

    @property
    def height(self) -> int:
        _ = self.offsets  # places the blocks, which sums the height
        return self._height

    def locate(self, y: int) -> tuple[int, int]:
        """The block holding line ``y`` and the row within it (-1, 0 above every block)."""
        offsets = self.offsets
        index = bisect.bisect_right(offsets, y) - 1
        return index, (y - offsets[index] if index >= 0 else 0)

    def text_lines(self) -> list[str]:
        """Every line as plain text, rendering what is not rendered yet."""
        shown: list[str] = []
        for index in range(len(self.blocks)):
            if self.lines[index] is None:
                self.render(index)
            lines = self.lines[index] or []
            if lines and shown:
                shown.append("")
            shown.extend(strip.text.rstrip() for strip in lines)
        return shown
