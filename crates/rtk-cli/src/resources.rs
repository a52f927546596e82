//! `rtk apps|presets|meetings|participants|sessions|webhooks …`: the API through the Rust SDK.
//! A table by default, JSON with `--json`.

mod webhooks;

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use rtk_client::params::*;
use rtk_client::{Client, Items};
use serde::Serialize;
use serde_json::Value;

/// Where and as whom to call the API, and how to print.
#[derive(Args, Clone, Debug)]
pub struct ApiArgs {
    /// The API base URL (rtk's, or Cloudflare's https://api.cloudflare.com/client/v4).
    #[arg(long, env = "RTK_BASE_URL", default_value = "http://127.0.0.1:8787", global = true)]
    pub base_url: String,
    /// The account id [default: from ./rtk-data/credentials.json].
    #[arg(long, env = "RTK_ACCOUNT_ID", global = true)]
    pub account: Option<String>,
    /// The API token [default: from ./rtk-data/credentials.json].
    #[arg(long, env = "RTK_API_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The credentials `rtk serve` saved on its first start: `$RTK_DATA_DIR/credentials.json`,
/// else `./rtk-data/credentials.json`.
fn saved_credentials() -> Option<(PathBuf, Value)> {
    let dir = std::env::var_os("RTK_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(rtk_server::config::DEFAULT_DATA_DIR));
    let path = dir.join("credentials.json");
    let v = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    Some((path, v))
}

impl ApiArgs {
    /// The SDK client and the account id.
    pub fn connect(&self) -> anyhow::Result<(Client, String)> {
        let saved = if self.account.is_none() || self.token.is_none() { saved_credentials() } else { None };
        let from_file = |k: &str| saved.as_ref().and_then(|(_, v)| v[k].as_str().map(str::to_string));
        let account = self.account.clone().or_else(|| from_file("account_id")).context(
            "no account: pass --account, set RTK_ACCOUNT_ID, or run where ./rtk-data/credentials.json is",
        )?;
        let token = self.token.clone().or_else(|| from_file("api_token")).context(
            "no API token: pass --token, set RTK_API_TOKEN, or run where ./rtk-data/credentials.json is",
        )?;
        let client = Client::builder().base_url(self.base_url.trim()).api_token(token).build()?;
        Ok((client, account))
    }
}

/// A page to fetch; without `--page`, every page.
#[derive(Args, Clone, Debug)]
pub struct PageArgs {
    /// Fetch only this page (from 1).
    #[arg(long)]
    page: Option<u32>,
    /// Items per page (1 to 100).
    #[arg(long)]
    per_page: Option<u32>,
}

#[derive(Subcommand, Debug)]
pub enum ResourceCommand {
    /// Apps: list, get and create.
    #[command(
        after_help = "Examples:\n  rtk apps list\n  rtk apps create my-app\n  rtk apps get $APP\n  rtk apps list --json | jq -r '.[].id'"
    )]
    Apps(Apps),
    /// Presets of an app: list, get, create, update, replace, delete.
    #[command(
        after_help = "Examples:\n  rtk presets list --app $APP\n  rtk presets create --app $APP docs/examples/preset.json\n  rtk presets update --app $APP $PRESET patch.json\n  rtk presets delete --app $APP $PRESET"
    )]
    Presets(Presets),
    /// Meetings of an app: list, get, create, update, replace.
    #[command(
        after_help = "Examples:\n  rtk meetings create --app $APP --title 'Weekly sync'\n  rtk meetings list --app $APP --status ACTIVE\n  rtk meetings update --app $APP $MEETING --status INACTIVE"
    )]
    Meetings(Meetings),
    /// Participants of a meeting: list, get, add, edit, delete, token.
    #[command(
        after_help = "Examples:\n  rtk participants add --app $APP --meeting $MEETING --custom-id user-1 --preset host --name Ada\n  rtk participants list --app $APP --meeting $MEETING\n  rtk participants token --app $APP --meeting $MEETING $PARTICIPANT"
    )]
    Participants(Participants),
    /// Sessions of an app: list, get, participants, chat, active.
    #[command(
        after_help = "Examples:\n  rtk sessions list --app $APP --status LIVE\n  rtk sessions get --app $APP $SESSION --breakout-rooms\n  rtk sessions participants --app $APP $SESSION\n  rtk sessions active --app $APP --meeting $MEETING"
    )]
    Sessions(Sessions),
    /// Webhooks of an app: list, get, create, update, delete; rtk's delivery log: deliveries,
    /// redeliver.
    #[command(
        after_help = "Examples:\n  rtk webhooks create --app $APP --name billing --url https://example.com/hook --events meeting.started,meeting.ended\n  rtk webhooks list --app $APP\n  rtk webhooks update --app $APP $WEBHOOK --enabled false\n  rtk webhooks deliveries --app $APP $WEBHOOK --state failed\n  rtk webhooks redeliver --app $APP $WEBHOOK $DELIVERY"
    )]
    Webhooks(webhooks::Webhooks),
}

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

/// The app (every resource below apps belongs to one).
#[derive(Args, Clone, Debug)]
struct AppArg {
    /// The app id.
    #[arg(long, env = "RTK_APP_ID")]
    app: String,
}

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

#[derive(Args, Debug)]
pub struct Participants {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: ParticipantsCmd,
}

/// The meeting.
#[derive(Args, Clone, Debug)]
struct MeetingArg {
    #[command(flatten)]
    app: AppArg,
    /// The meeting id.
    #[arg(long, env = "RTK_MEETING_ID")]
    meeting: String,
}

#[derive(Subcommand, Debug)]
enum ParticipantsCmd {
    /// List the meeting's participants.
    List {
        #[command(flatten)]
        at: MeetingArg,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a participant.
    Get {
        #[command(flatten)]
        at: MeetingArg,
        id: String,
    },
    /// Add a participant; prints it with the token it joins with.
    Add {
        #[command(flatten)]
        at: MeetingArg,
        /// Your id for this person.
        #[arg(long)]
        custom_id: String,
        /// The preset (by name) that sets what the participant may do.
        #[arg(long)]
        preset: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        picture: Option<String>,
    },
    /// Change a participant (a fresh token comes with it).
    Edit {
        #[command(flatten)]
        at: MeetingArg,
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        preset: Option<String>,
        #[arg(long)]
        picture: Option<String>,
    },
    /// Delete a participant (revoking all its tokens).
    Delete {
        #[command(flatten)]
        at: MeetingArg,
        id: String,
    },
    /// Issue a new token for a participant.
    Token {
        #[command(flatten)]
        at: MeetingArg,
        id: String,
    },
}

#[derive(Args, Debug)]
pub struct Sessions {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: SessionsCmd,
}

#[derive(Subcommand, Debug)]
enum SessionsCmd {
    /// List the app's sessions (newest first).
    List {
        #[command(flatten)]
        app: AppArg,
        /// Only this meeting's sessions.
        #[arg(long)]
        meeting: Option<String>,
        #[arg(long, value_parser = ["LIVE", "ENDED"])]
        status: Option<String>,
        /// A meeting title, meeting id or session id.
        #[arg(long)]
        search: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a session.
    Get {
        #[command(flatten)]
        app: AppArg,
        id: String,
        /// Include its breakout-room sessions.
        #[arg(long)]
        breakout_rooms: bool,
    },
    /// List who was in a session.
    Participants {
        #[command(flatten)]
        app: AppArg,
        id: String,
        /// raw (a row per peer) or consolidated (a row per participant).
        #[arg(long, value_parser = ["raw", "consolidated"])]
        view: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// The session's chat: a download link and the messages.
    Chat {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// Show a meeting's live session.
    Active {
        #[command(flatten)]
        at: MeetingArg,
    },
}

/// A table: a header and rows.
struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&'static str]) -> Self {
        Table { header: header.to_vec(), rows: vec![] }
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let line = |cells: Vec<String>| -> String {
            let n = cells.len();
            let mut out = String::new();
            for (i, c) in cells.into_iter().enumerate() {
                out.push_str(&c);
                if i + 1 < n {
                    out.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
                }
            }
            out.trim_end().to_string()
        };
        let mut out = line(self.header.iter().map(|h| h.to_uppercase()).collect());
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r.clone()));
            out.push('\n');
        }
        out
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

/// One object as `field  value` lines; nested values as compact JSON.
fn object_table(v: &Value) -> String {
    let mut t = Table::new(&["field", "value"]);
    if let Value::Object(m) = v {
        for (k, v) in m {
            let cell = match v {
                Value::String(s) => s.clone(),
                Value::Null => "-".into(),
                other => {
                    let s = other.to_string();
                    if s.chars().count() > 100 {
                        format!("{}…", s.chars().take(99).collect::<String>())
                    } else {
                        s
                    }
                }
            };
            t.row(vec![k.clone(), cell]);
        }
    }
    t.render()
}

struct Out {
    json: bool,
}

impl Out {
    fn one<T: Serialize>(&self, v: &T) -> anyhow::Result<()> {
        let v = serde_json::to_value(v)?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            print!("{}", object_table(&v));
        }
        Ok(())
    }
    fn list<T: Serialize>(&self, items: &[T], table: impl FnOnce(&[T]) -> Table) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(items)?);
        } else {
            print!("{}", table(items).render());
        }
        Ok(())
    }
}

/// Every item (auto-paging), or the one page asked for.
async fn fetch<T, P: ListParams>(
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
fn read_doc(file: &str) -> anyhow::Result<Value> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{file} is not JSON"))
}

fn apps_table(items: &[rtk_api::App]) -> Table {
    let mut t = Table::new(&["id", "name", "created_at"]);
    for a in items {
        t.row(vec![a.id.clone(), a.name.clone(), a.created_at.clone()]);
    }
    t
}

fn presets_table(items: &[rtk_api::presets::PresetSummary]) -> Table {
    let mut t = Table::new(&["id", "name", "created_at", "updated_at"]);
    for p in items {
        t.row(vec![p.id.clone(), p.name.clone(), p.created_at.clone(), p.updated_at.clone()]);
    }
    t
}

fn meetings_table(items: &[rtk_api::meetings::Meeting]) -> Table {
    let mut t = Table::new(&["id", "title", "status", "created_at"]);
    for m in items {
        t.row(vec![m.id.clone(), opt(&m.title), opt(&m.status), m.created_at.clone()]);
    }
    t
}

fn participants_table(items: &[rtk_api::meetings::MeetingParticipant]) -> Table {
    let mut t = Table::new(&["id", "custom_id", "name", "preset", "created_at"]);
    for p in items {
        t.row(vec![
            p.id.clone(),
            p.custom_participant_id.clone(),
            opt(&p.name),
            opt(&p.preset_name),
            p.created_at.clone(),
        ]);
    }
    t
}

fn sessions_table(items: &[rtk_api::sessions::Session]) -> Table {
    let mut t = Table::new(&["id", "meeting", "title", "status", "live", "max", "minutes", "started_at"]);
    for s in items {
        t.row(vec![
            s.id.clone(),
            s.associated_id.clone(),
            s.meeting_display_name.clone(),
            s.status.clone(),
            s.live_participants.to_string(),
            s.max_concurrent_participants.to_string(),
            format!("{:.2}", s.minutes_consumed),
            s.started_at.clone(),
        ]);
    }
    t
}

fn session_people_table(items: &[rtk_api::sessions::SessionParticipant]) -> Table {
    let mut t = Table::new(&["peer", "participant", "custom_id", "name", "joined_at", "left_at", "minutes"]);
    for p in items {
        t.row(vec![
            p.id.clone(),
            p.user_id.clone(),
            p.custom_participant_id.clone(),
            p.display_name.clone(),
            p.joined_at.clone(),
            opt(&p.left_at),
            format!("{:.2}", p.duration),
        ]);
    }
    t
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
        ResourceCommand::Apps(a) => apps(a).await,
        ResourceCommand::Presets(p) => presets(p).await,
        ResourceCommand::Meetings(m) => meetings(m).await,
        ResourceCommand::Participants(p) => participants(p).await,
        ResourceCommand::Sessions(s) => sessions(s).await,
        ResourceCommand::Webhooks(w) => webhooks::run(w).await,
    }
}

async fn apps(a: Apps) -> anyhow::Result<()> {
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

async fn presets(p: Presets) -> anyhow::Result<()> {
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

async fn meetings(m: Meetings) -> anyhow::Result<()> {
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

async fn participants(p: Participants) -> anyhow::Result<()> {
    let (client, acc) = p.api.connect()?;
    let out = Out { json: p.api.json };
    let meetings = client.realtime_kit().meetings();
    let account = AccountParams::new(&acc);
    match p.cmd {
        ParticipantsCmd::List { at, page } => {
            let params =
                ParticipantListParams { per_page: page.per_page, ..ParticipantListParams::new(&acc) };
            let (app, meeting) = (&at.app.app, &at.meeting);
            let items = fetch(
                params,
                &page,
                |p| meetings.get_meeting_participants_auto_paging(app, meeting, p),
                async |p| {
                    meetings.get_meeting_participants(app, meeting, &p).await.map(|r| (r.data, r.paging))
                },
            )
            .await?;
            out.list(&items, participants_table)
        }
        ParticipantsCmd::Get { at, id } => {
            out.one(&meetings.get_meeting_participant(&at.app.app, &at.meeting, &id, &account).await?.data)
        }
        ParticipantsCmd::Add { at, custom_id, preset, name, picture } => {
            let params = AddParticipantParams {
                custom_participant_id: custom_id,
                preset_name: preset,
                name,
                picture,
                ..AddParticipantParams::new(&acc)
            };
            out.one(&meetings.add_participant(&at.app.app, &at.meeting, &params).await?.data)
        }
        ParticipantsCmd::Edit { at, id, name, preset, picture } => {
            let params = EditParticipantParams {
                name,
                picture,
                preset_name: preset,
                ..EditParticipantParams::new(&acc)
            };
            out.one(&meetings.edit_participant(&at.app.app, &at.meeting, &id, &params).await?.data)
        }
        ParticipantsCmd::Delete { at, id } => {
            out.one(&meetings.delete_meeting_participant(&at.app.app, &at.meeting, &id, &account).await?.data)
        }
        ParticipantsCmd::Token { at, id } => {
            out.one(&meetings.refresh_participant_token(&at.app.app, &at.meeting, &id, &account).await?.data)
        }
    }
}

async fn sessions(s: Sessions) -> anyhow::Result<()> {
    let (client, acc) = s.api.connect()?;
    let out = Out { json: s.api.json };
    let kit = client.realtime_kit();
    let sessions = kit.sessions();
    let account = AccountParams::new(&acc);
    match s.cmd {
        SessionsCmd::List { app, meeting, status, search, page } => {
            let params = SessionListParams {
                associated_id: meeting,
                status,
                search,
                per_page: page.per_page,
                ..SessionListParams::new(&acc)
            };
            let items = fetch(
                params,
                &page,
                |p| sessions.get_sessions_auto_paging(&app.app, p),
                async |p| sessions.get_sessions(&app.app, &p).await.map(|r| (r.data.sessions, r.paging)),
            )
            .await?;
            out.list(&items, sessions_table)
        }
        SessionsCmd::Get { app, id, breakout_rooms } => {
            let params = GetSessionDetailsParams {
                include_breakout_rooms: breakout_rooms.then_some(true),
                ..GetSessionDetailsParams::new(&acc)
            };
            out.one(&sessions.get_session_details(&app.app, &id, &params).await?.data.session)
        }
        SessionsCmd::Participants { app, id, view, page } => {
            let params = SessionParticipantListParams {
                view,
                per_page: page.per_page,
                ..SessionParticipantListParams::new(&acc)
            };
            let items = fetch(
                params,
                &page,
                |p| sessions.get_session_participants_auto_paging(&app.app, &id, p),
                async |p| {
                    sessions
                        .get_session_participants(&app.app, &id, &p)
                        .await
                        .map(|r| (r.data.participants, r.paging))
                },
            )
            .await?;
            out.list(&items, session_people_table)
        }
        SessionsCmd::Chat { app, id } => {
            let chat = sessions.get_session_chat(&app.app, &id, &account).await?.data;
            if out.json {
                return out.one(&chat);
            }
            println!("download: {} (until {})", chat.chat_download_url, chat.chat_download_url_expiry);
            let mut t = Table::new(&["sent_at", "from", "message"]);
            for m in chat.messages.unwrap_or_default() {
                t.row(vec![m.sent_at, m.display_name.unwrap_or(m.participant_id), m.message]);
            }
            print!("{}", t.render());
            Ok(())
        }
        SessionsCmd::Active { at } => {
            out.one(&kit.active_session().get_active_session(&at.app.app, &at.meeting, &account).await?.data)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["id", "name"]);
        t.row(vec!["1".into(), "short".into()]);
        t.row(vec!["12345".into(), "x".into()]);
        assert_eq!(t.render(), "ID     NAME\n1      short\n12345  x\n");
    }
}
