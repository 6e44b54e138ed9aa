-- AnyFast Studio schema, version 7: full-text search over every message.
-- requires: fts5
--
-- An external-content FTS5 index: the text lives once, in messages.content; messages_fts keeps
-- only the inverted index (and reads the text back from messages for snippets). Triggers keep
-- it in step with every insert, update and delete, whoever writes (another process, a cascade
-- from a deleted conversation, an import), so the store never has to remember to.
--
-- The tokenizer is unicode61 with remove_diacritics 2: case folded and accents removed for
-- every script ("Café" finds "cafe", "Ärger" finds "arger"), words split at Unicode spaces and
-- punctuation. Not porter: stemming is English-only and turns an exact technical word into a
-- guess. Not trigram: an index about three times the size, and a query shorter than three
-- characters cannot use it, which type-to-search needs most. '_' and '.' stay separators, so
-- "messages" finds search_messages and studio.store, and a quoted query "search_messages" (a
-- phrase of adjacent tokens) still finds the identifier itself.
--
-- prefix = '3' adds an index of every word's first three characters, so a query's last word
-- being typed ("rep" for report, repository, ...) reads one list instead of merging the lists
-- of every word that starts so. Measured by tests/bench/search.py at 100,000 messages: the
-- index's data grows from 34 to 58 MiB (the database from 89 MiB without search to 156 with
-- it), and a three-letter prefix's p95 falls from 47 to 14 ms. Longer prefixes narrow
-- themselves quickly; shorter ones are matched as whole words (see search.py).
--
-- Built without FTS5 (rare: every common Python build has it), the runner skips this script
-- and the store opens without search; a later Studio with FTS5 applies it (see schema.py).

CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (NEW.id, NEW.content);
END;

-- Also fires for the rows a deleted conversation takes with it (ON DELETE CASCADE).
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', OLD.id, OLD.content);
END;

-- Only when the text changes: status, usage and heartbeat updates cost nothing here. A
-- streaming reply's partial saves (about once a second) re-index its text each time, which
-- tests/bench/search.py measures.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF id, content ON messages
WHEN OLD.content IS NOT NEW.content OR OLD.id IS NOT NEW.id
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', OLD.id, OLD.content);
    INSERT INTO messages_fts (rowid, content) VALUES (NEW.id, NEW.content);
END;

-- The date filters of a search turn a time into a bound on message ids with this index, so
-- the newest-first scan of the matches starts at the right place instead of reading (and
-- discarding) every newer message.
CREATE INDEX messages_created ON messages (created_at);

-- A search with filters checks each candidate's role, time and model. Read from the table,
-- each check would load the message's page (and, for the time, follow its text's overflow
-- pages: created_at comes after content); this narrow copy of those columns (about 4 % of the
-- table) answers them from a few cached pages. Used by name (INDEXED BY) in search.py.
CREATE INDEX messages_search ON messages (id, role, created_at, model, conversation_id);

-- Index what an existing database already holds.
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
