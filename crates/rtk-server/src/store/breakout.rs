//! Breakout rooms: the sessions started from a session's child meetings.

use super::db::params;
use super::sessions::{SessionRow, SESSION_COLS};
use super::{Store, StoreResult};

impl Store {
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
