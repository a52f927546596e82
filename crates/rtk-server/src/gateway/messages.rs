//! What each client message does: join, resume, ping, chat, switch_meeting, leave. Each
//! handler returns a [`GatewayError`] when it fails; [`Connection::handle`] answers it.

use rtk_api::gateway::{close, ClientMessage, ServerEvent, PEER_PAGE};

use super::connection::{Connection, End};
use super::error::GatewayError;
use super::wire::send_event;
use super::MAX_CHAT_CHARS;
use crate::engine::{move_target, peer_info, EngineError, MoveRefused, MoveTarget};

/// What a handled message leaves for the read loop: `Some` ends the connection.
type Handled = Result<Option<End>, GatewayError>;

/// `None` if the event was written, else the connection is gone.
fn sent(ok: bool) -> Option<End> {
    (!ok).then_some(End::Dropped)
}

impl Connection {
    pub(super) async fn handle(&mut self, m: ClientMessage) -> Option<End> {
        if !matches!(m, ClientMessage::Join { .. } | ClientMessage::Resume { .. }) {
            if let Some(end) = self.heartbeat().await {
                return Some(end);
            }
        }
        let handled = match m {
            ClientMessage::Join { device } => self.join(device.as_ref()).await,
            ClientMessage::Resume { peer_id } => self.resume(peer_id).await,
            ClientMessage::Ping { ts } => {
                Ok(sent(send_event(&mut self.socket, &ServerEvent::Pong { ts }).await))
            }
            ClientMessage::Chat { message } => self.chat(&message).await,
            ClientMessage::Transcript { text, start, end, is_final } => {
                self.transcript(&text, start.as_deref(), end.as_deref(), is_final.unwrap_or(true)).await
            }
            ClientMessage::SwitchMeeting { meeting_id } => {
                self.switch_meeting(&meeting_id).await.map(|()| None)
            }
            ClientMessage::Leave => Ok(Some(self.leave().await)),
        };
        match handled {
            Ok(end) => end,
            Err(e) => self.fail(e).await,
        }
    }

    async fn join(&mut self, device: Option<&serde_json::Value>) -> Handled {
        /// How long a join's peer list is asked for before `joined` goes out without it.
        const PEER_LIST_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);
        if self.peer.is_some() {
            return Err(GatewayError::AlreadyJoined);
        }
        let j = match self.s.engine.join(&self.participant, device).await {
            Ok(j) => j,
            Err(EngineError::MeetingInactive(m) | EngineError::MeetingGone(m)) => {
                return Err(GatewayError::MeetingInactive(m))
            }
            Err(e) => return Err(GatewayError::JoinFailed(e)),
        };
        self.s.engine.hub().register(&j.peer.id, &j.session.id, self.tx.clone());
        self.peer = Some(j.peer.id.clone());
        self.bound = Some(j.peer.id.clone());
        // The join stands, so its peer list must come: a store that fails now (a database
        // restart) is asked again for a while, or the newcomer would never hear of the peers
        // that are already there and quiet.
        let began = std::time::Instant::now();
        let mut wait = std::time::Duration::from_millis(50);
        let peers: Vec<_> = loop {
            match self.s.store.live_peers(&j.session.id).await {
                Ok(ps) => break ps.iter().filter(|p| p.id != j.peer.id).map(peer_info).collect(),
                Err(e) if began.elapsed() < PEER_LIST_PATIENCE => {
                    tracing::debug!(error = %e, session = %j.session.id, "gateway: peer list for joined not read yet; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(std::time::Duration::from_secs(1));
                }
                Err(e) => {
                    // The newcomer hears of the others as they act.
                    tracing::warn!(error = %e, session = %j.session.id, "gateway: peer list for joined not read");
                    break vec![];
                }
            }
        };
        // The peer list in pages, so no frame grows with the meeting.
        let mut pages = peers.chunks(PEER_PAGE);
        let ev = ServerEvent::Joined {
            peer_id: j.peer.id,
            session_id: j.session.id,
            meeting_id: j.session.meeting_id,
            peers: pages.next().map(<[_]>::to_vec).unwrap_or_default(),
            peers_total: peers.len() as u64,
        };
        if !send_event(&mut self.socket, &ev).await {
            return Ok(Some(End::Dropped));
        }
        let rest = pages.len();
        for (i, page) in pages.enumerate() {
            let ev = ServerEvent::Peers { peers: page.to_vec(), last: i + 1 == rest };
            if !send_event(&mut self.socket, &ev).await {
                return Ok(Some(End::Dropped));
            }
        }
        Ok(None)
    }

    async fn resume(&mut self, peer_id: String) -> Handled {
        if self.peer.is_some() {
            return Err(GatewayError::AlreadyJoined);
        }
        let p = match self.s.engine.resume_on(&peer_id, &self.participant.id, Some(&self.tx)).await {
            Ok(p) => p,
            Err(cause) => return Err(GatewayError::ResumeFailed { peer_id, cause }),
        };
        self.peer = Some(p.id.clone());
        self.bound = Some(p.id.clone());
        let ev = ServerEvent::Resumed { peer_id: p.id, session_id: p.session_id, meeting_id: p.meeting_id };
        Ok(sent(send_event(&mut self.socket, &ev).await))
    }

    async fn chat(&mut self, message: &str) -> Handled {
        let peer = self.peer.clone().ok_or(GatewayError::NotJoined("sending chat"))?;
        if message.trim().is_empty() || message.chars().count() > MAX_CHAT_CHARS {
            return Err(GatewayError::InvalidChat);
        }
        match self.s.engine.chat(&peer, message, self.s.config.max_chat_messages_per_session).await {
            Ok(_) => Ok(None),
            Err(EngineError::ChatFull(max)) => Err(GatewayError::ChatLimit(max)),
            Err(e) => Err(GatewayError::ChatFailed(e)),
        }
    }

    async fn transcript(
        &mut self,
        text: &str,
        start: Option<&str>,
        end: Option<&str>,
        is_final: bool,
    ) -> Handled {
        let peer = self.peer.clone().ok_or(GatewayError::NotJoined("sending a transcript"))?;
        let time = |v: Option<&str>, name: &str| -> Result<Option<i64>, GatewayError> {
            match v {
                None => Ok(None),
                Some(t) => crate::clock::parse_rfc3339(t).map(Some).ok_or_else(|| {
                    GatewayError::InvalidTranscript(format!("\"{name}\" is not an RFC 3339 time: {t:?}"))
                }),
            }
        };
        let (start, end) = (time(start, "start")?, time(end, "end")?);
        match self.s.engine.transcript(&peer, text, start, end, is_final).await {
            Ok(()) => Ok(None),
            Err(EngineError::Invalid(m)) => Err(GatewayError::InvalidTranscript(m)),
            Err(EngineError::TranscriptFull(max)) => Err(GatewayError::TranscriptLimit(max)),
            Err(e) => Err(GatewayError::TranscriptFailed(e)),
        }
    }

    /// A participant moves itself between its meeting and the meeting's breakout rooms, as
    /// its preset's `connected_meetings` permissions allow.
    async fn switch_meeting(&mut self, to: &str) -> Result<(), GatewayError> {
        let peer_id = self.peer.clone().ok_or(GatewayError::NotJoined("switching meetings"))?;
        let failed = |e: crate::store::StoreError| GatewayError::SwitchFailed(e.into());
        let store = &self.s.store;
        let p = store.peer(&peer_id).await.map_err(failed)?;
        let p = p.filter(|p| p.left_at.is_none()).ok_or(GatewayError::NoLongerInSession)?;
        let app = &self.participant.app_id;
        let here = store.meeting(app, &p.meeting_id).await.map_err(failed)?;
        let target = store.meeting(app, to).await.map_err(failed)?;
        let (Some(here), Some(target)) = (here, target) else {
            return Err(GatewayError::InvalidMeeting(format!("no meeting {to} to switch to")));
        };
        let permission = match move_target(&here, &target) {
            Ok(MoveTarget::Parent) => "can_switch_to_parent_meeting",
            Ok(MoveTarget::Connected) => "can_switch_connected_meetings",
            Err(MoveRefused::Unrelated { root }) => {
                return Err(GatewayError::InvalidMeeting(format!(
                    "meeting {to} is not a breakout room of {root} nor {root} itself"
                )))
            }
            Err(MoveRefused::SameMeeting) => {
                return Err(GatewayError::InvalidMeeting("this peer is already in that meeting".into()))
            }
        };
        let preset = store.preset_by_name(app, &self.participant.preset_name).await.map_err(failed)?;
        let allowed = preset
            .and_then(|pr| serde_json::from_str::<serde_json::Value>(&pr.body).ok())
            .and_then(|doc| doc["permissions"]["connected_meetings"][permission].as_bool())
            .unwrap_or(false);
        if !allowed {
            return Err(GatewayError::Forbidden { preset: self.participant.preset_name.clone(), permission });
        }
        match self.s.engine.move_peer(&self.participant, &p, &target.id).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(GatewayError::NoLongerInSession),
            Err(EngineError::MeetingInactive(m)) => {
                Err(GatewayError::InvalidMeeting(format!("meeting {m} is INACTIVE")))
            }
            Err(e) => Err(GatewayError::SwitchFailed(e)),
        }
    }

    async fn leave(&mut self) -> End {
        let Some(peer) = self.peer.take() else {
            return End::Close(close::NORMAL, "left".into());
        };
        if let Err(e) = self.s.engine.leave(&peer, "left").await {
            tracing::warn!(error = %e, "gateway: leave not recorded");
        }
        send_event(&mut self.socket, &ServerEvent::Left { peer_id: peer }).await;
        End::Close(close::NORMAL, "left".into())
    }
}
