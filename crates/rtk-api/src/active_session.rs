//! What the active-session endpoints answer: kick, mute, kick-all, mute-all, polls, and rtk's
//! breakout rooms.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient::opt_count;
use crate::meetings::MeetingParticipant;
use crate::sessions::Session;

/// `data` of `…/active-session/kick` and `…/mute`: the participants acted on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParticipantsAction {
    /// `kick` or `mute`.
    pub action: String,
    pub participants: Vec<MeetingParticipant>,
    #[serde(deserialize_with = "opt_count", skip_serializing_if = "Option::is_none")]
    pub kicked_peers_count: Option<u64>,
    #[serde(deserialize_with = "opt_count", skip_serializing_if = "Option::is_none")]
    pub muted_peers_count: Option<u64>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `…/active-session/kick-all` and `…/mute-all`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionAction {
    /// `kick-all` or `mute-all`.
    pub action: String,
    #[serde(deserialize_with = "opt_count", skip_serializing_if = "Option::is_none")]
    pub kicked_participants_count: Option<u64>,
    #[serde(deserialize_with = "opt_count", skip_serializing_if = "Option::is_none")]
    pub muted_participants_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One choice of a poll.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PollOption {
    pub text: String,
    pub count: f64,
    pub votes: Vec<Value>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A poll shown to every peer of a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Poll {
    pub id: String,
    pub question: String,
    pub options: Vec<PollOption>,
    pub anonymous: bool,
    pub hide_votes: bool,
    pub created_by: Option<String>,
    pub voted: Vec<Value>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `…/active-session/poll`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PollCreated {
    pub action: String,
    pub poll: Poll,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A breakout room: a child meeting of a meeting, with its live session if it has one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BreakoutRoom {
    /// The room's meeting id (participants move here).
    pub id: String,
    pub title: Option<String>,
    pub status: Option<String>,
    pub parent_meeting_id: Option<String>,
    pub session: Option<Session>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `GET`/`POST …/active-session/breakout-rooms`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BreakoutRooms {
    pub breakout_rooms: Vec<BreakoutRoom>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One participant moved between a meeting and a breakout room: it left as `from_peer_id`
/// and is `peer_id` in `session_id` of `meeting_id` now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MovedParticipant {
    pub participant_id: String,
    pub from_peer_id: String,
    pub from_session_id: String,
    pub peer_id: String,
    pub session_id: String,
    pub meeting_id: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `…/active-session/breakout-rooms/move`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MoveResult {
    pub action: String,
    pub moved: Vec<MovedParticipant>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}
