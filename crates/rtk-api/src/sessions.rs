//! Sessions (live or ended meetings) and the people in them, as the API returns them.
//! Timestamps here are RFC 3339 strings, as everywhere; counts read leniently.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::lenient::{count, null_default};

/// A session: an occurrence of a meeting, from its first join until it ends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    pub id: String,
    /// The meeting id.
    pub associated_id: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_display_name: String,
    /// The app id.
    pub organization_id: String,
    /// `meeting`, `livestream` or `participant`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `LIVE` or `ENDED`.
    pub status: String,
    #[serde(deserialize_with = "count")]
    pub live_participants: u64,
    #[serde(deserialize_with = "count")]
    pub max_concurrent_participants: u64,
    pub minutes_consumed: f64,
    pub started_at: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Breakout-room sessions (child sessions), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakout_rooms: Option<Vec<Session>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_session_id: Option<String>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl Session {
    pub fn is_live(&self) -> bool {
        self.status == "LIVE"
    }
}

/// `data` of `GET …/{app_id}/sessions`: `{"sessions": […]}` (paging is beside `data`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionList {
    pub sessions: Vec<Session>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `GET …/{app_id}/sessions/{session_id}`: the session. Reads both generations of
/// the API: `data.session` (the seed's) and the session's fields flat under `data` (current).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionDetails {
    pub session: Session,
    /// Members of `data` that are neither `session` nor a field of it.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

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
        for k in ["ended_at", "breakout_rooms", "parent_session_id", "type"] {
            data.remove(k);
        }
        Ok(SessionDetails { session, extra: data })
    }
}

/// A join or leave of a peer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerEvent {
    pub id: String,
    /// `PEER_JOINING`, `PEER_LEAVING`, …
    pub event_name: String,
    pub participant_id: String,
    pub peer_id: String,
    pub session_id: String,
    pub minutes_consumed: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// Someone who was in a session: one peer (`view=raw`) or one participant's peers together
/// (`view=consolidated`). `duration` is in minutes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionParticipant {
    /// The peer id.
    pub id: String,
    /// The meeting participant's id.
    pub user_id: String,
    #[serde(deserialize_with = "null_default")]
    pub custom_participant_id: String,
    #[serde(deserialize_with = "null_default")]
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub joined_at: String,
    pub left_at: Option<String>,
    pub duration: f64,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_events: Option<Vec<PeerEvent>>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `GET …/sessions/{session_id}/participants`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionParticipants {
    pub participants: Vec<SessionParticipant>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `GET …/sessions/{session_id}/participants/{participant_id}` and of
/// `GET …/sessions/peer-report/{peer_id}`: `{"participant": {…}}`. Device and report
/// sections (`device`, `peer_stats`, `peer_report`, `role`) are in the participant's `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionParticipantDetails {
    pub participant: SessionParticipant,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A chat message of a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatMessage {
    pub id: String,
    pub peer_id: String,
    pub participant_id: String,
    pub display_name: Option<String>,
    pub message: String,
    pub sent_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// `data` of `GET …/sessions/{session_id}/chat`: a CSV download link and its expiry; rtk
/// also lists the messages inline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionChat {
    pub chat_download_url: String,
    pub chat_download_url_expiry: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ChatMessage>>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
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
