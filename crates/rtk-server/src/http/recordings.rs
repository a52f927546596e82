//! Recordings: `…/{app_id}/recordings` (start, list), `…/recordings/track`,
//! `…/recordings/{recording_id}` (get, `PUT` stop / pause / resume),
//! `…/recordings/active-recording/{meeting_id}`; and the files behind their download links
//! (`/recording-files/{token}`, outside the API: the link is the credential).
//!
//! What a recording holds, and how its states move, is in docs/recordings.md.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rtk_api::recordings::{
    Recording, RecordingActionBody, RecordingCaller, RecordingReason, TrackRecording, STATUSES,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::{Read, WriteConflict};
use super::schema::{errors, RECORDING_START, TRACK_RECORDING_START};
use super::scope::{find_meeting, AppScope, MeetingScope, RecordingPath};
use super::{Json, Page, Path};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::recordings::{FileClaims, FILE_CLAIM};
use crate::state::AppState;
use crate::store::recordings::{output_file_name, stop, without_secrets};
use crate::store::{new_id, NewRecording, RecordingAction, RecordingFilter, RecordingRow};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_recordings, start_recording))
        .routes(routes!(start_track_recording))
        .routes(routes!(get_recording, act_on_recording))
        .routes(routes!(active_recording))
}

/// `GET /recording-files/{token}` (JSON) and `/recording-files/{token}.vtt` (WebVTT).
pub fn file_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/recording-files/{token}", axum::routing::get(recording_file))
}

fn organization() -> RecordingCaller {
    RecordingCaller { kind: Some("ORGANIZATION".into()), ..Default::default() }
}

/// The API view of `r` at `now`.
pub fn recording_view(s: &AppState, r: &RecordingRow, now: crate::clock::Millis) -> Recording {
    let config: Value = serde_json::from_str(&r.config).unwrap_or(Value::Null);
    let link = s.engine.recorder().and_then(|rec| rec.link(r, false));
    let start_reason = Some(match r.start_reason.as_str() {
        "API_CALL" => RecordingReason {
            reason: Some("API_CALL".into()),
            caller: Some(organization()),
            rtk_reason: None,
        },
        other => RecordingReason { reason: Some(other.into()), ..Default::default() },
    });
    let stop_reason = r.stop_reason.as_deref().map(|reason| match reason {
        stop::API_CALL => {
            RecordingReason { reason: Some(reason.into()), caller: Some(organization()), rtk_reason: None }
        }
        stop::MAX_SECONDS => RecordingReason { rtk_reason: Some(reason.into()), ..Default::default() },
        other => RecordingReason { reason: Some(other.into()), ..Default::default() },
    });
    Recording {
        id: r.id.clone(),
        audio_download_url: None,
        download_url: link.as_ref().map(|(u, _)| u.clone()),
        download_url_expiry: link.as_ref().map(|(_, e)| rfc3339(*e)),
        file_size: r.file_size.map(|n| n as f64),
        invoked_time: rfc3339(r.invoked_at),
        output_file_name: r.output_file_name.clone(),
        session_id: r.session_id.clone(),
        started_time: r.started_at.map(rfc3339),
        status: r.status.clone(),
        stopped_time: r.stopped_at.map(rfc3339),
        recording_duration: r.recorded_ms(now).map(|ms| ms / 1000),
        start_reason,
        stop_reason,
        storage_config: config.get("storage_config").filter(|v| v.is_object()).cloned(),
        meeting: None,
        rtk_kind: Some(r.kind.clone()),
        err_message: r.err_message.clone(),
        extra: Default::default(),
    }
}

async fn find_recording(s: &AppState, app_id: &str, id: &str) -> ApiResult<RecordingRow> {
    s.store
        .recording(app_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No recording found with id {id}")))
}

/// The body as a JSON object checked against `schema` (every bad field named).
fn checked_body(body: Value, schema: &super::schema::S) -> ApiResult<serde_json::Map<String, Value>> {
    if !body.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    ApiError::check(errors(&body, schema, false))?;
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request("the body must be a JSON object")),
    }
}

/// Starts a recording of `meeting_id`'s live session, then lets the recorder attach; the
/// recording as invoked.
async fn start(s: &AppState, n: NewRecording) -> ApiResult<RecordingRow> {
    let now = s.now();
    let row = s.store.start_recording(&n, now).await?;
    s.engine.recorder_catch_up().await;
    Ok(row)
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/recordings", tag = "recordings",
    params(AppScope), request_body = super::openapi::RecordingStart,
    responses((status = 201, description = "The recording as invoked (`INVOKED`; the recorder attaches before the answer is sent, so a read right after shows `RECORDING`). 409 when the meeting has no live session, or a recording running and `allow_multiple_recordings` is not true", body = rtk_api::Envelope<Recording>),
              WriteConflict))]
async fn start_recording(
    State(s): State<AppState>,
    scope: AppScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let mut body = checked_body(body, &RECORDING_START)?;
    let meeting_id = body.get("meeting_id").and_then(Value::as_str).unwrap_or_default().to_string();
    find_meeting(&s, &scope.app.id, &meeting_id).await?;
    let allow_multiple = body.get("allow_multiple_recordings").and_then(Value::as_bool).unwrap_or(false);
    let max_seconds = body.get("max_seconds").and_then(Value::as_f64).map(|v| v as i64);
    let id = new_id();
    let file = output_file_name(body.get("file_name_prefix").and_then(Value::as_str), &id);
    body.remove("meeting_id");
    let mut config = Value::Object(body);
    without_secrets(&mut config);
    let n = NewRecording {
        id,
        app_id: scope.app.id.clone(),
        meeting_id,
        kind: "composite".into(),
        max_seconds,
        start_reason: "API_CALL".into(),
        output_file_name: file,
        config: config.to_string(),
        allow_multiple,
    };
    let row = start(&s, n).await?;
    Ok(super::created(recording_view(&s, &row, s.now())))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/recordings/track", tag = "recordings",
    params(AppScope), request_body = super::openapi::TrackRecordingStart,
    responses((status = 201, description = "`data.recording`: a track recording, as invoked. rtk records no media: its file is the timeline of the participants in `user_ids` (participant or custom participant ids; all when absent)", body = rtk_api::Envelope<TrackRecording>),
              WriteConflict))]
async fn start_track_recording(
    State(s): State<AppState>,
    scope: AppScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let mut body = checked_body(body, &TRACK_RECORDING_START)?;
    let meeting_id = body.get("meeting_id").and_then(Value::as_str).unwrap_or_default().to_string();
    find_meeting(&s, &scope.app.id, &meeting_id).await?;
    body.remove("meeting_id");
    let id = new_id();
    let prefix = body
        .get("layers")
        .and_then(Value::as_object)
        .and_then(|l| l.values().find_map(|v| v.get("file_name_prefix").and_then(Value::as_str)))
        .map(String::from);
    let n = NewRecording {
        output_file_name: output_file_name(prefix.as_deref(), &id),
        id,
        app_id: scope.app.id.clone(),
        meeting_id,
        kind: "track".into(),
        max_seconds: None,
        start_reason: "API_CALL".into(),
        config: Value::Object(body).to_string(),
        // Track recordings sit beside the meeting's composite one.
        allow_multiple: true,
    };
    let row = start(&s, n).await?;
    Ok(super::created(TrackRecording { recording: recording_view(&s, &row, s.now()) }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only recordings of this meeting.
    meeting_id: Option<String>,
    /// Only recordings invoked at or after this RFC 3339 time.
    #[param(schema_with = crate::http::openapi::time_query)]
    start_time: Option<String>,
    /// Only recordings invoked at or before this RFC 3339 time.
    #[param(schema_with = crate::http::openapi::time_query)]
    end_time: Option<String>,
    /// `true`: only recordings whose download has expired; `false`: only the others.
    #[param(pattern = r"^(true|false)?$")]
    expired: Option<String>,
    /// A meeting id, or part of a meeting title (any case).
    search: Option<String>,
    /// `invokedTime` (the only order).
    #[param(pattern = r"^(invokedTime)?$")]
    sort_by: Option<String>,
    /// `ASC` or `DESC` (default), any case.
    #[param(pattern = r"^\s*([aA][sS][cC]|[dD][eE][sS][cC])?\s*$")]
    sort_order: Option<String>,
    /// One or more statuses (`status=A&status=B`, as the SDKs send them; commas also work).
    /// (Read from the query by `statuses`: serde reads no repeated key.)
    #[param(schema_with = status_param)]
    #[serde(default)]
    #[allow(dead_code)]
    status: Option<String>,
}

fn status_param() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::ArrayBuilder;
    ArrayBuilder::new().items(rtk_api::schema::one_of_strings(&STATUSES)).into()
}

/// The `status` values of a query string (`status=…` repeated, `status[]=…`, or commas).
fn statuses(query: Option<&str>) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = vec![];
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k != "status" && k != "status[]" {
            continue;
        }
        for one in v.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let up = one.to_ascii_uppercase();
            if !STATUSES.contains(&up.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "invalid query parameter \"status\": {one:?} is not a recording status (one of {})",
                    STATUSES.join(", ")
                )));
            }
            if !out.contains(&up) {
                out.push(up);
            }
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/recordings", tag = "recordings",
    params(AppScope, Page, ListQuery),
    responses((status = 200, description = "The app's recordings by invocation time (newest first by default), each with its `meeting`, and `paging`", body = rtk_api::Envelope<Vec<Recording>>),
              Read))]
async fn list_recordings(
    State(s): State<AppState>,
    scope: AppScope,
    page: Page,
    uri: axum::http::Uri,
) -> ApiResult<Response> {
    // The query without its `status` values (they repeat), read as the other parameters.
    let rest: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .filter(|(k, _)| k != "status" && k != "status[]"),
        )
        .finish();
    let q: ListQuery = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(
        form_urlencoded::parse(rest.as_bytes()),
    ))
    .map_err(|e| ApiError::bad_request(format!("invalid query parameter \"{}\": {}", e.path(), e.inner())))?;
    let bad =
        |name: &str, why: &str| ApiError::bad_request(format!("invalid query parameter \"{name}\": {why}"));
    if let Some(by) = q.sort_by.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        if by != "invokedTime" {
            return Err(bad("sort_by", &format!("must be invokedTime, got {by:?}")));
        }
    }
    let expired = match q.expired.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return Err(bad("expired", &format!("must be true or false, got {other:?}"))),
    };
    let f = RecordingFilter {
        meeting_id: q.meeting_id.filter(|m| !m.is_empty()),
        statuses: statuses(uri.query())?,
        start_time: super::time_param(q.start_time.as_deref(), "start_time")?,
        end_time: super::time_param(q.end_time.as_deref(), "end_time")?,
        expired,
        search: q.search.map(|x| x.trim().to_string()).filter(|x| !x.is_empty()),
        descending: super::sort_order(q.sort_order.as_deref(), true)?,
    };
    let now = s.now();
    let (rows, total) = s.store.list_recordings(&scope.app.id, &f, now, page.limit(), page.offset()).await?;
    let mut meetings: std::collections::HashMap<String, Option<rtk_api::meetings::Meeting>> =
        Default::default();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if !meetings.contains_key(&r.meeting_id) {
            let m = s.store.meeting(&scope.app.id, &r.meeting_id).await?.map(super::meetings::meeting_view);
            meetings.insert(r.meeting_id.clone(), m);
        }
        let mut v = recording_view(&s, r, now);
        v.meeting = meetings.get(&r.meeting_id).cloned().flatten();
        out.push(v);
    }
    Ok(super::page(out, page, total))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/recordings/{recording_id}", tag = "recordings",
    params(AppScope, RecordingPath),
    responses((status = 200, description = "The recording", body = rtk_api::Envelope<Recording>),
              Read))]
async fn get_recording(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<RecordingPath>,
) -> ApiResult<Response> {
    let r = find_recording(&s, &scope.app.id, &p.recording_id).await?;
    Ok(super::ok(recording_view(&s, &r, s.now())))
}

#[utoipa::path(put, path = "/accounts/{account_id}/realtime/kit/{app_id}/recordings/{recording_id}", tag = "recordings",
    params(AppScope, RecordingPath), request_body = RecordingActionBody,
    responses((status = 200, description = "The recording after the action: `pause` (RECORDING → PAUSED), `resume` (PAUSED → RECORDING), `stop` (→ UPLOADING; a read right after shows UPLOADED once its file is stored). 409, naming its state, when the action does not apply", body = rtk_api::Envelope<Recording>),
              WriteConflict))]
async fn act_on_recording(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<RecordingPath>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let action = match body.get("action") {
        _ if !body.is_object() => return Err(ApiError::bad_request("the body must be a JSON object")),
        None => return Err(ApiError::bad_request("\"action\" is required")),
        Some(Value::String(a)) => match a.as_str() {
            "stop" => RecordingAction::Stop,
            "pause" => RecordingAction::Pause,
            "resume" => RecordingAction::Resume,
            other => {
                return Err(ApiError::bad_request(format!(
                    "\"action\" must be stop, pause or resume, got {other:?}"
                )))
            }
        },
        Some(other) => {
            return Err(ApiError::bad_request(format!("\"action\" must be a string, got {other}")))
        }
    };
    let now = s.now();
    let row = s.store.act_on_recording(&scope.app.id, &p.recording_id, action, now).await?;
    if action == RecordingAction::Stop {
        s.engine.recorder_catch_up().await;
    }
    Ok(super::ok(recording_view(&s, &row, now)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/recordings/active-recording/{meeting_id}", tag = "recordings",
    params(MeetingScope),
    responses((status = 200, description = "The meeting's running recording (INVOKED, RECORDING or PAUSED; the oldest composite one, else the oldest track one); 404 when none runs", body = rtk_api::Envelope<Recording>),
              Read))]
async fn active_recording(State(s): State<AppState>, scope: MeetingScope) -> ApiResult<Response> {
    let r = s.store.active_recording(&scope.app.id, &scope.meeting.id).await?.ok_or_else(|| {
        ApiError::not_found(format!("No active recording found for meeting {}", scope.meeting.id))
    })?;
    Ok(super::ok(recording_view(&s, &r, s.now())))
}

/// The file behind a recording's download link.
async fn recording_file(
    State(s): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let (token, vtt) = match token.strip_suffix(".vtt") {
        Some(t) => (t, true),
        None => (token.trim_end_matches(".json"), false),
    };
    let claims =
        match super::link_claims::<FileClaims>(&s, token, "recording file", |c| c.typ == FILE_CLAIM).await {
            Ok(c) => c,
            Err(r) => return r,
        };
    let row = match s.store.recording_by_id(&claims.recording_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return ApiError::not_found("no such recording file").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (Some(key), Some(rec)) = (row.storage_key.as_deref(), s.engine.recorder()) else {
        return ApiError::not_found("no such recording file").into_response();
    };
    let (name, kind) = if vtt {
        (format!("{key}.vtt"), "text/vtt; charset=utf-8")
    } else {
        (format!("{key}.json"), "application/json")
    };
    match rec.storage().get(&name) {
        Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ApiError::new(StatusCode::GONE, "this recording's file is no longer stored").into_response()
        }
        Err(e) => ApiError::internal_because(format_args!("reading a recording file: {e}")).into_response(),
    }
}
