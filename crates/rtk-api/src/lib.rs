//! Wire types of the RealtimeKit REST API as rtk serves it, and of rtk's participant gateway
//! protocol. No I/O. The server serialises these types and the Rust SDK reads them, so the two
//! never drift; their OpenAPI schemas come from the same definitions.
//!
//! Timestamps are RFC 3339 strings with milliseconds and `Z`. Response types keep fields they
//! do not know in `extra`, so an older client never breaks on a newer server; the server
//! leaves `extra` empty. Documents stored as sent (a preset's, a meeting's settings) are kept
//! as JSON text ([`document::Document`]) and written back member by member.

pub mod active_session;
pub mod analytics;
pub mod document;
pub mod envelope;
pub mod gateway;
pub mod lenient;
pub mod limits;
pub mod livestreams;
pub mod meetings;
pub mod ops;
pub mod presets;
pub mod recordings;
pub mod resources;
pub mod schema;
pub mod sessions;
pub mod webhooks;

pub use envelope::{Envelope, ErrorEnvelope, ErrorItem, Paging};
pub use resources::*;
