"""The status line under a conversation: model, tokens, time and speed while streaming."""

from __future__ import annotations

import time

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

    def on_mount(self) -> None:
        self.set_interval(0.25, self._tick)
        self.refresh_text()

    def begin(self) -> None:
        self.started = time.monotonic()
        self.elapsed = None
        self.tokens = 0
        self.usage = None
        self.note = ""
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

    def refresh_text(self) -> None:
        parts = [clean_line(self.model)]  # a model id from the gateway
        streaming = self.started is not None
        elapsed = time.monotonic() - self.started if self.started is not None else self.elapsed
        if self.usage:
            parts.append(
                f"{self.usage.prompt_tokens} prompt · {self.usage.completion_tokens} reply tokens"
            )
        elif self.tokens:
            parts.append(f"{self.tokens} tokens")
        if elapsed is not None:
            parts.append(f"{elapsed:.1f} s")
            if self.tokens and elapsed > 0.05:
                parts.append(f"{self.tokens / elapsed:.0f} tok/s")
        if streaming:
            parts.append("streaming — esc stops")
        if self.note:
            parts.append(self.note)
        # The size is fixed (DEFAULT_CSS), so skip the layout, which would re-arrange every
        # widget on the screen (hundreds while a long reply streams) four times a second.
        self.update(" · ".join(parts), layout=False)
