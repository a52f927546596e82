//! `GET …/{app_id}/analytics/daywise`: sessions and recordings per UTC day, read from the daily
//! aggregates the store keeps (store/analytics.rs), so any range costs one row a day.
//!
//! Rules (docs/analytics.md): a session counts on the UTC day it started, and its
//! participant-minutes join that day when it ends (a session over midnight is all on its
//! first day; a live session counts, its minutes not yet). A recording counts on the day it was
//! invoked; its recorded minutes (pauses excluded) join that day when it stops.

use axum::extract::State;
use axum::response::Response;
use rtk_api::analytics::{DaywiseAnalytics, RecordingDay, RecordingStats, SessionDay, SessionStats};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::Read;
use super::scope::AppScope;
use super::Query;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::analytics::{day_of, DAY_MS};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(daywise))
}

/// The longest range one report covers, in days: a century (2000-01-01 to 2099-12-31, the
/// years the documented date pattern allows, fit in it).
pub const MAX_DAYS: i64 = 36_525;
/// The default range: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DaywiseQuery {
    /// First day, `YYYY-MM-DD` (UTC). Default: 29 days before `end_date`.
    #[param(pattern = r"^(20\d\d-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8]))?$")]
    start_date: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC), included. Default: today.
    #[param(pattern = r"^(20\d\d-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8]))?$")]
    end_date: Option<String>,
}

/// A `YYYY-MM-DD` parameter as a day number.
fn date_param(v: Option<&str>, name: &str) -> ApiResult<Option<i64>> {
    let Some(v) = v.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let f = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(v, &f).map_err(|_| {
        ApiError::bad_request(format!("invalid query parameter \"{name}\": expected YYYY-MM-DD, got {v:?}"))
    })?;
    Ok(Some(d.midnight().assume_utc().unix_timestamp().div_euclid(86_400)))
}

/// `YYYY-MM-DD` of a day number.
pub(crate) fn day_name(day: i64) -> String {
    crate::clock::rfc3339(day * DAY_MS)[..10].to_string()
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/analytics/daywise", tag = "analytics",
    params(AppScope, DaywiseQuery),
    responses((status = 200, description = "Sessions and recordings per UTC day from `start_date` to `end_date` (every day of the range, zeros included, none when `start_date` is after `end_date`; at most a century, 36,525 days; default the last 30). A session counts on the day it started and its minutes join that day when it ends; a recording counts on the day it was invoked and its minutes join that day when it stops", body = rtk_api::Envelope<DaywiseAnalytics>),
              Read))]
async fn daywise(
    State(s): State<AppState>,
    scope: AppScope,
    Query(q): Query<DaywiseQuery>,
) -> ApiResult<Response> {
    let today = day_of(s.now());
    let end = date_param(q.end_date.as_deref(), "end_date")?;
    let start = date_param(q.start_date.as_deref(), "start_date")?;
    let (start, end) = match (start, end) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, (a + DEFAULT_DAYS - 1).min(today.max(a))),
        (None, Some(b)) => (b - DEFAULT_DAYS + 1, b),
        (None, None) => (today - DEFAULT_DAYS + 1, today),
    };
    // `start_date` after `end_date`: an empty range, no days.
    if end - start + 1 > MAX_DAYS {
        return Err(ApiError::bad_request(format!(
            "invalid query: the range covers {} days; at most {MAX_DAYS}",
            end - start + 1
        )));
    }
    let rows = s.store.daily_stats(&scope.app.id, start, end).await?;
    let mut sessions = SessionStats::default();
    let mut recordings = RecordingStats::default();
    let mut session_ms = 0i64;
    let mut recording_ms = 0i64;
    let mut it = rows.iter().peekable();
    for day in start..=end.max(start - 1) {
        let row = match it.peek() {
            Some(r) if r.day == day => it.next().copied().unwrap_or_default(),
            _ => Default::default(),
        };
        let name = day_name(day);
        sessions.sessions_count += row.sessions;
        session_ms += row.session_ms;
        recordings.recording_count += row.recordings;
        recording_ms += row.recording_ms;
        sessions.day_stats.push(SessionDay {
            day: name.clone(),
            total_sessions: row.sessions,
            total_session_minutes: row.session_ms as f64 / 60_000.0,
        });
        recordings.day_stats.push(RecordingDay {
            day: name,
            total_recordings: row.recordings,
            total_recording_minutes: (row.recording_ms + 30_000).div_euclid(60_000),
        });
    }
    sessions.sessions_minutes_consumed = session_ms as f64 / 60_000.0;
    recordings.recording_minutes_consumed = recording_ms as f64 / 60_000.0;
    Ok(super::ok(DaywiseAnalytics { session_stats: sessions, recording_stats: recordings }))
}
