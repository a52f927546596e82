//! Chat messages (bounded per session) and polls.

use sqlx::any::AnyRow;

use super::{col, Store, StoreResult};
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

impl Store {
    /// Stores a chat message unless its session already holds `max` (then false, nothing
    /// stored). The count and the message are one transaction.
    pub async fn insert_chat(&self, c: &ChatRow, max: i64) -> StoreResult<bool> {
        if max < 1 {
            return Ok(false);
        }
        let mut w = self.write().await?;
        let counted = sqlx::query(
            "INSERT INTO chat_counters (session_id, messages) VALUES ($1, 1) \
             ON CONFLICT (session_id) DO UPDATE SET messages = chat_counters.messages + 1 \
             WHERE chat_counters.messages < $2 RETURNING messages",
        )
        .bind(&c.session_id)
        .bind(max)
        .fetch_optional(&mut *w.tx)
        .await?;
        if counted.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO chat_messages (id, session_id, peer_id, participant_id, display_name, message, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.id)
        .bind(&c.session_id)
        .bind(&c.peer_id)
        .bind(&c.participant_id)
        .bind(&c.display_name)
        .bind(&c.message)
        .bind(c.sent_at)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(true)
    }

    /// How many chat messages the session has stored.
    pub async fn chat_count(&self, session_id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT messages FROM chat_counters WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => col(&r, "messages")?,
            None => 0,
        })
    }

    /// A session's chat in the order the gateway carried it: `limit` messages after the
    /// message `after` (its `sent_at` and id; `None`: from the start), an index seek.
    pub async fn chat_after(
        &self,
        session_id: &str,
        after: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<ChatRow>> {
        const COLS: &str = "id, session_id, peer_id, participant_id, display_name, message, sent_at";
        let rows = match after {
            None => {
                sqlx::query(&format!(
                "SELECT {COLS} FROM chat_messages WHERE session_id = $1 ORDER BY sent_at, id LIMIT {limit}"
            ))
                .bind(session_id)
                .fetch_all(self.pool())
                .await?
            }
            Some((at, id)) => {
                sqlx::query(&format!(
                    "SELECT {COLS} FROM chat_messages WHERE session_id = $1 \
                     AND (sent_at > $2 OR (sent_at = $2 AND id > $3)) ORDER BY sent_at, id LIMIT {limit}"
                ))
                .bind(session_id)
                .bind(at)
                .bind(id)
                .fetch_all(self.pool())
                .await?
            }
        };
        chat_rows(&rows)
    }

    /// A page of a session's chat, in order.
    pub async fn chat_page(&self, session_id: &str, limit: i64, offset: i64) -> StoreResult<Vec<ChatRow>> {
        let rows = sqlx::query(&format!(
            "SELECT id, session_id, peer_id, participant_id, display_name, message, sent_at FROM chat_messages \
             WHERE session_id = $1 ORDER BY sent_at, id LIMIT {limit} OFFSET {offset}"
        ))
        .bind(session_id)
        .fetch_all(self.pool())
        .await?;
        chat_rows(&rows)
    }

    pub async fn insert_poll(&self, id: &str, session_id: &str, body: &str, now: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        sqlx::query("INSERT INTO polls (id, session_id, body, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(session_id)
            .bind(body)
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }
}

fn chat_rows(rows: &[AnyRow]) -> StoreResult<Vec<ChatRow>> {
    rows.iter()
        .map(|r| {
            Ok(ChatRow {
                id: col(r, "id")?,
                session_id: col(r, "session_id")?,
                peer_id: col(r, "peer_id")?,
                participant_id: col(r, "participant_id")?,
                display_name: col(r, "display_name")?,
                message: col(r, "message")?,
                sent_at: col(r, "sent_at")?,
            })
        })
        .collect()
}
