-- AnyFast Studio schema, version 5: which job a message belongs to.
--
-- job_id links a message to the job it stands for: the assistant message that shows a job
-- started from the conversation (its live state while it runs, then its result or why it
-- failed), and the user's /image or /video command that made it. Such messages are shown, never
-- sent to the chat model, and "regenerate" on them retries the job. No foreign key: a job
-- removed from the list leaves its message as it was.

ALTER TABLE messages ADD COLUMN job_id INTEGER;

-- One job message per job, found without a scan (two windows may report the same job).
CREATE UNIQUE INDEX messages_job ON messages (job_id)
    WHERE job_id IS NOT NULL AND role = 'assistant';

-- Reports written before this version ("Image job #12 is done ...", "Video job #3 did not
-- finish."): linked to their job, so their images are no longer sent with every chat message.
-- (UPDATE OR IGNORE: a job reported twice keeps its first message linked.)
UPDATE OR IGNORE messages SET job_id = (
    SELECT j.id FROM jobs AS j
    WHERE j.conversation_id = messages.conversation_id
      AND (messages.content LIKE 'Image job #' || j.id || ' %'
           OR messages.content LIKE 'Video job #' || j.id || ' %')
)
WHERE role = 'assistant' AND (content LIKE 'Image job #%' OR content LIKE 'Video job #%');
