//! The gateway's one error type. Every failure on a connection is a [`GatewayError`];
//! [`GatewayError::reply`] is the one place that decides what the client gets — an `error`
//! event (the connection stays open) or a close frame with its code from `docs/gateway.md` —
//! and [`GatewayError::log`] the one place that records causes the client is not told.

use rtk_api::gateway::close;

use super::{MAX_CHAT_CHARS, MAX_MESSAGE_BYTES};
use crate::engine::EngineError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    // Refusals of one message, answered by `error {code, message}`.
    #[error("this connection has already joined")]
    AlreadyJoined,
    /// A message that needs a joined peer, before `join` (what it was: "sending chat").
    #[error("join before {0}")]
    NotJoined(&'static str),
    /// The peer left (or was ended) since this connection joined.
    #[error("this peer is no longer in a session")]
    NoLongerInSession,
    #[error("peer {peer_id} is gone: send join to start afresh")]
    ResumeFailed { peer_id: String, cause: EngineError },
    #[error("a chat message is 1 to {MAX_CHAT_CHARS} characters")]
    InvalidChat,
    #[error("this session has stored its {0} chat messages; no more are accepted")]
    ChatLimit(i64),
    #[error("{}", chat_failed(.0))]
    ChatFailed(EngineError),
    /// A transcript segment that is not valid (what is wrong with it).
    #[error("{0}")]
    InvalidTranscript(String),
    #[error("this session has stored its {0} transcript segments; no more are accepted")]
    TranscriptLimit(i64),
    #[error("the transcript segment could not be stored, try again")]
    TranscriptFailed(EngineError),
    #[error("the join could not be recorded, try again")]
    JoinFailed(EngineError),
    #[error("preset {preset:?} does not allow {permission}")]
    Forbidden { preset: String, permission: &'static str },
    #[error("{0}")]
    InvalidMeeting(String),
    #[error("the switch could not be recorded, try again")]
    SwitchFailed(EngineError),

    // Ends of the connection, answered by a close frame.
    #[error("missing or invalid participant token")]
    InvalidToken,
    #[error("token expired")]
    TokenExpired,
    #[error("the participant was deleted")]
    ParticipantRevoked,
    #[error("this participant already has {0} open connections")]
    TooManyConnections(usize),
    #[error("meeting {0} is inactive and refuses joins")]
    MeetingInactive(String),
    /// A frame that is not a protocol message (binary, not JSON, unknown type).
    #[error("{0}")]
    Protocol(String),
    #[error("message too big: at most {MAX_MESSAGE_BYTES} bytes")]
    TooBig,
    #[error("rate limit: too many messages")]
    RateLimited,
    /// The server failed (the store); the client hears only "internal error".
    #[error("internal error")]
    Internal(StoreError),
}

/// What the client gets for an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `error {code, message}`; the connection stays open.
    Event { code: &'static str, message: String },
    /// A close frame with this code (a `rtk_api::gateway::close` constant) and reason.
    Close { code: u16, reason: String },
}

/// A chat the engine refused for a reason the client may read (the peer is gone, …), or a
/// failure of the server it may not.
fn chat_failed(e: &EngineError) -> String {
    match e {
        EngineError::Store(_) => "the chat message could not be stored, try again".into(),
        other => other.to_string(),
    }
}

impl GatewayError {
    pub fn reply(&self) -> Reply {
        use GatewayError as E;
        let event = |code: &'static str| Reply::Event { code, message: self.to_string() };
        let close = |code: u16| Reply::Close { code, reason: self.to_string() };
        match self {
            E::AlreadyJoined => event("already_joined"),
            E::NotJoined(_) | E::NoLongerInSession => event("not_joined"),
            E::ResumeFailed { .. } => event("resume_failed"),
            E::InvalidChat => event("invalid_chat"),
            E::ChatLimit(_) => event("chat_limit"),
            E::ChatFailed(_) => event("chat_failed"),
            E::InvalidTranscript(_) => event("invalid_transcript"),
            E::TranscriptLimit(_) => event("transcript_limit"),
            E::TranscriptFailed(_) => event("transcript_failed"),
            E::JoinFailed(_) => event("join_failed"),
            E::Forbidden { .. } => event("forbidden"),
            E::InvalidMeeting(_) => event("invalid_meeting"),
            E::SwitchFailed(_) => event("switch_failed"),
            E::InvalidToken => close(close::INVALID_TOKEN),
            E::TokenExpired => close(close::TOKEN_EXPIRED),
            E::ParticipantRevoked => close(close::PARTICIPANT_REVOKED),
            E::TooManyConnections(_) => close(close::TOO_MANY_CONNECTIONS),
            E::MeetingInactive(_) => close(close::MEETING_INACTIVE),
            E::Protocol(_) => close(close::PROTOCOL),
            E::TooBig => close(close::TOO_BIG),
            E::RateLimited => close(close::RATE_LIMITED),
            E::Internal(_) => close(close::INTERNAL),
        }
    }

    /// Records the cause behind the reply where there is one the operator should see (the
    /// client is never told a store failure): failures of the server as errors, refusals
    /// worth knowing about as warnings, a refused resume (routine after a restart) at debug.
    pub fn log(&self, participant: Option<&str>) {
        use GatewayError as E;
        let participant = participant.unwrap_or_default();
        match self {
            E::Internal(e) => tracing::error!(error = %e, participant, "gateway: internal error"),
            E::JoinFailed(e) => tracing::error!(error = %e, participant, "gateway: join failed"),
            E::TranscriptFailed(e) => {
                tracing::error!(error = %e, participant, "gateway: transcript segment not stored")
            }
            E::ChatFailed(e @ EngineError::Store(_)) => {
                tracing::error!(error = %e, participant, "gateway: chat message not stored")
            }
            E::SwitchFailed(e @ EngineError::Store(_)) => {
                tracing::error!(error = %e, participant, "gateway: switch failed")
            }
            E::SwitchFailed(e) => tracing::warn!(error = %e, participant, "gateway: switch failed"),
            E::ResumeFailed { cause: e @ EngineError::Store(_), peer_id } => {
                tracing::error!(error = %e, participant, peer = %peer_id, "gateway: resume failed")
            }
            E::ResumeFailed { cause, peer_id } => {
                tracing::debug!(error = %cause, participant, peer = %peer_id, "gateway: resume refused")
            }
            E::TooManyConnections(max) => tracing::warn!(
                participant,
                max,
                "gateway: connection refused, participant at its connection limit"
            ),
            _ => {}
        }
    }
}

impl From<StoreError> for GatewayError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every close reason fits a close frame, and every code is the one docs/gateway.md gives.
    #[test]
    fn replies_match_the_protocol_doc() {
        let doc = include_str!("../../../../docs/gateway.md");
        let cases = [
            GatewayError::InvalidToken,
            GatewayError::TokenExpired,
            GatewayError::ParticipantRevoked,
            GatewayError::TooManyConnections(10),
            GatewayError::MeetingInactive("m".into()),
            GatewayError::Protocol("invalid message".into()),
            GatewayError::TooBig,
            GatewayError::RateLimited,
            GatewayError::Internal(StoreError::Conflict("x".into())),
            GatewayError::AlreadyJoined,
            GatewayError::NotJoined("sending chat"),
            GatewayError::NoLongerInSession,
            GatewayError::ResumeFailed { peer_id: "p".into(), cause: EngineError::PeerGone("p".into()) },
            GatewayError::InvalidChat,
            GatewayError::ChatLimit(3),
            GatewayError::ChatFailed(EngineError::PeerGone("p".into())),
            GatewayError::JoinFailed(EngineError::Invalid("x".into())),
            GatewayError::Forbidden { preset: "host".into(), permission: "can_switch_connected_meetings" },
            GatewayError::InvalidMeeting("no meeting x to switch to".into()),
            GatewayError::SwitchFailed(EngineError::Invalid("x".into())),
        ];
        for e in cases {
            match e.reply() {
                Reply::Close { code, reason } => {
                    assert!(
                        doc.contains(&format!("| {code} |")),
                        "close code {code} of {e:?} is not in docs/gateway.md"
                    );
                    assert!(reason.len() <= super::super::MAX_CLOSE_REASON, "{reason}");
                }
                Reply::Event { code, .. } => {
                    assert!(
                        doc.contains(&format!("`{code}`")),
                        "error code {code} of {e:?} is not in docs/gateway.md"
                    );
                }
            }
        }
    }

    /// A failure of the store never reaches the client's message.
    #[test]
    fn store_failures_stay_on_the_server() {
        let store = || EngineError::Store(StoreError::Conflict("secret detail".into()));
        for e in [
            GatewayError::ChatFailed(store()),
            GatewayError::SwitchFailed(store()),
            GatewayError::JoinFailed(store()),
            GatewayError::Internal(StoreError::Conflict("secret detail".into())),
        ] {
            let text = match e.reply() {
                Reply::Event { message, .. } => message,
                Reply::Close { reason, .. } => reason,
            };
            assert!(!text.contains("secret detail"), "{e:?} told the client {text:?}");
        }
    }
}
