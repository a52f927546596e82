//! Peers and presence: joins (with SQLite's group commit), leaves, drops and resumes,
//! heartbeats and the reaper's reads. Each change is one transaction that moves the session's
//! aggregates with the peer.

use sqlx::any::AnyRow;

use super::sessions::{next_seqs, placeholders, session_row, SessionRow, SESSION_COLS};
use super::{col, Store, StoreError, StoreResult};
use crate::clock::Millis;

pub const PEER_COLS: &str = "id, session_id, meeting_id, participant_id, custom_participant_id, display_name, \
    preset_name, device, joined_at, left_at, last_seen_at, leave_reason, connected, node_id, created_at, updated_at, dropped_at";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRow {
    pub id: String,
    pub session_id: String,
    pub meeting_id: String,
    pub participant_id: String,
    pub custom_participant_id: String,
    pub display_name: Option<String>,
    pub preset_name: String,
    pub device: Option<String>,
    pub joined_at: Millis,
    pub left_at: Option<Millis>,
    pub last_seen_at: Millis,
    pub leave_reason: Option<String>,
    /// False once its connection dropped without a leave (until a resume).
    pub connected: bool,
    pub node_id: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// When the server saw its connection close, while it is dropped (cleared by a resume).
    pub dropped_at: Option<Millis>,
}

impl PeerRow {
    /// Presence up to `now` (or the leave, or the drop while dropped), in milliseconds.
    pub fn presence_ms(&self, now: Millis) -> i64 {
        self.left_at.or(self.dropped_at).unwrap_or(now) - self.joined_at
    }
}

pub(crate) fn peer_row(r: &AnyRow) -> StoreResult<PeerRow> {
    Ok(PeerRow {
        id: col(r, "id")?,
        session_id: col(r, "session_id")?,
        meeting_id: col(r, "meeting_id")?,
        participant_id: col(r, "participant_id")?,
        custom_participant_id: col(r, "custom_participant_id")?,
        display_name: col(r, "display_name")?,
        preset_name: col(r, "preset_name")?,
        device: col(r, "device")?,
        joined_at: col(r, "joined_at")?,
        left_at: col(r, "left_at")?,
        last_seen_at: col(r, "last_seen_at")?,
        leave_reason: col(r, "leave_reason")?,
        connected: col::<i64>(r, "connected")? == 1,
        node_id: col(r, "node_id")?,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
        dropped_at: col(r, "dropped_at")?,
    })
}

/// What a join needs to know about the meeting and the participant.
#[derive(Debug, Clone)]
pub struct JoinSpec {
    pub app_id: String,
    pub meeting_id: String,
    pub meeting_title: Option<String>,
    pub keep_alive_ms: i64,
    pub parent_session_id: Option<String>,
    pub peer_id: String,
    pub participant_id: String,
    pub custom_participant_id: String,
    pub display_name: Option<String>,
    pub preset_name: String,
    pub device: Option<String>,
    pub node_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Joined {
    pub session: SessionRow,
    pub peer: PeerRow,
    /// True when this join started the session.
    pub started: bool,
    /// A session of the meeting that this join found expired and ended.
    pub ended: Option<SessionRow>,
}

const MAX_JOIN_ATTEMPTS: usize = 8;

impl Store {
    /// Adds a peer to the meeting's LIVE session, starting one if there is none (or if the
    /// one there has outlived its keep-alive, which is ended first). One transaction.
    pub async fn join_peer(&self, spec: &JoinSpec, now: Millis) -> StoreResult<Joined> {
        if let Some(joins) = &self.joins {
            let (reply, rx) = tokio::sync::oneshot::channel();
            if joins.send(JoinReq { spec: spec.clone(), now, reply }).is_ok() {
                if let Ok(r) = rx.await {
                    return r;
                }
            }
        }
        self.join_alone(spec, now).await
    }

    /// One join in its own transaction, retried when a concurrent join (another node) started
    /// the session first.
    async fn join_alone(&self, spec: &JoinSpec, now: Millis) -> StoreResult<Joined> {
        let mut last_err = None;
        for _ in 0..MAX_JOIN_ATTEMPTS {
            match self.try_join(spec, now).await {
                Err(StoreError::Conflict(m)) => last_err = Some(m),
                other => return other,
            }
        }
        Err(StoreError::Conflict(last_err.unwrap_or_else(|| "join raced too often".into())))
    }

    async fn try_join(&self, spec: &JoinSpec, now: Millis) -> StoreResult<Joined> {
        let mut w = self.write().await?;
        let joined = join_in(&mut w, spec, now).await?;
        w.commit_then(|| self.cache_sessions(joined.ended.iter().chain([&joined.session]))).await?;
        Ok(joined)
    }

    /// SQLite's group commit: joins that arrive while one is being written wait and are
    /// written together, in arrival order, in one transaction — a transaction's fixed costs
    /// (and the single writer's lock) are paid once per batch, not once per join. If any join
    /// of a batch fails, the batch is rolled back and each join is retried alone.
    pub(crate) async fn batch_joins(self, mut rx: tokio::sync::mpsc::UnboundedReceiver<JoinReq>) {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < 256 {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            let mut done: Option<Vec<Joined>> = None;
            if let Ok(mut w) = self.write().await {
                let mut out = Vec::with_capacity(batch.len());
                for r in &batch {
                    match join_in(&mut w, &r.spec, r.now).await {
                        Ok(j) => out.push(j),
                        Err(_) => break,
                    }
                }
                if out.len() == batch.len() {
                    let touched: Vec<SessionRow> =
                        out.iter().flat_map(|j| j.ended.iter().chain([&j.session]).cloned()).collect();
                    if w.commit_then(|| self.cache_sessions(&touched)).await.is_ok() {
                        done = Some(out);
                    }
                }
            }
            match done {
                Some(out) => {
                    for (r, j) in batch.into_iter().zip(out) {
                        let _ = r.reply.send(Ok(j));
                    }
                }
                None => {
                    for r in batch {
                        let res = self.join_alone(&r.spec, r.now).await;
                        let _ = r.reply.send(res);
                    }
                }
            }
        }
    }
}

/// Moves `peers` live peers of a session between accruing and dropped, inside the caller's
/// transaction: their presence so far (`closed`, ms) goes into `closed_ms` and their joins
/// (`joined`, the sum of their `joined_at`) out of `live_join_sum` — or back, with negative
/// numbers, when they resume.
async fn close_presence_in(
    w: &mut super::WriteTx,
    session_id: &str,
    peers: i64,
    closed: i64,
    joined: i64,
) -> StoreResult<SessionRow> {
    let r = sqlx::query(&format!(
        "UPDATE sessions SET dropped_count = dropped_count + $1, closed_ms = closed_ms + $2, \
           live_join_sum = live_join_sum - $3 WHERE id = $4 RETURNING {SESSION_COLS}"
    ))
    .bind(peers)
    .bind(closed)
    .bind(joined)
    .bind(session_id)
    .fetch_one(&mut *w.tx)
    .await?;
    session_row(&r)
}

/// The session side of a peer's leave (its row already updated, `left_at` set), inside the
/// caller's transaction: a dropped peer's presence is already closed (at its drop); a
/// connected one's closes at its leave.
async fn leave_session_in(w: &mut super::WriteTx, peer: &PeerRow, now: Millis) -> StoreResult<SessionRow> {
    let left = peer.left_at.unwrap_or(now);
    let (join_dec, closed_inc, dropped_dec) = match peer.dropped_at {
        Some(_) => (0, 0, 1),
        None => (peer.joined_at, left - peer.joined_at, 0),
    };
    let r = sqlx::query(&format!(
        "UPDATE sessions SET live_count = live_count - 1, live_join_sum = live_join_sum - $1, \
           closed_ms = closed_ms + $5, dropped_count = dropped_count - $6, \
           last_leave_at = CASE WHEN last_leave_at IS NULL OR $2 > last_leave_at THEN $2 ELSE last_leave_at END, \
           ends_at = CASE WHEN live_count = 1 THEN \
               (CASE WHEN last_leave_at IS NULL OR $2 > last_leave_at THEN $2 ELSE last_leave_at END) + keep_alive_ms \
             ELSE NULL END, \
           updated_at = $3 \
         WHERE id = $4 AND status = 'LIVE' RETURNING {SESSION_COLS}"
    ))
    .bind(join_dec)
    .bind(left)
    .bind(now)
    .bind(&peer.session_id)
    .bind(closed_inc)
    .bind(dropped_dec)
    .fetch_optional(&mut *w.tx)
    .await?;
    let Some(r) = r else {
        return Err(StoreError::Invalid(format!(
            "peer {} was live in session {} which is not LIVE",
            peer.id, peer.session_id
        )));
    };
    session_row(&r)
}

/// On PostgreSQL, locks the session row of `peer_id` first, so every change to a peer takes its
/// locks in the order joins and kick-all take them (session, then peers) and two transactions
/// never wait on each other. SQLite has one writer at a time and needs nothing.
async fn lock_peer_session(store: &Store, w: &mut super::WriteTx, peer_id: &str) -> StoreResult<()> {
    if store.backend == super::Backend::Postgres {
        sqlx::query(
            "SELECT id FROM sessions WHERE id = (SELECT session_id FROM peers WHERE id = $1) FOR UPDATE",
        )
        .bind(peer_id)
        .fetch_optional(&mut *w.tx)
        .await?;
    }
    Ok(())
}

/// A join waiting for the group commit.
pub(crate) struct JoinReq {
    spec: JoinSpec,
    now: Millis,
    reply: tokio::sync::oneshot::Sender<StoreResult<Joined>>,
}

/// The statements of one join, inside the caller's transaction.
async fn join_in(w: &mut super::WriteTx, spec: &JoinSpec, now: Millis) -> StoreResult<Joined> {
    {
        let row = sqlx::query(&format!(
            "UPDATE sessions SET live_count = live_count + 1, \
               max_live = CASE WHEN live_count + 1 > max_live THEN live_count + 1 ELSE max_live END, \
               peer_count = peer_count + 1, live_join_sum = live_join_sum + $1, ends_at = NULL, updated_at = $1 \
             WHERE meeting_id = $2 AND status = 'LIVE' AND (live_count > 0 OR ends_at IS NULL OR ends_at > $1) \
             RETURNING {SESSION_COLS}"
        ))
        .bind(now)
        .bind(&spec.meeting_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        let (session, started, ended) = match row {
            Some(r) => (session_row(&r)?, false, None),
            None => {
                let ended = sqlx::query(&format!(
                    "UPDATE sessions SET status = 'ENDED', ended_at = last_leave_at, updated_at = ends_at, ends_at = NULL \
                     WHERE meeting_id = $1 AND status = 'LIVE' AND live_count = 0 AND ends_at <= $2 \
                     RETURNING {SESSION_COLS}"
                ))
                .bind(&spec.meeting_id)
                .bind(now)
                .fetch_optional(&mut *w.tx)
                .await?
                .as_ref()
                .map(session_row)
                .transpose()?;
                let id = super::new_id();
                let seq = next_seqs(w, &spec.app_id, 1).await?;
                let r = sqlx::query(&format!(
                    "INSERT INTO sessions ({SESSION_COLS}) VALUES \
                     ($1, $2, $8, $3, $4, $5, 'LIVE', $6, $7, NULL, $7, $7, 1, 1, 1, 0, $7, NULL, NULL, 0) \
                     RETURNING {SESSION_COLS}"
                ))
                .bind(&id)
                .bind(&spec.app_id)
                .bind(&spec.meeting_id)
                .bind(&spec.meeting_title)
                .bind(&spec.parent_session_id)
                .bind(spec.keep_alive_ms)
                .bind(now)
                .bind(seq)
                .fetch_one(&mut *w.tx)
                .await
                .map_err(|e| super::conflict_on_unique(e, || "another join started the session".into()))?;
                (session_row(&r)?, true, ended)
            }
        };
        let r = sqlx::query(&format!(
            "INSERT INTO peers ({PEER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $9, NULL, 1, $10, $9, $9, NULL) \
             RETURNING {PEER_COLS}"
        ))
        .bind(&spec.peer_id)
        .bind(&session.id)
        .bind(&spec.meeting_id)
        .bind(&spec.participant_id)
        .bind(&spec.custom_participant_id)
        .bind(&spec.display_name)
        .bind(&spec.preset_name)
        .bind(&spec.device)
        .bind(now)
        .bind(&spec.node_id)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(|e| super::conflict_on_unique(e, || format!("peer {} already exists", spec.peer_id)))?;
        let peer = peer_row(&r)?;
        Ok(Joined { session, peer, started, ended })
    }
}

impl Store {
    /// Ends a live peer's presence at `at` (≤ now), or at its drop if its connection had
    /// dropped (its presence stopped there): the peer and its session's aggregates in one
    /// transaction. `None` if the peer is unknown or already gone.
    pub async fn leave_peer(
        &self,
        peer_id: &str,
        at: Millis,
        reason: &str,
        now: Millis,
    ) -> StoreResult<Option<(SessionRow, PeerRow)>> {
        let mut w = self.write().await?;
        lock_peer_session(self, &mut w, peer_id).await?;
        let r = sqlx::query(&format!(
            "UPDATE peers SET left_at = COALESCE(dropped_at, $1), leave_reason = $2, updated_at = $3 \
             WHERE id = $4 AND left_at IS NULL RETURNING {PEER_COLS}"
        ))
        .bind(at)
        .bind(reason)
        .bind(now)
        .bind(peer_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        self.finish_leave(w, r, now).await
    }

    /// The rest of a leave once the peer's row is updated (`None`: it was not live): the
    /// session's side, the commit and the cache.
    async fn finish_leave(
        &self,
        mut w: super::WriteTx,
        row: Option<AnyRow>,
        now: Millis,
    ) -> StoreResult<Option<(SessionRow, PeerRow)>> {
        let Some(r) = row else { return Ok(None) };
        let peer = peer_row(&r)?;
        let session = leave_session_in(&mut w, &peer, now).await?;
        w.commit_then(|| self.cache_sessions([&session])).await?;
        Ok(Some((session, peer)))
    }

    /// Records the last message times of live peers (their heartbeats), in one transaction.
    /// Times never move backwards. Returns the peers that are no longer live.
    pub async fn touch_peers(&self, beats: &[(String, Millis)]) -> StoreResult<Vec<String>> {
        let mut gone = vec![];
        if beats.is_empty() {
            return Ok(gone);
        }
        // In id order, as kick-all locks a session's peers: two writers never wait on each other.
        let mut beats: Vec<&(String, Millis)> = beats.iter().collect();
        beats.sort_by(|a, b| a.0.cmp(&b.0));
        let mut w = self.write().await?;
        for (peer_id, at) in beats {
            let done = sqlx::query(
                "UPDATE peers SET last_seen_at = CASE WHEN $1 > last_seen_at THEN $1 ELSE last_seen_at END \
                 WHERE id = $2 AND left_at IS NULL",
            )
            .bind(*at)
            .bind(peer_id)
            .execute(&mut *w.tx)
            .await?;
            if done.rows_affected() == 0 {
                gone.push(peer_id.clone());
            }
        }
        w.commit().await?;
        Ok(gone)
    }

    /// A live, connected peer's connection closed at `at` without a leave: it stays live (it
    /// may resume) but its presence stops counting at `at`; `last` is its last message if
    /// that is later than the one recorded. With `node_id`, only if the peer is held by that
    /// node (a connection on a node the peer has since resumed elsewhere is not its own any
    /// more). True if the peer is live (dropped now or before).
    pub async fn drop_peer(
        &self,
        peer_id: &str,
        at: Millis,
        last: Millis,
        node_id: Option<&str>,
    ) -> StoreResult<bool> {
        let mut w = self.write().await?;
        lock_peer_session(self, &mut w, peer_id).await?;
        let r = sqlx::query(&format!(
            "UPDATE peers SET connected = 0, dropped_at = $1, \
               last_seen_at = CASE WHEN $2 > last_seen_at THEN $2 ELSE last_seen_at END \
             WHERE id = $3 AND left_at IS NULL AND connected = 1 AND ($4 IS NULL OR node_id = $4) \
             RETURNING {PEER_COLS}"
        ))
        .bind(at)
        .bind(last)
        .bind(peer_id)
        .bind(node_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(r) = r else {
            drop(w);
            return Ok(self.peer(peer_id).await?.is_some_and(|p| p.left_at.is_none()));
        };
        let peer = peer_row(&r)?;
        let session =
            close_presence_in(&mut w, &peer.session_id, 1, at - peer.joined_at, peer.joined_at).await?;
        w.commit_then(|| self.cache_sessions([&session])).await?;
        Ok(true)
    }

    /// A live peer's connection is open again at `at` (a resume, on `node_id`). A dropped
    /// peer's presence continues as if it had never dropped: the gap counts. False if the peer
    /// is not live.
    ///
    /// A peer whose last message was at `heard_after` or before has outlived its heartbeat
    /// timeout: it cannot resume, even if the reaper has not ended it yet.
    pub async fn resume_peer(
        &self,
        peer_id: &str,
        node_id: Option<&str>,
        at: Millis,
        heard_after: Millis,
    ) -> StoreResult<bool> {
        let mut w = self.write().await?;
        lock_peer_session(self, &mut w, peer_id).await?;
        // Still carries the old dropped_at: cleared below, once the session has taken it back.
        let r = sqlx::query(&format!(
            "UPDATE peers SET connected = 1, node_id = COALESCE($1, node_id), \
               last_seen_at = CASE WHEN $2 > last_seen_at THEN $2 ELSE last_seen_at END \
             WHERE id = $3 AND left_at IS NULL AND last_seen_at > $4 RETURNING {PEER_COLS}"
        ))
        .bind(node_id)
        .bind(at)
        .bind(peer_id)
        .bind(heard_after)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(r) = r else { return Ok(false) };
        let peer = peer_row(&r)?;
        let Some(dropped_at) = peer.dropped_at else {
            w.commit().await?;
            return Ok(true);
        };
        sqlx::query("UPDATE peers SET dropped_at = NULL WHERE id = $1")
            .bind(peer_id)
            .execute(&mut *w.tx)
            .await?;
        let session =
            close_presence_in(&mut w, &peer.session_id, -1, -(dropped_at - peer.joined_at), -peer.joined_at)
                .await?;
        w.commit_then(|| self.cache_sessions([&session])).await?;
        Ok(true)
    }

    /// Marks every live, connected peer held by `node_id` as dropped (that node restarted:
    /// their connections are gone; they may resume until their heartbeat timeout). The moment
    /// their connections closed is unknown: their presence is taken to stop at their last
    /// recorded message. The sessions' aggregates move by what the peer update returned, so a
    /// peer that resumed elsewhere meanwhile is counted in neither.
    pub async fn drop_node_peers(&self, node_id: &str) -> StoreResult<u64> {
        let mut w = self.write().await?;
        if self.backend == super::Backend::Postgres {
            sqlx::query(
                "SELECT id FROM sessions WHERE id IN (SELECT session_id FROM peers \
                   WHERE node_id = $1 AND left_at IS NULL AND connected = 1) ORDER BY id FOR UPDATE",
            )
            .bind(node_id)
            .fetch_all(&mut *w.tx)
            .await?;
        }
        let rows = sqlx::query(&format!(
            "UPDATE peers SET connected = 0, dropped_at = last_seen_at \
             WHERE node_id = $1 AND left_at IS NULL AND connected = 1 RETURNING {PEER_COLS}"
        ))
        .bind(node_id)
        .fetch_all(&mut *w.tx)
        .await?;
        let peers = rows.iter().map(peer_row).collect::<StoreResult<Vec<_>>>()?;
        // Per session: (peers dropped, presence closed, joined_at to take out).
        let mut per: std::collections::BTreeMap<&str, (i64, i64, i64)> = Default::default();
        for p in &peers {
            let e = per.entry(p.session_id.as_str()).or_default();
            e.0 += 1;
            e.1 += p.last_seen_at - p.joined_at;
            e.2 += p.joined_at;
        }
        let mut sessions = vec![];
        for (sid, (n, closed, joined)) in per {
            sessions.push(close_presence_in(&mut w, sid, n, closed, joined).await?);
        }
        w.commit_then(|| self.cache_sessions(&sessions)).await?;
        Ok(peers.len() as u64)
    }

    /// A live peer whose heartbeat timeout ran out leaves: a dropped one at its drop, a
    /// connected one at its last message (`last` if later than the one recorded) — but only
    /// if nothing newer than `cutoff` was recorded for it meanwhile (a resume, a flushed beat):
    /// the decision to time it out was taken on an older reading. `None` if it did not leave.
    pub async fn time_out_peer(
        &self,
        peer_id: &str,
        last: Millis,
        cutoff: Millis,
        now: Millis,
    ) -> StoreResult<Option<(SessionRow, PeerRow)>> {
        let mut w = self.write().await?;
        lock_peer_session(self, &mut w, peer_id).await?;
        let r = sqlx::query(&format!(
            "UPDATE peers SET last_seen_at = CASE WHEN $1 > last_seen_at THEN $1 ELSE last_seen_at END, \
               left_at = COALESCE(dropped_at, CASE WHEN $1 > last_seen_at THEN $1 ELSE last_seen_at END), \
               leave_reason = 'heartbeat_timeout', updated_at = $2 \
             WHERE id = $3 AND left_at IS NULL AND last_seen_at <= $4 RETURNING {PEER_COLS}"
        ))
        .bind(last)
        .bind(now)
        .bind(peer_id)
        .bind(cutoff)
        .fetch_optional(&mut *w.tx)
        .await?;
        self.finish_leave(w, r, now).await
    }

    /// The earliest moment after which something falls due: a dropped peer's heartbeat timeout
    /// (its last message + `heartbeat_timeout_ms`) or a live session's keep-alive deadline.
    /// Connected peers are not considered: their clients keep them alive.
    /// Only what falls due after `now`: something due already would hide what comes later.
    pub async fn next_due(&self, heartbeat_timeout_ms: Millis, now: Millis) -> StoreResult<Option<Millis>> {
        let peer = sqlx::query(
            "SELECT MIN(last_seen_at) AS t FROM peers WHERE left_at IS NULL AND connected = 0 AND last_seen_at > $1",
        )
        .bind(now - heartbeat_timeout_ms)
        .fetch_one(self.pool())
        .await?;
        let peer: Option<Millis> = col(&peer, "t")?;
        let session = sqlx::query(
            "SELECT MIN(ends_at) AS t FROM sessions WHERE status = 'LIVE' AND live_count = 0 AND ends_at > $1",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        let session: Option<Millis> = col(&session, "t")?;
        Ok([peer.map(|t| t + heartbeat_timeout_ms), session].into_iter().flatten().min())
    }

    /// Live peers (connected or dropped) whose last message was at `cutoff` or before.
    pub async fn silent_peers(&self, cutoff: Millis) -> StoreResult<Vec<PeerRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PEER_COLS} FROM peers WHERE left_at IS NULL AND last_seen_at <= $1 ORDER BY last_seen_at"
        ))
        .bind(cutoff)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(peer_row).collect()
    }

    pub async fn peer(&self, id: &str) -> StoreResult<Option<PeerRow>> {
        let row = sqlx::query(&format!("SELECT {PEER_COLS} FROM peers WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(peer_row).transpose()
    }

    /// Every peer of the given sessions, in join order.
    pub async fn session_peers(&self, session_ids: &[String]) -> StoreResult<Vec<PeerRow>> {
        let mut out = vec![];
        for sid in session_ids {
            let rows = sqlx::query(&format!(
                "SELECT {PEER_COLS} FROM peers WHERE session_id = $1 ORDER BY joined_at, id"
            ))
            .bind(sid)
            .fetch_all(self.pool())
            .await?;
            for r in &rows {
                out.push(peer_row(r)?);
            }
        }
        Ok(out)
    }

    /// The live peers of a session.
    pub async fn live_peers(&self, session_id: &str) -> StoreResult<Vec<PeerRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PEER_COLS} FROM peers WHERE session_id = $1 AND left_at IS NULL ORDER BY joined_at, id"
        ))
        .bind(session_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(peer_row).collect()
    }

    /// The live peers of a participant, in any session.
    pub async fn live_peers_of_participant(&self, participant_id: &str) -> StoreResult<Vec<PeerRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PEER_COLS} FROM peers WHERE participant_id = $1 AND left_at IS NULL ORDER BY joined_at, id"
        ))
        .bind(participant_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(peer_row).collect()
    }

    /// Inserts peers exactly as given, in one transaction (see `import_sessions`).
    pub async fn import_peers(&self, rows: &[PeerRow]) -> StoreResult<()> {
        const N: usize = 17;
        let mut w = self.write().await?;
        for chunk in rows.chunks(500) {
            let values = placeholders(chunk.len(), N);
            let sql = format!("INSERT INTO peers ({PEER_COLS}) VALUES {values}");
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(&r.id)
                    .bind(&r.session_id)
                    .bind(&r.meeting_id)
                    .bind(&r.participant_id)
                    .bind(&r.custom_participant_id)
                    .bind(&r.display_name)
                    .bind(&r.preset_name)
                    .bind(&r.device)
                    .bind(r.joined_at)
                    .bind(r.left_at)
                    .bind(r.last_seen_at)
                    .bind(&r.leave_reason)
                    .bind(if r.connected { 1i64 } else { 0i64 })
                    .bind(&r.node_id)
                    .bind(r.created_at)
                    .bind(r.updated_at)
                    .bind(r.dropped_at);
            }
            q.execute(&mut *w.tx).await?;
        }
        w.commit().await
    }
}
