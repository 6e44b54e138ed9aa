"""The one place Studio leans on a private Textual API, so an upgrade breaks loudly here.

``App._handle_exception`` is where Textual sends every exception a handler, a worker or a timer
did not catch: it ends the app and prints a traceback with local variables (SQL, paths). There is
no public hook; :class:`ErrorHookApp` routes those exceptions to :meth:`handle_unexpected` first.
``tests/tui/test_store_errors.py`` fails if Textual stops calling it.
"""

from __future__ import annotations

from textual.app import App, ReturnType


class ErrorHookApp(App[ReturnType]):
    """An App that may handle an uncaught exception itself instead of Textual's traceback."""

    def handle_unexpected(self, error: Exception) -> bool:
        """Called with every exception nothing else caught. Return True when it is handled
        (Textual then neither prints a traceback nor ends the app; the handler may end it)."""
        return False

    def _handle_exception(self, error: Exception) -> None:
        if not self.handle_unexpected(error):
            super()._handle_exception(error)
