//! Livestreams (`…/{app_id}/livestreams…`, `…/meetings/{meeting_id}/livestreams`,
//! `…/meetings/{meeting_id}/active-livestream…`, `…/analytics/livestreams/…`), as the official
//! SDKs model them.
//!
//! The SDKs type a few fields differently per endpoint, and a strict client validates each
//! answer against its own endpoint's type, so rtk follows them endpoint by endpoint:
//! `disabled` is a string (`"true"`/`"false"`) except in the answer to
//! `POST …/livestreams` (a boolean); a session's `ingest_seconds`/`viewer_seconds` are strings
//! in `…/active-livestream-session` and numbers elsewhere. Seconds are whole seconds, rounded
//! to the nearest, everywhere (docs/livestreams.md).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::Paging;

/// Livestream statuses: `INVOKED` (created, no ingest yet), `LIVE` (ingest running), `IDLE`
/// (ingest ended, or stopped), `ERRORED` (the last ingest failed).
pub const STATUSES: [&str; 4] = ["LIVE", "IDLE", "ERRORED", "INVOKED"];

/// A livestream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Livestream {
    pub id: String,
    /// Null for an unnamed livestream.
    pub name: Option<String>,
    /// Null for an independent livestream (`POST …/livestreams`).
    pub meeting_id: Option<String>,
    /// One of [`STATUSES`].
    pub status: String,
    /// What a broadcaster types into OBS's "Server" (RTMP; `ingest_server` + `stream_key` is
    /// the full publish URL).
    pub ingest_server: String,
    /// The publish secret.
    pub stream_key: String,
    /// HTTP-FLV playback of the live stream.
    pub playback_url: String,
    /// `"true"` once stopped (the key is then refused), else `"false"`.
    pub disabled: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `data` of `POST …/livestreams` (an independent livestream): `disabled` is a boolean here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreatedLivestream {
    pub id: String,
    pub name: Option<String>,
    pub meeting_id: Option<String>,
    pub status: String,
    pub ingest_server: String,
    pub stream_key: String,
    pub playback_url: String,
    pub disabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

impl From<Livestream> for CreatedLivestream {
    /// The same livestream as `POST …/livestreams` answers it (`disabled` a boolean).
    fn from(l: Livestream) -> Self {
        CreatedLivestream {
            disabled: l.disabled == "true",
            id: l.id,
            name: l.name,
            meeting_id: l.meeting_id,
            status: l.status,
            ingest_server: l.ingest_server,
            stream_key: l.stream_key,
            playback_url: l.playback_url,
            created_at: l.created_at,
            updated_at: l.updated_at,
            extra: l.extra,
        }
    }
}

macro_rules! session_type {
    ($(#[$doc:meta])* $name:ident, $secs:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
        #[serde(default)]
        pub struct $name {
            pub id: String,
            pub livestream_id: String,
            #[schema(format = DateTime)]
            pub created_at: String,
            #[schema(format = DateTime)]
            pub updated_at: String,
            /// When the publisher asked to publish.
            #[schema(format = DateTime)]
            pub invoked_time: String,
            /// When the ingest was accepted.
            #[schema(format = DateTime)]
            pub started_time: String,
            /// Null while the ingest runs.
            #[schema(format = DateTime)]
            pub stopped_time: Option<String>,
            /// The ingest's duration (so far, while it runs), whole seconds.
            pub ingest_seconds: $secs,
            /// The playback connections' durations summed (so far), whole seconds.
            pub viewer_seconds: $secs,
            /// Why the ingest failed (unsupported codec, dropped publisher, over the bitrate
            /// limit); null when it ended cleanly or runs.
            pub err_message: Option<String>,
            /// rtk: a signed link to the ingest as an FLV file, once it has ended, when the
            /// server records ingests (`--livestream-record`); absent otherwise.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub recording_url: Option<String>,
            /// rtk: when `recording_url` stops working.
            #[serde(skip_serializing_if = "Option::is_none")]
            #[schema(format = DateTime)]
            pub recording_url_expiry: Option<String>,
            /// rtk: the FLV file's size in bytes.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub recording_file_size: Option<i64>,
            #[serde(flatten, skip_serializing_if = "Map::is_empty")]
            #[schema(ignore)]
            pub extra: Map<String, Value>,
        }
    };
}

session_type!(
    /// One ingest of a livestream: from the publisher's start to its end (seconds as numbers).
    LivestreamSession,
    i64
);
session_type!(
    /// A livestream session with its seconds as strings, as the SDKs type them in
    /// `…/active-livestream-session`.
    LivestreamSessionText,
    String
);

impl From<LivestreamSession> for LivestreamSessionText {
    fn from(s: LivestreamSession) -> Self {
        LivestreamSessionText {
            id: s.id,
            livestream_id: s.livestream_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
            invoked_time: s.invoked_time,
            started_time: s.started_time,
            stopped_time: s.stopped_time,
            ingest_seconds: s.ingest_seconds.to_string(),
            viewer_seconds: s.viewer_seconds.to_string(),
            err_message: s.err_message,
            recording_url: s.recording_url,
            recording_url_expiry: s.recording_url_expiry,
            recording_file_size: s.recording_file_size,
            extra: s.extra,
        }
    }
}

/// `data` of `GET …/livestreams/{livestream_id}`: the livestream and a page of its sessions,
/// newest first. The SDKs model one `session`; it is the page's first, and `sessions` (rtk's
/// extension) holds the whole page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LivestreamWithSessions {
    pub livestream: Livestream,
    pub session: Option<LivestreamSession>,
    pub sessions: Vec<LivestreamSession>,
    pub paging: Paging,
}

/// `data` of `GET …/livestreams/{livestream_id}/active-livestream-session`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ActiveLivestreamSession {
    pub livestream: Livestream,
    pub session: LivestreamSessionText,
}

/// `data` of `GET …/livestreams`. The SDKs model `data` as one livestream with `paging`: its
/// fields are the page's first livestream (absent on an empty page), and `livestreams` (rtk's
/// extension) holds the whole page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LivestreamPage {
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub first: Option<Livestream>,
    pub livestreams: Vec<Livestream>,
    pub paging: Paging,
}

/// `data` of `POST …/meetings/{meeting_id}/active-livestream/stop`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LivestreamStopped {
    pub message: String,
}

/// `data` of `GET …/analytics/livestreams/overall`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LivestreamTotals {
    /// Livestream sessions (ingests) that started in the range.
    pub count: i64,
    pub total_ingest_seconds: i64,
    pub total_viewer_seconds: i64,
}

/// One day of `GET …/analytics/livestreams/daywise`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LivestreamDay {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub count: i64,
    pub total_ingest_seconds: i64,
    pub total_viewer_seconds: i64,
}

/// Body of `POST …/meetings/{meeting_id}/livestreams`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LivestreamStart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_config: Option<VideoConfig>,
}

/// The size a meeting's livestream is composed at (kept; rtk passes the ingest through as is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VideoConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
}

/// Body of `POST …/livestreams`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IndependentLivestreamStart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_shows_its_first_livestream_at_the_top() {
        let one = Livestream {
            id: "l1".into(),
            status: "LIVE".into(),
            disabled: "false".into(),
            ..Default::default()
        };
        let page = LivestreamPage {
            first: Some(one.clone()),
            livestreams: vec![one],
            paging: Paging { total_count: 1, start_offset: 1, end_offset: 1 },
        };
        let v = serde_json::to_value(&page).unwrap();
        assert_eq!(v["id"], "l1");
        assert_eq!(v["livestreams"][0]["status"], "LIVE");
        assert_eq!(v["paging"]["total_count"], 1);
        let back: LivestreamPage = serde_json::from_value(v).unwrap();
        assert_eq!(back.livestreams.len(), 1);
        let empty = serde_json::to_value(LivestreamPage::default()).unwrap();
        assert!(empty.get("id").is_none());
    }
}
