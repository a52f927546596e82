//! `rtk apps|presets|meetings|participants|sessions|webhooks|recordings|livestreams …`: the API through the Rust SDK.
//! A table by default, JSON with `--json`.
//!
//! - `mod.rs`: the command tree, running a command, paging and reading documents;
//! - `args.rs`: the shared arguments (API base URL and credentials, page, app, meeting);
//! - `output.rs`: tables and JSON;
//! - one module per resource: its subcommands, what each calls in the SDK, its table.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use futures_util::TryStreamExt;
use rtk_client::params::ListParams;
use rtk_client::Items;
use serde_json::Value;

mod apps;
mod args;
mod livestreams;
mod meetings;
mod output;
mod participants;
mod presets;
mod recordings;
mod sessions;
mod webhooks;

pub use args::ApiArgs;
use args::PageArgs;

#[derive(Subcommand, Debug)]
pub enum ResourceCommand {
    /// Apps: list, get and create.
    #[command(
        after_help = "Examples:\n  rtk apps list\n  rtk apps create my-app\n  rtk apps get $APP\n  rtk apps list --json | jq -r '.[].id'"
    )]
    Apps(apps::Apps),
    /// Presets of an app: list, get, create, update, replace, delete.
    #[command(
        after_help = "Examples:\n  rtk presets list --app $APP\n  rtk presets create --app $APP docs/examples/preset.json\n  rtk presets update --app $APP $PRESET patch.json\n  rtk presets delete --app $APP $PRESET"
    )]
    Presets(presets::Presets),
    /// Meetings of an app: list, get, create, update, replace.
    #[command(
        after_help = "Examples:\n  rtk meetings create --app $APP --title 'Weekly sync'\n  rtk meetings list --app $APP --status ACTIVE\n  rtk meetings update --app $APP $MEETING --status INACTIVE"
    )]
    Meetings(meetings::Meetings),
    /// Participants of a meeting: list, get, add, edit, delete, token.
    #[command(
        after_help = "Examples:\n  rtk participants add --app $APP --meeting $MEETING --custom-id user-1 --preset host --name Ada\n  rtk participants list --app $APP --meeting $MEETING\n  rtk participants token --app $APP --meeting $MEETING $PARTICIPANT"
    )]
    Participants(participants::Participants),
    /// Sessions of an app: list, get, participants, chat, active.
    #[command(
        after_help = "Examples:\n  rtk sessions list --app $APP --status LIVE\n  rtk sessions get --app $APP $SESSION --breakout-rooms\n  rtk sessions participants --app $APP $SESSION\n  rtk sessions active --app $APP --meeting $MEETING"
    )]
    Sessions(sessions::Sessions),
    /// Webhooks of an app: list, get, create, update, delete; rtk's delivery log: deliveries,
    /// redeliver.
    #[command(
        after_help = "Examples:\n  rtk webhooks create --app $APP --name billing --url https://example.com/hook --events meeting.started,meeting.ended\n  rtk webhooks list --app $APP\n  rtk webhooks update --app $APP $WEBHOOK --enabled false\n  rtk webhooks deliveries --app $APP $WEBHOOK --state failed\n  rtk webhooks redeliver --app $APP $WEBHOOK $DELIVERY"
    )]
    Webhooks(webhooks::Webhooks),
    /// Recordings of an app (the session's timeline; rtk records no media): list, get, active,
    /// start, pause, resume, stop.
    #[command(
        after_help = "Examples:\n  rtk recordings start --app $APP $MEETING --prefix standup\n  rtk recordings pause --app $APP $RECORDING\n  rtk recordings stop --app $APP $RECORDING\n  rtk recordings get --app $APP $RECORDING --json | jq -r .download_url\n  rtk recordings list --app $APP --status UPLOADED"
    )]
    Recordings(recordings::Recordings),
    /// Livestreams of an app (RTMP in, HTTP-FLV out; the server needs --rtmp-listen): start,
    /// create, active, stop, list, get, live, session, analytics.
    #[command(
        after_help = "Examples:\n  rtk livestreams start --app $APP $MEETING --name keynote\n  ffmpeg -re -i talk.mp4 -c copy -f flv \"$(rtk livestreams active --app $APP $MEETING --json | jq -r '.ingest_server + .stream_key')\"\n  rtk livestreams get --app $APP $LIVESTREAM\n  rtk livestreams stop --app $APP $MEETING\n  rtk livestreams analytics --app $APP --daily"
    )]
    Livestreams(livestreams::Livestreams),
}

/// Runs a resource command; on failure prints `rtk: <error>` and exits with status 1.
pub async fn run(cmd: ResourceCommand) -> anyhow::Result<()> {
    exit_on_error(dispatch(cmd).await)
}

/// Prints an error the way a command line should (no backtrace) and exits with status 1.
pub fn exit_on_error(r: anyhow::Result<()>) -> anyhow::Result<()> {
    if let Err(e) = r {
        eprintln!("rtk: {e:#}");
        std::process::exit(1);
    }
    Ok(())
}

async fn dispatch(cmd: ResourceCommand) -> anyhow::Result<()> {
    match cmd {
        ResourceCommand::Apps(a) => apps::run(a).await,
        ResourceCommand::Presets(p) => presets::run(p).await,
        ResourceCommand::Meetings(m) => meetings::run(m).await,
        ResourceCommand::Participants(p) => participants::run(p).await,
        ResourceCommand::Sessions(s) => sessions::run(s).await,
        ResourceCommand::Webhooks(w) => webhooks::run(w).await,
        ResourceCommand::Recordings(r) => recordings::run(r).await,
        ResourceCommand::Livestreams(l) => livestreams::run(l).await,
    }
}

/// Every item (auto-paging), or the one page asked for.
pub async fn fetch<T, P: ListParams>(
    mut params: P,
    page: &PageArgs,
    all: impl FnOnce(P) -> Items<T>,
    one: impl AsyncFnOnce(P) -> Result<(Vec<T>, Option<rtk_api::Paging>), rtk_client::Error>,
) -> anyhow::Result<Vec<T>> {
    match page.page {
        None => Ok(all(params).try_collect().await?),
        Some(n) => {
            params.set_page_no(n);
            let (items, paging) = one(params).await?;
            if let Some(p) = paging {
                eprintln!("page {n}: items {}–{} of {}", p.start_offset, p.end_offset, p.total_count);
            }
            Ok(items)
        }
    }
}

/// A JSON document from a file or `-` (standard input).
pub fn read_doc(file: &str) -> anyhow::Result<Value> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{file} is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::output::Table;

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["id", "name"]);
        t.row(vec!["1".into(), "short".into()]);
        t.row(vec!["12345".into(), "x".into()]);
        assert_eq!(t.render(), "ID     NAME\n1      short\n12345  x\n");
    }
}
