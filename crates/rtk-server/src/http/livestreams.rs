//! Livestreams: `…/{app_id}/livestreams` (create an independent one, list),
//! `…/livestreams/{livestream_id}` (with its sessions), `…/active-livestream-session`,
//! `…/livestreams/sessions/{id}`, `…/meetings/{meeting_id}/livestreams` (start),
//! `…/meetings/{meeting_id}/active-livestream` (get, `/stop`), the livestream analytics; and
//! the playback stream behind `playback_url` (`/live/{livestream_id}.flv`, outside the API).
//!
//! The media path and what is measured are in docs/livestreams.md.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rtk_api::livestreams::{
    ActiveLivestreamSession, CreatedLivestream, IndependentLivestreamStart, Livestream, LivestreamDay,
    LivestreamPage, LivestreamSession, LivestreamStart, LivestreamStopped, LivestreamTotals,
    LivestreamWithSessions, STATUSES,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::{Read, WriteConflict};
use super::scope::{AppScope, LivestreamPath, LivestreamSessionPath, MeetingScope};
use super::{Json, Page, Path, Query};
use crate::clock::{rfc3339, Millis};
use crate::error::{ApiError, ApiResult};
use crate::livestreams::Livestreams;
use crate::state::AppState;
use crate::store::analytics::DAY_MS;
use crate::store::livestreams::{new_stream_key, whole_seconds};
use crate::store::{new_id, LivestreamFilter, LivestreamRow, LivestreamSessionRow, NewLivestream};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_livestreams, create_independent))
        .routes(routes!(get_livestream))
        .routes(routes!(active_livestream_session))
        .routes(routes!(livestream_session))
        .routes(routes!(start_meeting_livestream))
        .routes(routes!(meeting_active_livestream))
        .routes(routes!(stop_meeting_livestream))
        .routes(routes!(analytics_overall))
        .routes(routes!(analytics_daywise))
}

/// `GET /live/{livestream_id}.flv`: the live stream as HTTP-FLV; `GET /livestream-files/{token}.flv`:
/// a recorded ingest behind its signed link.
pub fn playback_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/live/{file}", axum::routing::get(playback))
        .route("/livestream-files/{file}", axum::routing::get(recording_file))
}

/// Claims of a livestream recording's link.
#[derive(Debug, serde::Serialize, Deserialize)]
pub struct FileClaims {
    pub typ: String,
    pub app_id: String,
    pub livestream_session_id: String,
    pub exp: i64,
}

impl crate::tokens::Expiring for FileClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

const FILE_CLAIM: &str = "livestream_file";

/// The recording of ended session `r`: a signed link, when it expires, and the file's size.
/// `None` when the ingest was not recorded, runs, or its file is not there.
fn recording_link(s: &AppState, r: &LivestreamSessionRow) -> Option<(String, Millis, i64)> {
    let (key, stopped) = (r.recording_key.as_ref()?, r.stopped_at?);
    // A stop through the API ends the session before the publisher's connection has closed
    // and the file is whole: no link until then.
    let writing =
        s.engine.livestreams().and_then(|l| l.live(&r.livestream_id)).is_some_and(|l| l.session_id == r.id);
    if writing {
        return None;
    }
    let size = s.engine.recorder()?.storage().size(key).ok()?;
    let expires = stopped + crate::recordings::DEFAULT_RETENTION_SECS * 1000;
    let claims = FileClaims {
        typ: FILE_CLAIM.into(),
        app_id: r.app_id.clone(),
        livestream_session_id: r.id.clone(),
        exp: expires / 1000,
    };
    let token = s
        .keys
        .sign_loaded(&claims)
        .inspect_err(|e| tracing::error!(error = %e, "cannot sign a livestream recording link"))
        .ok()?;
    Some((format!("{}/livestream-files/{token}.flv", s.config.public_base()), expires, size as i64))
}

fn service(s: &AppState) -> ApiResult<&Livestreams> {
    s.engine.livestreams().ok_or_else(|| {
        ApiError::conflict("livestreaming is off on this server: start rtk with --rtmp-listen 127.0.0.1:1935")
    })
}

pub fn livestream_view(r: &LivestreamRow) -> Livestream {
    Livestream {
        id: r.id.clone(),
        name: r.name.clone(),
        meeting_id: r.meeting_id.clone(),
        status: r.status.clone(),
        ingest_server: r.ingest_server.clone(),
        stream_key: r.stream_key.clone(),
        playback_url: r.playback_url.clone(),
        disabled: r.disabled.to_string(),
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
        extra: Default::default(),
    }
}

/// The API view of session `r` at `now` (open viewers on this node counted).
async fn session_view(s: &AppState, r: &LivestreamSessionRow, now: Millis) -> ApiResult<LivestreamSession> {
    let viewer_ms = match s.engine.livestreams() {
        Some(l) => l.viewer_ms(r).await?,
        None => r.viewer_ms,
    };
    let link = recording_link(s, r);
    Ok(LivestreamSession {
        id: r.id.clone(),
        livestream_id: r.livestream_id.clone(),
        created_at: rfc3339(r.invoked_at),
        updated_at: rfc3339(r.updated_at),
        invoked_time: rfc3339(r.invoked_at),
        started_time: rfc3339(r.started_at),
        stopped_time: r.stopped_at.map(rfc3339),
        ingest_seconds: whole_seconds(r.ingest_ms(now)),
        viewer_seconds: whole_seconds(viewer_ms),
        err_message: r.err_message.clone(),
        recording_url: link.as_ref().map(|(u, _, _)| u.clone()),
        recording_url_expiry: link.as_ref().map(|(_, e, _)| rfc3339(*e)),
        recording_file_size: link.map(|(_, _, n)| n),
        extra: Default::default(),
    })
}

async fn find_livestream(s: &AppState, app_id: &str, id: &str) -> ApiResult<LivestreamRow> {
    s.store
        .livestream(app_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No livestream found with id {id}")))
}

/// `name` of a start body: absent, null or a string of at most 255 characters.
fn name_of(body: &Value) -> ApiResult<Option<String>> {
    if !body.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    match body.get("name") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(n)) if n.chars().count() <= 255 => Ok(Some(n.clone())),
        Some(Value::String(_)) => Err(ApiError::bad_request("\"name\" is longer than 255 characters")),
        Some(other) => Err(ApiError::bad_request(format!("\"name\" must be a string or null, got {other}"))),
    }
}

fn new_livestream(
    svc: &Livestreams,
    app_id: &str,
    meeting_id: Option<String>,
    name: Option<String>,
    video_config: String,
) -> NewLivestream {
    let id = new_id();
    let (ingest_server, playback_url) = svc.urls(&id);
    NewLivestream {
        id,
        app_id: app_id.to_string(),
        meeting_id,
        name,
        stream_key: new_stream_key(),
        ingest_server,
        playback_url,
        video_config,
        start_reason: "API_CALL".into(),
    }
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/livestreams", tag = "livestreams",
    params(AppScope), request_body = IndependentLivestreamStart,
    responses((status = 201, description = "An independent livestream (`INVOKED`): publish RTMP to `ingest_server` + `stream_key`, play `playback_url` (HTTP-FLV). `disabled` is a boolean here, as the SDK types it. 409 when livestreaming is off on this server", body = rtk_api::Envelope<CreatedLivestream>),
              WriteConflict))]
async fn create_independent(
    State(s): State<AppState>,
    scope: AppScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let name = name_of(&body)?;
    let svc = service(&s)?;
    let n = new_livestream(svc, &scope.app.id, None, name, "{}".into());
    let r = s.store.create_livestream(&n, s.now()).await?;
    Ok(super::created(CreatedLivestream::from(livestream_view(&r))))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/livestreams", tag = "livestreams",
    params(MeetingScope), request_body = LivestreamStart,
    responses((status = 201, description = "The meeting's livestream (`INVOKED`), tied to its live session if it has one (it stops when that session ends). 409 when the meeting already livestreams, or livestreaming is off", body = rtk_api::Envelope<Livestream>),
              WriteConflict))]
async fn start_meeting_livestream(
    State(s): State<AppState>,
    scope: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let name = name_of(&body)?;
    let video_config = match body.get("video_config") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let ok = matches!(k.as_str(), "height" | "width")
                    && v.as_i64().is_some_and(|n| (1..=10_000).contains(&n));
                if !ok {
                    return Err(ApiError::bad_request(format!(
                        "\"video_config.{k}\" must be height or width, an integer from 1 to 10000"
                    )));
                }
            }
            Value::Object(m.clone())
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!("\"video_config\" must be an object, got {other}")))
        }
    };
    let svc = service(&s)?;
    let n =
        new_livestream(svc, &scope.app.id, Some(scope.meeting.id.clone()), name, video_config.to_string());
    let r = s.store.create_livestream(&n, s.now()).await?;
    Ok(super::created(livestream_view(&r)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-livestream", tag = "livestreams",
    params(MeetingScope),
    responses((status = 200, description = "The meeting's running (not stopped) livestream; 404 when it has none", body = rtk_api::Envelope<Livestream>),
              Read))]
async fn meeting_active_livestream(State(s): State<AppState>, scope: MeetingScope) -> ApiResult<Response> {
    let r = s.store.active_livestream(&scope.app.id, &scope.meeting.id).await?.ok_or_else(|| {
        ApiError::not_found(format!("No active livestream found for meeting {}", scope.meeting.id))
    })?;
    Ok(super::ok(livestream_view(&r)))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-livestream/stop", tag = "livestreams",
    params(MeetingScope),
    responses((status = 200, description = "Stops the meeting's livestream: its ingest ends now, its key is refused from then on (status IDLE, `disabled` \"true\"); 404 when it has none running", body = rtk_api::Envelope<LivestreamStopped>),
              Read))]
async fn stop_meeting_livestream(State(s): State<AppState>, scope: MeetingScope) -> ApiResult<Response> {
    let r = s.store.stop_livestream(&scope.app.id, &scope.meeting.id, s.now()).await?;
    if let Some(l) = s.engine.livestreams() {
        l.kick(&r.id);
    }
    Ok(super::ok(LivestreamStopped { message: format!("Livestream {} stopped", r.id) }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only livestreams with this status.
    #[param(pattern = r"^(LIVE|IDLE|ERRORED|INVOKED)?$")]
    status: Option<String>,
    /// Only livestreams created at or after this RFC 3339 time.
    #[param(schema_with = crate::http::openapi::time_query)]
    start_time: Option<String>,
    /// Only livestreams created at or before this RFC 3339 time.
    #[param(schema_with = crate::http::openapi::time_query)]
    end_time: Option<String>,
    /// `true`: only independent livestreams (none of a meeting).
    #[param(pattern = r"^(true|false)?$")]
    exclude_meetings: Option<String>,
    /// `ASC` or `DSC` (default; `DESC` also works), any case.
    #[param(pattern = r"^\s*([aA][sS][cC]|[dD][sS][cC]|[dD][eE][sS][cC])?\s*$")]
    sort_order: Option<String>,
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/livestreams", tag = "livestreams",
    params(AppScope, Page, ListQuery),
    responses((status = 200, description = "A page of the app's livestreams by creation time (newest first by default) in `data.livestreams`, and `data.paging`. The SDKs model `data` as one livestream: its fields are also the page's first livestream's", body = rtk_api::Envelope<LivestreamPage>),
              Read))]
async fn list_livestreams(
    State(s): State<AppState>,
    scope: AppScope,
    page: Page,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let bad =
        |name: &str, why: String| ApiError::bad_request(format!("invalid query parameter \"{name}\": {why}"));
    let status = match q.status.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) if STATUSES.contains(&v) => Some(v.to_string()),
        Some(v) => return Err(bad("status", format!("must be one of {}, got {v:?}", STATUSES.join(", ")))),
    };
    let exclude_meetings = match q.exclude_meetings.as_deref().map(str::trim) {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(v) => return Err(bad("exclude_meetings", format!("must be true or false, got {v:?}"))),
    };
    let descending = match q.sort_order.as_deref().map(str::trim) {
        None | Some("") => true,
        Some(o) if o.eq_ignore_ascii_case("asc") => false,
        Some(o) if o.eq_ignore_ascii_case("dsc") || o.eq_ignore_ascii_case("desc") => true,
        Some(o) => return Err(bad("sort_order", format!("must be ASC or DSC, got {o:?}"))),
    };
    let f = LivestreamFilter {
        status,
        start_time: super::time_param(q.start_time.as_deref(), "start_time")?,
        end_time: super::time_param(q.end_time.as_deref(), "end_time")?,
        exclude_meetings,
        descending,
    };
    let (rows, total) = s.store.list_livestreams(&scope.app.id, &f, page.limit(), page.offset()).await?;
    let items: Vec<Livestream> = rows.iter().map(livestream_view).collect();
    let paging = page.paging(total, items.len());
    Ok(super::page_of(LivestreamPage { first: items.first().cloned(), livestreams: items, paging }, paging))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/livestreams/{livestream_id}", tag = "livestreams",
    params(AppScope, LivestreamPath, Page),
    responses((status = 200, description = "The livestream and a page of its sessions (ingests), newest first: `sessions` holds the page, `session` its first (null when it has none)", body = rtk_api::Envelope<LivestreamWithSessions>),
              Read))]
async fn get_livestream(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<LivestreamPath>,
    page: Page,
) -> ApiResult<Response> {
    let r = find_livestream(&s, &scope.app.id, &p.livestream_id).await?;
    let (rows, total) = s.store.livestream_sessions(&r.id, page.limit(), page.offset()).await?;
    let now = s.now();
    let mut sessions = Vec::with_capacity(rows.len());
    for row in &rows {
        sessions.push(session_view(&s, row, now).await?);
    }
    let paging = page.paging(total, sessions.len());
    Ok(super::ok(LivestreamWithSessions {
        livestream: livestream_view(&r),
        session: sessions.first().cloned(),
        sessions,
        paging,
    }))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/livestreams/{livestream_id}/active-livestream-session", tag = "livestreams",
    params(AppScope, LivestreamPath),
    responses((status = 200, description = "The livestream and its running ingest (seconds as strings, as the SDKs type them here); 404 when it is not live", body = rtk_api::Envelope<ActiveLivestreamSession>),
              Read))]
async fn active_livestream_session(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<LivestreamPath>,
) -> ApiResult<Response> {
    let r = find_livestream(&s, &scope.app.id, &p.livestream_id).await?;
    let open = s.store.open_livestream_session(&r.id).await?.ok_or_else(|| {
        ApiError::not_found(format!("No active livestream session found for livestream {}", r.id))
    })?;
    let session = session_view(&s, &open, s.now()).await?;
    Ok(super::ok(ActiveLivestreamSession { livestream: livestream_view(&r), session: session.into() }))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/livestreams/sessions/{livestream_session_id}", tag = "livestreams",
    params(AppScope, LivestreamSessionPath),
    responses((status = 200, description = "One livestream session (ingest)", body = rtk_api::Envelope<LivestreamSession>),
              Read))]
async fn livestream_session(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<LivestreamSessionPath>,
) -> ApiResult<Response> {
    let r = s.store.livestream_session(&scope.app.id, &p.livestream_session_id).await?.ok_or_else(|| {
        ApiError::not_found(format!("No livestream session found with id {}", p.livestream_session_id))
    })?;
    Ok(super::ok(session_view(&s, &r, s.now()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RangeQuery {
    /// Start of the range: Unix seconds (as Python 5.9.0 and TypeScript send it) or an RFC 3339
    /// time (as Python 5.0.0 does); default: the start of the 30 UTC days that end on `end_time`'s day.
    #[param(schema_with = crate::http::openapi::unix_or_time_query)]
    start_time: Option<String>,
    /// End of the range, included: Unix seconds or an RFC 3339 time (default: now).
    #[param(schema_with = crate::http::openapi::unix_or_time_query)]
    end_time: Option<String>,
    /// Accepted and ignored (rtk has no livestream filters).
    #[allow(dead_code)]
    filters: Option<String>,
}

/// The range `[from, to]` (ms) of a query; `to < from` is an empty range.
fn range(q: &RangeQuery, now: Millis) -> ApiResult<(Millis, Millis)> {
    // (ms, whether it was whole seconds: then `end_time` includes its whole second)
    let time = |v: Option<&str>, name: &str| -> ApiResult<Option<(Millis, bool)>> {
        let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
        if v.bytes().all(|b| b.is_ascii_digit()) {
            // Past the year 9999 is as good as the year 9999 (the pattern allows 12 digits).
            let n = v.parse::<i64>().unwrap_or(i64::MAX).min(253_402_300_799);
            return Ok(Some((n * 1000, true)));
        }
        match super::time_param(Some(v), name) {
            Ok(Some(ms)) => Ok(Some((ms, false))),
            _ => Err(ApiError::bad_request(format!(
                "invalid query parameter \"{name}\": expected Unix seconds or an RFC 3339 time, got {v:?}"
            ))),
        }
    };
    let to = match time(q.end_time.as_deref(), "end_time")? {
        Some((ms, true)) => ms + 999,
        Some((ms, false)) => ms,
        None => now,
    };
    // By default the 30 UTC days that end with `to`'s day, as analytics/daywise.
    let from = time(q.start_time.as_deref(), "start_time")?
        .map(|(ms, _)| ms)
        .unwrap_or((to.div_euclid(DAY_MS) - 29) * DAY_MS);
    Ok((from, to))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/analytics/livestreams/overall", tag = "livestreams",
    params(AppScope, RangeQuery),
    responses((status = 200, description = "Livestream sessions (ingests) that started in the range: their count, ingest seconds and viewer seconds (each session's whole seconds, summed)", body = rtk_api::Envelope<LivestreamTotals>),
              Read))]
async fn analytics_overall(
    State(s): State<AppState>,
    scope: AppScope,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Response> {
    let now = s.now();
    let (from, to) = range(&q, now)?;
    let days = s.store.livestream_days(&scope.app.id, from, to, now).await?;
    let mut t = LivestreamTotals::default();
    for d in days {
        t.count += d.count;
        t.total_ingest_seconds += d.ingest_seconds;
        t.total_viewer_seconds += d.viewer_seconds;
    }
    Ok(super::ok(t))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/analytics/livestreams/daywise", tag = "livestreams",
    params(AppScope, RangeQuery),
    responses((status = 200, description = "The same figures per UTC day the sessions started on, every day of the range (zeros included; a range of more than 36,525 days answers its last 36,525)", body = rtk_api::Envelope<Vec<LivestreamDay>>),
              Read))]
async fn analytics_daywise(
    State(s): State<AppState>,
    scope: AppScope,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Response> {
    let now = s.now();
    let (from, to) = range(&q, now)?;
    let last = to.div_euclid(DAY_MS);
    // A range longer than the most days an answer holds is its last MAX_DAYS days (every
    // time the parameters allow is valid; the days before are the same zeros or sessions
    // nobody can have streamed).
    let first = from.div_euclid(DAY_MS).max(last - super::analytics::MAX_DAYS + 1);
    let from = from.max(first * DAY_MS);
    let rows = s.store.livestream_days(&scope.app.id, from, to, now).await?;
    let mut it = rows.iter().peekable();
    let mut out = vec![];
    for day in first..=last.max(first - 1) {
        let row = match it.peek() {
            Some(r) if r.day == day => it.next().copied().unwrap_or_default(),
            _ => Default::default(),
        };
        out.push(LivestreamDay {
            date: super::analytics::day_name(day),
            count: row.count,
            total_ingest_seconds: row.ingest_seconds,
            total_viewer_seconds: row.viewer_seconds,
        });
    }
    Ok(super::ok(out))
}

/// The live stream behind a `playback_url`, as HTTP-FLV: the header, the stream's
/// configuration and the tags since the last keyframe, then the stream as it arrives, until
/// the ingest ends (or this viewer falls too far behind).
async fn playback(
    State(s): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let Some(id) = file.strip_suffix(".flv") else {
        return ApiError::not_found("no such livestream: playback URLs end with .flv").into_response();
    };
    let Some(svc) = s.engine.livestreams() else {
        return ApiError::not_found("livestreaming is off on this server").into_response();
    };
    let viewer = match svc.watch(id) {
        Ok(v) => v,
        Err(crate::livestreams::WatchError::NotLive) => {
            return ApiError::not_found(format!("livestream {id} is not live")).into_response();
        }
        Err(crate::livestreams::WatchError::Full(n)) => {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("livestream {id} has its {n} viewers"),
            )
            .into_response();
        }
    };
    let prelude = viewer.prelude.clone();
    let first = futures_util::stream::iter(prelude.into_iter().map(Ok::<_, std::convert::Infallible>));
    let rest =
        futures_util::stream::unfold(viewer, |mut v| async move { v.next().await.map(|t| (Ok(t), v)) });
    let body = axum::body::Body::from_stream(futures_util::StreamExt::chain(first, rest));
    ([(header::CONTENT_TYPE, "video/x-flv"), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// A recorded ingest behind its signed link (`recording_url`), as an FLV file: 404 for a link
/// that is not one, 410 once it has expired.
async fn recording_file(
    State(s): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let Some(token) = file.strip_suffix(".flv") else {
        return ApiError::not_found("no such livestream recording").into_response();
    };
    let c: FileClaims =
        match super::link_claims(&s, token, "livestream recording", |c: &FileClaims| c.typ == FILE_CLAIM)
            .await
        {
            Ok(c) => c,
            Err(r) => return r,
        };
    let row = match s.store.livestream_session(&c.app_id, &c.livestream_session_id).await {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (Some(key), Some(recorder)) = (row.and_then(|r| r.recording_key), s.engine.recorder()) else {
        return ApiError::not_found("no such livestream recording").into_response();
    };
    let storage = recorder.storage().clone();
    let opened = tokio::task::spawn_blocking(move || storage.open(&key)).await;
    let (reader, len) = match opened {
        Ok(Ok(o)) => o,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return ApiError::not_found("this livestream recording is gone").into_response();
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read a livestream recording");
            return ApiError::internal().into_response();
        }
        Err(_) => return ApiError::internal().into_response(),
    };
    // Read in 64 KiB chunks off the async threads.
    let chunks = futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let n = std::io::Read::read(&mut reader, &mut buf);
            (reader, buf, n)
        })
        .await;
        match read {
            Ok((_, _, Ok(0))) => None,
            Ok((reader, mut buf, Ok(n))) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), Some(reader)))
            }
            Ok((_, _, Err(e))) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    (
        [
            (header::CONTENT_TYPE, "video/x-flv".to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.flv\"", c.livestream_session_id),
            ),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response()
}
