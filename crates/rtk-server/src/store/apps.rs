//! Apps: the unit that owns presets, meetings and sessions inside an account.

use super::{col, Store, StoreResult};
use crate::clock::Millis;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub created_at: Millis,
}

fn app_row(r: &AnyRow) -> StoreResult<AppRow> {
    Ok(AppRow {
        id: col(r, "id")?,
        account_id: col(r, "account_id")?,
        name: col(r, "name")?,
        created_at: col(r, "created_at")?,
    })
}

impl Store {
    pub async fn insert_app(&self, app: &AppRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query("INSERT INTO apps (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&app.id)
            .bind(&app.account_id)
            .bind(&app.name)
            .bind(app.created_at)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// The app with this id if it belongs to `account_id`.
    pub async fn app(&self, account_id: &str, app_id: &str) -> StoreResult<Option<AppRow>> {
        let row = sqlx::query(
            "SELECT id, account_id, name, created_at FROM apps WHERE id = $1 AND account_id = $2",
        )
        .bind(app_id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(app_row).transpose()
    }

    /// The app with this id, whatever its account.
    pub async fn app_by_id(&self, app_id: &str) -> StoreResult<Option<AppRow>> {
        let row = sqlx::query("SELECT id, account_id, name, created_at FROM apps WHERE id = $1")
            .bind(app_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(app_row).transpose()
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
        let cond = if search.is_some() {
            "account_id = $1 AND (LOWER(name) LIKE $2 ESCAPE '\\' OR id = $3)"
        } else {
            "account_id = $1"
        };
        let pattern = search.map(super::like_pattern);
        let count_sql = format!("SELECT COUNT(*) AS n FROM apps WHERE {cond}");
        let mut q = sqlx::query(&count_sql).bind(account_id);
        if let (Some(p), Some(s)) = (&pattern, search) {
            q = q.bind(p.clone()).bind(s.to_string());
        }
        let total: i64 = col(&q.fetch_one(self.pool()).await?, "n")?;
        let dir = if newest_first { "DESC" } else { "ASC" };
        let page_sql = format!(
            "SELECT id, account_id, name, created_at FROM apps WHERE {cond} \
             ORDER BY created_at {dir}, id {dir} LIMIT {limit} OFFSET {offset}"
        );
        let mut q = sqlx::query(&page_sql).bind(account_id);
        if let (Some(p), Some(s)) = (&pattern, search) {
            q = q.bind(p.clone()).bind(s.to_string());
        }
        let rows = q.fetch_all(self.pool()).await?;
        Ok((rows.iter().map(app_row).collect::<StoreResult<_>>()?, total))
    }
}
