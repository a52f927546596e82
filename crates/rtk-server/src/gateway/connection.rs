//! One participant connection: the token and participant checks, the read loop with its
//! deadlines (join timeout, heartbeat timeout: real time, docs/sessions.md), the events the
//! engine queues for it, and what becomes of its peer when it ends.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use rtk_api::gateway::{close, ClientMessage, ServerEvent, PROTOCOL_VERSION};
use tokio::sync::mpsc;

use super::error::{GatewayError, Reply};
use super::limits::Bucket;
use super::wire::{event_text, frame_text, send_close, send_event, too_big, BURST};
use crate::engine::{Outbound, Outlet};
use crate::state::AppState;
use crate::store::ParticipantRow;
use crate::tokens::TokenError;

pub(super) struct Connection {
    pub(super) s: AppState,
    pub(super) socket: WebSocket,
    pub(super) participant: ParticipantRow,
    pub(super) tx: Outlet,
    /// The live peer this connection is (None before join/resume and after leaving).
    pub(super) peer: Option<String>,
    /// The peer id this connection is registered under in the hub.
    pub(super) bound: Option<String>,
}

/// How a connection ends.
pub(super) enum End {
    /// Close with this code (`rtk_api::gateway::close`). A peer still bound to the connection
    /// is marked dropped.
    Close(u16, String),
    /// The connection was lost (or closed without `leave`): the peer is dropped, not gone.
    Dropped,
}

impl Connection {
    /// Writes `first` and whatever events are already waiting behind it (up to [`BURST`]),
    /// then flushes once: a burst of fan-out costs one write, not one per event. A waiting
    /// close or rebind is returned for the caller to carry out after the flush.
    async fn send_burst(
        &mut self,
        first: axum::extract::ws::Utf8Bytes,
        rx: &mut mpsc::Receiver<Outbound>,
    ) -> Result<Option<Outbound>, ()> {
        use futures_util::SinkExt;
        self.socket.feed(Message::Text(first)).await.map_err(|_| ())?;
        let mut held = None;
        for _ in 1..BURST {
            let text = match rx.try_recv() {
                Ok(Outbound::Frame(t)) => frame_text(t).ok_or(())?,
                Ok(Outbound::Event(e)) => event_text(&e).ok_or(())?,
                Ok(other) => {
                    held = Some(other);
                    break;
                }
                Err(_) => break,
            };
            self.socket.feed(Message::Text(text)).await.map_err(|_| ())?;
        }
        self.socket.flush().await.map_err(|_| ())?;
        Ok(held)
    }

    pub(super) async fn run(s: AppState, socket: WebSocket, token: String) {
        let state = s.clone();
        let _tracked = state.connections.track();
        Self::serve_connection(s, socket, token).await;
    }

    async fn serve_connection(s: AppState, mut socket: WebSocket, token: String) {
        let participant = match admit(&s, &token).await {
            Ok(p) => p,
            Err(e) => return refuse(&mut socket, e, None).await,
        };
        let max = s.config.max_connections_per_participant;
        let Some(_seat) = s.seats.take(&participant.id, max) else {
            return refuse(&mut socket, GatewayError::TooManyConnections(max), Some(&participant.id)).await;
        };
        let hello = ServerEvent::Hello {
            protocol: PROTOCOL_VERSION,
            heartbeat_timeout_secs: s.engine.heartbeat_timeout().as_secs(),
            participant_id: participant.id.clone(),
            meeting_id: participant.meeting_id.clone(),
        };
        if !send_event(&mut socket, &hello).await {
            return;
        }
        let (tx, rx) = Outlet::new();
        let mut c = Connection { s, socket, participant, tx, peer: None, bound: None };
        let end = c.serve(rx).await;
        let still_ours = match c.bound.clone() {
            Some(peer) => c.s.engine.hub().unregister(&peer, &c.tx),
            None => false,
        };
        // A peer still bound here lost its connection without a leave: it is dropped (it may
        // resume until its heartbeat timeout), never silently kept as connected. A peer that
        // another connection has resumed meanwhile is that connection's business.
        if let Some(peer) = c.peer.as_ref().filter(|_| still_ours) {
            if let Err(e) = c.s.engine.drop_peer(peer).await {
                tracing::warn!(error = %e, %peer, "gateway: could not mark a dropped peer");
            }
        }
        if let End::Close(code, reason) = end {
            send_close(&mut c.socket, code, &reason).await;
        }
    }

    async fn serve(&mut self, mut rx: mpsc::Receiver<Outbound>) -> End {
        let mut bucket = Bucket::new();
        let idle = self.s.engine.heartbeat_timeout().max(Duration::from_secs(1));
        // Deadlines count only what the client sends: traffic to it never extends them. Before
        // join/resume the deadline is absolute from connect.
        let join_by = tokio::time::Instant::now() + self.s.config.join_timeout;
        let mut last_heard = tokio::time::Instant::now();
        loop {
            let deadline = if self.peer.is_some() { last_heard + idle } else { join_by };
            tokio::select! {
                msg = self.socket.recv() => {
                    let msg = match msg {
                        None => return End::Dropped,
                        Some(Err(e)) if too_big(&e) => return self.fail_closing(GatewayError::TooBig).await,
                        Some(Err(_)) => return End::Dropped,
                        Some(Ok(m)) => m,
                    };
                    last_heard = tokio::time::Instant::now();
                    // Every frame from the client counts against its rate, control frames too.
                    if !matches!(msg, Message::Close(_)) && !bucket.take() {
                        return self.fail_closing(GatewayError::RateLimited).await;
                    }
                    let text = match msg {
                        Message::Text(t) => t,
                        Message::Close(_) => return End::Dropped,
                        Message::Ping(_) | Message::Pong(_) => {
                            if let Some(end) = self.heartbeat().await { return end; }
                            continue;
                        }
                        Message::Binary(_) => {
                            return self.fail_closing(GatewayError::Protocol("binary frames are not part of the protocol".into())).await;
                        }
                    };
                    let parsed: ClientMessage = match serde_json::from_str(text.as_str()) {
                        Ok(m) => m,
                        Err(e) => return self.fail_closing(GatewayError::Protocol(format!("invalid message: {e}"))).await,
                    };
                    if let Some(end) = self.handle(parsed).await { return end; }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    let Some(peer) = self.peer.take() else {
                        return End::Close(close::TIMEOUT, "no join or resume in time".into());
                    };
                    // Silent past the heartbeat timeout on an open connection: it leaves at its
                    // last message (unless another connection resumed it meanwhile).
                    if !self.owns(&peer) {
                        return End::Close(close::NORMAL, "replaced by a resumed connection".into());
                    }
                    if let Err(e) = self.s.engine.time_out(&peer).await {
                        tracing::warn!(error = %e, %peer, "gateway: heartbeat timeout not recorded");
                    }
                    return End::Close(close::TIMEOUT, "heartbeat timeout".into());
                }
                _ = self.tx.too_slow() => {
                    // Events pile up faster than this connection takes them.
                    return End::Close(close::SLOW_CONSUMER, "too slow: events were not read in time".into());
                }
                out = rx.recv() => if let Some(end) = self.outbound(out, &mut rx).await { return end; },
            }
        }
    }

    /// Carries out what the engine queued for this connection.
    async fn outbound(&mut self, mut m: Option<Outbound>, rx: &mut mpsc::Receiver<Outbound>) -> Option<End> {
        loop {
            let first = match m.take() {
                Some(Outbound::Event(e)) => match event_text(&e) {
                    Some(t) => t,
                    None => return Some(End::Dropped),
                },
                Some(Outbound::Frame(t)) => match frame_text(t) {
                    Some(t) => t,
                    None => return Some(End::Dropped),
                },
                Some(Outbound::Close(code, reason)) => {
                    // The engine already recorded why (kick, revoke, timeout); on shutdown
                    // (going away) the peer stays, dropped, so it can resume.
                    if code != close::GOING_AWAY {
                        self.peer = None;
                    }
                    return Some(End::Close(code, reason));
                }
                Some(Outbound::Rebind { peer_id, .. }) => {
                    self.peer = Some(peer_id.clone());
                    self.bound = Some(peer_id);
                    return None;
                }
                None => return Some(End::Dropped),
            };
            match self.send_burst(first, rx).await {
                Err(()) => return Some(End::Dropped),
                Ok(None) => return None,
                Ok(Some(held)) => m = Some(held),
            }
        }
    }

    /// A message from a joined peer counts as its heartbeat.
    pub(super) async fn heartbeat(&mut self) -> Option<End> {
        let peer = self.peer.clone()?;
        match self.s.engine.beat(&peer).await {
            Ok(true) => None,
            Ok(false) => {
                self.peer = None;
                Some(End::Close(close::SESSION_ENDED, "this peer is no longer in the session".into()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "gateway: heartbeat not recorded");
                None
            }
        }
    }

    /// True while this connection is the one the peer is bound to.
    pub(super) fn owns(&self, peer: &str) -> bool {
        self.bound.as_deref() == Some(peer) && self.s.engine.hub().is_bound(peer, &self.tx)
    }

    /// Answers a failed message as [`GatewayError::reply`] says, after logging its cause: an
    /// `error` event (`None`: the connection goes on), or a close, before which the peer (if
    /// joined here) leaves.
    pub(super) async fn fail(&mut self, e: GatewayError) -> Option<End> {
        e.log(Some(&self.participant.id));
        match e.reply() {
            Reply::Event { code, message } => {
                send_event(&mut self.socket, &ServerEvent::Error { code: code.into(), message }).await;
                None
            }
            Reply::Close { code, reason } => {
                if let Some(peer) = self.peer.take().filter(|p| self.owns(p)) {
                    if let Err(e) = self.s.engine.leave(&peer, "closed").await {
                        tracing::warn!(error = %e, "gateway: leave not recorded");
                    }
                }
                Some(End::Close(code, reason))
            }
        }
    }

    /// [`Self::fail`] for an error that closes the connection.
    async fn fail_closing(&mut self, e: GatewayError) -> End {
        self.fail(e).await.unwrap_or(End::Dropped)
    }
}

/// The token's participant, if the token verifies and the participant still exists.
async fn admit(s: &AppState, token: &str) -> Result<ParticipantRow, GatewayError> {
    let claims = s.keys.verify(token, s.now()).await.map_err(|e| match e {
        TokenError::Expired => GatewayError::TokenExpired,
        TokenError::Invalid => GatewayError::InvalidToken,
    })?;
    match s.store.participant_by_id(&claims.participant_id).await? {
        Some(p) if p.meeting_id == claims.meeting_id => Ok(p),
        _ => Err(GatewayError::ParticipantRevoked),
    }
}

/// Refuses a connection before its `hello`, after logging the cause.
async fn refuse(socket: &mut WebSocket, e: GatewayError, participant: Option<&str>) {
    e.log(participant);
    match e.reply() {
        Reply::Close { code, reason } => send_close(socket, code, &reason).await,
        Reply::Event { code, message } => {
            send_event(socket, &ServerEvent::Error { code: code.into(), message }).await;
        }
    }
}
