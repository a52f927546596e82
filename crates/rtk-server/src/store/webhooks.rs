//! Webhooks: subscriptions, the delivery signing key, the outbox and the attempt log.
//!
//! The outbox holds one row per event per subscribed webhook, written in the transaction of
//! the change it reports ([`enqueue_in`]). Delivery workers lease due rows ([`Store::claim_deliveries`]):
//! on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several nodes never lease one row at once;
//! a lease that runs out (a node died mid-delivery) lets another node take the row over. A row
//! is leased only when no earlier row of its chain (same webhook, same session) is pending, so
//! each session's events reach each webhook in order.

use super::{col, conflict_on_unique, new_id, Backend, Store, StoreError, StoreResult, WriteTx};
use crate::clock::Millis;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRow {
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLS: &str = "id, app_id, name, url, events, enabled, created_at, updated_at";

fn webhook_row(r: &AnyRow) -> StoreResult<WebhookRow> {
    let events: String = col(r, "events")?;
    Ok(WebhookRow {
        id: col(r, "id")?,
        app_id: col(r, "app_id")?,
        name: col(r, "name")?,
        url: col(r, "url")?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        enabled: col::<i64>(r, "enabled")? != 0,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
    })
}

fn url_taken(url: &str) -> impl FnOnce() -> String + '_ {
    move || format!("a webhook with the url {url:?} already exists in this app")
}

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

/// The delivery signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookKeyRow {
    pub kid: String,
    /// Sealed PKCS#8 DER (`secrets::Kek::seal`, the kid as associated data).
    pub private_key: String,
    pub public_key: String,
    pub created_at: Millis,
}

/// A leased outbox row, ready to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    pub event: String,
    pub body: String,
    /// Attempts before this one.
    pub attempts: i64,
    pub created_at: Millis,
    /// The lease's token: only its holder may record the outcome.
    pub lease: String,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Retry at this time (5xx, timeout, connection error within the bounds).
    Retry(Millis),
    Failed,
}

/// One attempt as the worker records it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub at: Millis,
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub outcome: Outcome,
    /// For a retryable failure: throttle the webhook's URL until then (repeated failures).
    pub throttle_until: Option<Millis>,
}

/// An outbox row for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub body: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub outbox_id: String,
    pub at: Millis,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// The outbox at a glance (metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    pub pending: i64,
    pub oldest_pending_at: Option<Millis>,
}

const DELIVERY_COLS: &str =
    "id, webhook_id, event, state, attempts, next_attempt_at, last_status, last_error, body, created_at";

fn delivery_row(r: &AnyRow) -> StoreResult<DeliveryRow> {
    Ok(DeliveryRow {
        id: col(r, "id")?,
        webhook_id: col(r, "webhook_id")?,
        event: col(r, "event")?,
        state: col(r, "state")?,
        attempts: col(r, "attempts")?,
        next_attempt_at: col(r, "next_attempt_at")?,
        last_status: col(r, "last_status")?,
        last_error: col(r, "last_error")?,
        body: col(r, "body")?,
        created_at: col(r, "created_at")?,
    })
}

impl Store {
    pub async fn insert_webhook(&self, h: &WebhookRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query(&format!("INSERT INTO webhooks ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(&h.id)
            .bind(&h.app_id)
            .bind(&h.name)
            .bind(&h.url)
            .bind(events_json(&h.events))
            .bind(i64::from(h.enabled))
            .bind(h.created_at)
            .bind(h.updated_at)
            .execute(&mut *w.tx)
            .await
            .map_err(|e| conflict_on_unique(e, url_taken(&h.url)))?;
        w.commit().await
    }

    pub async fn webhook(&self, app_id: &str, id: &str) -> StoreResult<Option<WebhookRow>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM webhooks WHERE id = $1 AND app_id = $2"))
            .bind(id)
            .bind(app_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(webhook_row).transpose()
    }

    /// The app's webhooks, oldest first.
    pub async fn list_webhooks(&self, app_id: &str) -> StoreResult<Vec<WebhookRow>> {
        let rows =
            sqlx::query(&format!("SELECT {COLS} FROM webhooks WHERE app_id = $1 ORDER BY created_at, id"))
                .bind(app_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(webhook_row).collect()
    }

    pub async fn update_webhook(&self, h: &WebhookRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = sqlx::query(
            "UPDATE webhooks SET name = $1, url = $2, events = $3, enabled = $4, updated_at = $5 \
             WHERE id = $6 AND app_id = $7",
        )
        .bind(&h.name)
        .bind(&h.url)
        .bind(events_json(&h.events))
        .bind(i64::from(h.enabled))
        .bind(h.updated_at)
        .bind(&h.id)
        .bind(&h.app_id)
        .execute(&mut *w.tx)
        .await
        .map_err(|e| conflict_on_unique(e, url_taken(&h.url)))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("No webhook found with id {}", h.id)));
        }
        w.commit().await
    }

    /// Deletes the webhook and cancels its pending deliveries (the log keeps them).
    pub async fn delete_webhook(&self, app_id: &str, id: &str, now: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND app_id = $2")
            .bind(id)
            .bind(app_id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("No webhook found with id {id}")));
        }
        sqlx::query(
            "UPDATE webhook_outbox SET state = 'cancelled', done_at = $1, lease_owner = NULL, \
             lease_until = NULL WHERE webhook_id = $2 AND state = 'pending'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }

    /// The delivery signing key, if one was made.
    pub async fn webhook_key(&self) -> StoreResult<Option<WebhookKeyRow>> {
        let row = sqlx::query(
            "SELECT kid, private_key, public_key, created_at FROM webhook_keys ORDER BY created_at, kid LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(WebhookKeyRow {
                kid: col(&r, "kid")?,
                private_key: col(&r, "private_key")?,
                public_key: col(&r, "public_key")?,
                created_at: col(&r, "created_at")?,
            })
        })
        .transpose()
    }

    /// Stores `k` unless a key exists already (nodes starting together); the key in force.
    pub async fn insert_webhook_key(&self, k: &WebhookKeyRow) -> StoreResult<WebhookKeyRow> {
        let mut w = self.write().await?;
        let exists = sqlx::query("SELECT kid FROM webhook_keys LIMIT 1").fetch_optional(&mut *w.tx).await?;
        if exists.is_none() {
            // The fixed kid makes a concurrent first start by another node a unique violation.
            let inserted = sqlx::query(
                "INSERT INTO webhook_keys (kid, private_key, public_key, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&k.kid)
            .bind(&k.private_key)
            .bind(&k.public_key)
            .bind(k.created_at)
            .execute(&mut *w.tx)
            .await;
            match inserted {
                Ok(_) => w.commit().await?,
                Err(e) => match conflict_on_unique(e, String::new) {
                    StoreError::Conflict(_) => w.rollback().await?,
                    other => return Err(other),
                },
            }
        } else {
            w.rollback().await?;
        }
        self.webhook_key().await?.ok_or_else(|| StoreError::Invalid("the webhook key vanished".into()))
    }

    /// Leases up to `limit` due rows for `lease_for` ms: each the head of its chain, its
    /// webhook not throttled. On PostgreSQL rows locked by another node's claim are skipped.
    pub async fn claim_deliveries(
        &self,
        now: Millis,
        lease_for: Millis,
        limit: i64,
    ) -> StoreResult<Vec<Claimed>> {
        let lease = new_id();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE OF o SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut w = self.write().await?;
        let sql = format!(
            "UPDATE webhook_outbox SET lease_owner = $1, lease_until = $2 WHERE id IN ( \
               SELECT o.id FROM webhook_outbox o JOIN webhooks h ON h.id = o.webhook_id \
               WHERE o.state = 'pending' AND o.next_attempt_at <= $3 \
                 AND (o.lease_until IS NULL OR o.lease_until <= $3) AND h.throttled_until <= $3 \
                 AND NOT EXISTS (SELECT 1 FROM webhook_outbox e WHERE e.webhook_id = o.webhook_id \
                   AND e.order_key = o.order_key AND e.seq < o.seq AND e.state = 'pending') \
               ORDER BY o.next_attempt_at, o.seq LIMIT {limit}{lock})"
        );
        let n = sqlx::query(&sql).bind(&lease).bind(now + lease_for).bind(now).execute(&mut *w.tx).await?;
        if n.rows_affected() == 0 {
            w.rollback().await?;
            return Ok(vec![]);
        }
        let rows = sqlx::query(
            "SELECT o.id, o.webhook_id, h.url, o.event, o.body, o.attempts, o.created_at \
             FROM webhook_outbox o JOIN webhooks h ON h.id = o.webhook_id \
             WHERE o.lease_owner = $1 ORDER BY o.next_attempt_at, o.seq",
        )
        .bind(&lease)
        .fetch_all(&mut *w.tx)
        .await?;
        w.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    id: col(r, "id")?,
                    webhook_id: col(r, "webhook_id")?,
                    url: col(r, "url")?,
                    event: col(r, "event")?,
                    body: col(r, "body")?,
                    attempts: col(r, "attempts")?,
                    created_at: col(r, "created_at")?,
                    lease: lease.clone(),
                })
            })
            .collect()
    }

    /// Records an attempt on a leased row. False (and nothing written) when the lease was
    /// lost meanwhile: another node has the row, and its outcome counts.
    pub async fn record_attempt(&self, c: &Claimed, a: &AttemptRecord) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let (state, next, done_at) = match a.outcome {
            Outcome::Delivered => ("delivered", a.at, Some(a.at)),
            Outcome::Retry(t) => ("pending", t, None),
            Outcome::Failed => ("failed", a.at, Some(a.at)),
        };
        let done = sqlx::query(
            "UPDATE webhook_outbox SET state = $1, attempts = attempts + 1, next_attempt_at = $2, \
             done_at = $3, last_status = $4, last_error = $5, lease_owner = NULL, lease_until = NULL \
             WHERE id = $6 AND lease_owner = $7 AND state = 'pending'",
        )
        .bind(state)
        .bind(next)
        .bind(done_at)
        .bind(a.status.map(i64::from))
        .bind(&a.error)
        .bind(&c.id)
        .bind(&c.lease)
        .execute(&mut *w.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO webhook_attempts (id, outbox_id, at, status, latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(&c.id)
        .bind(a.at)
        .bind(a.status.map(i64::from))
        .bind(a.latency_ms)
        .bind(&a.error)
        .execute(&mut *w.tx)
        .await?;
        let health = match (&a.outcome, a.throttle_until) {
            (Outcome::Retry(_), Some(until)) => {
                sqlx::query("UPDATE webhooks SET failures = failures + 1, throttled_until = $1 WHERE id = $2")
                    .bind(until)
            }
            (Outcome::Retry(_), None) => {
                sqlx::query("UPDATE webhooks SET failures = failures + 1 WHERE id = $1")
            }
            // Any answer from the receiver (delivered, or refused with a 4xx) shows it is up.
            _ => sqlx::query("UPDATE webhooks SET failures = 0, throttled_until = 0 WHERE id = $1"),
        };
        health.bind(&c.webhook_id).execute(&mut *w.tx).await?;
        w.commit().await?;
        Ok(true)
    }

    /// Consecutive retryable failures of the webhook (for throttling).
    pub async fn webhook_failures(&self, webhook_id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT failures FROM webhooks WHERE id = $1")
            .bind(webhook_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| col(&r, "failures")).transpose().map(Option::unwrap_or_default)
    }

    /// The webhook's deliveries, newest first, at most `limit`, optionally only in `state`.
    pub async fn deliveries(
        &self,
        webhook_id: &str,
        state: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRow>> {
        let filter = if state.is_some() { " AND state = $2" } else { "" };
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM webhook_outbox WHERE webhook_id = $1{filter} \
             ORDER BY created_at DESC, seq DESC, id DESC LIMIT {limit}"
        );
        let mut q = sqlx::query(&sql).bind(webhook_id);
        if let Some(s) = state {
            q = q.bind(s);
        }
        q.fetch_all(self.pool()).await?.iter().map(delivery_row).collect()
    }

    pub async fn delivery(&self, webhook_id: &str, id: &str) -> StoreResult<Option<DeliveryRow>> {
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLS} FROM webhook_outbox WHERE id = $1 AND webhook_id = $2"
        ))
        .bind(id)
        .bind(webhook_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(delivery_row).transpose()
    }

    /// The attempts on these outbox rows, oldest first.
    pub async fn attempts(&self, outbox_ids: &[String]) -> StoreResult<Vec<AttemptRow>> {
        if outbox_ids.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (1..=outbox_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT outbox_id, at, status, latency_ms, error FROM webhook_attempts \
             WHERE outbox_id IN ({}) ORDER BY at, id",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in outbox_ids {
            q = q.bind(id);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(AttemptRow {
                    outbox_id: col(r, "outbox_id")?,
                    at: col(r, "at")?,
                    status: col(r, "status")?,
                    latency_ms: col(r, "latency_ms")?,
                    error: col(r, "error")?,
                })
            })
            .collect()
    }

    /// Puts a delivered or failed delivery back in the outbox, due now, with a fresh attempt
    /// budget and the same rtk-uuid. False if it is pending or cancelled (or unknown).
    pub async fn redeliver(&self, webhook_id: &str, id: &str, now: Millis) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query(
            "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, \
             done_at = NULL WHERE id = $2 AND webhook_id = $3 \
             AND state IN ('delivered', 'failed')",
        )
        .bind(now)
        .bind(id)
        .bind(webhook_id)
        .execute(&mut *w.tx)
        .await?;
        sqlx::query("UPDATE webhooks SET failures = 0, throttled_until = 0 WHERE id = $1")
            .bind(webhook_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn outbox_stats(&self) -> StoreResult<OutboxStats> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_outbox WHERE state = 'pending'",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(OutboxStats { pending: col(&r, "n")?, oldest_pending_at: col(&r, "oldest")? })
    }

    /// The earliest time a pending row is due, if any (a worker's next wake-up).
    pub async fn next_delivery_due(&self) -> StoreResult<Option<Millis>> {
        let r = sqlx::query("SELECT MIN(next_attempt_at) AS t FROM webhook_outbox WHERE state = 'pending'")
            .fetch_one(self.pool())
            .await?;
        col(&r, "t")
    }
}

/// Writes `body` (the event `event`, in the chain `order_key`) to the outbox for every
/// enabled webhook of `app_id` subscribed to it, in the caller's transaction. The number of
/// rows written.
///
/// `body` is built only when some webhook wants the event (`None` from it: write nothing).
pub(crate) async fn enqueue_in(
    w: &mut WriteTx,
    app_id: &str,
    event: &str,
    order_key: &str,
    now: Millis,
    body: impl FnOnce() -> Option<String>,
) -> StoreResult<usize> {
    let hooks = sqlx::query("SELECT id, events FROM webhooks WHERE app_id = $1 AND enabled = 1 ORDER BY id")
        .bind(app_id)
        .fetch_all(&mut *w.tx)
        .await?;
    let mut targets = vec![];
    for r in &hooks {
        let events: String = col(r, "events")?;
        let events: Vec<String> = serde_json::from_str(&events).unwrap_or_default();
        if events.iter().any(|e| e == event) {
            targets.push(col::<String>(r, "id")?);
        }
    }
    if targets.is_empty() {
        return Ok(0);
    }
    let Some(body) = body() else { return Ok(0) };
    for webhook_id in &targets {
        insert_row(w, webhook_id, app_id, event, order_key, &body, now).await?;
    }
    Ok(targets.len())
}

impl Store {
    /// Writes one event to the outbox in a transaction of its own (for events that come with
    /// no other change, and for tests of the delivery worker). The rows written.
    pub async fn enqueue_event(
        &self,
        app_id: &str,
        event: &str,
        order_key: &str,
        body: &str,
        now: Millis,
    ) -> StoreResult<usize> {
        let mut w = self.write().await?;
        let n = enqueue_in(&mut w, app_id, event, order_key, now, || Some(body.to_string())).await?;
        w.commit().await?;
        Ok(n)
    }
}

/// What happened to a session, for [`session_events_in`].
pub(crate) enum SessionChange<'a> {
    Started,
    Joined(&'a super::PeerRow),
    Left(&'a super::PeerRow),
    /// `HOST_ENDED_MEETING` or `ALL_PARTICIPANTS_LEFT`.
    Ended(&'static str),
}

impl SessionChange<'_> {
    fn event(&self) -> &'static str {
        match self {
            SessionChange::Started => "meeting.started",
            SessionChange::Joined(_) => "meeting.participantJoined",
            SessionChange::Left(_) => "meeting.participantLeft",
            SessionChange::Ended(_) => "meeting.ended",
        }
    }
}

/// Writes the webhook events of `changes` to `session` (its row as the change left it) to
/// the outbox, in the caller's transaction, in order: so their times and counts are those of
/// the change, and they commit (or not) with it. Costs one query when the app has no webhook.
pub(crate) async fn session_events_in(
    w: &mut WriteTx,
    session: &super::SessionRow,
    changes: &[SessionChange<'_>],
    now: Millis,
) -> StoreResult<()> {
    use crate::webhooks::payload;
    let hooks = sqlx::query("SELECT id, events FROM webhooks WHERE app_id = $1 AND enabled = 1 ORDER BY id")
        .bind(&session.app_id)
        .fetch_all(&mut *w.tx)
        .await?;
    let mut subs: Vec<(String, Vec<String>)> = Vec::with_capacity(hooks.len());
    for r in &hooks {
        let events: String = col(r, "events")?;
        subs.push((col(r, "id")?, serde_json::from_str(&events).unwrap_or_default()));
    }
    let wanted = |e: &str| subs.iter().any(|(_, ev)| ev.iter().any(|x| x == e));
    if !changes.iter().any(|c| wanted(c.event())) {
        return Ok(());
    }
    let m = sqlx::query(
        "SELECT m.created_at AS created_at, a.name AS app_name FROM meetings m JOIN apps a ON a.id = m.app_id \
         WHERE m.id = $1",
    )
    .bind(&session.meeting_id)
    .fetch_optional(&mut *w.tx)
    .await?;
    let (created_at, app_name) = match &m {
        Some(r) => (col::<i64>(r, "created_at")?, col::<String>(r, "app_name")?),
        None => (session.created_at, String::new()),
    };
    let st = session.state(now);
    let ctx = payload::MeetingCtx {
        meeting_id: session.meeting_id.clone(),
        session_id: session.id.clone(),
        title: session.meeting_title.clone(),
        created_at,
        started_at: session.started_at,
        ended_at: if st.live { None } else { st.ended_at.or(session.ended_at) },
        app_id: session.app_id.clone(),
        app_name,
        counts: Some(rtk_api::webhooks::HookCounts {
            live_participants: st.live_participants,
            max_concurrent_participants: session.max_live,
            total_peers: session.peer_count,
        }),
    };
    let peer = |p: &super::PeerRow| payload::PeerCtx {
        peer_id: p.id.clone(),
        display_name: p.display_name.clone().unwrap_or_default(),
        custom_participant_id: p.custom_participant_id.clone(),
        joined_at: p.joined_at,
        left_at: p.left_at,
    };
    for c in changes {
        let event = c.event();
        let targets: Vec<&String> =
            subs.iter().filter(|(_, ev)| ev.iter().any(|x| x == event)).map(|(id, _)| id).collect();
        if targets.is_empty() {
            continue;
        }
        let body = payload::body(&match c {
            SessionChange::Started => payload::started(&ctx),
            SessionChange::Joined(p) => payload::joined(&ctx, &peer(p)),
            SessionChange::Left(p) => payload::left(&ctx, &peer(p)),
            SessionChange::Ended(reason) => payload::ended(&ctx, reason),
        });
        for webhook_id in targets {
            insert_row(w, webhook_id, &session.app_id, event, &session.id, &body, now).await?;
        }
    }
    Ok(())
}

async fn insert_row(
    w: &mut WriteTx,
    webhook_id: &str,
    app_id: &str,
    event: &str,
    order_key: &str,
    body: &str,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webhook_outbox (id, webhook_id, app_id, event, order_key, seq, body, state, \
         attempts, next_attempt_at, created_at) \
         SELECT $1, $2, $3, $4, $5, COALESCE(MAX(seq), 0) + 1, $6, 'pending', 0, $7, $7 \
         FROM webhook_outbox WHERE webhook_id = $2 AND order_key = $5",
    )
    .bind(new_id())
    .bind(webhook_id)
    .bind(app_id)
    .bind(event)
    .bind(order_key)
    .bind(body)
    .bind(now)
    .execute(&mut *w.tx)
    .await?;
    w.wrote_events = true;
    Ok(())
}
