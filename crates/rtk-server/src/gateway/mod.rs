//! The participant gateway: a WebSocket endpoint (`/gateway/v1`) where a participant connects
//! with the token from "add participant" and joins its meeting. Protocol: `docs/gateway.md`
//! and `rtk_api::gateway`.
//!
//! - `mod.rs`: the endpoint (upgrade, socket sizes) and the limits;
//! - `connection.rs`: one connection's life: token and participant checks, the read loop,
//!   deadlines, outbound events from the engine, and what happens to its peer at the end;
//! - `messages.rs`: what each client message does (join, resume, chat, switch_meeting, …);
//! - `error.rs`: the one error type, and the one mapping of each error to an `error` event
//!   or a close code (`docs/gateway.md`);
//! - `wire.rs`: frames on the socket: events, bursts, close frames;
//! - `limits.rs`: connection seats per participant and the per-connection rate limit.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::http::Query;
use crate::state::AppState;

mod connection;
mod error;
mod limits;
mod messages;
mod wire;

use connection::Connection;
pub use error::{GatewayError, Reply};
pub use limits::{Seat, Seats};
pub use wire::{close_reason, MAX_CLOSE_REASON};

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
    q: Result<Query<Params>, crate::error::ApiError>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    // A request that is not a WebSocket upgrade gets the API's error envelope.
    let (Query(q), ws) = match (q, ws) {
        (Ok(q), Ok(ws)) => (q, ws),
        (Err(e), _) => return axum::response::IntoResponse::into_response(e),
        (_, Err(e)) => {
            let e = crate::error::ApiError::new(e.status(), e.body_text());
            return axum::response::IntoResponse::into_response(e);
        }
    };
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
