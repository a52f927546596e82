//! The session engine: the rules of `docs/sessions.md`. Sessions start when a participant
//! joins, peers leave (cleanly, by heartbeat timeout, kicked, revoked, moved), sessions end
//! after the meeting's keep-alive or at once on kick-all. Every change is one store
//! transaction; time comes only from the injected clock; connected peers hear about changes
//! through the [`Hub`].

pub mod hub;
mod lease;
mod rooms;

use std::time::Duration;

use rtk_api::gateway::{close, PeerInfo, ServerEvent};
use serde_json::Value;

pub use hub::{Hub, Outbound, Outlet, Remote, RemoteTx, SharedText};
pub use lease::DEFAULT_LEASE;
pub use rooms::{move_target, MoveRefused, MoveTarget};

use crate::clock::{rfc3339, Clock, Millis, SharedClock};
use crate::store::{
    new_id, ChatRow, JoinSpec, Joined, MeetingRow, ParticipantRow, PeerRow, SessionRow, Store, StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("meeting {0} is INACTIVE and refuses joins")]
    MeetingInactive(String),
    #[error("meeting {0} does not exist")]
    MeetingGone(String),
    #[error("no active session found for meeting_id {0}")]
    NoActiveSession(String),
    #[error("peer {0} is not live")]
    PeerGone(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the session has stored its {0} chat messages")]
    ChatFull(i64),
    #[error("the session has stored its {0} transcript segments")]
    TranscriptFull(i64),
    #[error("this node lost its lease (its database did not answer in time) and takes no joins; try again or another node")]
    NodeFenced,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type EngineResult<T> = Result<T, EngineError>;

/// What one `tick` (or one clock move of several ticks) did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TickReport {
    /// Peers ended by heartbeat timeout.
    pub timed_out: usize,
    /// Sessions ended because their keep-alive ran out.
    pub ended: usize,
}

impl std::ops::AddAssign for TickReport {
    fn add_assign(&mut self, o: Self) {
        self.timed_out += o.timed_out;
        self.ended += o.ended;
    }
}

#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
    clock: SharedClock,
    hub: Hub,
    heartbeat_timeout_ms: i64,
    node_id: Option<String>,
    /// Last message times not yet written: heartbeats are batched (one transaction per
    /// `tick`) and written at once when a connection drops.
    beats: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Millis>>>,
    /// This node's lease (none until `register_node`).
    lease: std::sync::Arc<std::sync::Mutex<lease::Lease>>,
    /// Joins hold it shared; a reset holds it alone.
    joins: std::sync::Arc<tokio::sync::RwLock<()>>,
    /// The recorder, once the server has made it (it needs the public URL, known after bind).
    recorder: std::sync::Arc<std::sync::OnceLock<crate::recordings::Recorder>>,
    /// The summariser (`summarize_on_end`), once the server has made it.
    summaries: std::sync::Arc<std::sync::OnceLock<crate::transcripts::Summaries>>,
    /// The livestream media path, when livestreaming is on.
    livestreams: std::sync::Arc<std::sync::OnceLock<crate::livestreams::Livestreams>>,
}

/// Counts and logs a peer's leave.
fn left(s: &SessionRow, p: &PeerRow, reason: &str) {
    metrics::counter!("rtk_peer_leaves_total", "reason" => reason.to_string()).increment(1);
    tracing::info!(peer_id = %p.id, participant_id = %p.participant_id, session_id = %s.id, reason, "peer left");
}

pub fn peer_info(p: &PeerRow) -> PeerInfo {
    PeerInfo {
        peer_id: p.id.clone(),
        participant_id: p.participant_id.clone(),
        custom_participant_id: p.custom_participant_id.clone(),
        display_name: p.display_name.clone(),
        preset_name: p.preset_name.clone(),
        joined_at: rfc3339(p.joined_at),
    }
}

impl Engine {
    pub fn new(store: Store, clock: SharedClock, heartbeat_timeout: Duration) -> Self {
        Self {
            store,
            clock,
            hub: Hub::default(),
            heartbeat_timeout_ms: heartbeat_timeout.as_millis() as i64,
            node_id: None,
            beats: Default::default(),
            lease: Default::default(),
            joins: Default::default(),
            recorder: Default::default(),
            summaries: Default::default(),
            livestreams: Default::default(),
        }
    }

    /// Names the node this engine runs on; its peers are recorded as held by it.
    pub fn with_node_id(mut self, node_id: impl Into<String>) -> Self {
        self.node_id = Some(node_id.into());
        self
    }

    /// At start: peers this node held before it stopped lost their connections. They are
    /// marked dropped, so they leave at their last message unless they resume in time.
    pub async fn recover(&self) -> EngineResult<u64> {
        match &self.node_id {
            Some(n) => Ok(self.store.drop_node_peers(n).await?),
            None => Ok(0),
        }
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Sets the livestream service (the first call wins).
    pub fn set_livestreams(&self, l: crate::livestreams::Livestreams) {
        let _ = self.livestreams.set(l);
    }

    pub fn livestreams(&self) -> Option<&crate::livestreams::Livestreams> {
        self.livestreams.get()
    }

    /// Sets the recorder (the first call wins).
    pub fn set_recorder(&self, r: crate::recordings::Recorder) {
        let _ = self.recorder.set(r);
    }

    pub fn recorder(&self) -> Option<&crate::recordings::Recorder> {
        self.recorder.get()
    }

    /// Sets the summariser (the first call wins).
    pub fn set_summaries(&self, s: crate::transcripts::Summaries) {
        let _ = self.summaries.set(s);
    }

    pub fn summaries(&self) -> Option<&crate::transcripts::Summaries> {
        self.summaries.get()
    }

    /// Sessions that have just ended: those whose meeting has `summarize_on_end` and that have
    /// a transcript get their summary. Failures are logged (`POST …/summary` can retry).
    async fn after_end(&self, ended: &[SessionRow]) {
        for s in ended {
            self.hub.session_over(
                &s.id,
                &ServerEvent::SessionEnded { session_id: s.id.clone(), reason: "ended".into() },
            );
            metrics::counter!("rtk_sessions_ended_total").increment(1);
            tracing::info!(
                session_id = %s.id,
                meeting_id = %s.meeting_id,
                app_id = %s.app_id,
                "session ended"
            );
        }
        // Their livestreams were stopped with them: end those ingests.
        if !ended.is_empty() {
            if let Some(l) = self.livestreams() {
                l.reconcile().await;
            }
        }
        let Some(sums) = self.summaries() else { return };
        for s in ended {
            let wanted = async {
                let m = self.store.meeting(&s.app_id, &s.meeting_id).await?;
                let on = m
                    .and_then(|m| serde_json::from_str::<Value>(&m.body).ok())
                    .and_then(|b| b.get("summarize_on_end").and_then(Value::as_bool))
                    .unwrap_or(false);
                Ok::<_, StoreError>(on && self.store.segment_count(&s.id).await? > 0)
            };
            match wanted.await {
                Ok(true) => {
                    if let Err(e) = sums.start(s).await {
                        tracing::warn!(session_id = %s.id, error = %e, "summarize_on_end: the summary did not start");
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(session_id = %s.id, error = %e, "summarize_on_end: cannot read the meeting")
                }
            }
        }
    }

    /// Lets the recorder act on what a change did (attach to invoked recordings, write the
    /// files of stopped ones) before the caller answers; failures are logged, the next tick
    /// retries.
    pub async fn recorder_catch_up(&self) {
        if let Some(r) = self.recorder() {
            let done = async {
                r.attach().await?;
                r.finish().await
            };
            if let Err(e) = done.await {
                tracing::warn!(error = %e, "the recorder could not catch up; the next tick retries");
            }
        }
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn heartbeat_timeout(&self) -> Duration {
        Duration::from_millis(self.heartbeat_timeout_ms as u64)
    }

    async fn meeting_of(&self, app_id: &str, meeting_id: &str) -> EngineResult<MeetingRow> {
        self.store
            .meeting(app_id, meeting_id)
            .await?
            .ok_or_else(|| EngineError::MeetingGone(meeting_id.into()))
    }

    /// A participant joins `meeting_id` (its own meeting, or a breakout room of it) as a new
    /// peer; starts the meeting's session if none is live.
    pub async fn join_meeting(
        &self,
        participant: &ParticipantRow,
        meeting_id: &str,
        device: Option<&Value>,
    ) -> EngineResult<Joined> {
        let _not_during_a_reset = self.joins.read().await;
        let began = std::time::Instant::now();
        let meeting = self.meeting_of(&participant.app_id, meeting_id).await?;
        if meeting.status != "ACTIVE" {
            return Err(EngineError::MeetingInactive(meeting.id));
        }
        let now = self.now();
        if !self.lease_holds(now) {
            return Err(EngineError::NodeFenced);
        }
        // A breakout room's session records the session of its parent meeting.
        let parent_session_id = match &meeting.parent_meeting_id {
            Some(parent) => self.store.live_session(parent, now).await?.map(|s| s.id),
            None => None,
        };
        let spec = JoinSpec {
            app_id: meeting.app_id.clone(),
            meeting_id: meeting.id.clone(),
            meeting_title: meeting.title.clone(),
            keep_alive_ms: meeting.keep_alive_secs * 1000,
            parent_session_id,
            peer_id: new_id(),
            participant_id: participant.id.clone(),
            custom_participant_id: participant.custom_participant_id.clone(),
            display_name: participant.name.clone(),
            preset_name: participant.preset_name.clone(),
            device: device.map(|d| d.to_string()),
            node_id: self.node_id.clone(),
        };
        let joined = self.store.join_peer(&spec, now).await?;
        metrics::histogram!("rtk_join_seconds").record(began.elapsed().as_secs_f64());
        metrics::counter!("rtk_peer_joins_total").increment(1);
        if joined.started {
            metrics::counter!("rtk_sessions_started_total").increment(1);
            tracing::info!(
                session_id = %joined.session.id,
                meeting_id = %meeting.id,
                app_id = %meeting.app_id,
                "session started"
            );
        }
        tracing::info!(
            peer_id = %joined.peer.id,
            participant_id = %participant.id,
            session_id = %joined.session.id,
            "peer joined"
        );
        self.hub.broadcast(
            &joined.session.id,
            Some(&joined.peer.id),
            ServerEvent::PeerJoined { peer: peer_info(&joined.peer) },
        );
        if joined.started || joined.ended.is_some() {
            // A recording invoked on start, or one stopped by the end found here.
            self.recorder_catch_up().await;
        }
        if let Some(e) = &joined.ended {
            self.after_end(std::slice::from_ref(e)).await;
        }
        Ok(joined)
    }

    /// A participant joins its own meeting.
    pub async fn join(&self, participant: &ParticipantRow, device: Option<&Value>) -> EngineResult<Joined> {
        self.join_meeting(participant, &participant.meeting_id.clone(), device).await
    }

    /// A peer leaves now (clean leave). `None` if it had already left.
    pub async fn leave(&self, peer_id: &str, reason: &str) -> EngineResult<Option<(SessionRow, PeerRow)>> {
        let now = self.now();
        self.leave_at(peer_id, now, reason, now).await
    }

    async fn leave_at(
        &self,
        peer_id: &str,
        at: Millis,
        reason: &str,
        now: Millis,
    ) -> EngineResult<Option<(SessionRow, PeerRow)>> {
        self.beats_lock().remove(peer_id);
        let out = self.store.leave_peer(peer_id, at, reason, now).await?;
        if let Some((s, p)) = &out {
            left(s, p, reason);
            self.hub.broadcast(
                &s.id,
                Some(&p.id),
                ServerEvent::PeerLeft { peer_id: p.id.clone(), reason: reason.to_string() },
            );
        }
        Ok(out)
    }

    /// Any message from a peer: its heartbeat. False if the peer is no longer live.
    ///
    /// Kept in memory and written with the next `tick` (or at once if the connection drops),
    /// so a crash loses at most one tick of heartbeat precision.
    pub async fn beat(&self, peer_id: &str) -> EngineResult<bool> {
        let now = self.now();
        self.beats_lock().insert(peer_id.to_string(), now);
        Ok(true)
    }

    fn beats_lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Millis>> {
        self.beats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the heartbeats gathered since the last flush, in one transaction; tells the
    /// connections of peers that turned out to be gone (ended elsewhere) to close.
    pub async fn flush_beats(&self) -> EngineResult<()> {
        let beats: Vec<(String, Millis)> = std::mem::take(&mut *self.beats_lock()).into_iter().collect();
        for gone in self.store.touch_peers(&beats).await? {
            self.hub.send(
                &gone,
                Outbound::Close(close::SESSION_ENDED, "this peer is no longer in the session".into()),
            );
        }
        Ok(())
    }

    /// A peer's connection was lost without a leave, now. Its presence stops counting now;
    /// it stays live until its heartbeat timeout (counted from its last message) runs out —
    /// then it leaves at this moment — or it resumes, and then the gap counts too.
    pub async fn drop_peer(&self, peer_id: &str) -> EngineResult<bool> {
        let last = self.beats_lock().remove(peer_id).unwrap_or(0);
        let dropped = self.store.drop_peer(peer_id, self.now(), last, self.node_id.as_deref()).await?;
        if let Some(crate::store::Dropped::Now { session_id }) = &dropped {
            metrics::counter!("rtk_peer_drops_total").increment(1);
            tracing::info!(%peer_id, "peer dropped (its connection was lost; it may resume until its heartbeat timeout)");
            self.hub
                .tell_watchers(session_id, &serde_json::json!({"type": "peer_dropped", "peer_id": peer_id}));
        }
        Ok(dropped.is_some())
    }

    /// A connected peer sent nothing for its heartbeat timeout (the gateway's timer): it leaves
    /// at its last message. `None` if it had already left.
    /// Nothing recorded for it since its last message here: a resume elsewhere wins.
    pub async fn time_out(&self, peer_id: &str) -> EngineResult<Option<(SessionRow, PeerRow)>> {
        let recorded = self.beats_lock().remove(peer_id);
        let last = match recorded {
            Some(t) => t,
            None => match self.store.peer(peer_id).await? {
                Some(p) => p.last_seen_at,
                None => return Ok(None),
            },
        };
        self.timed_out(peer_id, last, last).await
    }

    /// Ends a peer by heartbeat timeout if nothing after `cutoff` was recorded for it, and
    /// tells the others.
    async fn timed_out(
        &self,
        peer_id: &str,
        last: Millis,
        cutoff: Millis,
    ) -> EngineResult<Option<(SessionRow, PeerRow)>> {
        let out = self.store.time_out_peer(peer_id, last, cutoff, self.now()).await?;
        if let Some((s, p)) = &out {
            left(s, p, "heartbeat_timeout");
            self.hub.broadcast(
                &s.id,
                Some(&p.id),
                ServerEvent::PeerLeft { peer_id: p.id.clone(), reason: "heartbeat_timeout".into() },
            );
        }
        Ok(out)
    }

    /// A dropped peer reconnects: it must still be live and belong to `participant_id`.
    /// Presence continues without a leave.
    pub async fn resume(&self, peer_id: &str, participant_id: &str) -> EngineResult<PeerRow> {
        self.resume_on(peer_id, participant_id, None).await
    }

    /// [`Engine::resume`] for a connection: the peer is bound to `outlet` in the hub *before*
    /// the store records the resume, so the connection it replaces (told to close) can never
    /// mark the resumed peer dropped after the fact; if the resume fails, the binding is undone.
    pub async fn resume_on(
        &self,
        peer_id: &str,
        participant_id: &str,
        outlet: Option<&Outlet>,
    ) -> EngineResult<PeerRow> {
        let peer = self.store.peer(peer_id).await?.ok_or_else(|| EngineError::PeerGone(peer_id.into()))?;
        if peer.participant_id != participant_id || peer.left_at.is_some() {
            return Err(EngineError::PeerGone(peer_id.into()));
        }
        if let Some(o) = outlet {
            self.hub.register_resumed(peer_id, &peer.session_id, o.clone());
        }
        self.beats_lock().remove(peer_id);
        let now = self.now();
        let heard_after = now - self.heartbeat_timeout_ms;
        let resumed = self.store.resume_peer(peer_id, self.node_id.as_deref(), now, heard_after).await;
        if !matches!(resumed, Ok(true)) {
            if let Some(o) = outlet {
                self.hub.unregister(peer_id, o);
            }
            resumed?;
            return Err(EngineError::PeerGone(peer_id.into()));
        }
        metrics::counter!("rtk_peer_resumes_total").increment(1);
        tracing::info!(%peer_id, session_id = %peer.session_id, "peer resumed");
        self.hub.tell_watchers(
            &peer.session_id,
            &serde_json::json!({"type": "peer_resumed", "peer_id": peer_id}),
        );
        Ok(peer)
    }

    /// Applies what time has made due at `now`: peers whose last message is a heartbeat
    /// timeout old leave — a dropped one at its drop, a silent connected one at its last
    /// message (and its connection is closed with 4009); sessions past their keep-alive end at
    /// their last leave.
    pub async fn tick(&self) -> EngineResult<TickReport> {
        let now = self.now();
        metrics::counter!("rtk_reaper_ticks_total").increment(1);
        let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        metrics::gauge!("rtk_reaper_last_tick_timestamp_seconds").set(wall.as_secs_f64());
        let mut report = TickReport::default();
        self.renew_lease().await?;
        self.flush_beats().await?;
        report.timed_out += self.reap_nodes().await?;
        let cutoff = now - self.heartbeat_timeout_ms;
        for p in self.store.silent_peers(cutoff).await? {
            // Re-checked in the leave's own transaction: a resume or a beat since this read
            // keeps the peer.
            if self.timed_out(&p.id, 0, cutoff).await?.is_some() {
                report.timed_out += 1;
                self.hub.send(&p.id, Outbound::Close(close::TIMEOUT, "heartbeat timeout".into()));
            }
        }
        // Before sessions end: a recording that reached max_seconds first stops for that.
        self.store.stop_recordings_at_max(now).await?;
        let ended = self.store.end_expired_sessions(now).await?;
        report.ended = ended.len();
        if let Some(r) = self.recorder() {
            r.attach().await?;
            r.finish().await?;
        }
        self.after_end(&ended).await;
        Ok(report)
    }

    /// Moves a manual clock forward to `to`, applying everything that falls due on the way in
    /// time order: the clock stops at each moment something is due (a dropped peer's
    /// heartbeat timeout, a session's keep-alive deadline) and the reaper runs there. Peers
    /// with an open connection on this node are kept alive by their clients through the move,
    /// as if they had sent heartbeats all along (only what they really send, in real time,
    /// decides whether they are silent). `to` before the clock's time is an error.
    pub async fn advance(&self, clock: &crate::clock::ManualClock, to: Millis) -> EngineResult<TickReport> {
        if to < clock.now() {
            return Err(EngineError::Invalid(format!(
                "the clock cannot move backwards: it is {}, asked for {}",
                rfc3339(clock.now()),
                rfc3339(to)
            )));
        }
        let mut report = TickReport::default();
        loop {
            let now = clock.now();
            let kept = self.hub.peer_ids();
            {
                let mut beats = self.beats_lock();
                for p in kept {
                    beats.insert(p, now);
                }
            }
            report += self.tick().await?;
            if now >= to {
                return Ok(report);
            }
            let next =
                self.store.next_due(self.heartbeat_timeout_ms, now).await?.filter(|t| *t > now && *t <= to);
            clock.set(next.unwrap_or(to));
        }
    }

    /// Empties the store of everything apps made, keeping credentials: every connected peer
    /// is closed first (4006: its session is gone) and nothing pending is written after.
    pub async fn reset(&self) -> EngineResult<()> {
        // No join runs meanwhile: one that read its meeting before would insert after.
        let _quiet = self.joins.write().await;
        self.hub.close_everywhere(close::SESSION_ENDED, "the server was reset");
        self.beats_lock().clear();
        self.store.reset_keeping_credentials().await?;
        Ok(())
    }

    /// The meeting's live session.
    pub async fn active_session(&self, meeting_id: &str) -> EngineResult<SessionRow> {
        self.store
            .live_session(meeting_id, self.now())
            .await?
            .ok_or_else(|| EngineError::NoActiveSession(meeting_id.into()))
    }

    /// Ends the meeting's live session at once: all peers are kicked, no keep-alive.
    pub async fn kick_all(&self, meeting_id: &str) -> EngineResult<(SessionRow, Vec<PeerRow>)> {
        let (session, peers) = self
            .store
            .end_session_now(meeting_id, "kicked", self.now())
            .await?
            .ok_or_else(|| EngineError::NoActiveSession(meeting_id.into()))?;
        tracing::info!(%meeting_id, session_id = %session.id, peers = peers.len(), "kicked everyone: the host ended the session");
        for p in &peers {
            left(&session, p, "kicked");
            self.hub.send(&p.id, Outbound::event(ServerEvent::Kicked { reason: "kick_all".into() }));
            self.hub.send(
                &p.id,
                Outbound::event(ServerEvent::SessionEnded {
                    session_id: session.id.clone(),
                    reason: "HOST_ENDED_MEETING".into(),
                }),
            );
            self.hub.send(&p.id, Outbound::Close(close::KICKED, "kicked: the host ended the session".into()));
        }
        self.recorder_catch_up().await;
        self.after_end(std::slice::from_ref(&session)).await;
        Ok((session, peers))
    }

    /// The live peers of the given participants in the meeting's live session.
    async fn targets(
        &self,
        session: &SessionRow,
        participant_ids: Option<&[String]>,
    ) -> EngineResult<Vec<PeerRow>> {
        let live = self.store.live_peers(&session.id).await?;
        Ok(match participant_ids {
            None => live,
            Some(ids) => live.into_iter().filter(|p| ids.contains(&p.participant_id)).collect(),
        })
    }

    /// Removes the participants' peers from the meeting's live session.
    pub async fn kick(&self, meeting_id: &str, participant_ids: &[String]) -> EngineResult<Vec<PeerRow>> {
        let session = self.active_session(meeting_id).await?;
        let mut out = vec![];
        for p in self.targets(&session, Some(participant_ids)).await? {
            if let Some((_, left)) = self.leave(&p.id, "kicked").await? {
                self.hub.send(&p.id, Outbound::event(ServerEvent::Kicked { reason: "kick".into() }));
                self.hub.send(&p.id, Outbound::Close(close::KICKED, "kicked by the host".into()));
                out.push(left);
            }
        }
        tracing::info!(%meeting_id, peers = out.len(), "kicked participants");
        Ok(out)
    }

    /// Tells the participants' peers (all peers with `None`) that the host muted them.
    pub async fn mute(
        &self,
        meeting_id: &str,
        participant_ids: Option<&[String]>,
    ) -> EngineResult<Vec<PeerRow>> {
        let session = self.active_session(meeting_id).await?;
        let peers = self.targets(&session, participant_ids).await?;
        for p in &peers {
            self.hub.send(&p.id, Outbound::event(ServerEvent::Muted { by: "host".into() }));
        }
        tracing::info!(%meeting_id, peers = peers.len(), all = participant_ids.is_none(), "muted participants");
        Ok(peers)
    }

    /// Creates a poll in the live session and shows it to every peer.
    pub async fn poll(&self, meeting_id: &str, poll: Value) -> EngineResult<(SessionRow, Value)> {
        let session = self.active_session(meeting_id).await?;
        let id = poll["id"].as_str().map(str::to_string).unwrap_or_else(new_id);
        self.store.insert_poll(&id, &session.id, &poll.to_string(), self.now()).await?;
        self.hub.broadcast(&session.id, None, ServerEvent::PollCreated { poll: poll.clone() });
        Ok((session, poll))
    }

    /// A chat message from a live peer (also its heartbeat), kept and delivered to the whole
    /// session.
    /// At most `max_stored` messages are kept per session; past that, [`EngineError::ChatFull`].
    pub async fn chat(&self, peer_id: &str, message: &str, max_stored: i64) -> EngineResult<ChatRow> {
        self.beat(peer_id).await?;
        let peer = self.store.peer(peer_id).await?.filter(|p| p.left_at.is_none());
        let peer = peer.ok_or_else(|| EngineError::PeerGone(peer_id.into()))?;
        let row = ChatRow {
            id: new_id(),
            session_id: peer.session_id.clone(),
            peer_id: peer.id.clone(),
            participant_id: peer.participant_id.clone(),
            display_name: peer.display_name.clone(),
            message: message.to_string(),
            sent_at: self.now(),
        };
        if !self.store.insert_chat(&row, max_stored).await? {
            return Err(EngineError::ChatFull(max_stored));
        }
        self.hub.broadcast(
            &row.session_id,
            None,
            ServerEvent::Chat {
                id: row.id.clone(),
                peer_id: row.peer_id.clone(),
                participant_id: row.participant_id.clone(),
                display_name: row.display_name.clone(),
                message: row.message.clone(),
                sent_at: rfc3339(row.sent_at),
            },
        );
        metrics::counter!("rtk_chat_messages_total").increment(1);
        Ok(row)
    }

    /// A transcript segment of `peer_id`'s speech, `start`..`end` (default: both now), relayed
    /// to its session's peers and, if final, stored. The times must lie within the session,
    /// in order, and not in the future.
    pub async fn transcript(
        &self,
        peer_id: &str,
        text: &str,
        start: Option<Millis>,
        end: Option<Millis>,
        is_final: bool,
    ) -> EngineResult<()> {
        self.beat(peer_id).await?;
        let now = self.now();
        let peer = self.store.peer(peer_id).await?.filter(|p| p.left_at.is_none());
        let peer = peer.ok_or_else(|| EngineError::PeerGone(peer_id.into()))?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > crate::transcripts::MAX_SEGMENT_CHARS {
            return Err(EngineError::Invalid(format!(
                "a transcript segment's text is 1 to {} characters",
                crate::transcripts::MAX_SEGMENT_CHARS
            )));
        }
        let end = end.unwrap_or(now);
        let start = start.unwrap_or(end);
        if start > end || end > now || start < peer.joined_at {
            return Err(EngineError::Invalid(
                "a transcript segment runs from \"start\" to \"end\", in order, between the peer's join and now".into(),
            ));
        }
        let id = is_final.then(new_id);
        if let Some(id) = &id {
            let seg = crate::store::SegmentRow {
                id: id.clone(),
                session_id: peer.session_id.clone(),
                peer_id: Some(peer.id.clone()),
                participant_id: Some(peer.participant_id.clone()),
                speaker: peer.display_name.clone().unwrap_or_else(|| peer.custom_participant_id.clone()),
                text: text.to_string(),
                start_at: start,
                end_at: end,
                source: "gateway".into(),
                created_at: now,
            };
            let max = crate::transcripts::MAX_SEGMENTS;
            if self.store.insert_segments(&peer.session_id, &[seg], max).await?.is_err() {
                return Err(EngineError::TranscriptFull(max));
            }
        }
        self.hub.broadcast(
            &peer.session_id,
            None,
            ServerEvent::Transcript {
                id,
                peer_id: peer.id.clone(),
                display_name: peer.display_name.clone(),
                text: text.to_string(),
                start: rfc3339(start),
                end: rfc3339(end),
                is_final,
            },
        );
        Ok(())
    }

    /// Moves the participants' live peers from their current session into `to_meeting_id`'s
    /// session (a breakout room of the same parent, or the parent itself): each leaves where it
    /// is and joins there as a new peer on the same connection.
    pub async fn move_participants(
        &self,
        participants: &[ParticipantRow],
        from_meeting_id: &str,
        to_meeting_id: &str,
    ) -> EngineResult<Vec<(PeerRow, Joined)>> {
        let from = self.active_session(from_meeting_id).await?;
        let mut out = vec![];
        for part in participants {
            for p in self.targets(&from, Some(std::slice::from_ref(&part.id))).await? {
                if let Some(moved) = self.move_peer(part, &p, to_meeting_id).await? {
                    out.push(moved);
                }
            }
        }
        Ok(out)
    }

    /// Moves one live peer of `part` to `to_meeting_id`'s session: it joins there as a new
    /// peer (first, so a breakout session records its parent's live session) and leaves where
    /// it was; its connection is rebound and told. `None` if the peer had already left.
    pub async fn move_peer(
        &self,
        part: &ParticipantRow,
        p: &PeerRow,
        to_meeting_id: &str,
    ) -> EngineResult<Option<(PeerRow, Joined)>> {
        let device: Option<Value> = p.device.as_deref().and_then(|d| serde_json::from_str(d).ok());
        let joined = self.join_meeting(part, to_meeting_id, device.as_ref()).await?;
        let Some((_, left)) = self.leave(&p.id, "moved").await? else {
            // Gone meanwhile: undo the join.
            self.leave(&joined.peer.id, "moved").await?;
            return Ok(None);
        };
        let parent = self.store.meeting(&part.app_id, to_meeting_id).await?.and_then(|m| m.parent_meeting_id);
        let moved = ServerEvent::Moved {
            meeting_id: to_meeting_id.to_string(),
            session_id: joined.session.id.clone(),
            peer_id: joined.peer.id.clone(),
            parent_meeting_id: parent,
        };
        self.hub.rebind(&p.id, &joined.peer.id, &joined.session.id, &moved);
        Ok(Some((left, joined)))
    }

    /// Deletes a participant and ends its live peers, in one transaction; then their
    /// sessions hear that they left and their connections close (revoked). False if the
    /// meeting has no such participant.
    pub async fn remove_participant(&self, meeting_id: &str, participant_id: &str) -> EngineResult<bool> {
        const REASON: &str = "participant_deleted";
        let Some(left) =
            self.store.remove_participant(meeting_id, participant_id, REASON, self.now()).await?
        else {
            return Ok(false);
        };
        for (session, peer) in &left {
            self.beats_lock().remove(&peer.id);
            self.hub.broadcast(
                &session.id,
                Some(&peer.id),
                ServerEvent::PeerLeft { peer_id: peer.id.clone(), reason: REASON.to_string() },
            );
            self.hub.send(
                &peer.id,
                Outbound::Close(close::PARTICIPANT_REVOKED, "the participant was deleted".into()),
            );
        }
        Ok(true)
    }
}
