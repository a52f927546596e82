//! `rtk import`, `rtk export` and `rtk fixtures schema`: fixtures files (docs/fixtures.md)
//! into and out of a store, working on the store directly like the other local commands.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rtk_server::fixtures::{self, FixtureError, FixtureSet};

use crate::StoreArgs;

#[derive(Args)]
pub struct ImportArgs {
    /// A fixtures file, or a directory of them (every *.json, applied together).
    #[arg(required_unless_present = "from_realtimekit")]
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Check everything and say what would be written, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Read the account through the RealtimeKit API at this base URL instead (Cloudflare's
    /// https://api.cloudflare.com/client/v4, or another rtk's http://HOST:PORT/client/v4):
    /// apps, presets, meetings, participants and ended sessions with their peers and chat.
    #[arg(long, value_name = "BASE_URL", conflicts_with = "path", requires_all = ["account", "token"])]
    pub from_realtimekit: Option<String>,
    /// The account to read (with --from-realtimekit).
    #[arg(long)]
    pub account: Option<String>,
    /// An API token of that account (with --from-realtimekit).
    #[arg(long, env = "CLOUDFLARE_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// With --from-realtimekit: write the fixtures file here (checked, but not applied to any
    /// store) instead of importing it.
    #[arg(long, short, requires = "from_realtimekit")]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Write here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum FixturesCmd {
    /// Print the JSON Schema of the fixtures format.
    Schema,
}

/// Prints every error on its own line; exit status 1.
fn fail(e: FixtureError) -> ! {
    match e {
        FixtureError::Invalid(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("rtk: {} error(s); nothing was written", errors.len());
        }
        FixtureError::Store(e) => eprintln!("rtk: {e}; nothing was written"),
    }
    std::process::exit(1)
}

/// Reads an account through the API into a fixtures file; its bytes (pretty JSON) and the
/// set parsed from them (so every entry is checked by the same rules as a file's).
async fn from_remote(base: &str, account: &str, token: &str) -> anyhow::Result<(Vec<u8>, FixtureSet)> {
    let client = rtk_client::Client::builder().base_url(base.trim()).api_token(token).build()?;
    let (file, counts) = crate::remote::read_account(&client, account).await?;
    let what: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!("read {} from {base}", what.join(", "));
    let mut bytes = serde_json::to_vec_pretty(&file)?;
    bytes.push(b'\n');
    let set = FixtureSet::parse(&format!("the account read from {base}"), &bytes).unwrap_or_else(|e| fail(e));
    Ok((bytes, set))
}

pub async fn import(a: ImportArgs) -> anyhow::Result<()> {
    let set = match (&a.from_realtimekit, &a.path) {
        (Some(base), _) => {
            let account = a.account.as_deref().unwrap_or_default();
            let (bytes, set) = from_remote(base, account, a.token.as_deref().unwrap_or_default()).await?;
            if let Some(out) = &a.output {
                // Checked against an empty store: the file stands on its own.
                let scratch = tempfile::tempdir()?;
                let url = format!("sqlite://{}/check.db", scratch.path().display());
                let store = rtk_server::Store::open(&url, rtk_server::store::DEFAULT_CONNECT_TIMEOUT).await?;
                set.check(&store).await.unwrap_or_else(|e| fail(e));
                std::fs::write(out, &bytes)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
                eprintln!("wrote {}", out.display());
                return Ok(());
            }
            set
        }
        (None, Some(path)) => FixtureSet::load(path).unwrap_or_else(|e| fail(e)),
        (None, None) => anyhow::bail!("give a fixtures file or --from-realtimekit"),
    };
    let store = a.store.open().await?;
    let done = if a.dry_run { set.check(&store).await } else { set.apply(&store).await };
    let applied = done.unwrap_or_else(|e| fail(e));
    let what: Vec<String> = applied.inserted.iter().map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!(
        "{} {}; {} entr{} already stored as given",
        if a.dry_run { "would write" } else { "wrote" },
        if what.is_empty() { "nothing".to_string() } else { what.join(", ") },
        applied.unchanged,
        if applied.unchanged == 1 { "y" } else { "ies" },
    );
    Ok(())
}

pub async fn export(a: ExportArgs) -> anyhow::Result<()> {
    let store = a.store.open().await?;
    let (file, live) = fixtures::export(&store, crate::now()).await.unwrap_or_else(|e| fail(e));
    if live > 0 {
        eprintln!("rtk: {live} live session(s) left out: the format holds ended sessions only");
    }
    let bytes = file.to_bytes();
    match &a.output {
        Some(p) => {
            std::fs::write(p, &bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}

pub fn run(c: FixturesCmd) -> anyhow::Result<()> {
    match c {
        FixturesCmd::Schema => print!("{}", fixtures::SCHEMA),
    }
    Ok(())
}
