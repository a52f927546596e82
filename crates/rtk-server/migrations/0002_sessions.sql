-- Sessions: live instances of meetings, created by participants joining through the gateway.
-- Aggregates are maintained at each join/leave so every read is O(1):
--   minutes_consumed = (closed_ms + live_count * now - live_join_sum) / 60000
CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY,
    app_id             TEXT NOT NULL,
    seq                BIGINT NOT NULL,        -- 1, 2, … in the app's order of creation
    meeting_id         TEXT NOT NULL,
    meeting_title      TEXT,
    parent_session_id  TEXT,
    status             TEXT NOT NULL,          -- LIVE | ENDED
    keep_alive_ms      BIGINT NOT NULL,        -- the meeting's keep-alive when the session started
    started_at         BIGINT NOT NULL,
    ended_at           BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    live_count         BIGINT NOT NULL,        -- peers connected now
    max_live           BIGINT NOT NULL,        -- peak of live_count
    peer_count         BIGINT NOT NULL,        -- peers that ever joined
    closed_ms          BIGINT NOT NULL,        -- sum of closed presence intervals
    live_join_sum      BIGINT NOT NULL,        -- sum of joined_at over live peers
    last_leave_at      BIGINT,                 -- latest leave time
    ends_at            BIGINT                  -- keep-alive deadline while live_count = 0
);
-- At most one LIVE session per meeting, across every node on the database.
CREATE UNIQUE INDEX sessions_one_live ON sessions(meeting_id) WHERE status = 'LIVE';
-- Pages of an app's sessions are index seeks on seq, whatever the page number.
CREATE UNIQUE INDEX sessions_app_seq ON sessions(app_id, seq);
CREATE INDEX sessions_meeting_created ON sessions(meeting_id, created_at);
CREATE INDEX sessions_parent ON sessions(parent_session_id);
CREATE INDEX sessions_due ON sessions(ends_at) WHERE status = 'LIVE';

-- How many sessions each app has had: the unfiltered total of the sessions list, and the
-- source of each new session's seq.
CREATE TABLE app_counters (
    app_id    TEXT PRIMARY KEY,
    sessions  BIGINT NOT NULL
);

-- Peers: one connection's presence in a session (a participant on two devices is two peers).
CREATE TABLE peers (
    id                     TEXT PRIMARY KEY,
    session_id             TEXT NOT NULL REFERENCES sessions(id),
    meeting_id             TEXT NOT NULL,
    participant_id         TEXT NOT NULL,
    custom_participant_id  TEXT NOT NULL,
    display_name           TEXT,
    preset_name            TEXT NOT NULL,
    device                 TEXT,                -- JSON metadata sent with join
    joined_at              BIGINT NOT NULL,
    left_at                BIGINT,
    last_seen_at           BIGINT NOT NULL,
    leave_reason           TEXT,
    connected              BIGINT NOT NULL,     -- 1 while its connection is open, 0 once dropped
    node_id                TEXT,                -- the rtk node holding its connection
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX peers_session ON peers(session_id, joined_at);
CREATE INDEX peers_participant ON peers(participant_id, joined_at);
CREATE INDEX peers_live ON peers(session_id) WHERE left_at IS NULL;
-- The reaper's work: dropped peers whose heartbeat timeout may have run out.
CREATE INDEX peers_dropped ON peers(last_seen_at) WHERE left_at IS NULL AND connected = 0;

CREATE TABLE chat_messages (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES sessions(id),
    peer_id         TEXT NOT NULL,
    participant_id  TEXT NOT NULL,
    display_name    TEXT,
    message         TEXT NOT NULL,
    sent_at         BIGINT NOT NULL
);
CREATE INDEX chat_session ON chat_messages(session_id, sent_at, id);

CREATE TABLE polls (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
