//! What each client message does: join, resume, ping, chat, switch_meeting, leave.

use rtk_api::gateway::{close, ClientMessage, ServerEvent, PEER_PAGE};

use super::connection::{Connection, End};
use super::wire::send_event;
use super::MAX_CHAT_CHARS;
use crate::engine::{peer_info, EngineError};

impl Connection {
    /// A participant moves itself between its meeting and the meeting's breakout rooms, as
    /// its preset's `connected_meetings` permissions allow.
    async fn switch_meeting(&mut self, peer_id: &str, to: &str) -> Result<(), (&'static str, String)> {
        let internal = |e: String| ("switch_failed", e);
        let store = &self.s.store;
        let p = store.peer(peer_id).await.map_err(|e| internal(e.to_string()))?;
        let Some(p) = p.filter(|p| p.left_at.is_none()) else {
            return Err(("not_joined", "this peer is no longer in a session".into()));
        };
        let app = &self.participant.app_id;
        let here = store.meeting(app, &p.meeting_id).await.map_err(|e| internal(e.to_string()))?;
        let target = store.meeting(app, to).await.map_err(|e| internal(e.to_string()))?;
        let (Some(here), Some(target)) = (here, target) else {
            return Err(("invalid_meeting", format!("no meeting {to} to switch to")));
        };
        let root = here.parent_meeting_id.clone().unwrap_or_else(|| here.id.clone());
        let permission = if target.id == root {
            "can_switch_to_parent_meeting"
        } else if target.parent_meeting_id.as_deref() == Some(root.as_str()) {
            "can_switch_connected_meetings"
        } else {
            return Err((
                "invalid_meeting",
                format!("meeting {to} is not a breakout room of {root} nor {root} itself"),
            ));
        };
        if target.id == here.id {
            return Err(("invalid_meeting", "this peer is already in that meeting".into()));
        }
        let preset = store
            .preset_by_name(app, &self.participant.preset_name)
            .await
            .map_err(|e| internal(e.to_string()))?;
        let allowed = preset
            .and_then(|pr| serde_json::from_str::<serde_json::Value>(&pr.body).ok())
            .and_then(|doc| doc["permissions"]["connected_meetings"][permission].as_bool())
            .unwrap_or(false);
        if !allowed {
            return Err((
                "forbidden",
                format!("preset {:?} does not allow {permission}", self.participant.preset_name),
            ));
        }
        match self.s.engine.move_peer(&self.participant, &p, &target.id).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(("not_joined", "this peer is no longer in a session".into())),
            Err(EngineError::MeetingInactive(m)) => {
                Err(("invalid_meeting", format!("meeting {m} is INACTIVE")))
            }
            Err(e) => Err(internal(e.to_string())),
        }
    }

    async fn error(&mut self, code: &str, message: String) {
        send_event(&mut self.socket, &ServerEvent::Error { code: code.into(), message }).await;
    }

    pub(super) async fn handle(&mut self, m: ClientMessage) -> Option<End> {
        if !matches!(m, ClientMessage::Join { .. } | ClientMessage::Resume { .. }) {
            if let Some(end) = self.heartbeat().await {
                return Some(end);
            }
        }
        match m {
            ClientMessage::Join { device } => {
                if self.peer.is_some() {
                    self.error("already_joined", "this connection has already joined".into()).await;
                    return None;
                }
                match self.s.engine.join(&self.participant, device.as_ref()).await {
                    Ok(j) => {
                        self.s.engine.hub().register(&j.peer.id, &j.session.id, self.tx.clone());
                        self.peer = Some(j.peer.id.clone());
                        self.bound = Some(j.peer.id.clone());
                        let peers: Vec<_> = match self.s.store.live_peers(&j.session.id).await {
                            Ok(ps) => ps.iter().filter(|p| p.id != j.peer.id).map(peer_info).collect(),
                            Err(_) => vec![],
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
                            return Some(End::Dropped);
                        }
                        let rest = pages.len();
                        for (i, page) in pages.enumerate() {
                            let ev = ServerEvent::Peers { peers: page.to_vec(), last: i + 1 == rest };
                            if !send_event(&mut self.socket, &ev).await {
                                return Some(End::Dropped);
                            }
                        }
                        None
                    }
                    Err(EngineError::MeetingInactive(m)) | Err(EngineError::MeetingGone(m)) => {
                        Some(End::Close(
                            close::MEETING_INACTIVE,
                            format!("meeting {m} is inactive and refuses joins"),
                        ))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "gateway: join failed");
                        self.error("join_failed", "the join could not be recorded, try again".into()).await;
                        None
                    }
                }
            }
            ClientMessage::Resume { peer_id } => {
                if self.peer.is_some() {
                    self.error("already_joined", "this connection has already joined".into()).await;
                    return None;
                }
                match self.s.engine.resume_on(&peer_id, &self.participant.id, Some(&self.tx)).await {
                    Ok(p) => {
                        self.peer = Some(p.id.clone());
                        self.bound = Some(p.id.clone());
                        let ev = ServerEvent::Resumed {
                            peer_id: p.id,
                            session_id: p.session_id,
                            meeting_id: p.meeting_id,
                        };
                        (!send_event(&mut self.socket, &ev).await).then_some(End::Dropped)
                    }
                    Err(_) => {
                        self.error(
                            "resume_failed",
                            format!("peer {peer_id} is gone: send join to start afresh"),
                        )
                        .await;
                        None
                    }
                }
            }
            ClientMessage::Ping { ts } => {
                (!send_event(&mut self.socket, &ServerEvent::Pong { ts }).await).then_some(End::Dropped)
            }
            ClientMessage::Chat { message } => {
                let Some(peer) = self.peer.clone() else {
                    self.error("not_joined", "join before sending chat".into()).await;
                    return None;
                };
                if message.trim().is_empty() || message.chars().count() > MAX_CHAT_CHARS {
                    self.error("invalid_chat", format!("a chat message is 1 to {MAX_CHAT_CHARS} characters"))
                        .await;
                    return None;
                }
                match self.s.engine.chat(&peer, &message, self.s.config.max_chat_messages_per_session).await {
                    Ok(_) => {}
                    Err(EngineError::ChatFull(max)) => {
                        self.error(
                            "chat_limit",
                            format!("this session has stored its {max} chat messages; no more are accepted"),
                        )
                        .await;
                    }
                    Err(e) => self.error("chat_failed", e.to_string()).await,
                }
                None
            }
            ClientMessage::SwitchMeeting { meeting_id } => {
                let Some(peer) = self.peer.clone() else {
                    self.error("not_joined", "join before switching meetings".into()).await;
                    return None;
                };
                if let Err((code, message)) = self.switch_meeting(&peer, &meeting_id).await {
                    self.error(code, message).await;
                }
                None
            }
            ClientMessage::Leave => {
                let Some(peer) = self.peer.take() else {
                    return Some(End::Close(close::NORMAL, "left".into()));
                };
                if let Err(e) = self.s.engine.leave(&peer, "left").await {
                    tracing::warn!(error = %e, "gateway: leave not recorded");
                }
                send_event(&mut self.socket, &ServerEvent::Left { peer_id: peer }).await;
                Some(End::Close(close::NORMAL, "left".into()))
            }
        }
    }
}
