-- Portable SQL: runs unchanged on SQLite and PostgreSQL.
-- Timestamps are BIGINT milliseconds since the Unix epoch (UTC); ids are opaque TEXT;
-- JSON documents are TEXT; flags are BIGINT 0/1.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_account ON api_tokens(account_id);

-- Participant-token signing keys. Exactly one is active (signs); all verify until retired.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    active      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(active) WHERE active = 1;

CREATE TABLE apps (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX apps_account ON apps(account_id, created_at);

CREATE TABLE presets (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (app_id, name)
);
CREATE INDEX presets_app ON presets(app_id, created_at);

CREATE TABLE meetings (
    id                 TEXT PRIMARY KEY,
    app_id             TEXT NOT NULL REFERENCES apps(id),
    title              TEXT,
    title_lc           TEXT,
    status             TEXT NOT NULL,
    keep_alive_secs    BIGINT NOT NULL,
    body               TEXT NOT NULL,
    parent_meeting_id  TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX meetings_app ON meetings(app_id, created_at);

CREATE TABLE participants (
    id                     TEXT PRIMARY KEY,
    meeting_id             TEXT NOT NULL REFERENCES meetings(id),
    app_id                 TEXT NOT NULL,
    custom_participant_id  TEXT NOT NULL,
    preset_id              TEXT NOT NULL,
    preset_name            TEXT NOT NULL,
    name                   TEXT,
    picture                TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX participants_meeting ON participants(meeting_id, created_at);
