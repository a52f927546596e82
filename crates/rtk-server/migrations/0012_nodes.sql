-- Node leases (docs/deployment.md): each node renews its row; when a lease runs out another
-- node takes it over (epoch + 1, the fencing token) and ends the node's peers at their last
-- recorded message.
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    epoch BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL,
    started_at BIGINT NOT NULL
);
CREATE INDEX peers_node_live ON peers(node_id) WHERE left_at IS NULL;
