"""Replies drawn in a theme's colours: the code block background and Pygments style a theme
sets, and 16-colour themes (whose colours are the terminal's own) drawn without error."""

from __future__ import annotations

import dataclasses

from textual.app import App
from textual.theme import BUILTIN_THEMES

from studio.store import Store
from studio.store.job_records import Job, JobKind, JobProvider, JobState
from studio.themefiles import load_catalog
from studio.tui.job_styles import job_label
from studio.tui.markdown_lines import MarkdownLines
from studio.tui.themes import job_colours, textual_theme, with_roles

CODE = "# Title\n\n```python\ndef f(x):\n    return x\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"


def variables_of(name: str) -> dict[str, str]:
    specs = load_catalog().themes
    theme = textual_theme(specs[name]) if name in specs else BUILTIN_THEMES[name]
    system = theme.to_color_system().generate()
    return with_roles({**system, **theme.variables}, dark=theme.dark)


def backgrounds(lines: list) -> set[str]:  # type: ignore[type-arg]
    return {
        segment.style.bgcolor.name
        for line in lines
        for segment in line
        if segment.style is not None and segment.style.bgcolor is not None
    }


def test_code_blocks_take_the_themes_background_under_every_token() -> None:
    lines = MarkdownLines(variables_of("ember"), dark=True).render(CODE, 50)
    code = [line for line in lines if "def f" in line.text or "return x" in line.text]
    assert backgrounds(code) == {"#17110e"}  # ember's code-background, not gruvbox's own


def test_sixteen_colour_themes_render_in_the_terminals_own_colours() -> None:
    for name in ("ansi-16", "ansi-dark", "ansi-light"):
        lines = MarkdownLines(variables_of(name), dark=True).render(CODE, 50)
        shown = "\n".join(line.text for line in lines)
        assert "Title" in shown and "return x" in shown, name
    # Studio's 16-colour theme keeps code on the terminal's own background too.
    lines = MarkdownLines(variables_of("ansi-16"), dark=True).render(CODE, 50)
    assert all(not colour.startswith("#") for colour in backgrounds(lines))


def make_job(state: JobState) -> Job:
    with Store.open(":memory:") as store:
        job = store.create_job(
            kind=JobKind.IMAGE,
            provider=JobProvider.SEEDREAM,
            action="generate",
            model="doubao-seedream-4-5-251128",
            prompt="a fox in the snow",
            params={},
            idempotency_key="k-1",
        )
        return dataclasses.replace(job, state=state, progress=40)


def test_job_states_take_the_themes_job_colours_and_textuals_themes_keep_theirs() -> None:
    app: App[None] = App()
    for spec in load_catalog().themes.values():
        app.register_theme(textual_theme(spec))
    app.theme = "ember"
    colours = job_colours(app)
    assert {word: colour.lower() for word, colour in colours.items()} == {
        "cyan": "#f2c35b",
        "green": "#9fbf5a",
        "red": "#e0584a",
        "yellow": "#d79a3e",
    }
    label = job_label(make_job(JobState.RUNNING), 0.0, colours=colours)
    assert "bold #f2c35b" in {str(span.style).lower() for span in label.spans}
    app.theme = "ansi-16"
    assert job_colours(app)["red"] == "color(1)"  # the terminal's own red
    app.theme = "textual-dark"
    assert job_colours(app) == {}
    assert "bold cyan" in {
        str(span.style) for span in job_label(make_job(JobState.RUNNING), 0).spans
    }
