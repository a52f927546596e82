-- Stored chat is bounded per session (Config::max_chat_messages_per_session): the count is
-- kept here, in the same transaction as each message, so the bound costs no scan.
CREATE TABLE chat_counters (
    session_id  TEXT PRIMARY KEY REFERENCES sessions(id),
    messages    BIGINT NOT NULL
);
INSERT INTO chat_counters (session_id, messages)
    SELECT session_id, COUNT(*) FROM chat_messages GROUP BY session_id;
