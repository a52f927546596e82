//! The participant gateway protocol, version 2 (`docs/gateway.md`): JSON text frames over a
//! WebSocket, each an object with a `type`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol version this crate speaks (the gateway path is `/gateway/v1`). Version 2 pages
/// the peer list of `joined` (at most [`PEER_PAGE`] peers a frame, the rest in `peers` events).
pub const PROTOCOL_VERSION: u32 = 2;

/// The most peers one `joined` or `peers` event lists.
pub const PEER_PAGE: usize = 100;

/// Messages a participant sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Join the meeting the token names: becomes a new peer of its live session.
    Join {
        /// Device and browser metadata (free-form object), shown by the participant details
        /// and peer-report endpoints.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<Value>,
    },
    /// Reconnect as an existing peer after a dropped connection, within the heartbeat timeout.
    Resume { peer_id: String },
    /// Heartbeat. Any message counts as one; `ping` gets a `pong`.
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts: Option<i64>,
    },
    /// A chat message to everyone in the session.
    Chat { message: String },
    /// Move this peer to a breakout room of its meeting, or back to the parent meeting. Needs
    /// the preset's `connected_meetings.can_switch_connected_meetings` (to a breakout room) or
    /// `can_switch_to_parent_meeting` (back); answered by `moved` or an `error`.
    SwitchMeeting { meeting_id: String },
    /// A transcript segment of this peer's speech (e.g. from the browser's speech
    /// recognition). Only final segments are stored (docs/transcripts.md); every segment is
    /// relayed to the session's peers as a `transcript` event (live captions).
    Transcript {
        text: String,
        /// RFC 3339; default: `end`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<String>,
        /// RFC 3339; default: when the server receives it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end: Option<String>,
        /// Default true; false for an interim result (relayed, not stored).
        #[serde(default, rename = "final", skip_serializing_if = "Option::is_none")]
        is_final: Option<bool>,
    },
    /// Leave the session cleanly.
    Leave,
}

/// What another peer looks like in events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerInfo {
    pub peer_id: String,
    pub participant_id: String,
    pub custom_participant_id: String,
    pub display_name: Option<String>,
    pub preset_name: String,
    pub joined_at: String,
}

/// Events the gateway sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// Sent once on connect, before anything else.
    Hello {
        protocol: u32,
        heartbeat_timeout_secs: u64,
        participant_id: String,
        meeting_id: String,
    },
    /// The join succeeded. `peers` are the others already in the session.
    /// At most [`PEER_PAGE`] of them; when `peers_total` is larger, `peers` events with the
    /// rest follow at once, the last one marked `last`.
    Joined {
        peer_id: String,
        session_id: String,
        meeting_id: String,
        peers: Vec<PeerInfo>,
        /// How many others were in the session at the join (all pages together).
        #[serde(default)]
        peers_total: u64,
    },
    /// A further page of the peer list of `joined`.
    Peers {
        peers: Vec<PeerInfo>,
        last: bool,
    },
    /// The resume succeeded: the same peer, presence continuous.
    Resumed {
        peer_id: String,
        session_id: String,
        meeting_id: String,
    },
    PeerJoined {
        peer: PeerInfo,
    },
    PeerLeft {
        peer_id: String,
        reason: String,
    },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts: Option<i64>,
    },
    Chat {
        id: String,
        peer_id: String,
        participant_id: String,
        display_name: Option<String>,
        message: String,
        sent_at: String,
    },
    /// A peer's transcript segment (live captions); `final` segments are also stored.
    Transcript {
        /// The segment id (final segments only: what the transcript holds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        peer_id: String,
        display_name: Option<String>,
        text: String,
        start: String,
        end: String,
        #[serde(rename = "final")]
        is_final: bool,
    },
    /// This peer was removed by the host (`kick`, `kick-all`); the connection closes next.
    Kicked {
        reason: String,
    },
    /// The host muted this peer.
    Muted {
        by: String,
    },
    PollCreated {
        poll: Value,
    },
    /// This peer moved to another meeting's session (a breakout room, or back): it is now
    /// `peer_id` there.
    Moved {
        meeting_id: String,
        session_id: String,
        peer_id: String,
        parent_meeting_id: Option<String>,
    },
    SessionEnded {
        session_id: String,
        reason: String,
    },
    /// The clean leave was recorded; the connection closes next.
    Left {
        peer_id: String,
    },
    /// A request could not be served; the connection stays open unless a close follows.
    Error {
        code: String,
        message: String,
    },
}

/// WebSocket close codes the gateway uses (4000–4999 are application codes).
pub mod close {
    /// Normal closure after `leave`.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame that is not a valid message (not JSON, unknown type).
    pub const PROTOCOL: u16 = 1008;
    /// A message over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The server failed (e.g. its store did not answer); try again.
    pub const INTERNAL: u16 = 1011;
    /// No token, or a token that is forged or malformed.
    pub const INVALID_TOKEN: u16 = 4001;
    /// The token has expired.
    pub const TOKEN_EXPIRED: u16 = 4002;
    /// The participant was deleted (all its tokens are revoked).
    pub const PARTICIPANT_REVOKED: u16 = 4003;
    /// The meeting is INACTIVE or gone.
    pub const MEETING_INACTIVE: u16 = 4004;
    /// Kicked by the host (`kick`, `kick-all`).
    pub const KICKED: u16 = 4005;
    /// The session ended.
    pub const SESSION_ENDED: u16 = 4006;
    /// The client read its events too slowly (its queue of 1,024 filled up); the peer is
    /// dropped and may resume.
    pub const SLOW_CONSUMER: u16 = 4007;
    /// Too many messages.
    pub const RATE_LIMITED: u16 = 4008;
    /// No join or resume arrived in time, or the peer was silent past the heartbeat timeout.
    pub const TIMEOUT: u16 = 4009;
    /// This participant already has as many open connections as the server allows.
    pub const TOO_MANY_CONNECTIONS: u16 = 4010;
}
