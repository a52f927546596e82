//! Node leases (docs/deployment.md): each node renews its row every few seconds; a node whose
//! lease ran out is taken over by another (its epoch moves on, so the old holder's renewal
//! fails: the fencing token) and its live peers end at their last recorded message.

use super::db::params;
use super::peers::{PeerRow, PEER_COLS};
use super::{Store, StoreResult};
use crate::clock::Millis;

impl Store {
    /// Starts (or restarts) `node_id`'s lease, valid until `now + lease_ms`; its new epoch.
    pub async fn register_node(&self, node_id: &str, now: Millis, lease_ms: Millis) -> StoreResult<i64> {
        let mut w = self.write().await?;
        let epoch: Option<i64> = w
            .optional(
                "INSERT INTO nodes (id, epoch, lease_until, renewed_at, started_at) VALUES ($1, 1, $2, $3, $3) \
                 ON CONFLICT (id) DO UPDATE SET epoch = nodes.epoch + 1, lease_until = excluded.lease_until, \
                   renewed_at = excluded.renewed_at, started_at = excluded.started_at RETURNING epoch",
                params![node_id, now + lease_ms, now],
            )
            .await?;
        w.commit().await?;
        epoch.ok_or_else(|| super::StoreError::Invalid("the node's lease row was not written".into()))
    }

    /// Extends `node_id`'s lease to `now + lease_ms` if it still holds it at `epoch`; false if
    /// another node took it over meanwhile (or the row is gone: a reset).
    pub async fn renew_node(
        &self,
        node_id: &str,
        epoch: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let done = w
            .execute(
                "UPDATE nodes SET lease_until = $1, renewed_at = $2 WHERE id = $3 AND epoch = $4",
                params![now + lease_ms, now, node_id, epoch],
            )
            .await?;
        w.commit().await?;
        Ok(done == 1)
    }

    /// Nodes other than `me` whose lease ran out before `now` and that still hold live peers.
    pub async fn expired_nodes(&self, me: &str, now: Millis) -> StoreResult<Vec<String>> {
        self.db()
            .rows(
                "SELECT id FROM nodes WHERE lease_until < $1 AND id <> $2 AND EXISTS \
                   (SELECT 1 FROM peers WHERE peers.node_id = nodes.id AND peers.left_at IS NULL) ORDER BY id",
                params![now, me],
            )
            .await
    }

    /// Takes over `node_id`'s expired lease (its epoch moves on, so its holder's next renewal
    /// fails); false if the lease is not expired at `now` (it was renewed meanwhile).
    pub async fn take_over_node(&self, node_id: &str, now: Millis) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let done = w
            .execute(
                "UPDATE nodes SET epoch = epoch + 1 WHERE id = $1 AND lease_until < $2",
                params![node_id, now],
            )
            .await?;
        w.commit().await?;
        Ok(done == 1)
    }

    /// The live peers held by `node_id`.
    pub async fn node_live_peers(&self, node_id: &str) -> StoreResult<Vec<PeerRow>> {
        self.db()
            .rows(
                &format!("SELECT {PEER_COLS} FROM peers WHERE node_id = $1 AND left_at IS NULL ORDER BY id"),
                params![node_id],
            )
            .await
    }
}
