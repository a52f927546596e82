//! Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use rtk_api::ops::Health;

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(doc: utoipa::openapi::OpenApi) -> Router<AppState> {
    let doc_json = match doc.to_json() {
        Ok(text) => bytes::Bytes::from(text),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document does not serialise");
            bytes::Bytes::from_static(b"{}")
        }
    };
    super::metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { super::ok(Health { status: "ok".into() }) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], doc) }
            }),
        )
}

/// The Prometheus text; the gauges of what is live are read from the store first (so they are
/// the fleet's truth on PostgreSQL, not this node's guess), the gateway's connections are this
/// node's.
async fn metrics(State(s): State<AppState>) -> Response {
    match s.store.live_counts().await {
        Ok((sessions, peers)) => {
            metrics::gauge!("rtk_sessions_live").set(sessions as f64);
            metrics::gauge!("rtk_peers_live").set(peers as f64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count live sessions and peers"),
    }
    metrics::gauge!("rtk_gateway_connections").set(s.connections.count() as f64);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], super::metrics_handle().render()).into_response()
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.store.ping().await {
        Ok(()) => super::ok(Health { status: "ready".into() }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            ApiError::unavailable("the store is not reachable").into_response()
        }
    }
}
