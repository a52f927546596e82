//! Presets: named permission/config documents of an app. The document is stored as given.

use super::db::{params, FromRow, Row};
use super::{conflict_on_unique, Store, StoreError, StoreResult};
use crate::clock::Millis;

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

impl FromRow for PresetRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(PresetRow {
            id: r.get(0)?,
            app_id: r.get(1)?,
            name: r.get(2)?,
            body: r.get(3)?,
            created_at: r.get(4)?,
            updated_at: r.get(5)?,
        })
    }
}

fn name_taken(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("a preset named {name:?} already exists in this app")
}

impl Store {
    pub async fn insert_preset(&self, p: &PresetRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            &format!("INSERT INTO presets ({COLS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            params![&p.id, &p.app_id, &p.name, &p.body, p.created_at, p.updated_at],
        )
        .await
        .map_err(|e| conflict_on_unique(e, name_taken(&p.name)))?;
        w.commit().await
    }

    pub async fn preset(&self, app_id: &str, id: &str) -> StoreResult<Option<PresetRow>> {
        self.db()
            .optional(
                &format!("SELECT {COLS} FROM presets WHERE id = $1 AND app_id = $2"),
                params![id, app_id],
            )
            .await
    }

    pub async fn preset_by_name(&self, app_id: &str, name: &str) -> StoreResult<Option<PresetRow>> {
        self.db()
            .optional(
                &format!("SELECT {COLS} FROM presets WHERE name = $1 AND app_id = $2"),
                params![name, app_id],
            )
            .await
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
        match search.map(super::like_pattern) {
            Some(p) => {
                let cond = "app_id = $1 AND LOWER(name) LIKE $2 ESCAPE '\\'";
                let total = self
                    .db()
                    .one(&format!("SELECT COUNT(*) FROM presets WHERE {cond}"), params![app_id, &p])
                    .await?;
                let page = format!(
                    "SELECT {COLS} FROM presets WHERE {cond} ORDER BY created_at, id LIMIT $3 OFFSET $4"
                );
                Ok((self.db().rows(&page, params![app_id, &p, limit, offset]).await?, total))
            }
            None => {
                let total =
                    self.db().one("SELECT COUNT(*) FROM presets WHERE app_id = $1", params![app_id]).await?;
                let page = format!(
                    "SELECT {COLS} FROM presets WHERE app_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"
                );
                Ok((self.db().rows(&page, params![app_id, limit, offset]).await?, total))
            }
        }
    }

    /// Replaces name and document of an existing preset.
    pub async fn update_preset(&self, p: &PresetRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = w
            .execute(
                "UPDATE presets SET name = $1, body = $2, updated_at = $3 WHERE id = $4 AND app_id = $5",
                params![&p.name, &p.body, p.updated_at, &p.id, &p.app_id],
            )
            .await
            .map_err(|e| conflict_on_unique(e, name_taken(&p.name)))?;
        if done == 0 {
            return Err(StoreError::NotFound(format!("No preset found with id {}", p.id)));
        }
        w.commit().await
    }

    pub async fn delete_preset(&self, app_id: &str, id: &str) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let done =
            w.execute("DELETE FROM presets WHERE id = $1 AND app_id = $2", params![id, app_id]).await?;
        w.commit().await?;
        Ok(done > 0)
    }
}
