//! `rtk livestreams …`: an app's livestreams (docs/livestreams.md): start, create, active,
//! stop, list, get, live, session, analytics. The server must run with `--rtmp-listen`.

use clap::{Args, Subcommand};
use rtk_api::livestreams::{Livestream, LivestreamDay, VideoConfig};
use rtk_client::params::{
    AccountParams, CreateLivestreamParams, LivestreamAnalyticsParams, LivestreamListParams,
    LivestreamSessionListParams, StartLivestreamParams,
};

use super::args::{ApiArgs, AppArg};
use super::output::{opt, Out, Table};

#[derive(Args, Debug)]
pub struct Livestreams {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: LivestreamsCmd,
}

#[derive(Subcommand, Debug)]
enum LivestreamsCmd {
    /// Start a livestream of a meeting; publish RTMP to ingest_server + stream_key.
    Start {
        #[command(flatten)]
        app: AppArg,
        meeting: String,
        /// Its name (default: the meeting's title).
        #[arg(long)]
        name: Option<String>,
        /// The size it is composed at (kept; rtk passes the ingest through as is).
        #[arg(long)]
        width: Option<i64>,
        #[arg(long)]
        height: Option<i64>,
    },
    /// Create a livestream of no meeting (an independent livestream).
    Create {
        #[command(flatten)]
        app: AppArg,
        #[arg(long)]
        name: Option<String>,
    },
    /// The meeting's running livestream.
    Active {
        #[command(flatten)]
        app: AppArg,
        meeting: String,
    },
    /// Stop the meeting's livestream (its ingest ends; its key is refused from then on).
    Stop {
        #[command(flatten)]
        app: AppArg,
        meeting: String,
    },
    /// List the app's livestreams (newest first).
    List {
        #[command(flatten)]
        app: AppArg,
        /// Only this status: INVOKED, LIVE, IDLE, ERRORED.
        #[arg(long)]
        status: Option<String>,
        /// Only independent livestreams (of no meeting).
        #[arg(long)]
        independent: bool,
        #[arg(long)]
        page: Option<u32>,
        #[arg(long)]
        per_page: Option<u32>,
    },
    /// Show a livestream and its sessions (ingests), newest first.
    Get {
        #[command(flatten)]
        app: AppArg,
        id: String,
        #[arg(long)]
        page: Option<u32>,
        #[arg(long)]
        per_page: Option<u32>,
    },
    /// The livestream's running ingest (fails when it is not live).
    Live {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// One livestream session (ingest).
    Session {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// Ingests, ingest seconds and viewer seconds in a range (default: the last 30 days).
    Analytics {
        #[command(flatten)]
        app: AppArg,
        /// Start of the range, Unix seconds.
        #[arg(long)]
        from: Option<i64>,
        /// End of the range, Unix seconds (included).
        #[arg(long)]
        to: Option<i64>,
        /// One row per UTC day instead of the totals.
        #[arg(long)]
        daily: bool,
    },
}

fn table(items: &[Livestream]) -> Table {
    let mut t = Table::new(&["id", "status", "name", "meeting_id", "disabled", "created_at"]);
    for l in items {
        t.row(vec![
            l.id.clone(),
            l.status.clone(),
            opt(&l.name),
            opt(&l.meeting_id),
            l.disabled.clone(),
            l.created_at.clone(),
        ]);
    }
    t
}

fn days(items: &[LivestreamDay]) -> Table {
    let mut t = Table::new(&["date", "count", "ingest_s", "viewer_s"]);
    for d in items {
        t.row(vec![
            d.date.clone(),
            d.count.to_string(),
            d.total_ingest_seconds.to_string(),
            d.total_viewer_seconds.to_string(),
        ]);
    }
    t
}

pub(super) async fn run(l: Livestreams) -> anyhow::Result<()> {
    let (client, acc) = l.api.connect()?;
    let out = Out { json: l.api.json };
    let ls = client.realtime_kit().livestreams();
    let account = AccountParams::new(&acc);
    match l.cmd {
        LivestreamsCmd::Start { app, meeting, name, width, height } => {
            let video_config = (width.is_some() || height.is_some()).then_some(VideoConfig { width, height });
            let params = StartLivestreamParams { name, video_config, ..StartLivestreamParams::new(&acc) };
            out.one(&ls.start_livestreaming_a_meeting(&app.app, &meeting, &params).await?.data)
        }
        LivestreamsCmd::Create { app, name } => {
            let params = CreateLivestreamParams { name, ..CreateLivestreamParams::new(&acc) };
            out.one(&ls.create_independent_livestream(&app.app, &params).await?.data)
        }
        LivestreamsCmd::Active { app, meeting } => {
            out.one(&ls.get_meeting_active_livestreams(&app.app, &meeting, &account).await?.data)
        }
        LivestreamsCmd::Stop { app, meeting } => {
            out.one(&ls.stop_livestreaming_a_meeting(&app.app, &meeting, &account).await?.data)
        }
        LivestreamsCmd::List { app, status, independent, page, per_page } => {
            let params = LivestreamListParams {
                status,
                exclude_meetings: independent.then_some(true),
                page_no: page,
                per_page,
                ..LivestreamListParams::new(&acc)
            };
            out.list(&ls.get_all_livestreams(&app.app, &params).await?.data.livestreams, table)
        }
        LivestreamsCmd::Get { app, id, page, per_page } => {
            let params = LivestreamSessionListParams {
                page_no: page,
                per_page,
                ..LivestreamSessionListParams::new(&acc)
            };
            out.one(&ls.get_livestream_session_for_livestream_id(&app.app, &id, &params).await?.data)
        }
        LivestreamsCmd::Live { app, id } => {
            out.one(&ls.get_active_livestreams_for_livestream_id(&app.app, &id, &account).await?.data)
        }
        LivestreamsCmd::Session { app, id } => {
            out.one(&ls.get_livestream_session_details_for_session_id(&app.app, &id, &account).await?.data)
        }
        LivestreamsCmd::Analytics { app, from, to, daily } => {
            let params = LivestreamAnalyticsParams {
                start_time: from,
                end_time: to,
                ..LivestreamAnalyticsParams::new(&acc)
            };
            if daily {
                out.list(&ls.get_livestream_analytics_daywise(&app.app, &params).await?.data, days)
            } else {
                out.one(&ls.get_livestream_analytics_complete(&app.app, &params).await?.data)
            }
        }
    }
}
