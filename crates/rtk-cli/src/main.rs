//! `rtk`: the RealtimeKit-compatible server and its local administration.

mod fixtures;
mod remote;
mod resources;
mod simulate;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use rtk_server::{admin, config, Config, Server, Store, SystemClock};

#[derive(Parser)]
#[command(name = "rtk", version, about = "A self-hostable RealtimeKit control plane", long_about = None,
    after_help = "Examples:\n  rtk serve                                   # SQLite in ./rtk-data, on 127.0.0.1:8787\n  rtk serve --database-url postgres://127.0.0.1/rtk\n  rtk account create\n  rtk token create --account 023e105f4ecef8ad9ca31a8372d0c353 --name ci\n  rtk apps create my-app                      # the API, as the credentials in ./rtk-data allow\n  rtk meetings list --app $APP --json\n  rtk simulate --meetings 3 --participants 5 --duration 30s --churn\n  rtk completions bash > /etc/bash_completion.d/rtk")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    #[command(
        after_help = "Examples:\n  rtk serve                                   # SQLite in ./rtk-data, 127.0.0.1:8787\n  rtk serve --database-url postgres://rtk@db/rtk --listen 0.0.0.0:8787\n  rtk serve --rtmp-listen 127.0.0.1:1935      # livestreams (docs/livestreams.md)\n  rtk serve --ephemeral --clock manual --admin-token T   # a test double (docs/testing-with-rtk.md)\n  RTK_LOG=info,tower_http=debug rtk serve     # with request lines (docs/operations.md)"
    )]
    Serve(Box<ServeArgs>),
    /// Manage accounts (local: works on the store directly).
    #[command(
        subcommand,
        after_help = "Examples:\n  rtk account create\n  rtk account create --id my-account --database-url postgres://rtk@db/rtk"
    )]
    Account(AccountCmd),
    /// Manage API tokens (local: works on the store directly).
    #[command(
        subcommand,
        after_help = "Examples:\n  rtk token create --account $ACC --name ci --email ci@example.com\n  rtk token list --account $ACC\n  rtk token revoke $TOKEN_ID"
    )]
    Token(TokenCmd),
    /// Manage participant-token signing keys (local).
    #[command(
        subcommand,
        after_help = "Example:\n  rtk keys rotate      # new tokens use a new key; older tokens stay valid"
    )]
    Keys(KeysCmd),
    /// Load a fixtures file (or a directory of them) into the store: accounts, API tokens,
    /// apps, presets, meetings, participants, ended sessions and webhooks, with their ids
    /// and times kept (docs/fixtures.md). All or nothing; applying it again changes nothing.
    /// With --from-realtimekit, read them from an account through the RealtimeKit API.
    #[command(
        after_help = "Examples:\n  rtk import fixtures.json\n  rtk import fixtures/ --database-url postgres://127.0.0.1/rtk\n  rtk import fixtures.json --dry-run\n  rtk import --from-realtimekit https://api.cloudflare.com/client/v4 --account ACCOUNT_ID --token TOKEN -o fixtures.json\n\nExit status: 1 when any entry is wrong (every error is listed, each naming the file, the entry and the field; nothing is written)."
    )]
    Import(fixtures::ImportArgs),
    /// Write the store as a fixtures file (ended sessions only; API tokens as their hashes).
    #[command(
        after_help = "Examples:\n  rtk export > fixtures.json\n  rtk export --output fixtures.json --database-url postgres://127.0.0.1/rtk"
    )]
    Export(fixtures::ExportArgs),
    /// The fixtures format.
    #[command(subcommand, after_help = "Example:\n  rtk fixtures schema > fixtures.schema.json")]
    Fixtures(fixtures::FixturesCmd),
    /// Join a meeting as a terminal participant: prints every event as a JSON line, leaves
    /// cleanly on SIGINT or SIGTERM.
    #[command(
        after_help = "Example:\n  rtk join --base-url http://127.0.0.1:8787 --token \"$PARTICIPANT_TOKEN\"\n\nOutput: one JSON line per gateway event (docs/gateway.md), the first the protocol's own `joined` {peer_id, session_id, meeting_id, peers, peers_total}; then `dropped`, `link_resumed` and `rejoined` when the connection is lost and comes back (a server restart included: it resumes the same peer while the heartbeat timeout allows, else joins again), `closed` {code, reason} when the server closes it, and `left` after a clean leave.\n\nExit status: 0 after a clean leave, 2 when the server refused or closed the connection."
    )]
    Join(JoinArgs),
    #[command(flatten)]
    Resources(resources::ResourceCommand),
    /// Run virtual participants in virtual meetings through the gateway, then show what the
    /// server reports (sessions, live and peak participants, minutes).
    #[command(
        after_help = "Examples:\n  rtk simulate                                            # 1 meeting, 2 participants, 10 s\n  rtk simulate --meetings 3 --participants 5 --duration 1m --churn\n  rtk simulate --app $APP --duration 30s --json"
    )]
    Simulate(simulate::SimulateArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  rtk completions bash > ~/.local/share/bash-completion/completions/rtk\n  rtk completions zsh > \"${fpath[1]}/_rtk\"\n  rtk completions fish > ~/.config/fish/completions/rtk.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct JoinArgs {
    /// The rtk server (its API base URL; the gateway is on the same host).
    #[arg(long, env = "RTK_BASE_URL", default_value = "http://127.0.0.1:8787")]
    base_url: String,
    /// The participant token from "add participant".
    #[arg(long, env = "RTK_PARTICIPANT_TOKEN")]
    token: String,
    /// Device metadata to join with, as a JSON object.
    #[arg(long)]
    device: Option<String>,
}

#[derive(Args, Clone)]
pub(crate) struct StoreArgs {
    /// Data directory holding the SQLite database.
    #[arg(long, env = "RTK_DATA_DIR", default_value = rtk_server::config::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Database URL (sqlite://PATH or postgres://…); default: SQLite in the data directory.
    #[arg(long, env = "RTK_DATABASE_URL")]
    database_url: Option<String>,
    /// The key file that seals the participant-token signing keys in the database
    /// [default: DATA_DIR/signing.key]. Every node on one PostgreSQL database needs the same.
    #[arg(long, env = "RTK_SIGNING_KEY_FILE")]
    signing_key_file: Option<PathBuf>,
    /// Seconds the first connection to the database may take.
    #[arg(long, env = "RTK_CONNECT_TIMEOUT_SECS", default_value_t = 5)]
    connect_timeout_secs: u64,
}

impl StoreArgs {
    fn config(&self) -> Config {
        Config {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            signing_key_file: self.signing_key_file.clone(),
            connect_timeout: std::time::Duration::from_secs(self.connect_timeout_secs),
            ..Config::default()
        }
    }
    pub(crate) async fn open(&self) -> anyhow::Result<Store> {
        let cfg = self.config();
        rtk_server::secrets::ensure_private_dir(&cfg.data_dir)?;
        Store::open(&cfg.database_url(), cfg.connect_timeout).await.context("cannot open the store")
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    Text,
    Json,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RTK_LISTEN", default_value = rtk_server::config::DEFAULT_LISTEN)]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// Log format.
    #[arg(long, env = "RTK_LOG_FORMAT", value_enum, default_value = "auto")]
    log_format: LogFormat,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "RTK_BODY_LIMIT", default_value_t = 1024 * 1024)]
    body_limit: usize,
    /// Seconds a peer may stay silent before it is considered gone.
    #[arg(long, env = "RTK_HEARTBEAT_TIMEOUT_SECS", default_value_t = 30)]
    heartbeat_timeout_secs: u64,
    /// Seconds a node may go without renewing its lease before another node on the same
    /// PostgreSQL database takes it for dead and ends its peers at their last heartbeat
    /// (renewed every fifth of it; docs/deployment.md).
    #[arg(long, env = "RTK_NODE_LEASE_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    node_lease_secs: u64,
    /// The clock every time-dependent rule runs on: `system`, or `manual` (optionally
    /// `manual=2026-01-01T00:00:00Z`; default: now), which moves only through the admin clock
    /// endpoint `/_rtk/clock` (for test environments; docs/testing-with-rtk.md).
    #[arg(long, env = "RTK_CLOCK", default_value = "system", value_parser = parse_clock)]
    clock: ClockArg,
    /// Keep everything in a new temporary data directory, removed when the server stops (for
    /// test runs; not with --database-url).
    #[arg(long, env = "RTK_EPHEMERAL", conflicts_with = "database_url")]
    ephemeral: bool,
    /// The admin token rtk's admin endpoints require (/_rtk/clock on a manual clock, and
    /// /_rtk/reset, which exists only when an admin token is configured) [default with a
    /// manual clock: made at start and kept in <data dir>/admin-token].
    #[arg(long, env = "RTK_ADMIN_TOKEN", hide_env_values = true, value_parser = parse_admin_token)]
    admin_token: Option<String>,
    /// Serve POST /_rtk/reset (empties the store, keeps credentials) without a manual clock
    /// too; it always needs the admin token. On by itself with --clock manual and --ephemeral.
    #[arg(long, env = "RTK_ENABLE_RESET")]
    enable_reset: bool,
    /// A fixtures file, or a directory of them, applied at start (idempotent: what is already
    /// stored as given is left alone) and again after every POST /_rtk/reset, which so
    /// returns to them (docs/fixtures.md).
    #[arg(long, env = "RTK_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// Seconds a new gateway connection has to send join or resume (absolute from connect).
    #[arg(long, env = "RTK_JOIN_TIMEOUT_SECS", default_value_t = 30)]
    join_timeout_secs: u64,
    /// Open gateway connections one participant may hold on this node (one per device).
    #[arg(long, env = "RTK_MAX_CONNECTIONS_PER_PARTICIPANT", default_value_t = 10)]
    max_connections_per_participant: usize,
    /// Chat messages stored per session; past it chat is refused.
    #[arg(long, env = "RTK_MAX_CHAT_MESSAGES_PER_SESSION", default_value_t = 10_000)]
    max_chat_messages_per_session: i64,
    /// The public base URL for links the server hands out (chat downloads), e.g.
    /// https://rtk.example.com [default: http:// + the listen address].
    #[arg(long, env = "RTK_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    /// Build links from X-Forwarded-Host / X-Forwarded-Proto: only behind a proxy that sets
    /// (and overwrites) them.
    #[arg(long, env = "RTK_TRUST_FORWARDED_HEADERS")]
    trust_forwarded_headers: bool,
    /// Seconds a client has to send a request's head (request line and headers).
    #[arg(long, env = "RTK_HEADER_READ_TIMEOUT_SECS", default_value_t = secs(config::DEFAULT_HEADER_READ_TIMEOUT), value_parser = positive())]
    header_read_timeout_secs: u64,
    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(long, env = "RTK_IDLE_TIMEOUT_SECS", default_value_t = secs(config::DEFAULT_IDLE_TIMEOUT), value_parser = positive())]
    idle_timeout_secs: u64,
    /// Seconds a request may take (body and handler) before it is answered 503.
    #[arg(long, env = "RTK_REQUEST_TIMEOUT_SECS", default_value_t = secs(config::DEFAULT_REQUEST_TIMEOUT), value_parser = positive())]
    request_timeout_secs: u64,
    /// Seconds a connection's writes may make no progress before it is closed.
    #[arg(long, env = "RTK_WRITE_TIMEOUT_SECS", default_value_t = secs(config::DEFAULT_WRITE_TIMEOUT), value_parser = positive())]
    write_timeout_secs: u64,
    /// Open connections at most (WebSocket ones included); more are refused with a 503.
    #[arg(long, env = "RTK_MAX_CONNECTIONS", default_value_t = config::DEFAULT_MAX_CONNECTIONS as u64,
          value_parser = positive())]
    max_connections: u64,
    /// Longest request target (path and query), in bytes; longer is 414.
    #[arg(long, env = "RTK_MAX_URI_BYTES", default_value_t = config::DEFAULT_MAX_URI_BYTES)]
    max_uri_bytes: usize,
    /// Largest total of request header names and values, in bytes; larger is 431.
    #[arg(long, env = "RTK_MAX_HEADER_BYTES", default_value_t = config::DEFAULT_MAX_HEADER_BYTES)]
    max_header_bytes: usize,
    #[command(flatten)]
    webhooks: WebhookArgs,
    /// A program that summarises transcripts instead of the built-in extractive summariser:
    /// run with `sh -c`, the transcript (JSON) on its stdin, the summary (Markdown) on its
    /// stdout (docs/transcripts.md).
    #[arg(long, env = "RTK_SUMMARIZER_COMMAND")]
    summarizer_command: Option<String>,
    /// Seconds the summariser command may take; then it is killed and the summary FAILED.
    #[arg(long, env = "RTK_SUMMARIZER_TIMEOUT_SECS", default_value_t = 120, value_parser = positive())]
    summarizer_timeout_secs: u64,
    #[command(flatten)]
    livestreams: LiveArgs,
}

/// Livestreaming (docs/livestreams.md): off unless `--rtmp-listen` is given.
#[derive(clap::Args, Debug, Clone)]
struct LiveArgs {
    /// Where the RTMP ingest listens (e.g. 127.0.0.1:1935); livestreams need it.
    #[arg(long, env = "RTK_RTMP_LISTEN")]
    rtmp_listen: Option<std::net::SocketAddr>,
    /// The `rtmp://host:port` broadcasters reach the ingest at (default: the bound address).
    #[arg(long, env = "RTK_RTMP_PUBLIC_URL")]
    rtmp_public_url: Option<String>,
    /// Playback connections per livestream.
    #[arg(long, env = "RTK_LIVESTREAM_MAX_VIEWERS", default_value_t = 1_000)]
    livestream_max_viewers: usize,
    /// An ingest over this rate (kbit/s, averaged over 4 s) is cut off as ERRORED.
    #[arg(long, env = "RTK_LIVESTREAM_MAX_BITRATE_KBPS", default_value_t = 20_000)]
    livestream_max_bitrate_kbps: u64,
    /// Store every ingest as an FLV file (kept 7 days after it ends): the livestream
    /// session's `recording_url`.
    #[arg(long, env = "RTK_LIVESTREAM_RECORD")]
    livestream_record: bool,
}

/// Webhook delivery (docs/webhooks.md).
#[derive(clap::Args, Debug, Clone)]
struct WebhookArgs {
    /// Refuse webhook receivers on loopback, private, link-local and CGNAT addresses (SSRF
    /// protection; off by default so a receiver on localhost works in development).
    #[arg(long, env = "RTK_WEBHOOK_DENY_PRIVATE")]
    webhook_deny_private: bool,
    /// Seconds a connection to a webhook receiver may take.
    #[arg(long, env = "RTK_WEBHOOK_CONNECT_TIMEOUT_SECS", default_value_t = 3, value_parser = positive())]
    webhook_connect_timeout_secs: u64,
    /// Seconds one delivery attempt may take in all; longer is a timeout (retried).
    #[arg(long, env = "RTK_WEBHOOK_TIMEOUT_SECS", default_value_t = 10, value_parser = positive())]
    webhook_timeout_secs: u64,
    /// Attempts per event at most, the first included.
    #[arg(long, env = "RTK_WEBHOOK_MAX_ATTEMPTS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..))]
    webhook_max_attempts: u32,
    /// Hours after an event past which no retry is scheduled.
    #[arg(long, env = "RTK_WEBHOOK_RETRY_HORIZON_HOURS", default_value_t = 24, value_parser = positive())]
    webhook_retry_horizon_hours: u64,
    /// Seconds the first retry waits at most; each next one twice as long, up to the cap.
    #[arg(long, env = "RTK_WEBHOOK_BACKOFF_BASE_SECS", default_value_t = 1, value_parser = positive())]
    webhook_backoff_base_secs: u64,
    /// Seconds any retry waits at most.
    #[arg(long, env = "RTK_WEBHOOK_BACKOFF_CAP_SECS", default_value_t = 600, value_parser = positive())]
    webhook_backoff_cap_secs: u64,
    /// Delivery attempts in flight at most on this node.
    #[arg(long, env = "RTK_WEBHOOK_CONCURRENCY", default_value_t = 64, value_parser = positive())]
    webhook_concurrency: u64,
    /// Days a finished delivery (and its attempts) stays in the delivery log.
    #[arg(long, env = "RTK_WEBHOOK_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3650))]
    webhook_retention_days: u64,
}

impl WebhookArgs {
    fn config(&self) -> rtk_server::webhooks::HookConfig {
        use std::time::Duration;
        rtk_server::webhooks::HookConfig {
            connect_timeout: Duration::from_secs(self.webhook_connect_timeout_secs),
            timeout: Duration::from_secs(self.webhook_timeout_secs),
            max_attempts: self.webhook_max_attempts,
            horizon: Duration::from_secs(self.webhook_retry_horizon_hours * 3600),
            backoff_base: Duration::from_secs(self.webhook_backoff_base_secs),
            backoff_cap: Duration::from_secs(self.webhook_backoff_cap_secs),
            deny_private: self.webhook_deny_private,
            concurrency: usize::try_from(self.webhook_concurrency).unwrap_or(usize::MAX),
            retention: Duration::from_secs(self.webhook_retention_days * 24 * 3600),
            ..Default::default()
        }
    }
}

const fn secs(d: std::time::Duration) -> u64 {
    d.as_secs()
}

/// Timeouts and the connection cap: 0 would refuse everything, so it is not a setting.
fn positive() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(1..)
}

#[derive(Clone, Debug)]
enum ClockArg {
    System,
    /// Starting at this time (None: now).
    Manual(Option<i64>),
}

fn parse_clock(s: &str) -> Result<ClockArg, String> {
    match s.trim() {
        "system" => Ok(ClockArg::System),
        "manual" => Ok(ClockArg::Manual(None)),
        other => match other.strip_prefix("manual=") {
            Some(t) => rtk_server::clock::parse_rfc3339(t)
                .map(|ms| ClockArg::Manual(Some(ms)))
                .ok_or_else(|| format!("{t:?} is not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z)")),
            None => Err(format!("{other:?}: use system, manual or manual=RFC3339")),
        },
    }
}

fn parse_admin_token(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.len() < 8 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("an admin token is at least 8 visible ASCII characters".into());
    }
    Ok(t.to_string())
}

fn parse_public_url(s: &str) -> Result<String, String> {
    rtk_server::config::validate_public_url(s).map(|_| s.to_string())
}

#[derive(Subcommand)]
enum AccountCmd {
    /// Create an account; prints its id alone on stdout.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// Use this id instead of a generated one.
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token; prints the token alone on stdout (it is shown only once).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The account the token belongs to.
        #[arg(long)]
        account: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// The email that goes with the token as X-Auth-Email + X-Auth-Key.
        #[arg(long, default_value = admin::DEFAULT_EMAIL)]
        email: String,
        /// Use this value as the token instead of a generated one (fixed credentials a test
        /// suite can hard-code; 8 to 512 visible ASCII characters). Stored hashed.
        #[arg(long, env = "RTK_TOKEN_VALUE", hide_env_values = true)]
        value: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        account: Option<String>,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The token id (from `rtk token list`).
        id: String,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Start signing participant tokens with a new key; tokens signed before stay valid.
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The log filter: `RTK_LOG` (default `info`), with the libraries' own debug chatter (every
/// SQL statement, every HTTP frame) kept at `warn` unless `RTK_LOG` names them or asks for
/// `trace`. Request lines: `RTK_LOG=info,tower_http=debug` (docs/operations.md).
fn log_filter(rtk_log: Option<&str>) -> String {
    const CHATTY: [&str; 6] = ["sqlx", "hyper", "h2", "reqwest", "tungstenite", "tokio_tungstenite"];
    let user = rtk_log.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("info");
    if user.contains("trace") {
        return user.to_string();
    }
    let quiet: Vec<String> =
        CHATTY.iter().filter(|t| !user.contains(*t)).map(|t| format!("{t}=warn")).collect();
    format!("{},{user}", quiet.join(","))
}

fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let spec = log_filter(std::env::var("RTK_LOG").ok().as_deref());
    let filter = EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("rtk: RTK_LOG={spec:?} is not a log filter ({e}); logging at info");
        EnvFilter::new("info")
    });
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    // Colour only for a terminal: a redirected log gets no escape codes.
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

pub(crate) fn now() -> i64 {
    use rtk_server::Clock;
    SystemClock.now()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => serve(*a).await,
        Command::Account(AccountCmd::Create { store, id }) => {
            let s = store.open().await?;
            println!("{}", admin::create_account(&s, id.as_deref(), now()).await?);
            Ok(())
        }
        Command::Token(TokenCmd::Create { store, account, name, email, value }) => {
            let s = store.open().await?;
            let (_, secret) =
                admin::create_token_with_value(&s, &account, &name, &email, value.as_deref(), now()).await?;
            println!("{secret}");
            Ok(())
        }
        Command::Token(TokenCmd::List { store, account }) => {
            let s = store.open().await?;
            println!("{:<36}  {:<32}  {:<16}  {:<24}  status", "id", "account", "name", "created");
            for t in s.list_tokens(account.as_deref()).await? {
                println!(
                    "{:<36}  {:<32}  {:<16}  {:<24}  {}",
                    t.id,
                    t.account_id,
                    t.name,
                    rtk_server::clock::rfc3339(t.created_at),
                    if t.revoked_at.is_some() { "revoked" } else { "live" }
                );
            }
            Ok(())
        }
        Command::Token(TokenCmd::Revoke { store, id }) => {
            let s = store.open().await?;
            s.revoke_token(&id, now()).await?;
            eprintln!("revoked {id}");
            Ok(())
        }
        Command::Import(a) => fixtures::import(a).await,
        Command::Export(a) => fixtures::export(a).await,
        Command::Fixtures(c) => fixtures::run(c),
        Command::Join(a) => join(a).await,
        Command::Resources(c) => resources::run(c).await,
        Command::Simulate(a) => simulate::run(a).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "rtk", &mut std::io::stdout());
            Ok(())
        }
        Command::Keys(KeysCmd::Rotate { store }) => {
            let s = store.open().await?;
            let keys =
                rtk_server::tokens::KeyRing::load(s, &store.config().signing_key_file(), now()).await?;
            let kid = admin::rotate_keys(&keys, now()).await?;
            eprintln!("new signing key {kid} is active; tokens signed before stay valid until they expire");
            Ok(())
        }
    }
}

async fn serve(a: ServeArgs) -> anyhow::Result<()> {
    init_logs(a.log_format);
    let fixtures = match &a.fixtures {
        Some(p) => Some(Arc::new(
            rtk_server::fixtures::FixtureSet::load(p)
                .map_err(|e| anyhow::anyhow!("the fixtures were not applied:\n{e}"))?,
        )),
        None => None,
    };
    let config = Config {
        listen: a.listen,
        body_limit: a.body_limit,
        heartbeat_timeout: std::time::Duration::from_secs(a.heartbeat_timeout_secs),
        node_lease: std::time::Duration::from_secs(a.node_lease_secs),
        join_timeout: std::time::Duration::from_secs(a.join_timeout_secs),
        manual_clock: match a.clock {
            ClockArg::System => None,
            ClockArg::Manual(start) => Some(rtk_server::ManualClock::new(
                start.unwrap_or_else(|| rtk_server::Clock::now(&SystemClock)),
            )),
        },
        admin_token_hash: a.admin_token.as_deref().map(|t| rtk_server::auth::hash_token(t.trim())),
        enable_reset: a.enable_reset || a.ephemeral,
        fixtures,
        max_connections_per_participant: a.max_connections_per_participant,
        max_chat_messages_per_session: a.max_chat_messages_per_session,
        public_url: a.public_url.clone(),
        trust_forwarded_headers: a.trust_forwarded_headers,
        header_read_timeout: std::time::Duration::from_secs(a.header_read_timeout_secs),
        idle_timeout: std::time::Duration::from_secs(a.idle_timeout_secs),
        request_timeout: std::time::Duration::from_secs(a.request_timeout_secs),
        write_timeout: std::time::Duration::from_secs(a.write_timeout_secs),
        max_connections: usize::try_from(a.max_connections).unwrap_or(usize::MAX),
        max_uri_bytes: a.max_uri_bytes,
        max_header_bytes: a.max_header_bytes,
        webhooks: a.webhooks.config(),
        summarizer: match &a.summarizer_command {
            Some(cmd) => rtk_server::transcripts::Summarizer::Command {
                argv: vec!["sh".into(), "-c".into(), cmd.clone()],
                timeout: std::time::Duration::from_secs(a.summarizer_timeout_secs),
            },
            None => rtk_server::transcripts::Summarizer::Extractive,
        },
        livestreams: rtk_server::livestreams::LiveConfig {
            rtmp_listen: a.livestreams.rtmp_listen,
            rtmp_public_url: a.livestreams.rtmp_public_url.clone(),
            max_viewers: a.livestreams.livestream_max_viewers,
            max_bitrate_kbps: a.livestreams.livestream_max_bitrate_kbps,
            record: a.livestreams.livestream_record,
            ..Default::default()
        },
        ..a.store.config()
    };
    // Signals are ours from here on: one that comes during start still stops us cleanly.
    #[cfg(unix)]
    let stop = rtk_server::shutdown_signals()?;
    #[cfg(not(unix))]
    let stop = rtk_server::shutdown_signal();
    // Removed on drop, that is when serve returns (a stop by signal included).
    let ephemeral = if a.ephemeral {
        let dir = tempfile::Builder::new().prefix("rtk-ephemeral-").tempdir()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        }
        tracing::info!(data_dir = %dir.path().display(), "ephemeral: everything is kept here and removed at exit");
        Some(dir)
    } else {
        None
    };
    let config = match &ephemeral {
        Some(dir) => Config { data_dir: dir.path().to_path_buf(), ..config },
        None => config,
    };
    let manual = config.manual_clock.clone();
    let token_given = config.admin_token_hash.is_some();
    let data_dir = config.data_dir.clone();
    let server = Server::start(config, Arc::new(SystemClock)).await?;
    let addr = server.local_addr();
    if let Some(m) = &manual {
        let token = if token_given {
            "the one given with --admin-token / RTK_ADMIN_TOKEN".to_string()
        } else {
            format!("in {}", data_dir.join("admin-token").display())
        };
        tracing::info!(
            now = %rtk_server::clock::rfc3339(rtk_server::Clock::now(m)),
            admin_token = %token,
            "manual clock: it moves only with POST /_rtk/clock/advance {{\"seconds\": N}} or /_rtk/clock/set"
        );
    }
    if let Some(b) = &server.bootstrap {
        println!(
            "\nFirst start: created account {acc} and an API token (saved to {file}, mode 0600).\n\n  \
             account id: {acc}\n  api token:  {tok}\n\nTry it:\n\n  \
             curl -s -X POST http://{addr}/client/v4/accounts/{acc}/realtime/kit/apps \\\n    \
             -H 'Authorization: Bearer {tok}' -H 'Content-Type: application/json' -d '{{\"name\": \"my-app\"}}'\n",
            acc = b.account_id,
            tok = b.token,
            file = b.credentials_file.display(),
        );
    }
    if server.bootstrap.is_none() {
        let file = data_dir.join("credentials.json");
        let account = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["account_id"].as_str().map(str::to_string));
        if let Some(account_id) = account {
            tracing::info!(credentials = %file.display(), %account_id, "the first start's account and API token are in the credentials file");
        }
    }
    tracing::info!(%addr, "rtk listening");
    server.run(stop).await?;
    if let Some(dir) = ephemeral {
        let path = dir.path().display().to_string();
        dir.close()?;
        tracing::info!(data_dir = %path, "ephemeral: removed");
    }
    tracing::info!("rtk stopped");
    Ok(())
}

fn event_line(e: &rtk_client::participant::Event) -> String {
    use rtk_client::participant::Event;
    match e {
        Event::Server(ev) => serde_json::to_string(ev).unwrap_or_default(),
        Event::Dropped => r#"{"type":"dropped"}"#.to_string(),
        Event::Resumed { peer_id } => {
            serde_json::json!({"type": "link_resumed", "peer_id": peer_id}).to_string()
        }
        Event::Rejoined { peer_id, session_id } => {
            serde_json::json!({"type": "rejoined", "peer_id": peer_id, "session_id": session_id}).to_string()
        }
        Event::Closed { code, reason } => {
            serde_json::json!({"type": "closed", "code": code, "reason": reason}).to_string()
        }
    }
}

async fn join(a: JoinArgs) -> anyhow::Result<()> {
    use rtk_client::participant::{Event, Participant};
    // Signal handlers first: a SIGTERM at any moment after `joined` must leave cleanly.
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let device = match &a.device {
        Some(d) => {
            Some(serde_json::from_str::<serde_json::Value>(d).context("--device must be a JSON object")?)
        }
        None => None,
    };
    let mut p = match Participant::connect(&a.base_url, &a.token).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rtk join: {e}");
            std::process::exit(2);
        }
    };
    // The first line printed is the protocol's own `joined` event (docs/gateway.md), from the
    // event stream like every other line.
    if let Err(e) = p.join(device).await {
        eprintln!("rtk join: {e}");
        std::process::exit(2);
    }
    loop {
        tokio::select! {
            _ = async { tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} } } => {
                p.leave().await?;
                println!(r#"{{"type":"left"}}"#);
                return Ok(());
            }
            ev = p.next_event() => match ev {
                Some(e @ Event::Closed { .. }) => {
                    println!("{}", event_line(&e));
                    std::process::exit(2);
                }
                Some(e) => println!("{}", event_line(&e)),
                None => std::process::exit(2),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::log_filter;

    #[test]
    fn library_chatter_stays_at_warn_unless_asked_for() {
        let f = log_filter(None);
        assert!(f.ends_with(",info") && f.contains("sqlx=warn") && f.contains("hyper=warn"), "{f}");
        let f = log_filter(Some("debug,sqlx=debug"));
        assert!(
            !f.contains("sqlx=warn") && f.contains("hyper=warn") && f.ends_with("debug,sqlx=debug"),
            "{f}"
        );
        assert_eq!(log_filter(Some("trace")), "trace");
        assert!(log_filter(Some("  ")).ends_with(",info"));
    }
}
