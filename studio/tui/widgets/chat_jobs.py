"""The job messages of one conversation pane: their live line while the job runs, and the
outcome in place once it ended. :class:`JobMessages` is composed into
:class:`~studio.tui.widgets.chat_pane.ChatPane`."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll

from studio.store import Message
from studio.tui.widgets.message_view import MessageView

if TYPE_CHECKING:
    from studio.tui.widgets.chat_pane import ChatPane

JOB_TICK = 1.0
"""Seconds between updates of a running job's elapsed time in its message."""
OUTCOME_GRACE = 1.5
"""Seconds after a job ended before its message is read again from the store (this window's
reporter normally shows the outcome at once)."""
OUTCOME_WAIT = 30.0
"""Seconds a job's message waits for another window to write the outcome of its job."""


class JobMessages:
    """Follows the messages of jobs that may still be running, by message id: their live line
    is all that the controller's redraw and the :data:`JOB_TICK` update."""

    def __init__(self, pane: ChatPane) -> None:
        self.pane = pane
        self._views: dict[int, MessageView] = {}
        self._ended: dict[int, float] = {}
        """When a tracked job was first seen ended (its outcome replaces the view)."""
        self._showing = asyncio.Lock()

    @property
    def followed(self) -> list[int]:
        """The ids of the job messages followed now."""
        return list(self._views)

    def track(self, views: list[MessageView]) -> None:
        """Follow the live state of the jobs among ``views``."""
        for view in views:
            if view.is_job:
                self._views[view.message_id] = view

    def refresh(self) -> None:
        """Update the live line of each running job's message; a job seen ended gets its
        outcome in place, from the store (written by this window's reporter or by the window
        that ran it)."""
        if not self._views:
            return
        now = time.time()
        studio = self.pane.studio
        jobs = studio.jobs.jobs
        for mid, view in list(self._views.items()):
            job = jobs.get(view.message.job_id or 0)
            if not view.is_attached:
                del self._views[mid]
            elif job is None:
                continue  # not loaded yet (the engine starts after the first frame)
            elif view.show_job(job, now):
                self._ended.pop(mid, None)
            else:
                ended = self._ended.setdefault(mid, now)
                if now - ended < OUTCOME_GRACE:
                    continue  # this window's reporter brings it
                stored = studio.store.get_message(mid)
                if stored is not None and stored != view.message:
                    self.pane.run_worker(self.show(stored), group="job-outcome")
                if stored is None or stored != view.message or now - ended > OUTCOME_WAIT:
                    del self._views[mid]
                    self._ended.pop(mid, None)

    async def show(self, message: Message) -> None:
        """Show a message added or changed elsewhere: a job's message appears in its place
        (by position) and its outcome replaces it there when the job ends."""
        pane = self.pane
        async with self._showing:  # the reporter and the tick may both bring it
            views = pane.views()
            old = next((v for v in views if v.message_id == message.id), None)
            if old is not None and (
                old.message == message or old.message.updated_at > message.updated_at
            ):
                # Shown already, or a newer state of it is (two workers brought it); its job
                # may be running again (checked again elsewhere): its live line follows it.
                self.track([old])
                return
            view = MessageView(message)
            log = pane.query_one(".log", VerticalScroll)
            if old is not None:
                selected = old.has_focus
                with pane.app.batch_update():  # one frame: the outcome in place of the job
                    await log.mount(view, after=old)
                    await old.remove()
                if selected:
                    view.focus()
            else:
                later = next((v for v in views if v.message.position > message.position), None)
                pane.hide_empty_hint()
                await (log.mount(view, before=later) if later else log.mount(view))
                log.anchor()
            self.track([view])
