//! Meeting participants: who may join a meeting, each with a preset.

use super::db::{params, FromRow, Row};
use super::peers::{leave_in, PeerRow, PEER_COLS};
use super::sessions::SessionRow;
use super::{Store, StoreError, StoreResult};
use crate::clock::Millis;

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

impl FromRow for ParticipantRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(ParticipantRow {
            id: r.get(0)?,
            meeting_id: r.get(1)?,
            app_id: r.get(2)?,
            custom_participant_id: r.get(3)?,
            preset_id: r.get(4)?,
            preset_name: r.get(5)?,
            name: r.get(6)?,
            picture: r.get(7)?,
            created_at: r.get(8)?,
            updated_at: r.get(9)?,
        })
    }
}

impl Store {
    pub async fn insert_participant(&self, p: &ParticipantRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            &format!("INSERT INTO participants ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
            params![
                &p.id,
                &p.meeting_id,
                &p.app_id,
                &p.custom_participant_id,
                &p.preset_id,
                &p.preset_name,
                &p.name,
                &p.picture,
                p.created_at,
                p.updated_at
            ],
        )
        .await?;
        w.commit().await
    }

    pub async fn participant(&self, meeting_id: &str, id: &str) -> StoreResult<Option<ParticipantRow>> {
        self.db()
            .optional(
                &format!("SELECT {COLS} FROM participants WHERE id = $1 AND meeting_id = $2"),
                params![id, meeting_id],
            )
            .await
    }

    /// A participant by id alone (the gateway's lookup: the token names the meeting).
    pub async fn participant_by_id(&self, id: &str) -> StoreResult<Option<ParticipantRow>> {
        self.db().optional(&format!("SELECT {COLS} FROM participants WHERE id = $1"), params![id]).await
    }

    pub async fn list_participants(
        &self,
        meeting_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<ParticipantRow>, i64)> {
        let total = self
            .db()
            .one("SELECT COUNT(*) FROM participants WHERE meeting_id = $1", params![meeting_id])
            .await?;
        let rows = self
            .db()
            .rows(
                &format!(
                    "SELECT {COLS} FROM participants WHERE meeting_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"
                ),
                params![meeting_id, limit, offset],
            )
            .await?;
        Ok((rows, total))
    }

    pub async fn update_participant(&self, p: &ParticipantRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = w
            .execute(
                "UPDATE participants SET preset_id = $1, preset_name = $2, name = $3, picture = $4, \
                 updated_at = $5 WHERE id = $6 AND meeting_id = $7",
                params![
                    &p.preset_id,
                    &p.preset_name,
                    &p.name,
                    &p.picture,
                    p.updated_at,
                    &p.id,
                    &p.meeting_id
                ],
            )
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound(format!("No participant found with id {}", p.id)));
        }
        w.commit().await
    }

    /// Deletes a participant; its tokens stop verifying because the gateway requires the row.
    /// (`remove_participant` also ends its live peers, in the same transaction.)
    pub async fn delete_participant(&self, meeting_id: &str, id: &str) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let done = delete_participant_in(&mut w, meeting_id, id).await?;
        w.commit().await?;
        Ok(done)
    }
}

/// Deletes the participant row, inside the caller's transaction.
async fn delete_participant_in(w: &mut super::WriteTx, meeting_id: &str, id: &str) -> StoreResult<bool> {
    Ok(w.execute("DELETE FROM participants WHERE id = $1 AND meeting_id = $2", params![id, meeting_id])
        .await?
        > 0)
}

impl Store {
    /// Deletes a participant and ends its live peers' presence at `now` (`reason`), in one
    /// transaction: no token of it verifies afterwards and none of its peers stays live.
    /// `None` if the meeting has no such participant; else the peers that left, with their
    /// sessions as they are after.
    pub async fn remove_participant(
        &self,
        meeting_id: &str,
        id: &str,
        reason: &str,
        now: Millis,
    ) -> StoreResult<Option<Vec<(SessionRow, PeerRow)>>> {
        let mut w = self.write().await?;
        if !delete_participant_in(&mut w, meeting_id, id).await? {
            return Ok(None);
        }
        let live: Vec<PeerRow> = w
            .rows(
                &format!("SELECT {PEER_COLS} FROM peers WHERE participant_id = $1 AND left_at IS NULL"),
                params![id],
            )
            .await?;
        // Sessions are locked in id order (PostgreSQL), so two removals never wait on each other.
        let mut ids: Vec<(String, String)> = live.into_iter().map(|p| (p.session_id, p.id)).collect();
        ids.sort();
        let mut left = vec![];
        for (_, peer_id) in &ids {
            if let Some(l) = leave_in(self, &mut w, peer_id, now, reason, now).await? {
                left.push(l);
            }
        }
        w.commit_then(|| self.cache_sessions(left.iter().map(|(s, _)| s))).await?;
        Ok(Some(left))
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
        let sql = format!(
            "SELECT {COLS} FROM participants WHERE meeting_id = $1 AND {column} = $2 ORDER BY created_at, id"
        );
        let mut out: Vec<ParticipantRow> = vec![];
        for id in ids {
            for p in self.db().rows::<ParticipantRow>(&sql, params![meeting_id, id]).await? {
                if !out.iter().any(|o| o.id == p.id) {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }
}
