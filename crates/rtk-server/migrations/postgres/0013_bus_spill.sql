-- Bus messages too large for a NOTIFY payload (8,000 bytes): the notification carries the id.
CREATE TABLE bus_spill (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX bus_spill_created ON bus_spill(created_at);
