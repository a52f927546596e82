//! Wire types of the RealtimeKit REST API as rtk serves it, and of rtk's participant gateway
//! protocol. No I/O; shared by the server and the Rust SDK so the two never drift.
//!
//! Timestamps are RFC 3339 strings with milliseconds and `Z`. Response types keep fields they
//! do not know in `extra`, so an older client never breaks on a newer server.

pub mod active_session;
pub mod envelope;
pub mod gateway;
pub mod lenient;
pub mod meetings;
pub mod presets;
pub mod resources;
pub mod sessions;
pub mod webhooks;

pub use envelope::{Envelope, ErrorEnvelope, ErrorItem, Paging};
pub use resources::*;
