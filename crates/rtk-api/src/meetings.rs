//! Meetings and their participants as the API returns them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A meeting: `POST`/`GET`/`PATCH`/`PUT …/{app_id}/meetings[/{meeting_id}]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Meeting {
    pub id: String,
    pub title: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_on_start: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_stream_on_start: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persist_chat: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summarize_on_end: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcribe_on_end: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_keep_alive_time_in_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_config: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A participant of a meeting. `token` is present where the API issues one (add, edit);
/// `preset_id` where it names it (delete).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MeetingParticipant {
    pub id: String,
    pub custom_participant_id: String,
    pub preset_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset_id: Option<String>,
    pub name: Option<String>,
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `POST …/participants/{participant_id}/token`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParticipantToken {
    pub token: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}
