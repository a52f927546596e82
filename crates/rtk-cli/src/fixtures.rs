//! `rtk import`, `rtk export` and `rtk fixtures schema`: fixtures files (docs/fixtures.md)
//! into and out of a store, working on the store directly like the other local commands.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rtk_server::fixtures::{self, FixtureError, FixtureSet};

use crate::StoreArgs;

#[derive(Args)]
pub struct ImportArgs {
    /// A fixtures file, or a directory of them (every *.json, applied together).
    pub path: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Check everything and say what would be written, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
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

pub async fn import(a: ImportArgs) -> anyhow::Result<()> {
    let set = FixtureSet::load(&a.path).unwrap_or_else(|e| fail(e));
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
