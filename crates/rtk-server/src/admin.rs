//! Local administration (the `rtk account|token|keys` commands and first start): operations
//! on the store that have no API, because they create the credentials the API needs.

use std::path::Path;

use crate::auth::{generate_token, hash_token};
use crate::clock::Millis;
use crate::store::{new_id, Store, StoreError, StoreResult, TokenRow};

/// The email an API token answers to with `X-Auth-Email` + `X-Auth-Key` unless given.
pub const DEFAULT_EMAIL: &str = "admin@rtk.local";

/// A new account id: 32 lowercase hex characters, like Cloudflare's.
pub fn new_account_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub async fn create_account(store: &Store, id: Option<&str>, now: Millis) -> StoreResult<String> {
    let id = match id {
        Some(id) => {
            let id = id.trim();
            if id.is_empty()
                || id.len() > 64
                || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(StoreError::Invalid(
                    "an account id is 1 to 64 characters of letters, digits, '-' or '_'".into(),
                ));
            }
            id.to_string()
        }
        None => new_account_id(),
    };
    store.create_account(&id, now).await?;
    Ok(id)
}

/// A new API token for `account_id`; the secret is returned once, the store keeps its hash.
pub async fn create_token(
    store: &Store,
    account_id: &str,
    name: &str,
    email: &str,
    now: Millis,
) -> StoreResult<(TokenRow, String)> {
    create_token_with_value(store, account_id, name, email, None, now).await
}

/// Like [`create_token`], with the token's value chosen by the caller (fixed credentials for
/// a test suite to hard-code): 8 to 512 visible ASCII characters, not in use. Stored hashed
/// like any other.
pub async fn create_token_with_value(
    store: &Store,
    account_id: &str,
    name: &str,
    email: &str,
    value: Option<&str>,
    now: Millis,
) -> StoreResult<(TokenRow, String)> {
    let secret = match value {
        None => generate_token(),
        Some(v) => {
            if !(8..=512).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(crate::store::StoreError::Invalid(
                    "a token value is 8 to 512 visible ASCII characters (no spaces)".into(),
                ));
            }
            if store.token_by_hash(&hash_token(v)).await?.is_some() {
                return Err(crate::store::StoreError::Conflict(
                    "a token with this value already exists".into(),
                ));
            }
            v.to_string()
        }
    };
    let row = TokenRow {
        id: new_id(),
        account_id: account_id.to_string(),
        name: name.to_string(),
        email: email.to_string(),
        created_at: now,
        revoked_at: None,
    };
    store.insert_token(&row, &hash_token(&secret)).await?;
    Ok((row, secret))
}

/// What first start created.
#[derive(Debug, Clone)]
pub struct FirstStart {
    pub account_id: String,
    pub token: String,
    pub email: String,
    pub credentials_file: std::path::PathBuf,
}

/// On an empty store (no account), creates an account and a token and writes them to
/// `credentials.json` (mode 0600) in `data_dir`. Does nothing on a store that has accounts.
///
/// An existing credentials file is never overwritten: if `credentials.json` is already there
/// (it belongs to another store — a database that was removed, or another `--database-url`),
/// it is left as it is, the new credentials go to `credentials-<account id>.json`, and a
/// warning names both.
pub async fn first_start(store: &Store, data_dir: &Path, now: Millis) -> anyhow::Result<Option<FirstStart>> {
    if store.account_count().await? > 0 {
        return Ok(None);
    }
    let account_id = create_account(store, None, now).await?;
    let (_, token) = create_token(store, &account_id, "first-start", DEFAULT_EMAIL, now).await?;
    crate::secrets::ensure_private_dir(data_dir)?;
    let body = serde_json::to_string_pretty(&serde_json::json!({
        "account_id": account_id, "api_token": token, "api_email": DEFAULT_EMAIL,
    }))?;
    let usual = data_dir.join("credentials.json");
    let path = match write_new_private(&usual, body.as_bytes()) {
        Ok(()) => usual,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let other = data_dir.join(format!("credentials-{account_id}.json"));
            write_new_private(&other, body.as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", other.display()))?;
            tracing::warn!(
                existing = %usual.display(),
                written = %other.display(),
                "the store is empty but {} already exists (it belongs to another store): it is left \
                 untouched, and this store's first credentials are in {}",
                usual.display(),
                other.display(),
            );
            other
        }
        Err(e) => anyhow::bail!("cannot write {}: {e}", usual.display()),
    };
    Ok(Some(FirstStart { account_id, token, email: DEFAULT_EMAIL.into(), credentials_file: path }))
}

/// Writes a new file (mode 0600); fails with `AlreadyExists` rather than replace one.
fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = crate::secrets::create_private_file(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Rotates the participant-token signing key; tokens signed earlier stay valid.
pub async fn rotate_keys(keys: &crate::tokens::KeyRing, now: Millis) -> StoreResult<String> {
    keys.rotate(now).await
}
