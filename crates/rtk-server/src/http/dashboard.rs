//! The dashboard (docs/dashboard.md): a page served at `/` with its script and style (written
//! here, embedded in the binary: no CDN), which signs in with an API token and reads
//! everything through the API; and the one thing the API has no call for, a session's events
//! as they happen (`/_rtk/accounts/{account_id}/apps/{app_id}/sessions/{session_id}/events`,
//! server-sent events), so the page updates without polling.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::scope::{AppScope, SessionPath};
use super::Path;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const INDEX: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/app.css");

pub const EVENTS_PATH: &str = "/_rtk/accounts/{account_id}/apps/{app_id}/sessions/{session_id}/events";

pub const GAPS_PATH: &str = "/_rtk/accounts/{account_id}/apps/{app_id}/sessions/{session_id}/peer-gaps";

pub fn routes() -> axum::Router<AppState> {
    let page = |body: &'static str, kind: &'static str| {
        move || async move {
            (
                [
                    (header::CONTENT_TYPE, kind),
                    (header::CACHE_CONTROL, "no-cache"),
                    // Everything comes from rtk itself; nothing inline but what is here.
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
                    ),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                body,
            )
        }
    };
    axum::Router::new()
        .route("/", axum::routing::get(page(INDEX, "text/html; charset=utf-8")))
        .route("/dashboard/app.js", axum::routing::get(page(SCRIPT, "text/javascript; charset=utf-8")))
        .route("/dashboard/app.css", axum::routing::get(page(STYLE, "text/css; charset=utf-8")))
        .route(EVENTS_PATH, axum::routing::get(events))
        .route(GAPS_PATH, axum::routing::get(gaps))
}

/// The session's peers' lost connections, in time order (at most 10,000): what RealtimeKit's
/// peer events (joins and leaves) do not show.
async fn gaps(State(s): State<AppState>, scope: AppScope, Path(p): Path<SessionPath>) -> ApiResult<Response> {
    let session = s
        .store
        .session(&scope.app.id, &p.session_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No session found with id {}", p.session_id)))?;
    let gaps: Vec<rtk_api::sessions::PeerGap> = s
        .store
        .peer_gaps(&session.id)
        .await?
        .into_iter()
        .map(|g| rtk_api::sessions::PeerGap {
            peer_id: g.peer_id,
            dropped_at: crate::clock::rfc3339(g.dropped_at),
            resumed_at: g.resumed_at.map(crate::clock::rfc3339),
        })
        .collect();
    Ok(super::ok(gaps))
}

/// The session's events as they happen (on every node: the bus carries them): `hello` first,
/// then each gateway event its peers get (`peer_joined`, `peer_left`, `chat`, `poll_created`,
/// …) under its `type`, `peer_dropped` and `peer_resumed` (which peers are not told),
/// `lagged` when this stream fell behind (read the session again), and `session_ended` last.
/// An ended session answers `session_ended` at once.
async fn events(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<SessionPath>,
) -> ApiResult<Response> {
    let session = s
        .store
        .session(&scope.app.id, &p.session_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No session found with id {}", p.session_id)))?;
    let hello = Event::default()
        .event("hello")
        .data(serde_json::json!({"session_id": session.id, "status": session.status}).to_string());
    if session.status != "LIVE" {
        let ended = Event::default()
            .event("session_ended")
            .data(serde_json::json!({"type": "session_ended", "session_id": session.id}).to_string());
        let once = stream::iter([Ok::<_, Infallible>(hello), Ok(ended)]);
        return Ok(Sse::new(once).into_response());
    }
    let rx = s.engine.hub().watch(&session.id);
    // Ended between the read and the subscription: nothing would ever say so on `rx`.
    let still_live = s.store.session(&scope.app.id, &session.id).await?.is_some_and(|x| x.status == "LIVE");
    if !still_live {
        let ended = Event::default()
            .event("session_ended")
            .data(serde_json::json!({"type": "session_ended", "session_id": session.id}).to_string());
        return Ok(Sse::new(stream::iter([Ok::<_, Infallible>(hello), Ok(ended)])).into_response());
    }
    let rest = stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Ok(text) => {
                let text = text.as_str().to_string();
                let kind = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "event".into());
                let last = kind == "session_ended";
                Some((Ok(Event::default().event(kind).data(text)), (!last).then_some(rx)))
            }
            Err(RecvError::Lagged(n)) => {
                Some((Ok(Event::default().event("lagged").data(format!("{{\"missed\":{n}}}"))), Some(rx)))
            }
            Err(RecvError::Closed) => None,
        }
    });
    let body: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::iter([Ok(hello)]).chain(rest));
    Ok(Sse::new(body).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}
