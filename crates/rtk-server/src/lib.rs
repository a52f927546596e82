//! rtk-server: the RealtimeKit-compatible control plane as a library. The `rtk` binary
//! (crate `rtk-cli`) parses flags into a [`Config`] and calls [`Server::start`].
//!
//! Data flows one way: `http` → `engine` → `store`. The HTTP layer never touches SQL; the
//! engine never sees HTTP types.

pub mod admin;
pub mod auth;
pub mod bus;
pub mod clock;
pub mod config;
pub mod conn;
pub mod engine;
pub mod error;
pub mod export;
pub mod fixtures;
pub mod gateway;
pub mod http;
pub mod livestreams;
pub mod recordings;
pub mod secrets;
pub mod state;
pub mod store;
pub mod tokens;
pub mod transcripts;
pub mod webhooks;

mod server;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::Config;
#[cfg(unix)]
pub use server::shutdown_signals;
pub use server::{shutdown_signal, Bootstrap, Server};
pub use store::Store;
