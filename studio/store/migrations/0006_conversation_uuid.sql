-- AnyFast Studio schema, version 6: a stable identity for every conversation.
--
-- The integer id is this database's own; the uuid travels with a conversation through an
-- export and an import into another store (or the same one, where an existing uuid is refused
-- unless the import asks for a copy). New conversations get a uuid4 from Python; existing ones
-- get a random version-4 uuid here. ALTER TABLE cannot add a NOT NULL column without a
-- default, so the store always writes one instead.

ALTER TABLE conversations ADD COLUMN uuid TEXT;

UPDATE conversations SET uuid =
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
    || substr(lower(hex(randomblob(2))), 2) || '-'
    || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-'
    || lower(hex(randomblob(6)))
WHERE uuid IS NULL;

CREATE UNIQUE INDEX conversations_uuid ON conversations (uuid);
