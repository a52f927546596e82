//! `rtk recordings …`: an app's recordings (docs/recordings.md): list, get, start, pause,
//! resume, stop, active.

use clap::{Args, Subcommand};
use rtk_api::recordings::Recording;
use rtk_client::params::{AccountParams, RecordingActionParams, RecordingListParams, StartRecordingParams};

use super::args::{ApiArgs, AppArg};
use super::output::{opt, Out, Table};

#[derive(Args, Debug)]
pub struct Recordings {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    cmd: RecordingsCmd,
}

#[derive(Subcommand, Debug)]
enum RecordingsCmd {
    /// List the app's recordings (newest first).
    List {
        #[command(flatten)]
        app: AppArg,
        /// Only this meeting's.
        #[arg(long)]
        meeting: Option<String>,
        /// Only these statuses, comma-separated or repeated: INVOKED, RECORDING, PAUSED,
        /// UPLOADING, UPLOADED, ERRORED.
        #[arg(long, value_delimiter = ',')]
        status: Vec<String>,
        #[arg(long)]
        page: Option<u32>,
        #[arg(long)]
        per_page: Option<u32>,
    },
    /// Show a recording (with its download link once UPLOADED).
    Get {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// The meeting's running recording.
    Active {
        #[command(flatten)]
        app: AppArg,
        meeting: String,
    },
    /// Start recording a meeting's live session.
    Start {
        #[command(flatten)]
        app: AppArg,
        meeting: String,
        /// Prefix of the file name.
        #[arg(long)]
        prefix: Option<String>,
        /// Stop after this many seconds of recorded time (60 to 86400).
        #[arg(long)]
        max_seconds: Option<u32>,
        /// Allow it beside another running recording of the meeting.
        #[arg(long)]
        allow_multiple: bool,
    },
    /// Pause a recording.
    Pause {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// Resume a paused recording.
    Resume {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
    /// Stop a recording (its file is written at once).
    Stop {
        #[command(flatten)]
        app: AppArg,
        id: String,
    },
}

fn table(items: &[Recording]) -> Table {
    let mut t =
        Table::new(&["id", "status", "session_id", "invoked_time", "stopped_time", "duration_s", "file"]);
    for r in items {
        t.row(vec![
            r.id.clone(),
            r.status.clone(),
            opt(&r.session_id),
            r.invoked_time.clone(),
            opt(&r.stopped_time),
            r.recording_duration.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            r.output_file_name.clone(),
        ]);
    }
    t
}

pub(super) async fn run(r: Recordings) -> anyhow::Result<()> {
    let (client, acc) = r.api.connect()?;
    let out = Out { json: r.api.json };
    let recs = client.realtime_kit().recordings();
    let account = AccountParams::new(&acc);
    let act = |a: &str| RecordingActionParams { action: a.into(), ..RecordingActionParams::new(&acc) };
    match r.cmd {
        RecordingsCmd::List { app, meeting, status, page, per_page } => {
            let params = RecordingListParams {
                meeting_id: meeting,
                status,
                page_no: page,
                per_page,
                ..RecordingListParams::new(&acc)
            };
            out.list(&recs.get_recordings(&app.app, &params).await?.data, table)
        }
        RecordingsCmd::Get { app, id } => {
            out.one(&recs.get_one_recording(&app.app, &id, &account).await?.data)
        }
        RecordingsCmd::Active { app, meeting } => {
            out.one(&recs.get_active_recordings(&app.app, &meeting, &account).await?.data)
        }
        RecordingsCmd::Start { app, meeting, prefix, max_seconds, allow_multiple } => {
            let params = StartRecordingParams {
                meeting_id: meeting,
                file_name_prefix: prefix,
                max_seconds,
                allow_multiple_recordings: allow_multiple.then_some(true),
                ..StartRecordingParams::new(&acc)
            };
            out.one(&recs.start_recordings(&app.app, &params).await?.data)
        }
        RecordingsCmd::Pause { app, id } => {
            out.one(&recs.pause_resume_stop_recording(&app.app, &id, &act("pause")).await?.data)
        }
        RecordingsCmd::Resume { app, id } => {
            out.one(&recs.pause_resume_stop_recording(&app.app, &id, &act("resume")).await?.data)
        }
        RecordingsCmd::Stop { app, id } => {
            out.one(&recs.pause_resume_stop_recording(&app.app, &id, &act("stop")).await?.data)
        }
    }
}
