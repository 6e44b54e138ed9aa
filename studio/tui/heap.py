"""Garbage-collector settings that keep a streaming reply's frames and key presses smooth."""

from __future__ import annotations

import gc


class HeapFreeze:
    """The garbage collector's settings while replies stream (``hold`` / ``release``).

    Textual makes and drops objects fast while it renders (a few thousand strips a frame, each
    with seven small caches, and a strip divided whole caches itself: a reference cycle). With
    Python's defaults, full collections then came about once a second, each scanning every
    object of the app: pauses of 100-500 ms that frames and key presses waited behind
    (``tests/bench/stream_render.py``). So while a reply streams:

    - ``gc.freeze()`` leaves the objects that existed when it started out of every collection
      (freezing scans nothing); ``gc.unfreeze()`` gives them back when the last streaming reply
      ends, after its final frame, and garbage among them is collected then;
    - a larger young generation (:data:`THRESHOLDS`) lets most of those objects die young
      instead of being promoted, which is what triggers full collections: about a third as
      many, for young collections of a few ms up to about 30 ms.

    The count lets replies in two panes overlap.
    """

    THRESHOLDS = (3000, 10, 10)
    """``gc.set_threshold`` while replies stream (Python's default is 700, 10, 10)."""

    holders = 0
    saved: tuple[int, int, int] | None = None

    @classmethod
    def hold(cls) -> None:
        if not cls.holders:
            cls.saved = gc.get_threshold()
            gc.set_threshold(*cls.THRESHOLDS)
        cls.holders += 1
        gc.freeze()

    @classmethod
    def release(cls) -> None:
        if not cls.holders:
            return
        cls.holders -= 1
        if not cls.holders:
            if cls.saved is not None:
                gc.set_threshold(*cls.saved)
                cls.saved = None
            gc.unfreeze()

    @classmethod
    def release_all(cls) -> None:
        """Give everything back (the app is closing: a release due after a frame never comes)."""
        while cls.holders:
            cls.release()
