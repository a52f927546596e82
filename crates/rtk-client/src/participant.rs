//! A participant on rtk's gateway (`/gateway/v1`, protocol in `docs/gateway.md`): connect with
//! a participant token, join, chat, receive typed events, leave.
//!
//! If the connection drops, the client reconnects and *resumes* the same peer (presence stays
//! continuous) as long as the server still holds it — within the heartbeat timeout — and joins
//! afresh otherwise. It sends a heartbeat (`ping`) every third of the timeout.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rtk_api::gateway::{ClientMessage, ServerEvent};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParticipantError {
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: Box<tokio_tungstenite::tungstenite::Error> },
    #[error("the gateway closed the connection ({code}): {reason}")]
    Closed { code: u16, reason: String },
    #[error("the gateway said {code}: {message}")]
    Refused { code: String, message: String },
    #[error("invalid base URL {0:?}: expected http(s)://host[:port][/…]")]
    BadUrl(String),
    #[error("the participant task has stopped")]
    Stopped,
}

/// Events waiting to be read. When the application does not read them, the client stops
/// reading the socket, and the server eventually closes the connection as a slow consumer: memory
/// stays bounded on both sides.
pub const EVENT_QUEUE: usize = 4096;

/// What the participant observes: the server's events, and the client's own about the link.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Server(ServerEvent),
    /// The connection dropped; reconnecting.
    Dropped,
    /// Reconnected as the same peer: presence was continuous.
    Resumed {
        peer_id: String,
    },
    /// Reconnected too late to resume: joined afresh as a new peer.
    Rejoined {
        peer_id: String,
        session_id: String,
    },
    /// The server closed the connection for good (kicked, revoked, left, …).
    Closed {
        code: u16,
        reason: String,
    },
}

/// The result of a join.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    pub peer_id: String,
    pub session_id: String,
    pub meeting_id: String,
    pub peers: Vec<rtk_api::gateway::PeerInfo>,
}

enum Cmd {
    Join(Option<Value>, oneshot::Sender<Result<Joined, ParticipantError>>),
    Send(ClientMessage),
    Leave(oneshot::Sender<()>),
}

/// A connected participant. Dropping it drops the connection (the server then counts the
/// peer until its heartbeat timeout); call [`Participant::leave`] to leave cleanly.
pub struct Participant {
    cmd: mpsc::UnboundedSender<Cmd>,
    events: mpsc::Receiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

/// The gateway URL for an API base URL: same host, `ws`/`wss`, path `/gateway/v1`.
pub fn gateway_url(base_url: &str, token: &str) -> Result<String, ParticipantError> {
    let (scheme, rest) = if let Some(r) = base_url.strip_prefix("https://") {
        ("wss", r)
    } else if let Some(r) = base_url.strip_prefix("http://") {
        ("ws", r)
    } else if let Some(r) = base_url.strip_prefix("wss://") {
        ("wss", r)
    } else if let Some(r) = base_url.strip_prefix("ws://") {
        ("ws", r)
    } else {
        return Err(ParticipantError::BadUrl(base_url.to_string()));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(ParticipantError::BadUrl(base_url.to_string()));
    }
    Ok(format!("{scheme}://{host}/gateway/v1?token={token}"))
}

async fn open(url: &str) -> Result<(Ws, u64), ParticipantError> {
    // Small buffers: a process may hold thousands of participants (`rtk simulate`, benchmarks).
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| ParticipantError::Connect { url: redact(url), source: Box::new(e) })?;
    // The first frame is `hello` (or a close explaining a refusal).
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                if let Ok(ServerEvent::Hello { heartbeat_timeout_secs, .. }) =
                    serde_json::from_str(t.as_str())
                {
                    return Ok((ws, heartbeat_timeout_secs));
                }
            }
            Some(Ok(Message::Close(f))) => {
                let (code, reason) =
                    f.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or((1005, String::new()));
                return Err(ParticipantError::Closed { code, reason });
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(ParticipantError::Connect { url: redact(url), source: Box::new(e) }),
            None => return Err(ParticipantError::Closed { code: 1006, reason: "connection lost".into() }),
        }
    }
}

fn redact(url: &str) -> String {
    match url.find("token=") {
        Some(i) => format!("{}token=…", &url[..i]),
        None => url.to_string(),
    }
}

async fn send(ws: &mut Ws, m: &ClientMessage) -> bool {
    match serde_json::to_string(m) {
        Ok(t) => ws.send(Message::Text(t.into())).await.is_ok(),
        Err(_) => false,
    }
}

impl Participant {
    /// Connects to the gateway of the rtk at `base_url` (its API base URL, e.g.
    /// `http://127.0.0.1:8787` or `…/client/v4`) with a participant token.
    pub async fn connect(base_url: &str, token: &str) -> Result<Participant, ParticipantError> {
        let url = gateway_url(base_url, token)?;
        let (ws, hb) = open(&url).await?;
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
        let task = tokio::spawn(
            Link {
                url,
                ws: Some(ws),
                heartbeat: Duration::from_secs(hb.max(1)),
                events: ev_tx,
                peer: None,
                device: None,
            }
            .run(cmd_rx),
        );
        Ok(Participant { cmd: cmd_tx, events: ev_rx, task })
    }

    /// Joins the meeting the token names; `device` is free-form metadata (browser, os, …).
    pub async fn join(&mut self, device: Option<Value>) -> Result<Joined, ParticipantError> {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(Cmd::Join(device, tx)).map_err(|_| ParticipantError::Stopped)?;
        rx.await.map_err(|_| ParticipantError::Stopped)?
    }

    pub fn chat(&self, message: &str) -> Result<(), ParticipantError> {
        self.cmd
            .send(Cmd::Send(ClientMessage::Chat { message: message.to_string() }))
            .map_err(|_| ParticipantError::Stopped)
    }

    pub fn ping(&self) -> Result<(), ParticipantError> {
        self.cmd.send(Cmd::Send(ClientMessage::Ping { ts: None })).map_err(|_| ParticipantError::Stopped)
    }

    /// The next event; `None` once the connection is closed for good.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Leaves cleanly and closes.
    pub async fn leave(self) -> Result<(), ParticipantError> {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(Cmd::Leave(tx)).map_err(|_| ParticipantError::Stopped)?;
        let _ = rx.await;
        let _ = self.task.await;
        Ok(())
    }
}

/// The task that owns the socket.
struct Link {
    url: String,
    ws: Option<Ws>,
    heartbeat: Duration,
    events: mpsc::Sender<Event>,
    peer: Option<String>,
    device: Option<Value>,
}

enum Outcome {
    Continue,
    Stop,
}

impl Link {
    async fn run(mut self, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
        let mut pending_join: Option<oneshot::Sender<Result<Joined, ParticipantError>>> = None;
        // A join whose peer list is still arriving in `peers` pages.
        let mut assembling: Option<Joined> = None;
        let mut pending_leave: Option<oneshot::Sender<()>> = None;
        let mut beat = tokio::time::interval(self.heartbeat / 3);
        beat.tick().await;
        loop {
            let Some(ws) = self.ws.as_mut() else { return };
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    None => return, // the handle was dropped: drop the connection
                    Some(Cmd::Join(device, reply)) => {
                        self.device = device.clone();
                        if !send(ws, &ClientMessage::Join { device }).await {
                            let _ = reply.send(Err(ParticipantError::Closed { code: 1006, reason: "connection lost".into() }));
                        } else {
                            pending_join = Some(reply);
                        }
                    }
                    Some(Cmd::Send(m)) => { send(ws, &m).await; }
                    Some(Cmd::Leave(reply)) => {
                        if self.peer.is_none() { let _ = ws.close(None).await; let _ = reply.send(()); return; }
                        send(ws, &ClientMessage::Leave).await;
                        pending_leave = Some(reply);
                    }
                },
                _ = beat.tick() => {
                    if self.peer.is_some() { send(ws, &ClientMessage::Ping { ts: None }).await; }
                }
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(t))) => {
                        let Ok(ev) = serde_json::from_str::<ServerEvent>(t.as_str()) else { continue };
                        match &ev {
                            ServerEvent::Joined { peer_id, session_id, meeting_id, peers, peers_total } => {
                                self.peer = Some(peer_id.clone());
                                let j = Joined { peer_id: peer_id.clone(), session_id: session_id.clone(), meeting_id: meeting_id.clone(), peers: peers.clone() };
                                if (peers.len() as u64) < *peers_total {
                                    assembling = Some(j);
                                } else if let Some(r) = pending_join.take() {
                                    let _ = r.send(Ok(j));
                                }
                            }
                            ServerEvent::Peers { peers, last } => {
                                if let Some(j) = assembling.as_mut() {
                                    j.peers.extend(peers.iter().cloned());
                                }
                                if *last {
                                    if let (Some(j), Some(r)) = (assembling.take(), pending_join.take()) {
                                        let _ = r.send(Ok(j));
                                    }
                                }
                            }
                            ServerEvent::Moved { peer_id, .. } => self.peer = Some(peer_id.clone()),
                            ServerEvent::Error { code, message } if code == "join_failed" || code == "already_joined" => {
                                if let Some(r) = pending_join.take() {
                                    let _ = r.send(Err(ParticipantError::Refused { code: code.clone(), message: message.clone() }));
                                }
                            }
                            _ => {}
                        }
                        let _ = self.events.send(Event::Server(ev)).await;
                    }
                    Some(Ok(Message::Close(f))) => {
                        let (code, reason) = f.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or((1005, String::new()));
                        if let Some(r) = pending_join.take() {
                            let _ = r.send(Err(ParticipantError::Closed { code, reason: reason.clone() }));
                        }
                        if code == 1001 && self.peer.is_some() && pending_leave.is_none() {
                            // The server is going away: resume on its successor.
                            if let Outcome::Stop = self.reconnect().await { return; }
                            continue;
                        }
                        let _ = self.events.send(Event::Closed { code, reason }).await;
                        if let Some(r) = pending_leave.take() { let _ = r.send(()); }
                        return;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        if let Some(r) = pending_join.take() {
                            let _ = r.send(Err(ParticipantError::Closed { code: 1006, reason: "connection lost".into() }));
                        }
                        if let Some(r) = pending_leave.take() { let _ = r.send(()); return; }
                        if self.peer.is_none() {
                            let _ = self.events.send(Event::Closed { code: 1006, reason: "connection lost".into() }).await;
                            return;
                        }
                        if let Outcome::Stop = self.reconnect().await { return; }
                    }
                }
            }
        }
    }

    /// Reconnects after a drop: resume the peer if the server still holds it, else join afresh.
    async fn reconnect(&mut self) -> Outcome {
        self.ws = None;
        let _ = self.events.send(Event::Dropped).await;
        let mut delay = Duration::from_millis(50);
        loop {
            if self.events.is_closed() {
                return Outcome::Stop;
            }
            match open(&self.url).await {
                Ok((mut ws, _)) => {
                    let Some(peer) = self.peer.clone() else { return Outcome::Stop };
                    if !send(&mut ws, &ClientMessage::Resume { peer_id: peer.clone() }).await {
                        continue;
                    }
                    match self.await_resume(&mut ws).await {
                        Some(Ok(())) => {
                            self.ws = Some(ws);
                            let _ = self.events.send(Event::Resumed { peer_id: peer }).await;
                            return Outcome::Continue;
                        }
                        Some(Err(())) => {
                            // Too late to resume: join afresh.
                            if !send(&mut ws, &ClientMessage::Join { device: self.device.clone() }).await {
                                continue;
                            }
                            match self.await_join(&mut ws).await {
                                Ok(Some((peer_id, session_id))) => {
                                    self.peer = Some(peer_id.clone());
                                    self.ws = Some(ws);
                                    let _ = self.events.send(Event::Rejoined { peer_id, session_id }).await;
                                    return Outcome::Continue;
                                }
                                Ok(None) => {}
                                Err((code, reason)) => {
                                    let _ = self.events.send(Event::Closed { code, reason }).await;
                                    return Outcome::Stop;
                                }
                            }
                        }
                        None => {}
                    }
                }
                Err(ParticipantError::Closed { code, reason }) if (4000..5000).contains(&code) => {
                    // Refused for good (revoked, expired).
                    let _ = self.events.send(Event::Closed { code, reason }).await;
                    return Outcome::Stop;
                }
                Err(_) => {}
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    /// `Some(Ok)` resumed, `Some(Err)` the server no longer holds the peer, `None` lost again.
    async fn await_resume(&mut self, ws: &mut Ws) -> Option<Result<(), ()>> {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Text(t) = m {
                match serde_json::from_str::<ServerEvent>(t.as_str()) {
                    Ok(ServerEvent::Resumed { .. }) => return Some(Ok(())),
                    Ok(ServerEvent::Error { code, .. }) if code == "resume_failed" => return Some(Err(())),
                    Ok(ev) => {
                        let _ = self.events.send(Event::Server(ev)).await;
                    }
                    Err(_) => {}
                }
            } else if let Message::Close(_) = m {
                return None;
            }
        }
        None
    }

    /// `Ok(Some)` joined, `Ok(None)` lost again, `Err` refused for good (e.g. an INACTIVE meeting).
    async fn await_join(&mut self, ws: &mut Ws) -> Result<Option<(String, String)>, (u16, String)> {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Text(t) = m {
                if let Ok(ev) = serde_json::from_str::<ServerEvent>(t.as_str()) {
                    if let ServerEvent::Joined { peer_id, session_id, .. } = &ev {
                        return Ok(Some((peer_id.clone(), session_id.clone())));
                    }
                    let _ = self.events.send(Event::Server(ev)).await;
                }
            } else if let Message::Close(f) = m {
                let (code, reason) =
                    f.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or((1005, String::new()));
                return if (4000..5000).contains(&code) { Err((code, reason)) } else { Ok(None) };
            }
        }
        Ok(None)
    }
}
