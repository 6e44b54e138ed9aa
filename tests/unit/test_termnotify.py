"""Terminal notifications: the sequence for each terminal family, tmux and screen, sanitising."""

from __future__ import annotations

import pytest

from studio.termnotify import BELL, notification_sequence, terminal_family

OSC9 = "\x1b]9;Job done: video saved\x07"
OSC777 = "\x1b]777;notify;Job done;video saved\x07"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM_PROGRAM": "iTerm.app"}, OSC9),
        ({"LC_TERMINAL": "iTerm2", "TERM": "xterm-256color"}, OSC9),
        ({"TERM_PROGRAM": "WezTerm"}, OSC9),
        ({"WEZTERM_PANE": "3", "TERM": "xterm-256color"}, OSC9),
        ({"TERM_PROGRAM": "ghostty"}, OSC9),
        ({"TERM": "xterm-ghostty"}, OSC9),
        ({"KITTY_WINDOW_ID": "1", "TERM": "xterm-kitty"}, OSC9),
        ({"TERM": "xterm-kitty"}, OSC9),
        ({"WT_SESSION": "8a1f", "TERM": "xterm-256color"}, OSC9),
        ({"TERM": "foot"}, OSC777),
        ({"TERM": "foot-extra"}, OSC777),
        ({"TERM": "rxvt-unicode-256color"}, OSC777),
        ({"VTE_VERSION": "7600", "TERM": "xterm-256color"}, OSC777),
        ({"TERM_PROGRAM": "Apple_Terminal", "TERM": "xterm-256color"}, ""),
        ({"TERM_PROGRAM": "vscode", "TERM": "xterm-256color"}, ""),
        ({"TERM": "xterm-256color"}, ""),
        ({"TERM": "linux"}, ""),
        ({}, ""),
    ],
)
def test_each_terminal_family_gets_its_sequence(env: dict[str, str], expected: str) -> None:
    assert notification_sequence("Job done", "video saved", env=env) == expected


def test_tmux_passthrough_doubles_every_escape() -> None:
    env = {"TMUX": "/tmp/tmux-1000/default,123,0", "TERM_PROGRAM": "tmux", "KITTY_WINDOW_ID": "2"}
    sequence = notification_sequence("Job done", "video saved", env=env)
    assert sequence == "\x1bPtmux;\x1b\x1b]9;Job done: video saved\x07\x1b\\"


def test_tmux_without_a_known_terminal_sends_nothing() -> None:
    env = {"TMUX": "/tmp/tmux-1000/default,123,0", "TERM_PROGRAM": "tmux", "TERM": "tmux"}
    assert notification_sequence("Job done", "video saved", env=env) == ""


def test_screen_wraps_in_its_dcs() -> None:
    env = {"STY": "123.pts-0.host", "VTE_VERSION": "7600", "TERM": "screen"}
    sequence = notification_sequence("Job done", "video saved", env=env)
    assert sequence == "\x1bP\x1b]777;notify;Job done;video saved\x07\x1b\\"


def test_mode_forces_a_family_or_turns_it_off() -> None:
    plain = {"TERM": "xterm-256color"}
    kitty = {"TERM": "xterm-kitty"}
    assert notification_sequence("Job done", "video saved", env=plain, mode="osc9") == OSC9
    assert notification_sequence("Job done", "video saved", env=kitty, mode="osc777") == OSC777
    assert notification_sequence("Job done", "video saved", env=kitty, mode="off") == ""


def test_untrusted_text_cannot_end_or_inject_a_sequence() -> None:
    hostile = "done\x07\x1b]52;c;cGF3bmVk\x07\x9c\u202eevil\nnext"
    for env in ({"TERM": "foot"}, {"TERM": "xterm-kitty"}, {"TMUX": "x", "TERM": "foot"}):
        sequence = notification_sequence("a;b\x1b[2J", hostile, env=env)
        # Only the sequence's own controls remain: its start, end and (in tmux) the wrapping.
        inner = sequence.removeprefix("\x1bPtmux;").removesuffix("\x1b\\")
        inner = inner.replace("\x1b\x1b", "\x1b")
        assert inner.count("\x1b") == 1 and inner.count(BELL) == 1 and inner.endswith(BELL)
        assert "\x9c" not in inner and "\u202e" not in inner and "\n" not in inner
    osc777 = notification_sequence("a;b", "c;d", env={"TERM": "foot"})
    assert osc777 == "\x1b]777;notify;a,b;c,d\x07"


def test_text_is_length_capped_and_never_starts_an_osc9_subcommand() -> None:
    sequence = notification_sequence("t" * 500, "b" * 5000, env={"TERM": "foot"})
    _, _, title, body = sequence.rstrip(BELL).split(";")
    assert len(title) <= 80 and title.endswith("…")
    assert len(body) <= 240 and body.endswith("…")
    osc9 = notification_sequence("4", "progress?", env={"TERM": "xterm-kitty"})
    assert not osc9.removeprefix("\x1b]9;")[:1].isdigit()


def test_family_table() -> None:
    assert terminal_family({"TERM_PROGRAM": "iTerm.app"}) == "osc9"
    assert terminal_family({"VTE_VERSION": "6003"}) == "osc777"
    assert terminal_family({"TERM": "dumb"}) is None
