//! `rtk sessions list|get|participants|chat|active`.

use clap::{Args, Subcommand};
use rtk_client::params::*;

use super::args::{ApiArgs, AppArg, MeetingArg, PageArgs};
use super::fetch;
use super::output::{opt, Out, Table};

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

pub async fn run(s: Sessions) -> anyhow::Result<()> {
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
            super::output::number(s.minutes_consumed),
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
            super::output::number(p.duration),
        ]);
    }
    t
}
