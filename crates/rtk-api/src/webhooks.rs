//! Webhooks: the management API's shapes (`…/{app_id}/webhooks`) and the bodies rtk delivers.
//!
//! The management API is snake_case, as the official SDKs model it (every field of
//! [`Webhook`] is required and never null). Deliveries are camelCase, as Cloudflare documents
//! them; see `docs/webhooks.md`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every event a webhook can subscribe to, in the SDKs' order.
pub const EVENTS: [&str; 9] = [
    "meeting.started",
    "meeting.ended",
    "meeting.participantJoined",
    "meeting.participantLeft",
    "meeting.chatSynced",
    "recording.statusUpdate",
    "livestreaming.statusUpdate",
    "meeting.transcript",
    "meeting.summary",
];

/// A webhook: `POST`/`GET`/`PUT`/`PATCH`/`DELETE …/{app_id}/webhooks[/{webhook_id}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub url: String,
    /// Event names, each one of [`EVENTS`].
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST …/webhooks` and `PUT …/webhooks/{webhook_id}`: `name`, `url` and `events`
/// are required; `enabled` defaults to true. Kept optional here so the server can name every
/// missing field at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WebhookBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// The body of `POST …/webhooks` and `PUT …/webhooks/{webhook_id}` as the API document
/// states it: `name`, `url` and `events` required. (The server reads both through
/// [`WebhookBody`], so that a missing field is named in the error rather than refused whole.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookNew {
    #[schema(schema_with = webhook_name)]
    pub name: String,
    /// An http(s) URL with a host.
    #[schema(schema_with = webhook_url)]
    pub url: String,
    /// The events to deliver (at least one; repeats are kept once).
    #[schema(schema_with = webhook_events)]
    pub events: Vec<String>,
    /// Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

fn webhook_name() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::schema::name(crate::limits::NAME_CHARS)
}

fn webhook_url() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    // A host of letter-led labels (a numeric last label would be read as an IPv4 address),
    // an optional port and a plain path: every string it matches is a URL the API accepts.
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .max_length(Some(crate::limits::URL_CHARS))
        .pattern(Some(
            r"^https?://[A-Za-z][A-Za-z0-9-]{0,30}(\.[A-Za-z][A-Za-z0-9-]{0,30}){0,3}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~-]{0,30}){0,4}$",
        ))
        .build()
}

fn webhook_events() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).enum_values(Some(EVENTS)))
        .min_items(Some(1))
        .build()
}

/// `data` of `GET /.well-known/webhooks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPublicKey {
    /// SPKI PEM of the RSA key that signs deliveries (`rtk-signature`).
    pub public_key: String,
}

/// `GET /.well-known/webhooks.json`: `{"success": true, "data": {"publicKey": …}, "message": ""}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookKeyDocument {
    pub success: bool,
    pub data: WebhookPublicKey,
    pub message: String,
}

/// The `organizedBy` block of a delivery: the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrganizedBy {
    pub id: String,
    pub name: String,
}

/// The `meeting` block of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookMeeting {
    pub id: String,
    pub session_id: String,
    /// The meeting's title; null for an untitled meeting.
    pub title: Option<String>,
    pub room_name: String,
    /// Always `LIVE`, as in every documented example (it does not describe the session).
    pub status: String,
    pub created_at: String,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    pub organized_by: OrganizedBy,
}

/// The `participant` block of a participant event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookParticipant {
    pub peer_id: String,
    pub user_display_name: String,
    pub custom_participant_id: String,
    pub client_specific_id: String,
    pub joined_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at: Option<String>,
}

/// The `recording` block of `recording.statusUpdate`, as Cloudflare documents it (`fileSize` a
/// string, `roomUUID` the session id, `organizationId` the app id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookRecording {
    pub id: String,
    pub recording_id: String,
    pub status: String,
    pub download_url: Option<String>,
    pub audio_download_url: Option<String>,
    pub download_url_expiry: Option<String>,
    pub started_time: Option<String>,
    pub stopped_time: Option<String>,
    pub file_size: Option<String>,
    pub output_file_name: String,
    pub meeting_id: String,
    /// Recorded seconds, pauses excluded (once stopped).
    pub recording_duration: Option<i64>,
    pub organization_id: String,
    #[serde(rename = "roomUUID")]
    pub room_uuid: Option<String>,
    /// rtk's extension: why it stopped (`API_CALL`, `ALL_PEERS_LEFT`, `INTERNAL_ERROR`,
    /// `MAX_SECONDS`), once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
}

/// rtk's extension on session events: the session's counts as of the change the event
/// reports (what `GET …/sessions/{id}` answered right after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookCounts {
    pub live_participants: i64,
    pub max_concurrent_participants: i64,
    /// Peers that ever joined the session.
    pub total_peers: i64,
}

/// A delivery body. Serialised compactly with serde_json, which makes it stable under
/// `JSON.stringify(JSON.parse(body))` (no floats, no integer-like keys, no whitespace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "event")]
pub enum HookEvent {
    #[serde(rename = "meeting.started")]
    MeetingStarted {
        meeting: HookMeeting,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rtk: Option<HookCounts>,
    },
    #[serde(rename = "meeting.ended")]
    MeetingEnded {
        meeting: HookMeeting,
        /// `HOST_ENDED_MEETING` or `ALL_PARTICIPANTS_LEFT`.
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rtk: Option<HookCounts>,
    },
    #[serde(rename = "meeting.participantJoined")]
    ParticipantJoined {
        meeting: HookMeeting,
        participant: HookParticipant,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rtk: Option<HookCounts>,
    },
    #[serde(rename = "meeting.participantLeft")]
    ParticipantLeft {
        meeting: HookMeeting,
        participant: HookParticipant,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rtk: Option<HookCounts>,
    },
    #[serde(rename = "recording.statusUpdate")]
    RecordingStatusUpdate { recording: HookRecording, meeting: HookMeeting },
    #[serde(rename = "meeting.transcript", rename_all = "camelCase")]
    MeetingTranscript {
        meeting: HookMeeting,
        transcript_download_url: String,
        transcript_download_url_expiry: String,
    },
    #[serde(rename = "meeting.summary", rename_all = "camelCase")]
    MeetingSummary { meeting: HookMeeting, summary_download_url: String, summary_download_url_expiry: String },
    /// Flat, as the Cloudflare docs show it: `status` is `LIVE` while ingesting, `OFFLINE`
    /// once stopped, `IDLE` otherwise; `meeting` is absent for an independent livestream (or
    /// a meeting's livestream outside a session). Every rtk ingest is an RTMP push, so
    /// `manualIngest` is always true.
    #[serde(rename = "livestreaming.statusUpdate", rename_all = "camelCase")]
    LivestreamingStatusUpdate {
        stream_id: String,
        status: String,
        manual_ingest: bool,
        playback_url: String,
        ingest_server: String,
        stream_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meeting: Option<HookMeeting>,
    },
    #[serde(rename = "meeting.chatSynced", rename_all = "camelCase")]
    ChatSynced {
        session_id: String,
        meeting_id: String,
        title: Option<String>,
        chat_download_url: String,
        chat_download_url_expiry: String,
        created_at: String,
        started_at: String,
        ended_at: String,
        organized_by: OrganizedBy,
    },
}

impl HookEvent {
    /// The event's name (`event` in the body).
    pub fn name(&self) -> &'static str {
        match self {
            HookEvent::MeetingStarted { .. } => "meeting.started",
            HookEvent::MeetingEnded { .. } => "meeting.ended",
            HookEvent::ParticipantJoined { .. } => "meeting.participantJoined",
            HookEvent::ParticipantLeft { .. } => "meeting.participantLeft",
            HookEvent::ChatSynced { .. } => "meeting.chatSynced",
            HookEvent::RecordingStatusUpdate { .. } => "recording.statusUpdate",
            HookEvent::MeetingTranscript { .. } => "meeting.transcript",
            HookEvent::MeetingSummary { .. } => "meeting.summary",
            HookEvent::LivestreamingStatusUpdate { .. } => "livestreaming.statusUpdate",
        }
    }
}

/// One delivery attempt, as rtk's delivery log reports it (an rtk extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    pub at: String,
    /// The receiver's HTTP status; absent when no answer came (timeout, connection error).
    #[serde(default)]
    pub status: Option<u16>,
    pub latency_ms: u64,
    #[serde(default)]
    pub error: Option<String>,
}

/// One event for one webhook in rtk's delivery log (an rtk extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// The `rtk-uuid` of the event: the same on every attempt and on redelivery.
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    /// `pending`, `delivered`, `failed` or `cancelled` (the webhook was deleted).
    pub state: String,
    pub attempts: u32,
    pub created_at: String,
    /// When the next attempt is due (pending only).
    #[serde(default)]
    pub next_attempt_at: Option<String>,
    #[serde(default)]
    pub last_status: Option<u16>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// The exact body delivered (and signed).
    pub body: String,
    #[serde(default)]
    pub log: Vec<DeliveryAttempt>,
}
