-- AnyFast Studio schema, version 4: why a job waits, and how far its download is.
--
-- last_error: a short reason for the last failed attempt to send or check a job ("HTTP 500",
-- "gateway unreachable"), shown in the job list next to the retry countdown; cleared when an
-- attempt succeeds. The full text stays in message.
-- bytes_done / bytes_total / bytes_rate: the results being saved (all files of the job
-- together; total NULL while unknown) and the recent download rate in bytes per second. Written
-- with the engine's batched bookkeeping (about once a second), so every window sees them.

ALTER TABLE jobs ADD COLUMN last_error TEXT;
ALTER TABLE jobs ADD COLUMN bytes_done INTEGER;
ALTER TABLE jobs ADD COLUMN bytes_total INTEGER;
ALTER TABLE jobs ADD COLUMN bytes_rate REAL;
