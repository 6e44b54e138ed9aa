"""The status line under a conversation: model, tokens, time and speed while streaming."""

from __future__ import annotations

import time

from rich.cells import cell_len, set_cell_size
from textual.widgets import Static

from studio.api.types import Usage
from studio.textsafe import clean_line


class StatusLine(Static):
    """Shows the model and the last reply's figures; ticks while a reply streams.

    Never markup, and the model id made safe to show: it came from the gateway."""

    DEFAULT_CSS = """
    StatusLine { width: 1fr; height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, model: str, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.model = model
        self.usage: Usage | None = None
        self.started: float | None = None
        self.elapsed: float | None = None
        self.tokens = 0
        self.note = ""
        self.next_model: str | None = None
        """The conversation's model, chosen while a reply of another model streamed."""

    def on_mount(self) -> None:
        self.set_interval(0.25, self._tick)
        self.refresh_text()

    def begin(self, model: str | None = None) -> None:
        """A reply (of ``model``) starts streaming."""
        if model is not None:
            self.model = model
        self.next_model = None
        self.started = time.monotonic()
        self._clear_figures()
        self.refresh_text()

    def _clear_figures(self) -> None:
        self.elapsed = None
        self.tokens = 0
        self.usage = None
        self.note = ""

    def set_model(self, model: str) -> None:
        """The conversation's model changed. The figures of the last reply (another model's)
        go; while a reply streams they are its own, so they stay, and the new model shows as
        the next one."""
        if self.started is not None:
            self.next_model = model if model != self.model else None
        else:
            self.model = model
            self.next_model = None
            self._clear_figures()
        self.refresh_text()

    def count(self, tokens: int = 1) -> None:
        self.tokens += tokens

    def end(self, usage: Usage | None, note: str = "") -> None:
        if self.started is not None:
            self.elapsed = time.monotonic() - self.started
        self.started = None
        self.usage = usage
        if usage and usage.completion_tokens:
            self.tokens = usage.completion_tokens
        self.note = note
        self.refresh_text()

    def _tick(self) -> None:
        if self.started is not None:
            self.refresh_text()

    def on_resize(self) -> None:
        self.refresh_text()

    def refresh_text(self) -> None:
        # (text, priority): in a narrow pane the lowest priorities are dropped first.
        parts = [(clean_line(self.model), 100)]  # a model id from the gateway
        streaming = self.started is not None
        elapsed = time.monotonic() - self.started if self.started is not None else self.elapsed
        if self.usage:
            parts.append((f"{self.usage.prompt_tokens} prompt", 10))
            parts.append((f"{self.usage.completion_tokens} reply tokens", 50))
        elif self.tokens:
            parts.append((f"{self.tokens} tokens", 50))
        if elapsed is not None:
            parts.append((f"{elapsed:.1f} s", 30))
            if self.tokens and elapsed > 0.05:
                parts.append((f"{self.tokens / elapsed:.0f} tok/s", 20))
        if streaming:
            parts.append((STREAMING, 90))
        if self.note:
            parts.append((self.note, 80))
        if self.next_model:
            parts.append((f"next: {clean_line(self.next_model)}", 85))
        # The size is fixed (DEFAULT_CSS), so skip the layout, which would re-arrange every
        # widget on the screen (hundreds while a long reply streams) four times a second.
        self.update(fit_parts(parts, self.content_size.width), layout=False)


SEPARATOR = " · "
STREAMING = "streaming — esc stops"
SHORT = {STREAMING: "esc stops"}
"""Shorter wording for a narrow pane."""


def fit_parts(parts: list[tuple[str, int]], width: int) -> str:
    """``parts`` joined with `` · ``, in ``width`` cells when that is known (not 0): the
    lowest-priority parts dropped first, then the short wording used, then the first part (the
    model) cut with an ellipsis."""
    if width <= 0:
        return SEPARATOR.join(text for text, _ in parts)
    kept = list(parts)
    by_priority = sorted(parts[1:], key=lambda part: part[1])

    def joined() -> str:
        return SEPARATOR.join(text for text, _ in kept)

    while cell_len(joined()) > width and by_priority and by_priority[0][1] < 80:
        kept.remove(by_priority.pop(0))
    if cell_len(joined()) > width:
        kept = [(SHORT.get(text, text), priority) for text, priority in kept]
    line = joined()
    if cell_len(line) <= width:
        return line
    model, rest = kept[0][0], SEPARATOR.join(text for text, _ in kept[1:])
    room = width - cell_len(rest) - len(SEPARATOR) if rest else width
    if room >= 8:
        return SEPARATOR.join(part for part in (ellipsize(model, room), rest) if part)
    return ellipsize(line, width)


def ellipsize(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, cut with an ellipsis when it is longer."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + "…" if width > 0 else ""
