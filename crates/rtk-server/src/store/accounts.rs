//! Accounts, API tokens (hashes only) and participant-token signing keys.

use super::{col, Store, StoreError, StoreResult};
use crate::clock::Millis;
use sqlx::any::AnyRow;

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

fn token_row(r: &AnyRow) -> StoreResult<TokenRow> {
    Ok(TokenRow {
        id: col(r, "id")?,
        account_id: col(r, "account_id")?,
        name: col(r, "name")?,
        email: col(r, "email")?,
        created_at: col(r, "created_at")?,
        revoked_at: col(r, "revoked_at")?,
    })
}

const TOKEN_COLS: &str = "id, account_id, name, email, created_at, revoked_at";

impl Store {
    pub async fn account_count(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts").fetch_one(self.pool()).await?;
        col(&row, "n")
    }

    pub async fn create_account(&self, id: &str, now: Millis) -> StoreResult<AccountRow> {
        let mut w = self.write().await?;
        sqlx::query("INSERT INTO accounts (id, created_at) VALUES ($1, $2)")
            .bind(id)
            .bind(now)
            .execute(&mut *w.tx)
            .await
            .map_err(|e| super::conflict_on_unique(e, || format!("account {id} already exists")))?;
        w.commit().await?;
        Ok(AccountRow { id: id.to_string(), created_at: now })
    }

    pub async fn account_exists(&self, id: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(col::<i64>(&row, "n")? > 0)
    }

    pub async fn insert_token(&self, t: &TokenRow, token_hash: &str) -> StoreResult<()> {
        if !self.account_exists(&t.account_id).await? {
            return Err(StoreError::NotFound(format!("no account with id {}", t.account_id)));
        }
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, account_id, name, email, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.id)
        .bind(&t.account_id)
        .bind(&t.name)
        .bind(&t.email)
        .bind(token_hash)
        .bind(t.created_at)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }

    /// The live (not revoked) token with this hash.
    pub async fn token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenRow>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(token_row).transpose()
    }

    pub async fn list_tokens(&self, account_id: Option<&str>) -> StoreResult<Vec<TokenRow>> {
        let rows = match account_id {
            Some(a) => {
                sqlx::query(&format!(
                    "SELECT {TOKEN_COLS} FROM api_tokens WHERE account_id = $1 ORDER BY created_at, id"
                ))
                .bind(a)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY created_at, id"))
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(token_row).collect()
    }

    /// Revokes a token by id; `NotFound` if there is no such live token.
    pub async fn revoke_token(&self, id: &str, now: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("no live token with id {id}")));
        }
        w.commit().await
    }

    pub async fn signing_keys(&self) -> StoreResult<Vec<KeyRow>> {
        let rows = sqlx::query(
            "SELECT kid, secret, active, created_at FROM signing_keys ORDER BY created_at DESC, kid",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KeyRow {
                    kid: col(r, "kid")?,
                    secret: col(r, "secret")?,
                    active: col::<i64>(r, "active")? == 1,
                    created_at: col(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Makes `key` the active signing key; the previous one keeps verifying.
    pub async fn rotate_signing_key(&self, key: &KeyRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query("UPDATE signing_keys SET active = 0 WHERE active = 1").execute(&mut *w.tx).await?;
        sqlx::query("INSERT INTO signing_keys (kid, secret, active, created_at) VALUES ($1, $2, 1, $3)")
            .bind(&key.kid)
            .bind(&key.secret)
            .bind(key.created_at)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// Replaces the stored form of key `kid` (sealing a plain key in place), if it is still
    /// `old` (another node may have done it first).
    pub async fn reseal_signing_key(&self, kid: &str, old: &str, new: &str) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query("UPDATE signing_keys SET secret = $1 WHERE kid = $2 AND secret = $3")
            .bind(new)
            .bind(kid)
            .bind(old)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// Inserts `key` as the active key only if there is none yet (first start, racing nodes).
    pub async fn ensure_signing_key(&self, key: &KeyRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, secret, active, created_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&key.kid)
        .bind(&key.secret)
        .bind(key.created_at)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }
}
