//! What the active-session endpoints answer and take: kick, mute, kick-all, mute-all, polls,
//! and rtk's breakout rooms.

use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::lenient::{count, opt_count};
use crate::meetings::Meeting;
use crate::sessions::Session;

/// A participant named by a kick or mute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ActedParticipant {
    pub id: String,
    pub custom_participant_id: String,
    pub name: Option<String>,
    pub picture: Option<String>,
    pub preset_name: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `…/active-session/kick` and `…/mute`: the participants acted on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ParticipantsAction {
    /// `kick` or `mute`.
    pub action: String,
    pub participants: Vec<ActedParticipant>,
    /// Peers removed (kick).
    #[serde(deserialize_with = "opt_count", skip_serializing_if = "Option::is_none")]
    pub kicked_peers_count: Option<u64>,
    /// Peers told they are muted (mute).
    #[serde(deserialize_with = "opt_count", skip_serializing_if = "Option::is_none")]
    pub muted_peers_count: Option<u64>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `…/active-session/kick-all` and `…/mute-all`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SessionAction {
    /// `kick-all` or `mute-all`.
    pub action: String,
    #[serde(deserialize_with = "opt_count", skip_serializing_if = "Option::is_none")]
    pub kicked_participants_count: Option<u64>,
    #[serde(deserialize_with = "opt_count", skip_serializing_if = "Option::is_none")]
    pub muted_participants_count: Option<u64>,
    /// The session that ended (kick-all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// One choice of a poll.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PollOption {
    pub text: String,
    #[serde(deserialize_with = "count")]
    pub count: u64,
    /// Who voted for it (rtk records no votes: always empty).
    pub votes: Vec<String>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A poll shown to every peer of a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Poll {
    pub id: String,
    pub question: String,
    pub options: Vec<PollOption>,
    pub anonymous: bool,
    pub hide_votes: bool,
    /// `api` for polls made through the REST API.
    pub created_by: Option<String>,
    /// Who voted (rtk records no votes: always empty).
    pub voted: Vec<String>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `…/active-session/poll`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PollCreated {
    pub action: String,
    pub poll: Poll,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// A breakout room: a child meeting of a meeting (all of a meeting's fields), with its live
/// session where it has one. On the wire: the meeting, then `session` (listing only), then
/// `parent_meeting_id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakoutRoom {
    /// The room's meeting (participants move to its id).
    pub meeting: Meeting,
    /// Listing: the room's live session (`Some(None)` when none is live); absent on create.
    pub session: Option<Option<Session>>,
    pub parent_meeting_id: Option<String>,
}

impl Serialize for BreakoutRoom {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.meeting.write(&mut m)?;
        if let Some(session) = &self.session {
            m.serialize_entry("session", session)?;
        }
        m.serialize_entry("parent_meeting_id", &self.parent_meeting_id)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for BreakoutRoom {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut m = Map::<String, Value>::deserialize(d)?;
        let session = match m.remove("session") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(v) => Some(Some(serde_json::from_value(v).map_err(D::Error::custom)?)),
        };
        let parent_meeting_id = m.remove("parent_meeting_id").and_then(|v| v.as_str().map(str::to_string));
        Ok(BreakoutRoom { meeting: Meeting::from_map::<D::Error>(m)?, session, parent_meeting_id })
    }
}

impl utoipa::__dev::ComposeSchema for BreakoutRoom {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use crate::schema::{component, nullable, string};
        Meeting::schema_builder()
            .description(Some("A breakout room: a child meeting, with its live session when listed."))
            .property("session", nullable(component("Session")))
            .property("parent_meeting_id", string())
            .required("parent_meeting_id")
            .into()
    }
}

impl ToSchema for BreakoutRoom {}

/// `data` of `GET`/`POST …/active-session/breakout-rooms`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct BreakoutRooms {
    pub breakout_rooms: Vec<BreakoutRoom>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// One participant moved between a meeting and a breakout room: it left as `from_peer_id`
/// and is `peer_id` in `session_id` of `meeting_id` now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MovedParticipant {
    pub participant_id: String,
    pub from_peer_id: String,
    pub from_session_id: String,
    pub peer_id: String,
    pub session_id: String,
    pub meeting_id: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `…/active-session/breakout-rooms/move`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MoveResult {
    pub action: String,
    pub moved: Vec<MovedParticipant>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// Body of kick and mute: the participants, by id and/or custom id (at least one of the two
/// lists non-empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_participant_ids: Option<Vec<String>>,
}

/// Body of mute-all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MuteAll {
    /// Accepted for compatibility; rtk leaves unmuting to the peers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_unmute: Option<bool>,
}

/// Body of `…/active-session/poll`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatePoll {
    #[schema(schema_with = question)]
    pub question: String,
    /// 2 to 50 choices, each at most 256 characters.
    #[schema(schema_with = poll_options)]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub anonymous: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub hide_votes: Option<bool>,
}

fn question() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::schema::name(crate::limits::POLL_QUESTION_CHARS)
}

fn poll_options() -> utoipa::openapi::schema::Array {
    use crate::limits::{POLL_OPTIONS_MAX, POLL_OPTION_CHARS};
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(crate::schema::text(0, POLL_OPTION_CHARS))
        .min_items(Some(2))
        .max_items(Some(POLL_OPTIONS_MAX))
        .build()
}

/// Body of `POST …/active-session/breakout-rooms`: 1 to 50 rooms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateRooms {
    #[schema(min_items = 1, max_items = 50)]
    pub rooms: Vec<NewRoom>,
}

/// One room to open.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewRoom {
    /// Default: the meeting's title and the room's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 256)]
    pub title: Option<String>,
}

/// Body of `…/active-session/breakout-rooms/move`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MoveParticipants {
    /// A breakout room of this meeting, a sibling room, or the parent meeting.
    pub to_meeting_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_participant_ids: Option<Vec<String>>,
}

const _: () = assert!(
    crate::limits::POLL_QUESTION_CHARS == 1000
        && crate::limits::POLL_OPTION_CHARS == 256
        && crate::limits::POLL_OPTIONS_MAX == 50
        && crate::limits::ROOMS_MAX == 50,
    "the schema attributes above state these maxima"
);

impl utoipa::__dev::ComposeSchema for Targets {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder};
        let ids = |min: usize| ArrayBuilder::new().items(crate::schema::string()).min_items(Some(min));
        let lists = |required: &str| {
            let mut o = ObjectBuilder::new();
            for k in ["participant_ids", "custom_participant_ids"] {
                let list = if k == required { ids(1).into() } else { crate::schema::nullable(ids(0).into()) };
                o = o.property(k, list);
            }
            o.required(required)
        };
        AnyOfBuilder::new()
            .description(Some(
                "The participants, by id and/or custom id: at least one of the lists non-empty.",
            ))
            .item(lists("participant_ids"))
            .item(lists("custom_participant_ids"))
            .into()
    }
}

impl ToSchema for Targets {}
