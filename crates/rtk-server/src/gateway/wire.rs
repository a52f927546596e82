//! Frames on the socket: events as JSON text, close frames with a reason that fits.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use rtk_api::gateway::ServerEvent;

use crate::engine::SharedText;

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
pub(super) fn too_big(e: &axum::Error) -> bool {
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
pub(super) async fn send_close(socket: &mut WebSocket, code: u16, reason: &str) {
    metrics::counter!("rtk_gateway_closes_total", "code" => code.to_string()).increment(1);
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

pub(super) async fn send_event(socket: &mut WebSocket, e: &ServerEvent) -> bool {
    match event_text(e) {
        Some(text) => socket.send(Message::Text(text)).await.is_ok(),
        None => false,
    }
}

/// Events written before one flush when several are waiting.
pub(super) const BURST: usize = 64;

/// A frame's text from the engine's shared bytes (no copy; the check that they are UTF-8,
/// which they always are, is the only cost).
pub(super) fn frame_text(t: SharedText) -> Option<axum::extract::ws::Utf8Bytes> {
    axum::extract::ws::Utf8Bytes::try_from(t.into_bytes()).ok()
}

pub(super) fn event_text(e: &ServerEvent) -> Option<axum::extract::ws::Utf8Bytes> {
    serde_json::to_string(e).ok().map(Into::into)
}
