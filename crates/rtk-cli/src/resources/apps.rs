//! `rtk apps list|get|create`.

use anyhow::bail;
use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use rtk_client::params::*;

use super::args::{ApiArgs, PageArgs};
use super::fetch;
use super::output::{Out, Table};

#[derive(Args, Debug)]
pub struct Apps {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: AppsCmd,
}

#[derive(Subcommand, Debug)]
enum AppsCmd {
    /// List the account's apps (oldest first).
    List {
        /// A name (substring, any case) or an app id.
        #[arg(long)]
        search: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show an app (the API has no get-by-id: this searches the list for the id).
    Get {
        /// The app id.
        id: String,
    },
    /// Create an app.
    Create {
        /// Its name.
        name: String,
    },
}

pub async fn run(a: Apps) -> anyhow::Result<()> {
    let (client, acc) = a.api.connect()?;
    let out = Out { json: a.api.json };
    let apps = client.realtime_kit().apps();
    match a.cmd {
        AppsCmd::List { search, page } => {
            let params = AppListParams { search, per_page: page.per_page, ..AppListParams::new(&acc) };
            let items = fetch(
                params,
                &page,
                |p| apps.get_auto_paging(p),
                async |p| apps.get(&p).await.map(|r| (r.data, r.paging)),
            )
            .await?;
            out.list(&items, apps_table)
        }
        AppsCmd::Get { id } => {
            let params = AppListParams { search: Some(id.clone()), ..AppListParams::new(&acc) };
            let found: Vec<rtk_api::App> = apps.get_auto_paging(params).try_collect().await?;
            match found.into_iter().find(|a| a.id == id) {
                Some(app) => out.one(&app),
                None => bail!("No app found with id {id}"),
            }
        }
        AppsCmd::Create { name } => {
            let app = apps.post(&AppPostParams { account_id: acc, name }).await?.data.app;
            out.one(&app)
        }
    }
}

fn apps_table(items: &[rtk_api::App]) -> Table {
    let mut t = Table::new(&["id", "name", "created_at"]);
    for a in items {
        t.row(vec![a.id.clone(), a.name.clone(), a.created_at.clone()]);
    }
    t
}
