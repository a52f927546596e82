//! Participant tokens: HS256 JWTs signed with a key kept in the store.
//!
//! The active key signs; every key in the ring verifies (selected by the `kid` header), so
//! `rtk keys rotate` leaves tokens signed earlier valid until they expire. A token names its
//! participant; the gateway also requires that participant to still exist, which is how
//! deleting a participant revokes all of its tokens at once.

use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::store::{KeyRow, Store, StoreResult};

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("invalid token")]
    Invalid,
}

/// The signing keys, cached from the store.
#[derive(Clone, Debug)]
pub struct KeyRing {
    store: Store,
    keys: Arc<RwLock<Vec<KeyRow>>>,
}

pub fn new_key(now: Millis) -> KeyRow {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    KeyRow {
        kid: uuid::Uuid::new_v4().simple().to_string(),
        secret: hex::encode(secret),
        active: true,
        created_at: now,
    }
}

impl KeyRing {
    /// Loads the keys, generating the first one if the store has none.
    pub async fn load(store: Store, now: Millis) -> StoreResult<Self> {
        let mut keys = store.signing_keys().await?;
        if !keys.iter().any(|k| k.active) {
            store.ensure_signing_key(&new_key(now)).await?;
            keys = store.signing_keys().await?;
        }
        Ok(Self { store, keys: Arc::new(RwLock::new(keys)) })
    }

    async fn reload(&self) -> StoreResult<()> {
        let keys = self.store.signing_keys().await?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(())
    }

    fn find(&self, pred: impl Fn(&KeyRow) -> bool) -> Option<KeyRow> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).iter().find(|k| pred(k)).cloned()
    }

    /// Signs claims with the active key (re-reading the store if another process rotated it).
    pub async fn sign(&self, claims: &impl Serialize) -> StoreResult<String> {
        self.reload().await?;
        let key = self
            .find(|k| k.active)
            .ok_or_else(|| crate::store::StoreError::Invalid("no active signing key".into()))?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        let secret = hex::decode(&key.secret).unwrap_or_default();
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&secret))
            .map_err(|e| crate::store::StoreError::Invalid(format!("cannot sign token: {e}")))
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
                self.reload().await.map_err(|_| TokenError::Invalid)?;
                self.find(|k| k.kid == kid).ok_or(TokenError::Invalid)?
            }
        };
        let secret = hex::decode(&key.secret).map_err(|_| TokenError::Invalid)?;
        let mut v = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the injected clock, not the wall clock.
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<T>(token, &DecodingKey::from_secret(&secret), &v)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.exp() * 1000 <= now {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}
