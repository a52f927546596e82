-- Recordings (issue 12): one row per recording, its state machine and what its file came to.
-- Portable SQL, like every migration; flags are BIGINT 0/1 on both backends.

CREATE TABLE recordings (
    id                TEXT PRIMARY KEY,
    app_id            TEXT NOT NULL REFERENCES apps(id),
    meeting_id        TEXT NOT NULL,
    session_id        TEXT,              -- the session recorded
    kind              TEXT NOT NULL,     -- composite | track
    status            TEXT NOT NULL,     -- INVOKED RECORDING PAUSED UPLOADING UPLOADED ERRORED
    invoked_at        BIGINT NOT NULL,
    started_at        BIGINT,
    stopped_at        BIGINT,
    paused_at         BIGINT,            -- while PAUSED: since when
    paused_ms         BIGINT NOT NULL DEFAULT 0,  -- closed pauses, in total
    pauses            TEXT NOT NULL DEFAULT '[]', -- JSON [[from, to], ...]: the closed pauses
    max_seconds       BIGINT,
    start_reason      TEXT NOT NULL,     -- API_CALL | RECORD_ON_START
    stop_reason       TEXT,              -- API_CALL | ALL_PEERS_LEFT | INTERNAL_ERROR | MAX_SECONDS
    output_file_name  TEXT NOT NULL,
    config            TEXT NOT NULL,     -- JSON: the start body as given, secrets removed
    file_size         BIGINT,
    storage_key       TEXT,
    download_expires_at BIGINT,
    err_message       TEXT,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX recordings_app ON recordings(app_id, invoked_at);
CREATE INDEX recordings_meeting ON recordings(meeting_id, invoked_at);
CREATE INDEX recordings_session ON recordings(session_id);
-- What the recorder still has to act on: running ones (max_seconds) and uploads.
CREATE INDEX recordings_open ON recordings(status) WHERE status IN ('INVOKED', 'RECORDING', 'PAUSED', 'UPLOADING');

-- A session's metadata as GET …/sessions/{id} shows it (`meta`): its recordings, kept with the
-- session row so reads (and the in-memory hot path) need no join.
ALTER TABLE sessions ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';

-- Analytics (GET …/analytics/daywise): per app and UTC day (days since the Unix epoch,
-- `started_at / 86400000`), maintained in the transactions that start and end sessions and
-- recordings, so a report over any range reads one row a day, however many sessions there are.
-- A session counts on the day it started; its presence (ms) is added when it ends. A recording
-- counts on the day it was invoked; its recorded time (ms, pauses excluded) is added when it stops.
CREATE TABLE daily_stats (
    app_id        TEXT NOT NULL,
    day           BIGINT NOT NULL,
    sessions      BIGINT NOT NULL DEFAULT 0,
    session_ms    BIGINT NOT NULL DEFAULT 0,
    recordings    BIGINT NOT NULL DEFAULT 0,
    recording_ms  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, day)
);
INSERT INTO daily_stats (app_id, day, sessions, session_ms, recordings, recording_ms)
SELECT app_id, started_at / 86400000, COUNT(*), SUM(CASE WHEN status = 'ENDED' THEN closed_ms ELSE 0 END), 0, 0
FROM sessions GROUP BY app_id, started_at / 86400000;
