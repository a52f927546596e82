//! Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(doc: utoipa::openapi::OpenApi) -> Router<AppState> {
    let doc_json = std::sync::Arc::new(doc.to_json().unwrap_or_else(|_| "{}".into()));
    super::metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { super::ok(serde_json::json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], super::metrics_handle().render())
            }),
        )
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], doc.to_string()) }
            }),
        )
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.store.ping().await {
        Ok(()) => super::ok(serde_json::json!({"status": "ready"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            ApiError::unavailable("the store is not reachable").into_response()
        }
    }
}

/// Adds the operations endpoints to the OpenAPI document.
pub fn document_ops(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::ResponseBuilder;
    for (path, summary) in [
        ("/healthz", "Liveness: the process answers"),
        ("/readyz", "Readiness: the store is reachable (503 when not)"),
        ("/metrics", "Prometheus metrics: request counts and latency by route and status"),
        ("/openapi.json", "This document"),
    ] {
        let op = OperationBuilder::new()
            .summary(Some(summary))
            .tag("operations")
            .response("200", ResponseBuilder::new().description("OK").build())
            .build();
        doc.paths.paths.insert(path.to_string(), PathItem::new(HttpMethod::Get, op));
    }
}
