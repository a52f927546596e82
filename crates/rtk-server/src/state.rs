//! Shared server state handed to every handler.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::clock::SharedClock;
use crate::config::Config;
use crate::error::ApiError;
use crate::store::{Store, TokenRow};
use crate::tokens::KeyRing;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub clock: SharedClock,
    pub keys: KeyRing,
    pub config: Config,
    pub engine: crate::engine::Engine,
    /// Webhook deliveries: the signing key and the worker.
    pub hooks: crate::webhooks::Hooks,
    /// Open gateway connections, so shutdown can wait for them to record their peers.
    pub connections: Tracker,
    /// Open gateway connections per participant.
    pub seats: crate::gateway::Seats,
    /// Held while the admin clock moves (one move at a time).
    pub clock_moves: tokio::sync::Mutex<()>,
    auth_cache: RwLock<HashMap<String, (Instant, Arc<TokenRow>)>>,
    /// Apps by id. Apps are never deleted nor moved between accounts, so entries never go stale.
    apps: RwLock<HashMap<String, Arc<crate::store::AppRow>>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Entries above this are dropped wholesale rather than evicted one by one.
const AUTH_CACHE_MAX: usize = 10_000;

impl AppState {
    pub fn new(
        store: Store,
        clock: SharedClock,
        keys: KeyRing,
        config: Config,
        engine: crate::engine::Engine,
        hooks: crate::webhooks::Hooks,
    ) -> Self {
        Self(Arc::new(Inner {
            store,
            clock,
            keys,
            config,
            engine,
            hooks,
            connections: Tracker::default(),
            seats: Default::default(),
            clock_moves: Default::default(),
            auth_cache: RwLock::default(),
            apps: RwLock::default(),
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The app `app_id` if it belongs to `account_id` (from memory after the first read).
    pub async fn app_arc(
        &self,
        account_id: &str,
        app_id: &str,
    ) -> Result<Option<Arc<crate::store::AppRow>>, ApiError> {
        let app = match self.cached_app(app_id) {
            Some(a) => a,
            None => {
                let Some(a) = self.store.app_by_id(app_id).await? else { return Ok(None) };
                let a = Arc::new(a);
                let mut apps = self.apps.write().unwrap_or_else(|e| e.into_inner());
                if apps.len() >= AUTH_CACHE_MAX {
                    apps.clear();
                }
                apps.insert(a.id.clone(), a.clone());
                a
            }
        };
        Ok(Some(app).filter(|a| a.account_id == account_id))
    }

    /// Like [`AppState::app_arc`], as an owned row.
    pub async fn app(
        &self,
        account_id: &str,
        app_id: &str,
    ) -> Result<Option<crate::store::AppRow>, ApiError> {
        Ok(self.app_arc(account_id, app_id).await?.map(|a| crate::store::AppRow::clone(&a)))
    }

    /// Forgets every cached app (after a reset of the store).
    pub fn forget_apps(&self) {
        self.apps.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The app `app_id` if it is in memory (any account; callers check the owner).
    pub fn cached_app(&self, app_id: &str) -> Option<Arc<crate::store::AppRow>> {
        self.apps.read().unwrap_or_else(|e| e.into_inner()).get(app_id).cloned()
    }

    /// The token with this hash if a positive answer for it is in the cache and fresh.
    pub fn cached_token(&self, hash: &str) -> Option<Arc<TokenRow>> {
        let ttl = self.config.auth_cache_ttl;
        if ttl == Duration::ZERO {
            return None;
        }
        let cache = self.auth_cache.read().unwrap_or_else(|e| e.into_inner());
        cache.get(hash).filter(|(at, _)| at.elapsed() < ttl).map(|(_, row)| row.clone())
    }

    /// The live token with this hash, and its stored hash. Positive answers are cached for
    /// `config.auth_cache_ttl`, so a revocation made by another process takes effect within
    /// that time (0 disables the cache).
    pub async fn auth_cache_lookup(&self, hash: &str) -> Result<Option<(TokenRow, String)>, ApiError> {
        if let Some(row) = self.cached_token(hash) {
            return Ok(Some((TokenRow::clone(&row), hash.to_string())));
        }
        let ttl = self.config.auth_cache_ttl;
        let Some(row) = self.store.token_by_hash(hash).await? else {
            return Ok(None);
        };
        if ttl > Duration::ZERO {
            let mut cache = self.auth_cache.write().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= AUTH_CACHE_MAX {
                cache.clear();
            }
            cache.insert(hash.to_string(), (Instant::now(), Arc::new(row.clone())));
        }
        Ok(Some((row, hash.to_string())))
    }
}

/// Counts live tasks; `idle` waits until there are none.
#[derive(Debug, Default)]
pub struct Tracker {
    count: std::sync::atomic::AtomicUsize,
    changed: tokio::sync::Notify,
}

/// Held by a tracked task; dropping it ends the task's count.
pub struct Tracked<'a>(&'a Tracker);

impl Tracker {
    pub fn track(&self) -> Tracked<'_> {
        self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Tracked(self)
    }

    /// Counts in a task that cannot hold a borrow of the tracker; [`Tracker::leave`] must
    /// follow exactly once.
    pub fn enter(&self) {
        self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Ends a count begun with [`Tracker::enter`].
    pub fn leave(&self) {
        self.count.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn count(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until no task is tracked.
    pub async fn idle(&self) {
        loop {
            let notified = self.changed.notified();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}
