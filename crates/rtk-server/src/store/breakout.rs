//! Breakout rooms: child meetings of a meeting, and the sessions started in them.

use super::db::params;
use super::meetings::{insert_sql, MeetingRow};
use super::sessions::{SessionRow, SESSION_COLS};
use super::{Store, StoreResult};

impl Store {
    /// Inserts breakout rooms (child meetings), all in one transaction: all or none.
    pub async fn insert_breakout_rooms(&self, rooms: &[MeetingRow]) -> StoreResult<()> {
        let mut w = self.write().await?;
        for m in rooms {
            let title_lc = m.title.as_ref().map(|t| t.to_lowercase());
            let (sql, ps) = insert_sql(m, &title_lc);
            w.execute(&sql, &ps).await?;
        }
        w.commit().await
    }

    /// Breakout sessions started from `parent_id`, oldest first.
    pub async fn child_sessions(&self, parent_id: &str) -> StoreResult<Vec<SessionRow>> {
        self.db()
            .rows(
                &format!("SELECT {SESSION_COLS} FROM sessions WHERE parent_session_id = $1 ORDER BY started_at, id"),
                params![parent_id],
            )
            .await
    }
}
