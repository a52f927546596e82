//! Meetings: reusable rooms. Searchable columns are kept beside the full document.

use super::{col, like_pattern, Store, StoreError, StoreResult};
use crate::clock::Millis;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct MeetingRow {
    pub id: String,
    pub app_id: String,
    pub title: Option<String>,
    pub status: String,
    pub keep_alive_secs: i64,
    /// The meeting document (JSON text), as the API returns it minus the columns above.
    pub body: String,
    pub parent_meeting_id: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Default)]
pub struct MeetingFilter {
    pub search: Option<String>,
    pub status: Option<String>,
    pub start_time: Option<Millis>,
    pub end_time: Option<Millis>,
}

const COLS: &str =
    "id, app_id, title, status, keep_alive_secs, body, parent_meeting_id, created_at, updated_at";

fn meeting_row(r: &AnyRow) -> StoreResult<MeetingRow> {
    Ok(MeetingRow {
        id: col(r, "id")?,
        app_id: col(r, "app_id")?,
        title: col(r, "title")?,
        status: col(r, "status")?,
        keep_alive_secs: col(r, "keep_alive_secs")?,
        body: col(r, "body")?,
        parent_meeting_id: col(r, "parent_meeting_id")?,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
    })
}

impl Store {
    pub async fn insert_meeting(&self, m: &MeetingRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query(&format!(
            "INSERT INTO meetings ({COLS}, title_lc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&m.id)
        .bind(&m.app_id)
        .bind(&m.title)
        .bind(&m.status)
        .bind(m.keep_alive_secs)
        .bind(&m.body)
        .bind(&m.parent_meeting_id)
        .bind(m.created_at)
        .bind(m.updated_at)
        .bind(m.title.as_ref().map(|t| t.to_lowercase()))
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }

    pub async fn meeting(&self, app_id: &str, id: &str) -> StoreResult<Option<MeetingRow>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM meetings WHERE id = $1 AND app_id = $2"))
            .bind(id)
            .bind(app_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(meeting_row).transpose()
    }

    pub async fn update_meeting(&self, m: &MeetingRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let done = sqlx::query(
            "UPDATE meetings SET title = $1, title_lc = $2, status = $3, keep_alive_secs = $4, \
             body = $5, updated_at = $6 WHERE id = $7 AND app_id = $8",
        )
        .bind(&m.title)
        .bind(m.title.as_ref().map(|t| t.to_lowercase()))
        .bind(&m.status)
        .bind(m.keep_alive_secs)
        .bind(&m.body)
        .bind(m.updated_at)
        .bind(&m.id)
        .bind(&m.app_id)
        .execute(&mut *w.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("No meeting found with id {}", m.id)));
        }
        w.commit().await
    }

    /// A page of the app's meetings, newest first, and the total matching `f`.
    pub async fn list_meetings(
        &self,
        app_id: &str,
        f: &MeetingFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<MeetingRow>, i64)> {
        let mut cond = String::from("app_id = $1");
        let mut n = 1;
        let mut next = |c: &mut String, expr: &str| {
            n += 1;
            c.push_str(&expr.replace("$?", &format!("${n}")));
        };
        if f.search.is_some() {
            next(&mut cond, " AND (title_lc LIKE $? ESCAPE '\\'");
            next(&mut cond, " OR id = $?)");
        }
        if f.status.is_some() {
            next(&mut cond, " AND status = $?");
        }
        if f.start_time.is_some() {
            next(&mut cond, " AND created_at >= $?");
        }
        if f.end_time.is_some() {
            next(&mut cond, " AND created_at <= $?");
        }
        let count_sql = format!("SELECT COUNT(*) AS n FROM meetings WHERE {cond}");
        let page_sql = format!(
            "SELECT {COLS} FROM meetings WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
        );
        macro_rules! bind_all {
            ($q:expr) => {{
                let mut q = $q.bind(app_id);
                if let Some(s) = &f.search {
                    q = q.bind(like_pattern(s)).bind(s.clone());
                }
                if let Some(s) = &f.status {
                    q = q.bind(s.clone());
                }
                if let Some(t) = f.start_time {
                    q = q.bind(t);
                }
                if let Some(t) = f.end_time {
                    q = q.bind(t);
                }
                q
            }};
        }
        let total: i64 = col(&bind_all!(sqlx::query(&count_sql)).fetch_one(self.pool()).await?, "n")?;
        let rows = bind_all!(sqlx::query(&page_sql)).fetch_all(self.pool()).await?;
        Ok((rows.iter().map(meeting_row).collect::<StoreResult<_>>()?, total))
    }
}

impl Store {
    /// Breakout rooms (child meetings) of a meeting, oldest first.
    pub async fn child_meetings(&self, parent_id: &str) -> StoreResult<Vec<MeetingRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM meetings WHERE parent_meeting_id = $1 ORDER BY created_at, id"
        ))
        .bind(parent_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(meeting_row).collect()
    }
}
