//! The HTTP API: axum routers, one module per resource. Handlers validate input, call the
//! store or the engine, and shape the envelope; they never touch SQL.

mod active_session;
pub(crate) mod analytics;
mod apps;
mod breakout;
pub mod clock;
pub mod dashboard;
pub mod de;
pub mod extract;
pub mod hot;
pub mod limits;
pub mod livestreams;
pub(crate) mod meetings;
pub mod openapi;
mod ops;
mod participants;
mod presets;
pub mod recordings;
pub mod schema;
pub mod scope;
pub mod sessions;
pub mod webhooks;

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;
use openapi::Components;

pub use extract::{time_param, Json, Page, PageParams, Path, Query};

/// Parses `sort_order` (`ASC`/`DESC`, any case); true for descending.
pub fn sort_order(v: Option<&str>, default_desc: bool) -> Result<bool, ApiError> {
    match v.map(str::trim) {
        None | Some("") => Ok(default_desc),
        Some(o) if o.eq_ignore_ascii_case("asc") => Ok(false),
        Some(o) if o.eq_ignore_ascii_case("desc") => Ok(true),
        Some(o) => Err(ApiError::bad_request(format!(
            "invalid query parameter \"sort_order\": must be ASC or DESC, got {o:?}"
        ))),
    }
}

/// The claims of a download link (the link is the credential, as a presigned URL is): an
/// invalid token, or one `accept` refuses (another kind of link), is 404 `no such {what}`; an
/// expired one 410.
pub async fn link_claims<T: serde::de::DeserializeOwned + crate::tokens::Expiring>(
    s: &AppState,
    token: &str,
    what: &str,
    accept: impl FnOnce(&T) -> bool,
) -> Result<T, Response> {
    match s.keys.verify_as::<T>(token, s.now()).await {
        Ok(c) if accept(&c) => Ok(c),
        Ok(_) | Err(crate::tokens::TokenError::Invalid) => {
            Err(ApiError::not_found(format!("no such {what}")).into_response())
        }
        Err(crate::tokens::TokenError::Expired) => {
            Err(ApiError::new(StatusCode::GONE, "this download link has expired").into_response())
        }
    }
}

/// `{"success": true, "data": …}` with status 200.
pub fn ok<T: serde::Serialize>(data: T) -> Response {
    json(StatusCode::OK, &rtk_api::Envelope::ok(data), 512)
}

/// `{"success": true, "data": …}` with status 201.
pub fn created<T: serde::Serialize>(data: T) -> Response {
    json(StatusCode::CREATED, &rtk_api::Envelope::ok(data), 512)
}

/// A list page with `paging`.
pub fn page<T: serde::Serialize>(data: Vec<T>, page: Page, total: i64) -> Response {
    let paging = page.paging(total, data.len());
    let size = 128 + 384 * data.len();
    json(StatusCode::OK, &rtk_api::Envelope::page(data, paging), size)
}

/// `{"success": true, "data": …, "paging": …}` with status 200.
pub fn page_of<T: serde::Serialize>(data: T, paging: rtk_api::Paging) -> Response {
    let size = 128 + 384 * paging.end_offset.saturating_sub(paging.start_offset).min(100) as usize;
    json(StatusCode::OK, &rtk_api::Envelope::page(data, paging), size)
}

/// `value` serialised into a buffer of about `size` bytes (one allocation for most answers).
fn json<T: serde::Serialize>(status: StatusCode, value: &T, size: usize) -> Response {
    let mut body = Vec::with_capacity(size);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => {
            let mut resp = (status, body).into_response();
            resp.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => {
            ApiError::internal_because(format_args!("an answer does not serialise: {e}")).into_response()
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rtk — RealtimeKit-compatible API",
        description = "The Cloudflare RealtimeKit REST API as served by rtk. Every path is served both at the root and under /client/v4."
    ),
    servers((url = "/", description = "The API at the root"), (url = "/client/v4", description = "The same API under Cloudflare's prefix (operational and admin routes are at the root only)")),
    modifiers(&Components),
    security(("api_token" = []), ("api_email" = [], "api_key" = []))
)]
struct ApiDoc;

/// The API routes and their OpenAPI document (the API's operations only).
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(apps::routes())
        .merge(presets::routes())
        .merge(meetings::routes())
        .merge(participants::routes())
        .merge(sessions::routes())
        .merge(active_session::routes())
        .merge(webhooks::routes())
        .merge(recordings::routes())
        .merge(analytics::routes())
        .merge(livestreams::routes())
        .split_for_parts()
}

/// The whole application: API at `/` and `/client/v4`, operations endpoints, fallbacks,
/// metrics, tracing, panic safety and the body limit.
pub fn router(state: AppState) -> Router {
    let doc = document(&state.config);
    let (api, _) = api();
    let body_limit = state.config.body_limit;
    let request_timeout = state.config.request_timeout;
    Router::new()
        .merge(api.clone())
        .nest("/client/v4", api)
        .merge(ops::routes(doc))
        // rtk's admin endpoints exist only where configured (manual clock, admin token).
        .merge(clock::routes(&state.config))
        .merge(crate::gateway::routes())
        .merge(sessions::chat_export_routes())
        .merge(recordings::file_routes())
        .merge(livestreams::playback_routes())
        .merge(webhooks::public_routes())
        .merge(webhooks::log_routes())
        .merge(dashboard::routes())
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this route")
        })
        // For axum's own body extractors; the API's `Json` applies the same limit itself
        // (extract.rs), so a refused body can be drained.
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            track_metrics(req, next, request_timeout)
        }))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            ApiError::internal().into_response()
        }))
        // Requests are logged without their credentials: `?token=` values and chat download
        // links redacted, no headers (Authorization, X-Auth-Key) at all.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            tracing::debug_span!(
                "request",
                method = %req.method(),
                uri = %crate::secrets::redact_uri(req.uri()),
                version = ?req.version(),
            )
        }))
        .with_state(state)
}

/// The whole OpenAPI document of a server with this configuration: the API, and the routes
/// outside it that this server has.
pub fn document(config: &crate::config::Config) -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api();
    openapi::document_other_routes(&mut doc, config);
    openapi::optional_bodies(&mut doc);
    doc
}

/// What the server serves: the router behind the session-details hot path.
pub fn service(state: AppState) -> hot::Hot<Router> {
    let router = router(state.clone());
    hot::Hot::new(state, router)
}

/// The process-wide Prometheus recorder.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (embedding); then ours only renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts and times each routed request, and answers 503 in the envelope for one not done
/// within `timeout` (body read and handler; a WebSocket upgrade is done once it is accepted).
async fn track_metrics(req: Request, next: Next, timeout: std::time::Duration) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            static LOG: crate::conn::Throttle = crate::conn::Throttle::new();
            if let Some(suppressed) = LOG.allow() {
                tracing::warn!(
                    limit = "request_timeout",
                    ?timeout,
                    route,
                    suppressed,
                    "a request timed out (503)"
                );
            }
            ApiError::unavailable(format!("the request did not complete within {timeout:?}; try again"))
                .into_response()
        }
    };
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    resp
}
