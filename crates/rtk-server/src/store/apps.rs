//! Apps: the unit that owns presets, meetings and sessions inside an account.

use super::db::{params, FromRow, Row};
use super::{Store, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub created_at: Millis,
}

const COLS: &str = "id, account_id, name, created_at";

impl FromRow for AppRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(AppRow { id: r.get(0)?, account_id: r.get(1)?, name: r.get(2)?, created_at: r.get(3)? })
    }
}

impl Store {
    pub async fn insert_app(&self, app: &AppRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            "INSERT INTO apps (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)",
            params![&app.id, &app.account_id, &app.name, app.created_at],
        )
        .await?;
        w.commit().await
    }

    /// The app with this id if it belongs to `account_id`.
    pub async fn app(&self, account_id: &str, app_id: &str) -> StoreResult<Option<AppRow>> {
        self.db()
            .optional(
                &format!("SELECT {COLS} FROM apps WHERE id = $1 AND account_id = $2"),
                params![app_id, account_id],
            )
            .await
    }

    /// The app with this id, whatever its account.
    pub async fn app_by_id(&self, app_id: &str) -> StoreResult<Option<AppRow>> {
        self.db().optional(&format!("SELECT {COLS} FROM apps WHERE id = $1"), params![app_id]).await
    }

    /// A page of the account's apps (oldest first unless `newest_first`), optionally only
    /// those whose name contains `search` (case-insensitive) or whose id is `search`; and
    /// the total.
    pub async fn list_apps(
        &self,
        account_id: &str,
        search: Option<&str>,
        newest_first: bool,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AppRow>, i64)> {
        let pattern = search.map(super::like_pattern);
        let dir = if newest_first { "DESC" } else { "ASC" };
        match (&pattern, search) {
            (Some(p), Some(s)) => {
                let cond = "account_id = $1 AND (LOWER(name) LIKE $2 ESCAPE '\\' OR id = $3)";
                let total = self
                    .db()
                    .one(&format!("SELECT COUNT(*) FROM apps WHERE {cond}"), params![account_id, p, s])
                    .await?;
                let page = format!(
                    "SELECT {COLS} FROM apps WHERE {cond} ORDER BY created_at {dir}, id {dir} LIMIT $4 OFFSET $5"
                );
                Ok((self.db().rows(&page, params![account_id, p, s, limit, offset]).await?, total))
            }
            _ => {
                let total = self
                    .db()
                    .one("SELECT COUNT(*) FROM apps WHERE account_id = $1", params![account_id])
                    .await?;
                let page = format!(
                    "SELECT {COLS} FROM apps WHERE account_id = $1 ORDER BY created_at {dir}, id {dir} LIMIT $2 OFFSET $3"
                );
                Ok((self.db().rows(&page, params![account_id, limit, offset]).await?, total))
            }
        }
    }
}
