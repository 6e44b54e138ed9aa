"""Dates a person types for a range (the search screen's *since*/*until* fields and
``studio search --since/--until``): a day (``2026-11-30``), a day and time
(``2026-11-30T14:00``, local unless it carries an offset), ``today``, ``yesterday``, or a span
back from now (``12h``, ``7d``, ``2w``).

A leaf (standard library only), so the TUI and the commands read dates by one rule. A day is
taken in local time: *since* a day means from its first second, *until* a day means up to the
next midnight (an exclusive bound), so ``since 2026-11-30 until 2026-11-30`` is that whole day.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}
"""The units of a span back from now: hours, days, weeks."""

_SPAN = re.compile(r"(\d{1,5})\s*([hdw])")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

HOW = "use a day like 2026-11-30, or a span back from now like 12h, 7d or 2w"
"""What the field accepts, said under it when it holds something else."""


class WhenError(ValueError):
    """A date filter that is neither a day nor a span; ``str()`` is a sentence for a person."""


def parse_when(text: str, *, end: bool = False, now: float) -> float | None:
    """The epoch seconds ``text`` stands for, ``None`` when it is blank.

    ``end`` picks the end of a day (for *until*: the next midnight, excluded) rather than its
    start. ``now`` anchors spans
    (``7d`` is seven days before it). Raises :class:`WhenError` for anything else.
    """
    value = text.strip().lower()
    if not value:
        return None
    if value in ("today", "yesterday"):
        day = datetime.fromtimestamp(now).date() - timedelta(days=value == "yesterday")
        return _day_bound(day, end=end)
    span = _SPAN.fullmatch(value)
    if span is not None:
        return now - int(span.group(1)) * UNITS[span.group(2)]
    try:
        if _DAY.fullmatch(value):
            return _day_bound(date.fromisoformat(value), end=end)
        return datetime.fromisoformat(value.upper()).timestamp()  # a day and a time
    except (ValueError, OverflowError, OSError):
        raise WhenError(f"“{text.strip()[:20]}” is not a date: {HOW}.") from None


def _day_bound(day: date, *, end: bool) -> float:
    if end:
        return datetime.combine(day + timedelta(days=1), time()).timestamp()
    return datetime.combine(day, time()).timestamp()
