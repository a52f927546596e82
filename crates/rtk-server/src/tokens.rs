//! Participant tokens: HS256 JWTs signed with a key kept in the store, sealed there with the
//! key-encryption key of the signing key file (`secrets::Kek`).
//!
//! The active key signs; every key in the ring verifies (selected by the `kid` header), so
//! `rtk keys rotate` leaves tokens signed earlier valid until they expire. A token names its
//! participant; the gateway also requires that participant to still exist, which is how
//! deleting a participant revokes all of its tokens at once.

use std::path::Path;
use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::secrets::{is_sealed, Kek};
use crate::store::{KeyRow, Store, StoreError, StoreResult};

/// What a participant token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantClaims {
    /// The participant id.
    pub sub: String,
    #[serde(rename = "participantId")]
    pub participant_id: String,
    #[serde(rename = "meetingId")]
    pub meeting_id: String,
    #[serde(rename = "appId")]
    pub app_id: String,
    #[serde(rename = "accountId")]
    pub account_id: String,
    #[serde(rename = "presetName")]
    pub preset_name: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Unique per token.
    pub jti: String,
}

/// Claims with an expiry, in seconds since the epoch.
pub trait Expiring {
    fn exp(&self) -> i64;
}

impl Expiring for ParticipantClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// Why a token could not be signed: never the caller's fault (the API answers 500).
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no active signing key")]
    NoActiveKey,
    #[error("cannot sign token: {0}")]
    Encode(#[from] jsonwebtoken::errors::Error),
    #[error("cannot reload the signing keys: {0}")]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("invalid token")]
    Invalid,
}

/// The signing keys, cached from the store and opened with the key-encryption key.
#[derive(Clone, Debug)]
pub struct KeyRing {
    store: Store,
    kek: Kek,
    keys: Arc<RwLock<Vec<Key>>>,
    /// Keys in the database this node cannot open (logged once each).
    unopenable: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// When a token naming an unknown key last made us re-read the keys: at most once a
    /// second, so forged tokens with made-up key ids cannot turn into a query each.
    /// Held for the reload itself, so callers that arrive meanwhile wait for its result
    /// rather than being refused.
    unknown_kid_reload: Arc<tokio::sync::Mutex<Option<std::time::Instant>>>,
}

/// An opened signing key.
#[derive(Clone)]
struct Key {
    kid: String,
    active: bool,
    /// The sealed form in the store (to notice a row that changed).
    stored: String,
    secret: Arc<Vec<u8>>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("kid", &self.kid).field("active", &self.active).finish_non_exhaustive()
    }
}

/// Why the signing keys cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error(
        "the signing key file {path} does not open the keys in the database (key {kid}): restore the \
         key file that belongs to this database, or point --signing-key-file / RTK_SIGNING_KEY_FILE at it"
    )]
    WrongKeyFile { path: String, kid: String },
    #[error(
        "the signing keys in the database are sealed, but the signing key file {path} does not exist: \
         restore it from the backup taken with the database, or point --signing-key-file / \
         RTK_SIGNING_KEY_FILE at it"
    )]
    MissingKeyFile { path: String },
    #[error("signing key {kid} in the database is neither sealed nor a plain key")]
    Malformed { kid: String },
    #[error(transparent)]
    KeyFile(#[from] anyhow::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new signing key, sealed with `kek`.
pub fn new_key(kek: &Kek, now: Millis) -> KeyRow {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let kid = uuid::Uuid::new_v4().simple().to_string();
    KeyRow { secret: kek.seal(&kid, &secret), kid, active: true, created_at: now }
}

impl KeyRing {
    /// Loads the signing keys with the key-encryption key in `key_file`.
    ///
    /// - Keys stored plain by an older rtk are sealed in place (tokens they signed stay valid).
    /// - A key file that does not open every key in the database is an error, never a reason
    ///   to make new keys; so is a missing key file when the database holds sealed keys.
    /// - The key file is created (mode 0600) only when the database holds no sealed key.
    /// - The first signing key is generated if the store has none.
    pub async fn load(store: Store, key_file: &Path, now: Millis) -> Result<Self, KeyRingError> {
        let rows = store.signing_keys().await?;
        let kek = match Kek::read(key_file)? {
            Some(k) => k,
            None if rows.iter().any(|r| is_sealed(&r.secret)) => {
                return Err(KeyRingError::MissingKeyFile { path: key_file.display().to_string() })
            }
            None => {
                let kek = Kek::create(key_file)?;
                tracing::info!(path = %key_file.display(), "created the signing key file (keep it with the database's backups)");
                if store.backend() == crate::store::Backend::Postgres {
                    tracing::warn!(
                        path = %key_file.display(),
                        "on PostgreSQL every node needs this same key file: copy it to the others, or \
                         point their --signing-key-file / RTK_SIGNING_KEY_FILE at a shared copy"
                    );
                }
                kek
            }
        };
        let mut sealed_now = 0;
        for r in &rows {
            if is_sealed(&r.secret) {
                if kek.open(&r.kid, &r.secret).is_none() {
                    return Err(KeyRingError::WrongKeyFile {
                        path: key_file.display().to_string(),
                        kid: r.kid.clone(),
                    });
                }
            } else {
                let plain =
                    plain_secret(&r.secret).ok_or_else(|| KeyRingError::Malformed { kid: r.kid.clone() })?;
                store.reseal_signing_key(&r.kid, &r.secret, &kek.seal(&r.kid, &plain)).await?;
                sealed_now += 1;
            }
        }
        if sealed_now > 0 {
            tracing::info!(keys = sealed_now, "sealed the plain signing keys of an earlier version in place");
        }
        let ring = Self {
            store,
            kek,
            keys: Arc::new(RwLock::new(Vec::new())),
            unopenable: Default::default(),
            unknown_kid_reload: Default::default(),
        };
        if !rows.iter().any(|k| k.active) {
            ring.store.ensure_signing_key(&new_key(&ring.kek, now)).await?;
        }
        ring.reload().await?;
        // Two nodes starting together on an empty database, each with a new key file of its
        // own: the other's key won, and this node cannot use it. Refuse, as for any key file
        // that does not open the keys.
        if ring.find(|k| k.active).is_none() {
            let active = ring.store.signing_keys().await?.into_iter().find(|k| k.active);
            return Err(KeyRingError::WrongKeyFile {
                path: ring.kek.path().display().to_string(),
                kid: active.map(|k| k.kid).unwrap_or_default(),
            });
        }
        Ok(ring)
    }

    /// Makes a new key the active signer; tokens signed with earlier keys stay valid.
    pub async fn rotate(&self, now: Millis) -> StoreResult<String> {
        let key = new_key(&self.kek, now);
        self.store.rotate_signing_key(&key).await?;
        self.reload().await?;
        Ok(key.kid)
    }

    /// The key-encryption key (its file), for administration.
    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    async fn reload(&self) -> StoreResult<()> {
        let rows = self.store.signing_keys().await?;
        let old = self.keys.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut keys = Vec::with_capacity(rows.len());
        for r in rows {
            let secret = match old.iter().find(|k| k.kid == r.kid && k.stored == r.secret) {
                Some(k) => k.secret.clone(),
                None => match self.open_row(&r) {
                    Some(s) => Arc::new(s),
                    None => {
                        // Rotated in by a process with another key file: it cannot verify here.
                        // Logged once per key, not on every token that names it.
                        if self.unopenable.lock().unwrap_or_else(|e| e.into_inner()).insert(r.kid.clone()) {
                            tracing::error!(kid = %r.kid, path = %self.kek.path().display(),
                                "a signing key in the database does not open with this node's key file");
                        }
                        continue;
                    }
                },
            };
            keys.push(Key { kid: r.kid, active: r.active, stored: r.secret, secret });
        }
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(())
    }

    fn open_row(&self, r: &KeyRow) -> Option<Vec<u8>> {
        if is_sealed(&r.secret) {
            self.kek.open(&r.kid, &r.secret)
        } else {
            // Written by an older rtk since we started; sealed at the next start.
            plain_secret(&r.secret)
        }
    }

    fn find(&self, pred: impl Fn(&Key) -> bool) -> Option<Key> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).iter().find(|k| pred(k)).cloned()
    }

    /// Signs claims with the active key as last loaded, without reading the store: for links
    /// made inside a store transaction. A key another node rotated in since is not used yet;
    /// tokens of the earlier key stay valid, so the link works everywhere.
    pub fn sign_loaded(&self, claims: &impl Serialize) -> Result<String, SignError> {
        let key = self.find(|k| k.active).ok_or(SignError::NoActiveKey)?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&key.secret))?)
    }

    /// Signs claims with the active key (re-reading the store if another process rotated it).
    pub async fn sign(&self, claims: &impl Serialize) -> Result<String, SignError> {
        self.reload().await?;
        self.sign_loaded(claims)
    }

    /// Verifies a participant token's signature and expiry against `now`.
    pub async fn verify(&self, token: &str, now: Millis) -> Result<ParticipantClaims, TokenError> {
        let claims: ParticipantClaims = self.verify_as(token, now).await?;
        Ok(claims)
    }

    /// Verifies a token of any claims type with an `exp` (seconds) against `now`.
    pub async fn verify_as<T: serde::de::DeserializeOwned + Expiring>(
        &self,
        token: &str,
        now: Millis,
    ) -> Result<T, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let key = match self.find(|k| k.kid == kid) {
            Some(k) => k,
            None => {
                // A key rotated in by another process since we loaded.
                let mut last = self.unknown_kid_reload.lock().await;
                // A reload that finished while we waited may have brought it.
                match self.find(|k| k.kid == kid) {
                    Some(k) => k,
                    None => {
                        if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1)) {
                            return Err(TokenError::Invalid);
                        }
                        self.reload().await.map_err(|e| {
                            tracing::error!(error = %e, "cannot reload the signing keys to verify a token");
                            TokenError::Invalid
                        })?;
                        *last = Some(std::time::Instant::now());
                        self.find(|k| k.kid == kid).ok_or(TokenError::Invalid)?
                    }
                }
            }
        };
        let mut v = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the injected clock, not the wall clock.
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<T>(token, &DecodingKey::from_secret(&key.secret), &v)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.exp() * 1000 <= now {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}

/// A plain (pre-sealing) stored secret: 32 bytes as hex.
fn plain_secret(stored: &str) -> Option<Vec<u8>> {
    hex::decode(stored).ok().filter(|b| !b.is_empty())
}
