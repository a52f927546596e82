-- Webhooks (issue 11): subscriptions, the signing key of deliveries, the outbox of events to
-- deliver and the log of every attempt. Portable SQL, like every migration.

-- A subscription. One URL at most once per app (a second is 409): two subscriptions to one
-- URL would deliver every event twice under two rtk-uuids.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    name        TEXT NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,           -- JSON array of event names
    enabled     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    -- A URL that keeps failing is throttled: no attempt to it before this time.
    failures    BIGINT NOT NULL DEFAULT 0,
    throttled_until BIGINT NOT NULL DEFAULT 0,
    UNIQUE (app_id, url)
);
CREATE INDEX webhooks_app ON webhooks(app_id, created_at);

-- The RSA key pair that signs deliveries: the private key sealed under the key file's KEK,
-- like the participant-token keys. One row; made on first start.
CREATE TABLE webhook_keys (
    kid          TEXT PRIMARY KEY,
    private_key  TEXT NOT NULL,          -- sealed PKCS#8 DER
    public_key   TEXT NOT NULL,          -- SPKI PEM
    created_at   BIGINT NOT NULL
);

-- One row per event per subscribed webhook, written in the transaction of the change it
-- reports. id is the rtk-uuid. Rows of one (webhook_id, order_key) are delivered in seq
-- order: a row is attempted only when no earlier one of its chain is pending.
CREATE TABLE webhook_outbox (
    id               TEXT PRIMARY KEY,
    webhook_id       TEXT NOT NULL,
    app_id           TEXT NOT NULL,
    event            TEXT NOT NULL,
    order_key        TEXT NOT NULL,      -- the session id (the event id when it has none)
    seq              BIGINT NOT NULL,
    body             TEXT NOT NULL,      -- the exact bytes delivered and signed
    state            TEXT NOT NULL,      -- pending | delivered | failed | cancelled
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    done_at          BIGINT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at) WHERE state = 'pending';
CREATE UNIQUE INDEX webhook_outbox_chain ON webhook_outbox(webhook_id, order_key, seq);
CREATE INDEX webhook_outbox_log ON webhook_outbox(webhook_id, created_at);

-- Every attempt: when, the receiver's status (null: no answer), latency and error.
CREATE TABLE webhook_attempts (
    id          TEXT PRIMARY KEY,
    outbox_id   TEXT NOT NULL,
    at          BIGINT NOT NULL,
    status      BIGINT,
    latency_ms  BIGINT NOT NULL,
    error       TEXT
);
CREATE INDEX webhook_attempts_outbox ON webhook_attempts(outbox_id, at);
