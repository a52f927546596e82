-- Transcripts and summaries (issue 12): transcript segments as participants (over the gateway)
-- or the API send them, bounded per session; one summary per session.

CREATE TABLE transcript_segments (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES sessions(id),
    peer_id         TEXT,
    participant_id  TEXT,
    speaker         TEXT NOT NULL,
    text            TEXT NOT NULL,
    start_at        BIGINT NOT NULL,
    end_at          BIGINT NOT NULL,
    source          TEXT NOT NULL,      -- gateway | api
    created_at      BIGINT NOT NULL
);
CREATE INDEX transcript_segments_session ON transcript_segments(session_id, start_at, id);

-- Segments per session, maintained with each insert (the bound is checked against it).
CREATE TABLE transcript_counters (
    session_id  TEXT PRIMARY KEY,
    segments    BIGINT NOT NULL
);

-- A session's summary: PROCESSING while the summariser runs, then COMPLETED (body) or FAILED.
CREATE TABLE summaries (
    session_id  TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL,
    status      TEXT NOT NULL,
    body        TEXT,
    method      TEXT,
    error       TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
