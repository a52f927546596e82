-- A peer's lost connections (docs/dashboard.md): when it dropped and, if it came back, when it
-- resumed. Written in the transactions of the drop and the resume; read by the dashboard's
-- peer timeline (an rtk extension: RealtimeKit's peer events know joins and leaves only).
CREATE TABLE peer_gaps (
    peer_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    dropped_at BIGINT NOT NULL,
    resumed_at BIGINT,
    PRIMARY KEY (peer_id, dropped_at)
);
CREATE INDEX peer_gaps_session ON peer_gaps(session_id, dropped_at);
