//! This node's lease, and the takeover of other nodes' expired ones (docs/deployment.md).
//!
//! A node registers at start (a new epoch) and renews at most every fifth of the lease from
//! the reaper's tick, on the engine's clock. When another node's lease has run out, any node's
//! tick takes it over (the epoch moves on) and ends its live peers at their last recorded
//! message, as the single-node heartbeat rule would, only sooner: the ghost time after a
//! node's death is at most the lease plus a tick. A node that finds its lease taken over closes
//! its connections (their peers may have been ended: their clients resume or join again) and
//! registers anew; one whose renewals fail refuses joins once its lease has run out. A node
//! takes no lease over before it has held its own for a whole lease (since its start, or since
//! its own lease last ran out): after an outage of the database, every node gets that long to
//! renew before any is taken for dead.

use rtk_api::gateway::close;

use super::{Engine, EngineError, EngineResult, Outbound};
use crate::clock::Millis;

/// Default lease: a node silent this long is taken for dead.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Default)]
pub(super) struct Lease {
    /// Length of a lease (ms); 0: this node holds no lease (none registered yet).
    pub ms: Millis,
    pub epoch: i64,
    /// The last successful renewal (or the registration): the lease holds until a lease after.
    pub renewed_at: Millis,
    /// The last renewal failed (the store did not answer).
    pub failing: bool,
    /// Since when this node's lease has held without a break (its start, or the first renewal
    /// after its lease had run out). It takes no other node's lease over before holding its
    /// own for a whole lease: after an outage of the database every node gets that long to
    /// renew before any is taken for dead.
    pub holding_since: Millis,
}

impl Engine {
    fn lease_lock(&self) -> std::sync::MutexGuard<'_, Lease> {
        self.lease.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers this node's lease of `length` (a new epoch); renewed by every tick from now on.
    pub async fn register_node(&self, length: std::time::Duration) -> EngineResult<i64> {
        let Some(node) = self.node_id.clone() else {
            return Err(EngineError::Invalid("a node lease needs a node id".into()));
        };
        let ms = length.as_millis() as Millis;
        let now = self.now();
        let epoch = self.store.register_node(&node, now, ms).await?;
        *self.lease_lock() = Lease { ms, epoch, renewed_at: now, failing: false, holding_since: now };
        tracing::info!(node_id = %node, epoch, lease = ?length, "node lease registered");
        Ok(epoch)
    }

    /// False while this node may not take joins: its renewals failed and its lease ran out
    /// (other nodes may be ending its peers).
    pub(super) fn lease_holds(&self, now: Millis) -> bool {
        let l = self.lease_lock();
        l.ms == 0 || !l.failing || now <= l.renewed_at + l.ms
    }

    /// Renews this node's lease when a fifth of it has passed; on a takeover, closes this node's
    /// connections and registers anew.
    pub(super) async fn renew_lease(&self) -> EngineResult<()> {
        let Some(node) = self.node_id.clone() else { return Ok(()) };
        let now = self.now();
        let (ms, epoch, due) = {
            let l = self.lease_lock();
            (l.ms, l.epoch, l.failing || now - l.renewed_at >= l.ms / 5)
        };
        if ms == 0 || !due {
            return Ok(());
        }
        match self.store.renew_node(&node, epoch, now, ms).await {
            Ok(true) => {
                let mut l = self.lease_lock();
                if now > l.renewed_at + ms {
                    // Its own lease had run out (an outage, or a pause): start again.
                    l.holding_since = now;
                }
                l.renewed_at = now;
                l.failing = false;
                Ok(())
            }
            Ok(false) => {
                tracing::warn!(
                    node_id = %node,
                    epoch,
                    connections = self.hub.connected(),
                    "this node's lease was taken over by another node (it did not renew in time): closing its connections; their clients resume or join again"
                );
                metrics::counter!("rtk_node_lease_lost_total").increment(1);
                self.hub.close_all(close::GOING_AWAY, "this node lost its lease; connect again");
                self.beats_lock().clear();
                self.register_node(std::time::Duration::from_millis(ms as u64)).await?;
                Ok(())
            }
            Err(e) => {
                self.lease_lock().failing = true;
                Err(e.into())
            }
        }
    }

    /// Takes over the leases of nodes that stopped renewing and ends their live peers at their
    /// last recorded message; how many peers left.
    pub(super) async fn reap_nodes(&self) -> EngineResult<usize> {
        let Some(me) = self.node_id.clone() else { return Ok(0) };
        let now = self.now();
        let settled = {
            let l = self.lease_lock();
            l.ms > 0 && !l.failing && now - l.holding_since >= l.ms
        };
        if !settled {
            return Ok(0);
        }
        let mut ended = 0;
        for node in self.store.expired_nodes(&me, now).await? {
            if !self.store.take_over_node(&node, now).await? {
                // Renewed since the read: alive after all.
                continue;
            }
            metrics::counter!("rtk_node_takeovers_total").increment(1);
            let peers = self.store.node_live_peers(&node).await?;
            let mut here = 0;
            for p in peers {
                // At its last recorded message (or its drop); a message recorded since this
                // read (the node is alive after all, or the peer resumed) keeps it.
                if self.timed_out(&p.id, 0, p.last_seen_at).await?.is_some() {
                    self.hub.send(&p.id, Outbound::Close(close::TIMEOUT, "its node stopped".into()));
                    here += 1;
                }
            }
            if here > 0 {
                tracing::info!(node_id = %node, peers = here, "a node's lease ran out: its peers left at their last heartbeat");
            }
            ended += here;
        }
        Ok(ended)
    }

    /// Checks this node's connected peers against the store (after the bus may have missed
    /// messages): a connection whose peer has left is closed with the code its leave calls for.
    pub async fn resync(&self) -> EngineResult<usize> {
        let mut closed = 0;
        for id in self.hub.peer_ids() {
            let code = match self.store.peer(&id).await? {
                Some(p) if p.left_at.is_none() => continue,
                Some(p) => match p.leave_reason.as_deref() {
                    Some("kicked") => close::KICKED,
                    Some("participant_deleted") => close::PARTICIPANT_REVOKED,
                    Some("heartbeat_timeout") => close::TIMEOUT,
                    _ => close::SESSION_ENDED,
                },
                None => close::SESSION_ENDED,
            };
            self.hub.send(&id, Outbound::Close(code, "this peer is no longer in the session".into()));
            closed += 1;
        }
        Ok(closed)
    }
}
