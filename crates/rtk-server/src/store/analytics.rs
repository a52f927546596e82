//! Daily aggregates for `GET …/analytics/daywise` (migrations/0008_recordings.sql): one row per
//! app and UTC day, added to in the transactions that start and end sessions and recordings.

use super::db::{params, FromRow, Row};
use super::{Store, StoreResult, WriteTx};
use crate::clock::Millis;

pub const DAY_MS: i64 = 86_400_000;

/// The UTC day (days since the epoch) of `t`.
pub fn day_of(t: Millis) -> i64 {
    t.div_euclid(DAY_MS)
}

/// What to add to one app's day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Add {
    pub sessions: i64,
    pub session_ms: i64,
    pub recordings: i64,
    pub recording_ms: i64,
}

/// Adds `a` to `app_id`'s row for `day`, in the caller's transaction.
pub(super) async fn add_in(w: &mut WriteTx, app_id: &str, day: i64, a: Add) -> StoreResult<()> {
    if a == Add::default() {
        return Ok(());
    }
    w.execute(
        "INSERT INTO daily_stats (app_id, day, sessions, session_ms, recordings, recording_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (app_id, day) DO UPDATE SET \
         sessions = daily_stats.sessions + excluded.sessions, \
         session_ms = daily_stats.session_ms + excluded.session_ms, \
         recordings = daily_stats.recordings + excluded.recordings, \
         recording_ms = daily_stats.recording_ms + excluded.recording_ms",
        params![app_id, day, a.sessions, a.session_ms, a.recordings, a.recording_ms],
    )
    .await?;
    Ok(())
}

/// A session that has just ended: its presence joins its start day.
pub(super) async fn session_ended_in(w: &mut WriteTx, s: &super::SessionRow) -> StoreResult<()> {
    let ms = s.presence_ms(s.ended_at.unwrap_or(s.updated_at));
    add_in(w, &s.app_id, day_of(s.started_at), Add { session_ms: ms, ..Add::default() }).await
}

/// A recording that has just stopped: its recorded time joins its invocation day.
pub(super) async fn recording_stopped_in(w: &mut WriteTx, r: &super::RecordingRow) -> StoreResult<()> {
    let ms = r.recorded_ms(r.stopped_at.unwrap_or(r.updated_at)).unwrap_or(0);
    add_in(w, &r.app_id, day_of(r.invoked_at), Add { recording_ms: ms, ..Add::default() }).await
}

/// What an imported session adds: one session on its start day, and its presence once ENDED.
pub(super) fn imported(s: &super::SessionRow) -> Add {
    let ended = s.status == "ENDED";
    Add { sessions: 1, session_ms: if ended { s.closed_ms } else { 0 }, ..Add::default() }
}

/// An imported session (fixtures), in the import's transaction.
pub(super) async fn imported_session_in(w: &mut WriteTx, s: &super::SessionRow) -> StoreResult<()> {
    add_in(w, &s.app_id, day_of(s.started_at), imported(s)).await
}

/// One day's row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayRow {
    pub day: i64,
    pub sessions: i64,
    pub session_ms: i64,
    pub recordings: i64,
    pub recording_ms: i64,
}

impl FromRow for DayRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(DayRow {
            day: r.get(0)?,
            sessions: r.get(1)?,
            session_ms: r.get(2)?,
            recordings: r.get(3)?,
            recording_ms: r.get(4)?,
        })
    }
}

impl Store {
    /// The app's rows for days `from..=to` that have any (days without one had nothing).
    pub async fn daily_stats(&self, app_id: &str, from: i64, to: i64) -> StoreResult<Vec<DayRow>> {
        self.db()
            .rows(
                "SELECT day, sessions, session_ms, recordings, recording_ms FROM daily_stats \
                 WHERE app_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
                params![app_id, from, to],
            )
            .await
    }
}
