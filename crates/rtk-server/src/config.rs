//! Server configuration (flags and `RTK_*` variables are parsed by the CLI into this).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite database and the first-start credentials file.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Lifetime of participant tokens.
    pub participant_token_ttl: Duration,
    /// How long a positively checked API token is trusted without asking the store.
    pub auth_cache_ttl: Duration,
    /// A peer silent for this long is considered gone (it leaves at its last message).
    pub heartbeat_timeout: Duration,
    /// How often the reaper applies heartbeat timeouts and keep-alive expiry (None: never;
    /// tests drive `Engine::tick` themselves).
    pub reaper_interval: Option<Duration>,
    /// A request's head (request line and headers) must arrive within this, counted from the
    /// connection's accept for its first request and from the head's first byte after that.
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// A request must be answered within this (body read and handler); else 503.
    pub request_timeout: Duration,
    /// A connection whose writes make no progress for this long is closed (the client does
    /// not read what it asked for). Applies to upgraded (WebSocket) connections too.
    pub write_timeout: Duration,
    /// Open connections (WebSocket ones included) at most; more are answered 503 and closed.
    pub max_connections: usize,
    /// Longest request target (path and query), in bytes; longer is 414.
    pub max_uri_bytes: usize,
    /// Largest total of request header names and values, in bytes; larger is 431.
    pub max_header_bytes: usize,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
pub const DEFAULT_DATA_DIR: &str = "./rtk-data";
// The reasons for these defaults are in docs/limits.md.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
pub const DEFAULT_MAX_URI_BYTES: usize = 8 * 1024;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            body_limit: 1024 * 1024,
            participant_token_ttl: Duration::from_secs(100 * 24 * 3600),
            auth_cache_ttl: Duration::from_secs(2),
            heartbeat_timeout: Duration::from_secs(30),
            reaper_interval: Some(Duration::from_secs(1)),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

impl Config {
    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("rtk.db").display()),
        }
    }
}
