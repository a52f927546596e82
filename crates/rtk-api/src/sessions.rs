//! Sessions (live or ended meetings) and the people in them, as the API returns them.
//! Timestamps here are RFC 3339 strings, as everywhere; counts read leniently.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::document::RawJson;
use crate::lenient::{count, null_default, present};

/// A session: an occurrence of a meeting, from its first join until it ends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Session {
    pub id: String,
    /// The meeting id.
    pub associated_id: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_display_name: String,
    /// The app id.
    pub organization_id: String,
    /// `meeting`, `livestream` or `participant` (rtk: always `meeting`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `LIVE` or `ENDED`.
    #[schema(pattern = "^(LIVE|ENDED)$")]
    pub status: String,
    #[serde(deserialize_with = "count")]
    pub live_participants: u64,
    #[serde(deserialize_with = "count")]
    pub max_concurrent_participants: u64,
    pub minutes_consumed: f64,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub ended_at: Option<String>,
    /// Metadata of the session: `{}`, or `{"recordings": […]}` once it has been recorded
    /// (see [`SessionMeta`]).
    #[schema(value_type = SessionMeta)]
    pub meta: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_session_id: Option<String>,
    /// Breakout-room sessions (child sessions), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub breakout_rooms: Option<Vec<Session>>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A session's metadata: `{}` until the session is recorded, then `{"recordings": […]}`, its
/// recordings oldest first, each `{id, status, invoked_time, started_time, stopped_time,
/// output_file_name, recording_duration}` (times RFC 3339 or null; the duration in seconds,
/// pauses excluded, once stopped). Also a peer report's `quality` (always `{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {}

impl utoipa::__dev::ComposeSchema for SessionMeta {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use crate::schema;
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder};
        let nullable_time = || schema::nullable(schema::time());
        let recording = ObjectBuilder::new()
            .property("id", schema::string())
            .property(
                "status",
                schema::one_of_strings(&[
                    "INVOKED",
                    "RECORDING",
                    "PAUSED",
                    "UPLOADING",
                    "UPLOADED",
                    "ERRORED",
                ]),
            )
            .property("invoked_time", schema::time())
            .property("started_time", nullable_time())
            .property("stopped_time", nullable_time())
            .property("output_file_name", schema::string())
            .property("recording_duration", schema::nullable(schema::integer(0, i64::MAX)));
        ObjectBuilder::new()
            .description(Some("`{}`, or the session's recordings once it has been recorded."))
            .property("recordings", ArrayBuilder::new().items(recording))
            .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::<
                utoipa::openapi::schema::Schema,
            >::FreeForm(false)))
            .into()
    }
}

impl ToSchema for SessionMeta {}

impl Session {
    pub fn is_live(&self) -> bool {
        self.status == "LIVE"
    }
}

/// `data` of `GET …/{app_id}/sessions`: `{"sessions": […]}` (paging is beside `data`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionList {
    pub sessions: Vec<Session>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `GET …/{app_id}/sessions/{session_id}`: the session. Written in both
/// generations of the API at once — the session's fields flat under `data` (current SDKs),
/// then the same object again as `data.session` (the seed's) — and read from either.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionDetails {
    pub session: Session,
    /// Members of `data` that are neither `session` nor a field of it.
    pub extra: Map<String, Value>,
}

impl Serialize for SessionDetails {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Both<'a> {
            #[serde(flatten)]
            flat: &'a Session,
            session: &'a Session,
            #[serde(flatten)]
            extra: &'a Map<String, Value>,
        }
        Both { flat: &self.session, session: &self.session, extra: &self.extra }.serialize(s)
    }
}

impl utoipa::__dev::ComposeSchema for SessionDetails {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::AllOfBuilder;
        let session = crate::schema::component("Session");
        let nested = utoipa::openapi::schema::ObjectBuilder::new()
            .property("session", session.clone())
            .required("session");
        AllOfBuilder::new()
            .description(Some(
                "The session's fields, and the same session again as `session` (older SDKs read that).",
            ))
            .item(session)
            .item(nested)
            .into()
    }
}

impl ToSchema for SessionDetails {}

impl<'de> Deserialize<'de> for SessionDetails {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut data = Map::<String, Value>::deserialize(d)?;
        let session: Session = match data.remove("session") {
            Some(s @ Value::Object(_)) => serde_json::from_value(s).map_err(D::Error::custom)?,
            _ => serde_json::from_value(Value::Object(data.clone())).map_err(D::Error::custom)?,
        };
        // What is left once the flat copy of the session is taken away.
        let known = serde_json::to_value(&session).map_err(D::Error::custom)?;
        let known = known.as_object().cloned().unwrap_or_default();
        data.retain(|k, _| !known.contains_key(k) && !session.extra.contains_key(k));
        for k in ["ended_at", "breakout_rooms", "parent_session_id", "type", "meta"] {
            data.remove(k);
        }
        Ok(SessionDetails { session, extra: data })
    }
}

/// rtk: a peer's lost connection (`GET /_rtk/…/sessions/{session_id}/peer-gaps`, the
/// dashboard's peer timeline): when it dropped and, if it came back, when it resumed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PeerGap {
    pub peer_id: String,
    #[schema(format = DateTime)]
    pub dropped_at: String,
    /// `null` while (or if) it did not come back.
    #[schema(format = DateTime)]
    pub resumed_at: Option<String>,
}

/// A join or leave of a peer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PeerEvent {
    pub id: String,
    /// `PEER_JOINING` or `PEER_LEAVING`.
    pub event_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub participant_id: String,
    pub peer_id: String,
    pub session_id: String,
    pub minutes_consumed: f64,
    /// Why the peer left (on `PEER_LEAVING`; `null` when not recorded).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub reason: Option<Option<String>>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// Someone who was in a session: one peer (`view=raw`) or one participant's peers together
/// (`view=consolidated`). `duration` is in minutes. The details and peer-report endpoints add
/// their sections (`peer_stats`, `role`, `peer_report`, `device`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionParticipant {
    /// The peer id.
    pub id: String,
    /// The meeting participant's id.
    pub user_id: String,
    /// The meeting participant's id (as `user_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub custom_participant_id: String,
    #[serde(deserialize_with = "null_default")]
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[schema(format = DateTime)]
    pub joined_at: String,
    #[schema(format = DateTime)]
    pub left_at: Option<String>,
    pub duration: f64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_events: Option<Vec<PeerEvent>>,
    /// The peer's preset (peer report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Participant details: the device the peer joined from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_stats: Option<PeerStats>,
    /// Peer report: the device and browser the peer joined from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_report: Option<PeerReport>,
    /// The device metadata the peer sent with `join`, as sent (`null` when it sent none), on
    /// the details and peer-report endpoints.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    #[schema(value_type = Option<Device>)]
    pub device: Option<Option<RawJson>>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// The device metadata a peer sent with `join`: any JSON the client sent, kept as sent (the
/// SDKs send an object with `os`, `browser`, … keys).
pub struct Device;

impl utoipa::__dev::ComposeSchema for Device {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
            .description(Some("The device metadata the peer sent with `join`, as sent: usually an object with `os`, `os_version`, `cpus`, `is_mobile`, `browser`, `browser_version`, `engine`, `user_agent`."))
            .into()
    }
}

impl ToSchema for Device {}

/// The known device keys of a peer's `device`, where they have the right type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeviceInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub cpus: Option<serde_json::Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_mobile: Option<bool>,
}

/// The known browser keys of a peer's `device`, where they are strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct BrowserMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// `peer_stats` of participant details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PeerStats {
    pub device_info: DeviceInfo,
}

/// `peer_report` of the peer report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PeerReport {
    pub metadata: PeerMetadata,
    /// Call quality (rtk measures none: always `{}`).
    #[schema(value_type = SessionMeta)]
    pub quality: Map<String, Value>,
}

/// `peer_report.metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PeerMetadata {
    pub device_info: DeviceInfo,
    pub browser_metadata: BrowserMetadata,
}

/// `data` of `GET …/sessions/{session_id}/participants`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionParticipants {
    pub participants: Vec<SessionParticipant>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `GET …/sessions/{session_id}/participants/{participant_id}` and of
/// `GET …/sessions/peer-report/{peer_id}`: `{"participant": {…}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionParticipantDetails {
    pub participant: SessionParticipant,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A chat message of a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ChatMessage {
    pub id: String,
    pub peer_id: String,
    pub participant_id: String,
    pub display_name: Option<String>,
    pub message: String,
    #[schema(format = DateTime)]
    pub sent_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `GET …/sessions/{session_id}/chat`: a CSV download link and its expiry; rtk
/// also lists the messages inline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionChat {
    /// A link to a CSV of every message (the link is the credential; valid for an hour).
    pub chat_download_url: String,
    #[schema(format = DateTime)]
    pub chat_download_url_expiry: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ChatMessage>>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session() -> Value {
        json!({"id": "s1", "associated_id": "m1", "meeting_display_name": "x", "organization_id": "a1",
               "type": "meeting", "status": "LIVE", "live_participants": 2, "max_concurrent_participants": 3.0,
               "minutes_consumed": 1.5, "started_at": "t", "created_at": "t", "updated_at": "t",
               "a_newer_field": true})
    }

    #[test]
    fn details_read_both_generations() {
        let nested: SessionDetails = serde_json::from_value(json!({"session": session()})).unwrap();
        let mut flat = session();
        flat["session"] = session();
        let both: SessionDetails = serde_json::from_value(flat).unwrap();
        let current: SessionDetails = serde_json::from_value(session()).unwrap();
        for d in [&nested, &both, &current] {
            assert_eq!(d.session.id, "s1");
            assert_eq!(d.session.max_concurrent_participants, 3);
            assert_eq!(d.session.extra["a_newer_field"], true);
            assert!(d.extra.is_empty(), "{:?}", d.extra);
        }
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let s: Session = serde_json::from_value(session()).unwrap();
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["a_newer_field"], true);
        assert_eq!(back["type"], "meeting");
    }
}

/// `data` of `GET …/sessions/{session_id}/transcript` (the SDKs' mixed case: `sessionId`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionTranscript {
    #[serde(rename = "sessionId")]
    pub session_id: String,
    /// A signed link to the transcript in the format asked for (valid for an hour).
    pub transcript_download_url: String,
    #[schema(format = DateTime)]
    pub transcript_download_url_expiry: String,
}

/// `data` of `GET …/sessions/{session_id}/summary` (camelCase, as the SDKs model it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionSummary {
    pub session_id: String,
    /// A signed link to the summary (Markdown, valid for an hour).
    pub summary_download_url: String,
    #[schema(format = DateTime)]
    pub summary_download_url_expiry: String,
}

/// `data` of `POST …/sessions/{session_id}/summary`: the job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SummaryJob {
    pub session_id: String,
    /// `PROCESSING`, `COMPLETED` or `FAILED`.
    pub status: String,
    /// rtk's extension: `extractive` (built in) or `command`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// rtk's extension: why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A transcript segment as `POST …/sessions/{session_id}/transcript` (rtk's extension) takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SegmentIn {
    /// Who spoke: a display name (or give `participant_id` and rtk takes the participant's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// A participant of the session's meeting (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<String>,
    pub text: String,
    /// RFC 3339, within the session.
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
}

/// Body of `POST …/sessions/{session_id}/transcript` (rtk's extension).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SegmentsIn {
    pub segments: Vec<SegmentIn>,
}

/// Answer of `POST …/sessions/{session_id}/transcript`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SegmentsStored {
    pub session_id: String,
    /// Segments stored by this call.
    pub stored: u64,
    /// Segments the session holds now.
    pub total: u64,
}
