//! Peers and presence: joins (with SQLite's group commit), leaves, drops and resumes,
//! heartbeats, the reaper's reads and the pages of a session's peers. Each change is one
//! transaction that moves the session's aggregates with the peer.

use super::db::{params, FromRow, Param, Row};
use super::sessions::{next_seqs, placeholders, SessionRow, SESSION_COLS};
use super::{Store, StoreError, StoreResult, WriteTx};
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

impl FromRow for PeerRow {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(PeerRow {
            id: r.get(0)?,
            session_id: r.get(1)?,
            meeting_id: r.get(2)?,
            participant_id: r.get(3)?,
            custom_participant_id: r.get(4)?,
            display_name: r.get(5)?,
            preset_name: r.get(6)?,
            device: r.get(7)?,
            joined_at: r.get(8)?,
            left_at: r.get(9)?,
            last_seen_at: r.get(10)?,
            leave_reason: r.get(11)?,
            connected: r.get(12)?,
            node_id: r.get(13)?,
            created_at: r.get(14)?,
            updated_at: r.get(15)?,
            dropped_at: r.get(16)?,
        })
    }
}

impl PeerRow {
    /// Its columns in `PEER_COLS` order, as statement parameters.
    pub(super) fn params(&self) -> [Param<'_>; 17] {
        [
            (&self.id).into(),
            (&self.session_id).into(),
            (&self.meeting_id).into(),
            (&self.participant_id).into(),
            (&self.custom_participant_id).into(),
            (&self.display_name).into(),
            (&self.preset_name).into(),
            (&self.device).into(),
            self.joined_at.into(),
            self.left_at.into(),
            self.last_seen_at.into(),
            (&self.leave_reason).into(),
            self.connected.into(),
            (&self.node_id).into(),
            self.created_at.into(),
            self.updated_at.into(),
            self.dropped_at.into(),
        ]
    }
}

/// The orders of a session's peers that `session_peers_page` pages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerOrder {
    /// By join time, then id.
    JoinedAt,
    /// By presence up to `now` (`PeerRow::presence_ms`), then id.
    Duration,
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
    w.one(
        &format!(
            "UPDATE sessions SET dropped_count = dropped_count + $1, closed_ms = closed_ms + $2, \
               live_join_sum = live_join_sum - $3 WHERE id = $4 RETURNING {SESSION_COLS}"
        ),
        params![peers, closed, joined, session_id],
    )
    .await
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
    let r = w
        .optional(
            &format!(
                "UPDATE sessions SET live_count = live_count - 1, live_join_sum = live_join_sum - $1, \
                   closed_ms = closed_ms + $5, dropped_count = dropped_count - $6, \
                   last_leave_at = CASE WHEN last_leave_at IS NULL OR $2 > last_leave_at THEN $2 ELSE last_leave_at END, \
                   ends_at = CASE WHEN live_count = 1 THEN \
                       (CASE WHEN last_leave_at IS NULL OR $2 > last_leave_at THEN $2 ELSE last_leave_at END) + keep_alive_ms \
                     ELSE NULL END, \
                   updated_at = $3 \
                 WHERE id = $4 AND status = 'LIVE' RETURNING {SESSION_COLS}"
            ),
            params![join_dec, left, now, &peer.session_id, closed_inc, dropped_dec],
        )
        .await?;
    let session = r.ok_or_else(|| {
        StoreError::Invalid(format!(
            "peer {} was live in session {} which is not LIVE",
            peer.id, peer.session_id
        ))
    })?;
    // Every leave path comes here: its webhook event is written in the same transaction.
    super::webhooks::session_events_in(w, &session, &[super::webhooks::SessionChange::Left(peer)], now)
        .await?;
    Ok(session)
}

/// On PostgreSQL, locks the session row of `peer_id` first, so every change to a peer takes its
/// locks in the order joins and kick-all take them (session, then peers) and two transactions
/// never wait on each other. SQLite has one writer at a time and needs nothing.
async fn lock_peer_session(store: &Store, w: &mut super::WriteTx, peer_id: &str) -> StoreResult<()> {
    if store.backend == super::Backend::Postgres {
        w.optional::<String>(
            "SELECT id FROM sessions WHERE id = (SELECT session_id FROM peers WHERE id = $1) FOR UPDATE",
            params![peer_id],
        )
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
    let live: Option<SessionRow> = w
        .optional(
            &format!(
                "UPDATE sessions SET live_count = live_count + 1, \
                   max_live = CASE WHEN live_count + 1 > max_live THEN live_count + 1 ELSE max_live END, \
                   peer_count = peer_count + 1, live_join_sum = live_join_sum + $1, ends_at = NULL, updated_at = $1 \
                 WHERE meeting_id = $2 AND status = 'LIVE' AND (live_count > 0 OR ends_at IS NULL OR ends_at > $1) \
                 RETURNING {SESSION_COLS}"
            ),
            params![now, &spec.meeting_id],
        )
        .await?;
    let (session, started, ended) = match live {
        Some(s) => (s, false, None),
        None => {
            let ended: Option<SessionRow> = w
                .optional(
                    &format!(
                        "UPDATE sessions SET status = 'ENDED', ended_at = last_leave_at, updated_at = ends_at, ends_at = NULL \
                         WHERE meeting_id = $1 AND status = 'LIVE' AND live_count = 0 AND ends_at <= $2 \
                         RETURNING {SESSION_COLS}"
                    ),
                    params![&spec.meeting_id, now],
                )
                .await?;
            let id = super::new_id();
            let seq = next_seqs(w, &spec.app_id, 1).await?;
            let s = w
                .one(
                    &format!(
                        "INSERT INTO sessions ({SESSION_COLS}) VALUES \
                         ($1, $2, $8, $3, $4, $5, 'LIVE', $6, $7, NULL, $7, $7, 1, 1, 1, 0, $7, NULL, NULL, 0, '{{}}') \
                         RETURNING {SESSION_COLS}"
                    ),
                    params![
                        &id,
                        &spec.app_id,
                        &spec.meeting_id,
                        &spec.meeting_title,
                        &spec.parent_session_id,
                        spec.keep_alive_ms,
                        now,
                        seq
                    ],
                )
                .await
                .map_err(|e| super::conflict_on_unique(e, || "another join started the session".into()))?;
            (s, true, ended)
        }
    };
    let peer = w
        .one(
            &format!(
                "INSERT INTO peers ({PEER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $9, NULL, TRUE, $10, $9, $9, NULL) \
                 RETURNING {PEER_COLS}"
            ),
            params![
                &spec.peer_id,
                &session.id,
                &spec.meeting_id,
                &spec.participant_id,
                &spec.custom_participant_id,
                &spec.display_name,
                &spec.preset_name,
                &spec.device,
                now,
                &spec.node_id
            ],
        )
        .await
        .map_err(|e| super::conflict_on_unique(e, || format!("peer {} already exists", spec.peer_id)))?;
    use super::webhooks::{session_events_in, SessionChange};
    let ended = match ended {
        Some(e) => {
            let e = match super::recordings::stop_for_session_end_in(w, &e, e.updated_at, now).await? {
                Some(fresh) => fresh,
                None => e,
            };
            super::livestreams::stop_for_session_end_in(w, &e, e.updated_at, now).await?;
            super::analytics::session_ended_in(w, &e).await?;
            session_events_in(w, &e, &[SessionChange::Ended("ALL_PARTICIPANTS_LEFT")], now).await?;
            Some(e)
        }
        None => None,
    };
    let changes: &[SessionChange] = if started {
        &[SessionChange::Started, SessionChange::Joined(&peer)]
    } else {
        &[SessionChange::Joined(&peer)]
    };
    session_events_in(w, &session, changes, now).await?;
    if started {
        let one = super::analytics::Add { sessions: 1, ..Default::default() };
        super::analytics::add_in(w, &session.app_id, super::analytics::day_of(session.started_at), one)
            .await?;
    }
    // A meeting with `record_on_start`: its recording is invoked with the session.
    // A new session: the meeting's `record_on_start` recording is invoked with it, and its
    // livestream follows it (`live_stream_on_start`, or one already running).
    let session = if started {
        let body = super::recordings::meeting_body_in(w, &session.meeting_id).await?;
        let session = super::recordings::record_on_start_in(w, &session, &body, now).await?;
        super::livestreams::on_session_start_in(w, &session, &body, now).await?;
        session
    } else {
        session
    };
    Ok(Joined { session, peer, started, ended })
}

/// Ends a live peer's presence at `at` (or at its drop), inside the caller's transaction:
/// its row, then its session's aggregates. `None` if it was not live.
pub(super) async fn leave_in(
    store: &Store,
    w: &mut super::WriteTx,
    peer_id: &str,
    at: Millis,
    reason: &str,
    now: Millis,
) -> StoreResult<Option<(SessionRow, PeerRow)>> {
    lock_peer_session(store, w, peer_id).await?;
    let peer: Option<PeerRow> = w
        .optional(
            &format!(
                "UPDATE peers SET left_at = COALESCE(dropped_at, $1), leave_reason = $2, updated_at = $3 \
                 WHERE id = $4 AND left_at IS NULL RETURNING {PEER_COLS}"
            ),
            params![at, reason, now, peer_id],
        )
        .await?;
    let Some(peer) = peer else { return Ok(None) };
    let session = leave_session_in(w, &peer, now).await?;
    Ok(Some((session, peer)))
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
        let left = leave_in(self, &mut w, peer_id, at, reason, now).await?;
        if let Some((session, _)) = &left {
            w.commit_then(|| self.cache_sessions([session])).await?;
        }
        Ok(left)
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
            let done = w
                .execute(
                    "UPDATE peers SET last_seen_at = CASE WHEN $1 > last_seen_at THEN $1 ELSE last_seen_at END \
                     WHERE id = $2 AND left_at IS NULL",
                    params![*at, peer_id],
                )
                .await?;
            if done == 0 {
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
    /// more). `None` if the peer is not live; else whether this dropped it.
    pub async fn drop_peer(
        &self,
        peer_id: &str,
        at: Millis,
        last: Millis,
        node_id: Option<&str>,
    ) -> StoreResult<Option<Dropped>> {
        let mut w = self.write().await?;
        lock_peer_session(self, &mut w, peer_id).await?;
        let peer: Option<PeerRow> = w
            .optional(
                &format!(
                    "UPDATE peers SET connected = FALSE, dropped_at = $1, \
                       last_seen_at = CASE WHEN $2 > last_seen_at THEN $2 ELSE last_seen_at END \
                     WHERE id = $3 AND left_at IS NULL AND connected = TRUE AND ($4 IS NULL OR node_id = $4) \
                     RETURNING {PEER_COLS}"
                ),
                params![at, last, peer_id, node_id],
            )
            .await?;
        let Some(peer) = peer else {
            drop(w);
            let live = self.peer(peer_id).await?.is_some_and(|p| p.left_at.is_none());
            return Ok(live.then_some(Dropped::Before));
        };
        gap_in(&mut w, &peer, at).await?;
        let session =
            close_presence_in(&mut w, &peer.session_id, 1, at - peer.joined_at, peer.joined_at).await?;
        w.commit_then(|| self.cache_sessions([&session])).await?;
        Ok(Some(Dropped::Now { session_id: peer.session_id }))
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
        let peer: Option<PeerRow> = w
            .optional(
                &format!(
                    "UPDATE peers SET connected = TRUE, node_id = COALESCE($1, node_id), \
                       last_seen_at = CASE WHEN $2 > last_seen_at THEN $2 ELSE last_seen_at END \
                     WHERE id = $3 AND left_at IS NULL AND last_seen_at > $4 RETURNING {PEER_COLS}"
                ),
                params![node_id, at, peer_id, heard_after],
            )
            .await?;
        let Some(peer) = peer else { return Ok(false) };
        let Some(dropped_at) = peer.dropped_at else {
            w.commit().await?;
            return Ok(true);
        };
        w.execute("UPDATE peers SET dropped_at = NULL WHERE id = $1", params![peer_id]).await?;
        w.execute(
            "UPDATE peer_gaps SET resumed_at = $1 WHERE peer_id = $2 AND dropped_at = $3",
            params![at, peer_id, dropped_at],
        )
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
            w.rows::<String>(
                "SELECT id FROM sessions WHERE id IN (SELECT session_id FROM peers \
                   WHERE node_id = $1 AND left_at IS NULL AND connected = TRUE) ORDER BY id FOR UPDATE",
                params![node_id],
            )
            .await?;
        }
        let peers: Vec<PeerRow> = w
            .rows(
                &format!(
                    "UPDATE peers SET connected = FALSE, dropped_at = last_seen_at \
                     WHERE node_id = $1 AND left_at IS NULL AND connected = TRUE RETURNING {PEER_COLS}"
                ),
                params![node_id],
            )
            .await?;
        for p in &peers {
            gap_in(&mut w, p, p.last_seen_at).await?;
        }
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

    /// The lost connections of `session_id`'s peers, in time order: (peer id, dropped at,
    /// resumed at — `None` if it did not come back).
    pub async fn peer_gaps(&self, session_id: &str) -> StoreResult<Vec<PeerGap>> {
        self.db()
            .rows(
                "SELECT peer_id, dropped_at, resumed_at FROM peer_gaps WHERE session_id = $1 \
                 ORDER BY dropped_at, peer_id LIMIT 10000",
                params![session_id],
            )
            .await
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
        let peer: Option<PeerRow> = w
            .optional(
                &format!(
                    "UPDATE peers SET last_seen_at = CASE WHEN $1 > last_seen_at THEN $1 ELSE last_seen_at END, \
                       left_at = COALESCE(dropped_at, CASE WHEN $1 > last_seen_at THEN $1 ELSE last_seen_at END), \
                       leave_reason = 'heartbeat_timeout', updated_at = $2 \
                     WHERE id = $3 AND left_at IS NULL AND last_seen_at <= $4 RETURNING {PEER_COLS}"
                ),
                params![last, now, peer_id, cutoff],
            )
            .await?;
        let Some(peer) = peer else { return Ok(None) };
        let session = leave_session_in(&mut w, &peer, now).await?;
        w.commit_then(|| self.cache_sessions([&session])).await?;
        Ok(Some((session, peer)))
    }

    /// The earliest moment after which something falls due: a dropped peer's heartbeat timeout
    /// (its last message + `heartbeat_timeout_ms`), a live session's keep-alive deadline or a
    /// recording's `max_seconds`.
    /// Connected peers are not considered: their clients keep them alive.
    /// Only what falls due after `now`: something due already would hide what comes later.
    pub async fn next_due(&self, heartbeat_timeout_ms: Millis, now: Millis) -> StoreResult<Option<Millis>> {
        let peer: Option<Millis> = self
            .db()
            .one(
                "SELECT MIN(last_seen_at) FROM peers WHERE left_at IS NULL AND connected = FALSE AND last_seen_at > $1",
                params![now - heartbeat_timeout_ms],
            )
            .await?;
        let session: Option<Millis> = self
            .db()
            .one(
                "SELECT MIN(ends_at) FROM sessions WHERE status = 'LIVE' AND live_count = 0 AND ends_at > $1",
                params![now],
            )
            .await?;
        let recording = self.next_recording_due(now).await?;
        Ok([peer.map(|t| t + heartbeat_timeout_ms), session, recording].into_iter().flatten().min())
    }

    /// Live peers (connected or dropped) whose last message was at `cutoff` or before.
    pub async fn silent_peers(&self, cutoff: Millis) -> StoreResult<Vec<PeerRow>> {
        self.db()
            .rows(
                &format!(
                    "SELECT {PEER_COLS} FROM peers WHERE left_at IS NULL AND last_seen_at <= $1 ORDER BY last_seen_at"
                ),
                params![cutoff],
            )
            .await
    }

    pub async fn peer(&self, id: &str) -> StoreResult<Option<PeerRow>> {
        self.db().optional(&format!("SELECT {PEER_COLS} FROM peers WHERE id = $1"), params![id]).await
    }

    /// Every peer of the given sessions, in join order.
    pub async fn session_peers(&self, session_ids: &[String]) -> StoreResult<Vec<PeerRow>> {
        let sql = format!("SELECT {PEER_COLS} FROM peers WHERE session_id = $1 ORDER BY joined_at, id");
        let mut out = vec![];
        for sid in session_ids {
            out.extend(self.db().rows::<PeerRow>(&sql, params![sid]).await?);
        }
        Ok(out)
    }

    /// A page of a session's peers in `order` (`desc`: reversed), presence taken at `now`:
    /// the same rows, in the same order, as sorting all of them by `(key, id)` and skipping
    /// `offset`, but read from indexes, so the cost depends on `offset + limit`, not on the
    /// session's size.
    ///
    /// By duration, the page merges two index walks: the peers still accruing (live and
    /// connected), whose duration `now − joined_at` orders them by join reversed, and the
    /// others, whose duration is fixed and indexed (`migrations/0006_peer_pages.sql`).
    pub async fn session_peers_page(
        &self,
        session_id: &str,
        order: PeerOrder,
        desc: bool,
        now: Millis,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<PeerRow>> {
        let limit = limit.max(0);
        let offset = offset.max(0);
        match order {
            PeerOrder::JoinedAt => {
                let dir = if desc { "DESC" } else { "ASC" };
                self.db()
                    .rows(
                        &format!(
                            "SELECT {PEER_COLS} FROM peers WHERE session_id = $1 \
                             ORDER BY joined_at {dir}, id {dir} LIMIT $2 OFFSET $3"
                        ),
                        params![session_id, limit, offset],
                    )
                    .await
            }
            PeerOrder::Duration => {
                // Longest first is earliest join first for accruing peers (ties: id, reversed).
                let (acc, closed, outer) = if desc {
                    (
                        "joined_at ASC, id DESC",
                        "COALESCE(left_at, dropped_at) - joined_at DESC, id DESC",
                        "DESC",
                    )
                } else {
                    ("joined_at DESC, id ASC", "COALESCE(left_at, dropped_at) - joined_at ASC, id ASC", "ASC")
                };
                let sql = format!(
                    "SELECT {PEER_COLS} FROM ( \
                       SELECT {PEER_COLS}, $2 - joined_at AS d FROM ( \
                         SELECT {PEER_COLS} FROM peers \
                         WHERE session_id = $1 AND left_at IS NULL AND dropped_at IS NULL \
                         ORDER BY {acc} LIMIT $3) a \
                       UNION ALL \
                       SELECT {PEER_COLS}, COALESCE(left_at, dropped_at) - joined_at AS d FROM ( \
                         SELECT {PEER_COLS} FROM peers \
                         WHERE session_id = $1 AND (left_at IS NOT NULL OR dropped_at IS NOT NULL) \
                         ORDER BY {closed} LIMIT $3) c \
                     ) u ORDER BY d {outer}, id {outer} LIMIT $4 OFFSET $5"
                );
                self.db().rows(&sql, params![session_id, now, offset + limit, limit, offset]).await
            }
        }
    }

    /// A session's peer `id`, or else the peers of participant `id` in the session, in join
    /// order (what a participant's row in the session shows).
    pub async fn session_peer_or_participant(&self, session_id: &str, id: &str) -> StoreResult<Vec<PeerRow>> {
        let peer: Option<PeerRow> = self
            .db()
            .optional(
                &format!("SELECT {PEER_COLS} FROM peers WHERE id = $1 AND session_id = $2"),
                params![id, session_id],
            )
            .await?;
        if let Some(p) = peer {
            return Ok(vec![p]);
        }
        self.db()
            .rows(
                &format!(
                    "SELECT {PEER_COLS} FROM peers WHERE participant_id = $1 AND session_id = $2 ORDER BY joined_at, id"
                ),
                params![id, session_id],
            )
            .await
    }

    /// The live peers of a session.
    pub async fn live_peers(&self, session_id: &str) -> StoreResult<Vec<PeerRow>> {
        self.db()
            .rows(
                &format!(
                    "SELECT {PEER_COLS} FROM peers WHERE session_id = $1 AND left_at IS NULL ORDER BY joined_at, id"
                ),
                params![session_id],
            )
            .await
    }

    /// The live peers of a participant, in any session.
    pub async fn live_peers_of_participant(&self, participant_id: &str) -> StoreResult<Vec<PeerRow>> {
        self.db()
            .rows(
                &format!(
                    "SELECT {PEER_COLS} FROM peers WHERE participant_id = $1 AND left_at IS NULL ORDER BY joined_at, id"
                ),
                params![participant_id],
            )
            .await
    }

    /// Inserts peers exactly as given, in one transaction (see `import_sessions`).
    pub async fn import_peers(&self, rows: &[PeerRow]) -> StoreResult<()> {
        const N: usize = 17;
        let mut w = self.write().await?;
        for chunk in rows.chunks(500) {
            let sql = format!("INSERT INTO peers ({PEER_COLS}) VALUES {}", placeholders(chunk.len(), N));
            let ps: Vec<Param<'_>> = chunk.iter().flat_map(|r| r.params()).collect();
            w.execute(&sql, &ps).await?;
        }
        w.commit().await
    }
}

/// What a drop did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// The peer's connection was marked lost now.
    Now { session_id: String },
    /// It was dropped before (or is held by another node): nothing changed.
    Before,
}

/// One lost connection of a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerGap {
    pub peer_id: String,
    pub dropped_at: Millis,
    pub resumed_at: Option<Millis>,
}

impl FromRow for PeerGap {
    fn from_row(r: &Row<'_>) -> StoreResult<Self> {
        Ok(Self { peer_id: r.get(0)?, dropped_at: r.get(1)?, resumed_at: r.get(2)? })
    }
}

/// Records that `peer` dropped at `at` (a drop at the moment of an earlier one reopens it).
async fn gap_in(w: &mut WriteTx, peer: &PeerRow, at: Millis) -> StoreResult<()> {
    w.execute(
        "INSERT INTO peer_gaps (peer_id, session_id, dropped_at) VALUES ($1, $2, $3) \
         ON CONFLICT (peer_id, dropped_at) DO UPDATE SET resumed_at = NULL",
        params![&peer.id, &peer.session_id, at],
    )
    .await?;
    Ok(())
}
