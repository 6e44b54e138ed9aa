"""The one place Studio leans on private Textual APIs, so an upgrade breaks loudly here.

- ``App._handle_exception`` is where Textual sends every exception a handler, a worker or a
  timer did not catch: it ends the app and prints a traceback with local variables (SQL,
  paths). There is no public hook; :class:`ErrorHookApp` routes those exceptions to
  :meth:`handle_unexpected` first. ``tests/tui/test_store_errors.py`` fails if Textual stops
  calling it.
- ``XTermParser._sequence_to_key_events`` turns terminal bytes into keys. Textual 8 reads
  ``ESC CR`` (alt+enter as tmux, GNU screen and most terminals send it) as a plain ``enter``,
  and xterm's modifyOtherKeys form ``CSI 27;mod;code~`` (tmux with ``extended-keys always``)
  as the bare character: :func:`install_key_fixes` makes them ``alt+enter`` and the modified
  key. ``tests/tui/test_keys_and_help.py`` feeds the raw bytes through the parser.
- ``LinuxDriver.run_input_thread`` polls ``select`` every 0.1 s and, when input is disabled at
  quit, sleeps another 0.1 s before the thread ends: :class:`QuickExitDriver` wakes it through
  a pipe instead, so quitting does not wait. The same test file checks that Textual's method is
  still the one this copy was made from.
- ``App._driver`` is the only way to the terminal: :func:`driver_of` returns it and
  :func:`write_to_terminal` writes raw sequences (OSC 52, window titles) through it.
- ``App._clipboard`` is what ``App.clipboard`` returns (Textual's ``Input`` pastes it):
  :func:`remember_copied` sets it when Studio copies without Textual's ``copy_to_clipboard``.
- ``Widget._layout_updates`` is part of the key of Textual's cached box model, bumped only by
  the first of several ``refresh(layout=True)`` calls: :func:`relayout` bumps it again, so a
  height that changed while a layout was pending is measured anew.
- ``App._display`` receives every frame a screen composes, and ``App._batch_count`` says
  whether it is held back: :func:`watch_frames` calls a function with each one (benchmarks
  stamp frames with it; a test checks the first frame is complete).
- ``textual_image._terminal`` answers textual-image's questions to the terminal (cell size,
  device attributes): :func:`image_terminal` imports it, :func:`image_queries_answered` swaps
  its ``capture_terminal_response`` for the duration of textual-image's import.

``tests/tui/test_compat.py`` checks each of these on a running app.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
from codecs import getincrementaldecoder
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from textual import events
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.app import App, ReturnType
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.screen import Screen
from textual.widget import Widget


class ErrorHookApp(App[ReturnType]):
    """An App that may handle an uncaught exception itself instead of Textual's traceback."""

    def handle_unexpected(self, error: Exception) -> bool:
        """Called with every exception nothing else caught. Return True when it is handled
        (Textual then neither prints a traceback nor ends the app; the handler may end it)."""
        return False

    def _handle_exception(self, error: Exception) -> None:
        if not self.handle_unexpected(error):
            super()._handle_exception(error)


# -- keys the parser gets wrong -------------------------------------------------------------------

ALT_ENTER = "\x1b\r"
"""What tmux, GNU screen and terminals without the Kitty keyboard protocol send for alt+enter."""
_MODIFY_OTHER_KEYS = re.compile(r"\x1b\[27;(\d+);(\d+)~")
"""xterm's modifyOtherKeys form of a modified key: ``CSI 27 ; modifiers ; code ~``."""

_original_sequence_to_key_events: Callable[..., Iterable[events.Key]] | None = None


def _sequence_to_key_events(
    self: XTermParser, sequence: str, alt: bool = False
) -> Iterable[events.Key]:
    assert _original_sequence_to_key_events is not None
    if sequence == ALT_ENTER or (alt and sequence == "\r"):
        yield events.Key("alt+enter", None)
        return
    match = _MODIFY_OTHER_KEYS.fullmatch(sequence)
    if match:  # the same key in the Kitty protocol's form, which Textual reads correctly
        modifiers, code = match.groups()
        sequence = f"\x1b[{code};{modifiers}u"
    yield from _original_sequence_to_key_events(self, sequence, alt)


def install_key_fixes() -> None:
    """Make Textual's input parser read alt+enter from tmux and modifyOtherKeys sequences
    (idempotent; every parser created afterwards, the driver's included, has the fix)."""
    global _original_sequence_to_key_events
    if _original_sequence_to_key_events is None:
        _original_sequence_to_key_events = XTermParser._sequence_to_key_events
        XTermParser._sequence_to_key_events = _sequence_to_key_events  # type: ignore[method-assign]


# -- quitting without the input thread's 0.1-0.2 s of polling -------------------------------------


class QuickExitDriver(LinuxDriver):
    """Textual's Linux/macOS driver whose input thread ends as soon as input is disabled.

    ``run_input_thread`` is Textual 8's, with one more file watched: a pipe that
    :meth:`disable_input` writes to, so the thread wakes at once instead of at its next 0.1 s
    poll, and without the final 0.1 s ``select`` on no file at all.
    """

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def disable_input(self) -> None:
        if not self.exit_event.is_set():
            # OSError: the pipe is full (the thread is waking anyway) or closed
            with contextlib.suppress(OSError):
                os.write(self._wake_write, b"x")
        super().disable_input()

    def close(self) -> None:
        super().close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's loop, woken by the pipe)."""
        selector = selectors.SelectSelector()
        fileno, wake = self.fileno, self._wake_read
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process(ready: list[tuple[selectors.SelectorKey, int]]) -> None:
            for key, mask in ready:
                if not mask & selectors.EVENT_READ:
                    continue
                if key.fd == wake:
                    with contextlib.suppress(OSError):
                        os.read(wake, 64)
                    continue
                data = decode(os.read(fileno, 1024 * 4))
                if data:  # empty when stdin is a pipe that ended
                    for event in feed(data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(0.1))
            for event in tick():
                self.process_message(event)
        finally:
            selector.close()
            with contextlib.suppress(EOFError, ParseError):  # the input ends here anyway
                for _event in feed(""):
                    pass


# -- the terminal, the clipboard, layout and frames ----------------------------------------------


def driver_of(app: App[Any]) -> Driver | None:
    """The driver ``app`` talks to the terminal through; None before it starts or after it ends."""
    return app._driver


def write_to_terminal(app: App[Any], sequence: str) -> None:
    """Write ``sequence`` (an escape sequence, not text to show) to ``app``'s terminal now."""
    driver = app._driver
    if driver is not None:
        driver.write(sequence)
        driver.flush()


def remember_copied(app: App[Any], text: str) -> None:
    """Make ``text`` what ``app.clipboard`` returns, as Textual's own copy would."""
    app._clipboard = text


def relayout(widget: Widget) -> None:
    """Lay ``widget`` out again even when a layout is already pending: Textual keys its cached
    box model on a count it bumps only for the first of several layout requests."""
    widget._layout_updates += 1
    widget.refresh(layout=True)


def watch_frames(
    app: App[Any], on_frame: Callable[[Screen[Any], bool], None], *, before: bool = False
) -> None:
    """Call ``on_frame(screen, drawn)`` after (or just ``before``) each frame a screen of
    ``app`` composes; ``drawn`` is False when Textual holds it back (nothing to show, or inside
    ``batch_update``)."""
    display = app._display

    def displayed(screen: Screen[Any], renderable: Any) -> None:
        drawn = renderable is not None and not app._batch_count
        if before:
            on_frame(screen, drawn)
        display(screen, renderable)
        if not before:
            on_frame(screen, drawn)

    app._display = displayed  # type: ignore[method-assign]


def image_terminal() -> Any:
    """textual-image's terminal module (the standard library only: no Pillow); it keeps the cell
    size it asked for (``get_cell_size``) and offers ``capture_terminal_response``."""
    from textual_image import _terminal

    return _terminal


@contextmanager
def image_queries_answered(answer: Callable[..., Any]) -> Iterator[None]:
    """While in the block, textual-image's queries to the terminal are answered by ``answer``
    (called as ``capture_terminal_response`` is: start marker, end marker, timeout)."""
    terminal = image_terminal()
    original = terminal.capture_terminal_response
    terminal.capture_terminal_response = answer
    try:
        yield
    finally:
        terminal.capture_terminal_response = original
