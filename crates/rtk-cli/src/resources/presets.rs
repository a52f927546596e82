//! `rtk presets list|get|create|update|replace|delete`.

use clap::{Args, Subcommand};
use rtk_client::params::*;

use super::args::{ApiArgs, AppArg, PageArgs};
use super::output::{Out, Table};
use super::{fetch, read_doc};

#[derive(Args, Debug)]
pub struct Presets {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: PresetsCmd,
}

#[derive(Subcommand, Debug)]
enum PresetsCmd {
    /// List the app's presets.
    List {
        #[command(flatten)]
        app: AppArg,
        #[arg(long)]
        search: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a preset.
    Get {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// Create a preset from a JSON document (name, config, permissions, ui).
    Create {
        #[command(flatten)]
        app: AppArg,
        /// The document: a file, or - for standard input.
        file: String,
        /// Use this name instead of the document's.
        #[arg(long)]
        name: Option<String>,
    },
    /// Merge a partial JSON document into a preset.
    Update {
        #[command(flatten)]
        app: AppArg,
        id: String,
        /// The partial document: a file, or - for standard input.
        file: String,
    },
    /// Replace a preset with a whole JSON document.
    Replace {
        #[command(flatten)]
        app: AppArg,
        id: String,
        /// The document: a file, or - for standard input.
        file: String,
    },
    /// Delete a preset.
    Delete {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
}

pub async fn run(p: Presets) -> anyhow::Result<()> {
    let (client, acc) = p.api.connect()?;
    let out = Out { json: p.api.json };
    let presets = client.realtime_kit().presets();
    let account = AccountParams::new(&acc);
    match p.cmd {
        PresetsCmd::List { app, search, page } => {
            let params = PresetListParams { search, per_page: page.per_page, ..PresetListParams::new(&acc) };
            let items = fetch(
                params,
                &page,
                |p| presets.get_auto_paging(&app.app, p),
                async |p| presets.get(&app.app, &p).await.map(|r| (r.data, r.paging)),
            )
            .await?;
            out.list(&items, presets_table)
        }
        PresetsCmd::Get { app, id } => {
            out.one(&presets.get_preset_by_id(&app.app, &id, &account).await?.data)
        }
        PresetsCmd::Create { app, file, name } => {
            let mut params = PresetParams::from_document(&acc, read_doc(&file)?);
            if name.is_some() {
                params.name = name;
            }
            out.one(&presets.create(&app.app, &params).await?.data)
        }
        PresetsCmd::Update { app, id, file } => {
            let params = PresetParams::from_document(&acc, read_doc(&file)?);
            out.one(&presets.update(&app.app, &id, &params).await?.data)
        }
        PresetsCmd::Replace { app, id, file } => {
            let params = PresetParams::from_document(&acc, read_doc(&file)?);
            out.one(&presets.replace(&app.app, &id, &params).await?.data)
        }
        PresetsCmd::Delete { app, id } => out.one(&presets.delete(&app.app, &id, &account).await?.data),
    }
}

fn presets_table(items: &[rtk_api::presets::PresetSummary]) -> Table {
    let mut t = Table::new(&["id", "name", "created_at", "updated_at"]);
    for p in items {
        t.row(vec![p.id.clone(), p.name.clone(), p.created_at.clone(), p.updated_at.clone()]);
    }
    t
}
