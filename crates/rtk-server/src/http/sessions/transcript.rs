//! A session's transcript and summary (docs/transcripts.md): `GET …/transcript` (a link in the
//! format asked for), rtk's `POST …/transcript` (segments from the API), `POST …/summary` (a
//! job) and `GET …/summary` (its link); and the files behind the links.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rtk_api::sessions::{SegmentsIn, SegmentsStored, SessionSummary, SessionTranscript, SummaryJob};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::find_session;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::openapi::{Read, WriteConflict};
use crate::http::scope::{AppScope, SessionPath};
use crate::http::{Json, Path, Query};
use crate::state::AppState;
use crate::store::{new_id, SegmentRow};
use crate::transcripts::{link, render, Format, LinkClaims, LINK_TTL_SECS, MAX_SEGMENTS, MAX_SEGMENT_CHARS};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_transcript, add_segments))
        .routes(routes!(get_summary, start_summary))
}

/// The files behind the links (outside the API: the link is the credential).
pub fn file_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/transcripts/{token}", axum::routing::get(transcript_file))
        .route("/summaries/{token}", axum::routing::get(summary_file))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TranscriptQuery {
    /// `SRT`, `VTT`, `JSON` or `CSV` (default), any case.
    #[param(pattern = r"^([sS][rR][tT]|[vV][tT][tT]|[jJ][sS][oO][nN]|[cC][sS][vV])?$")]
    format: Option<String>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/transcript", tag = "sessions",
    params(AppScope, SessionPath, TranscriptQuery),
    responses((status = 200, description = "A signed link (valid for an hour) to the session's transcript in `format` (SRT and VTT timed from the session's start); 404 when the session has no transcript segment", body = rtk_api::Envelope<SessionTranscript>),
              Read))]
async fn get_transcript(
    State(s): State<AppState>,
    scope: AppScope,
    headers: HeaderMap,
    Path(p): Path<SessionPath>,
    Query(q): Query<TranscriptQuery>,
) -> ApiResult<Response> {
    let format = match q.format.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        None => Format::Csv,
        Some(f) => Format::parse(f).ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid query parameter \"format\": must be SRT, VTT, JSON or CSV, got {f:?}"
            ))
        })?,
    };
    let session = find_session(&s, &scope.app.id, &p.session_id).await?;
    if s.store.segment_count(&session.id).await? == 0 {
        return Err(ApiError::not_found(format!("No transcript found for session {}", session.id)));
    }
    let exp = s.now() / 1000 + LINK_TTL_SECS;
    let base = super::chat::download_base(&s.config, &headers);
    let (url, expiry) = link(&s.keys, &base, "transcript", &session.id, Some(format), exp)
        .ok_or_else(|| ApiError::internal_because("no transcript link could be signed"))?;
    Ok(crate::http::ok(SessionTranscript {
        session_id: session.id,
        transcript_download_url: url,
        transcript_download_url_expiry: rfc3339(expiry),
    }))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/transcript", tag = "sessions",
    params(AppScope, SessionPath), request_body = SegmentsIn,
    responses((status = 201, description = "rtk's extension: transcript segments sent by the API (a speech-to-text service of yours), stored as final segments. Each runs `start` to `end` within the session (to now while it is live); at most 1,000 a call and 20,000 a session (409 past it, nothing stored)", body = rtk_api::Envelope<SegmentsStored>),
              WriteConflict))]
async fn add_segments(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<SessionPath>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let session = find_session(&s, &scope.app.id, &p.session_id).await?;
    let Some(list) = body.get("segments").and_then(Value::as_array).filter(|_| body.is_object()) else {
        return Err(ApiError::bad_request("the body must be an object with \"segments\": an array"));
    };
    if list.is_empty() || list.len() > 1000 {
        return Err(ApiError::bad_request("\"segments\" holds 1 to 1000 segments"));
    }
    let now = s.now();
    let st = session.state(now);
    let until = if st.live { now } else { st.ended_at.unwrap_or(now) };
    let mut errors = FieldErrors::new();
    let mut rows: Vec<SegmentRow> = Vec::with_capacity(list.len());
    for (i, seg) in list.iter().enumerate() {
        let at = |k: &str| format!("\"segments[{i}].{k}\"");
        let text = seg.get("text").and_then(Value::as_str).map(str::trim).unwrap_or("");
        if text.is_empty() || text.chars().count() > MAX_SEGMENT_CHARS {
            errors.push(format!("{} must be text of 1 to {MAX_SEGMENT_CHARS} characters", at("text")));
        }
        let time = |k: &str, errors: &mut FieldErrors| match seg
            .get(k)
            .and_then(Value::as_str)
            .and_then(parse_rfc3339)
        {
            Some(t) => Some(t),
            None => {
                errors.push(format!("{} must be an RFC 3339 time", at(k)));
                None
            }
        };
        let (a, b) = (time("start", &mut errors), time("end", &mut errors));
        if let (Some(a), Some(b)) = (a, b) {
            if a > b || a < session.started_at || b > until {
                errors.push(format!(
                    "segments[{i}] must run from \"start\" to \"end\", in order, within the session ({} to {})",
                    rfc3339(session.started_at),
                    rfc3339(until)
                ));
            }
        }
        let participant = match seg.get("participant_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => match s.store.participant(&session.meeting_id, id).await? {
                Some(p) => Some(p),
                _ => {
                    errors.push(format!(
                        "{}: no participant {id:?} in this session's meeting",
                        at("participant_id")
                    ));
                    None
                }
            },
            Some(_) => {
                errors.push(format!("{} must be a string", at("participant_id")));
                None
            }
        };
        let speaker = match seg.get("speaker") {
            Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
            None | Some(Value::Null) => match &participant {
                Some(p) => p.name.clone().unwrap_or_else(|| p.custom_participant_id.clone()),
                None => {
                    errors.push(format!("{} or {} is required", at("speaker"), at("participant_id")));
                    String::new()
                }
            },
            Some(_) => {
                errors.push(format!("{} must be a non-empty string", at("speaker")));
                String::new()
            }
        };
        rows.push(SegmentRow {
            id: new_id(),
            session_id: session.id.clone(),
            peer_id: None,
            participant_id: participant.map(|p| p.id),
            speaker,
            text: text.to_string(),
            start_at: a.unwrap_or(0),
            end_at: b.unwrap_or(0),
            source: "api".into(),
            created_at: now,
        });
    }
    ApiError::check(errors)?;
    if let Err(held) = s.store.insert_segments(&session.id, &rows, MAX_SEGMENTS).await? {
        return Err(ApiError::conflict(format!(
            "session {} holds {held} transcript segments; {} more would pass the {MAX_SEGMENTS} a session keeps",
            session.id,
            rows.len()
        )));
    }
    let total = s.store.segment_count(&session.id).await?;
    Ok(crate::http::created(SegmentsStored {
        session_id: session.id,
        stored: rows.len() as u64,
        total: total as u64,
    }))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/summary", tag = "sessions",
    params(AppScope, SessionPath),
    responses((status = 201, description = "A summary job for the session's transcript, replacing any earlier summary. The built-in summariser (extractive) finishes before the answer (`COMPLETED`); a configured command runs in the background (`PROCESSING`). 409 when the session has no transcript", body = rtk_api::Envelope<SummaryJob>),
              WriteConflict))]
async fn start_summary(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<SessionPath>,
) -> ApiResult<Response> {
    let session = find_session(&s, &scope.app.id, &p.session_id).await?;
    if s.store.segment_count(&session.id).await? == 0 {
        return Err(ApiError::conflict(format!("session {} has no transcript to summarise", session.id)));
    }
    let sums = s.engine.summaries().ok_or_else(|| ApiError::internal_because("no summariser"))?;
    let row = sums.start(&session).await?;
    Ok(crate::http::created(SummaryJob {
        session_id: session.id,
        status: row.status,
        method: row.method,
        error: row.error,
    }))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/summary", tag = "sessions",
    params(AppScope, SessionPath),
    responses((status = 200, description = "A signed link (valid for an hour) to the session's summary (Markdown). 404 while none is ready (never made, still PROCESSING, or FAILED: the message says which)", body = rtk_api::Envelope<SessionSummary>),
              Read))]
async fn get_summary(
    State(s): State<AppState>,
    scope: AppScope,
    headers: HeaderMap,
    Path(p): Path<SessionPath>,
) -> ApiResult<Response> {
    let session = find_session(&s, &scope.app.id, &p.session_id).await?;
    let row = s.store.summary(&session.id).await?;
    match row.as_ref().map(|r| r.status.as_str()) {
        Some("COMPLETED") => {}
        Some("PROCESSING") => {
            return Err(ApiError::not_found(format!(
                "The summary of session {} is still being made",
                session.id
            )))
        }
        Some(_) => {
            let why = row.and_then(|r| r.error).unwrap_or_default();
            return Err(ApiError::not_found(format!("The summary of session {} failed: {why}", session.id)));
        }
        None => return Err(ApiError::not_found(format!("No summary found for session {}", session.id))),
    }
    let exp = s.now() / 1000 + LINK_TTL_SECS;
    let base = super::chat::download_base(&s.config, &headers);
    let (url, expiry) = link(&s.keys, &base, "summary", &session.id, None, exp)
        .ok_or_else(|| ApiError::internal_because("no summary link could be signed"))?;
    Ok(crate::http::ok(SessionSummary {
        session_id: session.id,
        summary_download_url: url,
        summary_download_url_expiry: rfc3339(expiry),
    }))
}

async fn transcript_file(
    State(s): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let c = match crate::http::link_claims::<LinkClaims>(&s, &token, "transcript", |c| c.typ == "transcript")
        .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    let format = c.format.unwrap_or(Format::Csv);
    let session = match s.store.session_any(&c.session_id).await {
        Ok(Some(x)) => x,
        Ok(None) => return ApiError::not_found("no such transcript").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    match s.store.segments(&session.id).await {
        Ok(segs) => (
            [(header::CONTENT_TYPE, format.content_type())],
            render(&session.id, session.started_at, &segs, format),
        )
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn summary_file(
    State(s): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let c = match crate::http::link_claims::<LinkClaims>(&s, &token, "summary", |c| c.typ == "summary").await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    match s.store.summary(&c.session_id).await {
        Ok(Some(r)) if r.status == "COMPLETED" => {
            ([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], r.body.unwrap_or_default())
                .into_response()
        }
        Ok(_) => ApiError::new(StatusCode::GONE, "this summary has been replaced or is no longer stored")
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
