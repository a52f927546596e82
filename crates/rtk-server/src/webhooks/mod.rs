//! Webhook deliveries: the signing key, the delivery worker and the retry policy.
//!
//! Events are written to the outbox by the store in the transaction of the change they
//! report (`store::webhooks::enqueue_in`). The worker here leases due rows, signs and POSTs
//! each body, and records every attempt. Rules (docs/webhooks.md):
//!
//! - any 2xx is delivered; a 5xx, a timeout or a connection error is retried with
//!   exponential backoff and jitter, at most `max_attempts` times and not after `horizon`
//!   from the event; any other status (3xx — redirects are not followed — and 4xx) fails at
//!   once;
//! - a URL failing `THROTTLE_AFTER` times in a row is throttled (no attempt to it before a
//!   backoff of its own), so it never holds up other webhooks;
//! - backoff, horizon and leases run on the injected clock. On a manual clock, a clock move
//!   ([`Hooks::quiesced`]) first waits for attempts in flight, then delivers what fell due
//!   before it answers.

pub mod net;
pub mod payload;
pub mod signer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::clock::{Millis, SharedClock};
use crate::secrets::Kek;
use crate::state::Tracker;
use crate::store::{AttemptRecord, Claimed, Outcome, Store, StoreResult};
pub use signer::Signer;

/// Consecutive retryable failures of one webhook after which its URL is throttled.
pub const THROTTLE_AFTER: i64 = 3;

/// The delivery policy (flags `--webhook-*` of `rtk serve`; docs/webhooks.md).
#[derive(Debug, Clone)]
pub struct HookConfig {
    /// Connecting to a receiver may take this long.
    pub connect_timeout: Duration,
    /// One attempt (connect, send, answer) may take this long; longer counts as a timeout.
    pub timeout: Duration,
    /// Attempts per event at most (the first included).
    pub max_attempts: u32,
    /// No retry is scheduled later than this after the event.
    pub horizon: Duration,
    /// The first retry waits up to this; each next one twice as long …
    pub backoff_base: Duration,
    /// … up to this.
    pub backoff_cap: Duration,
    /// Refuse receivers on private, loopback and link-local addresses.
    pub deny_private: bool,
    /// Attempts in flight at most, per node.
    pub concurrency: usize,
    /// How often an idle worker looks for rows other nodes wrote or that fell due (real time);
    /// `None`: no background worker (deliveries only through [`Hooks::deliver_due`]).
    pub poll_interval: Option<Duration>,
    /// Finished deliveries (and their attempts) are deleted from the log this long after they
    /// finished; pending ones are kept until they finish.
    pub retention: Duration,
}

impl Default for HookConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            max_attempts: 12,
            horizon: Duration::from_secs(24 * 3600),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(600),
            deny_private: false,
            concurrency: 64,
            poll_interval: Some(Duration::from_millis(500)),
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl HookConfig {
    /// How long a claimed row stays leased: one attempt's longest time plus a margin, so a
    /// live node always records its outcome first; a dead node's rows are taken over after.
    pub fn lease_ms(&self) -> Millis {
        (self.connect_timeout + self.timeout + Duration::from_secs(30)).as_millis() as Millis
    }

    /// The longest wait before retry number `n` (1 = the first retry).
    pub fn backoff_max_ms(&self, n: u32) -> Millis {
        let base = self.backoff_base.as_millis() as Millis;
        let cap = self.backoff_cap.as_millis() as Millis;
        base.saturating_mul(1i64 << n.saturating_sub(1).min(30)).min(cap).max(1)
    }

    /// The wait before retry `n`: between half the maximum and the maximum ("equal jitter").
    pub fn backoff_ms(&self, n: u32) -> Millis {
        let max = self.backoff_max_ms(n);
        let half = max / 2;
        half + rand::thread_rng().gen_range(0..=(max - half))
    }
}

/// How often the worker sweeps the delivery log for deliveries past their retention.
const PRUNE_EVERY: Duration = Duration::from_secs(300);

/// The webhook subsystem of one node; cheap to clone.
#[derive(Clone)]
pub struct Hooks(Arc<Inner>);

struct Inner {
    store: Store,
    /// This node's id: its leases are named after it.
    node_id: String,
    clock: SharedClock,
    kek: Kek,
    config: HookConfig,
    signer: tokio::sync::OnceCell<Signer>,
    client: reqwest::Client,
    /// Held while claiming; a clock move holds it throughout, so nothing is claimed on a
    /// reading of the clock that is about to change.
    claiming: tokio::sync::Mutex<()>,
    in_flight: Tracker,
    permits: Arc<tokio::sync::Semaphore>,
    wake: tokio::sync::Notify,
    /// Outcomes waiting to be recorded, each with whom to tell; written together by whoever
    /// holds `recording` next (a group commit: one transaction for every outcome that came in
    /// while the last one was being written).
    outcomes: std::sync::Mutex<Vec<Waiting>>,
    recording: tokio::sync::Mutex<()>,
}

type Waiting = (Claimed, AttemptRecord, tokio::sync::oneshot::Sender<Result<bool, String>>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").field("config", &self.0.config).finish_non_exhaustive()
    }
}

impl Hooks {
    /// `node_id`: this node's stable id (the same after a restart, unique among the nodes on
    /// one store).
    pub fn new(
        store: Store,
        node_id: &str,
        clock: SharedClock,
        kek: Kek,
        config: HookConfig,
    ) -> anyhow::Result<Self> {
        let mut b = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rtk-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(32);
        if config.deny_private {
            b = b.dns_resolver(Arc::new(net::PublicOnly));
        }
        let client = b.build()?;
        let permits = Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
        Ok(Self(Arc::new(Inner {
            store,
            node_id: node_id.to_string(),
            clock,
            kek,
            config,
            signer: tokio::sync::OnceCell::new(),
            client,
            claiming: Default::default(),
            in_flight: Tracker::default(),
            permits,
            wake: Default::default(),
            outcomes: Default::default(),
            recording: Default::default(),
        })))
    }

    pub fn config(&self) -> &HookConfig {
        &self.0.config
    }

    /// The signing key (loaded, or made on first use).
    pub async fn signer(&self) -> StoreResult<&Signer> {
        let i = &self.0;
        i.signer.get_or_try_init(|| Signer::load_or_create(&i.store, &i.kek, i.clock.now())).await
    }

    /// New rows are in the outbox: look now rather than at the next poll.
    pub fn notify(&self) {
        self.0.wake.notify_one();
    }

    /// The background worker: claims and delivers until the process ends.
    pub async fn run(self) {
        let Some(every) = self.0.config.poll_interval else { return };
        // Attempts this node had in flight when it last stopped: retried now, not when
        // their leases run out.
        match self.0.store.release_leases_of(&self.0.node_id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "webhook deliveries cut off by the last stop are retried"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot release this node's webhook leases; they run out instead")
            }
        }
        let mut last_stats = Instant::now() - Duration::from_secs(60);
        let mut last_prune = Instant::now() - PRUNE_EVERY;
        loop {
            let claimed = {
                let _c = self.0.claiming.lock().await;
                self.claim_and_spawn().await
            };
            if last_stats.elapsed() >= Duration::from_secs(5) {
                last_stats = Instant::now();
                self.record_stats().await;
            }
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = Instant::now();
                if let Err(e) = self.prune().await {
                    tracing::warn!(error = %e, "webhook delivery log: the retention sweep failed; the next one retries");
                }
            }
            if claimed == 0 {
                tokio::select! {
                    _ = self.0.wake.notified() => {}
                    _ = self.0.store.outbox_written() => {}
                    _ = tokio::time::sleep(every) => {}
                }
            }
        }
    }

    /// Claims what is due (as many as there are free permits) and starts each attempt. The
    /// number started (0 when nothing is due, or when the store failed: logged).
    async fn claim_and_spawn(&self) -> usize {
        let free = self.0.permits.available_permits();
        if free == 0 {
            // Wait for an attempt to end (it wakes the worker).
            return 0;
        }
        let now = self.0.clock.now();
        let rows = match self
            .0
            .store
            .claim_deliveries(&self.0.node_id, now, self.0.config.lease_ms(), free as i64)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "webhook outbox claim failed");
                return 0;
            }
        };
        let n = rows.len();
        for row in rows {
            let Ok(permit) = self.0.permits.clone().try_acquire_owned() else { break };
            let me = self.clone();
            let tracked = TrackedTask::new(&self.0);
            tokio::spawn(async move {
                let _permit = permit;
                let _tracked = tracked;
                me.attempt(row).await;
                me.notify();
            });
        }
        n
    }

    /// Runs `f` (which moves a manual clock) with no claim and no attempt in flight, then
    /// delivers everything that is due before returning (what each attempt schedules later
    /// waits for a later move).
    pub async fn quiesced<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        let _c = self.0.claiming.lock().await;
        self.0.in_flight.idle().await;
        let out = f.await;
        self.deliver_due_locked().await;
        out
    }

    /// Delivers everything due now and waits for it (tests and clock moves).
    pub async fn deliver_due(&self) {
        let _c = self.0.claiming.lock().await;
        self.deliver_due_locked().await;
    }

    async fn deliver_due_locked(&self) {
        loop {
            self.0.in_flight.idle().await;
            if self.claim_and_spawn().await == 0 {
                self.0.in_flight.idle().await;
                // An attempt that ended may have freed the next row of its chain.
                if self.claim_and_spawn().await == 0 {
                    self.0.in_flight.idle().await;
                    return;
                }
            }
        }
    }

    /// Deletes the deliveries that finished longer than the retention ago (in batches, so the
    /// store's writer is never held long); how many.
    pub async fn prune(&self) -> StoreResult<u64> {
        const BATCH: i64 = 1_000;
        let before = self.0.clock.now() - self.0.config.retention.as_millis() as Millis;
        let mut all = 0;
        loop {
            let n = self.0.store.prune_deliveries(before, BATCH).await?;
            all += n;
            if n < BATCH as u64 {
                break;
            }
        }
        if all > 0 {
            tracing::info!(
                deleted = all,
                "webhook delivery log: finished deliveries past their retention deleted"
            );
        }
        Ok(all)
    }

    async fn record_stats(&self) {
        if let Ok(st) = self.0.store.outbox_stats().await {
            metrics::gauge!("webhook_outbox_pending").set(st.pending as f64);
            let age = st.oldest_pending_at.map(|t| (self.0.clock.now() - t).max(0) as f64 / 1000.0);
            metrics::gauge!("webhook_outbox_oldest_pending_seconds").set(age.unwrap_or(0.0));
        }
    }

    /// One attempt on a leased row, and its record.
    async fn attempt(&self, row: Claimed) {
        let cfg = &self.0.config;
        let at = self.0.clock.now();
        let started = Instant::now();
        let (status, error) = self.send(&row).await;
        let latency_ms = started.elapsed().as_millis() as i64;
        let attempts = row.attempts as u32 + 1;
        let retryable = match status {
            Some(s) => (500..600).contains(&s),
            None => error.as_deref().is_none_or(|e| !e.starts_with("refused:")),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let mut throttle_until = None;
        let outcome = if delivered {
            Outcome::Delivered
        } else if retryable {
            let next = at + cfg.backoff_ms(attempts);
            let horizon = row.created_at + cfg.horizon.as_millis() as Millis;
            if attempts >= cfg.max_attempts || next > horizon {
                Outcome::Failed
            } else {
                let failures = self.0.store.webhook_failures(&row.webhook_id).await.unwrap_or(0) + 1;
                if failures >= THROTTLE_AFTER {
                    let n = (failures - THROTTLE_AFTER + 1) as u32;
                    throttle_until = Some(at + cfg.backoff_ms(n));
                }
                Outcome::Retry(next)
            }
        } else {
            Outcome::Failed
        };
        let label = match outcome {
            Outcome::Delivered => "delivered",
            Outcome::Retry(_) => "retry",
            Outcome::Failed => "failed",
        };
        metrics::counter!("webhook_deliveries_total", "event" => row.event.clone(), "outcome" => label)
            .increment(1);
        metrics::histogram!("webhook_delivery_duration_seconds").record(latency_ms as f64 / 1000.0);
        let why = error.as_deref().unwrap_or("");
        match &outcome {
            Outcome::Retry(next) => tracing::info!(
                webhook_id = %row.webhook_id, event = %row.event, rtk_uuid = %row.id, status, error = why, attempt = attempts,
                retry_in_ms = *next - at, "a webhook delivery failed; it is retried"
            ),
            Outcome::Failed => tracing::warn!(
                webhook_id = %row.webhook_id, event = %row.event, rtk_uuid = %row.id, status, error = why, attempt = attempts,
                "a webhook delivery failed for good (rtk webhooks redeliver sends it again)"
            ),
            Outcome::Delivered => {}
        }
        let rec = AttemptRecord { at, status, latency_ms, error, outcome, throttle_until };
        let id = row.id.clone();
        match self.record(row, rec).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                rtk_uuid = %id,
                "a webhook delivery's lease ran out before its outcome was recorded; another node retries it"
            ),
            Err(e) => {
                tracing::warn!(rtk_uuid = %id, error = %e, "cannot record a webhook attempt; it is retried when its lease runs out")
            }
        }
    }

    /// Records an attempt together with every other that ends meanwhile (one transaction);
    /// whether it was recorded (false: its lease was lost).
    async fn record(&self, row: Claimed, rec: AttemptRecord) -> Result<bool, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.0.outcomes.lock().unwrap_or_else(|e| e.into_inner()).push((row, rec, tx));
        {
            let _writing = self.0.recording.lock().await;
            let batch = std::mem::take(&mut *self.0.outcomes.lock().unwrap_or_else(|e| e.into_inner()));
            if !batch.is_empty() {
                let refs: Vec<(&Claimed, &AttemptRecord)> = batch.iter().map(|(c, a, _)| (c, a)).collect();
                let written = self.0.store.record_attempts(&refs).await;
                metrics::histogram!("webhook_record_batch_size").record(batch.len() as f64);
                match written {
                    Ok(done) => {
                        for ((_, _, tx), ok) in batch.into_iter().zip(done) {
                            let _ = tx.send(Ok(ok));
                        }
                    }
                    Err(e) => {
                        let e = e.to_string();
                        for (_, _, tx) in batch {
                            let _ = tx.send(Err(e.clone()));
                        }
                    }
                }
            }
        }
        // Written by this holder or an earlier one.
        rx.await.unwrap_or_else(|_| Err("the recorder went away".into()))
    }

    /// POSTs the row's body: the receiver's status, or why there is none.
    async fn send(&self, row: &Claimed) -> (Option<u16>, Option<String>) {
        let url = match reqwest::Url::parse(&row.url) {
            Ok(u) => u,
            Err(e) => return (None, Some(format!("refused: the webhook URL is invalid: {e}"))),
        };
        if self.0.config.deny_private {
            if let Some(why) = net::denied(&url).await {
                return (None, Some(why));
            }
        }
        let signature = match self.signer().await {
            Ok(s) => match s.sign(row.body.as_bytes()) {
                Some(sig) => sig,
                None => return (None, Some("cannot sign: the random source failed".into())),
            },
            Err(e) => return (None, Some(format!("cannot sign: {e}"))),
        };
        let resp = self
            .0
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("rtk-signature", &signature)
            .header("rtk-uuid", &row.id)
            .header("rtk-webhook-id", &row.webhook_id)
            .header("dyte-signature", &signature)
            .header("dyte-uuid", &row.id)
            .header("dyte-webhook-id", &row.webhook_id)
            .body(row.body.clone())
            .send()
            .await;
        match resp {
            Ok(r) => {
                let status = r.status().as_u16();
                // The body is not needed; reading a little lets the connection be reused.
                let _ = tokio::time::timeout(Duration::from_millis(200), r.bytes()).await;
                let error = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
                (Some(status), error)
            }
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connection error"
                } else {
                    "request error"
                };
                (None, Some(format!("{kind}: {}", error_chain(&e))))
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s.chars().take(500).collect()
}

/// Counts an attempt in flight for as long as it lives (independent of any borrow).
struct TrackedTask(Arc<Inner>);

impl TrackedTask {
    fn new(inner: &Arc<Inner>) -> Self {
        inner.in_flight.enter();
        TrackedTask(inner.clone())
    }
}

impl Drop for TrackedTask {
    fn drop(&mut self) {
        self.0.in_flight.leave();
    }
}
