"""Where a streamed reply is cut into blocks: ``fence_state``, ``split_point``, ``split_blocks``.

The rules (``studio/tui/widgets/streaming.py``): a new block starts just after a blank line that
is outside any code fence, once the block holds at least ``size`` characters, and only before a
line that is already known and not indented. Splitting must never change the text, and feeding
the same text in any chunks must cut it in the same places as splitting it whole.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from studio.tui.widgets.streaming import fence_state, split_blocks, split_point

PARAGRAPH = "Some words in a paragraph that runs on for a while.\n\n"


# -- a plain reference: the earliest allowed cut, judged on the whole text ------------------------


def _blank_line_ends_at(text: str, cut: int) -> bool:
    """Whether ``text[:cut]`` ends with a blank (empty or whitespace-only) line."""
    if cut < 1 or text[cut - 1] != "\n":
        return False
    line_start = text.rfind("\n", 0, cut - 1) + 1
    return not text[line_start : cut - 1].strip()


def _allowed(text: str, start: int, cut: int, size: int) -> bool:
    return (
        cut - start >= size
        and cut < len(text)
        and text[cut] not in " \t\n"
        and _blank_line_ends_at(text, cut)
        and fence_state(text[start:cut]) is None
    )


def reference_blocks(text: str, size: int) -> list[str]:
    """Cut greedily at the first allowed place, checking every position from scratch."""
    blocks, start = [], 0
    for cut in range(1, len(text)):
        if _allowed(text, start, cut, size):
            blocks.append(text[start:cut])
            start = cut
    blocks.append(text[start:])
    return blocks


def streamed_blocks(chunks: list[str], size: int) -> list[str]:
    """Blocks as ``StreamingMarkdown`` builds them when ``chunks`` arrive one flush at a time."""
    blocks = [""]
    for pending in chunks:
        cut = split_point(blocks[-1], pending, size)
        if cut is None:
            blocks[-1] += pending
            continue
        blocks[-1] += pending[:cut]
        blocks.extend(split_blocks(pending[cut:], size))
    return blocks


# -- fence_state --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "before", "after"),
    [
        ("plain text\n\nmore\n", None, None),
        ("```python\ncode\n", None, "```"),
        ("```python\ncode\n```\n", None, None),
        ("~~~\ncode\n", None, "~~~"),
        ("````\n```\nstill code\n", None, "````"),  # a shorter fence does not close it
        ("````\ncode\n`````\n", None, None),  # a longer one does
        ("~~~\n```\n", None, "~~~"),  # nor does the other character
        ("```\n```not a close\n", None, "```"),  # a closing fence has no info string
        ("   ```\ncode\n", None, "```"),  # up to three spaces of indent
        ("    ```\n", None, None),  # four spaces: indented code, not a fence
        ("code\n```\n", "```", None),  # the fence open before the text closes in it
        ("more code\n", "```", "```"),
    ],
)
def test_fence_state(text: str, before: str | None, after: str | None) -> None:
    assert fence_state(text, before) == after


# -- split_point ----------------------------------------------------------------------------------


def test_no_split_before_the_block_is_large_enough() -> None:
    block = PARAGRAPH * 2
    assert split_point(block, PARAGRAPH, size=len(block) + len(PARAGRAPH) + 1) is None
    assert split_point(block, PARAGRAPH + "Next", size=len(block) + len(PARAGRAPH)) == len(
        PARAGRAPH
    )


def test_split_after_the_first_blank_line_once_large_enough() -> None:
    block = "x" * 50 + "\n"
    assert split_point(block, "\nnext paragraph\n\nthird", size=10) == 1


def test_split_waits_for_the_next_line() -> None:
    """After a blank line the next line may be indented (a list item goes on), so wait for it."""
    assert split_point("x" * 50 + "\n", "\n", size=10) is None
    assert split_point("x" * 50 + "\n\n", "Next", size=10) == 0


def test_no_split_before_an_indented_or_blank_line() -> None:
    block = "- a list item\n"
    assert split_point(block, "\n    still the item\n", size=1) is None
    assert split_point(block, "\n\tstill the item\n", size=1) is None
    assert split_point(block, "\n\n\nNew paragraph", size=1) == 3


def test_no_split_inside_a_code_fence() -> None:
    block = "```python\n" + "x = 1\n" * 20
    assert split_point(block, "\ny = 2\n\nz = 3\n", size=1) is None
    assert split_point(block, "```\n\nAfter the code", size=1) == 5


def test_a_fence_opened_in_the_pending_text_counts() -> None:
    assert split_point("Intro\n", "```\ncode\n\nmore code\n", size=1) is None


def test_a_line_cut_between_block_and_pending_is_read_whole() -> None:
    # "``" ends the block and "`" starts the pending text: together they open a fence.
    assert split_point("Intro\n``", "`\ncode\n\nmore code\n", size=1) is None
    # A blank line whose spaces straddle the two is still blank.
    assert split_point("Intro\n  ", " \nNext", size=1) == 2


# -- split_blocks ---------------------------------------------------------------------------------


def test_short_text_is_one_block() -> None:
    assert split_blocks("", size=100) == [""]
    assert split_blocks(PARAGRAPH * 3, size=1000) == [PARAGRAPH * 3]


def test_paragraphs_are_grouped_up_to_size() -> None:
    text = PARAGRAPH * 10
    blocks = split_blocks(text, size=3 * len(PARAGRAPH))
    assert blocks == [PARAGRAPH * 3, PARAGRAPH * 3, PARAGRAPH * 3, PARAGRAPH]


def test_a_long_code_block_stays_whole() -> None:
    code = "```\n" + "line\n\n" * 200 + "```\n"
    text = PARAGRAPH + code + "\n" + PARAGRAPH
    blocks = split_blocks(text, size=len(PARAGRAPH))
    assert blocks == [PARAGRAPH, code + "\n", PARAGRAPH]


# -- properties -----------------------------------------------------------------------------------

LINES = st.sampled_from(
    [
        "",
        "",
        "   ",
        "A paragraph line.",
        "# A heading",
        "- a list item",
        "  continued item",
        "    indented code",
        "\tindented with a tab",
        "1. numbered",
        "| a | b |",
        "> a quote",
        "```",
        "```python",
        "~~~",
        "````",
        "   ```",
        "    ```",
        "x = 1",
    ]
)
TEXTS = st.lists(LINES, max_size=60).map("\n".join) | st.text(
    alphabet=st.sampled_from(["\n", " ", "\t", "`", "~", "a", "-"]), max_size=200
)
SIZES = st.integers(min_value=1, max_value=80)


def _chunked(text: str, cuts: list[int]) -> list[str]:
    edges = [0, *sorted({c % (len(text) + 1) for c in cuts}), len(text)]
    return [text[a:b] for a, b in pairwise(edges) if b > a]


@settings(max_examples=400, deadline=None)
@given(TEXTS, SIZES)
@example("a\n\n```\nb\n\nc\n```\n\nd\n", 2)
def test_blocks_follow_the_rules(text: str, size: int) -> None:
    blocks = split_blocks(text, size)
    assert "".join(blocks) == text
    assert all(blocks[:-1])
    for block in blocks[:-1]:
        assert len(block) >= size  # only once the block is large enough
        assert _blank_line_ends_at(block, len(block))  # just after a blank line
        assert fence_state(block) is None  # never inside a code fence
    for block in blocks[1:]:
        assert block[0] not in " \t\n"  # never before an indented or blank line


@settings(max_examples=400, deadline=None)
@given(TEXTS, SIZES)
def test_blocks_are_cut_at_the_earliest_allowed_place(text: str, size: int) -> None:
    assert split_blocks(text, size) == reference_blocks(text, size)


@settings(max_examples=400, deadline=None)
@given(TEXTS, SIZES, st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
@example("x" * 20 + "\n\n" + "y" * 20, 5, [22])  # a flush ends just after the blank line
def test_streaming_in_chunks_cuts_like_splitting_whole(
    text: str, size: int, cuts: list[int]
) -> None:
    assert streamed_blocks(_chunked(text, cuts), size) == split_blocks(text, size)
