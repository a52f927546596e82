//! Sessions: the rows with their maintained aggregates, reads and lists, the write-through
//! cache (SQLite), ending sessions, and imports. Every state change is one transaction that keeps
//! the session's aggregates exact, so reads are O(1) and a crash never leaves a session half-done.

use std::sync::Arc;

use super::db::{params, Cond, FromRow, Param, Row};
use super::peers::{PeerRow, PEER_COLS};
use super::{Store, StoreResult};
use crate::clock::Millis;

pub const SESSION_COLS: &str = "id, app_id, seq, meeting_id, meeting_title, parent_session_id, status, keep_alive_ms, \
    started_at, ended_at, created_at, updated_at, live_count, max_live, peer_count, closed_ms, live_join_sum, \
    last_leave_at, ends_at, dropped_count, meta";

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
    /// `meta` of the session's answers: a JSON object (its recordings, see recordings.rs).
    pub meta: String,
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

impl FromRow for SessionRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(SessionRow {
            id: r.get(0)?,
            app_id: r.get(1)?,
            seq: r.get(2)?,
            meeting_id: r.get(3)?,
            meeting_title: r.get(4)?,
            parent_session_id: r.get(5)?,
            status: r.get(6)?,
            keep_alive_ms: r.get(7)?,
            started_at: r.get(8)?,
            ended_at: r.get(9)?,
            created_at: r.get(10)?,
            updated_at: r.get(11)?,
            live_count: r.get(12)?,
            max_live: r.get(13)?,
            peer_count: r.get(14)?,
            closed_ms: r.get(15)?,
            live_join_sum: r.get(16)?,
            last_leave_at: r.get(17)?,
            ends_at: r.get(18)?,
            dropped_count: r.get(19)?,
            meta: r.get(20)?,
        })
    }
}

impl SessionRow {
    /// Its columns in `SESSION_COLS` order, as statement parameters.
    pub(super) fn params(&self) -> [Param<'_>; 21] {
        [
            (&self.id).into(),
            (&self.app_id).into(),
            self.seq.into(),
            (&self.meeting_id).into(),
            (&self.meeting_title).into(),
            (&self.parent_session_id).into(),
            (&self.status).into(),
            self.keep_alive_ms.into(),
            self.started_at.into(),
            self.ended_at.into(),
            self.created_at.into(),
            self.updated_at.into(),
            self.live_count.into(),
            self.max_live.into(),
            self.peer_count.into(),
            self.closed_ms.into(),
            self.live_join_sum.into(),
            self.last_leave_at.into(),
            self.ends_at.into(),
            self.dropped_count.into(),
            (&self.meta).into(),
        ]
    }
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
        let rows: Vec<SessionRow> = w
            .rows(
                &format!(
                    "UPDATE sessions SET status = 'ENDED', ended_at = last_leave_at, updated_at = ends_at, ends_at = NULL \
                     WHERE status = 'LIVE' AND live_count = 0 AND ends_at <= $1 RETURNING {SESSION_COLS}"
                ),
                params![now],
            )
            .await?;
        let mut rows = rows;
        for r in rows.iter_mut() {
            // The recorder leaves when the session closes: at the end of its keep-alive.
            if let Some(fresh) =
                super::recordings::stop_for_session_end_in(&mut w, r, r.updated_at, now).await?
            {
                *r = fresh;
            }
            super::livestreams::stop_for_session_end_in(&mut w, r, r.updated_at, now).await?;
            super::analytics::session_ended_in(&mut w, r).await?;
            let ended = [super::webhooks::SessionChange::Ended("ALL_PARTICIPANTS_LEFT")];
            super::webhooks::session_events_in(&mut w, r, &ended, now).await?;
        }
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
        let Some(session) = w
            .optional::<SessionRow>(
                &format!(
                    "UPDATE sessions SET closed_ms = closed_ms + (live_count - dropped_count) * $1 - live_join_sum, \
                       live_count = 0, dropped_count = 0, live_join_sum = 0, status = 'ENDED', ended_at = $1, \
                       last_leave_at = $1, ends_at = NULL, updated_at = $1 \
                     WHERE meeting_id = $2 AND status = 'LIVE' AND (live_count > 0 OR ends_at IS NULL OR ends_at > $1) \
                     RETURNING {SESSION_COLS}"
                ),
                params![now, meeting_id],
            )
            .await?
        else {
            return Ok(None);
        };
        if self.backend == super::Backend::Postgres {
            // The session's peers in id order, the order heartbeat flushes take them in.
            w.rows::<String>(
                "SELECT id FROM peers WHERE session_id = $1 AND left_at IS NULL ORDER BY id FOR UPDATE",
                params![&session.id],
            )
            .await?;
        }
        let peers: Vec<PeerRow> = w
            .rows(
                &format!(
                    "UPDATE peers SET left_at = COALESCE(dropped_at, $1), leave_reason = $2, updated_at = $1 \
                     WHERE session_id = $3 AND left_at IS NULL RETURNING {PEER_COLS}"
                ),
                params![now, reason, &session.id],
            )
            .await?;
        let session = match super::recordings::stop_for_session_end_in(&mut w, &session, now, now).await? {
            Some(fresh) => fresh,
            None => session,
        };
        super::livestreams::stop_for_session_end_in(&mut w, &session, now, now).await?;
        super::analytics::session_ended_in(&mut w, &session).await?;
        {
            use super::webhooks::SessionChange;
            let mut changes: Vec<SessionChange> = peers.iter().map(SessionChange::Left).collect();
            changes.push(SessionChange::Ended("HOST_ENDED_MEETING"));
            super::webhooks::session_events_in(&mut w, &session, &changes, now).await?;
        }
        w.commit_then(|| self.cache_sessions([&session])).await?;
        Ok(Some((session, peers)))
    }

    /// The meeting's session that is live at `now`, if any.
    pub async fn live_session(&self, meeting_id: &str, now: Millis) -> StoreResult<Option<SessionRow>> {
        let s: Option<SessionRow> = self
            .db()
            .optional(
                &format!("SELECT {SESSION_COLS} FROM sessions WHERE meeting_id = $1 AND status = 'LIVE'"),
                params![meeting_id],
            )
            .await?;
        Ok(s.filter(|s| !s.expired(now)))
    }

    /// The session `id` if the write-through cache holds it (SQLite only; any app, callers
    /// check the owner). `None` says nothing about whether the session exists.
    pub fn cached_session(&self, id: &str) -> Option<Arc<SessionRow>> {
        self.sessions.as_ref()?.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// The session `id` of any app (a download link names only the session).
    pub async fn session_any(&self, id: &str) -> StoreResult<Option<SessionRow>> {
        if let Some(s) = self.cached_session(id) {
            return Ok(Some(SessionRow::clone(&s)));
        }
        self.db().optional(&format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1"), params![id]).await
    }

    /// The session `id` of app `app_id` (from the cache on SQLite).
    pub async fn session(&self, app_id: &str, id: &str) -> StoreResult<Option<SessionRow>> {
        if let Some(s) = self.cached_session(id) {
            return Ok((s.app_id == app_id).then(|| SessionRow::clone(&s)));
        }
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1");
        let s = match &self.sessions {
            // Read under the writer lock and cached there, so a concurrent write cannot be
            // overwritten by this older read.
            Some(cache) => {
                self.db()
                    .read_locked::<SessionRow, _>(&sql, params![id], |s| {
                        if let Some(s) = &s {
                            insert_bounded(&mut cache.write().unwrap_or_else(|e| e.into_inner()), s.clone());
                        }
                        s
                    })
                    .await?
            }
            None => self.db().optional(&sql, params![id]).await?,
        };
        Ok(s.filter(|s| s.app_id == app_id))
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
        self.db()
            .rows(
                &format!("SELECT {SESSION_COLS} FROM sessions WHERE meeting_id = $1 ORDER BY started_at, id"),
                params![meeting_id],
            )
            .await
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
            let rows = if f.descending {
                self.db()
                    .rows(
                        &format!(
                            "SELECT {SESSION_COLS} FROM sessions WHERE app_id = $1 AND seq <= $2 ORDER BY seq DESC LIMIT $3"
                        ),
                        params![app_id, total - offset, limit],
                    )
                    .await?
            } else {
                self.db()
                    .rows(
                        &format!(
                            "SELECT {SESSION_COLS} FROM sessions WHERE app_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                        ),
                        params![app_id, offset, limit],
                    )
                    .await?
            };
            return Ok((rows, total));
        }
        let pattern = f.search.as_deref().map(super::like_pattern);
        let mut c = Cond::new("app_id = $?", app_id.into());
        if let Some(a) = &f.associated_id {
            c.push(" AND meeting_id = $?", a.into());
        }
        // "Live" means LIVE and not past its keep-alive at `now`.
        match f.live {
            Some(true) => c.push(
                " AND status = 'LIVE' AND (live_count > 0 OR ends_at IS NULL OR ends_at > $?)",
                now.into(),
            ),
            Some(false) => {
                c.push(" AND (status = 'ENDED' OR (live_count = 0 AND ends_at <= $?))", now.into())
            }
            None => {}
        }
        if let Some(t) = f.start_time {
            c.push(" AND started_at >= $?", t.into());
        }
        if let Some(t) = f.end_time {
            c.push(" AND started_at <= $?", t.into());
        }
        if let (Some(s), Some(p)) = (&f.search, &pattern) {
            c.push(" AND (LOWER(meeting_title) LIKE $? ESCAPE '\\'", p.into());
            c.push(" OR meeting_id = $?", s.into());
            c.push(" OR id = $?)", s.into());
        }
        if let Some((lo, hi)) = f.participants {
            c.push(" AND peer_count >= $?", lo.into());
            c.push(" AND peer_count <= $?", hi.into());
        }
        let total = self.db().one(&format!("SELECT COUNT(*) FROM sessions WHERE {}", c.sql), &c.ps).await?;
        let dir = if f.descending { "DESC" } else { "ASC" };
        let order = if f.sort_by_minutes {
            let at = c.bind(now.into());
            format!("closed_ms + (live_count - dropped_count) * {at} - live_join_sum {dir}, seq {dir}")
        } else {
            format!("seq {dir}")
        };
        let (l, o) = (c.bind(limit.into()), c.bind(offset.into()));
        let page_sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE {} ORDER BY {order} LIMIT {l} OFFSET {o}",
            c.sql
        );
        Ok((self.db().rows(&page_sql, &c.ps).await?, total))
    }

    /// Inserts sessions exactly as given, in one transaction (imports from elsewhere keep
    /// their ids and numbers; benchmarks seed with it). Their `seq` is assigned here, in the
    /// order given (give them oldest first). A session's `peer_count` must be the number of
    /// its peers (`import_peers`): the participants list takes its total from there.
    pub async fn import_sessions(&self, rows: &[SessionRow]) -> StoreResult<()> {
        const N: usize = 21;
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
            let sql =
                format!("INSERT INTO sessions ({SESSION_COLS}) VALUES {}", placeholders(chunk.len(), N));
            let ps: Vec<Param<'_>> = chunk.iter().flat_map(|r| r.params()).collect();
            w.execute(&sql, &ps).await?;
        }
        // The analytics rows, one upsert per app and day.
        let mut days: std::collections::BTreeMap<(&str, i64), super::analytics::Add> = Default::default();
        for r in rows.iter() {
            let a = days.entry((r.app_id.as_str(), super::analytics::day_of(r.started_at))).or_default();
            let one = super::analytics::imported(r);
            a.sessions += one.sessions;
            a.session_ms += one.session_ms;
        }
        for ((app, day), a) in days {
            super::analytics::add_in(&mut w, app, day, a).await?;
        }
        w.commit_then(|| self.cache_sessions(&rows)).await
    }

    /// How many sessions the app has had.
    pub async fn session_total(&self, app_id: &str) -> StoreResult<i64> {
        let n: Option<i64> = self
            .db()
            .optional("SELECT sessions FROM app_counters WHERE app_id = $1", params![app_id])
            .await?;
        Ok(n.unwrap_or(0))
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
    w.one(
        "INSERT INTO app_counters (app_id, sessions) VALUES ($1, $2) \
         ON CONFLICT (app_id) DO UPDATE SET sessions = app_counters.sessions + $2 RETURNING sessions",
        params![app_id, n],
    )
    .await
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
