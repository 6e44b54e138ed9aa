"""A TextArea that never paints control characters raw (client-guide §6).

Textual's TextArea paints its document as it is: a paste holding ``ESC ] 52 …`` (copied from a
web page, or a reply copied elsewhere), or a stored prompt recalled into it, would reach the
terminal raw. Pasted text is cleaned as it comes in, so what is shown is what is sent; any line
that still holds such a character (text put there by code) is painted with visible stand-ins.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.strip import Strip
from textual.widgets import TextArea

from studio.textsafe import clean, clean_line, is_clean


class SafeTextArea(TextArea):
    """:class:`TextArea`, safe for the terminal. Every TextArea in Studio is one."""

    def on_paste(self, event: events.Paste) -> None:
        cleaned = clean(event.text)
        if cleaned is event.text:
            return  # TextArea's own handler inserts it
        event.prevent_default()
        if self.read_only:
            return
        result = self.replace(cleaned, *self.selection, maintain_selection_offset=False)
        self.move_cursor(result.end_location)
        self.focus()

    def render_line(self, y: int) -> Strip:
        if self.content_size.width < 1:
            # Textual's placeholder wrap raises on a width of 0 (a pane squeezed to nothing).
            return Strip.blank(self.size.width)
        strip = super().render_line(y)
        if all(is_clean(segment.text) for segment in strip):
            return strip
        width = strip.cell_length
        segments = [Segment(clean_line(s.text), s.style, s.control) for s in strip]
        return Strip(segments).adjust_cell_length(width)
