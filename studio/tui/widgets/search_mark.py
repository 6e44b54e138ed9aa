"""A search hit shown in its conversation: the message selected and outlined, with the
snippet (the matched words marked) above its text until the selection moves on."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from studio.tui.widgets.message_view import MessageView

HIT_CLASS = "-search-hit"


class HitNote(Static):
    """``⌕ …the matched words…`` at the top of the message a search opened; it goes (and the
    message's outline with it) once the focus moves to anything else."""

    SCOPED_CSS = False  # it styles the message it sits in
    DEFAULT_CSS = """
    MessageView.-search-hit { border-left: thick $warning; background: $warning 8%; }
    HitNote { color: $text-muted; height: auto; }
    """

    def __init__(self, snippet: Content) -> None:
        super().__init__(Content.assemble(("⌕ ", "$warning"), snippet), markup=False)

    def watch_focus(self) -> None:
        """Start following the focus (once the message has it)."""
        self.watch(self.screen, "focused", self._focus_moved, init=False)

    def _focus_moved(self, focused: Widget | None) -> None:
        view = self.parent
        if focused is not None and focused is not view and isinstance(view, MessageView):
            view.remove_class(HIT_CLASS)
            self.remove()


async def mark_hit(view: MessageView, snippet: Content) -> None:
    """Select ``view`` (a search hit) and scroll it to the middle of its log, marked with
    ``snippet``; any earlier mark in its pane goes."""
    pane = view.parent.parent if view.parent is not None else None
    for old in pane.query(HitNote) if pane is not None else ():
        if isinstance(old.parent, MessageView):
            old.parent.remove_class(HIT_CLASS)
        await old.remove()
    note = HitNote(snippet)
    header = view.query_children(".message-header").first()
    await view.mount(note, after=header)
    view.add_class(HIT_CLASS)

    def settle() -> None:
        view.focus(scroll_visible=False)
        log = view.parent
        if isinstance(log, VerticalScroll):
            log.scroll_to_center(view, animate=False, immediate=True)
        note.watch_focus()

    view.call_after_refresh(settle)
