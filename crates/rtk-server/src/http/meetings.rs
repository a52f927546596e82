//! Meetings: `…/{app_id}/meetings` and `…/meetings/{meeting_id}`.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::apps::find_app;
use super::schema::{errors, MEETING_FIELDS, MEETING_IN, WRITE_ONLY_STORAGE_FIELDS};
use super::{Json, PageParams, Path, Query};
use crate::auth::Account;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{new_id, MeetingFilter, MeetingRow};

pub const DEFAULT_KEEP_ALIVE_SECS: i64 = 60;
pub const MAX_KEEP_ALIVE_SECS: i64 = 600;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_meetings, create_meeting)).routes(routes!(
        get_meeting,
        patch_meeting,
        put_meeting
    ))
}

/// The API view of a meeting.
pub fn meeting_view(m: &MeetingRow) -> Value {
    let mut doc: Map<String, Value> = match serde_json::from_str(&m.body) {
        Ok(Value::Object(d)) => d,
        _ => Map::new(),
    };
    doc.insert("id".into(), m.id.clone().into());
    doc.insert("title".into(), m.title.clone().map(Value::from).unwrap_or(Value::Null));
    doc.insert("status".into(), m.status.clone().into());
    doc.insert("session_keep_alive_time_in_secs".into(), m.keep_alive_secs.into());
    doc.insert("created_at".into(), rfc3339(m.created_at).into());
    doc.insert("updated_at".into(), rfc3339(m.updated_at).into());
    // Secrets of a storage config are write-only.
    if let Some(sc) = doc
        .get_mut("recording_config")
        .and_then(|r| r.get_mut("storage_config"))
        .and_then(Value::as_object_mut)
    {
        for k in WRITE_ONLY_STORAGE_FIELDS {
            sc.remove(*k);
        }
    }
    Value::Object(doc)
}

/// The defaults of a new meeting.
fn defaults() -> Map<String, Value> {
    let v = json!({
        "title": null, "preferred_region": null, "record_on_start": false,
        "live_stream_on_start": false, "persist_chat": false, "summarize_on_end": false,
        "transcribe_on_end": false, "session_keep_alive_time_in_secs": DEFAULT_KEEP_ALIVE_SECS,
        "status": "ACTIVE",
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Validates a body and returns its known fields.
fn known_fields(body: &Value) -> ApiResult<Map<String, Value>> {
    let mut errors = errors(body, &MEETING_IN, true);
    super::limits::text(body, "title", super::limits::NAME_CHARS, &mut errors);
    if let Some(k) = body.get("session_keep_alive_time_in_secs").and_then(Value::as_f64) {
        if k.fract() != 0.0 || !(0.0..=MAX_KEEP_ALIVE_SECS as f64).contains(&k) {
            errors.push(format!(
                "\"session_keep_alive_time_in_secs\" must be a whole number of seconds from 0 to {MAX_KEEP_ALIVE_SECS}"
            ));
        }
    }
    ApiError::check(errors)?;
    let mut out = Map::new();
    if let Some(m) = body.as_object() {
        for k in MEETING_FIELDS {
            if let Some(v) = m.get(*k) {
                out.insert((*k).to_string(), v.clone());
            }
        }
    }
    Ok(out)
}

/// Builds the row from a full document.
fn apply(row: &mut MeetingRow, mut doc: Map<String, Value>) {
    row.title = doc.remove("title").and_then(|v| v.as_str().map(str::to_string));
    if let Some(s) = doc.remove("status").and_then(|v| v.as_str().map(str::to_string)) {
        row.status = s;
    }
    if let Some(k) = doc.remove("session_keep_alive_time_in_secs").and_then(|v| v.as_f64()) {
        row.keep_alive_secs = k as i64;
    }
    row.body = Value::Object(doc).to_string();
}

fn current_doc(row: &MeetingRow) -> Map<String, Value> {
    let mut doc = match serde_json::from_str(&row.body) {
        Ok(Value::Object(d)) => d,
        _ => Map::new(),
    };
    doc.insert("title".into(), row.title.clone().map(Value::from).unwrap_or(Value::Null));
    doc.insert("status".into(), row.status.clone().into());
    doc.insert("session_keep_alive_time_in_secs".into(), row.keep_alive_secs.into());
    doc
}

pub async fn find_meeting(s: &AppState, app_id: &str, id: &str) -> ApiResult<MeetingRow> {
    s.store
        .meeting(app_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No meeting found with id {id}")))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    page_no: Option<f64>,
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    per_page: Option<f64>,
    /// Matches a title (case-insensitive substring) or a meeting id (exact).
    search: Option<String>,
    /// Only meetings created at or after this RFC 3339 time.
    start_time: Option<String>,
    /// Only meetings created at or before this RFC 3339 time.
    end_time: Option<String>,
    status: Option<String>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings", tag = "meetings",
    params(("account_id" = String, Path), ("app_id" = String, Path), ListQuery),
    responses((status = 200, description = "The app's meetings, newest first", body = Object)))]
async fn list_meetings(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let page = PageParams { page_no: q.page_no, per_page: q.per_page }.page()?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(st @ ("ACTIVE" | "INACTIVE")) => Some(st.to_string()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid query parameter \"status\": must be ACTIVE or INACTIVE, got {other:?}"
            )))
        }
    };
    let filter = MeetingFilter {
        search: q.search.clone().filter(|s| !s.trim().is_empty()),
        status,
        start_time: super::time_param(q.start_time.as_deref(), "start_time")?,
        end_time: super::time_param(q.end_time.as_deref(), "end_time")?,
    };
    let app = find_app(&s, &account, &app_id).await?;
    let (rows, total) = s.store.list_meetings(&app.id, &filter, page.limit(), page.offset()).await?;
    Ok(super::page(rows.iter().map(meeting_view).collect(), page, total))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings", tag = "meetings",
    params(("account_id" = String, Path), ("app_id" = String, Path)), request_body = Object,
    responses((status = 201, description = "The new meeting", body = Object),
              (status = 400, description = "Invalid body", body = rtk_api::ErrorEnvelope)))]
async fn create_meeting(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    let given = known_fields(&body)?;
    let mut doc = defaults();
    doc.extend(given);
    let now = s.now();
    let mut row = MeetingRow {
        id: new_id(),
        app_id: app.id,
        title: None,
        status: "ACTIVE".into(),
        keep_alive_secs: DEFAULT_KEEP_ALIVE_SECS,
        body: String::new(),
        parent_meeting_id: None,
        created_at: now,
        updated_at: now,
    };
    apply(&mut row, doc);
    s.store.insert_meeting(&row).await?;
    Ok(super::created(meeting_view(&row)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}", tag = "meetings",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)),
    responses((status = 200, description = "The meeting", body = Object),
              (status = 404, description = "No such meeting", body = rtk_api::ErrorEnvelope)))]
async fn get_meeting(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    Ok(super::ok(meeting_view(&find_meeting(&s, &app.id, &meeting_id).await?)))
}

#[utoipa::path(patch, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}", tag = "meetings",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)), request_body = Object,
    responses((status = 200, description = "The meeting with the given fields changed", body = Object)))]
async fn patch_meeting(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    let given = known_fields(&body)?;
    let mut row = find_meeting(&s, &app.id, &meeting_id).await?;
    let mut doc = current_doc(&row);
    doc.extend(given);
    apply(&mut row, doc);
    row.updated_at = s.now();
    s.store.update_meeting(&row).await?;
    Ok(super::ok(meeting_view(&row)))
}

#[utoipa::path(put, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}", tag = "meetings",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)), request_body = Object,
    responses((status = 200, description = "The meeting, replaced: fields not given take their defaults (status is kept unless given)", body = Object)))]
async fn put_meeting(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    let given = known_fields(&body)?;
    let mut row = find_meeting(&s, &app.id, &meeting_id).await?;
    let mut doc = defaults();
    doc.insert("status".into(), row.status.clone().into());
    doc.extend(given);
    apply(&mut row, doc);
    row.updated_at = s.now();
    s.store.update_meeting(&row).await?;
    Ok(super::ok(meeting_view(&row)))
}
