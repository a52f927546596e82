//! Presets: named permission/config documents of an app. The document is stored as given.

use super::{col, conflict_on_unique, Store, StoreError, StoreResult};
use crate::clock::Millis;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct PresetRow {
    pub id: String,
    pub app_id: String,
    pub name: String,
    /// The preset document (JSON text) without `id`, `created_at`, `updated_at`.
    pub body: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLS: &str = "id, app_id, name, body, created_at, updated_at";

fn preset_row(r: &AnyRow) -> StoreResult<PresetRow> {
    Ok(PresetRow {
        id: col(r, "id")?,
        app_id: col(r, "app_id")?,
        name: col(r, "name")?,
        body: col(r, "body")?,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
    })
}

fn name_taken(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("a preset named {name:?} already exists in this app")
}

impl Store {
    pub async fn insert_preset(&self, p: &PresetRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query(&format!("INSERT INTO presets ({COLS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&p.id)
            .bind(&p.app_id)
            .bind(&p.name)
            .bind(&p.body)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *w.tx)
            .await
            .map_err(|e| conflict_on_unique(e, name_taken(&p.name)))?;
        w.commit().await
    }

    pub async fn preset(&self, app_id: &str, id: &str) -> StoreResult<Option<PresetRow>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM presets WHERE id = $1 AND app_id = $2"))
            .bind(id)
            .bind(app_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(preset_row).transpose()
    }

    pub async fn preset_by_name(&self, app_id: &str, name: &str) -> StoreResult<Option<PresetRow>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM presets WHERE name = $1 AND app_id = $2"))
            .bind(name)
            .bind(app_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(preset_row).transpose()
    }

    /// A page of the app's presets, oldest first, optionally only those whose name contains
    /// `search` (case-insensitive); and the total.
    pub async fn list_presets(
        &self,
        app_id: &str,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<PresetRow>, i64)> {
        let cond =
            if search.is_some() { "app_id = $1 AND LOWER(name) LIKE $2 ESCAPE '\\'" } else { "app_id = $1" };
        let pattern = search.map(super::like_pattern);
        let count_sql = format!("SELECT COUNT(*) AS n FROM presets WHERE {cond}");
        let mut q = sqlx::query(&count_sql).bind(app_id);
        if let Some(p) = &pattern {
            q = q.bind(p.clone());
        }
        let total: i64 = col(&q.fetch_one(self.pool()).await?, "n")?;
        let page_sql = format!(
            "SELECT {COLS} FROM presets WHERE {cond} ORDER BY created_at, id LIMIT {limit} OFFSET {offset}"
        );
        let mut q = sqlx::query(&page_sql).bind(app_id);
        if let Some(p) = &pattern {
            q = q.bind(p.clone());
        }
        let rows = q.fetch_all(self.pool()).await?;
        Ok((rows.iter().map(preset_row).collect::<StoreResult<_>>()?, total))
    }

    /// Replaces name and document of an existing preset.
    pub async fn update_preset(&self, p: &PresetRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = sqlx::query(
            "UPDATE presets SET name = $1, body = $2, updated_at = $3 WHERE id = $4 AND app_id = $5",
        )
        .bind(&p.name)
        .bind(&p.body)
        .bind(p.updated_at)
        .bind(&p.id)
        .bind(&p.app_id)
        .execute(&mut *w.tx)
        .await
        .map_err(|e| conflict_on_unique(e, name_taken(&p.name)))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("No preset found with id {}", p.id)));
        }
        w.commit().await
    }

    pub async fn delete_preset(&self, app_id: &str, id: &str) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM presets WHERE id = $1 AND app_id = $2")
            .bind(id)
            .bind(app_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
