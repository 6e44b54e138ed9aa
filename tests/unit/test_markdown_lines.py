"""Markdown rendered to screen lines in the theme's colours (``studio/tui/markdown_lines.py``)."""

from __future__ import annotations

from rich.color import Color as RichColor
from rich.segment import Segment
from textual.strip import Strip

from studio.tui.markdown_lines import (
    DARK_CODE_THEME,
    LIGHT_CODE_THEME,
    MarkdownLines,
    markdown_styles,
    renderer_for,
    theme_color,
)

THEME = {
    "background": "#000000",
    "foreground": "#e0e0e0",
    "surface": "#1e1e1e",
    "primary": "#0178d4",
    "text-primary": "#57a5e2",
    "text-accent": "#ffc473",
    "markdown-h1-color": "#ff0000",
    "markdown-h1-text-style": "bold",
    "text-muted": "auto 60%",
    "foreground-muted": "#ffffff80",
}


def text_of(lines: list[Strip]) -> list[str]:
    return [strip.text.rstrip() for strip in lines]


def colors_in(lines: list[Strip]) -> set[RichColor]:
    return {
        color
        for strip in lines
        for segment in strip
        if isinstance(segment, Segment) and segment.style is not None
        for color in (segment.style.color, segment.style.bgcolor)
        if color is not None
    }


def test_translucent_colours_are_blended_onto_the_background() -> None:
    assert theme_color(THEME, "foreground-muted", "#000000").lower() == "#808080"


def test_a_missing_or_non_colour_variable_falls_back() -> None:
    assert theme_color(THEME, "text-muted", "#123456").lower() == "#123456"
    assert theme_color(THEME, "no-such-variable", "#abcdef").lower() == "#abcdef"


def test_headings_links_and_code_take_the_themes_colours() -> None:
    styles = markdown_styles(THEME)
    assert styles["markdown.h1"] == "bold #FF0000"
    assert "#57A5E2" in styles["markdown.link"].upper()
    assert styles["markdown.code"].upper().endswith("ON #1E1E1E")
    # A heading level the theme says nothing about still gets a colour and a style.
    assert styles["markdown.h5"].startswith("italic #")


def test_every_line_is_exactly_the_width_asked_for() -> None:
    text = "# Title\n\nA paragraph long enough to wrap over a narrow width, twice at least.\n"
    lines = MarkdownLines(THEME, dark=True).render(text, 24)
    assert len(lines) > 4
    assert {strip.cell_length for strip in lines} == {24}
    shown = " ".join(text_of(lines))
    assert "Title" in shown and "twice at least." in shown


def test_blank_text_renders_no_lines() -> None:
    renderer = MarkdownLines(THEME, dark=True)
    assert renderer.render("", 40) == []
    assert renderer.render("  \n\n", 40) == []
    assert renderer.render("text", 0) == []


def test_no_blank_line_is_left_after_a_closing_rule() -> None:
    lines = MarkdownLines(THEME, dark=True).render("Above\n\n---\n", 30)
    assert text_of(lines)[0] == "Above"
    assert text_of(lines)[-1].strip("-─ ") == "" and text_of(lines)[-1]


def test_code_blocks_keep_their_padding_and_are_highlighted() -> None:
    text = "```python\ndef f(x):\n    return x\n```\n"
    dark = MarkdownLines(THEME, dark=True).render(text, 40)
    # Padding above and below the code: blank text, but on the code block's background.
    assert text_of(dark)[0] == "" and text_of(dark)[-1] == ""
    assert any("def f(x):" in line for line in text_of(dark))
    assert len(colors_in(dark)) >= 3  # keyword, name and background at least
    light = MarkdownLines(THEME, dark=False).render(text, 40)
    assert colors_in(light) != colors_in(dark)
    assert DARK_CODE_THEME != LIGHT_CODE_THEME


def test_ordered_lists_keep_their_start_number() -> None:
    """Blocks are cut between list items; a list that starts at 3 must still show 3."""
    lines = MarkdownLines(THEME, dark=True).render("3. third\n4. fourth\n", 30)
    shown = text_of(lines)
    assert shown[0].lstrip().startswith("3") and shown[1].lstrip().startswith("4")


def test_tables_render_as_aligned_rows() -> None:
    text = "| Option | Latency |\n|---|---|\n| alpha | 10 ms |\n| beta | 200 ms |\n"
    shown = text_of(MarkdownLines(THEME, dark=True).render(text, 60))
    rows = [line for line in shown if "alpha" in line or "beta" in line]
    assert len(rows) == 2
    assert rows[0].index("10 ms") == rows[1].index("200 ms")


def test_renderers_are_shared_per_theme() -> None:
    assert renderer_for(THEME, dark=True) is renderer_for(dict(THEME), dark=True)
    assert renderer_for(THEME, dark=True) is not renderer_for(THEME, dark=False)
