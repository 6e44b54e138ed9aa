"""What Studio asks before a job action that may cost money, and what it says afterwards.

Pure functions of jobs (no Textual): the questions :class:`~studio.tui.job_actions.JobActions`
puts in its dialogs, and the toasts that tell the user what an action did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from studio.jobs import Job, JobKind, JobState

Severity = str  # "information" | "warning" | "error", as App.notify takes it


@dataclass(frozen=True, slots=True)
class Question:
    """A yes/no question about one job: the question, a line of explanation, the buttons."""

    question: str
    detail: str
    yes: str
    no: str = "Back"


def retry_question(job: Job, jobs: Iterable[Job] = ()) -> Question:
    """Before a retry: it is a new request, billed separately."""
    detail = "It sends a new request with the same parameters: a new task, billed separately."
    earlier = sorted(j.id for j in jobs if j.retry_of == job.id)
    if earlier:
        ids = ", ".join(f"#{i}" for i in earlier)
        detail += f" Job #{job.id} was already retried as job {ids}."
    if job.state is JobState.SUBMISSION_UNCERTAIN:
        detail += (
            " Its first request may also have reached the gateway: look in your AnyFast task "
            "list, or send it again under the same idempotency key (s) instead."
        )
    elif job.state.is_active:
        detail += f" Job #{job.id} itself is still {label(job)}."
    return Question(f"Retry job #{job.id} as a new job?", detail, "Retry")


def cancel_question(job: Job) -> Question:
    """Before a cancel: the gateway has no cancel."""
    if job.state is JobState.DOWNLOADING:
        return Question(
            f"Stop saving the results of job #{job.id}?",
            "Files already saved are kept; check it again (k) to save the rest while the "
            "result links last.",
            "Stop saving",
            "Keep saving",
        )
    return Question(
        f"Stop tracking job #{job.id}?",
        "The gateway has no cancel: the task keeps running and is billed when it finishes. "
        "Check it again (k) later to collect its result.",
        "Stop tracking",
        "Keep tracking",
    )


def resend_question(job: Job) -> Question:
    """Before sending an uncertain request again under its own idempotency key."""
    return Question(
        f"Send job #{job.id} again under the same idempotency key?",
        "If the first request reached the gateway, the same key lets it recognise this one as "
        "a repeat. AnyFast does not document that it does, so you may get (and pay for) two "
        "tasks: look in your AnyFast task list first if you can.",
        "Send again",
    )


UNCERTAIN_CHOICE = (
    "No task id was recorded, so there is nothing to check. Look for the request in your "
    "AnyFast task list: if it is there, attach its task id; if not, send it again under the "
    "same idempotency key, or as a new, separately billed request."
)


def uncertain_answers(job: Job) -> list[tuple[str, str, str]]:
    """The ways out of an uncertain submission, each with its key in the detail view."""
    answers = [("resend", "Send again, same key", "s")]
    if job.kind is JobKind.VIDEO:
        answers.append(("attach", "Attach a task id", "t"))
    answers += [("retry", "New request", "r"), ("cancel", "Back (esc)", "")]
    return answers


def remove_warning(job: Job) -> str:
    """What removing a job does not stop."""
    if job.state.is_active and job.task_id and job.state is not JobState.DOWNLOADING:
        return (
            "It is still running at the gateway: removing it only stops Studio tracking it. "
            "The task keeps running and may be billed, and its result will not be saved."
        )
    if job.state is JobState.PENDING:
        return (
            "Its request is being sent: if it reaches the gateway the task runs and may be "
            "billed, and its result will not be saved."
        )
    if job.state is JobState.SUBMISSION_UNCERTAIN:
        return (
            "Its request may have reached the gateway: that task, if there is one, may be "
            "billed, and Studio will not collect its result."
        )
    return ""


def label(job: Job) -> str:
    return job.state.value.replace("_", " ")


def _files(job: Job) -> str:
    return "its results" if len(job.files) > 1 else "its result"


def where_now(job: Job) -> tuple[str, Severity]:
    """Where a job stands after an action, in words, and how loud to say it."""
    state = job.state
    if state is JobState.QUEUED:
        return "the task is queued at the gateway; Studio tracks it", "information"
    if state is JobState.RUNNING:
        return f"the task is running ({job.progress}%); Studio tracks it", "information"
    if state is JobState.DOWNLOADING:
        return f"the task has finished; saving {_files(job)} now", "information"
    if state is JobState.SUCCEEDED:
        return f"done, {_files(job)} saved", "information"
    if state is JobState.FAILED:
        return f"failed: {job.failure_reason or 'the gateway gave no reason'}", "error"
    if state is JobState.PENDING:
        return job.message or "its request is being sent", "information"
    return f"{label(job)}: {job.message or job.failure_reason or ''}".rstrip(": "), "warning"


def recheck_said(before: Job, after: Job) -> tuple[str, Severity]:
    """The toast after "check again"."""
    if before.state.is_active and after.state is before.state:
        if after.state in (JobState.QUEUED, JobState.RUNNING):
            return f"Job #{after.id}: checking its task now.", "information"
        return f"Job #{after.id} is {label(after)}: nothing to check yet.", "information"
    said, severity = where_now(after)
    return f"Job #{after.id} checked again: {said}.", severity


def resend_said(after: Job) -> tuple[str, Severity]:
    """The toast after sending an uncertain request again."""
    if after.state is JobState.SUBMISSION_UNCERTAIN:
        return (
            f"Job #{after.id} was sent again, and again got no clear answer "
            f"({after.failure_reason}). It is still not known whether the gateway has it.",
            "warning",
        )
    if after.state is JobState.FAILED:
        return f"Job #{after.id} was sent again and refused: {after.failure_reason}", "error"
    if after.task_id and after.state in (JobState.QUEUED, JobState.RUNNING):
        return (
            f"Job #{after.id} was sent again under the same idempotency key; the gateway "
            f"answered with task {after.task_id}, which Studio now tracks.",
            "information",
        )
    said, severity = where_now(after)
    return f"Job #{after.id} was sent again: {said}.", severity


def attach_said(after: Job) -> tuple[str, Severity]:
    """The toast after a task id was attached."""
    said, severity = where_now(after)
    return f"Task {after.task_id} attached to job #{after.id}: {said}.", severity


def cancel_said(after: Job) -> str:
    if after.message and after.message.startswith("Stopped saving"):
        return f"Job #{after.id}: stopped saving its results; files already saved are kept."
    return (
        f"Job #{after.id} is no longer tracked. The gateway has no cancel: the task may still "
        "finish and be billed; check it again (k) later to collect its result."
    )
