"""Running the TUI from the command line: what happens before Textual takes the terminal and
after it gives the terminal back."""

from __future__ import annotations

import gc

from studio.config import Settings
from studio.store import Store
from studio.tui import previews
from studio.tui.app import StudioApp
from studio.tui.heap import HeapFreeze


def run_app(settings: Settings, *, demo: bool) -> int:
    """Run the TUI until the user quits; returns the exit code. A database that cannot be used,
    at start-up or while the app ran, raises :class:`~studio.store.StoreUnavailable` (after
    Textual has given the terminal back) for the command line to report."""
    # First, before Textual takes the terminal: a database that cannot be used stops Studio
    # here, before the terminal is taken (the command line says its one sentence on stderr).
    store = Store.open()
    previews.prepare()  # must happen before Textual takes over the terminal
    # Rendering makes many short-lived objects: a larger young generation lets them die young
    # rather than trigger full collections (ChatPane's HeapFreeze also freezes the heap while a
    # reply streams). No gc.freeze() here: the first reply's end would undo it.
    gc.set_threshold(*HeapFreeze.THRESHOLDS)
    try:
        app = StudioApp(settings, demo=demo, store=store)
    except BaseException:
        store.close()
        raise
    app.run()
    # Everything is saved and closed by now (``on_unmount``). The process ends next, and
    # Python's last collections would walk the whole heap of the UI first (0.2-0.4 s on a 2-core
    # machine after a chat): leave the heap to the OS. Objects are still freed, and atexit
    # handlers, thread joins and stream flushes still run.
    gc.disable()
    gc.freeze()
    if app.store_failure is not None:
        raise app.store_failure
    return app.return_code or 0
