//! Webhooks: `…/{app_id}/webhooks` and `…/webhooks/{webhook_id}` (the RealtimeKit API), and
//! `GET /.well-known/webhooks.json` (the public key that verifies deliveries, unauthenticated).
//!
//! A duplicate is a second webhook with the same URL (exactly, after trimming) in one app:
//! 409. The SDKs model none of this; see `docs/webhooks.md`.

use axum::extract::State;
use axum::response::Response;
use rtk_api::webhooks::{Webhook, WebhookBody, WebhookKeyDocument, WebhookNew, WebhookPublicKey, EVENTS};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::limits::{NAME_CHARS, URL_CHARS};
use super::openapi::{Read, WriteConflict};
use super::scope::{AppScope, WebhookPath};
use super::{Json, Path};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::state::AppState;
use crate::store::{new_id, WebhookRow};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_webhooks, create_webhook)).routes(routes!(
        get_webhook,
        put_webhook,
        patch_webhook,
        delete_webhook
    ))
}

/// `GET /.well-known/webhooks.json` (outside the API prefix, no credentials).
pub fn public_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/.well-known/webhooks.json", axum::routing::get(public_key))
}

pub fn webhook_view(h: &WebhookRow) -> Webhook {
    Webhook {
        id: h.id.clone(),
        name: h.name.clone(),
        url: h.url.clone(),
        events: h.events.clone(),
        enabled: h.enabled,
        created_at: rfc3339(h.created_at),
        updated_at: rfc3339(h.updated_at),
    }
}

pub async fn find_webhook(s: &AppState, app_id: &str, id: &str) -> ApiResult<WebhookRow> {
    s.store
        .webhook(app_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No webhook found with id {id}")))
}

/// A checked, normalised body. `required`: POST and PUT (name, url and events must be given).
struct Checked {
    name: Option<String>,
    url: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
}

/// Why `url` cannot be a webhook's URL, if it cannot.
pub fn url_problem(url: &str) -> Option<String> {
    if url.chars().count() > URL_CHARS {
        return Some(format!("\"url\" must be at most {URL_CHARS} characters"));
    }
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => {
            None
        }
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            Some(format!("\"url\" must be an http or https URL, not {}:", u.scheme()))
        }
        Ok(_) => Some("\"url\" must name a host".to_string()),
        Err(e) => Some(format!("\"url\" is not a valid URL: {e}")),
    }
}

/// The body as a [`WebhookBody`]: a JSON object only (serde would also read a struct from an
/// array of its fields in order), each field of its type.
fn webhook_body(v: serde_json::Value) -> ApiResult<WebhookBody> {
    if !v.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    serde_path_to_error::deserialize(v)
        .map_err(|e| ApiError::bad_request(format!("invalid field \"{}\": {}", e.path(), e.inner())))
}

fn check(body: WebhookBody, required: bool) -> ApiResult<Checked> {
    let mut errors = FieldErrors::new();
    let name = body.name.map(|n| n.trim().to_string());
    match &name {
        None if required => errors.push("\"name\" is required"),
        Some(n) if n.is_empty() || n.chars().count() > NAME_CHARS => {
            errors.push(format!("\"name\" must be 1 to {NAME_CHARS} characters"))
        }
        _ => {}
    }
    let url = body.url.map(|u| u.trim().to_string());
    match &url {
        None if required => errors.push("\"url\" is required"),
        Some(u) => {
            if let Some(p) = url_problem(u) {
                errors.push(p);
            }
        }
        None => {}
    }
    let mut events: Option<Vec<String>> = None;
    match body.events {
        None if required => errors.push("\"events\" is required"),
        None => {}
        Some(given) => {
            if given.is_empty() {
                errors.push("\"events\" must list at least one event");
            }
            let mut kept: Vec<String> = Vec::with_capacity(given.len().min(EVENTS.len()));
            for (i, e) in given.into_iter().enumerate() {
                if !EVENTS.contains(&e.as_str()) {
                    errors.push_with(|| {
                        format!(
                            "\"events[{i}]\" is not a webhook event: {e:?} (one of {})",
                            EVENTS.join(", ")
                        )
                    });
                } else if !kept.contains(&e) {
                    kept.push(e);
                }
            }
            events = Some(kept);
        }
    }
    ApiError::check(errors)?;
    Ok(Checked { name, url, events, enabled: body.enabled })
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/webhooks", tag = "webhooks",
    params(AppScope),
    responses((status = 200, description = "The app's webhooks, oldest first (no paging)", body = rtk_api::Envelope<Vec<Webhook>>),
              Read))]
async fn list_webhooks(State(s): State<AppState>, scope: AppScope) -> ApiResult<Response> {
    let app = &scope.app;
    let rows = s.store.list_webhooks(&app.id).await?;
    Ok(super::ok(rows.iter().map(webhook_view).collect::<Vec<_>>()))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/webhooks", tag = "webhooks",
    params(AppScope), request_body = WebhookNew,
    responses((status = 201, description = "The new webhook", body = rtk_api::Envelope<Webhook>),
              WriteConflict))]
async fn create_webhook(
    State(s): State<AppState>,
    scope: AppScope,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    let app = &scope.app;
    let c = check(webhook_body(body)?, true)?;
    let now = s.now();
    let row = WebhookRow {
        id: new_id(),
        app_id: app.id.clone(),
        name: c.name.unwrap_or_default(),
        url: c.url.unwrap_or_default(),
        events: c.events.unwrap_or_default(),
        enabled: c.enabled.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    s.store.insert_webhook(&row).await?;
    Ok(super::created(webhook_view(&row)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(AppScope, WebhookPath),
    responses((status = 200, description = "The webhook", body = rtk_api::Envelope<Webhook>),
              Read))]
async fn get_webhook(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<WebhookPath>,
) -> ApiResult<Response> {
    let app = &scope.app;
    Ok(super::ok(webhook_view(&find_webhook(&s, &app.id, &p.webhook_id).await?)))
}

#[utoipa::path(put, path = "/accounts/{account_id}/realtime/kit/{app_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(AppScope, WebhookPath), request_body = WebhookNew,
    responses((status = 200, description = "The webhook, replaced: name, url and events required; enabled defaults to true", body = rtk_api::Envelope<Webhook>),
              WriteConflict))]
async fn put_webhook(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<WebhookPath>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    let app = &scope.app;
    let c = check(webhook_body(body)?, true)?;
    let mut row = find_webhook(&s, &app.id, &p.webhook_id).await?;
    row.name = c.name.unwrap_or_default();
    row.url = c.url.unwrap_or_default();
    row.events = c.events.unwrap_or_default();
    row.enabled = c.enabled.unwrap_or(true);
    row.updated_at = s.now();
    s.store.update_webhook(&row).await?;
    Ok(super::ok(webhook_view(&row)))
}

#[utoipa::path(patch, path = "/accounts/{account_id}/realtime/kit/{app_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(AppScope, WebhookPath), request_body = WebhookBody,
    responses((status = 200, description = "The webhook with the given fields changed (`{}` changes nothing)", body = rtk_api::Envelope<Webhook>),
              WriteConflict))]
async fn patch_webhook(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<WebhookPath>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    let app = &scope.app;
    let c = check(webhook_body(body)?, false)?;
    let mut row = find_webhook(&s, &app.id, &p.webhook_id).await?;
    let changed = c.name.is_some() || c.url.is_some() || c.events.is_some() || c.enabled.is_some();
    if let Some(n) = c.name {
        row.name = n;
    }
    if let Some(u) = c.url {
        row.url = u;
    }
    if let Some(e) = c.events {
        row.events = e;
    }
    if let Some(e) = c.enabled {
        row.enabled = e;
    }
    if changed {
        row.updated_at = s.now();
        s.store.update_webhook(&row).await?;
    }
    Ok(super::ok(webhook_view(&row)))
}

#[utoipa::path(delete, path = "/accounts/{account_id}/realtime/kit/{app_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(AppScope, WebhookPath),
    responses((status = 200, description = "The deleted webhook; its pending deliveries are cancelled", body = rtk_api::Envelope<Webhook>),
              Read))]
async fn delete_webhook(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<WebhookPath>,
) -> ApiResult<Response> {
    let app = &scope.app;
    let row = find_webhook(&s, &app.id, &p.webhook_id).await?;
    s.store.delete_webhook(&app.id, &row.id, s.now()).await?;
    Ok(super::ok(webhook_view(&row)))
}

/// The public key that verifies `rtk-signature`, in Cloudflare's shape.
async fn public_key(State(s): State<AppState>) -> ApiResult<Response> {
    use axum::response::IntoResponse;
    let signer = s.hooks.signer().await?;
    Ok(axum::Json(WebhookKeyDocument {
        success: true,
        data: WebhookPublicKey { public_key: signer.public_key_pem().to_string() },
        message: String::new(),
    })
    .into_response())
}

/// rtk's own delivery-log API (an extension, outside the RealtimeKit paths), authenticated
/// with the account's API token like the RealtimeKit API:
///
/// - `GET /_rtk/accounts/{account_id}/apps/{app_id}/webhooks/{webhook_id}/deliveries`
///   (`?state=pending|delivered|failed|cancelled`, `?limit=` 1–500, default 50): newest
///   first, each with its attempts;
/// - `POST …/deliveries/{delivery_id}/redeliver`: puts a delivered or failed event back in
///   the outbox, due now, with the same `rtk-uuid` and a fresh attempt budget.
pub fn log_routes() -> axum::Router<AppState> {
    let base = "/_rtk/accounts/{account_id}/apps/{app_id}/webhooks/{webhook_id}/deliveries";
    axum::Router::new()
        .route(base, axum::routing::get(deliveries))
        .route(&format!("{base}/{{delivery_id}}"), axum::routing::get(delivery))
        .route(&format!("{base}/{{delivery_id}}/redeliver"), axum::routing::post(redeliver))
}

/// `{webhook_id}` and `{delivery_id}` of the delivery-log routes.
#[derive(Debug, serde::Deserialize)]
struct DeliveryPath {
    webhook_id: String,
    delivery_id: String,
}

#[derive(Debug, serde::Deserialize)]
struct LogQuery {
    state: Option<String>,
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    limit: Option<f64>,
}

fn delivery_view(
    d: &crate::store::DeliveryRow,
    attempts: &[crate::store::AttemptRow],
) -> rtk_api::webhooks::Delivery {
    rtk_api::webhooks::Delivery {
        id: d.id.clone(),
        webhook_id: d.webhook_id.clone(),
        event: d.event.clone(),
        state: d.state.clone(),
        attempts: d.attempts.max(0) as u32,
        created_at: rfc3339(d.created_at),
        next_attempt_at: (d.state == "pending").then(|| rfc3339(d.next_attempt_at)),
        last_status: d.last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: d.last_error.clone(),
        body: d.body.clone(),
        log: attempts
            .iter()
            .filter(|a| a.outbox_id == d.id)
            .map(|a| rtk_api::webhooks::DeliveryAttempt {
                at: rfc3339(a.at),
                status: a.status.and_then(|s| u16::try_from(s).ok()),
                latency_ms: a.latency_ms.max(0) as u64,
                error: a.error.clone(),
            })
            .collect(),
    }
}

async fn deliveries(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<WebhookPath>,
    super::Query(q): super::Query<LogQuery>,
) -> ApiResult<Response> {
    let state = match q.state.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(st @ ("pending" | "delivered" | "failed" | "cancelled")) => Some(st.to_string()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
            "invalid query parameter \"state\": one of pending, delivered, failed, cancelled, got {other:?}"
        )))
        }
    };
    let limit = match q.limit {
        None => 50,
        Some(l) if l.fract() == 0.0 && (1.0..=500.0).contains(&l) => l as i64,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid query parameter \"limit\": a whole number from 1 to 500",
            ))
        }
    };
    let app = &scope.app;
    let hook = find_webhook(&s, &app.id, &p.webhook_id).await?;
    let rows = s.store.deliveries(&hook.id, state.as_deref(), limit).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let attempts = s.store.attempts(&ids).await?;
    Ok(super::ok(rows.iter().map(|d| delivery_view(d, &attempts)).collect::<Vec<_>>()))
}

async fn delivery(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<DeliveryPath>,
) -> ApiResult<Response> {
    let app = &scope.app;
    let hook = find_webhook(&s, &app.id, &p.webhook_id).await?;
    let d = s
        .store
        .delivery(&hook.id, &p.delivery_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No delivery found with id {}", p.delivery_id)))?;
    let attempts = s.store.attempts(std::slice::from_ref(&d.id)).await?;
    Ok(super::ok(delivery_view(&d, &attempts)))
}

async fn redeliver(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<DeliveryPath>,
) -> ApiResult<Response> {
    let app = &scope.app;
    let hook = find_webhook(&s, &app.id, &p.webhook_id).await?;
    let d = s
        .store
        .delivery(&hook.id, &p.delivery_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No delivery found with id {}", p.delivery_id)))?;
    if !s.store.redeliver(&hook.id, &d.id, s.now()).await? {
        return Err(ApiError::conflict(format!(
            "delivery {} is {}: only a delivered or failed delivery can be redelivered",
            d.id, d.state
        )));
    }
    // The answer is the delivery as redelivered (read before the worker is woken, so it
    // cannot already be on its way).
    let d = s.store.delivery(&hook.id, &d.id).await?.ok_or_else(ApiError::internal)?;
    let attempts = s.store.attempts(std::slice::from_ref(&d.id)).await?;
    s.hooks.notify();
    Ok(super::ok(delivery_view(&d, &attempts)))
}
