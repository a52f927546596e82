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
    /// How long a new gateway connection may take to send `join` or `resume` (absolute from
    /// connect: nothing but join or resume extends it).
    pub join_timeout: Duration,
    /// Open gateway connections one participant may hold on this node (one per device).
    pub max_connections_per_participant: usize,
    /// Chat messages stored per session; past it, chat is refused (`chat_limit`).
    pub max_chat_messages_per_session: i64,
    /// How often the reaper applies heartbeat timeouts and keep-alive expiry (None: never;
    /// tests drive `Engine::tick` themselves).
    pub reaper_interval: Option<Duration>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
pub const DEFAULT_DATA_DIR: &str = "./rtk-data";

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
            join_timeout: Duration::from_secs(30),
            max_connections_per_participant: 10,
            max_chat_messages_per_session: 10_000,
            reaper_interval: Some(Duration::from_secs(1)),
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
