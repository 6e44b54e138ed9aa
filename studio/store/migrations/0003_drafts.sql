-- AnyFast Studio schema, version 3: each conversation's unsent draft.
--
-- What was typed in a conversation's prompt and not sent yet, with the images attached to it,
-- so a draft survives leaving the conversation, quitting and a crash. Written while the user
-- types (debounced), when the conversation is left and on quit; deleted when it is sent (an
-- empty draft is no row at all). Two windows on one database: the last write wins, per
-- conversation. Saving a draft never changes the conversation's updated_at (the list order).

CREATE TABLE drafts (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    text            TEXT    NOT NULL DEFAULT '',
    updated_at      REAL    NOT NULL
);

-- The pending attachments, in order; their bytes last, as in attachments.
CREATE TABLE draft_attachments (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES drafts (conversation_id) ON DELETE CASCADE,
    ordinal         INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    mime            TEXT    NOT NULL,
    url             TEXT,
    width           INTEGER,
    height          INTEGER,
    data            BLOB
);

CREATE INDEX draft_attachments_conversation ON draft_attachments (conversation_id, ordinal);
