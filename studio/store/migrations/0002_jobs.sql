-- AnyFast Studio schema, version 2: the persistent job queue of studio.jobs.
--
-- One row per generation request (a Seedream image request or a Seedance/Kling video task).
-- The row is written *before* the request is sent, so a crash between sending and recording
-- the answer leaves a trace ("submission uncertain") instead of a silent duplicate.
--
-- States, kinds and providers are checked in Python (see studio.store.jobs), like the other
-- enumerations of this schema. JSON columns hold UTF-8 JSON text.

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,            -- image | video
    provider         TEXT    NOT NULL,            -- seedream | seedance | kling
    action           TEXT    NOT NULL,            -- generate | text2video | image2video | ...
    model            TEXT    NOT NULL,
    prompt           TEXT    NOT NULL DEFAULT '',
    -- Every parameter needed to resubmit, local images already turned into data URIs.
    params           TEXT    NOT NULL DEFAULT '{}',
    conversation_id  INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
    retry_of         INTEGER,
    state            TEXT    NOT NULL,
    task_id          TEXT,
    idempotency_key  TEXT    NOT NULL,
    progress         INTEGER NOT NULL DEFAULT 0,
    -- [[at, percent], ...]: the last progress changes, for the ETA.
    progress_points  TEXT    NOT NULL DEFAULT '[]',
    -- {"urls": [...], "errors": [{"index", "code", "message"}]}.
    result           TEXT    NOT NULL DEFAULT '{}',
    -- [{"index", "url", "path", "size", "done", "error", "content_type"}].
    files            TEXT    NOT NULL DEFAULT '[]',
    failure_reason   TEXT,
    -- A human note on the latest event (a retry after 429, the cancel caveat, ...).
    message          TEXT,
    last_response    TEXT,
    -- [[state, at], ...] in order.
    history          TEXT    NOT NULL DEFAULT '[]',
    created_at       REAL    NOT NULL,
    submitted_at     REAL,
    started_at       REAL,
    finished_at      REAL,
    updated_at       REAL    NOT NULL,
    deadline_at      REAL,
    next_poll_at     REAL,
    poll_count       INTEGER NOT NULL DEFAULT 0,
    urls_expire_at   REAL,
    -- host:pid#n of the engine working on the job, and until when its claim holds.
    claimed_by       TEXT,
    lease_until      REAL
);

-- The scheduler's question: which unfinished jobs are due next (and which may be claimed).
CREATE INDEX jobs_unfinished ON jobs (next_poll_at)
    WHERE state IN ('pending', 'queued', 'running', 'downloading');
-- The job list, newest first.
CREATE INDEX jobs_created ON jobs (created_at);
-- Deleting a conversation sets its jobs' link to NULL without scanning the table.
CREATE INDEX jobs_conversation ON jobs (conversation_id) WHERE conversation_id IS NOT NULL;
