//! Presets: `…/{app_id}/presets` and `…/presets/{preset_id}`. The document (config,
//! permissions, ui) is validated for type, stored as given and returned as stored.

use axum::extract::State;
use axum::response::Response;
use rtk_api::document::Document;
use rtk_api::presets::{Preset, PresetSummary};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::{PresetDocument, PresetPatch, Read, WriteConflict};
use super::schema::{errors, merge, PRESET};
use super::scope::{AppScope, PresetPath};
use super::{Json, Page, Path, Query};
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

/// The API view of a preset: the stored document, its name, id and timestamps.
pub fn preset_view(p: PresetRow) -> Preset {
    Preset {
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
        id: p.id,
        name: p.name,
        document: Document::from_text(p.body),
    }
}

fn summary_view(p: &PresetRow) -> PresetSummary {
    PresetSummary {
        id: p.id.clone(),
        name: p.name.clone(),
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
        extra: Default::default(),
    }
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

/// The document as a tree, to merge a patch into: the preset as answered. (The members are
/// inserted in the answer's order so that the merged document stores its members in the
/// order it always has: `stored_body` removes the server's keys again.)
fn current_doc(p: &PresetRow) -> Value {
    let mut doc = match serde_json::from_str(&p.body) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    doc.insert("id".into(), p.id.clone().into());
    doc.insert("name".into(), p.name.clone().into());
    doc.insert("created_at".into(), rfc3339(p.created_at).into());
    doc.insert("updated_at".into(), rfc3339(p.updated_at).into());
    Value::Object(doc)
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
    /// Matches a preset name (case-insensitive substring).
    search: Option<String>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets", tag = "presets",
    params(AppScope, Page, ListQuery),
    responses((status = 200, description = "The app's presets (id, name, timestamps), oldest first", body = rtk_api::Envelope<Vec<PresetSummary>>),
              Read))]
async fn list_presets(
    State(s): State<AppState>,
    scope: AppScope,
    page: Page,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (rows, total) = s.store.list_presets(&scope.app.id, search, page.limit(), page.offset()).await?;
    Ok(super::page(rows.iter().map(summary_view).collect(), page, total))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets", tag = "presets",
    params(AppScope), request_body = PresetDocument,
    responses((status = 201, description = "The new preset", body = rtk_api::Envelope<Preset>),
              WriteConflict))]
async fn create_preset(
    State(s): State<AppState>,
    scope: AppScope,
    Json(doc): Json<Value>,
) -> ApiResult<Response> {
    check(&doc, false)?;
    let now = s.now();
    let name = doc["name"].as_str().unwrap_or_default().trim().to_string();
    let row = PresetRow {
        id: new_id(),
        app_id: scope.app.id.clone(),
        name,
        body: stored_body(doc),
        created_at: now,
        updated_at: now,
    };
    s.store.insert_preset(&row).await?;
    Ok(super::created(preset_view(row)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}", tag = "presets",
    params(AppScope, PresetPath),
    responses((status = 200, description = "The preset document", body = rtk_api::Envelope<Preset>),
              Read))]
async fn get_preset(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<PresetPath>,
) -> ApiResult<Response> {
    Ok(super::ok(preset_view(find_preset(&s, &scope.app.id, &p.preset_id).await?)))
}

#[utoipa::path(patch, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}", tag = "presets",
    params(AppScope, PresetPath), request_body = PresetPatch,
    responses((status = 200, description = "The preset after merging the given fields", body = rtk_api::Envelope<Preset>),
              WriteConflict))]
async fn patch_preset(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<PresetPath>,
    Json(patch): Json<Value>,
) -> ApiResult<Response> {
    check(&patch, true)?;
    let mut row = find_preset(&s, &scope.app.id, &p.preset_id).await?;
    let mut doc = current_doc(&row);
    merge(&mut doc, &patch);
    check(&doc, false)?;
    row.name = doc["name"].as_str().unwrap_or_default().trim().to_string();
    row.body = stored_body(doc);
    row.updated_at = s.now();
    s.store.update_preset(&row).await?;
    Ok(super::ok(preset_view(row)))
}

#[utoipa::path(put, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}", tag = "presets",
    params(AppScope, PresetPath), request_body = PresetDocument,
    responses((status = 200, description = "The preset, replaced by the given document", body = rtk_api::Envelope<Preset>),
              WriteConflict))]
async fn put_preset(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<PresetPath>,
    Json(doc): Json<Value>,
) -> ApiResult<Response> {
    check(&doc, false)?;
    let mut row = find_preset(&s, &scope.app.id, &p.preset_id).await?;
    row.name = doc["name"].as_str().unwrap_or_default().trim().to_string();
    row.body = stored_body(doc);
    row.updated_at = s.now();
    s.store.update_preset(&row).await?;
    Ok(super::ok(preset_view(row)))
}

#[utoipa::path(delete, path = "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}", tag = "presets",
    params(AppScope, PresetPath),
    responses((status = 200, description = "The deleted preset", body = rtk_api::Envelope<Preset>),
              Read))]
async fn delete_preset(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<PresetPath>,
) -> ApiResult<Response> {
    let row = find_preset(&s, &scope.app.id, &p.preset_id).await?;
    if !s.store.delete_preset(&scope.app.id, &p.preset_id).await? {
        return Err(ApiError::not_found(format!("No preset found with id {}", p.preset_id)));
    }
    Ok(super::ok(preset_view(row)))
}
