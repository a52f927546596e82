//! `rtk participants list|get|add|edit|delete|token`.

use clap::{Args, Subcommand};
use rtk_client::params::*;

use super::args::{ApiArgs, MeetingArg, PageArgs};
use super::fetch;
use super::output::{opt, Out, Table};

#[derive(Args, Debug)]
pub struct Participants {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: ParticipantsCmd,
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
        /// The name shown to the others.
        #[arg(long)]
        name: Option<String>,
        /// A URL of the participant's picture.
        #[arg(long)]
        picture: Option<String>,
    },
    /// Change a participant (a fresh token comes with it).
    Edit {
        #[command(flatten)]
        at: MeetingArg,
        id: String,
        /// A new display name.
        #[arg(long)]
        name: Option<String>,
        /// A new preset (by name).
        #[arg(long)]
        preset: Option<String>,
        /// A new picture URL.
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

pub async fn run(p: Participants) -> anyhow::Result<()> {
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
