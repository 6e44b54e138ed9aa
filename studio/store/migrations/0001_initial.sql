-- AnyFast Studio schema, version 1.
--
-- Applied in one transaction by studio.store.schema; the runner sets PRAGMA user_version.
-- Enumerated values (roles, statuses) are checked in Python, not with CHECK constraints, so a
-- later version can add a value without rebuilding a table.
--
-- Ids are AUTOINCREMENT: an id is never reused after a delete, so a regenerated reply, an
-- export or a job can refer to a message without ever meaning another one.
--
-- Messages keep an INTEGER PRIMARY KEY and their text in plain columns so a later migration can
-- add an external-content FTS5 index (content='messages', content_rowid='id') plus triggers
-- without touching this table.

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL,
    title_locked  INTEGER NOT NULL DEFAULT 0,
    model         TEXT,
    system_prompt TEXT,
    temperature   REAL,
    max_tokens    INTEGER,
    archived      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL    NOT NULL,
    updated_at    REAL    NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0
);

-- The sidebar lists active (or archived) conversations, most recently updated first.
CREATE INDEX conversations_archived_updated ON conversations (archived, updated_at);
-- Listing every conversation regardless of the archive flag.
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    role              TEXT    NOT NULL,
    content           TEXT    NOT NULL DEFAULT '',
    reasoning         TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL DEFAULT 'complete',
    model             TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    total_tokens      INTEGER,
    reasoning_tokens  INTEGER,
    cached_tokens     INTEGER,
    finish_reason     TEXT,
    error             TEXT,
    created_at        REAL    NOT NULL,
    updated_at        REAL    NOT NULL,
    -- Refreshed by every partial save while streaming; a stale one means the writer died.
    heartbeat_at      REAL,
    -- host:pid of the process streaming this reply, so a dead writer on this host is
    -- recognised at once rather than when its heartbeat goes stale.
    writer            TEXT
);

-- Ordering within a conversation, history paging, and the guard against two writers taking
-- the same position.
CREATE UNIQUE INDEX messages_conversation_position ON messages (conversation_id, position);
-- Only streaming replies are indexed, so recovering interrupted ones never scans the table.
CREATE INDEX messages_streaming ON messages (heartbeat_at) WHERE status = 'streaming';

-- message_count stays right whoever writes (another process, a cascade delete).
CREATE TRIGGER messages_count_insert AFTER INSERT ON messages
BEGIN
    UPDATE conversations SET message_count = message_count + 1 WHERE id = NEW.conversation_id;
END;

CREATE TRIGGER messages_count_delete AFTER DELETE ON messages
BEGIN
    UPDATE conversations SET message_count = message_count - 1 WHERE id = OLD.conversation_id;
END;

CREATE TABLE attachments (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    mime       TEXT    NOT NULL,
    size       INTEGER NOT NULL DEFAULT 0,
    url        TEXT,
    width      INTEGER,
    height     INTEGER,
    -- Last, so reading the metadata columns never walks the blob's overflow pages.
    data       BLOB
);

CREATE INDEX attachments_message ON attachments (message_id, ordinal);

-- Small JSON values of UI state: open tabs, the selected conversation and the like.
CREATE TABLE app_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE prompt_history (
    id         INTEGER PRIMARY KEY,
    text       TEXT NOT NULL,
    created_at REAL NOT NULL
);
