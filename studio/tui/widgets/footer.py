"""The key footer, complete in the first frame and rebuilt only when its keys change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class StudioFooter(Footer):
    """Textual's ``Footer`` with its keys from the start.

    Textual's footer starts empty and rebuilds itself (a widget per key) after the screen's
    first refresh, and again whenever focus moves. That rebuild held back the app's first
    frame (``tests/bench/startup.py``): the footer's keys are known when it is composed, and a
    rebuild that would show the same keys is skipped."""

    _shown: tuple[tuple[str, str, bool, str], ...] | None = None

    def _keys(self) -> tuple[tuple[str, str, bool, str], ...]:
        return tuple(
            (binding.key, binding.description, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )

    def compose(self) -> ComposeResult:
        self.set_reactive(Footer._bindings_ready, True)
        self._shown = self._keys()
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen and self._keys() == self._shown:
            return
        super().bindings_changed(screen)
