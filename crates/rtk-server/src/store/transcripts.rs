//! Transcript segments (bounded per session) and summaries.

use super::db::{params, FromRow, Row};
use super::{Store, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRow {
    pub id: String,
    pub session_id: String,
    pub peer_id: Option<String>,
    pub participant_id: Option<String>,
    pub speaker: String,
    pub text: String,
    pub start_at: Millis,
    pub end_at: Millis,
    /// `gateway` or `api`.
    pub source: String,
    pub created_at: Millis,
}

const COLS: &str =
    "id, session_id, peer_id, participant_id, speaker, text, start_at, end_at, source, created_at";

impl FromRow for SegmentRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(SegmentRow {
            id: r.get(0)?,
            session_id: r.get(1)?,
            peer_id: r.get(2)?,
            participant_id: r.get(3)?,
            speaker: r.get(4)?,
            text: r.get(5)?,
            start_at: r.get(6)?,
            end_at: r.get(7)?,
            source: r.get(8)?,
            created_at: r.get(9)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub session_id: String,
    pub app_id: String,
    /// `PROCESSING`, `COMPLETED` or `FAILED`.
    pub status: String,
    pub body: Option<String>,
    /// `extractive` (built in) or `command`.
    pub method: Option<String>,
    pub error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const SUMMARY_COLS: &str = "session_id, app_id, status, body, method, error, created_at, updated_at";

impl FromRow for SummaryRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(SummaryRow {
            session_id: r.get(0)?,
            app_id: r.get(1)?,
            status: r.get(2)?,
            body: r.get(3)?,
            method: r.get(4)?,
            error: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        })
    }
}

impl Store {
    /// Stores segments of one session unless that would take it past `max` (then none is
    /// stored and the number it holds is returned as the error's count). One transaction.
    pub async fn insert_segments(
        &self,
        session_id: &str,
        segs: &[SegmentRow],
        max: i64,
    ) -> StoreResult<Result<(), i64>> {
        if segs.is_empty() {
            return Ok(Ok(()));
        }
        let n = segs.len() as i64;
        let mut w = self.write().await?;
        let counted: Option<i64> = w
            .optional(
                "INSERT INTO transcript_counters (session_id, segments) VALUES ($1, $2) \
                 ON CONFLICT (session_id) DO UPDATE SET segments = transcript_counters.segments + $2 \
                 WHERE transcript_counters.segments + $2 <= $3 RETURNING segments",
                params![session_id, n, max],
            )
            .await?;
        if counted.is_none() || n > max {
            let held: Option<i64> = w
                .optional(
                    "SELECT segments FROM transcript_counters WHERE session_id = $1",
                    params![session_id],
                )
                .await?;
            w.rollback().await?;
            return Ok(Err(held.unwrap_or(0)));
        }
        for s in segs {
            w.execute(
                &format!("INSERT INTO transcript_segments ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
                params![
                    &s.id,
                    session_id,
                    &s.peer_id,
                    &s.participant_id,
                    &s.speaker,
                    &s.text,
                    s.start_at,
                    s.end_at,
                    &s.source,
                    s.created_at
                ],
            )
            .await?;
        }
        w.commit().await?;
        Ok(Ok(()))
    }

    /// How many segments the session holds.
    /// Live sessions and live peers in the whole store (every node's), for `/metrics`: both
    /// counts read partial indexes, so they cost what is live, not what is stored.
    pub async fn live_counts(&self) -> StoreResult<(i64, i64)> {
        let sessions: Option<i64> =
            self.db().optional("SELECT COUNT(*) FROM sessions WHERE status = 'LIVE'", params![]).await?;
        let peers: Option<i64> =
            self.db().optional("SELECT COUNT(*) FROM peers WHERE left_at IS NULL", params![]).await?;
        Ok((sessions.unwrap_or(0), peers.unwrap_or(0)))
    }

    pub async fn segment_count(&self, session_id: &str) -> StoreResult<i64> {
        let n: Option<i64> = self
            .db()
            .optional("SELECT segments FROM transcript_counters WHERE session_id = $1", params![session_id])
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// Segments of the session in time order after `after` (`(start_at, id)` of the last one
    /// read), at most `limit`.
    pub async fn segments_after(
        &self,
        session_id: &str,
        after: Option<(Millis, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<SegmentRow>> {
        match after {
            None => {
                self.db()
                    .rows(
                        &format!(
                            "SELECT {COLS} FROM transcript_segments WHERE session_id = $1 \
                             ORDER BY start_at, id LIMIT {limit}"
                        ),
                        params![session_id],
                    )
                    .await
            }
            Some((t, id)) => {
                self.db()
                    .rows(
                        &format!(
                            "SELECT {COLS} FROM transcript_segments WHERE session_id = $1 \
                             AND (start_at > $2 OR (start_at = $2 AND id > $3)) ORDER BY start_at, id LIMIT {limit}"
                        ),
                        params![session_id, t, id],
                    )
                    .await
            }
        }
    }

    /// Every segment of the session, in time order.
    pub async fn segments(&self, session_id: &str) -> StoreResult<Vec<SegmentRow>> {
        let mut out: Vec<SegmentRow> = vec![];
        loop {
            let batch = {
                let after = out.last().map(|s| (s.start_at, s.id.as_str()));
                self.segments_after(session_id, after, 1000).await?
            };
            let done = batch.len() < 1000;
            out.extend(batch);
            if done {
                return Ok(out);
            }
        }
    }

    /// Marks the session's summary PROCESSING (a new job), replacing any earlier one.
    pub async fn summary_started(&self, session_id: &str, app_id: &str, now: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            "INSERT INTO summaries (session_id, app_id, status, body, method, error, created_at, updated_at) \
             VALUES ($1, $2, 'PROCESSING', NULL, NULL, NULL, $3, $3) ON CONFLICT (session_id) DO UPDATE SET \
             status = 'PROCESSING', body = NULL, method = NULL, error = NULL, updated_at = $3",
            params![session_id, app_id, now],
        )
        .await?;
        w.commit().await
    }

    /// The job's outcome: `Ok(body)` COMPLETED, `Err(error)` FAILED; when it completed and
    /// `link` is given, `meeting.summary` is written in the same transaction. False if the
    /// summary is no longer PROCESSING (a newer job replaced it and finished first).
    pub async fn summary_done(
        &self,
        session_id: &str,
        method: &str,
        outcome: Result<&str, &str>,
        link: Option<(&str, Millis)>,
        now: Millis,
    ) -> StoreResult<bool> {
        let mut w = self.write().await?;
        let (status, body, error) = match outcome {
            Ok(b) => ("COMPLETED", Some(b), None),
            Err(e) => ("FAILED", None, Some(e)),
        };
        let app: Option<String> = w
            .optional(
                "UPDATE summaries SET status = $1, body = $2, method = $3, error = $4, updated_at = $5 \
                 WHERE session_id = $6 AND status = 'PROCESSING' RETURNING app_id",
                params![status, body, method, error, now, session_id],
            )
            .await?;
        if app.is_none() {
            w.rollback().await?;
            return Ok(false);
        }
        if let (Some((url, exp)), Ok(_)) = (link, outcome) {
            super::webhooks::summary_event_in(&mut w, session_id, url, exp, now).await?;
        }
        w.commit().await?;
        Ok(true)
    }

    pub async fn summary(&self, session_id: &str) -> StoreResult<Option<SummaryRow>> {
        self.db()
            .optional(
                &format!("SELECT {SUMMARY_COLS} FROM summaries WHERE session_id = $1"),
                params![session_id],
            )
            .await
    }
}
