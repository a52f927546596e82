//! rtk's operational and admin endpoints: health, readiness, the admin clock and reset.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `data` of `GET /healthz` (`ok`) and `GET /readyz` (`ready`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    #[schema(pattern = "^(ok|ready)$")]
    pub status: String,
}

/// What a move of the admin clock applied on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Applied {
    /// Peers ended by heartbeat timeout.
    pub timed_out: u64,
    /// Sessions ended because their keep-alive ran out.
    pub ended: u64,
}

/// `data` of the admin clock endpoints (`/_rtk/clock…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClockState {
    #[schema(format = DateTime)]
    pub now: String,
    /// `now` in milliseconds since the Unix epoch.
    pub now_ms: i64,
    pub applied: Applied,
}

/// Body of `POST /_rtk/clock/advance`: one of the two, from 0 to ten years.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClockAdvance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 316_224_000)]
    pub seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 316_224_000_000_i64)]
    pub milliseconds: Option<f64>,
}

/// Body of `POST /_rtk/clock/set`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClockSet {
    /// An RFC 3339 time, not before the clock's current time.
    #[schema(format = DateTime)]
    pub time: String,
}

/// `data` of `POST /_rtk/reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResetDone {
    pub reset: bool,
    /// What a reset keeps: `accounts`, `api_tokens`.
    pub kept: Vec<String>,
    /// On a server started with `--fixtures`: what re-applying them wrote; `null` otherwise.
    pub fixtures: Option<FixturesApplied>,
}

/// What applying fixtures did (docs/fixtures.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FixturesApplied {
    /// Rows written, by kind (`apps`, `meetings`, …).
    pub inserted: std::collections::BTreeMap<String, u64>,
    /// Entries that were already stored exactly so.
    pub unchanged: u64,
}
