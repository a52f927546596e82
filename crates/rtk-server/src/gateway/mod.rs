//! The participant gateway: a WebSocket endpoint (`/gateway/v1`) where a participant connects
//! with the token from "add participant" and joins its meeting. Protocol: `docs/gateway.md`
//! and `rtk_api::gateway`.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use rtk_api::gateway::{close, ClientMessage, ServerEvent, PEER_PAGE, PROTOCOL_VERSION};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::engine::{move_target, peer_info, EngineError, MoveRefused, MoveTarget, Outbound, Outlet};
use crate::http::Query;
use crate::state::AppState;
use crate::store::ParticipantRow;
use crate::tokens::TokenError;

/// Largest accepted frame.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = crate::http::limits::CHAT_CHARS;
/// Sustained messages per second per connection, and the burst above it.
pub const RATE_PER_SEC: f64 = 20.0;
pub const RATE_BURST: f64 = 60.0;

pub fn routes() -> Router<AppState> {
    Router::new().route("/gateway/v1", get(upgrade))
}

#[derive(Deserialize)]
struct Params {
    token: Option<String>,
}

async fn upgrade(
    State(s): State<AppState>,
    Query(q): Query<Params>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_string));
    let token = q.token.or(bearer).unwrap_or_default();
    // Small buffers: 10,000 idle participants must fit in a few hundred MB.
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| Connection::run(s, socket, token))
}

/// Open connections per participant on this node, so one token cannot open connections
/// without end (each may chat at the rate limit).
#[derive(Debug, Default)]
pub struct Seats(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>);

/// One participant's connection, counted while it lives.
pub struct Seat {
    seats: Seats,
    participant: String,
}

impl Seats {
    /// A seat for `participant` unless it already holds `max`.
    pub fn take(&self, participant: &str, max: usize) -> Option<Seat> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(participant.to_string()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Seat { seats: Seats(self.0.clone()), participant: participant.to_string() })
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut m = self.seats.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.participant) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.participant);
            }
        }
    }
}

/// A token bucket on the connection's wall clock (not the session clock: it limits load).
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * RATE_PER_SEC).min(RATE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Connection {
    s: AppState,
    socket: WebSocket,
    participant: ParticipantRow,
    tx: Outlet,
    /// The live peer this connection is (None before join/resume and after leaving).
    peer: Option<String>,
    /// The peer id this connection is registered under in the hub.
    bound: Option<String>,
}

/// How a connection ends.
enum End {
    /// Close with this code. A peer still bound to the connection is marked dropped.
    Close(u16, String),
    /// The connection was lost (or closed without `leave`): the peer is dropped, not gone.
    Dropped,
}

/// The longest close reason a close frame can carry (RFC 6455: 125 bytes of payload, 2 of
/// them the code).
pub const MAX_CLOSE_REASON: usize = 123;

/// `reason` cut to [`MAX_CLOSE_REASON`] bytes at a character boundary: a longer one would make
/// the client fail the connection (1002) instead of reading our code.
pub fn close_reason(reason: &str) -> &str {
    if reason.len() <= MAX_CLOSE_REASON {
        return reason;
    }
    let mut end = MAX_CLOSE_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// True when a read failed because the client sent a frame or message over our limits.
fn too_big(e: &axum::Error) -> bool {
    let inner: &(dyn std::error::Error + 'static) = e;
    let mut cur = Some(inner);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<tungstenite::Error>() {
            return matches!(t, tungstenite::Error::Capacity(_));
        }
        cur = err.source();
    }
    false
}

/// Sends a close frame, then reads (and discards) until the client's close arrives, so the
/// close frame is not lost to a reset when unread frames are still in flight.
async fn send_close(socket: &mut WebSocket, code: u16, reason: &str) {
    let reason = close_reason(reason);
    if socket
        .send(Message::Close(Some(CloseFrame { code, reason: reason.to_string().into() })))
        .await
        .is_err()
    {
        return;
    }
    let drain = async {
        while let Some(Ok(m)) = socket.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

async fn send_event(socket: &mut WebSocket, e: &ServerEvent) -> bool {
    match event_text(e) {
        Some(text) => socket.send(Message::Text(text)).await.is_ok(),
        None => false,
    }
}

/// Events written before one flush when several are waiting.
const BURST: usize = 64;

fn event_text(e: &ServerEvent) -> Option<axum::extract::ws::Utf8Bytes> {
    serde_json::to_string(e).ok().map(Into::into)
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
                Ok(Outbound::Frame(t)) => t,
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

    async fn run(s: AppState, socket: WebSocket, token: String) {
        let state = s.clone();
        let _tracked = state.connections.track();
        Self::serve_connection(s, socket, token).await;
    }

    async fn serve_connection(s: AppState, mut socket: WebSocket, token: String) {
        let claims = match s.keys.verify(&token, s.now()).await {
            Ok(c) => c,
            Err(TokenError::Expired) => {
                return send_close(&mut socket, close::TOKEN_EXPIRED, "token expired").await
            }
            Err(TokenError::Invalid) => {
                return send_close(&mut socket, close::INVALID_TOKEN, "missing or invalid participant token")
                    .await
            }
        };
        let participant = match s.store.participant_by_id(&claims.participant_id).await {
            Ok(Some(p)) if p.meeting_id == claims.meeting_id => p,
            Ok(_) => {
                return send_close(&mut socket, close::PARTICIPANT_REVOKED, "the participant was deleted")
                    .await;
            }
            Err(e) => {
                tracing::error!(error = %e, "gateway: participant lookup failed");
                return send_close(&mut socket, 1011, "internal error").await;
            }
        };
        let max = s.config.max_connections_per_participant;
        let Some(_seat) = s.seats.take(&participant.id, max) else {
            tracing::warn!(participant = %participant.id, max, "gateway: connection refused, participant at its connection limit");
            return send_close(
                &mut socket,
                close::TOO_MANY_CONNECTIONS,
                &format!("this participant already has {max} open connections"),
            )
            .await;
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
        let mut bucket = Bucket { tokens: RATE_BURST, at: Instant::now() };
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
                        Some(Err(e)) if too_big(&e) => {
                            return self.leave_with(close::TOO_BIG, &format!("message too big: at most {MAX_MESSAGE_BYTES} bytes")).await;
                        }
                        Some(Err(_)) => return End::Dropped,
                        Some(Ok(m)) => m,
                    };
                    last_heard = tokio::time::Instant::now();
                    // Every frame from the client counts against its rate, control frames too.
                    if !matches!(msg, Message::Close(_)) && !bucket.take() {
                        return self.leave_with(close::RATE_LIMITED, "rate limit: too many messages").await;
                    }
                    let text = match msg {
                        Message::Text(t) => t,
                        Message::Close(_) => return End::Dropped,
                        Message::Ping(_) | Message::Pong(_) => {
                            if let Some(end) = self.heartbeat().await { return end; }
                            continue;
                        }
                        Message::Binary(_) => return self.leave_with(close::PROTOCOL, "binary frames are not part of the protocol").await,
                    };
                    let parsed: ClientMessage = match serde_json::from_str(text.as_str()) {
                        Ok(m) => m,
                        Err(e) => return self.leave_with(close::PROTOCOL, &format!("invalid message: {e}")).await,
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
                Some(Outbound::Frame(t)) => t,
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
    async fn heartbeat(&mut self) -> Option<End> {
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
    fn owns(&self, peer: &str) -> bool {
        self.bound.as_deref() == Some(peer) && self.s.engine.hub().is_bound(peer, &self.tx)
    }

    /// Leaves cleanly (if joined) and closes with `code`.
    async fn leave_with(&mut self, code: u16, reason: &str) -> End {
        if let Some(peer) = self.peer.take().filter(|p| self.owns(p)) {
            if let Err(e) = self.s.engine.leave(&peer, "closed").await {
                tracing::warn!(error = %e, "gateway: leave not recorded");
            }
        }
        End::Close(code, reason.to_string())
    }

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
        let permission = match move_target(&here, &target) {
            Ok(MoveTarget::Parent) => "can_switch_to_parent_meeting",
            Ok(MoveTarget::Connected) => "can_switch_connected_meetings",
            Err(MoveRefused::Unrelated { root }) => {
                return Err((
                    "invalid_meeting",
                    format!("meeting {to} is not a breakout room of {root} nor {root} itself"),
                ))
            }
            Err(MoveRefused::SameMeeting) => {
                return Err(("invalid_meeting", "this peer is already in that meeting".into()))
            }
        };
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

    async fn handle(&mut self, m: ClientMessage) -> Option<End> {
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
