//! Webhooks: subscriptions, the delivery signing key, the outbox and the attempt log.
//!
//! The outbox holds one row per event per subscribed webhook, written in the transaction of
//! the change it reports ([`enqueue_in`]). Delivery workers lease due rows ([`Store::claim_deliveries`]):
//! on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several nodes never lease one row at once;
//! a lease that runs out (a node died mid-delivery) lets another node take the row over. A row
//! is leased only when no earlier row of its chain (same webhook, same session) is pending, so
//! each session's events reach each webhook in order.

use super::db::{params, FromRow, Param, Row};
use super::{conflict_on_unique, new_id, Backend, Store, StoreError, StoreResult, WriteTx};
use crate::clock::Millis;

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

pub(super) const COLS: &str = "id, app_id, name, url, events, enabled, created_at, updated_at";

impl FromRow for WebhookRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        let events: String = r.get(4)?;
        Ok(WebhookRow {
            id: r.get(0)?,
            app_id: r.get(1)?,
            name: r.get(2)?,
            url: r.get(3)?,
            events: serde_json::from_str(&events).unwrap_or_default(),
            enabled: r.get::<i64>(5)? != 0,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        })
    }
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

impl FromRow for DeliveryRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(DeliveryRow {
            id: r.get(0)?,
            webhook_id: r.get(1)?,
            event: r.get(2)?,
            state: r.get(3)?,
            attempts: r.get(4)?,
            next_attempt_at: r.get(5)?,
            last_status: r.get(6)?,
            last_error: r.get(7)?,
            body: r.get(8)?,
            created_at: r.get(9)?,
        })
    }
}

impl FromRow for WebhookKeyRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(WebhookKeyRow {
            kid: r.get(0)?,
            private_key: r.get(1)?,
            public_key: r.get(2)?,
            created_at: r.get(3)?,
        })
    }
}

impl FromRow for AttemptRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(AttemptRow {
            outbox_id: r.get(0)?,
            at: r.get(1)?,
            status: r.get(2)?,
            latency_ms: r.get(3)?,
            error: r.get(4)?,
        })
    }
}

/// A claimed row before its lease token is attached.
struct ClaimedRow(Claimed);

impl FromRow for ClaimedRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(ClaimedRow(Claimed {
            id: r.get(0)?,
            webhook_id: r.get(1)?,
            url: r.get(2)?,
            event: r.get(3)?,
            body: r.get(4)?,
            attempts: r.get(5)?,
            created_at: r.get(6)?,
            lease: String::new(),
        }))
    }
}

/// A subscription as the outbox writers read it: id and events.
struct Sub(String, Vec<String>);

impl FromRow for Sub {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        let events: String = r.get(1)?;
        Ok(Sub(r.get(0)?, serde_json::from_str(&events).unwrap_or_default()))
    }
}

/// Two optional integers (aggregates).
struct Pair(i64, Option<i64>);

impl FromRow for Pair {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(Pair(r.get(0)?, r.get(1)?))
    }
}

/// A meeting's creation time and its app's name.
struct MeetingInfo(i64, String);

impl FromRow for MeetingInfo {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(MeetingInfo(r.get(0)?, r.get(1)?))
    }
}

/// Inserts a webhook in the caller's transaction (a URL the app has already: a conflict).
pub(super) async fn insert_webhook_in(w: &mut WriteTx, h: &WebhookRow) -> StoreResult<()> {
    let events = events_json(&h.events);
    w.execute(
        &format!("INSERT INTO webhooks ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
        params![
            &h.id,
            &h.app_id,
            &h.name,
            &h.url,
            events.as_str(),
            i64::from(h.enabled),
            h.created_at,
            h.updated_at
        ],
    )
    .await
    .map_err(|e| conflict_on_unique(e, url_taken(&h.url)))?;
    Ok(())
}

impl Store {
    pub async fn insert_webhook(&self, h: &WebhookRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        insert_webhook_in(&mut w, h).await?;
        w.commit().await
    }

    pub async fn webhook(&self, app_id: &str, id: &str) -> StoreResult<Option<WebhookRow>> {
        self.db()
            .optional(
                &format!("SELECT {COLS} FROM webhooks WHERE id = $1 AND app_id = $2"),
                params![id, app_id],
            )
            .await
    }

    /// The app's webhooks, oldest first.
    pub async fn list_webhooks(&self, app_id: &str) -> StoreResult<Vec<WebhookRow>> {
        self.db()
            .rows(
                &format!("SELECT {COLS} FROM webhooks WHERE app_id = $1 ORDER BY created_at, id"),
                params![app_id],
            )
            .await
    }

    pub async fn update_webhook(&self, h: &WebhookRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let events = events_json(&h.events);
        let done = w
            .execute(
                "UPDATE webhooks SET name = $1, url = $2, events = $3, enabled = $4, updated_at = $5 \
                 WHERE id = $6 AND app_id = $7",
                params![
                    &h.name,
                    &h.url,
                    events.as_str(),
                    i64::from(h.enabled),
                    h.updated_at,
                    &h.id,
                    &h.app_id
                ],
            )
            .await
            .map_err(|e| conflict_on_unique(e, url_taken(&h.url)))?;
        if done == 0 {
            return Err(StoreError::NotFound(format!("No webhook found with id {}", h.id)));
        }
        w.commit().await
    }

    /// Deletes the webhook and cancels its pending deliveries (the log keeps them).
    pub async fn delete_webhook(&self, app_id: &str, id: &str, now: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done =
            w.execute("DELETE FROM webhooks WHERE id = $1 AND app_id = $2", params![id, app_id]).await?;
        if done == 0 {
            return Err(StoreError::NotFound(format!("No webhook found with id {id}")));
        }
        w.execute(
            "UPDATE webhook_outbox SET state = 'cancelled', done_at = $1, lease_owner = NULL, \
             lease_until = NULL WHERE webhook_id = $2 AND state = 'pending'",
            params![now, id],
        )
        .await?;
        w.commit().await
    }

    /// The delivery signing key, if one was made.
    pub async fn webhook_key(&self) -> StoreResult<Option<WebhookKeyRow>> {
        self.db()
            .optional(
                "SELECT kid, private_key, public_key, created_at FROM webhook_keys ORDER BY created_at, kid LIMIT 1",
                params![],
            )
            .await
    }

    /// Stores `k` unless a key exists already (nodes starting together); the key in force.
    pub async fn insert_webhook_key(&self, k: &WebhookKeyRow) -> StoreResult<WebhookKeyRow> {
        let mut w = self.write().await?;
        let exists: Option<String> = w.optional("SELECT kid FROM webhook_keys LIMIT 1", params![]).await?;
        if exists.is_none() {
            // The fixed kid makes a concurrent first start by another node a unique violation.
            let inserted = w
                .execute(
                    "INSERT INTO webhook_keys (kid, private_key, public_key, created_at) VALUES ($1, $2, $3, $4)",
                    params![&k.kid, &k.private_key, &k.public_key, k.created_at],
                )
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
    /// Each lease is named `{owner}.{random}`, `owner` the claiming node's id (see
    /// [`Store::release_leases_of`]).
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now: Millis,
        lease_for: Millis,
        limit: i64,
    ) -> StoreResult<Vec<Claimed>> {
        let lease = format!("{owner}.{}", new_id());
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
        // The ids leased, then their rows by primary key (lease_owner has no index: reading
        // the rows back by it scanned the whole outbox, delivered rows included).
        let ids: Vec<String> =
            w.rows(&format!("{sql} RETURNING id"), params![lease.as_str(), now + lease_for, now]).await?;
        if ids.is_empty() {
            w.rollback().await?;
            return Ok(vec![]);
        }
        let mut ps: Vec<Param<'_>> = vec![Param::from(&lease)];
        ps.extend(ids.iter().map(Param::from));
        let rows: Vec<ClaimedRow> = w
            .rows(
                &format!(
                    "SELECT o.id, o.webhook_id, h.url, o.event, o.body, o.attempts, o.created_at \
                     FROM webhook_outbox o JOIN webhooks h ON h.id = o.webhook_id \
                     WHERE o.lease_owner = $1 AND o.id IN ({}) ORDER BY o.next_attempt_at, o.seq",
                    marks(2, ids.len())
                ),
                &ps,
            )
            .await?;
        w.commit().await?;
        Ok(rows.into_iter().map(|ClaimedRow(c)| Claimed { lease: lease.clone(), ..c }).collect())
    }

    /// Frees the leases node `owner` holds: called as the node starts, when whatever held them
    /// (a process that was killed or stopped mid-attempt) is gone, so its rows are retried at
    /// once instead of when the lease runs out. The number freed.
    pub async fn release_leases_of(&self, owner: &str) -> StoreResult<u64> {
        let pattern: String = owner
            .chars()
            .flat_map(|c| match c {
                '\\' | '%' | '_' => vec!['\\', c],
                c => vec![c],
            })
            .collect::<String>()
            + ".%";
        let mut w = self.write().await?;
        let n = w
            .execute(
                "UPDATE webhook_outbox SET lease_owner = NULL, lease_until = NULL \
                 WHERE state = 'pending' AND lease_owner LIKE $1 ESCAPE '\\'",
                params![pattern.as_str()],
            )
            .await?;
        w.commit().await?;
        Ok(n)
    }

    /// Records an attempt on a leased row. False (and nothing written) when the lease was
    /// lost meanwhile: another node has the row, and its outcome counts.
    pub async fn record_attempt(&self, c: &Claimed, a: &AttemptRecord) -> StoreResult<bool> {
        Ok(self.record_attempts(&[(c, a)]).await?[0])
    }

    /// [`Store::record_attempt`] for several attempts in one transaction (one commit: the
    /// delivery worker's group commit); for each, whether it was recorded.
    pub async fn record_attempts(&self, batch: &[(&Claimed, &AttemptRecord)]) -> StoreResult<Vec<bool>> {
        let mut w = self.write().await?;
        let mut out = Vec::with_capacity(batch.len());
        for (c, a) in batch {
            out.push(record_in(&mut w, c, a).await?);
        }
        w.commit().await?;
        Ok(out)
    }

    /// Deletes up to `limit` finished deliveries (delivered, failed or cancelled before
    /// `before`) with their attempts, in one transaction; how many. Pending ones are kept
    /// however old.
    pub async fn prune_deliveries(&self, before: Millis, limit: i64) -> StoreResult<u64> {
        let mut w = self.write().await?;
        let ids: Vec<String> = w
            .rows(
                &format!(
                    "SELECT id FROM webhook_outbox WHERE done_at IS NOT NULL AND done_at < $1 \
                     AND state <> 'pending' ORDER BY done_at LIMIT {limit}"
                ),
                params![before],
            )
            .await?;
        if ids.is_empty() {
            w.rollback().await?;
            return Ok(0);
        }
        let ps: Vec<Param<'_>> = ids.iter().map(Param::from).collect();
        let list = marks(1, ids.len());
        w.execute(&format!("DELETE FROM webhook_attempts WHERE outbox_id IN ({list})"), &ps).await?;
        let n = w
            .execute(&format!("DELETE FROM webhook_outbox WHERE id IN ({list}) AND state <> 'pending'"), &ps)
            .await?;
        w.commit().await?;
        Ok(n)
    }

    /// Consecutive retryable failures of the webhook (for throttling).
    pub async fn webhook_failures(&self, webhook_id: &str) -> StoreResult<i64> {
        let n: Option<i64> =
            self.db().optional("SELECT failures FROM webhooks WHERE id = $1", params![webhook_id]).await?;
        Ok(n.unwrap_or_default())
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
        let mut ps: Vec<Param<'_>> = vec![webhook_id.into()];
        if let Some(s) = state {
            ps.push(s.into());
        }
        self.db().rows(&sql, &ps).await
    }

    pub async fn delivery(&self, webhook_id: &str, id: &str) -> StoreResult<Option<DeliveryRow>> {
        self.db()
            .optional(
                &format!("SELECT {DELIVERY_COLS} FROM webhook_outbox WHERE id = $1 AND webhook_id = $2"),
                params![id, webhook_id],
            )
            .await
    }

    /// The attempts on these outbox rows, oldest first.
    pub async fn attempts(&self, outbox_ids: &[String]) -> StoreResult<Vec<AttemptRow>> {
        if outbox_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT outbox_id, at, status, latency_ms, error FROM webhook_attempts \
             WHERE outbox_id IN ({}) ORDER BY at, id",
            marks(1, outbox_ids.len())
        );
        let ps: Vec<Param<'_>> = outbox_ids.iter().map(Param::from).collect();
        self.db().rows(&sql, &ps).await
    }

    /// Puts a delivered or failed delivery back in the outbox, due now, with a fresh attempt
    /// budget and the same rtk-uuid. False if it is pending or cancelled (or unknown).
    pub async fn redeliver(&self, webhook_id: &str, id: &str, now: Millis) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let done = w
            .execute(
                "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, \
                 done_at = NULL WHERE id = $2 AND webhook_id = $3 \
                 AND state IN ('delivered', 'failed')",
                params![now, id, webhook_id],
            )
            .await?;
        w.execute("UPDATE webhooks SET failures = 0, throttled_until = 0 WHERE id = $1", params![webhook_id])
            .await?;
        w.commit().await?;
        Ok(done > 0)
    }

    pub async fn outbox_stats(&self) -> StoreResult<OutboxStats> {
        let Pair(pending, oldest_pending_at) = self
            .db()
            .one("SELECT COUNT(*), MIN(created_at) FROM webhook_outbox WHERE state = 'pending'", params![])
            .await?;
        Ok(OutboxStats { pending, oldest_pending_at })
    }

    /// The earliest time a pending row is due, if any (a worker's next wake-up).
    pub async fn next_delivery_due(&self) -> StoreResult<Option<Millis>> {
        self.db()
            .one("SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE state = 'pending'", params![])
            .await
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
    let targets = subscribers_in(w, app_id, event).await?;
    if targets.is_empty() {
        return Ok(0);
    }
    let Some(body) = body() else { return Ok(0) };
    for webhook_id in &targets {
        insert_row(w, webhook_id, app_id, event, order_key, &body, now).await?;
    }
    Ok(targets.len())
}

/// The enabled webhooks of `app_id` subscribed to `event`, in id order (the caller's transaction).
async fn subscribers_in(w: &mut WriteTx, app_id: &str, event: &str) -> StoreResult<Vec<String>> {
    let hooks: Vec<Sub> = w
        .rows(
            "SELECT id, events FROM webhooks WHERE app_id = $1 AND enabled = 1 ORDER BY id",
            params![app_id],
        )
        .await?;
    Ok(hooks.into_iter().filter(|Sub(_, ev)| ev.iter().any(|e| e == event)).map(|Sub(id, _)| id).collect())
}

/// Writes `event` of `session` (its body made by `make` from the session's meeting block, only
/// if some webhook wants it) for every subscriber, in the session's chain.
async fn session_event_in(
    w: &mut WriteTx,
    session: &super::SessionRow,
    event: &str,
    now: Millis,
    make: impl FnOnce(&crate::webhooks::payload::MeetingCtx) -> rtk_api::webhooks::HookEvent,
) -> StoreResult<()> {
    let targets = subscribers_in(w, &session.app_id, event).await?;
    if targets.is_empty() {
        return Ok(());
    }
    let ctx = meeting_ctx_in(w, session, now).await?;
    let body = crate::webhooks::payload::body(&make(&ctx));
    for webhook_id in &targets {
        insert_row(w, webhook_id, &session.app_id, event, &session.id, &body, now).await?;
    }
    Ok(())
}

async fn session_row_in(w: &mut WriteTx, id: &str) -> StoreResult<Option<super::SessionRow>> {
    w.optional(&format!("SELECT {} FROM sessions WHERE id = $1", super::sessions::SESSION_COLS), params![id])
        .await
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
    let hooks: Vec<Sub> = w
        .rows(
            "SELECT id, events FROM webhooks WHERE app_id = $1 AND enabled = 1 ORDER BY id",
            params![&session.app_id],
        )
        .await?;
    let subs: Vec<(String, Vec<String>)> = hooks.into_iter().map(|Sub(id, ev)| (id, ev)).collect();
    let wanted = |e: &str| subs.iter().any(|(_, ev)| ev.iter().any(|x| x == e));
    let chat_synced = wanted(CHAT_SYNCED)
        && w.links.is_some()
        && changes.iter().any(|c| matches!(c, SessionChange::Ended(_)));
    let transcript = wanted(TRANSCRIPT)
        && w.links.is_some()
        && changes.iter().any(|c| matches!(c, SessionChange::Ended(_)));
    if !chat_synced && !transcript && !changes.iter().any(|c| wanted(c.event())) {
        return Ok(());
    }
    let ctx = meeting_ctx_in(w, session, now).await?;
    let peer = |p: &super::PeerRow| payload::PeerCtx {
        peer_id: p.id.clone(),
        display_name: p.display_name.clone().unwrap_or_default(),
        custom_participant_id: p.custom_participant_id.clone(),
        joined_at: p.joined_at,
        left_at: p.left_at,
    };
    let mut events: Vec<(&'static str, rtk_api::webhooks::HookEvent)> = Vec::with_capacity(changes.len() + 1);
    for c in changes {
        let event = c.event();
        if wanted(event) {
            events.push((
                event,
                match c {
                    SessionChange::Started => payload::started(&ctx),
                    SessionChange::Joined(p) => payload::joined(&ctx, &peer(p)),
                    SessionChange::Left(p) => payload::left(&ctx, &peer(p)),
                    SessionChange::Ended(reason) => payload::ended(&ctx, reason),
                },
            ));
        }
        // After the end, the chat is final: its export link follows `meeting.ended`.
        if matches!(c, SessionChange::Ended(_)) && chat_synced {
            if let Some(e) = chat_synced_event(w, session, &ctx, now).await? {
                events.push((CHAT_SYNCED, e));
            }
        }
        if matches!(c, SessionChange::Ended(_)) && transcript {
            if let Some(e) = transcript_event(w, session, &ctx, now).await? {
                events.push((TRANSCRIPT, e));
            }
        }
    }
    for (event, e) in events {
        let targets: Vec<&String> =
            subs.iter().filter(|(_, ev)| ev.iter().any(|x| x == event)).map(|(id, _)| id).collect();
        if targets.is_empty() {
            continue;
        }
        let body = payload::body(&e);
        for webhook_id in targets {
            insert_row(w, webhook_id, &session.app_id, event, &session.id, &body, now).await?;
        }
    }
    Ok(())
}

/// What every event of `session` says about its meeting, as of `now` (read in the caller's
/// transaction: the meeting's creation and the app's name).
async fn meeting_ctx_in(
    w: &mut WriteTx,
    session: &super::SessionRow,
    now: Millis,
) -> StoreResult<crate::webhooks::payload::MeetingCtx> {
    let m: Option<MeetingInfo> = w
        .optional(
            "SELECT m.created_at, a.name FROM meetings m JOIN apps a ON a.id = m.app_id WHERE m.id = $1",
            params![&session.meeting_id],
        )
        .await?;
    let (created_at, app_name) = match m {
        Some(MeetingInfo(c, a)) => (c, a),
        None => (session.created_at, String::new()),
    };
    let st = session.state(now);
    Ok(crate::webhooks::payload::MeetingCtx {
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
    })
}

const RECORDING_STATUS: &str = "recording.statusUpdate";

/// `recording.statusUpdate` for `rec` as it now stands, in the caller's transaction, in the
/// chain of its session (so it is delivered in order with the session's other events).
/// `download`: the link and its expiry, once the file is stored.
pub(crate) async fn recording_event_in(
    w: &mut WriteTx,
    session: Option<&super::SessionRow>,
    rec: &super::RecordingRow,
    download: Option<(&str, Millis)>,
    now: Millis,
) -> StoreResult<()> {
    let session = match (session, &rec.session_id) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(id)) => session_row_in(w, id).await?,
        (None, None) => None,
    };
    let Some(session) = session else { return Ok(()) };
    session_event_in(w, &session, RECORDING_STATUS, now, |ctx| {
        crate::webhooks::payload::recording(ctx, rec, download, now)
    })
    .await
}

const LIVESTREAM_STATUS: &str = "livestreaming.statusUpdate";

/// `livestreaming.statusUpdate` for `ls` as it now stands (`status` as the event reports it),
/// in the caller's transaction: in the chain of the meeting session it belongs to, if any (so
/// it is delivered in order with that session's events), else in the livestream's own.
pub(crate) async fn livestream_event_in(
    w: &mut WriteTx,
    ls: &super::LivestreamRow,
    status: &str,
    now: Millis,
) -> StoreResult<()> {
    let targets = subscribers_in(w, &ls.app_id, LIVESTREAM_STATUS).await?;
    if targets.is_empty() {
        return Ok(());
    }
    let session = match &ls.session_id {
        Some(id) => session_row_in(w, id).await?,
        None => None,
    };
    let meeting = match &session {
        Some(s) => Some(crate::webhooks::payload::meeting_block(&meeting_ctx_in(w, s, now).await?)),
        None => None,
    };
    let e = rtk_api::webhooks::HookEvent::LivestreamingStatusUpdate {
        stream_id: ls.id.clone(),
        status: status.to_string(),
        manual_ingest: true,
        playback_url: ls.playback_url.clone(),
        ingest_server: ls.ingest_server.clone(),
        stream_key: ls.stream_key.clone(),
        meeting,
    };
    let body = crate::webhooks::payload::body(&e);
    let order_key = session.as_ref().map(|s| s.id.as_str()).unwrap_or(&ls.id);
    for webhook_id in &targets {
        insert_row(w, webhook_id, &ls.app_id, LIVESTREAM_STATUS, order_key, &body, now).await?;
    }
    Ok(())
}

const CHAT_SYNCED: &str = "meeting.chatSynced";
const TRANSCRIPT: &str = "meeting.transcript";
const SUMMARY: &str = "meeting.summary";

/// `meeting.transcript` for a session that has just ended, if its meeting has
/// `transcribe_on_end` and the session a transcript: a signed link to it (CSV).
async fn transcript_event(
    w: &mut WriteTx,
    session: &super::SessionRow,
    ctx: &crate::webhooks::payload::MeetingCtx,
    now: Millis,
) -> StoreResult<Option<rtk_api::webhooks::HookEvent>> {
    let Some(links) = w.links.clone() else { return Ok(None) };
    let body: Option<String> =
        w.optional("SELECT body FROM meetings WHERE id = $1", params![&session.meeting_id]).await?;
    let on = body
        .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
        .and_then(|b| b.get("transcribe_on_end").and_then(serde_json::Value::as_bool))
        .unwrap_or(false);
    if !on {
        return Ok(None);
    }
    let n: Option<i64> = w
        .optional("SELECT segments FROM transcript_counters WHERE session_id = $1", params![&session.id])
        .await?;
    if n.unwrap_or(0) == 0 {
        return Ok(None);
    }
    let Some((url, expiry)) = links.transcript_link(&session.id, &session.app_id, now) else {
        tracing::error!(session_id = %session.id, "meeting.transcript not written: no link could be signed");
        return Ok(None);
    };
    Ok(Some(rtk_api::webhooks::HookEvent::MeetingTranscript {
        meeting: crate::webhooks::payload::meeting_block(ctx),
        transcript_download_url: url,
        transcript_download_url_expiry: crate::clock::rfc3339(expiry),
    }))
}

/// `meeting.summary` for the session's completed summary (`url` its signed link), in the
/// caller's transaction, in the session's order.
pub(crate) async fn summary_event_in(
    w: &mut WriteTx,
    session_id: &str,
    url: &str,
    expiry: Millis,
    now: Millis,
) -> StoreResult<()> {
    let Some(session) = session_row_in(w, session_id).await? else { return Ok(()) };
    session_event_in(w, &session, SUMMARY, now, |ctx| rtk_api::webhooks::HookEvent::MeetingSummary {
        meeting: crate::webhooks::payload::meeting_block(ctx),
        summary_download_url: url.to_string(),
        summary_download_url_expiry: crate::clock::rfc3339(expiry),
    })
    .await
}

/// `meeting.chatSynced` for a session that has just ended, if it has any chat: a signed link
/// to its CSV export (the one `GET …/sessions/{id}/chat` hands out).
async fn chat_synced_event(
    w: &mut WriteTx,
    session: &super::SessionRow,
    ctx: &crate::webhooks::payload::MeetingCtx,
    now: Millis,
) -> StoreResult<Option<rtk_api::webhooks::HookEvent>> {
    let Some(links) = w.links.clone() else { return Ok(None) };
    // The session's maintained message count (chat.rs), not a count over its messages.
    let n: Option<i64> =
        w.optional("SELECT messages FROM chat_counters WHERE session_id = $1", params![&session.id]).await?;
    if n.unwrap_or(0) == 0 {
        return Ok(None);
    }
    let Some((url, expiry)) = links.chat_link(&session.id, &session.app_id, now) else {
        tracing::error!(session_id = %session.id, "meeting.chatSynced not written: no link could be signed");
        return Ok(None);
    };
    Ok(Some(crate::webhooks::payload::chat_synced(ctx, &url, expiry)))
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
    let id = new_id();
    w.execute(
        "INSERT INTO webhook_outbox (id, webhook_id, app_id, event, order_key, seq, body, state, \
         attempts, next_attempt_at, created_at) \
         SELECT $1, $2, $3, $4, $5, COALESCE(MAX(seq), 0) + 1, $6, 'pending', 0, $7, $7 \
         FROM webhook_outbox WHERE webhook_id = $2 AND order_key = $5",
        params![id.as_str(), webhook_id, app_id, event, order_key, body, now],
    )
    .await?;
    w.wrote_events = true;
    Ok(())
}

/// `$first, $first+1, …` for `n` parameters (an `IN (…)` list).
fn marks(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// One attempt's record in `w`; false (nothing written) if its lease was lost.
async fn record_in(w: &mut WriteTx, c: &Claimed, a: &AttemptRecord) -> StoreResult<bool> {
    let (state, next, done_at) = match a.outcome {
        Outcome::Delivered => ("delivered", a.at, Some(a.at)),
        Outcome::Retry(t) => ("pending", t, None),
        Outcome::Failed => ("failed", a.at, Some(a.at)),
    };
    let status = a.status.map(i64::from);
    let done = w
        .execute(
            "UPDATE webhook_outbox SET state = $1, attempts = attempts + 1, next_attempt_at = $2, \
                 done_at = $3, last_status = $4, last_error = $5, lease_owner = NULL, lease_until = NULL \
                 WHERE id = $6 AND lease_owner = $7 AND state = 'pending'",
            params![state, next, done_at, status, &a.error, &c.id, &c.lease],
        )
        .await?;
    if done == 0 {
        return Ok(false);
    }
    let attempt_id = new_id();
    w.execute(
            "INSERT INTO webhook_attempts (id, outbox_id, at, status, latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)",
            params![attempt_id.as_str(), &c.id, a.at, status, a.latency_ms, &a.error],
        )
        .await?;
    match (&a.outcome, a.throttle_until) {
        (Outcome::Retry(_), Some(until)) => {
            w.execute(
                "UPDATE webhooks SET failures = failures + 1, throttled_until = $1 WHERE id = $2",
                params![until, &c.webhook_id],
            )
            .await?
        }
        (Outcome::Retry(_), None) => {
            w.execute("UPDATE webhooks SET failures = failures + 1 WHERE id = $1", params![&c.webhook_id])
                .await?
        }
        // Any answer from the receiver (delivered, or refused with a 4xx) shows it is up.
        _ => {
            w.execute(
                "UPDATE webhooks SET failures = 0, throttled_until = 0 WHERE id = $1",
                params![&c.webhook_id],
            )
            .await?
        }
    };
    Ok(true)
}
