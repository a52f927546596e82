//! Livestreams and their sessions (docs/livestreams.md). A livestream is an RTMP ingest point
//! (its stream key) with a playback URL; each ingest, from the publisher's start to its end,
//! is one livestream session, whose seconds are measured by the ingest and the players.
//!
//! Statuses: `INVOKED` (no ingest yet) → `LIVE` (ingest running) → `IDLE` (ingest ended
//! cleanly, or the livestream was stopped) or `ERRORED` (the ingest failed); an independent
//! livestream can go `LIVE` again with a new ingest. Stopping (`…/active-livestream/stop`, or
//! the end of the meeting session it was started in) disables it: its key is then refused.
//! Every change of status is one transaction that also writes its
//! `livestreaming.statusUpdate` event.

use super::db::{params, FromRow, Param, Row};
use super::sessions::SessionRow;
use super::{Backend, Store, StoreError, StoreResult, WriteTx};
use crate::clock::Millis;

pub const LIVESTREAM_COLS: &str = "id, app_id, meeting_id, session_id, name, stream_key, ingest_server, \
    playback_url, status, disabled, video_config, start_reason, created_at, updated_at";

pub const LS_SESSION_COLS: &str = "id, livestream_id, app_id, node_id, invoked_at, started_at, stopped_at, \
    seen_at, viewer_ms, err_message, updated_at, recording_key";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivestreamRow {
    pub id: String,
    pub app_id: String,
    pub meeting_id: Option<String>,
    /// The meeting session it was started in, or attached to when one started: it stops when
    /// that session ends.
    pub session_id: Option<String>,
    pub name: Option<String>,
    pub stream_key: String,
    pub ingest_server: String,
    pub playback_url: String,
    pub status: String,
    pub disabled: bool,
    /// JSON object (`video_config` as given).
    pub video_config: String,
    /// `API_CALL` or `LIVE_STREAM_ON_START`.
    pub start_reason: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl FromRow for LivestreamRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(LivestreamRow {
            id: r.get(0)?,
            app_id: r.get(1)?,
            meeting_id: r.get(2)?,
            session_id: r.get(3)?,
            name: r.get(4)?,
            stream_key: r.get(5)?,
            ingest_server: r.get(6)?,
            playback_url: r.get(7)?,
            status: r.get(8)?,
            disabled: r.get::<i64>(9)? != 0,
            video_config: r.get(10)?,
            start_reason: r.get(11)?,
            created_at: r.get(12)?,
            updated_at: r.get(13)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivestreamSessionRow {
    pub id: String,
    pub livestream_id: String,
    pub app_id: String,
    pub node_id: String,
    pub invoked_at: Millis,
    pub started_at: Millis,
    pub stopped_at: Option<Millis>,
    pub seen_at: Millis,
    /// Closed playback connections, in total.
    pub viewer_ms: i64,
    pub err_message: Option<String>,
    pub updated_at: Millis,
    /// The storage key of the ingest's FLV file, when it is recorded.
    pub recording_key: Option<String>,
}

impl FromRow for LivestreamSessionRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(LivestreamSessionRow {
            id: r.get(0)?,
            livestream_id: r.get(1)?,
            app_id: r.get(2)?,
            node_id: r.get(3)?,
            invoked_at: r.get(4)?,
            started_at: r.get(5)?,
            stopped_at: r.get(6)?,
            seen_at: r.get(7)?,
            viewer_ms: r.get(8)?,
            err_message: r.get(9)?,
            updated_at: r.get(10)?,
            recording_key: r.get(11)?,
        })
    }
}

/// Whole seconds of `ms`, rounded to the nearest (the unit every livestream figure is in).
pub fn whole_seconds(ms: i64) -> i64 {
    (ms.max(0) + 500) / 1000
}

impl LivestreamSessionRow {
    /// The ingest's duration up to its stop (or `now` while it runs).
    pub fn ingest_ms(&self, now: Millis) -> i64 {
        (self.stopped_at.unwrap_or(now) - self.started_at).max(0)
    }
}

/// What starting a livestream needs.
#[derive(Debug, Clone)]
pub struct NewLivestream {
    pub id: String,
    pub app_id: String,
    pub meeting_id: Option<String>,
    pub name: Option<String>,
    pub stream_key: String,
    pub ingest_server: String,
    pub playback_url: String,
    pub video_config: String,
    pub start_reason: String,
}

/// The livestreams list filter.
#[derive(Debug, Clone, Default)]
pub struct LivestreamFilter {
    pub status: Option<String>,
    /// Created at or after.
    pub start_time: Option<Millis>,
    /// Created at or before.
    pub end_time: Option<Millis>,
    /// Only independent livestreams.
    pub exclude_meetings: bool,
    pub descending: bool,
}

/// One UTC day of livestream analytics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LivestreamDayRow {
    pub day: i64,
    pub count: i64,
    pub ingest_seconds: i64,
    pub viewer_seconds: i64,
}

impl FromRow for LivestreamDayRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(LivestreamDayRow {
            day: r.get(0)?,
            count: r.get(1)?,
            ingest_seconds: r.get::<Option<i64>>(2)?.unwrap_or(0),
            viewer_seconds: r.get::<Option<i64>>(3)?.unwrap_or(0),
        })
    }
}

/// The statuses `livestreaming.statusUpdate` reports: `LIVE` while ingesting, `OFFLINE` once
/// stopped, `IDLE` otherwise (as the Cloudflare docs list them).
fn hook_status(ls: &LivestreamRow) -> &'static str {
    if ls.status == "LIVE" {
        "LIVE"
    } else if ls.disabled {
        "OFFLINE"
    } else {
        "IDLE"
    }
}

async fn insert_in(
    w: &mut WriteTx,
    n: &NewLivestream,
    session_id: Option<&str>,
    now: Millis,
) -> StoreResult<LivestreamRow> {
    w.one(
        &format!(
            "INSERT INTO livestreams ({LIVESTREAM_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'INVOKED', 0, $9, $10, $11, $11) \
             RETURNING {LIVESTREAM_COLS}"
        ),
        params![
            &n.id,
            &n.app_id,
            &n.meeting_id,
            session_id,
            &n.name,
            &n.stream_key,
            &n.ingest_server,
            &n.playback_url,
            &n.video_config,
            &n.start_reason,
            now
        ],
    )
    .await
}

/// Closes the open session of `ls` at `at` (with `err`), in the caller's transaction. The
/// session closed, if one was open.
async fn close_session_in(
    w: &mut WriteTx,
    livestream_id: &str,
    at: Millis,
    err: Option<&str>,
    now: Millis,
) -> StoreResult<Option<LivestreamSessionRow>> {
    w.optional(
        &format!(
            "UPDATE livestream_sessions SET stopped_at = CASE WHEN $1 < started_at THEN started_at ELSE $1 END, \
             err_message = $2, updated_at = $3 WHERE livestream_id = $4 AND stopped_at IS NULL RETURNING {LS_SESSION_COLS}"
        ),
        params![at, err, now, livestream_id],
    )
    .await
}

/// Disables `ls` at `at` (its open ingest closed there), in the caller's transaction, with its
/// event. The row after it.
async fn stop_in(w: &mut WriteTx, ls: &LivestreamRow, at: Millis, now: Millis) -> StoreResult<LivestreamRow> {
    close_session_in(w, &ls.id, at, None, now).await?;
    let row: LivestreamRow = w
        .one(
            &format!(
                "UPDATE livestreams SET disabled = 1, status = CASE WHEN status = 'ERRORED' THEN status ELSE 'IDLE' END, \
                 updated_at = $1 WHERE id = $2 RETURNING {LIVESTREAM_COLS}"
            ),
            params![now, &ls.id],
        )
        .await?;
    super::webhooks::livestream_event_in(w, &row, hook_status(&row), now).await?;
    Ok(row)
}

/// Stops the livestreams started in (or attached to) `session`, which is ending at `at`, in
/// the caller's transaction (the one that ends it).
pub(super) async fn stop_for_session_end_in(
    w: &mut WriteTx,
    session: &SessionRow,
    at: Millis,
    now: Millis,
) -> StoreResult<()> {
    let running: Vec<LivestreamRow> = w
        .rows(
            &format!("SELECT {LIVESTREAM_COLS} FROM livestreams WHERE session_id = $1 AND disabled = 0 ORDER BY created_at, id"),
            params![&session.id],
        )
        .await?;
    for ls in running {
        stop_in(w, &ls, at, now).await?;
    }
    Ok(())
}

/// A meeting session has just started (the join's transaction): the meeting's running
/// livestream, if it has one not yet tied to a session, is tied to this one; else, if the
/// meeting has `live_stream_on_start` and livestreaming is on, one is started.
pub(super) async fn on_session_start_in(
    w: &mut WriteTx,
    session: &SessionRow,
    body: &serde_json::Value,
    now: Millis,
) -> StoreResult<()> {
    // A meeting has at most one running livestream (create_livestream refuses a second).
    let running: Option<LivestreamRow> = w
        .optional(
            &format!(
                "SELECT {LIVESTREAM_COLS} FROM livestreams WHERE meeting_id = $1 AND disabled = 0 LIMIT 1"
            ),
            params![&session.meeting_id],
        )
        .await?;
    if let Some(ls) = running {
        if ls.session_id.is_none() {
            w.execute(
                "UPDATE livestreams SET session_id = $1, updated_at = $2 WHERE id = $3",
                params![&session.id, now, &ls.id],
            )
            .await?;
        }
        return Ok(());
    }
    if body.get("live_stream_on_start").and_then(serde_json::Value::as_bool) != Some(true) {
        return Ok(());
    }
    let id = super::new_id();
    let Some((ingest_server, playback_url)) = w.links.as_ref().and_then(|l| l.livestream_urls(&id)) else {
        tracing::warn!(meeting_id = %session.meeting_id, "live_stream_on_start: livestreaming is off (no --rtmp-listen); no livestream started");
        return Ok(());
    };
    let n = NewLivestream {
        id,
        app_id: session.app_id.clone(),
        meeting_id: Some(session.meeting_id.clone()),
        name: session.meeting_title.clone(),
        stream_key: new_stream_key(),
        ingest_server,
        playback_url,
        video_config: "{}".into(),
        start_reason: "LIVE_STREAM_ON_START".into(),
    };
    insert_in(w, &n, Some(&session.id), now).await?;
    Ok(())
}

/// A fresh stream key: 32 random bytes, hex (the publish secret).
pub fn new_stream_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Store {
    /// Creates a livestream (INVOKED). A meeting's: Conflict if the meeting already has a
    /// running (not stopped) livestream; tied to the meeting's live session, if it has one.
    pub async fn create_livestream(&self, n: &NewLivestream, now: Millis) -> StoreResult<LivestreamRow> {
        let mut w = self.write().await?;
        let mut session_id = None;
        if let Some(meeting_id) = &n.meeting_id {
            let lock = if self.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
            // The meeting row serialises two starts of one meeting on PostgreSQL.
            w.rows::<String>(&format!("SELECT id FROM meetings WHERE id = $1{lock}"), params![meeting_id])
                .await?;
            let running: Option<String> = w
                .optional(
                    "SELECT id FROM livestreams WHERE meeting_id = $1 AND disabled = 0 LIMIT 1",
                    params![meeting_id],
                )
                .await?;
            if let Some(other) = running {
                return Err(StoreError::Conflict(format!(
                    "meeting {meeting_id} is already livestreaming (livestream {other}): stop it first"
                )));
            }
            session_id = w
                .optional::<String>(
                    "SELECT id FROM sessions WHERE meeting_id = $1 AND status = 'LIVE' \
                     AND (live_count > 0 OR ends_at IS NULL OR ends_at > $2)",
                    params![meeting_id, now],
                )
                .await?;
        }
        let row = insert_in(&mut w, n, session_id.as_deref(), now).await?;
        w.commit().await?;
        Ok(row)
    }

    pub async fn livestream(&self, app_id: &str, id: &str) -> StoreResult<Option<LivestreamRow>> {
        self.db()
            .optional(
                &format!("SELECT {LIVESTREAM_COLS} FROM livestreams WHERE id = $1 AND app_id = $2"),
                params![id, app_id],
            )
            .await
    }

    pub async fn livestream_by_id(&self, id: &str) -> StoreResult<Option<LivestreamRow>> {
        self.db()
            .optional(&format!("SELECT {LIVESTREAM_COLS} FROM livestreams WHERE id = $1"), params![id])
            .await
    }

    pub async fn livestream_by_key(&self, key: &str) -> StoreResult<Option<LivestreamRow>> {
        self.db()
            .optional(
                &format!("SELECT {LIVESTREAM_COLS} FROM livestreams WHERE stream_key = $1"),
                params![key],
            )
            .await
    }

    /// The meeting's running (not stopped) livestream.
    pub async fn active_livestream(
        &self,
        app_id: &str,
        meeting_id: &str,
    ) -> StoreResult<Option<LivestreamRow>> {
        self.db()
            .optional(
                &format!(
                    "SELECT {LIVESTREAM_COLS} FROM livestreams WHERE app_id = $1 AND meeting_id = $2 AND disabled = 0 \
                     ORDER BY created_at DESC, id DESC LIMIT 1"
                ),
                params![app_id, meeting_id],
            )
            .await
    }

    /// A page of the app's livestreams by creation time, and how many match.
    pub async fn list_livestreams(
        &self,
        app_id: &str,
        f: &LivestreamFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<LivestreamRow>, i64)> {
        let mut q = super::db::Cond::new("app_id = $?", Param::Str(app_id));
        if let Some(s) = &f.status {
            q.push(" AND status = $?", Param::Str(s));
        }
        if let Some(t) = f.start_time {
            q.push(" AND created_at >= $?", Param::Int(t));
        }
        if let Some(t) = f.end_time {
            q.push(" AND created_at <= $?", Param::Int(t));
        }
        if f.exclude_meetings {
            q.sql.push_str(" AND meeting_id IS NULL");
        }
        let order = if f.descending { "DESC" } else { "ASC" };
        let total: i64 =
            self.db().one(&format!("SELECT COUNT(*) FROM livestreams WHERE {}", q.sql), &q.ps).await?;
        let l = q.bind(Param::Int(limit));
        let o = q.bind(Param::Int(offset));
        let rows = self
            .db()
            .rows(
                &format!(
                    "SELECT {LIVESTREAM_COLS} FROM livestreams WHERE {} ORDER BY created_at {order}, id {order} LIMIT {l} OFFSET {o}",
                    q.sql
                ),
                &q.ps,
            )
            .await?;
        Ok((rows, total))
    }

    /// A page of the livestream's sessions, newest first, and how many it has.
    pub async fn livestream_sessions(
        &self,
        livestream_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<LivestreamSessionRow>, i64)> {
        let total: i64 = self
            .db()
            .one("SELECT COUNT(*) FROM livestream_sessions WHERE livestream_id = $1", params![livestream_id])
            .await?;
        let rows = self
            .db()
            .rows(
                &format!(
                    "SELECT {LS_SESSION_COLS} FROM livestream_sessions WHERE livestream_id = $1 \
                     ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3"
                ),
                params![livestream_id, limit, offset],
            )
            .await?;
        Ok((rows, total))
    }

    pub async fn livestream_session(
        &self,
        app_id: &str,
        id: &str,
    ) -> StoreResult<Option<LivestreamSessionRow>> {
        self.db()
            .optional(
                &format!("SELECT {LS_SESSION_COLS} FROM livestream_sessions WHERE id = $1 AND app_id = $2"),
                params![id, app_id],
            )
            .await
    }

    /// The livestream's running ingest.
    pub async fn open_livestream_session(
        &self,
        livestream_id: &str,
    ) -> StoreResult<Option<LivestreamSessionRow>> {
        self.db()
            .optional(
                &format!(
                    "SELECT {LS_SESSION_COLS} FROM livestream_sessions WHERE livestream_id = $1 AND stopped_at IS NULL"
                ),
                params![livestream_id],
            )
            .await
    }

    /// A publisher starts ingesting into `livestream_id` on `node_id`: a new session (its id
    /// `session_id`), the livestream LIVE. Conflict if the livestream is stopped or already
    /// has an ingest (one publisher per key, on every node).
    pub async fn ingest_started(
        &self,
        livestream_id: &str,
        session_id: &str,
        node_id: &str,
        recording_key: Option<&str>,
        invoked_at: Millis,
        now: Millis,
    ) -> StoreResult<(LivestreamRow, LivestreamSessionRow)> {
        let mut w = self.write().await?;
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let ls: Option<LivestreamRow> = w
            .optional(
                &format!("SELECT {LIVESTREAM_COLS} FROM livestreams WHERE id = $1{lock}"),
                params![livestream_id],
            )
            .await?;
        let Some(ls) = ls else {
            return Err(StoreError::NotFound(format!("No livestream found with id {livestream_id}")));
        };
        if ls.disabled {
            return Err(StoreError::Conflict(format!("livestream {livestream_id} has been stopped")));
        }
        let open: Option<String> = w
            .optional(
                "SELECT id FROM livestream_sessions WHERE livestream_id = $1 AND stopped_at IS NULL",
                params![livestream_id],
            )
            .await?;
        if open.is_some() {
            return Err(StoreError::Conflict(format!("livestream {livestream_id} already has a publisher")));
        }
        let session: LivestreamSessionRow = w
            .one(
                &format!(
                    "INSERT INTO livestream_sessions ({LS_SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, $6, 0, NULL, $6, $7) \
                     RETURNING {LS_SESSION_COLS}"
                ),
                params![session_id, livestream_id, &ls.app_id, node_id, invoked_at, now, recording_key],
            )
            .await?;
        let row: LivestreamRow = w
            .one(
                &format!("UPDATE livestreams SET status = 'LIVE', updated_at = $1 WHERE id = $2 RETURNING {LIVESTREAM_COLS}"),
                params![now, livestream_id],
            )
            .await?;
        super::webhooks::livestream_event_in(&mut w, &row, hook_status(&row), now).await?;
        w.commit().await?;
        Ok((row, session))
    }

    /// The ingest of session `session_id` ended at `at` (`err`: why it failed): the livestream
    /// goes IDLE (ERRORED on a failure). `None` if the session was already closed (a stop
    /// closes it in its own transaction, so a stopped livestream is never touched here).
    pub async fn ingest_ended(
        &self,
        session_id: &str,
        at: Millis,
        err: Option<&str>,
        now: Millis,
    ) -> StoreResult<Option<LivestreamRow>> {
        let mut w = self.write().await?;
        let lid: Option<String> = w
            .optional(
                "SELECT livestream_id FROM livestream_sessions WHERE id = $1 AND stopped_at IS NULL",
                params![session_id],
            )
            .await?;
        let Some(lid) = lid else {
            w.rollback().await?;
            return Ok(None);
        };
        if self.backend == Backend::Postgres {
            w.rows::<String>("SELECT id FROM livestreams WHERE id = $1 FOR UPDATE", params![&lid]).await?;
        }
        let closed = close_session_in(&mut w, &lid, at, err, now).await?;
        if closed.is_none() {
            w.rollback().await?;
            return Ok(None);
        }
        let status = if err.is_some() { "ERRORED" } else { "IDLE" };
        let row: LivestreamRow = w
            .one(
                &format!(
                    "UPDATE livestreams SET status = $1, updated_at = $2 WHERE id = $3 RETURNING {LIVESTREAM_COLS}"
                ),
                params![status, now, &lid],
            )
            .await?;
        super::webhooks::livestream_event_in(&mut w, &row, hook_status(&row), now).await?;
        w.commit().await?;
        Ok(Some(row))
    }

    /// The ingest of `session_id` is alive at `now` (a crash ends it at its last sign).
    pub async fn ingest_seen(&self, session_id: &str, now: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            "UPDATE livestream_sessions SET seen_at = $1 WHERE id = $2 AND stopped_at IS NULL",
            params![now, session_id],
        )
        .await?;
        w.commit().await
    }

    /// A playback connection of session `session_id` watched from `from` to `to`: the part
    /// within the ingest joins its viewer time.
    pub async fn add_viewer_time(&self, session_id: &str, from: Millis, to: Millis) -> StoreResult<()> {
        let mut w = self.write().await?;
        w.execute(
            "UPDATE livestream_sessions SET viewer_ms = viewer_ms + \
               CASE WHEN (CASE WHEN stopped_at IS NOT NULL AND stopped_at < $2 THEN stopped_at ELSE $2 END) > \
                         (CASE WHEN started_at > $1 THEN started_at ELSE $1 END) \
                    THEN (CASE WHEN stopped_at IS NOT NULL AND stopped_at < $2 THEN stopped_at ELSE $2 END) - \
                         (CASE WHEN started_at > $1 THEN started_at ELSE $1 END) \
                    ELSE 0 END, \
               updated_at = $3 WHERE id = $4",
            params![from, to, to, session_id],
        )
        .await?;
        w.commit().await
    }

    /// Stops the meeting's running livestream at `now` (its ingest ends there, its key is
    /// refused from then on). NotFound if it has none.
    pub async fn stop_livestream(
        &self,
        app_id: &str,
        meeting_id: &str,
        now: Millis,
    ) -> StoreResult<LivestreamRow> {
        let mut w = self.write().await?;
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let ls: Option<LivestreamRow> = w
            .optional(
                &format!(
                    "SELECT {LIVESTREAM_COLS} FROM livestreams WHERE app_id = $1 AND meeting_id = $2 AND disabled = 0 \
                     ORDER BY created_at DESC LIMIT 1{lock}"
                ),
                params![app_id, meeting_id],
            )
            .await?;
        let Some(ls) = ls else {
            return Err(StoreError::NotFound(format!("No active livestream found for meeting {meeting_id}")));
        };
        let row = stop_in(&mut w, &ls, now, now).await?;
        w.commit().await?;
        Ok(row)
    }

    /// Ends the ingests `node_id` left open (it stopped without ending them) at their last
    /// sign of life, as failed. The number ended.
    pub async fn recover_ingests(&self, node_id: &str, now: Millis) -> StoreResult<usize> {
        let open: Vec<(String, Millis)> = self
            .db()
            .rows::<OpenIngest>(
                "SELECT id, seen_at FROM livestream_sessions WHERE node_id = $1 AND stopped_at IS NULL",
                params![node_id],
            )
            .await?
            .into_iter()
            .map(|o| (o.0, o.1))
            .collect();
        let mut n = 0;
        for (id, seen) in open {
            if self
                .ingest_ended(&id, seen, Some("the ingest was cut off: rtk stopped while it ran"), now)
                .await?
                .is_some()
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Livestream sessions of the app that started in `[from, to]` (ms), per UTC day: count,
    /// ingest and viewer seconds (running ones up to `now`).
    pub async fn livestream_days(
        &self,
        app_id: &str,
        from: Millis,
        to: Millis,
        now: Millis,
    ) -> StoreResult<Vec<LivestreamDayRow>> {
        self.db()
            .rows(
                "SELECT started_at / 86400000 AS day, COUNT(*), \
                   CAST(SUM(((CASE WHEN stopped_at IS NULL THEN $4 ELSE stopped_at END) - started_at + 500) / 1000) AS BIGINT), \
                   CAST(SUM((viewer_ms + 500) / 1000) AS BIGINT) \
                 FROM livestream_sessions WHERE app_id = $1 AND started_at >= $2 AND started_at <= $3 \
                 GROUP BY started_at / 86400000 ORDER BY day",
                params![app_id, from, to, now],
            )
            .await
    }
}

struct OpenIngest(String, Millis);

impl FromRow for OpenIngest {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(OpenIngest(r.get(0)?, r.get(1)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_to_the_nearest() {
        assert_eq!(whole_seconds(0), 0);
        assert_eq!(whole_seconds(499), 0);
        assert_eq!(whole_seconds(500), 1);
        assert_eq!(whole_seconds(10_499), 10);
        assert_eq!(whole_seconds(-5), 0);
    }

    #[test]
    fn stream_keys_are_long_and_fresh() {
        let a = new_stream_key();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_stream_key());
    }
}
