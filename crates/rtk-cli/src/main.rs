//! `rtk`: the RealtimeKit-compatible server and its local administration.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use rtk_server::{admin, Config, Server, Store, SystemClock};

#[derive(Parser)]
#[command(name = "rtk", version, about = "A self-hostable RealtimeKit control plane", long_about = None,
    after_help = "Examples:\n  rtk serve                                   # SQLite in ./rtk-data, on 127.0.0.1:8787\n  rtk serve --database-url postgres://127.0.0.1/rtk\n  rtk account create\n  rtk token create --account 023e105f4ecef8ad9ca31a8372d0c353 --name ci")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage accounts (local: works on the store directly).
    #[command(subcommand)]
    Account(AccountCmd),
    /// Manage API tokens (local: works on the store directly).
    #[command(subcommand)]
    Token(TokenCmd),
    /// Manage participant-token signing keys (local).
    #[command(subcommand)]
    Keys(KeysCmd),
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Data directory holding the SQLite database.
    #[arg(long, env = "RTK_DATA_DIR", default_value = rtk_server::config::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Database URL (sqlite://PATH or postgres://…); default: SQLite in the data directory.
    #[arg(long, env = "RTK_DATABASE_URL")]
    database_url: Option<String>,
}

impl StoreArgs {
    fn config(&self) -> Config {
        Config {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..Config::default()
        }
    }
    async fn open(&self) -> anyhow::Result<Store> {
        let cfg = self.config();
        if cfg.database_url.is_none() {
            std::fs::create_dir_all(&cfg.data_dir)
                .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
        }
        Store::connect(&cfg.database_url()).await.context("cannot open the store")
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

fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("RTK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

fn now() -> i64 {
    use rtk_server::Clock;
    SystemClock.now()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => serve(a).await,
        Command::Account(AccountCmd::Create { store, id }) => {
            let s = store.open().await?;
            println!("{}", admin::create_account(&s, id.as_deref(), now()).await?);
            Ok(())
        }
        Command::Token(TokenCmd::Create { store, account, name, email }) => {
            let s = store.open().await?;
            let (_, secret) = admin::create_token(&s, &account, &name, &email, now()).await?;
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
        Command::Keys(KeysCmd::Rotate { store }) => {
            let s = store.open().await?;
            let kid = admin::rotate_keys(&s, now()).await?;
            eprintln!("new signing key {kid} is active; tokens signed before stay valid until they expire");
            Ok(())
        }
    }
}

async fn serve(a: ServeArgs) -> anyhow::Result<()> {
    init_logs(a.log_format);
    let config = Config {
        listen: a.listen,
        body_limit: a.body_limit,
        heartbeat_timeout: std::time::Duration::from_secs(a.heartbeat_timeout_secs),
        ..a.store.config()
    };
    let server = Server::start(config, Arc::new(SystemClock)).await?;
    let addr = server.local_addr();
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
    tracing::info!(%addr, "rtk listening");
    server.run(rtk_server::shutdown_signal()).await?;
    tracing::info!("rtk stopped");
    Ok(())
}
