//! Parameters of each call, shaped like the Go SDK's: the account id plus the call's query
//! or body fields. Path ids other than the account are positional arguments of the method.
//! Optional fields left `None` are not sent.
//!
//! ```
//! use rtk_client::params::{GetSessionDetailsParams, MeetingParams};
//! let p = GetSessionDetailsParams { account_id: "acc".into(), include_breakout_rooms: Some(true) };
//! let m = MeetingParams { title: Some("Weekly sync".into()), ..MeetingParams::new("acc") };
//! # let _ = (p, m);
//! ```

use serde::Serialize;
use serde_json::{Map, Value};

macro_rules! with_account {
    ($($t:ident),* $(,)?) => {$(
        impl $t {
            /// Parameters for `account_id`, every other field unset.
            #[allow(clippy::needless_update)]
            pub fn new(account_id: impl Into<String>) -> Self {
                Self { account_id: account_id.into(), ..Default::default() }
            }
        }
    )*};
}

/// Parameters of list calls: the page to fetch. Auto-paging sets `page_no` itself.
pub trait ListParams: Serialize + Clone + Send + Sync + 'static {
    fn account_id(&self) -> &str;
    fn page_no(&self) -> Option<u32>;
    fn set_page_no(&mut self, page_no: u32);
    fn per_page(&self) -> Option<u32>;
}

macro_rules! list_params {
    ($($t:ident),* $(,)?) => {$(
        impl ListParams for $t {
            fn account_id(&self) -> &str { &self.account_id }
            fn page_no(&self) -> Option<u32> { self.page_no }
            fn set_page_no(&mut self, page_no: u32) { self.page_no = Some(page_no) }
            fn per_page(&self) -> Option<u32> { self.per_page }
        }
    )*};
}

/// Parameters of calls that take nothing but the account.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccountParams {
    #[serde(skip)]
    pub account_id: String,
}

/// `apps().get`: `GET /accounts/{account_id}/realtime/kit/apps`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AppListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
    /// A name (substring, any case) or an app id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// `ASC` (oldest first) or `DESC`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
}

/// `apps().post`: the new app's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AppPostParams {
    #[serde(skip)]
    pub account_id: String,
    pub name: String,
}

/// `presets().get`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PresetListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
}

/// A preset document: `create` and `replace` need `name`, `config`, `permissions` and `ui`;
/// `update` merges whatever is set (deep-partial). `extra` is sent as further members.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PresetParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PresetParams {
    /// A preset document given as JSON (e.g. a file): its known members become the fields,
    /// the rest goes to `extra`. Not an object: an empty document.
    pub fn from_document(account_id: impl Into<String>, doc: Value) -> Self {
        let mut m = match doc {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        PresetParams {
            account_id: account_id.into(),
            name: m.remove("name").and_then(|v| v.as_str().map(str::to_string)),
            config: m.remove("config"),
            permissions: m.remove("permissions"),
            ui: m.remove("ui"),
            extra: m,
        }
    }
}

/// `meetings().get`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MeetingListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
    /// A title (substring, any case) or a meeting id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// RFC 3339: meetings created at or after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// RFC 3339: meetings created at or before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A meeting's fields for `create`, `update_meeting_by_id` (only what is set changes) and
/// `replace_meeting_by_id` (what is not set takes its default).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MeetingParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
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
    pub session_keep_alive_time_in_secs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_config: Option<Value>,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `meetings().get_meeting_participants`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParticipantListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// `meetings().add_participant`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AddParticipantParams {
    #[serde(skip)]
    pub account_id: String,
    /// Your id for this person (unique per meeting is up to you).
    pub custom_participant_id: String,
    /// The name of a preset of the app.
    pub preset_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
}

/// `meetings().edit_participant`: what is set changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EditParticipantParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset_name: Option<String>,
}

/// `sessions().get_sessions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
    /// Only sessions of this meeting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associated_id: Option<String>,
    /// `LIVE` or `ENDED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// `MIN:MAX` peers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participants: Option<String>,
    /// `createdAt` or `minutesConsumed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// `ASC` or `DESC`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
}

/// `sessions().get_session_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GetSessionDetailsParams {
    #[serde(skip)]
    pub account_id: String,
    /// List the breakout-room sessions under `breakout_rooms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_breakout_rooms: Option<bool>,
}

/// `sessions().get_session_participants`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionParticipantListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_peer_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// `joinedAt` or `duration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
    /// `raw` (a row per peer) or `consolidated` (a row per participant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
}

/// `sessions().get_session_participant_details` and
/// `sessions().get_participant_data_from_peer_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionParticipantParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_peer_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<String>,
}

/// `active_session().kick_participants`, `mute_participants`: who, by participant id and/or
/// custom participant id.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParticipantsParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_participant_ids: Option<Vec<String>>,
}

/// `active_session().mute_all_participants`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MuteAllParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_unmute: Option<bool>,
}

/// `active_session().create_poll`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreatePollParams {
    #[serde(skip)]
    pub account_id: String,
    pub question: String,
    pub options: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_votes: Option<bool>,
}

/// One room to open.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BreakoutRoomSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `active_session().create_breakout_rooms`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateBreakoutRoomsParams {
    #[serde(skip)]
    pub account_id: String,
    pub rooms: Vec<BreakoutRoomSpec>,
}

/// `active_session().move_participants`: who moves, from the meeting of the call to
/// `to_meeting_id` (a breakout room of it, a sibling room, or the parent).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MoveParticipantsParams {
    #[serde(skip)]
    pub account_id: String,
    pub to_meeting_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_participant_ids: Option<Vec<String>>,
}

with_account!(
    AccountParams,
    TranscriptParams,
    AnalyticsParams,
    StartRecordingParams,
    TrackRecordingParams,
    RecordingActionParams,
    RecordingListParams,
    AppListParams,
    AppPostParams,
    PresetListParams,
    PresetParams,
    MeetingListParams,
    MeetingParams,
    ParticipantListParams,
    AddParticipantParams,
    EditParticipantParams,
    SessionListParams,
    GetSessionDetailsParams,
    SessionParticipantListParams,
    SessionParticipantParams,
    ParticipantsParams,
    MuteAllParams,
    CreatePollParams,
    CreateBreakoutRoomsParams,
    MoveParticipantsParams,
    WebhookParams,
    EditWebhookParams,
    DeliveryListParams,
    StartLivestreamParams,
    CreateLivestreamParams,
    LivestreamListParams,
    LivestreamSessionListParams,
    LivestreamAnalyticsParams,
);

/// `livestreams().start_livestreaming_a_meeting`: both optional (`name` defaults to the
/// meeting's title).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StartLivestreamParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_config: Option<rtk_api::livestreams::VideoConfig>,
}

/// `livestreams().create_independent_livestream`: a livestream of no meeting.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateLivestreamParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `livestreams().get_all_livestreams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LivestreamListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
    /// One of `INVOKED`, `LIVE`, `IDLE`, `ERRORED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// RFC 3339; on `created_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `true`: only independent livestreams.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_meetings: Option<bool>,
    /// `ASC` or `DSC` (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
}

/// `livestreams().get_livestream_session_for_livestream_id`: a page of its sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LivestreamSessionListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// `livestreams().get_livestream_analytics_complete` and `…_daywise`: Unix seconds, both
/// included (default: the 30 UTC days up to today).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LivestreamAnalyticsParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
}

/// `webhooks().create_webhook` and `replace_webhook`: `name`, `url` and `events` (each one of
/// [`rtk_api::webhooks::EVENTS`]) are required; `enabled` defaults to true on the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WebhookParams {
    #[serde(skip)]
    pub account_id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `webhooks().edit_webhook`: the fields to change; none set sends `{}` (changes nothing).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EditWebhookParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `webhooks().deliveries` (an rtk extension): the delivery log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeliveryListParams {
    #[serde(skip)]
    pub account_id: String,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// 1 to 500 (the server's default: 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `recordings().start_recordings`: `meeting_id` is required; the configurations are JSON
/// objects as the SDKs take them (stored and returned as given; rtk records no media).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StartRecordingParams {
    #[serde(skip)]
    pub account_id: String,
    pub meeting_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_multiple_recordings: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name_prefix: Option<String>,
    /// 60 to 86,400 seconds of recorded time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_config: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_config: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_config: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `recordings().start_track_recording`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrackRecordingParams {
    #[serde(skip)]
    pub account_id: String,
    pub meeting_id: String,
    /// Participant (or custom participant) ids; everyone when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<serde_json::Value>,
}

/// `recordings().pause_resume_stop_recording`: `action` is `stop`, `pause` or `resume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecordingActionParams {
    #[serde(skip)]
    pub account_id: String,
    pub action: String,
}

/// `recordings().get_recordings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecordingListParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting_id: Option<String>,
    /// Any of `INVOKED`, `RECORDING`, `PAUSED`, `UPLOADING`, `UPLOADED`, `ERRORED`.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "comma_list")]
    pub status: Vec<String>,
    /// RFC 3339; on `invoked_time`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired: Option<bool>,
    /// A meeting id or part of a meeting title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// `ASC` or `DESC` (by `invoked_time`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
}

/// `analytics().get_org_analytics`: `YYYY-MM-DD` (UTC) days, both included.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnalyticsParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
}

/// `sessions().get_session_transcripts`: `SRT`, `VTT`, `JSON` or `CSV` (the default).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TranscriptParams {
    #[serde(skip)]
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// A list as one comma-separated query value (the server also reads `status=A&status=B`).
fn comma_list<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.join(","))
}

list_params!(
    RecordingListParams,
    AppListParams,
    PresetListParams,
    MeetingListParams,
    ParticipantListParams,
    SessionListParams,
    SessionParticipantListParams
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_never_sent() {
        let p = GetSessionDetailsParams { account_id: "acc".into(), include_breakout_rooms: Some(true) };
        assert_eq!(serde_urlencoded::to_string(&p).unwrap(), "include_breakout_rooms=true");
        let m = MeetingParams { title: Some("t".into()), ..MeetingParams::new("acc") };
        assert_eq!(serde_json::to_value(&m).unwrap(), serde_json::json!({"title": "t"}));
        let l = AppListParams::new("acc");
        assert_eq!(serde_urlencoded::to_string(&l).unwrap(), "");
    }

    #[test]
    fn an_empty_webhook_edit_is_an_empty_object() {
        assert_eq!(serde_json::to_value(EditWebhookParams::new("acc")).unwrap(), serde_json::json!({}));
        let w = WebhookParams {
            name: "n".into(),
            url: "http://h/x".into(),
            events: vec!["meeting.started".into()],
            ..WebhookParams::new("acc")
        };
        assert_eq!(
            serde_json::to_value(&w).unwrap(),
            serde_json::json!({"name": "n", "url": "http://h/x", "events": ["meeting.started"]})
        );
    }

    #[test]
    fn preset_documents_split_into_fields() {
        let doc = serde_json::json!({"name": "host", "ui": {}, "config": {}, "permissions": {}, "x": 1});
        let p = PresetParams::from_document("acc", doc.clone());
        assert_eq!(p.name.as_deref(), Some("host"));
        assert_eq!(p.extra["x"], 1);
        assert_eq!(serde_json::to_value(&p).unwrap(), doc);
    }
}
