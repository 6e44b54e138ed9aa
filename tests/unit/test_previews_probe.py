"""The Kitty-graphics probe runs only in terminals that may answer it (it costs 0.1 s elsewhere)."""

from __future__ import annotations

import pytest

from studio.tui import previews


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"TERM": "xterm-256color"}, False),
        ({"TERM": "screen-256color", "TMUX": "/tmp/tmux-0/default,1,0"}, False),
        ({}, False),
        ({"TERM": "xterm-kitty"}, True),
        ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "3"}, True),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, True),
        ({"TERM": "xterm-ghostty"}, True),
        ({"TERM": "xterm-256color", "WEZTERM_PANE": "0"}, True),
    ],
)
def test_which_terminals_get_the_kitty_probe(environ: dict[str, str], expected: bool) -> None:
    assert previews.may_speak_kitty_graphics(environ) is expected


def test_answers_kept_before_the_app_started_are_replayed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(previews, "_answers", {previews.DEVICE_ATTRIBUTES: "\x1b[?62;4;22c"})
    with previews._replayed(previews.DEVICE_ATTRIBUTES, "c", 0.1) as response:
        pass
    assert response.sequence == "\x1b[?62;4;22c"
    # Never asked (the Kitty probe): as if no answer came.
    with pytest.raises(TimeoutError), previews._replayed("\x1b_G", "\x1b\\", 0.1):
        pass


def test_textual_image_loads_with_the_first_preview_and_asks_the_terminal_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    from PIL import Image as PILImage

    asked: list[str] = []

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> int:
            asked.append(text)
            return len(text)

    terminal = Terminal()
    monkeypatch.setattr(sys, "__stdout__", terminal)
    monkeypatch.setattr(previews, "_available", True)
    monkeypatch.setattr(previews, "_loaded", False)
    monkeypatch.setattr(previews, "_answers", {previews.DEVICE_ATTRIBUTES: "\x1b[?62;22c"})
    for name in [m for m in sys.modules if m.startswith("textual_image.")]:
        if probes_when_imported(name):
            monkeypatch.delitem(sys.modules, name)
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    widget = previews.preview(buffer.getvalue())
    assert widget is not None and previews._loaded
    assert asked == []  # its queries went nowhere: the app owns the terminal by then
    assert sys.__stdout__ is terminal  # and the real one is back


def probes_when_imported(name: str) -> bool:
    """textual-image's modules that probe the terminal when imported."""
    return name in {"textual_image.renderable", "textual_image.widget"} or name.startswith(
        ("textual_image.renderable.", "textual_image.widget.")
    )
