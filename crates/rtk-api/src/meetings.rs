//! Meetings and their participants as the API returns them, and the bodies that make them.

use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::document::Document;
use crate::lenient::opt_count;
use crate::limits::{MAX_KEEP_ALIVE_SECS, NAME_CHARS, URL_CHARS};
use crate::schema;

/// A meeting: `POST`/`GET`/`PATCH`/`PUT …/{app_id}/meetings[/{meeting_id}]`.
///
/// On the wire: the stored settings (`preferred_region`, `record_on_start`, …, `ai_config`,
/// `recording_config`) in their stored order, then `id`, `title`, `status`,
/// `session_keep_alive_time_in_secs`, `created_at`, `updated_at`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meeting {
    /// The settings as stored (see [`MeetingSettings`] for their types).
    pub settings: Document,
    pub id: String,
    pub title: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    pub session_keep_alive_time_in_secs: Option<u64>,
    pub created_at: String,
    pub updated_at: String,
}

/// The fields a meeting's own columns hold; everything else is in its settings.
const OWN: [&str; 6] =
    ["id", "title", "status", "session_keep_alive_time_in_secs", "created_at", "updated_at"];

impl Meeting {
    /// The settings, read as their types (unknown members in `extra`).
    pub fn settings(&self) -> MeetingSettings {
        serde_json::from_str(self.settings.as_str()).unwrap_or_default()
    }

    /// Writes the meeting's members into a map being serialised (for types that extend it).
    pub fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        self.settings.write_members(m, |k| OWN.contains(&k))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("title", &self.title)?;
        if let Some(s) = &self.status {
            m.serialize_entry("status", s)?;
        }
        if let Some(k) = &self.session_keep_alive_time_in_secs {
            m.serialize_entry("session_keep_alive_time_in_secs", k)?;
        }
        m.serialize_entry("created_at", &self.created_at)?;
        m.serialize_entry("updated_at", &self.updated_at)
    }

    /// A meeting from its members (the rest of a map once a containing type took its own).
    pub fn from_map<E: serde::de::Error>(mut m: Map<String, Value>) -> Result<Self, E> {
        let mut text = |k: &str| match m.remove(k) {
            Some(Value::String(s)) => Ok(Some(s)),
            None | Some(Value::Null) => Ok(None),
            Some(other) => Err(E::custom(format!("\"{k}\" must be a string, got {other}"))),
        };
        let id = text("id")?.unwrap_or_default();
        let title = text("title")?;
        let status = text("status")?;
        let created_at = text("created_at")?.unwrap_or_default();
        let updated_at = text("updated_at")?.unwrap_or_default();
        let keep_alive = match m.remove("session_keep_alive_time_in_secs") {
            None | Some(Value::Null) => None,
            Some(v) => {
                opt_count(v).map_err(|e| E::custom(format!("session_keep_alive_time_in_secs: {e}")))?
            }
        };
        Ok(Meeting {
            settings: Document::from_map(&m),
            id,
            title,
            status,
            session_keep_alive_time_in_secs: keep_alive,
            created_at,
            updated_at,
        })
    }

    /// The schema's properties, for types that extend a meeting.
    pub fn schema_builder() -> utoipa::openapi::schema::ObjectBuilder {
        use utoipa::openapi::schema::ObjectBuilder;
        let flag = || schema::nullable(schema::boolean());
        ObjectBuilder::new()
            .property(
                "preferred_region",
                schema::nullable(schema::one_of_strings(&[
                    "ap-south-1",
                    "ap-southeast-1",
                    "us-east-1",
                    "eu-central-1",
                ])),
            )
            .property("record_on_start", flag())
            .property("live_stream_on_start", flag())
            .property("persist_chat", schema::boolean())
            .property("summarize_on_end", schema::boolean())
            .property("transcribe_on_end", schema::boolean())
            .property("ai_config", schema::nullable(schema::component("AiConfig")))
            .property("recording_config", schema::nullable(schema::component("RecordingConfig")))
            .property("id", schema::string())
            .property("title", schema::nullable(schema::text(0, NAME_CHARS)))
            .property("status", schema::one_of_strings(&["ACTIVE", "INACTIVE"]))
            .property("session_keep_alive_time_in_secs", schema::integer(0, MAX_KEEP_ALIVE_SECS))
            .property("created_at", schema::time())
            .property("updated_at", schema::time())
            .required("id")
            .required("title")
            .required("status")
            .required("session_keep_alive_time_in_secs")
            .required("created_at")
            .required("updated_at")
    }
}

impl Serialize for Meeting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.write(&mut m)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Meeting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Meeting::from_map::<D::Error>(Map::deserialize(d)?)
    }
}

impl utoipa::__dev::ComposeSchema for Meeting {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        Meeting::schema_builder()
            .description(Some("A meeting: its stored settings in their order, then its own fields."))
            .into()
    }
}

impl ToSchema for Meeting {}

/// A meeting's settings, as their types (what [`Meeting::settings`] reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MeetingSettings {
    pub preferred_region: Option<String>,
    pub record_on_start: Option<bool>,
    pub live_stream_on_start: Option<bool>,
    pub persist_chat: Option<bool>,
    pub summarize_on_end: Option<bool>,
    pub transcribe_on_end: Option<bool>,
    pub ai_config: Option<Value>,
    pub recording_config: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A participant of a meeting. `token` is present where the API issues one (add, edit);
/// `preset_id` where it names it (delete).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MeetingParticipant {
    pub id: String,
    pub custom_participant_id: String,
    pub preset_name: Option<String>,
    pub name: Option<String>,
    pub picture: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The participant's token (a JWT the gateway accepts), where the API issues one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The participant's preset, on delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset_id: Option<String>,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `POST …/participants/{participant_id}/token`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ParticipantToken {
    pub token: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// Body of `POST …/meetings/{meeting_id}/participants`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AddParticipant {
    /// Your id for this person (trimmed; not all white space).
    #[schema(schema_with = name_text)]
    pub custom_participant_id: String,
    /// The name of a preset of the app (trimmed; not all white space).
    #[schema(schema_with = name_text)]
    pub preset_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 256)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    pub picture: Option<String>,
}

/// Body of `PATCH …/participants/{participant_id}`: what is given changes (`custom_participant_id`
/// cannot).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EditParticipant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = name_text)]
    pub preset_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 256)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    pub picture: Option<String>,
}

const _: () =
    assert!(NAME_CHARS == 256 && URL_CHARS == 2048, "the schema attributes above state these maxima");

/// Body of meeting create (`POST`), update (`PATCH`) and replace (`PUT`): every field optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeetingBody;

impl utoipa::__dev::ComposeSchema for MeetingBody {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::ObjectBuilder;
        let flag = || schema::nullable(schema::boolean());
        ObjectBuilder::new()
            .description(Some("A meeting's fields; every one optional. Other members are ignored."))
            .property("title", schema::nullable(schema::text(0, NAME_CHARS)))
            .property(
                "preferred_region",
                schema::nullable(schema::one_of_strings(&[
                    "ap-south-1",
                    "ap-southeast-1",
                    "us-east-1",
                    "eu-central-1",
                ])),
            )
            .property("record_on_start", flag())
            .property("live_stream_on_start", flag())
            .property("persist_chat", schema::boolean())
            .property("summarize_on_end", schema::boolean())
            .property("transcribe_on_end", schema::boolean())
            .property("session_keep_alive_time_in_secs", schema::integer(0, MAX_KEEP_ALIVE_SECS))
            .property("status", schema::one_of_strings(&["ACTIVE", "INACTIVE"]))
            .property("ai_config", schema::nullable(schema::component("AiConfig")))
            .property("recording_config", schema::nullable(schema::component("RecordingConfig")))
            .into()
    }
}

impl ToSchema for MeetingBody {}

fn name_text() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    schema::name(NAME_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_first_then_own_fields() {
        let m = Meeting {
            settings: Document::from_text(r#"{"transcribe_on_end":false,"preferred_region":null}"#.into()),
            id: "m1".into(),
            title: None,
            status: Some("ACTIVE".into()),
            session_keep_alive_time_in_secs: Some(60),
            created_at: "t".into(),
            updated_at: "u".into(),
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(
            text,
            r#"{"transcribe_on_end":false,"preferred_region":null,"id":"m1","title":null,"status":"ACTIVE","session_keep_alive_time_in_secs":60,"created_at":"t","updated_at":"u"}"#
        );
        let back: Meeting = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.settings().transcribe_on_end, Some(false));
        let lenient: Meeting =
            serde_json::from_str(r#"{"id":"m","session_keep_alive_time_in_secs":60.0}"#).unwrap();
        assert_eq!(lenient.session_keep_alive_time_in_secs, Some(60));
    }
}
