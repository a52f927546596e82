-- The bus's log (docs/deployment.md): every message a node publishes, kept for five minutes,
-- so a node whose listening connection was lost reads what it missed (each node's messages in
-- order, deduplicated by their number). The notification carries the message itself, or
-- `@id` for one too large for a NOTIFY payload (8,000 bytes).
CREATE TABLE bus_log (
    id BIGSERIAL PRIMARY KEY,
    origin TEXT NOT NULL,
    n BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX bus_log_created ON bus_log(created_at);
