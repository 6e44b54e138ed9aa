"""The one sanitiser for text shown on a terminal (client-guide §6)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.emulator.hostile import HOSTILE_LINE, HOSTILE_MODEL_ID, HOSTILE_TEXT, leaks
from studio.textsafe import clean, clean_line, is_clean

BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u061c"}


def unsafe(ch: str, *, one_line: bool) -> bool:
    """Whether ``ch`` may drive a terminal or hide text (what no output may contain)."""
    if ch in "\n\t":
        return one_line
    return (
        unicodedata.category(ch) == "Cc" or ch in BIDI or ch in ZERO_WIDTH or ch in "\u2028\u2029"
    )


@given(st.text())
def test_clean_leaves_nothing_that_drives_a_terminal(text: str) -> None:
    out = clean(text)
    assert not [ch for ch in out if unsafe(ch, one_line=False)]
    assert clean(out) == out  # idempotent: showing it twice changes nothing


@given(st.text())
def test_clean_line_is_one_harmless_line(text: str) -> None:
    out = clean_line(text)
    assert not [ch for ch in out if unsafe(ch, one_line=True)]
    assert clean_line(out) == out


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp", "Cs"))))
def test_ordinary_text_is_untouched(text: str) -> None:
    assert clean(text) == text
    assert clean_line(text) == text
    assert is_clean(text)


def test_clean_returns_the_same_object_when_there_is_nothing_to_do() -> None:
    text = "plain *Markdown*\n\twith a tab, ünïcödé and emoji 🎉"
    assert clean(text) is text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[2Jb", "a␛[2Jb"),
        ("\x1b]52;c;SGk=\x07", "␛]52;c;SGk=␇"),
        ("back\x08\x08", "back␈␈"),
        ("del\x7f", "del␡"),
        ("over\rwrite", "over␍write"),
        ("windows\r\nline", "windows\nline"),
        ("\x9b31m", "⟨U+009B⟩31m"),
        ("x\u202eevil\u202c", "x⟨U+202E⟩evil⟨U+202C⟩"),
        ("x\u2067iso\u2069", "x⟨U+2067⟩iso⟨U+2069⟩"),
        ("zero\u200bwidth\u200djoin\ufeff", "zerowidthjoin"),
        ("para\u2029graph", "para\ngraph"),
        ("keep\ttabs\nand newlines", "keep\ttabs\nand newlines"),
    ],
)
def test_each_kind_of_character_becomes_visible_or_goes(raw: str, shown: str) -> None:
    assert clean(raw) == shown


def test_tabs_can_be_expanded_where_the_layout_cannot_take_them() -> None:
    assert clean("a\tb", tabs=False) == "a    b"


def test_one_line_keeps_words_apart() -> None:
    assert clean_line("first\nsecond\tthird\r\nfourth") == "first second third fourth"
    assert clean_line("[WIP] \x1b]0;title\x07") == "[WIP] ␛]0;title␇"


@pytest.mark.parametrize("hostile", [HOSTILE_TEXT, HOSTILE_LINE, HOSTILE_MODEL_ID])
def test_the_hostile_fixture_is_harmless_once_cleaned(hostile: str) -> None:
    assert leaks(hostile)  # the fixture really is hostile
    assert leaks(clean(hostile)) == []
    assert leaks(clean_line(hostile)) == []
    assert "␛]52;c;" in clean(hostile)
