//! Meetings: `…/{app_id}/meetings` and `…/meetings/{meeting_id}`.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use rtk_api::document::Document;
use rtk_api::meetings::{Meeting, MeetingBody};

use super::openapi::{Read, Write};
use super::schema::{errors, MEETING_FIELDS, MEETING_IN, WRITE_ONLY_STORAGE_FIELDS};
use super::scope::{AppScope, MeetingScope};
use super::{Json, Page, Query};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{new_id, MeetingFilter, MeetingRow};

pub use rtk_api::limits::MAX_KEEP_ALIVE_SECS;
pub const DEFAULT_KEEP_ALIVE_SECS: i64 = 60;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_meetings, create_meeting)).routes(routes!(
        get_meeting,
        patch_meeting,
        put_meeting
    ))
}

/// The API view of a meeting: its stored settings as stored, then its own columns.
pub fn meeting_view(m: MeetingRow) -> Meeting {
    Meeting {
        settings: Document::from_text(without_secrets(m.body)),
        id: m.id,
        title: m.title,
        status: Some(m.status),
        session_keep_alive_time_in_secs: Some(m.keep_alive_secs.max(0) as u64),
        created_at: rfc3339(m.created_at),
        updated_at: rfc3339(m.updated_at),
    }
}

/// The settings without the secrets of a storage config, which are write-only. Only a
/// document that has a storage config is parsed.
fn without_secrets(body: String) -> String {
    if !body.contains("\"storage_config\"") {
        return body;
    }
    let mut doc: Map<String, Value> = match serde_json::from_str(&body) {
        Ok(Value::Object(d)) => d,
        _ => return body,
    };
    if let Some(sc) = doc
        .get_mut("recording_config")
        .and_then(|r| r.get_mut("storage_config"))
        .and_then(Value::as_object_mut)
    {
        for k in WRITE_ONLY_STORAGE_FIELDS {
            sc.remove(*k);
        }
    }
    Value::Object(doc).to_string()
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Matches a title (case-insensitive substring) or a meeting id (exact).
    search: Option<String>,
    /// Only meetings created at or after this RFC 3339 time.
    #[param(schema_with = crate::http::openapi::time_query)]
    start_time: Option<String>,
    /// Only meetings created at or before this RFC 3339 time.
    #[param(schema_with = crate::http::openapi::time_query)]
    end_time: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    #[param(pattern = "^(ACTIVE|INACTIVE)?$")]
    status: Option<String>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings", tag = "meetings",
    params(AppScope, Page, ListQuery),
    responses((status = 200, description = "The app's meetings, newest first", body = rtk_api::Envelope<Vec<Meeting>>),
              Read))]
async fn list_meetings(
    State(s): State<AppState>,
    scope: AppScope,
    page: Page,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
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
    let (rows, total) = s.store.list_meetings(&scope.app.id, &filter, page.limit(), page.offset()).await?;
    Ok(super::page(rows.into_iter().map(meeting_view).collect(), page, total))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings", tag = "meetings",
    params(AppScope), request_body = MeetingBody,
    responses((status = 201, description = "The new meeting", body = rtk_api::Envelope<Meeting>),
              Write))]
async fn create_meeting(
    State(s): State<AppState>,
    scope: AppScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let given = known_fields(&body)?;
    let mut doc = defaults();
    doc.extend(given);
    let now = s.now();
    let mut row = MeetingRow {
        id: new_id(),
        app_id: scope.app.id.clone(),
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
    Ok(super::created(meeting_view(row)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}", tag = "meetings",
    params(MeetingScope),
    responses((status = 200, description = "The meeting", body = rtk_api::Envelope<Meeting>),
              Read))]
async fn get_meeting(scope: MeetingScope) -> ApiResult<Response> {
    Ok(super::ok(meeting_view(scope.meeting)))
}

#[utoipa::path(patch, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}", tag = "meetings",
    params(MeetingScope), request_body = MeetingBody,
    responses((status = 200, description = "The meeting with the given fields changed", body = rtk_api::Envelope<Meeting>),
              Write))]
async fn patch_meeting(
    State(s): State<AppState>,
    scope: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let given = known_fields(&body)?;
    let mut row = scope.meeting;
    let mut doc = current_doc(&row);
    doc.extend(given);
    apply(&mut row, doc);
    row.updated_at = s.now();
    s.store.update_meeting(&row).await?;
    Ok(super::ok(meeting_view(row)))
}

#[utoipa::path(put, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}", tag = "meetings",
    params(MeetingScope), request_body = MeetingBody,
    responses((status = 200, description = "The meeting, replaced: fields not given take their defaults (status is kept unless given)", body = rtk_api::Envelope<Meeting>),
              Write))]
async fn put_meeting(
    State(s): State<AppState>,
    scope: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let given = known_fields(&body)?;
    let mut row = scope.meeting;
    let mut doc = defaults();
    doc.insert("status".into(), row.status.clone().into());
    doc.extend(given);
    apply(&mut row, doc);
    row.updated_at = s.now();
    s.store.update_meeting(&row).await?;
    Ok(super::ok(meeting_view(row)))
}
