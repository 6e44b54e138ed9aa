"""Markdown rendered to screen lines in the theme's colours (``studio/tui/markdown_lines.py``)."""

from __future__ import annotations

from rich.color import Color as RichColor
from rich.segment import Segment
from textual.strip import Strip

from studio.tui.markdown_lines import (
    DARK_CODE_THEME,
    LIGHT_CODE_THEME,
    BlockLayout,
    MarkdownLines,
    estimate_height,
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


# -- BlockLayout ------------------------------------------------------------------------------------

BLOCKS = [
    "## One\n\n" + "Some prose that goes on for a while, long enough to wrap. " * 4 + "\n\n",
    "```python\ndef f(x):\n    return x\n```\n\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
    "- a list\n- of items\n",
]


def laid_out(width: int = 40) -> BlockLayout:
    layout = BlockLayout(list(BLOCKS))
    layout.reset(MarkdownLines(THEME, dark=True), width)
    return layout


def test_estimates_are_close_to_rendered_heights() -> None:
    renderer = MarkdownLines(THEME, dark=True)
    for width in (30, 60, 100):
        for block in BLOCKS:
            rendered = len(renderer.render(block, width))
            assert abs(estimate_height(block, width) - rendered) <= max(2, rendered // 4)
    assert estimate_height("", 40) == 0 and estimate_height("text", 0) == 0


def test_blocks_render_only_when_asked_and_place_themselves() -> None:
    layout = laid_out()
    assert layout.lines == [None] * len(BLOCKS)  # nothing rendered yet: heights are guesses
    guessed = layout.height
    for index in range(len(BLOCKS)):
        layout.render(index)
    assert not layout.unrendered
    assert layout.height == sum(layout.heights) + len(BLOCKS) - 1  # a blank line between
    assert abs(layout.height - guessed) <= 6
    # Every line maps to its block and row; the blank lines between blocks map past the rows.
    for index, offset in enumerate(layout.offsets):
        assert layout.locate(offset) == (index, 0)
        assert layout.locate(offset + layout.heights[index] - 1) == (
            index,
            layout.heights[index] - 1,
        )
    assert layout.text_lines()[layout.offsets[1] - 1] == ""


def test_fill_renders_from_the_last_block_within_its_budget() -> None:
    layout = laid_out()
    layout.fill(0.0)  # the budget is spent after the first block
    assert layout.lines[-1] is not None and layout.lines[0] is None
    layout.fill(10.0)
    assert not layout.unrendered


def test_a_new_width_renders_again_lazily_and_a_theme_keeps_the_heights() -> None:
    layout = laid_out(40)
    layout.fill(10.0)
    heights = list(layout.heights)
    layout.reset(MarkdownLines(THEME, dark=False), 40)  # same width, new theme
    assert layout.unrendered and layout.heights == heights  # no jump before it renders
    layout.reset(layout.renderer, 80)
    assert layout.unrendered and layout.heights == [estimate_height(b, 80) for b in BLOCKS]


def test_a_block_that_grows_keeps_its_height_until_rendered() -> None:
    layout = laid_out()
    layout.fill(10.0)
    before = layout.heights[-1]
    layout.blocks[-1] += "- and one more\n- and another\n"
    layout.changed(len(BLOCKS) - 1)
    assert layout.heights[-1] == before and layout.lines[-1] is None
    assert layout.render(len(BLOCKS) - 1) and layout.heights[-1] == before + 2
    layout.extend(["A new paragraph.\n"])
    assert layout.lines[-1] is None and layout.heights[-1] == 1
