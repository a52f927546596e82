//! The bus between nodes sharing one PostgreSQL database: PostgreSQL `LISTEN/NOTIFY` on one
//! channel, no other component (docs/deployment.md).
//!
//! Each node publishes what its [`Hub`] could not deliver itself ([`Remote`]: broadcasts to a
//! session, messages for peers held elsewhere, moves, resumes, session ends) and applies what
//! the others publish. The store stays the truth: nothing acknowledged depends on a message
//! arriving. A node that may have missed messages (its listening connection was lost) checks
//! its connected peers against the store ([`crate::engine::Engine::resync`]); one that missed a
//! leave also learns it at its peer's next heartbeat flush.
//!
//! Limits: a NOTIFY payload is at most 8,000 bytes, so a larger message is stored in
//! `bus_spill` and the notification carries its id; one node's messages arrive in the order
//! it published them (one publishing connection), messages of different nodes in the order
//! their notifications committed.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc;

use crate::engine::{Engine, Hub, Remote};

/// The channel every node listens on.
pub const CHANNEL: &str = "rtk_bus";

/// Messages the publisher may hold for the database before it drops (and counts) new ones.
pub const QUEUE: usize = 65_536;

/// Payloads above this many bytes go through `bus_spill` (NOTIFY's limit is 8,000).
const INLINE_MAX: usize = 7_000;

/// How long a spilled message is kept for the nodes to read it.
const SPILL_TTL_SECS: i64 = 300;

/// Messages sent in one round trip.
const BATCH: usize = 256;

/// One message on the wire: who sent it, its number at that node (so two equal messages in one
/// transaction are not folded into one by PostgreSQL), and what it says.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The sending node.
    o: String,
    /// Its sequence number there.
    n: u64,
    #[serde(flatten)]
    m: Remote,
}

/// Starts the bus of this node: the hub publishes through it from now on, and what other nodes
/// publish reaches the hub. Returns the two tasks (publisher, listener).
pub async fn start(
    pool: PgPool,
    node_id: String,
    engine: Engine,
) -> anyhow::Result<(tokio::task::JoinHandle<()>, tokio::task::JoinHandle<()>)> {
    let mut listener = PgListener::connect_with(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("the bus cannot open its listening connection: {e}"))?;
    listener.listen(CHANNEL).await.map_err(|e| anyhow::anyhow!("the bus cannot LISTEN on {CHANNEL}: {e}"))?;
    let (tx, rx) = mpsc::channel(QUEUE);
    engine.hub().set_remote(tx);
    let publisher = tokio::spawn(publish(pool.clone(), node_id.clone(), rx));
    let listening = tokio::spawn(listen(pool, listener, node_id, engine));
    Ok((publisher, listening))
}

async fn publish(pool: PgPool, node_id: String, mut rx: mpsc::Receiver<Remote>) {
    let mut n: u64 = 0;
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut payloads = Vec::with_capacity(batch.len());
        for m in batch.drain(..) {
            n += 1;
            match serde_json::to_string(&Envelope { o: node_id.clone(), n, m }) {
                Ok(p) => payloads.push(p),
                Err(e) => tracing::error!(error = %e, "a bus message could not be serialised"),
            }
        }
        metrics::counter!("rtk_bus_published_total").increment(payloads.len() as u64);
        // A database that does not answer is retried a few times; after that the messages are
        // dropped (the store has every change; peers catch up from it).
        let mut wait = Duration::from_millis(50);
        for attempt in 1..=5 {
            match send(&pool, &payloads).await {
                Ok(()) => break,
                Err(e) if attempt < 5 => {
                    tracing::debug!(error = %e, attempt, "bus: publishing failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => {
                    metrics::counter!("rtk_bus_dropped_total").increment(payloads.len() as u64);
                    tracing::warn!(error = %e, messages = payloads.len(), "bus: messages for other nodes were dropped (the database did not take them; peers catch up from the store)");
                }
            }
        }
    }
}

/// Sends `payloads` in order in one transaction (one round trip); large ones through
/// `bus_spill`.
async fn send(pool: &PgPool, payloads: &[String]) -> Result<(), sqlx::Error> {
    let mut wire = Vec::with_capacity(payloads.len());
    for p in payloads {
        if p.len() <= INLINE_MAX {
            wire.push(p.clone());
        } else {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO bus_spill (body, created_at) VALUES ($1, EXTRACT(EPOCH FROM now())::BIGINT) RETURNING id",
            )
            .bind(p)
            .fetch_one(pool)
            .await?;
            wire.push(format!("@{id}"));
        }
    }
    sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, i) ORDER BY i")
        .bind(CHANNEL)
        .bind(&wire)
        .execute(pool)
        .await?;
    Ok(())
}

async fn listen(pool: PgPool, mut listener: PgListener, node_id: String, engine: Engine) {
    let hub: Hub = engine.hub().clone();
    let mut wait = Duration::from_millis(100);
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                wait = Duration::from_millis(100);
                if let Some(m) = decode(&pool, &node_id, n.payload()).await {
                    metrics::counter!("rtk_bus_received_total").increment(1);
                    hub.apply(m);
                }
            }
            Ok(None) => {
                // The connection was lost (and is re-opened by the next call): what was
                // published meanwhile never arrives here. Catch up from the store.
                tracing::warn!("bus: the listening connection was lost; reconnecting and checking this node's peers against the store");
                metrics::counter!("rtk_bus_gaps_total").increment(1);
                resync(&engine).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?wait, "bus: cannot listen; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
                // Reconnected or not, messages may have been missed.
                resync(&engine).await;
            }
        }
    }
}

async fn resync(engine: &Engine) {
    if let Err(e) = engine.resync().await {
        tracing::warn!(error = %e, "bus: could not check this node's peers against the store; the next heartbeat flush does");
    }
}

/// The message in `payload`, or `None` if this node sent it (it has applied it already) or it
/// cannot be read (logged).
async fn decode(pool: &PgPool, node_id: &str, payload: &str) -> Option<Remote> {
    let text = match payload.strip_prefix('@') {
        Some(id) => {
            let id: i64 = id.parse().ok()?;
            match sqlx::query_scalar::<_, String>("SELECT body FROM bus_spill WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
            {
                Ok(Some(b)) => b,
                Ok(None) => {
                    tracing::warn!(id, "bus: a spilled message is gone before it was read");
                    return None;
                }
                Err(e) => {
                    tracing::warn!(id, error = %e, "bus: a spilled message could not be read");
                    return None;
                }
            }
        }
        None => payload.to_string(),
    };
    match serde_json::from_str::<Envelope>(&text) {
        Ok(e) if e.o == node_id => None,
        Ok(e) => Some(e.m),
        Err(e) => {
            tracing::warn!(error = %e, "bus: a message could not be read");
            None
        }
    }
}

/// Deletes spilled messages older than their time to live (run from the lease renewal).
pub async fn prune(pool: &PgPool) {
    let r = sqlx::query("DELETE FROM bus_spill WHERE created_at < EXTRACT(EPOCH FROM now())::BIGINT - $1")
        .bind(SPILL_TTL_SECS)
        .execute(pool)
        .await;
    if let Err(e) = r {
        tracing::debug!(error = %e, "bus: pruning spilled messages failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire form carries the sender and number beside the message's own fields.
    #[test]
    fn envelopes_round_trip() {
        let m = Remote::Broadcast { session: "s".into(), except: None, frame: "{\"type\":\"x\"}".into() };
        let text = serde_json::to_string(&Envelope { o: "a".into(), n: 7, m: m.clone() }).unwrap();
        assert!(text.starts_with("{\"o\":\"a\",\"n\":7,\"k\":\"broadcast\""), "{text}");
        let back: Envelope = serde_json::from_str(&text).unwrap();
        assert_eq!((back.o.as_str(), back.n, back.m), ("a", 7, m));
    }
}
