//! rtk-client: the Rust SDK for the RealtimeKit REST API — the same code talks to Cloudflare
//! or to rtk — and a participant client for rtk's gateway.
//!
//! The resource tree mirrors the official SDKs (`client.realtime_kit().sessions()
//! .get_session_details(…)`); each call takes its path ids and a params struct holding the
//! account id and the call's query or body. Calls answer a [`Response`]: the envelope's
//! `data` (typed, unknown fields kept in `extra`), `paging` where there is one, and the raw
//! response. Failures are one [`Error`]. Connection errors, 408, 409, 429 and 5xx are retried
//! (twice by default) with exponential backoff and jitter, honouring `retry-after-ms`,
//! `Retry-After` and `x-should-retry`.
//!
//! ```no_run
//! use rtk_client::{params::GetSessionDetailsParams, Client};
//!
//! # async fn run() -> Result<(), rtk_client::Error> {
//! let client = Client::builder()
//!     .base_url("http://127.0.0.1:8787/client/v4")
//!     .api_token(std::env::var("RTK_API_TOKEN").unwrap_or_default())
//!     .build()?;
//! let details = client
//!     .realtime_kit()
//!     .sessions()
//!     .get_session_details("APP_ID", "SESSION_ID", &GetSessionDetailsParams {
//!         account_id: "ACCOUNT_ID".into(),
//!         include_breakout_rooms: Some(true),
//!     })
//!     .await?;
//! println!("{:?}", details.data.session);
//! # Ok(()) }
//! ```

mod client;
mod error;
pub mod pagination;
pub mod params;
pub mod participant;
pub mod resources;
pub mod retry;

pub use client::{
    Auth, Client, ClientBuilder, RawResponse, Response, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
};
pub use error::{Error, RequestInfo};
pub use pagination::Items;
/// The wire types (responses) of the API.
pub use rtk_api as types;
