-- A dropped peer (its connection closed without a leave) stays live until its heartbeat
-- timeout so that it can resume, but its presence stops counting at the moment the server saw
-- the connection close (`dropped_at`). A session counts such peers apart, and their presence
-- so far is already in `closed_ms`, so that
--   participant-milliseconds = closed_ms + (live_count - dropped_count) * now - live_join_sum
-- where live_join_sum sums joined_at over the live peers that are still connected.
ALTER TABLE peers ADD COLUMN dropped_at BIGINT;
ALTER TABLE sessions ADD COLUMN dropped_count BIGINT NOT NULL DEFAULT 0;

-- Peers dropped under the earlier rule: their presence is taken to stop at their last message.
UPDATE peers SET dropped_at = last_seen_at WHERE left_at IS NULL AND connected = 0;
UPDATE sessions SET
    dropped_count = (SELECT COUNT(*) FROM peers p
                     WHERE p.session_id = sessions.id AND p.left_at IS NULL AND p.connected = 0),
    closed_ms = closed_ms + (SELECT COALESCE(SUM(p.dropped_at - p.joined_at), 0) FROM peers p
                             WHERE p.session_id = sessions.id AND p.left_at IS NULL AND p.connected = 0),
    live_join_sum = live_join_sum - (SELECT COALESCE(SUM(p.joined_at), 0) FROM peers p
                                     WHERE p.session_id = sessions.id AND p.left_at IS NULL AND p.connected = 0)
WHERE status = 'LIVE';

-- The reaper's work: live peers (connected or dropped) whose last message is old enough for
-- the heartbeat timeout. Replaces the index on dropped peers only.
DROP INDEX peers_dropped;
CREATE INDEX peers_live_seen ON peers(last_seen_at) WHERE left_at IS NULL;
