//! Recordings: their rows, the state machine's transitions, and what a session's end does to
//! them. Every transition is one transaction that also writes its `recording.statusUpdate`
//! event and the session's `meta` (the recordings `GET …/sessions/{id}` shows), so the three
//! never disagree.
//!
//! States: `INVOKED → RECORDING ⇄ PAUSED → UPLOADING → UPLOADED | ERRORED`. The recorder
//! (`crate::recordings`) moves `INVOKED → RECORDING` once it has attached to the session and
//! `UPLOADING → UPLOADED` once the file is stored; everything else happens here.

use super::db::{params, FromRow, Param, Row};
use super::sessions::{SessionRow, SESSION_COLS};
use super::{Backend, Store, StoreError, StoreResult, WriteTx};
use crate::clock::Millis;

pub const RECORDING_COLS: &str = "id, app_id, meeting_id, session_id, kind, status, invoked_at, started_at, \
    stopped_at, paused_at, paused_ms, pauses, max_seconds, start_reason, stop_reason, output_file_name, config, \
    file_size, storage_key, download_expires_at, err_message, updated_at";

/// Statuses of a recording that is still running (holds the meeting's one recording slot).
pub const RUNNING: [&str; 3] = ["INVOKED", "RECORDING", "PAUSED"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRow {
    pub id: String,
    pub app_id: String,
    pub meeting_id: String,
    pub session_id: Option<String>,
    /// `composite` (`POST …/recordings`) or `track` (`POST …/recordings/track`).
    pub kind: String,
    pub status: String,
    pub invoked_at: Millis,
    pub started_at: Option<Millis>,
    pub stopped_at: Option<Millis>,
    /// While PAUSED: when the pause began.
    pub paused_at: Option<Millis>,
    /// The closed pauses' total.
    pub paused_ms: i64,
    /// The closed pauses, `[[from, to], …]` (JSON).
    pub pauses: String,
    pub max_seconds: Option<i64>,
    pub start_reason: String,
    pub stop_reason: Option<String>,
    pub output_file_name: String,
    /// The start body as given, secrets removed (JSON object).
    pub config: String,
    pub file_size: Option<i64>,
    pub storage_key: Option<String>,
    pub download_expires_at: Option<Millis>,
    pub err_message: Option<String>,
    pub updated_at: Millis,
}

impl FromRow for RecordingRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(RecordingRow {
            id: r.get(0)?,
            app_id: r.get(1)?,
            meeting_id: r.get(2)?,
            session_id: r.get(3)?,
            kind: r.get(4)?,
            status: r.get(5)?,
            invoked_at: r.get(6)?,
            started_at: r.get(7)?,
            stopped_at: r.get(8)?,
            paused_at: r.get(9)?,
            paused_ms: r.get(10)?,
            pauses: r.get(11)?,
            max_seconds: r.get(12)?,
            start_reason: r.get(13)?,
            stop_reason: r.get(14)?,
            output_file_name: r.get(15)?,
            config: r.get(16)?,
            file_size: r.get(17)?,
            storage_key: r.get(18)?,
            download_expires_at: r.get(19)?,
            err_message: r.get(20)?,
            updated_at: r.get(21)?,
        })
    }
}

impl RecordingRow {
    pub fn is_running(&self) -> bool {
        RUNNING.contains(&self.status.as_str())
    }

    /// Recorded milliseconds up to `now` (or the stop): started to stopped, less the pauses.
    pub fn recorded_ms(&self, now: Millis) -> Option<i64> {
        let start = self.started_at?;
        let end = self.stopped_at.unwrap_or(now).max(start);
        let open_pause = self.paused_at.map(|p| end - p.min(end)).unwrap_or(0);
        Some((end - start - self.paused_ms - open_pause).max(0))
    }

    /// When `max_seconds` of recorded time is reached, if it is set and the recording runs
    /// (a paused recording accrues nothing, so has no deadline until it resumes).
    pub fn max_deadline(&self) -> Option<Millis> {
        if self.status != "RECORDING" {
            return None;
        }
        Some(self.started_at? + self.paused_ms + self.max_seconds? * 1000)
    }

    /// The closed pauses as `(from, to)`.
    pub fn pause_list(&self) -> Vec<(Millis, Millis)> {
        serde_json::from_str::<Vec<(Millis, Millis)>>(&self.pauses).unwrap_or_default()
    }
}

/// The recordings list filter.
#[derive(Debug, Clone, Default)]
pub struct RecordingFilter {
    pub meeting_id: Option<String>,
    pub statuses: Vec<String>,
    /// Invoked at or after.
    pub start_time: Option<Millis>,
    /// Invoked at or before.
    pub end_time: Option<Millis>,
    /// `Some(true)`: only recordings whose download has expired by `now`; `Some(false)`: only
    /// those not expired (no file yet counts as not expired).
    pub expired: Option<bool>,
    /// A meeting id (exactly) or a meeting title (case-insensitive substring).
    pub search: Option<String>,
    pub descending: bool,
}

/// A transition asked for through `PUT …/recordings/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Stop,
    Pause,
    Resume,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Stop => "stop",
            Action::Pause => "pause",
            Action::Resume => "resume",
        }
    }
}

/// Why a recording stopped, as stored (`MAX_SECONDS` is rtk's: RealtimeKit names none). rtk's
/// recorder never fails mid-recording, so it never stops one with `INTERNAL_ERROR`.
pub mod stop {
    pub const API_CALL: &str = "API_CALL";
    pub const ALL_PEERS_LEFT: &str = "ALL_PEERS_LEFT";
    pub const MAX_SECONDS: &str = "MAX_SECONDS";
}

/// The stored shape of a session's `meta`: its recordings, oldest first.
fn meta_of(recs: &[RecordingRow]) -> String {
    use crate::clock::rfc3339;
    let list: Vec<serde_json::Value> = recs
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "status": r.status,
                "invoked_time": rfc3339(r.invoked_at),
                "started_time": r.started_at.map(rfc3339),
                "stopped_time": r.stopped_at.map(rfc3339),
                "output_file_name": r.output_file_name,
                "recording_duration": r.stopped_at.and_then(|_| r.recorded_ms(0)).map(|ms| ms / 1000),
            })
        })
        .collect();
    if list.is_empty() {
        "{}".into()
    } else {
        serde_json::json!({ "recordings": list }).to_string()
    }
}

/// Rewrites the session's `meta` from its recordings, in the caller's transaction; the session
/// row as it now stands (callers put it in the cache after the commit).
pub(super) async fn refresh_meta_in(w: &mut WriteTx, session_id: &str) -> StoreResult<Option<SessionRow>> {
    let recs: Vec<RecordingRow> = w
        .rows(
            &format!("SELECT {RECORDING_COLS} FROM recordings WHERE session_id = $1 ORDER BY invoked_at, id"),
            params![session_id],
        )
        .await?;
    let meta = meta_of(&recs);
    w.optional(
        &format!("UPDATE sessions SET meta = $1 WHERE id = $2 RETURNING {SESSION_COLS}"),
        params![meta.as_str(), session_id],
    )
    .await
}

/// Writes the `recording.statusUpdate` events of `recs` (each as it now stands), in order.
async fn events_in(
    w: &mut WriteTx,
    session: Option<&SessionRow>,
    recs: &[RecordingRow],
    download: Option<(&str, Millis)>,
    now: Millis,
) -> StoreResult<()> {
    for r in recs {
        super::webhooks::recording_event_in(w, session, r, download, now).await?;
    }
    Ok(())
}

/// Stops the session's running recordings at `at` because it ended, in the caller's transaction
/// (one that ends the session): each goes to UPLOADING with `ALL_PEERS_LEFT`. The session row
/// with its new `meta` if any recording was stopped.
pub(super) async fn stop_for_session_end_in(
    w: &mut WriteTx,
    session: &SessionRow,
    at: Millis,
    now: Millis,
) -> StoreResult<Option<SessionRow>> {
    let stopped: Vec<RecordingRow> = w
        .rows(
            &format!(
                "UPDATE recordings SET {}, stop_reason = $2, updated_at = $3 \
                 WHERE session_id = $4 AND status IN ('INVOKED', 'RECORDING', 'PAUSED') \
                 RETURNING {RECORDING_COLS}",
                stop_set_sql("$1"),
            ),
            params![at, stop::ALL_PEERS_LEFT, now, &session.id],
        )
        .await?;
    if stopped.is_empty() {
        return Ok(None);
    }
    for r in &stopped {
        super::analytics::recording_stopped_in(w, r).await?;
    }
    let fresh = refresh_meta_in(w, &session.id).await?;
    events_in(w, fresh.as_ref().or(Some(session)), &sorted(stopped), None, now).await?;
    Ok(fresh)
}

/// The SET clause that stops a running recording at `at` (a parameter): UPLOADING, an INVOKED
/// one counted as started then, an open pause closed there.
fn stop_set_sql(at: &str) -> String {
    format!(
        "status = 'UPLOADING', started_at = COALESCE(started_at, {at}), stopped_at = {at}, \
         paused_ms = paused_ms + CASE WHEN paused_at IS NULL THEN 0 ELSE {at} - paused_at END, \
         pauses = CASE WHEN paused_at IS NULL THEN pauses ELSE {} END, paused_at = NULL",
        close_pause_sql(at)
    )
}

/// SQL that appends `[paused_at, {to}]` to the `pauses` JSON array (text on both backends).
fn close_pause_sql(to: &str) -> String {
    format!(
        "CASE WHEN pauses = '[]' THEN '[[' || CAST(paused_at AS TEXT) || ',' || CAST({to} AS TEXT) || ']]' \
         ELSE SUBSTR(pauses, 1, LENGTH(pauses) - 1) || ',[' || CAST(paused_at AS TEXT) || ',' || CAST({to} AS TEXT) || ']]' END"
    )
}

fn sorted(mut v: Vec<RecordingRow>) -> Vec<RecordingRow> {
    v.sort_by(|a, b| (a.invoked_at, &a.id).cmp(&(b.invoked_at, &b.id)));
    v
}

/// What the start of a recording needs.
#[derive(Debug, Clone)]
pub struct NewRecording {
    pub id: String,
    pub app_id: String,
    pub meeting_id: String,
    pub kind: String,
    pub max_seconds: Option<i64>,
    pub start_reason: String,
    pub output_file_name: String,
    pub config: String,
    pub allow_multiple: bool,
}

/// Inserts an INVOKED recording of `session` (live, locked by the caller's transaction).
/// Conflict if the meeting has a running recording of the same kind and `allow_multiple` is
/// false (track recordings sit beside the composite one).
pub(super) async fn start_in(
    w: &mut WriteTx,
    session: &SessionRow,
    n: &NewRecording,
    now: Millis,
) -> StoreResult<(RecordingRow, Option<SessionRow>)> {
    if !n.allow_multiple {
        let running: Option<String> = w
            .optional(
                "SELECT id FROM recordings WHERE meeting_id = $1 AND kind = $2 \
                 AND status IN ('INVOKED', 'RECORDING', 'PAUSED') ORDER BY invoked_at LIMIT 1",
                params![&n.meeting_id, &n.kind],
            )
            .await?;
        if let Some(other) = running {
            return Err(StoreError::Conflict(format!(
                "Recording already in progress: recording {other} of meeting {} is running (set allow_multiple_recordings to run another)",
                n.meeting_id
            )));
        }
    }
    let row: RecordingRow = w
        .one(
            &format!(
                "INSERT INTO recordings ({RECORDING_COLS}) VALUES ($1, $2, $3, $4, $5, 'INVOKED', $6, NULL, NULL, NULL, 0, '[]', \
                 $7, $8, NULL, $9, $10, NULL, NULL, NULL, NULL, $6) RETURNING {RECORDING_COLS}"
            ),
            params![
                &n.id,
                &n.app_id,
                &n.meeting_id,
                &session.id,
                &n.kind,
                now,
                n.max_seconds,
                &n.start_reason,
                &n.output_file_name,
                &n.config
            ],
        )
        .await?;
    let one = super::analytics::Add { recordings: 1, ..Default::default() };
    super::analytics::add_in(w, &row.app_id, super::analytics::day_of(row.invoked_at), one).await?;
    let fresh = refresh_meta_in(w, &session.id).await?;
    events_in(w, fresh.as_ref().or(Some(session)), std::slice::from_ref(&row), None, now).await?;
    Ok((row, fresh))
}

impl Store {
    /// Starts a recording of the meeting's live session (INVOKED). Conflict when the meeting
    /// has no live session, or a recording running and `allow_multiple` false.
    pub async fn start_recording(&self, n: &NewRecording, now: Millis) -> StoreResult<RecordingRow> {
        let mut w = self.write().await?;
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let session: Option<SessionRow> = w
            .optional(
                &format!(
                    "SELECT {SESSION_COLS} FROM sessions WHERE meeting_id = $1 AND status = 'LIVE' \
                     AND (live_count > 0 OR ends_at IS NULL OR ends_at > $2){lock}"
                ),
                params![&n.meeting_id, now],
            )
            .await?;
        let Some(session) = session else {
            return Err(StoreError::Conflict(format!(
                "meeting {} has no live session to record: a recording starts once a participant has joined",
                n.meeting_id
            )));
        };
        let (row, fresh) = start_in(&mut w, &session, n, now).await?;
        w.commit_then(|| self.cache_sessions(fresh.iter())).await?;
        Ok(row)
    }

    /// INVOKED → RECORDING at `now` (the recorder has attached). `None` if it is no longer
    /// INVOKED (stopped meanwhile).
    pub async fn recording_started(&self, id: &str, now: Millis) -> StoreResult<Option<RecordingRow>> {
        self.transition(
            id,
            now,
            "UPDATE recordings SET status = 'RECORDING', started_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'INVOKED'",
            None,
        )
        .await
    }

    /// Runs `update` (with `$1` = now, `$2` = id) and, if it changed the row, the meta and the
    /// event, in one transaction; the row after it.
    async fn transition(
        &self,
        id: &str,
        now: Millis,
        update: &str,
        download: Option<(&str, Millis)>,
    ) -> StoreResult<Option<RecordingRow>> {
        let mut w = self.write().await?;
        self.lock_recording_session(&mut w, id).await?;
        let row: Option<RecordingRow> =
            w.optional(&format!("{update} RETURNING {RECORDING_COLS}"), params![now, id]).await?;
        let Some(row) = row else {
            w.rollback().await?;
            return Ok(None);
        };
        let stopped = row.status == "UPLOADING";
        self.settle(w, &row, stopped, download, now).await?;
        Ok(Some(row))
    }

    /// The rest of a transition's transaction, once `row` is written: its recorded time into the
    /// analytics when it has just `stopped`, the session's meta, the event, the commit (then the
    /// session cache).
    async fn settle(
        &self,
        mut w: WriteTx,
        row: &RecordingRow,
        stopped: bool,
        download: Option<(&str, Millis)>,
        now: Millis,
    ) -> StoreResult<()> {
        if stopped {
            super::analytics::recording_stopped_in(&mut w, row).await?;
        }
        let fresh = match &row.session_id {
            Some(s) => refresh_meta_in(&mut w, s).await?,
            None => None,
        };
        events_in(&mut w, fresh.as_ref(), std::slice::from_ref(row), download, now).await?;
        w.commit_then(|| self.cache_sessions(fresh.iter())).await
    }

    /// On PostgreSQL, locks the recording's session row first: the order a session's end
    /// takes (session, then its recordings), so the two never wait on each other in a cycle.
    async fn lock_recording_session(&self, w: &mut WriteTx, id: &str) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            w.rows::<String>(
                "SELECT s.id FROM sessions s JOIN recordings r ON r.session_id = s.id WHERE r.id = $1 FOR UPDATE OF s",
                params![id],
            )
            .await?;
        }
        Ok(())
    }

    /// Applies `action` to recording `id` of app `app_id` at `now`. NotFound if there is no
    /// such recording; Conflict (naming its state) if the action does not apply to it.
    pub async fn act_on_recording(
        &self,
        app_id: &str,
        id: &str,
        action: Action,
        now: Millis,
    ) -> StoreResult<RecordingRow> {
        let mut w = self.write().await?;
        self.lock_recording_session(&mut w, id).await?;
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let current: Option<RecordingRow> = w
            .optional(
                &format!("SELECT {RECORDING_COLS} FROM recordings WHERE id = $1 AND app_id = $2{lock}"),
                params![id, app_id],
            )
            .await?;
        let Some(current) = current else {
            return Err(StoreError::NotFound(format!("No recording found with id {id}")));
        };
        let allowed = match action {
            Action::Pause => current.status == "RECORDING",
            Action::Resume => current.status == "PAUSED",
            Action::Stop => current.is_running(),
        };
        if !allowed {
            let need = match action {
                Action::Pause => "only a RECORDING recording can be paused",
                Action::Resume => "only a PAUSED recording can be resumed",
                Action::Stop => "only an INVOKED, RECORDING or PAUSED recording can be stopped",
            };
            return Err(StoreError::Conflict(format!(
                "Cannot {} recording {id}: it is {} ({need})",
                action.name(),
                current.status
            )));
        }
        let sql = match action {
            Action::Pause => {
                "UPDATE recordings SET status = 'PAUSED', paused_at = $1, updated_at = $1 WHERE id = $2"
                    .to_string()
            }
            Action::Resume => format!(
                "UPDATE recordings SET status = 'RECORDING', paused_ms = paused_ms + ($1 - paused_at), \
                 pauses = {}, paused_at = NULL, updated_at = $1 WHERE id = $2",
                close_pause_sql("$1")
            ),
            Action::Stop => format!(
                "UPDATE recordings SET {}, stop_reason = '{}', updated_at = $1 WHERE id = $2",
                stop_set_sql("$1"),
                stop::API_CALL
            ),
        };
        let row: RecordingRow = w.one(&format!("{sql} RETURNING {RECORDING_COLS}"), params![now, id]).await?;
        self.settle(w, &row, action == Action::Stop, None, now).await?;
        Ok(row)
    }

    /// Stops every recording whose `max_seconds` of recorded time is reached by `now`, at the
    /// moment it was reached. The rows stopped.
    pub async fn stop_recordings_at_max(&self, now: Millis) -> StoreResult<Vec<RecordingRow>> {
        let due: Vec<String> = self
            .db()
            .rows(
                "SELECT id FROM recordings WHERE status = 'RECORDING' AND max_seconds IS NOT NULL \
                 AND started_at + paused_ms + max_seconds * 1000 <= $1 ORDER BY invoked_at, id",
                params![now],
            )
            .await?;
        let mut out = vec![];
        for id in due {
            let stopped = self
                .transition(
                    &id,
                    now,
                    &format!(
                        "UPDATE recordings SET status = 'UPLOADING', stopped_at = started_at + paused_ms + max_seconds * 1000, \
                         stop_reason = '{}', updated_at = $1 \
                         WHERE id = $2 AND status = 'RECORDING' AND started_at + paused_ms + max_seconds * 1000 <= $1",
                        stop::MAX_SECONDS
                    ),
                    None,
                )
                .await?;
            out.extend(stopped);
        }
        Ok(out)
    }

    /// The earliest `max_seconds` deadline after `now` (a manual clock's next stop).
    pub async fn next_recording_due(&self, now: Millis) -> StoreResult<Option<Millis>> {
        self.db()
            .one(
                "SELECT MIN(started_at + paused_ms + max_seconds * 1000) FROM recordings \
                 WHERE status = 'RECORDING' AND max_seconds IS NOT NULL \
                 AND started_at + paused_ms + max_seconds * 1000 > $1",
                params![now],
            )
            .await
    }

    /// Ids of INVOKED recordings, oldest first (the recorder attaches to them).
    pub async fn invoked_recordings(&self) -> StoreResult<Vec<String>> {
        self.db()
            .rows("SELECT id FROM recordings WHERE status = 'INVOKED' ORDER BY invoked_at, id", params![])
            .await
    }

    /// Recordings waiting for their file (UPLOADING), oldest stop first.
    pub async fn uploading_recordings(&self, limit: i64) -> StoreResult<Vec<RecordingRow>> {
        self.db()
            .rows(
                &format!(
                    "SELECT {RECORDING_COLS} FROM recordings WHERE status = 'UPLOADING' ORDER BY stopped_at, id LIMIT {limit}"
                ),
                params![],
            )
            .await
    }

    /// UPLOADING → UPLOADED: the file is stored under `key`, `size` bytes, downloadable until
    /// `expires_at`; `url` is the link the webhook carries. `None` if another node finished it.
    pub async fn recording_uploaded(
        &self,
        id: &str,
        key: &str,
        size: i64,
        expires_at: Millis,
        url: &str,
        now: Millis,
    ) -> StoreResult<Option<RecordingRow>> {
        let mut w = self.write().await?;
        self.lock_recording_session(&mut w, id).await?;
        let row: Option<RecordingRow> = w
            .optional(
                &format!(
                    "UPDATE recordings SET status = 'UPLOADED', storage_key = $1, file_size = $2, \
                     download_expires_at = $3, updated_at = $4 WHERE id = $5 AND status = 'UPLOADING' \
                     RETURNING {RECORDING_COLS}"
                ),
                params![key, size, expires_at, now, id],
            )
            .await?;
        let Some(row) = row else {
            w.rollback().await?;
            return Ok(None);
        };
        self.settle(w, &row, false, Some((url, expires_at)), now).await?;
        Ok(Some(row))
    }

    /// UPLOADING → ERRORED with `message` (the file could not be written).
    pub async fn recording_errored(
        &self,
        id: &str,
        message: &str,
        now: Millis,
    ) -> StoreResult<Option<RecordingRow>> {
        let mut w = self.write().await?;
        self.lock_recording_session(&mut w, id).await?;
        let row: Option<RecordingRow> = w
            .optional(
                &format!(
                    "UPDATE recordings SET status = 'ERRORED', err_message = $1, updated_at = $2 \
                     WHERE id = $3 AND status = 'UPLOADING' RETURNING {RECORDING_COLS}"
                ),
                params![message, now, id],
            )
            .await?;
        let Some(row) = row else {
            w.rollback().await?;
            return Ok(None);
        };
        self.settle(w, &row, false, None, now).await?;
        Ok(Some(row))
    }

    pub async fn recording(&self, app_id: &str, id: &str) -> StoreResult<Option<RecordingRow>> {
        self.db()
            .optional(
                &format!("SELECT {RECORDING_COLS} FROM recordings WHERE id = $1 AND app_id = $2"),
                params![id, app_id],
            )
            .await
    }

    /// Any app's recording `id` (a download link names only the recording).
    pub async fn recording_by_id(&self, id: &str) -> StoreResult<Option<RecordingRow>> {
        self.db()
            .optional(&format!("SELECT {RECORDING_COLS} FROM recordings WHERE id = $1"), params![id])
            .await
    }

    /// The meeting's running recording: the oldest composite one, else the oldest track one.
    pub async fn active_recording(
        &self,
        app_id: &str,
        meeting_id: &str,
    ) -> StoreResult<Option<RecordingRow>> {
        self.db()
            .optional(
                &format!(
                    "SELECT {RECORDING_COLS} FROM recordings WHERE meeting_id = $1 AND app_id = $2 \
                     AND status IN ('INVOKED', 'RECORDING', 'PAUSED') \
                     ORDER BY CASE WHEN kind = 'composite' THEN 0 ELSE 1 END, invoked_at, id LIMIT 1"
                ),
                params![meeting_id, app_id],
            )
            .await
    }

    /// A page of the app's recordings by invocation time, and how many match in all.
    pub async fn list_recordings(
        &self,
        app_id: &str,
        f: &RecordingFilter,
        now: Millis,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RecordingRow>, i64)> {
        let like = f.search.as_deref().map(super::like_pattern);
        let mut ps: Vec<Param<'_>> = vec![app_id.into()];
        let mut sql = String::from("r.app_id = $1");
        fn bind<'a>(ps: &mut Vec<Param<'a>>, p: Param<'a>) -> String {
            ps.push(p);
            format!("${}", ps.len())
        }
        if let Some(m) = &f.meeting_id {
            let b = bind(&mut ps, m.into());
            sql.push_str(&format!(" AND r.meeting_id = {b}"));
        }
        if !f.statuses.is_empty() {
            let marks: Vec<String> = f.statuses.iter().map(|s| bind(&mut ps, s.into())).collect();
            sql.push_str(&format!(" AND r.status IN ({})", marks.join(", ")));
        }
        if let Some(t) = f.start_time {
            let b = bind(&mut ps, t.into());
            sql.push_str(&format!(" AND r.invoked_at >= {b}"));
        }
        if let Some(t) = f.end_time {
            let b = bind(&mut ps, t.into());
            sql.push_str(&format!(" AND r.invoked_at <= {b}"));
        }
        match f.expired {
            Some(true) => {
                let b = bind(&mut ps, now.into());
                sql.push_str(&format!(
                    " AND r.download_expires_at IS NOT NULL AND r.download_expires_at <= {b}"
                ));
            }
            Some(false) => {
                let b = bind(&mut ps, now.into());
                sql.push_str(&format!(" AND (r.download_expires_at IS NULL OR r.download_expires_at > {b})"));
            }
            None => {}
        }
        let join = match (&f.search, &like) {
            (Some(q), Some(like)) => {
                let exact = bind(&mut ps, q.into());
                let like = bind(&mut ps, like.into());
                sql.push_str(&format!(
                    " AND (r.meeting_id = {exact} OR LOWER(COALESCE(m.title, '')) LIKE {like} ESCAPE '\\')"
                ));
                " LEFT JOIN meetings m ON m.id = r.meeting_id"
            }
            _ => "",
        };
        let total: i64 =
            self.db().one(&format!("SELECT COUNT(*) FROM recordings r{join} WHERE {sql}"), &ps).await?;
        let dir = if f.descending { "DESC" } else { "ASC" };
        let cols: String =
            RECORDING_COLS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
        let rows = self
            .db()
            .rows(
                &format!(
                    "SELECT {cols} FROM recordings r{join} WHERE {sql} ORDER BY r.invoked_at {dir}, r.id {dir} \
                     LIMIT {limit} OFFSET {offset}"
                ),
                &ps,
            )
            .await?;
        Ok((rows, total))
    }

    /// Poll bodies of a session with their creation times, oldest first (the recorder's file).
    pub async fn session_polls(&self, session_id: &str) -> StoreResult<Vec<(String, String, Millis)>> {
        let rows: Vec<PollRow> = self
            .db()
            .rows(
                "SELECT id, body, created_at FROM polls WHERE session_id = $1 ORDER BY created_at, id",
                params![session_id],
            )
            .await?;
        Ok(rows.into_iter().map(|PollRow(a, b, c)| (a, b, c)).collect())
    }
}

struct PollRow(String, String, Millis);

impl FromRow for PollRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(PollRow(r.get(0)?, r.get(1)?, r.get(2)?))
    }
}

/// The file name a recording's JSON timeline gets: `{prefix}_{id}.json` (`{id}.json` without a
/// prefix).
pub fn output_file_name(prefix: Option<&str>, id: &str) -> String {
    match prefix.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => format!("{p}_{id}.json"),
        None => format!("{id}.json"),
    }
}

/// The stored document of meeting `meeting_id` (`Null` if it is gone or unreadable), in the
/// caller's transaction.
pub(super) async fn meeting_body_in(w: &mut WriteTx, meeting_id: &str) -> StoreResult<serde_json::Value> {
    let body: Option<String> =
        w.optional("SELECT body FROM meetings WHERE id = $1", params![meeting_id]).await?;
    Ok(body.and_then(|b| serde_json::from_str(&b).ok()).unwrap_or(serde_json::Value::Null))
}

/// Removes what must never be read back from a recording's configuration (storage secrets).
pub fn without_secrets(config: &mut serde_json::Value) {
    if let Some(sc) = config.get_mut("storage_config").and_then(serde_json::Value::as_object_mut) {
        for k in crate::http::schema::WRITE_ONLY_STORAGE_FIELDS {
            sc.remove(*k);
        }
    }
}

/// Invokes the recording of a session that has just started, if its meeting (`body`, its
/// stored document) has `record_on_start` (its `recording_config` as the recording's
/// configuration), in the join's transaction. The session row as it now stands.
pub(super) async fn record_on_start_in(
    w: &mut WriteTx,
    session: &SessionRow,
    body: &serde_json::Value,
    now: Millis,
) -> StoreResult<SessionRow> {
    if body.get("record_on_start").and_then(serde_json::Value::as_bool) != Some(true) {
        return Ok(session.clone());
    }
    let mut config = match body.get("recording_config") {
        Some(c @ serde_json::Value::Object(_)) => c.clone(),
        _ => serde_json::json!({}),
    };
    without_secrets(&mut config);
    let id = super::new_id();
    let n = NewRecording {
        output_file_name: output_file_name(config.get("file_name_prefix").and_then(|v| v.as_str()), &id),
        max_seconds: config.get("max_seconds").and_then(serde_json::Value::as_f64).map(|s| s as i64),
        id,
        app_id: session.app_id.clone(),
        meeting_id: session.meeting_id.clone(),
        kind: "composite".into(),
        start_reason: "RECORD_ON_START".into(),
        config: config.to_string(),
        // A new session has no recording running: nothing to refuse.
        allow_multiple: true,
    };
    let (_, fresh) = start_in(w, session, &n, now).await?;
    Ok(fresh.unwrap_or_else(|| session.clone()))
}

/// Inserts a recording as it was (fixtures), with its analytics, in the import's transaction.
pub(super) async fn import_in(w: &mut WriteTx, r: &RecordingRow) -> StoreResult<()> {
    w.execute(
        &format!(
            "INSERT INTO recordings ({RECORDING_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        ),
        params![
            &r.id,
            &r.app_id,
            &r.meeting_id,
            &r.session_id,
            &r.kind,
            &r.status,
            r.invoked_at,
            r.started_at,
            r.stopped_at,
            r.paused_at,
            r.paused_ms,
            &r.pauses,
            r.max_seconds,
            &r.start_reason,
            &r.stop_reason,
            &r.output_file_name,
            &r.config,
            r.file_size,
            &r.storage_key,
            r.download_expires_at,
            &r.err_message,
            r.updated_at
        ],
    )
    .await?;
    let one = super::analytics::Add { recordings: 1, ..Default::default() };
    super::analytics::add_in(w, &r.app_id, super::analytics::day_of(r.invoked_at), one).await?;
    super::analytics::recording_stopped_in(w, r).await
}
