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

    /// A page of the account's apps, oldest first, and the total.
    pub async fn list_apps(
        &self,
        account_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AppRow>, i64)> {
        let total: i64 = col(
            &sqlx::query("SELECT COUNT(*) AS n FROM apps WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(self.pool())
                .await?,
            "n",
        )?;
        let rows = sqlx::query(
            "SELECT id, account_id, name, created_at FROM apps WHERE account_id = $1 \
             ORDER BY created_at, id LIMIT $2 OFFSET $3",
        )
        .bind(account_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok((rows.iter().map(app_row).collect::<StoreResult<_>>()?, total))
    }
}
