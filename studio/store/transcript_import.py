"""Rebuilding conversations read from a transcript (``studio import``) in the store.

Plain functions over the store's own write transaction (like :mod:`studio.store.watch` reads
through its read transaction): every conversation of one import goes in in one transaction, so
a refused or failing import leaves nothing half-written.

What is kept exactly: the uuid, title, settings and timestamps of each conversation; each
message's position, role, text, reasoning, status, model, usage, finish reason, error,
timestamps and attachments (bytes included); the job a message stands for, rebuilt as a job row
from its snapshot. Two things cannot be kept as they were, by design:

* a reply still ``streaming`` when exported is imported as ``cut`` (no one is writing it here);
* a job still active (pending, queued, running, downloading) is imported as ``timed_out``, so no
  engine starts polling (and downloading to the same paths as) a task another store follows;
  the user may check it again.
"""

from __future__ import annotations

import sqlite3
import uuid as uuidlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio.store.base import last_rowid
from studio.store.conversations import row_to_conversation
from studio.store.job_records import JobFile, JobKind, JobProvider, JobState
from studio.store.job_rows import dumps
from studio.store.message_rows import usage_values
from studio.store.models import Conversation, MessageStatus, Role, StoreError
from studio.usage import Usage

if TYPE_CHECKING:
    from studio.store.store import Store

COPY_MARK = " (copy)"
"""Added to the title of a conversation imported as a copy."""


class ConversationExists(StoreError):
    """An imported conversation's uuid is in the store already (and no copy was asked for)."""

    def __init__(self, uuid: str, title: str) -> None:
        super().__init__(f"the conversation {title!r} ({uuid}) is already in the store")
        self.uuid = uuid
        self.title = title


@dataclass(frozen=True, slots=True)
class ImportedAttachment:
    """An attachment to rebuild: its metadata and its bytes (``None`` when known by URL)."""

    name: str
    mime: str
    size: int
    data: bytes | None
    url: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class ImportedJob:
    """The job a message stands for, as its snapshot described it (ids are this store's)."""

    kind: JobKind
    provider: JobProvider
    action: str
    model: str
    prompt: str
    params: Mapping[str, Any]
    state: JobState
    progress: int
    task_id: str | None
    failure_reason: str | None
    last_error: str | None
    created_at: float
    submitted_at: float | None
    started_at: float | None
    finished_at: float | None
    deadline_at: float | None
    urls_expire_at: float | None
    files: tuple[JobFile, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportedMessage:
    """A message to rebuild at its position."""

    position: int
    role: Role
    content: str
    reasoning: str
    status: MessageStatus
    model: str | None
    usage: Usage | None
    finish_reason: str | None
    error: str | None
    created_at: float
    updated_at: float
    attachments: tuple[ImportedAttachment, ...] = ()
    job_linked: bool = False
    """The message stands for a job (shown, never sent to the chat model)."""
    job: ImportedJob | None = None
    """That job's snapshot; ``None`` when the job was no longer in the exporting store."""


@dataclass(frozen=True, slots=True)
class ImportedConversation:
    """A conversation to rebuild, with its messages in order."""

    uuid: str
    title: str
    title_locked: bool
    model: str | None
    system_prompt: str | None
    temperature: float | None
    max_tokens: int | None
    archived: bool
    created_at: float
    updated_at: float
    messages: tuple[ImportedMessage, ...] = field(default=())


_INSERT_CONVERSATION = (
    "INSERT INTO conversations (uuid, title, title_locked, model, system_prompt, temperature,"
    " max_tokens, archived, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_MESSAGE = (
    "INSERT INTO messages (conversation_id, position, role, content, reasoning, status, model,"
    " prompt_tokens, completion_tokens, total_tokens, reasoning_tokens, cached_tokens,"
    " finish_reason, error, created_at, updated_at, job_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_ATTACHMENT = (
    "INSERT INTO attachments (message_id, ordinal, name, mime, size, url, width, height, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_JOB = (
    "INSERT INTO jobs (kind, provider, action, model, prompt, params, conversation_id, state,"
    " task_id, idempotency_key, progress, result, files, failure_reason, history, created_at,"
    " submitted_at, started_at, finished_at, updated_at, deadline_at, urls_expire_at,"
    " last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def import_conversations(
    store: Store, conversations: Sequence[ImportedConversation], *, copy: bool = False
) -> list[Conversation]:
    """Rebuild ``conversations`` in ``store`` in one transaction; return them as stored.

    A conversation whose uuid the store holds already raises :class:`ConversationExists`
    (nothing is written), unless ``copy``: then it comes in under a new uuid with
    :data:`COPY_MARK` added to its title. Conversations are inserted in reverse order, so that
    among equal ``updated_at`` values the store lists them in the order given.
    """
    with store._write() as conn:  # the store package's own collaborator
        seen: set[str] = set()
        plans: list[tuple[ImportedConversation, str, str]] = []
        for item in conversations:
            identity, title = item.uuid.lower(), item.title
            exists = identity in seen or _uuid_taken(conn, identity)
            if exists and not copy:
                raise ConversationExists(identity, item.title)
            if exists:
                identity, title = str(uuidlib.uuid4()), item.title + COPY_MARK
            seen.add(identity)
            plans.append((item, identity, title))
        ids = [_insert_conversation(conn, *plan) for plan in reversed(plans)]
        rows = [
            conn.execute(
                "SELECT id, title, title_locked, model, system_prompt, temperature, max_tokens,"
                " archived, created_at, updated_at, message_count, uuid FROM conversations"
                " WHERE id = ?",
                (cid,),
            ).fetchone()
            for cid in reversed(ids)
        ]
    return [row_to_conversation(row) for row in rows]


def _uuid_taken(conn: sqlite3.Connection, identity: str) -> bool:
    row = conn.execute("SELECT 1 FROM conversations WHERE uuid = ?", (identity,)).fetchone()
    return row is not None


def _insert_conversation(
    conn: sqlite3.Connection, item: ImportedConversation, identity: str, title: str
) -> int:
    values: tuple[object, ...] = (identity, title, int(item.title_locked), item.model)
    values += (item.system_prompt, item.temperature, item.max_tokens, int(item.archived))
    cid = last_rowid(
        conn.execute(_INSERT_CONVERSATION, (*values, item.created_at, item.created_at))
    )
    jobs: list[tuple[ImportedJob, int]] = []
    for message in item.messages:
        job_id = _job_for(conn, cid, message, jobs)
        _insert_message(conn, cid, message, job_id)
    # Last: nothing above may leave its own time in the conversation's updated_at.
    conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (item.updated_at, cid))
    return cid


def _insert_message(
    conn: sqlite3.Connection, cid: int, message: ImportedMessage, job_id: int | None
) -> None:
    status = message.status
    if status is MessageStatus.STREAMING:
        status = MessageStatus.CUT
    values: tuple[object, ...] = (cid, message.position, message.role.value, message.content)
    values += (message.reasoning, status.value, message.model, *usage_values(message.usage))
    values += (message.finish_reason, message.error, message.created_at, message.updated_at)
    mid = last_rowid(conn.execute(_INSERT_MESSAGE, (*values, job_id)))
    conn.executemany(
        _INSERT_ATTACHMENT,
        [
            (mid, ordinal, a.name, a.mime, _size(a), a.url, a.width, a.height, a.data)
            for ordinal, a in enumerate(message.attachments)
        ],
    )


def _size(attachment: ImportedAttachment) -> int:
    return len(attachment.data) if attachment.data is not None else attachment.size


def _job_for(
    conn: sqlite3.Connection,
    cid: int,
    message: ImportedMessage,
    jobs: list[tuple[ImportedJob, int]],
) -> int | None:
    """The job id to link ``message`` to: the job rebuilt from its snapshot (once per
    conversation, though the command and the result both name it), a fresh id no job will ever
    take for a link whose job was gone when exported, or ``None`` for a chat message."""
    if not message.job_linked:
        return None
    if message.job is None:
        return _reserve_job_id(conn)
    for known, job_id in jobs:
        if known == message.job:
            return job_id
    job_id = _insert_job(conn, cid, message.job)
    jobs.append((message.job, job_id))
    return job_id


def _insert_job(conn: sqlite3.Connection, cid: int, job: ImportedJob) -> int:
    state = JobState.TIMED_OUT if job.state.is_active else job.state
    changed = job.finished_at if job.finished_at is not None else job.created_at
    result = {"urls": [f.url for f in job.files if f.url]}
    values: tuple[object, ...] = (job.kind.value, job.provider.value, job.action, job.model)
    values += (job.prompt, dumps(dict(job.params)), cid, state.value, job.task_id)
    values += (str(uuidlib.uuid4()), job.progress, dumps(result), dumps(job.files))
    values += (job.failure_reason, dumps([[state.value, changed]]), job.created_at)
    values += (job.submitted_at, job.started_at, job.finished_at, changed, job.deadline_at)
    values += (job.urls_expire_at, job.last_error)
    return last_rowid(conn.execute(_INSERT_JOB, values))


def _reserve_job_id(conn: sqlite3.Connection) -> int:
    """A job id that no job has and none will ever get: ``jobs`` is AUTOINCREMENT, so moving
    its sequence past the id makes SQLite skip it. (A link to a job that no longer existed is
    kept as such: the message stays a job's message, never sent to the chat model.)"""
    top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0]
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'").fetchone()
    reserved = max(int(top), int(row[0]) if row is not None else 0) + 1
    if row is None:
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('jobs', ?)", (reserved,))
    else:
        conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'jobs'", (reserved,))
    return reserved
