//! rtk-only admin endpoints for test environments, outside the RealtimeKit paths and
//! authenticated by the admin token, never by an API token (docs/testing-with-rtk.md):
//!
//! - the admin clock (`/_rtk/clock`), on a manual clock (`rtk serve --clock manual`): moves
//!   time, applying every rule that falls due on the way before it answers; absent (404) on
//!   the system clock;
//! - `POST /_rtk/reset`, on a manual clock or with `enable_reset` (and an admin token):
//!   empties the store of what apps made, keeping credentials, then applies the server's
//!   fixtures again (`--fixtures`), so it returns to them.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use rtk_api::ops::{Applied, ClockState, FixturesApplied, ResetDone};
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::clock::{parse_rfc3339, rfc3339, Clock, ManualClock, Millis};
use crate::engine::TickReport;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::Json;

/// The longest single move: ten years.
const MAX_MOVE_MS: f64 = 10.0 * 366.0 * 86_400_000.0;

/// The admin routes this server's configuration enables.
pub fn routes(config: &crate::config::Config) -> Router<AppState> {
    let mut r = Router::new();
    if config.manual_clock.is_some() {
        r = r
            .route("/_rtk/clock", get(now))
            .route("/_rtk/clock/advance", post(advance))
            .route("/_rtk/clock/set", post(set));
    }
    if config.admin_token_hash.is_some() && (config.manual_clock.is_some() || config.enable_reset) {
        r = r.route("/_rtk/reset", post(reset));
    }
    r
}

/// The manual clock, once the caller has shown the admin token.
fn authorized<'a>(s: &'a AppState, headers: &HeaderMap) -> ApiResult<&'a ManualClock> {
    admin(s, headers)?;
    s.config.manual_clock.as_ref().ok_or_else(|| ApiError::not_found("no such route"))
}

/// Passes when the caller shows the admin token.
fn admin(s: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let want = s.config.admin_token_hash.as_deref().unwrap_or_default();
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| crate::auth::hash_token(t.trim()));
    match given {
        Some(h) if !want.is_empty() && bool::from(h.as_bytes().ct_eq(want.as_bytes())) => Ok(()),
        _ => Err(ApiError::unauthorized(
            "rtk's admin endpoints need the admin token (Authorization: Bearer <admin token>), not an API token",
        )),
    }
}

/// Empties the store of everything apps made (apps, presets, meetings, participants,
/// sessions, chat), keeping accounts and API tokens; connected peers are closed (4006).
async fn reset(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    admin(&s, &headers)?;
    let _one = s.clock_moves.lock().await;
    let started = std::time::Instant::now();
    s.engine.reset().await?;
    s.forget_apps();
    // A server started with fixtures returns to them.
    let fixtures = match &s.config.fixtures {
        Some(f) => Some(f.apply(&s.store).await.map_err(|e| match e {
            crate::fixtures::FixtureError::Store(e) => ApiError::from(e),
            // They applied at start; only a change since (a credential made with the same
            // id) can refuse them now.
            e => {
                ApiError::new(axum::http::StatusCode::CONFLICT, format!("the fixtures were not applied: {e}"))
            }
        })?),
        None => None,
    };
    tracing::info!(
        took_ms = started.elapsed().as_millis() as u64,
        fixtures = fixtures.is_some(),
        "reset: the store is empty but for credentials and fixtures"
    );
    let fixtures = fixtures.map(|a| FixturesApplied {
        inserted: a.inserted.into_iter().map(|(k, n)| (k.to_string(), n as u64)).collect(),
        unchanged: a.unchanged as u64,
    });
    Ok(super::ok(ResetDone { reset: true, kept: vec!["accounts".into(), "api_tokens".into()], fixtures }))
}

fn answer(now: Millis, applied: TickReport) -> Response {
    let applied = Applied { timed_out: applied.timed_out as u64, ended: applied.ended as u64 };
    super::ok(ClockState { now: rfc3339(now), now_ms: now, applied })
}

async fn now(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let clock = authorized(&s, &headers)?;
    Ok(answer(clock.now(), TickReport::default()))
}

/// `{"seconds": n}` or `{"milliseconds": n}`: moves the clock forward by that much.
async fn advance(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let clock = authorized(&s, &headers)?;
    let by = match (body.get("seconds"), body.get("milliseconds")) {
        (Some(v), None) => v.as_f64().map(|x| x * 1000.0),
        (None, Some(v)) => v.as_f64(),
        _ => None,
    };
    let by = by.filter(|ms| ms.is_finite() && (0.0..=MAX_MOVE_MS).contains(ms)).ok_or_else(|| {
        ApiError::bad_request(
            "give one of \"seconds\" or \"milliseconds\": a number from 0 to ten years (the clock never moves back)",
        )
    })?;
    move_to(&s, clock, |now| now + by.round() as Millis).await
}

/// `{"time": "RFC 3339"}`: moves the clock to that time (never backwards).
async fn set(State(s): State<AppState>, headers: HeaderMap, Json(body): Json<Value>) -> ApiResult<Response> {
    let clock = authorized(&s, &headers)?;
    let to = body.get("time").and_then(Value::as_str).and_then(parse_rfc3339).ok_or_else(|| {
        ApiError::bad_request("\"time\" is required: an RFC 3339 time, e.g. 2026-01-01T00:00:00Z")
    })?;
    move_to(&s, clock, |_| to).await
}

async fn move_to(
    s: &AppState,
    clock: &ManualClock,
    to: impl FnOnce(Millis) -> Millis,
) -> ApiResult<Response> {
    // One move at a time: each applies what falls due in order.
    let _one = s.clock_moves.lock().await;
    let to = to(clock.now());
    // Deliveries due on the way are made before the answer (none in flight while it moves).
    let applied = s.hooks.quiesced(s.engine.advance(clock, to)).await.map_err(|e| match e {
        crate::engine::EngineError::Invalid(m) => ApiError::bad_request(m),
        other => other.into(),
    })?;
    Ok(answer(clock.now(), applied))
}
