"""The Kitty-graphics probe runs only in terminals that may answer it (it costs 0.1 s elsewhere)."""

from __future__ import annotations

import types
from typing import Any

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


def test_a_skipped_kitty_probe_answers_no_at_once_and_other_probes_pass_through() -> None:
    calls: list[str] = []

    def capture(start_marker: str, end_marker: str, timeout: float | None = None) -> Any:
        calls.append(start_marker)
        return "answered"

    terminal = types.SimpleNamespace(capture_terminal_response=capture)
    with previews._no_kitty_probe(terminal):
        with pytest.raises(TimeoutError):
            terminal.capture_terminal_response("\x1b_G", "\x1b\\", 0.1)
        assert terminal.capture_terminal_response("\x1b[?", "c", 0.1) == "answered"
    assert terminal.capture_terminal_response is capture
    assert calls == ["\x1b[?"]
