//! The bus between nodes sharing one PostgreSQL database: PostgreSQL `LISTEN/NOTIFY` on one
//! channel and a log table beside it, no other component (docs/deployment.md).
//!
//! Each node publishes what its [`Hub`] could not deliver itself ([`Remote`]: broadcasts to a
//! session, messages for peers held elsewhere, moves, resumes, session ends) and applies what
//! the others publish. A batch of messages is one transaction: the messages go into `bus_log`
//! and out as notifications, in order. A publish that fails (the database is away) is retried
//! until it goes through. A node whose listening connection was lost connects again, reads from
//! `bus_log` what was published meanwhile and applies what it had not seen (every message
//! carries its sender's instance and number, so nothing is applied twice), then checks its
//! connected peers against the store ([`crate::engine::Engine::resync`]). The store stays the
//! truth: nothing acknowledged depends on a message.
//!
//! Limits: a NOTIFY payload is at most 8,000 bytes, so a larger message's notification carries
//! its `bus_log` id instead; one node's messages arrive in the order it published them (one
//! publishing connection), messages of different nodes in the order their transactions
//! committed; the log keeps five minutes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc;

use crate::engine::{Engine, Remote};

/// The channel every node listens on.
pub const CHANNEL: &str = "rtk_bus";

/// Messages the publisher may hold for the database before it drops (and counts) new ones.
pub const QUEUE: usize = 65_536;

/// Payloads above this many bytes are read from `bus_log` (NOTIFY's limit is 8,000).
const INLINE_MAX: usize = 7_000;

/// How long the log keeps a message, in ms.
const LOG_TTL_MS: i64 = 300_000;

/// How far before a lost connection was noticed the catch-up reads, in ms.
const CATCH_UP_MARGIN_MS: u128 = 10_000;

/// How often each node deletes the messages past the log's time.
const PRUNE_EVERY: Duration = Duration::from_secs(30);

/// Messages sent in one transaction.
const BATCH: usize = 256;

/// `now()` of the database, in ms (so the nodes' clocks do not matter to the log).
const DB_NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// One message on the wire: its sender (the node's id and this run's instance), its number
/// there (in publishing order), and what it says.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    o: String,
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
    let listener = subscribe(&pool).await?;
    let origin = format!("{node_id}:{}", uuid::Uuid::new_v4().simple());
    let (tx, rx) = mpsc::channel(QUEUE);
    engine.hub().set_remote(tx);
    let publisher = tokio::spawn(publish(pool.clone(), origin.clone(), rx));
    let listening = tokio::spawn(Listening { pool, origin, engine, seen: HashMap::new() }.run(listener));
    Ok((publisher, listening))
}

async fn subscribe(pool: &PgPool) -> anyhow::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool)
        .await
        .map_err(|e| anyhow::anyhow!("the bus cannot open its listening connection: {e}"))?;
    listener.listen(CHANNEL).await.map_err(|e| anyhow::anyhow!("the bus cannot LISTEN on {CHANNEL}: {e}"))?;
    Ok(listener)
}

async fn publish(pool: PgPool, origin: String, mut rx: mpsc::Receiver<Remote>) {
    let mut n: u64 = 0;
    let mut batch = Vec::with_capacity(BATCH);
    let mut sweep = tokio::time::interval(PRUNE_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let got = tokio::select! {
            got = rx.recv_many(&mut batch, BATCH) => got,
            _ = sweep.tick() => {
                prune(&pool).await;
                continue;
            }
        };
        if got == 0 {
            return;
        }
        let mut msgs = Vec::with_capacity(batch.len());
        for m in batch.drain(..) {
            n += 1;
            match serde_json::to_string(&Envelope { o: origin.clone(), n, m }) {
                Ok(p) => msgs.push((n as i64, p)),
                Err(e) => tracing::error!(error = %e, "a bus message could not be serialised"),
            }
        }
        // Until the database takes them (meanwhile new messages wait in the queue, which drops
        // what does not fit).
        let mut wait = Duration::from_millis(50);
        let mut said = false;
        while let Err(e) = send(&pool, &origin, &msgs).await {
            if !said {
                tracing::warn!(error = %e, messages = msgs.len(), "bus: publishing failed; retrying until the database takes them");
                said = true;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(2));
        }
        if said {
            tracing::info!(messages = msgs.len(), "bus: published after a retry");
        }
        metrics::counter!("rtk_bus_published_total").increment(msgs.len() as u64);
    }
}

/// Logs `msgs` and notifies them, in order, in one transaction.
async fn send(pool: &PgPool, origin: &str, msgs: &[(i64, String)]) -> Result<(), sqlx::Error> {
    let ns: Vec<i64> = msgs.iter().map(|(n, _)| *n).collect();
    let bodies: Vec<&str> = msgs.iter().map(|(_, b)| b.as_str()).collect();
    let mut tx = pool.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar(&format!(
        "INSERT INTO bus_log (origin, n, body, created_at) \
         SELECT $1, n, body, {DB_NOW_MS} FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS t(n, body, i) \
         ORDER BY i RETURNING id"
    ))
    .bind(origin)
    .bind(&ns)
    .bind(&bodies)
    .fetch_all(&mut *tx)
    .await?;
    // RETURNING follows the insert order; ids are assigned in it.
    let mut ids = ids;
    ids.sort_unstable();
    let wire: Vec<String> = msgs
        .iter()
        .zip(&ids)
        .map(|((_, body), id)| if body.len() <= INLINE_MAX { body.clone() } else { format!("@{id}") })
        .collect();
    sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, i) ORDER BY i")
        .bind(CHANNEL)
        .bind(&wire)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

struct Listening {
    pool: PgPool,
    origin: String,
    engine: Engine,
    /// The last message number applied, per sender.
    seen: HashMap<String, u64>,
}

impl Listening {
    async fn run(mut self, mut listener: PgListener) {
        loop {
            let cut = match listener.try_recv().await {
                Ok(Some(n)) => {
                    self.take(n.payload()).await;
                    continue;
                }
                Ok(None) => "the listening connection was lost".to_string(),
                Err(e) => format!("cannot listen: {e}"),
            };
            let since = Instant::now();
            tracing::warn!(cause = %cut, "bus: reconnecting, then reading what was published meanwhile");
            metrics::counter!("rtk_bus_gaps_total").increment(1);
            drop(listener);
            let mut wait = Duration::from_millis(100);
            listener = loop {
                match subscribe(&self.pool).await {
                    Ok(l) => break l,
                    Err(e) => {
                        tracing::debug!(error = %e, "bus: cannot listen yet");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(2));
                    }
                }
            };
            // Listening again: what was published before now is in the log.
            let back = since.elapsed().as_millis() + CATCH_UP_MARGIN_MS;
            match self.catch_up(back as i64).await {
                Ok(n) => tracing::info!(applied = n, "bus: listening again; caught up from the log"),
                Err(e) => {
                    tracing::warn!(error = %e, "bus: could not read the log; checking this node's peers against the store")
                }
            }
            if let Err(e) = self.engine.resync().await {
                tracing::warn!(error = %e, "bus: could not check this node's peers against the store; the next heartbeat flush does");
            }
        }
    }

    /// Applies the logged messages of the last `back_ms` this node had not applied; how many.
    async fn catch_up(&mut self, back_ms: i64) -> Result<usize, sqlx::Error> {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT body FROM bus_log WHERE created_at >= {DB_NOW_MS} - $1 ORDER BY id"
        ))
        .bind(back_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut applied = 0;
        for body in rows {
            if self.apply(&body) {
                applied += 1;
            }
        }
        Ok(applied)
    }

    /// A notification: the message, or `@id` of a logged one.
    async fn take(&mut self, payload: &str) {
        let body = match payload.strip_prefix('@').and_then(|id| id.parse::<i64>().ok()) {
            Some(id) => {
                match sqlx::query_scalar::<_, String>("SELECT body FROM bus_log WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                {
                    Ok(Some(b)) => b,
                    Ok(None) => {
                        tracing::warn!(id, "bus: a logged message is gone before it was read");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(id, error = %e, "bus: a logged message could not be read");
                        return;
                    }
                }
            }
            None => payload.to_string(),
        };
        self.apply(&body);
    }

    /// Applies one message unless this node sent it or has applied it already; true if applied.
    fn apply(&mut self, body: &str) -> bool {
        let e = match serde_json::from_str::<Envelope>(body) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "bus: a message could not be read");
                return false;
            }
        };
        if e.o == self.origin {
            return false;
        }
        let last = self.seen.entry(e.o).or_insert(0);
        if e.n <= *last {
            return false;
        }
        *last = e.n;
        metrics::counter!("rtk_bus_received_total").increment(1);
        self.engine.hub().apply(e.m);
        true
    }
}

/// Deletes logged messages older than the log keeps them (every [`PRUNE_EVERY`], from the
/// publisher's loop).
async fn prune(pool: &PgPool) {
    let r = sqlx::query(&format!("DELETE FROM bus_log WHERE created_at < {DB_NOW_MS} - $1"))
        .bind(LOG_TTL_MS)
        .execute(pool)
        .await;
    if let Err(e) = r {
        tracing::debug!(error = %e, "bus: pruning the log failed");
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
