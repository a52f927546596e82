//! Chat messages (bounded per session) and polls.

use super::db::{params, FromRow, Row};
use super::{Store, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRow {
    pub id: String,
    pub session_id: String,
    pub peer_id: String,
    pub participant_id: String,
    pub display_name: Option<String>,
    pub message: String,
    pub sent_at: Millis,
}

const COLS: &str = "id, session_id, peer_id, participant_id, display_name, message, sent_at";

impl FromRow for ChatRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(ChatRow {
            id: r.get(0)?,
            session_id: r.get(1)?,
            peer_id: r.get(2)?,
            participant_id: r.get(3)?,
            display_name: r.get(4)?,
            message: r.get(5)?,
            sent_at: r.get(6)?,
        })
    }
}

impl Store {
    /// Stores a chat message unless its session already holds `max` (then false, nothing
    /// stored). The count and the message are one transaction.
    pub async fn insert_chat(&self, c: &ChatRow, max: i64) -> StoreResult<bool> {
        if max < 1 {
            return Ok(false);
        }
        let mut w = self.write().await?;
        let counted: Option<i64> = w
            .optional(
                "INSERT INTO chat_counters (session_id, messages) VALUES ($1, 1) \
                 ON CONFLICT (session_id) DO UPDATE SET messages = chat_counters.messages + 1 \
                 WHERE chat_counters.messages < $2 RETURNING messages",
                params![&c.session_id, max],
            )
            .await?;
        if counted.is_none() {
            return Ok(false);
        }
        w.execute(
            &format!("INSERT INTO chat_messages ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            params![
                &c.id,
                &c.session_id,
                &c.peer_id,
                &c.participant_id,
                &c.display_name,
                &c.message,
                c.sent_at
            ],
        )
        .await?;
        w.commit().await?;
        Ok(true)
    }

    /// How many chat messages the session has stored.
    pub async fn chat_count(&self, session_id: &str) -> StoreResult<i64> {
        let n: Option<i64> = self
            .db()
            .optional("SELECT messages FROM chat_counters WHERE session_id = $1", params![session_id])
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// A session's chat in the order the gateway carried it: `limit` messages after the
    /// message `after` (its `sent_at` and id; `None`: from the start), an index seek.
    pub async fn chat_after(
        &self,
        session_id: &str,
        after: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<ChatRow>> {
        match after {
            None => {
                self.db()
                    .rows(
                        &format!(
                            "SELECT {COLS} FROM chat_messages WHERE session_id = $1 ORDER BY sent_at, id LIMIT $2"
                        ),
                        params![session_id, limit],
                    )
                    .await
            }
            Some((at, id)) => {
                self.db()
                    .rows(
                        &format!(
                            "SELECT {COLS} FROM chat_messages WHERE session_id = $1 \
                             AND (sent_at > $2 OR (sent_at = $2 AND id > $3)) ORDER BY sent_at, id LIMIT $4"
                        ),
                        params![session_id, at, id, limit],
                    )
                    .await
            }
        }
    }

    /// A page of a session's chat, in order.
    pub async fn chat_page(&self, session_id: &str, limit: i64, offset: i64) -> StoreResult<Vec<ChatRow>> {
        self.db()
            .rows(
                &format!(
                    "SELECT {COLS} FROM chat_messages WHERE session_id = $1 ORDER BY sent_at, id LIMIT $2 OFFSET $3"
                ),
                params![session_id, limit, offset],
            )
            .await
    }

    pub async fn insert_poll(&self, id: &str, session_id: &str, body: &str, now: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            "INSERT INTO polls (id, session_id, body, created_at) VALUES ($1, $2, $3, $4)",
            params![id, session_id, body, now],
        )
        .await?;
        w.commit().await
    }
}
