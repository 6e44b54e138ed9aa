"""What `studio ask` and `studio models` print is sanitised (client-guide §6): hostile replies,
error messages, mid-stream error events, request ids, retry notices and model ids never reach
the terminal raw. ``--raw`` is the only way around, and prints the reply byte for byte."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from studio.commands.ask import _Output
from studio.emulator import EmulatorServer
from studio.emulator.hostile import HOSTILE_MODEL_ID, HOSTILE_TEXT, leaks
from studio.textsafe import clean, clean_line

SHOWN = "␛]52;c;SE9TVElMRS1DTElQQk9BUkQ=␇"
"""The hostile clipboard write as Studio shows it: visible, harmless."""


def studio(
    emulator: EmulatorServer, *args: str, faults: tuple[str, ...] = ()
) -> tuple[int, str, str]:
    """Run ``python -m studio ARGS`` against ``emulator`` with ``faults`` injected; the exit
    code, and stdout and stderr decoded exactly as written (no newline translation)."""
    for fault in faults:
        emulator.inject(fault, count=None)
    result = subprocess.run(
        [sys.executable, "-m", "studio", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        env={
            **os.environ,
            "ANYFAST_API_KEY": emulator.api_key,
            "ANYFAST_BASE_URL": emulator.base_url,
        },
    )
    emulator.clear_faults()
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@pytest.mark.parametrize("mode", [[], ["--no-stream"]])
def test_hostile_reply_is_sanitised(emulator: EmulatorServer, mode: list[str]) -> None:
    code, out, err = studio(emulator, "ask", *mode, "hi", faults=("hostile",))
    assert code == 0, err
    assert leaks(out) == [] and leaks(err) == []
    assert SHOWN in out and "HOSTILE-⟨U+202E⟩FDP-OLR⟨U+202C⟩" in out
    assert out == clean(HOSTILE_TEXT) + "\n"


def test_raw_prints_the_reply_byte_for_byte(emulator: EmulatorServer) -> None:
    code, out, err = studio(emulator, "ask", "--raw", "hi", faults=("hostile",))
    assert code == 0, err
    assert out == HOSTILE_TEXT + "\n"
    assert leaks(err) == []


@pytest.mark.parametrize("status", ["400", "500"])
def test_hostile_error_answer_is_sanitised(emulator: EmulatorServer, status: str) -> None:
    code, out, err = studio(emulator, "ask", "hi", faults=(f"{status}:hostile",))
    assert code == 1
    assert leaks(out) == [] and leaks(err) == []
    assert SHOWN in err
    lines = err.splitlines()
    assert all(line.startswith("studio: ") for line in lines)
    if status == "500":  # retried: every retry notice is sanitised too
        assert len(lines) == 3 and "retry 1 in" in lines[0]


def test_hostile_error_event_mid_stream_is_sanitised(emulator: EmulatorServer) -> None:
    code, out, err = studio(emulator, "ask", "hi", faults=("hostile", "error-event:2"))
    assert code == 1
    assert leaks(out) == [] and leaks(err) == []
    assert SHOWN in err and err.count("\n") == 1


def test_hostile_model_id_is_sanitised_in_the_table(emulator: EmulatorServer) -> None:
    code, out, err = studio(emulator, "models", faults=("hostile",))
    assert code == 0, err
    assert leaks(out) == [] and leaks(err) == []
    assert clean_line(HOSTILE_MODEL_ID) in out


def test_hostile_model_id_is_escaped_in_json(emulator: EmulatorServer) -> None:
    code, out, err = studio(emulator, "models", "--json", faults=("hostile",))
    assert code == 0, err
    assert leaks(out) == [] and clean(out) == out  # not one character that drives a terminal
    ids = [model["id"] for model in json.loads(out)]
    assert HOSTILE_MODEL_ID in ids  # escaped, not altered: it parses back to the same id
    assert "\\u202e" in out


@pytest.mark.parametrize(
    ("chunks", "shown"),
    [
        (["plain\ttext\nnext"], "plain\ttext\nnext\n"),
        (["title \x1b]0;pwned\x07 here"], "title ␛]0;pwned␇ here\n"),
        (["c1 \x9b31m red"], "c1 ⟨U+009B⟩31m red\n"),
        (["bidi \u202eevil\u202c"], "bidi ⟨U+202E⟩evil⟨U+202C⟩\n"),
        (["zero\u200bwidth"], "zerowidth\n"),
        (["cr\rover"], "cr␍over\n"),
        (["line\r", "\nnext"], "line\nnext\n"),  # a CRLF split between two chunks
        (["ends in cr\r"], "ends in cr␍\n"),
        (["lone \ud83d surrogate"], "lone \ufffd surrogate\n"),
    ],
)
def test_output_writer_sanitises_each_chunk(chunks: list[str], shown: str) -> None:
    stream = io.StringIO()
    out = _Output(stream, raw=False)
    for chunk in chunks:
        out.write(chunk)
    out.end()
    assert stream.getvalue() == shown


def test_output_writer_raw_is_untouched() -> None:
    stream = io.StringIO()
    out = _Output(stream, raw=True)
    for chunk in ("a\x1b]0;x\x07", "\r", "\n\u202e"):
        out.write(chunk)
    out.end()
    assert stream.getvalue() == "a\x1b]0;x\x07\r\n\u202e\n"
