//! A real WebSocket participant for tests (tokio-tungstenite), speaking the gateway protocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rtk_api::gateway::{ClientMessage, ServerEvent};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for an event that must come.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Client {
    ws: Stream,
    pub peer_id: Option<String>,
    pub session_id: Option<String>,
}

/// What the next frame was.
#[derive(Debug)]
pub enum Next {
    Event(ServerEvent),
    Closed(u16, String),
}

impl Client {
    /// Connects without reading anything.
    pub async fn connect_raw(url: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket connects");
        Client { ws, peer_id: None, session_id: None }
    }

    /// Connects and expects `hello`.
    pub async fn connect(url: &str) -> Client {
        let mut c = Self::connect_raw(url).await;
        match c.next().await {
            Next::Event(ServerEvent::Hello { protocol, .. }) => {
                assert_eq!(protocol, rtk_api::gateway::PROTOCOL_VERSION)
            }
            other => panic!("expected hello, got {other:?}"),
        }
        c
    }

    pub async fn send(&mut self, m: &ClientMessage) {
        let text = serde_json::to_string(m).unwrap();
        self.ws.send(Message::Text(text.into())).await.expect("send");
    }

    pub async fn send_raw(&mut self, m: Message) {
        let _ = self.ws.send(m).await;
    }

    /// The next event or close (skipping transport pings).
    pub async fn next(&mut self) -> Next {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next()).await.expect("a frame arrives in time");
            match m {
                Some(Ok(Message::Text(t))) => {
                    return Next::Event(
                        serde_json::from_str(t.as_str()).unwrap_or_else(|e| panic!("bad event {t}: {e}")),
                    )
                }
                Some(Ok(Message::Close(f))) => {
                    return match f {
                        Some(f) => Next::Closed(u16::from(f.code), f.reason.to_string()),
                        None => Next::Closed(u16::from(CloseCode::Status), String::new()),
                    }
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Next::Closed(0, e.to_string()),
                None => return Next::Closed(0, "stream ended".into()),
            }
        }
    }

    pub async fn event(&mut self) -> ServerEvent {
        match self.next().await {
            Next::Event(e) => e,
            Next::Closed(c, r) => panic!("expected an event, the connection closed: {c} {r}"),
        }
    }

    /// Waits for an event matching `f`, skipping others.
    pub async fn wait_for(&mut self, f: impl Fn(&ServerEvent) -> bool) -> ServerEvent {
        loop {
            let e = self.event().await;
            if f(&e) {
                return e;
            }
        }
    }

    /// Waits for the close, skipping events; its code.
    pub async fn closed(&mut self) -> u16 {
        self.closed_with().await.0
    }

    /// Waits for the close, skipping events; its code and reason.
    pub async fn closed_with(&mut self) -> (u16, String) {
        loop {
            if let Next::Closed(c, r) = self.next().await {
                return (c, r);
            }
        }
    }

    pub async fn join(&mut self) -> ServerEvent {
        self.join_with(None).await
    }

    pub async fn join_with(&mut self, device: Option<serde_json::Value>) -> ServerEvent {
        self.send(&ClientMessage::Join { device }).await;
        let e = self.wait_for(|e| matches!(e, ServerEvent::Joined { .. })).await;
        if let ServerEvent::Joined { peer_id, session_id, .. } = &e {
            self.peer_id = Some(peer_id.clone());
            self.session_id = Some(session_id.clone());
        }
        e
    }

    /// A heartbeat that is confirmed (the pong proves the server processed it).
    pub async fn ping(&mut self) {
        self.send(&ClientMessage::Ping { ts: Some(7) }).await;
        self.wait_for(|e| matches!(e, ServerEvent::Pong { ts: Some(7) })).await;
    }

    /// A clean leave, confirmed by `left` and a normal close.
    pub async fn leave(mut self) {
        self.send(&ClientMessage::Leave).await;
        self.wait_for(|e| matches!(e, ServerEvent::Left { .. })).await;
        assert_eq!(self.closed().await, 1000);
    }

    /// The connection is lost: no leave, no close frame.
    pub fn vanish(self) {
        drop(self.ws);
    }
}

/// Polls `f` until it is true (the server processes a lost connection on its own time; there
/// is no event to await for that). Fails after `WAIT`.
pub async fn eventually<F, Fut>(what: &str, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !f().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
