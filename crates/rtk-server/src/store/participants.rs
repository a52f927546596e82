//! Meeting participants: who may join a meeting, each with a preset.

use super::{col, Store, StoreError, StoreResult};
use crate::clock::Millis;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantRow {
    pub id: String,
    pub meeting_id: String,
    pub app_id: String,
    pub custom_participant_id: String,
    pub preset_id: String,
    pub preset_name: String,
    pub name: Option<String>,
    pub picture: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLS: &str = "id, meeting_id, app_id, custom_participant_id, preset_id, preset_name, name, picture, created_at, updated_at";

fn participant_row(r: &AnyRow) -> StoreResult<ParticipantRow> {
    Ok(ParticipantRow {
        id: col(r, "id")?,
        meeting_id: col(r, "meeting_id")?,
        app_id: col(r, "app_id")?,
        custom_participant_id: col(r, "custom_participant_id")?,
        preset_id: col(r, "preset_id")?,
        preset_name: col(r, "preset_name")?,
        name: col(r, "name")?,
        picture: col(r, "picture")?,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
    })
}

impl Store {
    pub async fn insert_participant(&self, p: &ParticipantRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query(&format!(
            "INSERT INTO participants ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&p.id)
        .bind(&p.meeting_id)
        .bind(&p.app_id)
        .bind(&p.custom_participant_id)
        .bind(&p.preset_id)
        .bind(&p.preset_name)
        .bind(&p.name)
        .bind(&p.picture)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }

    pub async fn participant(&self, meeting_id: &str, id: &str) -> StoreResult<Option<ParticipantRow>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM participants WHERE id = $1 AND meeting_id = $2"))
            .bind(id)
            .bind(meeting_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(participant_row).transpose()
    }

    /// A participant by id alone (the gateway's lookup: the token names the meeting).
    pub async fn participant_by_id(&self, id: &str) -> StoreResult<Option<ParticipantRow>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM participants WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(participant_row).transpose()
    }

    pub async fn list_participants(
        &self,
        meeting_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<ParticipantRow>, i64)> {
        let total: i64 = col(
            &sqlx::query("SELECT COUNT(*) AS n FROM participants WHERE meeting_id = $1")
                .bind(meeting_id)
                .fetch_one(self.pool())
                .await?,
            "n",
        )?;
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM participants WHERE meeting_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"
        ))
        .bind(meeting_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok((rows.iter().map(participant_row).collect::<StoreResult<_>>()?, total))
    }

    pub async fn update_participant(&self, p: &ParticipantRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = sqlx::query(
            "UPDATE participants SET preset_id = $1, preset_name = $2, name = $3, picture = $4, \
             updated_at = $5 WHERE id = $6 AND meeting_id = $7",
        )
        .bind(&p.preset_id)
        .bind(&p.preset_name)
        .bind(&p.name)
        .bind(&p.picture)
        .bind(p.updated_at)
        .bind(&p.id)
        .bind(&p.meeting_id)
        .execute(&mut *w.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("No participant found with id {}", p.id)));
        }
        w.commit().await
    }

    /// Deletes a participant; its tokens stop verifying because the gateway requires the row.
    pub async fn delete_participant(&self, meeting_id: &str, id: &str) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM participants WHERE id = $1 AND meeting_id = $2")
            .bind(id)
            .bind(meeting_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    /// The meeting's participants among `ids` (by participant id, or by custom participant id
    /// with `custom`).
    pub async fn participants_matching(
        &self,
        meeting_id: &str,
        ids: &[String],
        custom: bool,
    ) -> StoreResult<Vec<ParticipantRow>> {
        let column = if custom { "custom_participant_id" } else { "id" };
        let mut out = vec![];
        for id in ids {
            let rows = sqlx::query(&format!(
                "SELECT {COLS} FROM participants WHERE meeting_id = $1 AND {column} = $2 ORDER BY created_at, id"
            ))
            .bind(meeting_id)
            .bind(id)
            .fetch_all(self.pool())
            .await?;
            for r in &rows {
                let p = participant_row(r)?;
                if !out.iter().any(|o: &ParticipantRow| o.id == p.id) {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }
}
