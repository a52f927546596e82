//! Meetings: reusable rooms. Searchable columns are kept beside the full document.

use super::db::{params, Cond, FromRow, Param, Row};
use super::{like_pattern, Store, StoreError, StoreResult};
use crate::clock::Millis;

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

impl FromRow for MeetingRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(MeetingRow {
            id: r.get(0)?,
            app_id: r.get(1)?,
            title: r.get(2)?,
            status: r.get(3)?,
            keep_alive_secs: r.get(4)?,
            body: r.get(5)?,
            parent_meeting_id: r.get(6)?,
            created_at: r.get(7)?,
            updated_at: r.get(8)?,
        })
    }
}

/// The statement that inserts a meeting, and its parameters.
pub(super) fn insert_sql<'a>(m: &'a MeetingRow, title_lc: &'a Option<String>) -> (String, Vec<Param<'a>>) {
    (
        format!("INSERT INTO meetings ({COLS}, title_lc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
        params![
            &m.id,
            &m.app_id,
            &m.title,
            &m.status,
            m.keep_alive_secs,
            &m.body,
            &m.parent_meeting_id,
            m.created_at,
            m.updated_at,
            title_lc
        ]
        .to_vec(),
    )
}

impl Store {
    pub async fn insert_meeting(&self, m: &MeetingRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let title_lc = m.title.as_ref().map(|t| t.to_lowercase());
        let (sql, ps) = insert_sql(m, &title_lc);
        w.execute(&sql, &ps).await?;
        w.commit().await
    }

    pub async fn meeting(&self, app_id: &str, id: &str) -> StoreResult<Option<MeetingRow>> {
        self.db()
            .optional(
                &format!("SELECT {COLS} FROM meetings WHERE id = $1 AND app_id = $2"),
                params![id, app_id],
            )
            .await
    }

    pub async fn update_meeting(&self, m: &MeetingRow) -> StoreResult<()> {
        let mut w = self.write().await?;
        let title_lc = m.title.as_ref().map(|t| t.to_lowercase());
        let done = w
            .execute(
                "UPDATE meetings SET title = $1, title_lc = $2, status = $3, keep_alive_secs = $4, \
                 body = $5, updated_at = $6 WHERE id = $7 AND app_id = $8",
                params![
                    &m.title,
                    &title_lc,
                    &m.status,
                    m.keep_alive_secs,
                    &m.body,
                    m.updated_at,
                    &m.id,
                    &m.app_id
                ],
            )
            .await?;
        if done == 0 {
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
        let pattern = f.search.as_deref().map(like_pattern);
        let mut c = Cond::new("app_id = $?", app_id.into());
        if let (Some(s), Some(p)) = (&f.search, &pattern) {
            c.push(" AND (title_lc LIKE $? ESCAPE '\\'", p.into());
            c.push(" OR id = $?)", s.into());
        }
        if let Some(s) = &f.status {
            c.push(" AND status = $?", s.into());
        }
        if let Some(t) = f.start_time {
            c.push(" AND created_at >= $?", t.into());
        }
        if let Some(t) = f.end_time {
            c.push(" AND created_at <= $?", t.into());
        }
        let total = self.db().one(&format!("SELECT COUNT(*) FROM meetings WHERE {}", c.sql), &c.ps).await?;
        let (l, o) = (c.bind(limit.into()), c.bind(offset.into()));
        let page_sql = format!(
            "SELECT {COLS} FROM meetings WHERE {} ORDER BY created_at DESC, id DESC LIMIT {l} OFFSET {o}",
            c.sql
        );
        Ok((self.db().rows(&page_sql, &c.ps).await?, total))
    }
}

impl Store {
    /// Breakout rooms (child meetings) of a meeting, oldest first.
    pub async fn child_meetings(&self, parent_id: &str) -> StoreResult<Vec<MeetingRow>> {
        self.db()
            .rows(
                &format!("SELECT {COLS} FROM meetings WHERE parent_meeting_id = $1 ORDER BY created_at, id"),
                params![parent_id],
            )
            .await
    }
}
