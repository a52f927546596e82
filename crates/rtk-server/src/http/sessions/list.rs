//! The sessions list and one session's details.

use axum::extract::State;
use axum::response::Response;
use rtk_api::sessions::{Session, SessionDetails, SessionList};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{bad_param, breakout_rooms, details_body, find_session, json_bytes, session_view};
use crate::error::{ApiError, ApiResult};
use crate::http::openapi::Read;
use crate::http::scope::{AppScope, SessionPath};
use crate::http::{Page, Path, Query};
use crate::state::AppState;
use crate::store::SessionFilter;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_sessions)).routes(routes!(get_session))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Only sessions of this meeting.
    associated_id: Option<String>,
    /// `LIVE` or `ENDED`.
    #[param(pattern = r"^\s*(LIVE|ENDED)?\s*$")]
    status: Option<String>,
    /// Only sessions started at or after this RFC 3339 time.
    #[param(schema_with = crate::http::openapi::time_query)]
    start_time: Option<String>,
    /// Only sessions started at or before this RFC 3339 time.
    #[param(schema_with = crate::http::openapi::time_query)]
    end_time: Option<String>,
    /// A meeting title (substring, any case), a meeting id or a session id.
    search: Option<String>,
    /// `MIN:MAX`: only sessions that MIN to MAX peers joined (either side may be empty).
    #[param(pattern = r"^\s*(\d*\s*:\s*\d*|\d+)?\s*$")]
    participants: Option<String>,
    /// `createdAt` (default) or `minutesConsumed`.
    #[param(pattern = r"^\s*(createdAt|minutesConsumed)?\s*$")]
    sort_by: Option<String>,
    /// `ASC` or `DESC` (default), any case.
    #[param(pattern = r"^\s*([aA][sS][cC]|[dD][eE][sS][cC])?\s*$")]
    sort_order: Option<String>,
}

fn participants_range(v: Option<&str>) -> ApiResult<Option<(i64, i64)>> {
    let Some(v) = v.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let parse = |x: &str, d: i64| -> ApiResult<i64> {
        let x = x.trim();
        if x.is_empty() {
            return Ok(d);
        }
        x.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad_param("participants", format!("{x:?} is not a count")))
    };
    let (lo, hi) = match v.split_once(':') {
        Some((a, b)) => (parse(a, 0)?, parse(b, i64::MAX)?),
        None => {
            let n = parse(v, 0)?;
            (n, n)
        }
    };
    // MIN above MAX is an empty range: no session has that many peers.
    Ok(Some((lo, hi)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions", tag = "sessions",
    params(AppScope, Page, ListQuery),
    responses((status = 200, description = "`data.sessions`: the app's sessions (newest first by default), with `paging`", body = rtk_api::Envelope<SessionList>),
              Read))]
pub(super) async fn list_sessions(
    State(s): State<AppState>,
    scope: AppScope,
    page: Page,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let live = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("LIVE") => Some(true),
        Some("ENDED") => Some(false),
        Some(o) => return Err(bad_param("status", format!("must be LIVE or ENDED, got {o:?}"))),
    };
    let sort_by_minutes = match q.sort_by.as_deref().map(str::trim) {
        None | Some("") | Some("createdAt") => false,
        Some("minutesConsumed") => true,
        Some(o) => {
            return Err(bad_param("sort_by", format!("must be createdAt or minutesConsumed, got {o:?}")))
        }
    };
    let filter = SessionFilter {
        associated_id: q.associated_id.clone().filter(|x| !x.trim().is_empty()),
        live,
        start_time: crate::http::time_param(q.start_time.as_deref(), "start_time")?,
        end_time: crate::http::time_param(q.end_time.as_deref(), "end_time")?,
        search: q.search.clone().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()),
        participants: participants_range(q.participants.as_deref())?,
        sort_by_minutes,
        descending: crate::http::sort_order(q.sort_order.as_deref(), true)?,
    };
    let now = s.now();
    let (rows, total) =
        s.store.list_sessions(&scope.app.id, &filter, now, page.limit(), page.offset()).await?;
    let sessions: Vec<Session> = rows.iter().map(|r| session_view(r, now)).collect();
    let paging = page.paging(total, sessions.len());
    Ok(crate::http::page_of(SessionList { sessions, extra: Default::default() }, paging))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DetailsQuery {
    /// List the breakout-room (child) sessions under `breakout_rooms`.
    #[serde(default, deserialize_with = "crate::http::de::opt_bool")]
    #[param(value_type = Option<String>, pattern = r"^\s*([tT][rR][uU][eE]|[fF][aA][lL][sS][eE]|1|0)?\s*$")]
    include_breakout_rooms: Option<bool>,
}

/// The seed endpoint. `data.session` is the shape of the seed's SDK generation; the same
/// fields also sit directly under `data` for current SDKs.
#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}", tag = "sessions",
    params(AppScope, SessionPath, DetailsQuery),
    responses((status = 200, description = "The session (flat under `data`, and again as `data.session`)", body = rtk_api::Envelope<SessionDetails>),
              Read))]
pub(super) async fn get_session(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<SessionPath>,
    Query(q): Query<DetailsQuery>,
) -> ApiResult<Response> {
    let session = find_session(&s, &scope.app.id, &p.session_id).await?;
    let now = s.now();
    let mut view = session_view(&session, now);
    if q.include_breakout_rooms == Some(true) {
        view.breakout_rooms = Some(breakout_rooms(&s, &session, now).await?);
    }
    Ok(json_bytes(details_body(&view).map_err(ApiError::internal_because)?))
}
