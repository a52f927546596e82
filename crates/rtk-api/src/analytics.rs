//! `GET …/{app_id}/analytics/daywise`, as the SDKs model it (every field optional there; rtk
//! sends them all).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Sessions that started that day.
    pub total_sessions: i64,
    /// Participant-minutes of those of them that have ended.
    pub total_session_minutes: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionStats {
    pub sessions_count: i64,
    pub sessions_minutes_consumed: f64,
    pub day_stats: Vec<SessionDay>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RecordingDay {
    pub day: String,
    /// Recordings invoked that day.
    pub total_recordings: i64,
    /// Recorded minutes of those of them that have stopped, rounded to the nearest minute
    /// (the SDKs type it an integer).
    pub total_recording_minutes: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RecordingStats {
    pub recording_count: i64,
    /// Exact (fractional) recorded minutes over the range.
    pub recording_minutes_consumed: f64,
    pub day_stats: Vec<RecordingDay>,
}

/// `data` of `GET …/analytics/daywise`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DaywiseAnalytics {
    pub session_stats: SessionStats,
    pub recording_stats: RecordingStats,
}
