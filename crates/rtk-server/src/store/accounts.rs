//! Accounts, API tokens (hashes only) and participant-token signing keys.

use super::db::{params, FromRow, Row};
use super::{Store, StoreError, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub email: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub kid: String,
    /// As stored: sealed (see `secrets::Kek`), or plain hex if written by an older rtk.
    pub secret: String,
    pub active: bool,
    pub created_at: Millis,
}

const TOKEN_COLS: &str = "id, account_id, name, email, created_at, revoked_at";

impl FromRow for TokenRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(TokenRow {
            id: r.get(0)?,
            account_id: r.get(1)?,
            name: r.get(2)?,
            email: r.get(3)?,
            created_at: r.get(4)?,
            revoked_at: r.get(5)?,
        })
    }
}

const KEY_COLS: &str = "kid, secret, active, created_at";

impl FromRow for KeyRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(KeyRow { kid: r.get(0)?, secret: r.get(1)?, active: r.get(2)?, created_at: r.get(3)? })
    }
}

impl Store {
    pub async fn account_count(&self) -> StoreResult<i64> {
        self.db().one("SELECT COUNT(*) FROM accounts", &[]).await
    }

    pub async fn create_account(&self, id: &str, now: Millis) -> StoreResult<AccountRow> {
        let mut w = self.write().await?;
        w.execute("INSERT INTO accounts (id, created_at) VALUES ($1, $2)", params![id, now])
            .await
            .map_err(|e| super::conflict_on_unique(e, || format!("account {id} already exists")))?;
        w.commit().await?;
        Ok(AccountRow { id: id.to_string(), created_at: now })
    }

    pub async fn account_exists(&self, id: &str) -> StoreResult<bool> {
        let n: i64 = self.db().one("SELECT COUNT(*) FROM accounts WHERE id = $1", params![id]).await?;
        Ok(n > 0)
    }

    pub async fn insert_token(&self, t: &TokenRow, token_hash: &str) -> StoreResult<()> {
        if !self.account_exists(&t.account_id).await? {
            return Err(StoreError::NotFound(format!("no account with id {}", t.account_id)));
        }
        let mut w = self.write().await?;
        w.execute(
            "INSERT INTO api_tokens (id, account_id, name, email, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![&t.id, &t.account_id, &t.name, &t.email, token_hash, t.created_at],
        )
        .await?;
        w.commit().await
    }

    /// The live (not revoked) token with this hash.
    pub async fn token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenRow>> {
        self.db()
            .optional(
                &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"),
                params![token_hash],
            )
            .await
    }

    pub async fn list_tokens(&self, account_id: Option<&str>) -> StoreResult<Vec<TokenRow>> {
        match account_id {
            Some(a) => {
                self.db()
                    .rows(
                        &format!(
                        "SELECT {TOKEN_COLS} FROM api_tokens WHERE account_id = $1 ORDER BY created_at, id"
                    ),
                        params![a],
                    )
                    .await
            }
            None => {
                self.db()
                    .rows(&format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY created_at, id"), &[])
                    .await
            }
        }
    }

    /// Revokes a token by id; `NotFound` if there is no such live token.
    pub async fn revoke_token(&self, id: &str, now: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = w
            .execute(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                params![now, id],
            )
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound(format!("no live token with id {id}")));
        }
        w.commit().await
    }

    pub async fn signing_keys(&self) -> StoreResult<Vec<KeyRow>> {
        self.db()
            .rows(&format!("SELECT {KEY_COLS} FROM signing_keys ORDER BY created_at DESC, kid"), &[])
            .await
    }

    /// Makes `key` the active signing key; the previous one keeps verifying.
    pub async fn rotate_signing_key(&self, key: &KeyRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute("UPDATE signing_keys SET active = FALSE WHERE active = TRUE", &[]).await?;
        w.execute(
            "INSERT INTO signing_keys (kid, secret, active, created_at) VALUES ($1, $2, TRUE, $3)",
            params![&key.kid, &key.secret, key.created_at],
        )
        .await?;
        w.commit().await
    }

    /// Replaces the stored form of key `kid` (sealing a plain key in place), if it is still
    /// `old` (another node may have done it first).
    pub async fn reseal_signing_key(&self, kid: &str, old: &str, new: &str) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            "UPDATE signing_keys SET secret = $1 WHERE kid = $2 AND secret = $3",
            params![new, kid, old],
        )
        .await?;
        w.commit().await
    }

    /// Inserts `key` as the active key only if there is none yet (first start, racing nodes).
    pub async fn ensure_signing_key(&self, key: &KeyRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            "INSERT INTO signing_keys (kid, secret, active, created_at) VALUES ($1, $2, TRUE, $3) \
             ON CONFLICT DO NOTHING",
            params![&key.kid, &key.secret, key.created_at],
        )
        .await?;
        w.commit().await
    }
}
