//! Sessions: the rows with their maintained aggregates, reads and lists, the write-through
//! cache (SQLite), ending sessions, and imports. Every state change is one transaction that keeps
//! the session's aggregates exact, so reads are O(1) and a crash never leaves a session half-done.

use std::sync::Arc;

use sqlx::any::AnyRow;

use super::peers::{peer_row, PeerRow, PEER_COLS};
use super::{col, Store, StoreResult};
use crate::clock::Millis;

pub const SESSION_COLS: &str = "id, app_id, seq, meeting_id, meeting_title, parent_session_id, status, keep_alive_ms, \
    started_at, ended_at, created_at, updated_at, live_count, max_live, peer_count, closed_ms, live_join_sum, \
    last_leave_at, ends_at, dropped_count";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    pub app_id: String,
    /// 1, 2, … in the app's order of creation.
    pub seq: i64,
    pub meeting_id: String,
    pub meeting_title: Option<String>,
    pub parent_session_id: Option<String>,
    pub status: String,
    pub keep_alive_ms: i64,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub live_count: i64,
    pub max_live: i64,
    pub peer_count: i64,
    pub closed_ms: i64,
    pub live_join_sum: i64,
    pub last_leave_at: Option<Millis>,
    pub ends_at: Option<Millis>,
    /// Live peers whose connection dropped: still in `live_count`, no longer accruing.
    pub dropped_count: i64,
}

/// A session as it stands at a moment: a LIVE session whose keep-alive has run out is ENDED
/// (at its last leave) even before the reaper records it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    pub live: bool,
    pub ended_at: Option<Millis>,
    pub updated_at: Millis,
    pub live_participants: i64,
    pub minutes_consumed: f64,
}

impl SessionRow {
    /// True when the keep-alive after the last leave has run out at `now`.
    pub fn expired(&self, now: Millis) -> bool {
        self.status == "LIVE" && self.live_count == 0 && self.ends_at.is_some_and(|e| e <= now)
    }

    /// The participant-milliseconds up to `now`: closed intervals (a dropped peer's up to
    /// its drop) plus the open intervals of connected peers.
    pub fn presence_ms(&self, now: Millis) -> i64 {
        self.closed_ms + (self.live_count - self.dropped_count) * now - self.live_join_sum
    }

    pub fn state(&self, now: Millis) -> SessionState {
        let expired = self.expired(now);
        let live = self.status == "LIVE" && !expired;
        SessionState {
            live,
            ended_at: if expired { self.last_leave_at } else { self.ended_at },
            updated_at: if expired { self.ends_at.unwrap_or(self.updated_at) } else { self.updated_at },
            live_participants: self.live_count,
            minutes_consumed: self.presence_ms(now) as f64 / 60_000.0,
        }
    }
}

pub(crate) fn session_row(r: &AnyRow) -> StoreResult<SessionRow> {
    Ok(SessionRow {
        id: col(r, "id")?,
        app_id: col(r, "app_id")?,
        seq: col(r, "seq")?,
        meeting_id: col(r, "meeting_id")?,
        meeting_title: col(r, "meeting_title")?,
        parent_session_id: col(r, "parent_session_id")?,
        status: col(r, "status")?,
        keep_alive_ms: col(r, "keep_alive_ms")?,
        started_at: col(r, "started_at")?,
        ended_at: col(r, "ended_at")?,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
        live_count: col(r, "live_count")?,
        max_live: col(r, "max_live")?,
        peer_count: col(r, "peer_count")?,
        closed_ms: col(r, "closed_ms")?,
        live_join_sum: col(r, "live_join_sum")?,
        last_leave_at: col(r, "last_leave_at")?,
        ends_at: col(r, "ends_at")?,
        dropped_count: col(r, "dropped_count")?,
    })
}

/// The sessions list filter.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub associated_id: Option<String>,
    /// `Some(true)`: LIVE only, `Some(false)`: ENDED only.
    pub live: Option<bool>,
    pub start_time: Option<Millis>,
    pub end_time: Option<Millis>,
    /// Matches a meeting title (case-insensitive substring), a meeting id or a session id.
    pub search: Option<String>,
    /// Inclusive range on the number of peers that joined.
    pub participants: Option<(i64, i64)>,
    pub sort_by_minutes: bool,
    pub descending: bool,
}

impl Store {
    /// Ends every LIVE session whose keep-alive ran out by `now` (at its last leave).
    pub async fn end_expired_sessions(&self, now: Millis) -> StoreResult<Vec<SessionRow>> {
        let mut w = self.write().await?;
        let rows = sqlx::query(&format!(
            "UPDATE sessions SET status = 'ENDED', ended_at = last_leave_at, updated_at = ends_at, ends_at = NULL \
             WHERE status = 'LIVE' AND live_count = 0 AND ends_at <= $1 RETURNING {SESSION_COLS}"
        ))
        .bind(now)
        .fetch_all(&mut *w.tx)
        .await?;
        let rows = rows.iter().map(session_row).collect::<StoreResult<Vec<_>>>()?;
        w.commit_then(|| self.cache_sessions(&rows)).await?;
        Ok(rows)
    }

    /// Ends the meeting's live session at once: every live peer leaves at `now` and the
    /// session is ENDED with no keep-alive. `None` if the meeting has no live session.
    pub async fn end_session_now(
        &self,
        meeting_id: &str,
        reason: &str,
        now: Millis,
    ) -> StoreResult<Option<(SessionRow, Vec<PeerRow>)>> {
        let mut w = self.write().await?;
        let Some(r) = sqlx::query(&format!(
            "UPDATE sessions SET closed_ms = closed_ms + (live_count - dropped_count) * $1 - live_join_sum, \
               live_count = 0, dropped_count = 0, live_join_sum = 0, status = 'ENDED', ended_at = $1, \
               last_leave_at = $1, ends_at = NULL, updated_at = $1 \
             WHERE meeting_id = $2 AND status = 'LIVE' AND (live_count > 0 OR ends_at IS NULL OR ends_at > $1) \
             RETURNING {SESSION_COLS}"
        ))
        .bind(now)
        .bind(meeting_id)
        .fetch_optional(&mut *w.tx)
        .await?
        else {
            return Ok(None);
        };
        let session = session_row(&r)?;
        if self.backend == super::Backend::Postgres {
            // The session's peers in id order, the order heartbeat flushes take them in.
            sqlx::query(
                "SELECT id FROM peers WHERE session_id = $1 AND left_at IS NULL ORDER BY id FOR UPDATE",
            )
            .bind(&session.id)
            .fetch_all(&mut *w.tx)
            .await?;
        }
        let rows = sqlx::query(&format!(
            "UPDATE peers SET left_at = COALESCE(dropped_at, $1), leave_reason = $2, updated_at = $1 \
             WHERE session_id = $3 AND left_at IS NULL RETURNING {PEER_COLS}"
        ))
        .bind(now)
        .bind(reason)
        .bind(&session.id)
        .fetch_all(&mut *w.tx)
        .await?;
        let peers = rows.iter().map(peer_row).collect::<StoreResult<Vec<_>>>()?;
        w.commit_then(|| self.cache_sessions([&session])).await?;
        Ok(Some((session, peers)))
    }

    /// The meeting's session that is live at `now`, if any.
    pub async fn live_session(&self, meeting_id: &str, now: Millis) -> StoreResult<Option<SessionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE meeting_id = $1 AND status = 'LIVE'"
        ))
        .bind(meeting_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(session_row).transpose()?.filter(|s| !s.expired(now)))
    }

    /// The session `id` if the write-through cache holds it (SQLite only; any app, callers
    /// check the owner). `None` says nothing about whether the session exists.
    pub fn cached_session(&self, id: &str) -> Option<Arc<SessionRow>> {
        self.sessions.as_ref()?.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// The session `id` of app `app_id` (from the cache on SQLite).
    pub async fn session(&self, app_id: &str, id: &str) -> StoreResult<Option<SessionRow>> {
        if let Some(s) = self.cached_session(id) {
            return Ok((s.app_id == app_id).then(|| SessionRow::clone(&s)));
        }
        let row = sqlx::query(&format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(s) = row.as_ref().map(session_row).transpose()? else { return Ok(None) };
        if let Some(cache) = &self.sessions {
            // Only under the writer lock, so a concurrent write cannot be overwritten by this
            // older read.
            if let Some(lock) = &self.write_lock {
                let _g = lock.lock().await;
                let fresh = sqlx::query(&format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.pool())
                    .await?;
                if let Some(f) = fresh.as_ref().map(session_row).transpose()? {
                    insert_bounded(&mut cache.write().unwrap_or_else(|e| e.into_inner()), f);
                }
            }
        }
        Ok((s.app_id == app_id).then_some(s))
    }

    /// Writes rows through to the session cache (SQLite); call under the writer lock.
    pub(super) fn cache_sessions<'a>(&self, rows: impl IntoIterator<Item = &'a SessionRow>) {
        if let Some(cache) = &self.sessions {
            let mut c = cache.write().unwrap_or_else(|e| e.into_inner());
            for r in rows {
                insert_bounded(&mut c, r.clone());
            }
        }
    }

    /// The meeting's sessions in start order (oldest first).
    pub async fn meeting_sessions(&self, meeting_id: &str) -> StoreResult<Vec<SessionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE meeting_id = $1 ORDER BY started_at, id"
        ))
        .bind(meeting_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(session_row).collect()
    }

    /// A page of the app's sessions and the total matching `f`.
    pub async fn list_sessions(
        &self,
        app_id: &str,
        f: &SessionFilter,
        now: Millis,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<SessionRow>, i64)> {
        let plain = f.associated_id.is_none()
            && f.live.is_none()
            && f.start_time.is_none()
            && f.end_time.is_none()
            && f.search.is_none()
            && f.participants.is_none()
            && !f.sort_by_minutes;
        if plain {
            // Unfiltered, by creation: the total is the app's counter and a page is an index
            // seek on seq, however deep.
            let total = self.session_total(app_id).await?;
            let (sql, bound) = if f.descending {
                (
                    format!(
                        "SELECT {SESSION_COLS} FROM sessions WHERE app_id = $1 AND seq <= $2 ORDER BY seq DESC LIMIT {limit}"
                    ),
                    total - offset,
                )
            } else {
                (
                    format!("SELECT {SESSION_COLS} FROM sessions WHERE app_id = $1 AND seq > $2 ORDER BY seq LIMIT {limit}"),
                    offset,
                )
            };
            let rows = sqlx::query(&sql).bind(app_id).bind(bound).fetch_all(self.pool()).await?;
            return Ok((rows.iter().map(session_row).collect::<StoreResult<_>>()?, total));
        }
        let mut cond = String::from("app_id = $1");
        let mut n = 1;
        let mut arg = |c: &mut String, sql: &str| {
            n += 1;
            c.push_str(&sql.replace("$?", &format!("${n}")));
        };
        if f.associated_id.is_some() {
            arg(&mut cond, " AND meeting_id = $?");
        }
        // "Live" means LIVE and not past its keep-alive at `now`.
        match f.live {
            Some(true) => {
                arg(&mut cond, " AND status = 'LIVE' AND (live_count > 0 OR ends_at IS NULL OR ends_at > $?)")
            }
            Some(false) => arg(&mut cond, " AND (status = 'ENDED' OR (live_count = 0 AND ends_at <= $?))"),
            None => {}
        }
        if f.start_time.is_some() {
            arg(&mut cond, " AND started_at >= $?");
        }
        if f.end_time.is_some() {
            arg(&mut cond, " AND started_at <= $?");
        }
        if f.search.is_some() {
            arg(&mut cond, " AND (LOWER(meeting_title) LIKE $? ESCAPE '\\'");
            arg(&mut cond, " OR meeting_id = $?");
            arg(&mut cond, " OR id = $?)");
        }
        if f.participants.is_some() {
            arg(&mut cond, " AND peer_count >= $?");
            arg(&mut cond, " AND peer_count <= $?");
        }
        let dir = if f.descending { "DESC" } else { "ASC" };
        let order = if f.sort_by_minutes {
            format!("closed_ms + (live_count - dropped_count) * {now} - live_join_sum {dir}, seq {dir}")
        } else {
            format!("seq {dir}")
        };
        let count_sql = format!("SELECT COUNT(*) AS n FROM sessions WHERE {cond}");
        let page_sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE {cond} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        macro_rules! bind_all {
            ($q:expr) => {{
                let mut q = $q.bind(app_id);
                if let Some(a) = &f.associated_id {
                    q = q.bind(a.clone());
                }
                if f.live.is_some() {
                    q = q.bind(now);
                }
                if let Some(t) = f.start_time {
                    q = q.bind(t);
                }
                if let Some(t) = f.end_time {
                    q = q.bind(t);
                }
                if let Some(s) = &f.search {
                    q = q.bind(super::like_pattern(s)).bind(s.clone()).bind(s.clone());
                }
                if let Some((lo, hi)) = f.participants {
                    q = q.bind(lo).bind(hi);
                }
                q
            }};
        }
        let total: i64 = col(&bind_all!(sqlx::query(&count_sql)).fetch_one(self.pool()).await?, "n")?;
        let rows = bind_all!(sqlx::query(&page_sql)).fetch_all(self.pool()).await?;
        Ok((rows.iter().map(session_row).collect::<StoreResult<_>>()?, total))
    }

    /// Inserts sessions exactly as given, in one transaction (imports from elsewhere keep
    /// their ids and numbers; benchmarks seed with it).
    /// Their `seq` is assigned here, in the order given (give them oldest first).
    pub async fn import_sessions(&self, rows: &[SessionRow]) -> StoreResult<()> {
        const N: usize = 20;
        let mut w = self.write().await?;
        let mut rows = rows.to_vec();
        let mut by_app: std::collections::HashMap<String, i64> = Default::default();
        for r in &rows {
            *by_app.entry(r.app_id.clone()).or_default() += 1;
        }
        let mut next: std::collections::HashMap<String, i64> = Default::default();
        for (app, n) in by_app {
            let last = next_seqs(&mut w, &app, n).await?;
            next.insert(app, last - n + 1);
        }
        for r in rows.iter_mut() {
            let n = next.get_mut(&r.app_id).expect("counted above");
            r.seq = *n;
            *n += 1;
        }
        for chunk in rows.chunks(500) {
            let values = placeholders(chunk.len(), N);
            let sql = format!("INSERT INTO sessions ({SESSION_COLS}) VALUES {values}");
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(&r.id)
                    .bind(&r.app_id)
                    .bind(r.seq)
                    .bind(&r.meeting_id)
                    .bind(&r.meeting_title)
                    .bind(&r.parent_session_id)
                    .bind(&r.status)
                    .bind(r.keep_alive_ms)
                    .bind(r.started_at)
                    .bind(r.ended_at)
                    .bind(r.created_at)
                    .bind(r.updated_at)
                    .bind(r.live_count)
                    .bind(r.max_live)
                    .bind(r.peer_count)
                    .bind(r.closed_ms)
                    .bind(r.live_join_sum)
                    .bind(r.last_leave_at)
                    .bind(r.ends_at)
                    .bind(r.dropped_count);
            }
            q.execute(&mut *w.tx).await?;
        }
        w.commit_then(|| self.cache_sessions(&rows)).await
    }

    /// How many sessions the app has had.
    pub async fn session_total(&self, app_id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT sessions FROM app_counters WHERE app_id = $1")
            .bind(app_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => col(&r, "sessions")?,
            None => 0,
        })
    }
}

/// `($1, …, $n), ($n+1, …)` for `rows` rows of `n` columns.
pub(super) fn placeholders(rows: usize, n: usize) -> String {
    let mut out = String::new();
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..n {
            if c > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", r * n + c + 1));
        }
        out.push(')');
    }
    out
}

/// Reserves `n` seqs for new sessions of `app_id`; the last one.
pub(super) async fn next_seqs(w: &mut super::WriteTx, app_id: &str, n: i64) -> StoreResult<i64> {
    let r = sqlx::query(
        "INSERT INTO app_counters (app_id, sessions) VALUES ($1, $2) \
         ON CONFLICT (app_id) DO UPDATE SET sessions = app_counters.sessions + $2 RETURNING sessions",
    )
    .bind(app_id)
    .bind(n)
    .fetch_one(&mut *w.tx)
    .await?;
    col(&r, "sessions")
}

/// The session cache holds at most this many rows; past it, it starts over.
const SESSION_CACHE_MAX: usize = 200_000;

/// Sessions by id, shared so a read copies a pointer, not the row.
pub(crate) type SessionCache = std::collections::HashMap<String, Arc<SessionRow>>;

fn insert_bounded(c: &mut SessionCache, r: SessionRow) {
    if c.len() >= SESSION_CACHE_MAX && !c.contains_key(&r.id) {
        c.clear();
    }
    c.insert(r.id.clone(), Arc::new(r));
}
