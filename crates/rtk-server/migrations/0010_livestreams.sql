-- Livestreams (issue 13): a livestream is an RTMP ingest point (a stream key) with a playback
-- URL; each ingest, from the publisher's start to its end, is one livestream session.
-- Portable SQL, like every migration; flags are BIGINT 0/1 on both backends.

CREATE TABLE livestreams (
    id            TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES apps(id),
    meeting_id    TEXT,              -- NULL: an independent livestream
    session_id    TEXT,              -- the meeting session it was started in (stops at its end)
    name          TEXT,
    stream_key    TEXT NOT NULL UNIQUE,
    ingest_server TEXT NOT NULL,     -- as the API answered it at creation
    playback_url  TEXT NOT NULL,
    status        TEXT NOT NULL,     -- INVOKED LIVE IDLE ERRORED
    disabled      BIGINT NOT NULL DEFAULT 0,  -- 1 once stopped: the key is refused
    video_config  TEXT NOT NULL DEFAULT '{}',
    start_reason  TEXT NOT NULL,     -- API_CALL | LIVE_STREAM_ON_START
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX livestreams_app ON livestreams(app_id, created_at);
CREATE INDEX livestreams_meeting ON livestreams(meeting_id, disabled);
CREATE INDEX livestreams_session ON livestreams(session_id);

CREATE TABLE livestream_sessions (
    id             TEXT PRIMARY KEY,
    livestream_id  TEXT NOT NULL REFERENCES livestreams(id),
    app_id         TEXT NOT NULL,
    node_id        TEXT NOT NULL,    -- the node whose ingest it is
    invoked_at     BIGINT NOT NULL,
    started_at     BIGINT NOT NULL,
    stopped_at     BIGINT,           -- NULL while the ingest runs
    seen_at        BIGINT NOT NULL,  -- the ingest's last sign of life (a crash ends it here)
    viewer_ms      BIGINT NOT NULL DEFAULT 0,  -- closed playback connections, in total
    err_message    TEXT,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX livestream_sessions_of ON livestream_sessions(livestream_id, started_at);
CREATE INDEX livestream_sessions_app ON livestream_sessions(app_id, started_at);
