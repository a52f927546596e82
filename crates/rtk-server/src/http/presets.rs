//! Presets: `…/{app_id}/presets` and `…/presets/{preset_id}`. The document (config,
//! permissions, ui) is validated for type, stored as given and returned faithfully.

use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::apps::find_app;
use super::schema::{errors, merge, PRESET};
use super::{Json, PageParams, Path, Query};
use crate::auth::Account;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{new_id, PresetRow};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_presets, create_preset)).routes(routes!(
        get_preset,
        patch_preset,
        put_preset,
        delete_preset
    ))
}

/// The API view of a preset: the stored document with `id`, `name` and timestamps.
pub fn preset_view(p: &PresetRow) -> Value {
    let mut doc: Map<String, Value> = match serde_json::from_str(&p.body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    doc.insert("id".into(), p.id.clone().into());
    doc.insert("name".into(), p.name.clone().into());
    doc.insert("created_at".into(), rfc3339(p.created_at).into());
    doc.insert("updated_at".into(), rfc3339(p.updated_at).into());
    Value::Object(doc)
}

fn summary_view(p: &PresetRow) -> Value {
    serde_json::json!({
        "id": p.id, "name": p.name,
        "created_at": rfc3339(p.created_at), "updated_at": rfc3339(p.updated_at),
    })
}

/// Validates a whole document; `name` must be a non-empty string.
fn check(doc: &Value, partial: bool) -> ApiResult<()> {
    let mut errors = errors(doc, &PRESET, partial);
    super::limits::text(doc, "name", super::limits::NAME_CHARS, &mut errors);
    if let Some(name) = doc.get("name").and_then(Value::as_str) {
        if name.trim().is_empty() {
            errors.push("\"name\" must not be empty");
        }
    }
    ApiError::check(errors)
}

/// The document as stored: everything but the server-owned keys.
fn stored_body(mut doc: Value) -> String {
    if let Some(m) = doc.as_object_mut() {
        for k in ["id", "created_at", "updated_at", "app_id", "account_id"] {
            m.remove(k);
        }
    }
    doc.to_string()
}

async fn find_preset(s: &AppState, app_id: &str, id: &str) -> ApiResult<PresetRow> {
    s.store
        .preset(app_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No preset found with id {id}")))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    page_no: Option<f64>,
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    per_page: Option<f64>,
    /// Matches a preset name (case-insensitive substring).
    search: Option<String>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets", tag = "presets",
    params(("account_id" = String, Path), ("app_id" = String, Path), ListQuery),
    responses((status = 200, description = "The app's presets (id, name, timestamps), oldest first", body = Object)))]
async fn list_presets(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let page = PageParams { page_no: q.page_no, per_page: q.per_page }.page()?;
    let app = find_app(&s, &account, &app_id).await?;
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (rows, total) = s.store.list_presets(&app.id, search, page.limit(), page.offset()).await?;
    Ok(super::page(rows.iter().map(summary_view).collect(), page, total))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets", tag = "presets",
    params(("account_id" = String, Path), ("app_id" = String, Path)), request_body = Object,
    responses((status = 201, description = "The new preset", body = Object),
              (status = 400, description = "Invalid document; every bad field is named", body = rtk_api::ErrorEnvelope),
              (status = 409, description = "A preset with this name exists", body = rtk_api::ErrorEnvelope)))]
async fn create_preset(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id)): Path<(String, String)>,
    Json(doc): Json<Value>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    check(&doc, false)?;
    let now = s.now();
    let name = doc["name"].as_str().unwrap_or_default().trim().to_string();
    let row = PresetRow {
        id: new_id(),
        app_id: app.id,
        name,
        body: stored_body(doc),
        created_at: now,
        updated_at: now,
    };
    s.store.insert_preset(&row).await?;
    Ok(super::created(preset_view(&row)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}", tag = "presets",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("preset_id" = String, Path)),
    responses((status = 200, description = "The preset document", body = Object),
              (status = 404, description = "No such preset", body = rtk_api::ErrorEnvelope)))]
async fn get_preset(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, preset_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    Ok(super::ok(preset_view(&find_preset(&s, &app.id, &preset_id).await?)))
}

#[utoipa::path(patch, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}", tag = "presets",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("preset_id" = String, Path)), request_body = Object,
    responses((status = 200, description = "The preset after merging the given fields", body = Object)))]
async fn patch_preset(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, preset_id)): Path<(String, String, String)>,
    Json(patch): Json<Value>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    check(&patch, true)?;
    let mut row = find_preset(&s, &app.id, &preset_id).await?;
    let mut doc = preset_view(&row);
    merge(&mut doc, &patch);
    check(&doc, false)?;
    row.name = doc["name"].as_str().unwrap_or_default().trim().to_string();
    row.body = stored_body(doc);
    row.updated_at = s.now();
    s.store.update_preset(&row).await?;
    Ok(super::ok(preset_view(&row)))
}

#[utoipa::path(put, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}", tag = "presets",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("preset_id" = String, Path)), request_body = Object,
    responses((status = 200, description = "The preset, replaced by the given document", body = Object)))]
async fn put_preset(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, preset_id)): Path<(String, String, String)>,
    Json(doc): Json<Value>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    check(&doc, false)?;
    let mut row = find_preset(&s, &app.id, &preset_id).await?;
    row.name = doc["name"].as_str().unwrap_or_default().trim().to_string();
    row.body = stored_body(doc);
    row.updated_at = s.now();
    s.store.update_preset(&row).await?;
    Ok(super::ok(preset_view(&row)))
}

#[utoipa::path(delete, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}", tag = "presets",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("preset_id" = String, Path)),
    responses((status = 200, description = "The deleted preset", body = Object)))]
async fn delete_preset(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, preset_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    let row = find_preset(&s, &app.id, &preset_id).await?;
    if !s.store.delete_preset(&app.id, &preset_id).await? {
        return Err(ApiError::not_found(format!("No preset found with id {preset_id}")));
    }
    Ok(super::ok(preset_view(&row)))
}
