//! The key pair that signs deliveries: RSA-2048, PKCS#1 v1.5 with SHA-256 over the exact
//! body bytes, base64 (standard, padded) in `rtk-signature`.
//!
//! Made once per store, on first need (the first delivery or the first read of
//! `/.well-known/webhooks.json`), and kept there with the private key sealed under the key
//! file's KEK like the participant-token keys; every node on one database signs with it.

//!
//! The key is made with the `rsa` crate and signs with `ring` (its RSA is constant-time and
//! about ten times faster: signing was the delivery worker's largest cost).

use std::sync::Arc;

use base64::Engine as _;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;

use crate::secrets::Kek;
use crate::store::{Store, StoreError, StoreResult, WebhookKeyRow};

/// The one key id: nodes making the key at once collide on it, and one key wins.
const KID: &str = "webhook-v1";
const BITS: usize = 2048;

#[derive(Clone)]
pub struct Signer {
    key: Arc<ring::signature::RsaKeyPair>,
    rng: ring::rand::SystemRandom,
    public_pem: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Signer {
    /// The store's key, made (and stored) if it has none.
    pub async fn load_or_create(store: &Store, kek: &Kek, now: i64) -> StoreResult<Signer> {
        let row = match store.webhook_key().await? {
            Some(r) => r,
            None => {
                let key = tokio::task::spawn_blocking(|| RsaPrivateKey::new(&mut rand::thread_rng(), BITS))
                    .await
                    .map_err(|e| StoreError::Invalid(format!("webhook key generation stopped: {e}")))?
                    .map_err(|e| StoreError::Invalid(format!("cannot make the webhook key: {e}")))?;
                let der = key
                    .to_pkcs8_der()
                    .map_err(|e| StoreError::Invalid(format!("cannot encode the webhook key: {e}")))?;
                let row = WebhookKeyRow {
                    kid: KID.into(),
                    private_key: kek.seal(KID, der.as_bytes()),
                    public_key: public_pem(&key)?,
                    created_at: now,
                };
                tracing::info!("made the webhook signing key (RSA-2048)");
                store.insert_webhook_key(&row).await?
            }
        };
        let der = kek.open(&row.kid, &row.private_key).ok_or_else(|| {
            StoreError::Invalid(
                "the webhook signing key in the database does not open with this key file".into(),
            )
        })?;
        let key = ring::signature::RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| StoreError::Invalid(format!("the stored webhook key is damaged: {e}")))?;
        Ok(Signer { public_pem: row.public_key, key: Arc::new(key), rng: ring::rand::SystemRandom::new() })
    }

    /// SPKI PEM, `\n` line breaks, no trailing newline.
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// `rtk-signature` for `body`; `None` only if the system's random source fails (ring
    /// blinds each signature).
    pub fn sign(&self, body: &[u8]) -> Option<String> {
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key.sign(&ring::signature::RSA_PKCS1_SHA256, &self.rng, body, &mut sig).ok()?;
        Some(base64::engine::general_purpose::STANDARD.encode(sig))
    }
}

fn public_pem(key: &RsaPrivateKey) -> StoreResult<String> {
    let pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| StoreError::Invalid(format!("cannot encode the webhook public key: {e}")))?;
    Ok(pem.trim_end().to_string())
}
