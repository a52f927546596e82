//! Recordings (`…/{app_id}/recordings`), as Python `cloudflare` 5.0.0 / 5.9.0 and TypeScript
//! 7.3.0 model them: the nullable fields are always present (null when unknown), as the
//! TypeScript declarations require; `recording_duration` only once the recording has started.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::meetings::Meeting;

/// Every status, in the SDKs' order.
pub const STATUSES: [&str; 6] = ["INVOKED", "RECORDING", "UPLOADING", "UPLOADED", "ERRORED", "PAUSED"];

/// Who started or stopped a recording: the app (`ORGANIZATION`) for API calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RecordingCaller {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `ORGANIZATION` or `USER`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(rename = "user_Id", skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `start_reason` / `stop_reason`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RecordingReason {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<RecordingCaller>,
    /// Start: `API_CALL` or `RECORD_ON_START`. Stop: `API_CALL`, `ALL_PEERS_LEFT` or
    /// `INTERNAL_ERROR`; absent when `max_seconds` stopped it (RealtimeKit names no reason for
    /// that; `rtk_reason` says `MAX_SECONDS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// rtk's extension: `MAX_SECONDS` when the recording reached its `max_seconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtk_reason: Option<String>,
}

/// A recording: the answer of start, get, the PUT actions and the active recording, and the
/// items of the list (those add `meeting`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Recording {
    pub id: String,
    /// Always null: rtk records no audio.
    pub audio_download_url: Option<String>,
    /// A signed rtk link to the recording's file (the session's timeline, JSON; the same link
    /// with `.vtt` serves it as WebVTT), once UPLOADED.
    pub download_url: Option<String>,
    #[schema(format = DateTime)]
    pub download_url_expiry: Option<String>,
    /// Bytes of the JSON file, once UPLOADED.
    pub file_size: Option<f64>,
    #[schema(format = DateTime)]
    pub invoked_time: String,
    pub output_file_name: String,
    pub session_id: Option<String>,
    #[schema(format = DateTime)]
    pub started_time: Option<String>,
    /// One of [`STATUSES`].
    pub status: String,
    #[schema(format = DateTime)]
    pub stopped_time: Option<String>,
    /// Recorded seconds, pauses excluded (up to now while it runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_duration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_reason: Option<RecordingReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<RecordingReason>,
    /// As given at the start, secrets removed; null when none was given. rtk keeps the
    /// recording in its own storage whatever this says.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub storage_config: Option<Value>,
    /// The meeting (list items only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting: Option<Meeting>,
    /// rtk's extension: `composite` or `track`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtk_kind: Option<String>,
    /// rtk's extension: why the file could not be written (ERRORED).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub err_message: Option<String>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// Body of `PUT …/recordings/{recording_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordingActionBody {
    /// `stop`, `pause` or `resume`.
    #[schema(pattern = "^(stop|pause|resume)$")]
    pub action: String,
}

/// `data` of `POST …/recordings/track` (Python 5.9.0, TypeScript 7.3.0).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TrackRecording {
    pub recording: Recording,
}
