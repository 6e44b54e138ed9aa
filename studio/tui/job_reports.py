"""Telling the user that a job ended: a toast, the bell (``bell`` setting) and, for a job started
from a conversation, a message in that conversation with the result or the reason it failed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from studio.jobs import Job, JobKind, JobState
from studio.store import MessageStatus, NewAttachment, Role

if TYPE_CHECKING:
    from studio.tui.app import StudioApp

PREVIEW_LIMIT = 8 * 1024 * 1024
"""Images up to this size are copied into the conversation (for its preview)."""


class JobReporter:
    """Reports jobs that reached an end state (composed into the jobs controller)."""

    def __init__(self, app: StudioApp) -> None:
        self.app = app

    def finished(self, job: Job) -> None:
        app = self.app
        what = f"{job.kind.value.capitalize()} job #{job.id}"
        if job.state is JobState.SUCCEEDED:
            saved = [f.path for f in job.files if f.done]
            where = f" — saved {Path(saved[0]).name}" if saved else ""
            extra = f" (+{len(saved) - 1} more)" if len(saved) > 1 else ""
            app.notify(
                f"{what} is done{where}{extra}", title="Job finished", timeout=8, markup=False
            )
        else:
            reason = job.failure_reason or job.message or job.state.value
            app.notify(
                f"{what} {job.state.value.replace('_', ' ')}: {reason}",
                title="Job failed",
                severity="error",
                timeout=12,
                markup=False,
            )
        if app.settings.bell:
            app.bell()
        if job.conversation_id is not None:
            self._report_in_conversation(job)

    def _report_in_conversation(self, job: Job) -> None:
        store = self.app.store
        if store.get_conversation(job.conversation_id or 0) is None:
            return
        attachments: list[NewAttachment] = []
        if job.state is JobState.SUCCEEDED:
            lines = [f"{job.kind.value.capitalize()} job #{job.id} is done ({job.model})."]
            for file in job.files:
                if not file.done:
                    continue
                lines.append(f"- `{file.path}`")
                if job.kind is JobKind.IMAGE and _small(file.path):
                    attachments.append(_attachment(file.path))
            from studio.tui.widgets.job_sidebar import item_errors

            for item in item_errors(job):
                index = int(str(item.get("index", 0))) + 1
                lines.append(f"- image {index} failed: {item.get('message')} ({item.get('code')})")
            status, error = MessageStatus.COMPLETE, None
        else:
            lines = [f"{job.kind.value.capitalize()} job #{job.id} did not finish."]
            status = MessageStatus.ERROR
            error = job.failure_reason or job.message or job.state.value
        message = store.add_message(
            job.conversation_id or 0,
            Role.ASSISTANT,
            "\n".join(lines),
            attachments=attachments,
            model=job.model,
            status=status,
            error=error,
        )
        self.app.message_added(message)


def _small(path: str) -> bool:
    try:
        return os.path.getsize(path) <= PREVIEW_LIMIT
    except OSError:
        return False


def _attachment(path: str) -> NewAttachment:
    from studio.api import media

    info = media.describe_image(path)
    data = Path(path).read_bytes()
    return NewAttachment(
        name=Path(path).name,
        mime=info.mime or "image/png",
        data=data,
        width=info.width,
        height=info.height,
    )
