"""Fuzzy subsequence matching: a score for how well a typed query finds a text, and where.

Pure functions of two strings (no I/O, no imports beyond the standard library); the model picker
ranks models with :func:`fuzzy_score` and highlights the matched characters with
:func:`fuzzy_positions`.
"""

from __future__ import annotations

from collections.abc import Sequence

SCORE_MATCH = 16.0
"""Every matched character."""
BONUS_BOUNDARY = 8.0
"""A match at the start of the text or right after a separator (``-``, ``_``, ``.``, ``/``...)."""
BONUS_TRANSITION = 7.0
"""A match where letters turn into digits or back, or lower case into upper case."""
BONUS_CONSECUTIVE = 6.0
"""A match right after the previous one."""
FIRST_CHAR_MULTIPLIER = 2.0
"""The first query character's position bonus counts this many times (rewards prefixes)."""
GAP_START = 3.0
GAP_EXTEND = 1.0
GAP_MAX = 11.0
"""A gap between two matches costs GAP_START + GAP_EXTEND per further skipped character, at most
GAP_MAX, which keeps every match's score positive."""
LEADING_PENALTY = 0.25
LEADING_MAX = 20
"""Skipped characters before the first match cost LEADING_PENALTY each (up to LEADING_MAX)."""
LENGTH_PENALTY = 0.1
LENGTH_MAX = 100
"""Each character of the text costs LENGTH_PENALTY (up to LENGTH_MAX): shorter texts win ties."""


def _position_bonus(text: str, index: int) -> float:
    """How much a match at ``text[index]`` is worth beyond SCORE_MATCH (word starts)."""
    if index == 0:
        return BONUS_BOUNDARY
    before, here = text[index - 1], text[index]
    if not before.isalnum():
        return BONUS_BOUNDARY if here.isalnum() else 0.0
    if before.isdigit() != here.isdigit() and here.isalnum():
        return BONUS_TRANSITION
    if before.islower() and here.isupper():
        return BONUS_TRANSITION
    return 0.0


def _gap_cost(gap: int) -> float:
    return min(GAP_START + GAP_EXTEND * (gap - 1), GAP_MAX)


def _is_subsequence(query: Sequence[str], text: Sequence[str]) -> bool:
    position = 0
    for char in query:
        while position < len(text) and text[position] != char:
            position += 1
        if position == len(text):
            return False
        position += 1
    return True


def _align(query: str, text: str) -> tuple[float, list[int]] | None:
    """The best-scoring way to find ``query`` in ``text`` in order: its score and positions."""
    folded_query = [char.lower() for char in query]
    folded_text = [char.lower() for char in text]
    m, n = len(folded_query), len(folded_text)
    if m == 0:
        return 0.0, []
    if m > n or not _is_subsequence(folded_query, folded_text):
        return None
    bonus = [_position_bonus(text, j) for j in range(n)]
    unreachable = float("-inf")
    # best[i][j]: the best score of query[: i + 1] with query[i] matched at text[j];
    # came_from[i][j]: where query[i - 1] was matched on that best path.
    best: list[list[float]] = []
    came_from: list[list[int]] = []
    window = int((GAP_MAX - GAP_START) / GAP_EXTEND) + 1  # gaps shorter than this cost less
    for i in range(m):
        previous = best[i - 1] if i else []
        # far_best[k]: where previous[: k + 1] peaks (for gaps that all cost GAP_MAX).
        far_best: list[int] = []
        for k, value in enumerate(previous):
            far_best.append(k if not far_best or value > previous[far_best[-1]] else far_best[-1])
        row = [unreachable] * n
        links = [-1] * n
        last_start = n - (m - i)  # leave room for the rest of the query
        for j in range(i, last_start + 1):
            if folded_text[j] != folded_query[i]:
                continue
            if i == 0:
                leading = min(j, LEADING_MAX) * LEADING_PENALTY
                row[j] = SCORE_MATCH + FIRST_CHAR_MULTIPLIER * bonus[j] - leading
                continue
            candidate, link = unreachable, -1
            if j >= 1 and previous[j - 1] > unreachable:
                candidate, link = previous[j - 1] + BONUS_CONSECUTIVE, j - 1
            # A gap of g >= 1 skipped characters: k = j - 1 - g.
            for k in range(j - 2, -1, -1):
                gap = j - 1 - k
                if gap > window:
                    break
                if previous[k] > unreachable and previous[k] - _gap_cost(gap) > candidate:
                    candidate, link = previous[k] - _gap_cost(gap), k
            far_end = j - 2 - window  # every k up to here costs GAP_MAX
            if far_end >= 0:
                k = far_best[far_end]
                if previous[k] > unreachable and previous[k] - GAP_MAX > candidate:
                    candidate, link = previous[k] - GAP_MAX, k
            if link >= 0:
                row[j] = candidate + SCORE_MATCH + bonus[j]
                links[j] = link
        best.append(row)
        came_from.append(links)
    last = max(range(n), key=best[m - 1].__getitem__)
    score = best[m - 1][last]
    if score == unreachable:  # pragma: no cover - the subsequence check rules this out
        return None
    positions = [last]
    for i in range(m - 1, 0, -1):
        positions.append(came_from[i][positions[-1]])
    positions.reverse()
    return score - min(n, LENGTH_MAX) * LENGTH_PENALTY, positions


def fuzzy_score(query: str, text: str) -> float | None:
    """How well ``query`` matches ``text`` as a fuzzy subsequence; higher is better.

    ``None`` when the characters of ``query`` do not all appear in ``text`` in order (compared
    case-insensitively, one character at a time); ``0.0`` for an empty query; otherwise a positive
    score of the best alignment, which rewards contiguous runs, matches at word starts (after
    ``-``, ``_``, ``.``, ``/``, spaces, and where letters and digits meet), a match at the very
    start, few and short gaps, and shorter texts.
    """
    aligned = _align(query, text)
    return None if aligned is None else aligned[0]


def fuzzy_positions(query: str, text: str) -> list[int]:
    """The indices of ``text`` matched by ``query`` in the best alignment (for highlighting).

    Strictly increasing, one per query character; empty when ``query`` is empty or does not
    match.
    """
    aligned = _align(query, text)
    return [] if aligned is None else aligned[1]
