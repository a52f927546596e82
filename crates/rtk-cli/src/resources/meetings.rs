//! `rtk meetings list|get|create|update|replace`.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rtk_client::params::*;
use serde_json::Value;

use super::args::{ApiArgs, AppArg, PageArgs};
use super::fetch;
use super::output::{opt, Out, Table};

#[derive(Args, Debug)]
pub struct Meetings {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: MeetingsCmd,
}

/// Meeting fields to set.
#[derive(Args, Clone, Debug, Default)]
struct MeetingFields {
    /// The meeting's title.
    #[arg(long)]
    title: Option<String>,
    /// ACTIVE or INACTIVE.
    #[arg(long, value_parser = ["ACTIVE", "INACTIVE"])]
    status: Option<String>,
    #[arg(long)]
    record_on_start: Option<bool>,
    #[arg(long)]
    persist_chat: Option<bool>,
    /// Seconds a session stays alive after its last peer leaves (0 to 600).
    #[arg(long)]
    keep_alive: Option<u32>,
    /// More fields, as a JSON object (e.g. '{"ai_config": {…}}').
    #[arg(long)]
    body: Option<String>,
}

impl MeetingFields {
    fn params(&self, account: &str) -> anyhow::Result<MeetingParams> {
        let extra = match &self.body {
            Some(b) => match serde_json::from_str::<Value>(b).context("--body must be JSON")? {
                Value::Object(m) => m,
                _ => bail!("--body must be a JSON object"),
            },
            None => Default::default(),
        };
        Ok(MeetingParams {
            title: self.title.clone(),
            status: self.status.clone(),
            record_on_start: self.record_on_start,
            persist_chat: self.persist_chat,
            session_keep_alive_time_in_secs: self.keep_alive,
            extra,
            ..MeetingParams::new(account)
        })
    }
}

#[derive(Subcommand, Debug)]
enum MeetingsCmd {
    /// List the app's meetings (newest first).
    List {
        #[command(flatten)]
        app: AppArg,
        /// A title (substring, any case) or a meeting id.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, value_parser = ["ACTIVE", "INACTIVE"])]
        status: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a meeting.
    Get {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// Create a meeting.
    Create {
        #[command(flatten)]
        app: AppArg,
        #[command(flatten)]
        fields: MeetingFields,
    },
    /// Change the given fields of a meeting.
    Update {
        #[command(flatten)]
        app: AppArg,
        id: String,
        #[command(flatten)]
        fields: MeetingFields,
    },
    /// Replace a meeting: fields not given take their defaults.
    Replace {
        #[command(flatten)]
        app: AppArg,
        id: String,
        #[command(flatten)]
        fields: MeetingFields,
    },
}

pub async fn run(m: Meetings) -> anyhow::Result<()> {
    let (client, acc) = m.api.connect()?;
    let out = Out { json: m.api.json };
    let meetings = client.realtime_kit().meetings();
    match m.cmd {
        MeetingsCmd::List { app, search, status, page } => {
            let params =
                MeetingListParams { search, status, per_page: page.per_page, ..MeetingListParams::new(&acc) };
            let items = fetch(
                params,
                &page,
                |p| meetings.get_auto_paging(&app.app, p),
                async |p| meetings.get(&app.app, &p).await.map(|r| (r.data, r.paging)),
            )
            .await?;
            out.list(&items, meetings_table)
        }
        MeetingsCmd::Get { app, id } => {
            out.one(&meetings.get_meeting_by_id(&app.app, &id, &AccountParams::new(&acc)).await?.data)
        }
        MeetingsCmd::Create { app, fields } => {
            out.one(&meetings.create(&app.app, &fields.params(&acc)?).await?.data)
        }
        MeetingsCmd::Update { app, id, fields } => {
            out.one(&meetings.update_meeting_by_id(&app.app, &id, &fields.params(&acc)?).await?.data)
        }
        MeetingsCmd::Replace { app, id, fields } => {
            out.one(&meetings.replace_meeting_by_id(&app.app, &id, &fields.params(&acc)?).await?.data)
        }
    }
}

fn meetings_table(items: &[rtk_api::meetings::Meeting]) -> Table {
    let mut t = Table::new(&["id", "title", "status", "created_at"]);
    for m in items {
        t.row(vec![m.id.clone(), opt(&m.title), opt(&m.status), m.created_at.clone()]);
    }
    t
}
