//! Server configuration (flags and `RTK_*` variables are parsed by the CLI into this).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory (mode 0700) for the SQLite database, the signing key file, the first-start
    /// credentials file and the node id.
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
    /// A node that has not renewed its lease for this long is taken for dead: another node
    /// ends its peers at their last message (docs/deployment.md). Renewed every fifth of it.
    pub node_lease: Duration,
    /// How long a new gateway connection may take to send `join` or `resume` (absolute from
    /// connect: nothing but join or resume extends it).
    pub join_timeout: Duration,
    /// Run every time-dependent rule on this clock, which moves only through the admin clock
    /// endpoints (`/_rtk/clock`, docs/testing-with-rtk.md); `None`: the system clock.
    pub manual_clock: Option<crate::clock::ManualClock>,
    /// SHA-256 (hex) of the admin token that the admin endpoints require. With a manual clock
    /// and none given, one is made at start and written to `<data_dir>/admin-token` (0600).
    pub admin_token_hash: Option<String>,
    /// Serve `POST /_rtk/reset` (which empties the store) even without a manual clock. Off by
    /// default: a production server with an admin token must not be one request from empty.
    pub enable_reset: bool,
    /// Fixtures applied at start (before first start, which then finds their accounts) and
    /// again after every `POST /_rtk/reset`, which so returns to them (docs/fixtures.md).
    pub fixtures: Option<std::sync::Arc<crate::fixtures::FixtureSet>>,
    /// Open gateway connections one participant may hold on this node (one per device).
    pub max_connections_per_participant: usize,
    /// Chat messages stored per session; past it, chat is refused (`chat_limit`).
    pub max_chat_messages_per_session: i64,
    /// How often the reaper applies heartbeat timeouts and keep-alive expiry (None: never;
    /// tests drive `Engine::tick` themselves).
    pub reaper_interval: Option<Duration>,
    /// The key file holding the key-encryption key that seals the signing keys in the
    /// database; default `<data_dir>/signing.key`. Nodes sharing a PostgreSQL database must
    /// all use the same one.
    pub signing_key_file: Option<PathBuf>,
    /// How long the first connection to the database may take before start fails.
    pub connect_timeout: Duration,
    /// The server's public base URL (e.g. `https://rtk.example.com`), for the links it hands
    /// out (`chat_download_url`); default `http://` + the bound listen address.
    pub public_url: Option<String>,
    /// Build links from `X-Forwarded-Host` / `X-Forwarded-Proto` (only behind a proxy that
    /// sets them); off by default, since any client can send them.
    pub trust_forwarded_headers: bool,
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
    /// Webhook delivery policy: timeouts, retries, private targets (docs/webhooks.md).
    pub webhooks: crate::webhooks::HookConfig,
    /// How summaries are made: the built-in extractive summariser, or a command
    /// (docs/transcripts.md).
    pub summarizer: crate::transcripts::Summarizer,
    /// Livestreaming: the RTMP ingest (off unless `rtmp_listen` is set) and its limits.
    pub livestreams: crate::livestreams::LiveConfig,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
pub const DEFAULT_DATA_DIR: &str = "./rtk-data";
// The reasons for these defaults are in docs/limits.md.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_CONNECTIONS: usize = 25_000;
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
            node_lease: crate::engine::DEFAULT_LEASE,
            join_timeout: Duration::from_secs(30),
            manual_clock: None,
            admin_token_hash: None,
            enable_reset: false,
            fixtures: None,
            max_connections_per_participant: 10,
            max_chat_messages_per_session: 10_000,
            reaper_interval: Some(Duration::from_secs(1)),
            signing_key_file: None,
            connect_timeout: crate::store::DEFAULT_CONNECT_TIMEOUT,
            public_url: None,
            trust_forwarded_headers: false,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            webhooks: Default::default(),
            summarizer: Default::default(),
            livestreams: Default::default(),
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

    /// The signing key file in force: the configured one, or `signing.key` in the data
    /// directory.
    pub fn signing_key_file(&self) -> PathBuf {
        match &self.signing_key_file {
            Some(p) => p.clone(),
            None => self.data_dir.join(crate::secrets::KEY_FILE_NAME),
        }
    }

    /// Where recording files are stored: `recordings/` in the data directory.
    pub fn recordings_dir(&self) -> PathBuf {
        self.data_dir.join("recordings")
    }

    /// The public base URL without a trailing slash (set by `Server::start` when not
    /// configured).
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }
}

/// Checks a `--public-url`: `http://` or `https://`, a host, no query or spaces.
pub fn validate_public_url(u: &str) -> Result<(), String> {
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.is_empty()
                && !r.starts_with('/')
                && !r.contains(['?', '#', ' ', '@'])
                && !r.contains(char::is_control) =>
        {
            Ok(())
        }
        _ => Err(format!("the public URL must be http://HOST[:PORT][/PATH] or https://…, got {u:?}")),
    }
}
