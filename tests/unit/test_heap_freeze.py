"""The garbage collector's settings while replies stream (``studio.tui.heap.HeapFreeze``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from studio.tui.heap import HeapFreeze


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    HeapFreeze.holders, HeapFreeze.saved = 0, None
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        HeapFreeze.holders, HeapFreeze.saved = 0, None
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_reply_freezes_the_heap_and_its_end_gives_it_back() -> None:
    HeapFreeze.hold()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == HeapFreeze.THRESHOLDS
    HeapFreeze.release()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_replies_keep_it_frozen_until_the_last_ends() -> None:
    HeapFreeze.hold()
    HeapFreeze.hold()
    HeapFreeze.release()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == HeapFreeze.THRESHOLDS
    HeapFreeze.release()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == (700, 10, 10)


def test_the_thresholds_in_force_before_are_restored() -> None:
    gc.set_threshold(1234, 5, 6)
    HeapFreeze.hold()
    HeapFreeze.release()
    assert gc.get_threshold() == (1234, 5, 6)


def test_an_extra_release_changes_nothing() -> None:
    HeapFreeze.release()
    assert HeapFreeze.holders == 0
    assert gc.get_threshold() == (700, 10, 10)


def test_closing_the_app_gives_everything_back() -> None:
    HeapFreeze.hold()
    HeapFreeze.hold()
    HeapFreeze.release_all()
    assert HeapFreeze.holders == 0 and gc.get_freeze_count() == 0
    assert gc.get_threshold() == (700, 10, 10)
