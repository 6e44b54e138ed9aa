"""Clipboard: escape sequences byte for byte, the copy plan per mode and environment, copy_text
never raising and telling the truth, save-to-file, and the last code block of a reply."""

from __future__ import annotations

import base64
import stat
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pyperclip
import pytest

from studio import clipboard
from studio.clipboard import (
    OSC52_LIMIT,
    CopyPlan,
    copy_text,
    has_local_display,
    last_code_block,
    osc52_sequence,
    plan_copy,
    save_text,
    screen_wrap,
    tmux_wrap,
)

ESC = "\x1b"
BEL = "\x07"
SSH = {"SSH_CONNECTION": "10.0.0.1 51000 10.0.0.2 22"}


# Sequences ---------------------------------------------------------------------------------------


def test_osc52_sequence_is_byte_exact() -> None:
    assert osc52_sequence("hello") == "\x1b]52;c;aGVsbG8=\x07"


def test_osc52_sequence_encodes_utf8() -> None:
    text = "héllo — 世界 🙂"
    sequence = osc52_sequence(text)
    assert sequence.startswith("\x1b]52;c;") and sequence.endswith("\x07")
    assert base64.b64decode(sequence[7:-1]).decode("utf-8") == text


def test_osc52_sequence_of_a_lone_surrogate_does_not_raise() -> None:
    assert osc52_sequence("a\ud800b").startswith("\x1b]52;c;")


def test_tmux_wrap_doubles_every_escape() -> None:
    assert tmux_wrap("\x1b]52;c;aGk=\x07") == "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
    assert tmux_wrap("a\x1bb\x1bc") == "\x1bPtmux;a\x1b\x1bb\x1b\x1bc\x1b\\"


def test_screen_wrap_of_a_short_sequence_is_one_dcs_string() -> None:
    assert screen_wrap("\x1b]52;c;aGk=\x07") == "\x1bP\x1b]52;c;aGk=\x07\x1b\\"


def test_screen_wrap_splits_long_sequences_into_chunks_under_the_limit() -> None:
    sequence = osc52_sequence("x" * 3000)
    wrapped = screen_wrap(sequence)
    pieces = wrapped.split("\x1b\\")
    assert pieces[-1] == ""
    pieces = pieces[:-1]
    assert len(pieces) == -(-len(sequence) // 764)
    assert all(piece.startswith("\x1bP") for piece in pieces)
    assert all(len((piece + "\x1b\\").encode()) <= 768 for piece in pieces)
    assert "".join(piece[2:] for piece in pieces) == sequence


def test_screen_wrap_with_a_small_limit_is_exact() -> None:
    assert screen_wrap("abcdefgh", limit=7) == "\x1bPabc\x1b\\\x1bPdef\x1b\\\x1bPgh\x1b\\"


def test_screen_wrap_never_splits_a_character() -> None:
    wrapped = screen_wrap("ééé", limit=8)  # room for 4 bytes: two 2-byte characters
    assert wrapped == "\x1bPéé\x1b\\\x1bPé\x1b\\"


def test_screen_wrap_rejects_a_limit_without_room() -> None:
    with pytest.raises(ValueError, match="no room"):
        screen_wrap("abc", limit=4)


# Local display -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"DISPLAY": "  "}, "linux", False),
        ({"DISPLAY": "localhost:10.0", **SSH}, "linux", False),
        ({"DISPLAY": ":0", "SSH_TTY": "/dev/pts/3"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0", "SSH_CLIENT": "10.0.0.1 51000 22"}, "linux", False),
        ({}, "darwin", True),
        (SSH, "darwin", False),
        ({}, "win32", True),
        (SSH, "win32", False),
        ({"DISPLAY": ":0"}, "freebsd14", True),
    ],
)
def test_has_local_display(env: dict[str, str], platform: str, expected: bool) -> None:
    assert has_local_display(env, platform) is expected


# Plans -------------------------------------------------------------------------------------------

PLAIN = osc52_sequence("hi")


@pytest.mark.parametrize(
    ("mode", "env", "display", "methods", "native"),
    [
        ("auto", {}, False, ("osc52",), False),
        ("auto", {}, True, ("osc52",), True),
        ("auto", {"TMUX": "/tmp/tmux-1000/default,1,0"}, False, ("osc52", "tmux"), False),
        ("auto", {"STY": "1234.pts-0.host"}, True, ("osc52", "screen"), True),
        ("auto", {"TMUX": "x", "STY": "y"}, False, ("osc52", "tmux", "screen"), False),
        ("auto", {"TMUX": "", "STY": ""}, False, ("osc52",), False),
        ("osc52", {}, True, ("osc52",), False),
        ("osc52", {"TMUX": "x"}, True, ("osc52", "tmux"), False),
        ("native", {"TMUX": "x", "STY": "y"}, True, (), True),
        ("native", {}, False, (), True),
        ("off", {"TMUX": "x", "STY": "y"}, True, (), False),
        ("bogus", {}, True, ("osc52",), True),
    ],
)
def test_plan_per_mode_and_environment(
    mode: str, env: dict[str, str], display: bool, methods: tuple[str, ...], native: bool
) -> None:
    plan = plan_copy("hi", mode=mode, env=env, has_display=display)
    assert plan.methods == methods
    assert plan.native is native
    assert len(plan.sequences) == len(methods)
    expected = {"osc52": PLAIN, "tmux": tmux_wrap(PLAIN), "screen": screen_wrap(PLAIN)}
    assert plan.sequences == tuple(expected[m] for m in methods)
    assert plan.too_long is False


def test_plan_over_ssh_in_tmux_on_a_remote_desktop() -> None:
    env = {**SSH, "TMUX": "x", "DISPLAY": "localhost:10.0"}
    plan = plan_copy("hi", mode="auto", env=env, has_display=has_local_display(env, "linux"))
    assert plan.methods == ("osc52", "tmux")
    assert plan.native is False


def test_plan_on_macos_uses_both() -> None:
    plan = plan_copy("hi", mode="auto", env={}, has_display=has_local_display({}, "darwin"))
    assert plan.methods == ("osc52",)
    assert plan.native is True


def test_plan_flags_payloads_over_the_terminal_limit() -> None:
    fits = "a" * (OSC52_LIMIT // 4 * 3)  # exactly OSC52_LIMIT base64 bytes
    plan = plan_copy(fits, mode="osc52", env={}, has_display=False)
    assert plan.payload_bytes == OSC52_LIMIT
    assert plan.too_long is False
    plan = plan_copy(fits + "abc", mode="osc52", env={}, has_display=False)
    assert plan.too_long is True
    assert plan_copy(fits + "abc", mode="native", env={}, has_display=True).too_long is False


# copy_text ---------------------------------------------------------------------------------------


class Terminal:
    """A fake terminal that collects what is written to it."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, sequence: str) -> None:
        self.written.append(sequence)


@pytest.fixture
def terminal() -> Terminal:
    return Terminal()


@pytest.fixture
def native_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """pyperclip.copy succeeding (recording what it got)."""
    copies: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copies.append)
    return copies


@pytest.fixture
def native_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyperclip.copy failing as it does without a clipboard mechanism."""

    def copy(text: str) -> None:
        raise pyperclip.PyperclipException("could not find a copy/paste mechanism for your system")

    monkeypatch.setattr(pyperclip, "copy", copy)


TEXT = "x" * 1234


async def test_osc52_mode_sends_the_sequence_only(
    terminal: Terminal, native_copies: list[str]
) -> None:
    result = await copy_text(TEXT, mode="osc52", write=terminal.write, env={"DISPLAY": ":0"})
    assert terminal.written == [osc52_sequence(TEXT)]
    assert native_copies == []
    assert result.methods_used == ("osc52",)
    assert result.native_ok is None
    assert result.chars == 1234
    assert result.message == "Sent 1,234 characters to the terminal clipboard (OSC 52)"
    assert result.ok


async def test_tmux_and_screen_forms_are_written_after_the_plain_one(
    terminal: Terminal, native_copies: list[str]
) -> None:
    env = {"TMUX": "x", "STY": "y", **SSH}
    result = await copy_text("hi", mode="auto", write=terminal.write, env=env)
    assert terminal.written == [PLAIN, tmux_wrap(PLAIN), screen_wrap(PLAIN)]
    assert result.methods_used == ("osc52", "tmux", "screen")
    assert native_copies == []
    assert result.message == "Sent 2 characters to the terminal clipboard (OSC 52, tmux, screen)"


async def test_auto_with_a_display_uses_both(terminal: Terminal, native_copies: list[str]) -> None:
    result = await copy_text(TEXT, mode="auto", write=terminal.write, env={"DISPLAY": ":0"})
    assert terminal.written == [osc52_sequence(TEXT)]
    assert native_copies == [TEXT]
    assert result.native_ok is True
    assert result.message == "Copied 1,234 characters to the clipboard"


async def test_auto_reports_a_failing_native_clipboard_honestly(
    terminal: Terminal, native_broken: None
) -> None:
    result = await copy_text(TEXT, mode="auto", write=terminal.write, env={"DISPLAY": ":0"})
    assert terminal.written == [osc52_sequence(TEXT)]
    assert result.native_ok is False
    assert result.message == (
        "Sent 1,234 characters to the terminal clipboard (OSC 52) — the local clipboard failed: "
        "could not find a copy/paste mechanism for your system"
    )
    assert result.ok


async def test_any_native_exception_is_caught(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def copy(text: str) -> None:
        raise FileNotFoundError(2, "No such file or directory", "xclip")

    monkeypatch.setattr(pyperclip, "copy", copy)
    result = await copy_text("hi", mode="auto", write=terminal.write, env={"DISPLAY": ":0"})
    assert result.native_ok is False
    assert "the local clipboard failed: [Errno 2] No such file or directory" in result.message


async def test_native_copy_runs_off_the_event_loop(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    monkeypatch.setattr(pyperclip, "copy", lambda text: threads.append(threading.current_thread()))
    await copy_text("hi", mode="native", write=terminal.write, env={"DISPLAY": ":0"})
    assert threads and threads[0] is not threading.main_thread()


async def test_a_hanging_native_clipboard_times_out(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    monkeypatch.setattr(pyperclip, "copy", lambda text: release.wait(5))
    try:
        result = await copy_text(
            "hi", mode="auto", write=terminal.write, env={"DISPLAY": ":0"}, native_timeout=0.05
        )
    finally:
        release.set()
    assert result.native_ok is False
    assert result.methods_used == ("osc52",)
    assert result.message.endswith("the local clipboard failed: it did not answer")


async def test_native_mode_succeeding(terminal: Terminal, native_copies: list[str]) -> None:
    result = await copy_text("hi", mode="native", write=terminal.write, env={}, platform="darwin")
    assert terminal.written == []
    assert native_copies == ["hi"]
    assert result.methods_used == ()
    assert result.message == "Copied 2 characters to the clipboard"


async def test_native_mode_over_ssh_says_there_is_no_local_clipboard(
    terminal: Terminal, native_broken: None
) -> None:
    result = await copy_text("hi", mode="native", write=terminal.write, env=SSH, platform="linux")
    assert terminal.written == []
    assert result.native_ok is False
    assert result.message == "No local clipboard here (over SSH?) — set clipboard = osc52"
    assert not result.ok


async def test_native_mode_failing_with_a_display(terminal: Terminal, native_broken: None) -> None:
    result = await copy_text("hi", mode="native", write=terminal.write, env={"DISPLAY": ":0"})
    assert result.message.startswith("The local clipboard failed: could not find")
    assert result.message.endswith("set clipboard = osc52")


async def test_off_mode_does_nothing(terminal: Terminal, native_copies: list[str]) -> None:
    result = await copy_text("hi", mode="off", write=terminal.write, env={"DISPLAY": ":0"})
    assert terminal.written == []
    assert native_copies == []
    assert result.message == "Clipboard is off (set clipboard = osc52 in the config)"
    assert not result.ok


async def test_a_failing_terminal_write_is_reported(native_broken: None) -> None:
    def write(sequence: str) -> None:
        raise OSError("Broken pipe")

    result = await copy_text("hi", mode="osc52", write=write, env={})
    assert result.methods_used == ()
    assert result.message == "Nothing was copied: could not write to the terminal (Broken pipe)"
    result = await copy_text("hi", mode="auto", write=write, env={"DISPLAY": ":0"})
    assert result.message.startswith("Nothing was copied: the terminal write failed (Broken pipe)")


async def test_only_the_forms_written_are_claimed(terminal: Terminal) -> None:
    def write(sequence: str) -> None:
        if sequence.startswith("\x1bPtmux"):
            raise ValueError("nope")
        terminal.write(sequence)

    result = await copy_text("hi", mode="osc52", write=write, env={"TMUX": "x"})
    assert result.methods_used == ("osc52",)
    assert result.message == "Sent 2 characters to the terminal clipboard (OSC 52)"


async def test_singular_and_empty(terminal: Terminal) -> None:
    result = await copy_text("a", mode="osc52", write=terminal.write, env={})
    assert result.message == "Sent 1 character to the terminal clipboard (OSC 52)"
    result = await copy_text("", mode="auto", write=terminal.write, env={})
    assert result.message == "Nothing to copy"
    assert result.chars == 0


async def test_a_long_text_is_sent_with_a_warning(terminal: Terminal) -> None:
    text = "y" * 200_000
    result = await copy_text(text, mode="osc52", write=terminal.write, env={})
    assert result.too_long is True
    assert result.message == (
        "Sent 200,000 characters to the terminal clipboard (OSC 52) — it may be too long for the "
        "terminal; save it to a file instead"
    )
    assert terminal.written == [osc52_sequence(text)]


async def test_a_long_text_on_the_native_clipboard_needs_no_warning(
    terminal: Terminal, native_copies: list[str]
) -> None:
    result = await copy_text(
        "y" * 200_000, mode="auto", write=terminal.write, env={}, platform="win32"
    )
    assert result.too_long is False
    assert result.message == "Copied 200,000 characters to the clipboard"


async def test_copy_text_never_raises_even_when_planning_fails(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> CopyPlan:
        raise RuntimeError("boom")

    monkeypatch.setattr(clipboard, "plan_copy", broken)
    result = await copy_text("hi", mode="auto", write=terminal.write, env={})
    assert result.message == "Copy failed: boom"
    assert not result.ok


# save_text ---------------------------------------------------------------------------------------

NOW = datetime(2025, 3, 4, 5, 6, 7)


def test_save_text_writes_an_owner_only_file(tmp_path: Path) -> None:
    path = save_text("# Title\n\nbody — ü\n", tmp_path / "exports" / "new", "reply", now=NOW)
    assert path == tmp_path / "exports" / "new" / "reply-20250304-050607.md"
    assert path.read_text(encoding="utf-8") == "# Title\n\nbody — ü\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_save_text_never_overwrites(tmp_path: Path) -> None:
    first = save_text("one", tmp_path, "reply", now=NOW)
    second = save_text("two", tmp_path, "reply", now=NOW)
    third = save_text("three", tmp_path, "reply", now=NOW)
    assert [first.name, second.name, third.name] == [
        "reply-20250304-050607.md",
        "reply-20250304-050607-2.md",
        "reply-20250304-050607-3.md",
    ]
    assert first.read_text() == "one"


def test_save_text_sanitises_the_stem(tmp_path: Path) -> None:
    path = save_text("x", tmp_path, "../../etc/pass wd", now=NOW)
    assert path.parent == tmp_path
    assert path.name == "etc-pass-wd-20250304-050607.md"
    assert save_text("x", tmp_path, "///", now=NOW).name == "clipboard-20250304-050607.md"


def test_save_text_ignores_a_permissive_umask(tmp_path: Path) -> None:
    code = (
        "import os, stat, sys\nfrom studio.clipboard import save_text\nos.umask(0)\n"
        "p = save_text('x', sys.argv[1], 'r')\nprint(oct(stat.S_IMODE(p.stat().st_mode)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0o600"


# last_code_block ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("no code here", None),
        ("", None),
        ("inline ```code``` only", None),
        ("```code``` at the start of a line", None),
        ("```\nplain\n```", "plain"),
        ("```python\nprint(1)\n```\n\ntext\n\n~~~js\nconsole.log(2)\n~~~\n", "console.log(2)"),
        ('```py title="a b"\nx = 1\n\ny = 2\n```', "x = 1\n\ny = 2"),
        ("```\n```", ""),
        ("```sh\nunterminated\nstill code", "unterminated\nstill code"),
        ("```a\none\n```\n```b\ntwo", "two"),
        ("````md\n```py\ninner\n```\n````", "```py\ninner\n```"),
        ("~~~\n```\nnot a fence end\n~~~", "```\nnot a fence end"),
        ("```\n~~~\n```", "~~~"),
        ("```\ncode\n```` \nafter", "code"),
        ("````\ncode\n```\nstill\n````", "code\n```\nstill"),
        ("```\na\n``` not closing\n```", "a\n``` not closing"),
        ("1. step\n   ```bash\n   ls -l\n     indented\n   ```\n", "ls -l\n  indented"),
        ("```\r\nwindows\r\n```\r\n", "windows"),
        ("text\n```\nfirst\n```\nmore text ``` inline\n", "first"),
    ],
)
def test_last_code_block(markdown: str, expected: str | None) -> None:
    assert last_code_block(markdown) == expected


def test_import_does_not_pull_in_textual_or_pyperclip() -> None:
    code = "import sys, studio.clipboard\nprint(sorted(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "'textual'" not in out.stdout
    assert "'pyperclip'" not in out.stdout
