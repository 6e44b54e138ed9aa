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
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
from codecs import getincrementaldecoder
from collections.abc import Callable, Iterable
from typing import Any

from textual import events
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.app import App, ReturnType
from textual.drivers.linux_driver import LinuxDriver


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
