"""The reply streaming in one conversation pane, shown as the chat core reports it.
:class:`ReplyRunner` is composed into :class:`~studio.tui.widgets.chat_pane.ChatPane`: it mounts
the reply's message, renders the :mod:`studio.chat` events into it and the status line, and says
when the store refused the finished reply (the session saves it again)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerCancelled, WorkerFailed

from studio.chat import Reply, ReplyDelta
from studio.tui.heap import HeapFreeze
from studio.tui.widgets.message_view import MessageView
from studio.tui.widgets.status_line import StatusLine
from studio.tui.widgets.streaming import StreamingMarkdown

if TYPE_CHECKING:
    from textual.timer import Timer

    from studio.tui.widgets.chat_pane import ChatPane

RETRY_SAVE_EVERY = 2.0
"""Seconds between attempts to save a finished reply that the store refused."""


class ReplyRunner:
    """Streams one pane's replies (one at a time) and saves again those the store refused,
    before the pane's next write and every :data:`RETRY_SAVE_EVERY` s."""

    def __init__(self, pane: ChatPane) -> None:
        self.pane = pane
        self.view: MessageView | None = None
        """The reply streaming now, if any."""
        self._reply: Reply | None = None
        self._worker: Worker[None] | None = None
        self._retry_timer: Timer | None = None

    async def start(self, reply: Reply) -> None:
        """Show ``reply``'s message and stream it."""
        pane = self.pane
        view = MessageView(reply.message, streaming=True)
        await pane.append_view(view)
        self.view, self._reply = view, reply
        pane.post_message(pane.StreamingChanged(pane.conversation_id, True))
        self._worker = pane.run_worker(
            self._stream(view, reply), group="reply", exclusive=True, exit_on_error=False
        )

    async def _stream(self, view: MessageView, reply: Reply) -> None:
        pane = self.pane
        status = pane.query_one(StatusLine)
        status.begin(reply.model)
        markdown = view.query_one(StreamingMarkdown)
        HeapFreeze.hold()
        try:
            async for event in reply:
                if type(event) is ReplyDelta and event.content:
                    status.count()
                    await markdown.append(event.content)
        finally:
            try:
                ended = await reply.end()
                if ended.save_error is not None:
                    self._save_failed(ended.save_error)
                # The outcome first: its restyle and layout then share the final flush's frame.
                view.update_message(ended.message)
                status.end(ended.usage, ended.note)
                await markdown.finish(reply.text)
            finally:
                # Whatever failed above: the pane streams no more and the heap is given back.
                if self.view is view:
                    self.view, self._reply = None, None
                pane.post_message(pane.StreamingChanged(pane.conversation_id, False))
                # After the final frame (the app outlives this pane), or now if it is closing.
                if not pane.app.call_after_refresh(HeapFreeze.release):
                    HeapFreeze.release()

    def stop(self) -> bool:
        """Stop the streaming reply, keeping its text; False when nothing streams."""
        if self.view is None or self._reply is None:
            return False
        self._reply.stop()
        return True

    async def stop_and_wait(self) -> None:
        """Stop the streaming reply and wait until it is saved as stopped."""
        worker = self._worker
        if worker is None or not self.stop():
            return
        # Once the wait is over the worker's ``finally`` has run.
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await worker.wait()

    def _save_failed(self, error: Exception) -> None:
        """The store refused a finished reply: it stays on screen as it is, the error is
        shown, and it is saved again later."""
        pane = self.pane
        if self._retry_timer is None and pane.is_attached:
            self._retry_timer = pane.set_interval(RETRY_SAVE_EVERY, self.retry_saves)
        pane.notify(
            f"Could not save the reply: {error} — it stays on screen and is saved with the "
            "next successful write.",
            severity="error",
            timeout=15,
            markup=False,
        )

    def retry_saves(self) -> None:
        """Save the finished replies the store refused; quietly keep those it still refuses."""
        session = self.pane.session
        for _ in range(session.retry_saves()):
            self.pane.notify("The reply is saved now.", markup=False)
        if not session.unsaved and self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
