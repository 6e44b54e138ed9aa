"""The Kitty-graphics probe runs only in terminals that may answer it (it costs 0.1 s elsewhere)."""

from __future__ import annotations

import os
import struct
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- a video's declared length: a damaged file reads as "unknown", never as a crash ----------------

SAMPLE_MP4 = Path(previews.__file__).parents[1] / "emulator" / "data" / "sample.mp4"


def duration_of(data: bytes, folder: Path) -> float | None:
    path = folder / "clip.mp4"
    path.write_bytes(data)
    return previews.mp4_duration(str(path))


def test_a_whole_mp4_declares_its_length(tmp_path: Path) -> None:
    assert duration_of(SAMPLE_MP4.read_bytes(), tmp_path) == 2.0


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x10moov\x00\x00\x00\x08mvhd",  # mvhd ends right after its header
        b"\x00\x00\x00\x14moov\x00\x00\x00\x0cmvhd\x00",  # version, then nothing
        b"\x00\x00\x00\x10moov\x00\x00\x00\x01mvhd",  # a 64-bit size that is not there
        b"\x00\x00\x00\x00moov\x00\x00\x00\x00mvhd\x01",  # sizes to the end, then cut
        b"\x00\x00\x00",
        b"",
    ],
)
def test_a_truncated_mp4_has_no_length(data: bytes, tmp_path: Path) -> None:
    assert duration_of(data, tmp_path) is None


def test_the_sample_cut_anywhere_in_its_headers_has_no_length_or_its_own(tmp_path: Path) -> None:
    whole = SAMPLE_MP4.read_bytes()
    mvhd_end = whole.index(b"mvhd") + 120  # past the fields read
    for cut in range(mvhd_end):
        assert duration_of(whole[:cut], tmp_path) in (None, 2.0), cut


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.binary(max_size=120).map(lambda tail: b"\x00\x00\x00\x00moov" + tail),
        st.tuples(st.integers(0, 2**32 - 1), st.binary(max_size=60)).map(
            lambda t: b"\x00\x00\x00\x40moov" + struct.pack(">I", t[0]) + b"mvhd" + t[1]
        ),
    )
)
def test_random_bytes_never_raise(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        found = duration_of(data, Path(folder))
    assert found is None or found >= 0


# --- first frames: few ffmpeg at once, each file's frame made once ---------------------------------


def test_first_frames_run_at_most_the_limit_at_once_and_once_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "ffmpeg"  # notes how many copies run as it starts, takes a while, prints bytes
    fake.write_text(
        "#!/bin/sh\n"
        f"touch '{runs}'/running.$$\n"
        f"ls '{runs}' | grep -c running >> '{runs}/log'\n"
        "sleep 0.3\n"
        f"rm '{runs}'/running.$$\n"
        "printf frame\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    clips = [tmp_path / f"clip-{n}.mp4" for n in range(6)]
    for clip in clips:
        clip.write_bytes(b"video")
    frames = previews.FirstFrames(limit=2)
    threads = [threading.Thread(target=frames.get, args=(str(c),)) for c in clips * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [int(n) for n in (runs / "log").read_text().split()]
    assert len(started) == len(clips) and max(started) <= 2
    assert frames.get(str(clips[0])) == b"frame"
    clips[0].write_bytes(b"another video")  # changed: made again
    assert frames.get(str(clips[0])) == b"frame"
    assert len((runs / "log").read_text().split()) == len(clips) + 1
