//! Shared server state handed to every handler.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
    auth_cache: Mutex<HashMap<String, (Instant, TokenRow)>>,
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
    ) -> Self {
        Self(Arc::new(Inner { store, clock, keys, config, engine, auth_cache: Mutex::default() }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The live token with this hash, and its stored hash. Positive answers are cached for
    /// `config.auth_cache_ttl`, so a revocation made by another process takes effect within
    /// that time (0 disables the cache).
    pub async fn auth_cache_lookup(&self, hash: &str) -> Result<Option<(TokenRow, String)>, ApiError> {
        let ttl = self.config.auth_cache_ttl;
        if ttl > Duration::ZERO {
            let cache = self.auth_cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, row)) = cache.get(hash) {
                if at.elapsed() < ttl {
                    return Ok(Some((row.clone(), hash.to_string())));
                }
            }
        }
        let Some(row) = self.store.token_by_hash(hash).await? else {
            return Ok(None);
        };
        if ttl > Duration::ZERO {
            let mut cache = self.auth_cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= AUTH_CACHE_MAX {
                cache.clear();
            }
            cache.insert(hash.to_string(), (Instant::now(), row.clone()));
        }
        Ok(Some((row, hash.to_string())))
    }
}
