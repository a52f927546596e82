//! `rtk simulate`: virtual participants in virtual meetings, through the gateway, then what
//! the server reports about them.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use futures_util::{stream, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use rtk_client::params::*;
use rtk_client::participant::Participant;
use rtk_client::Client;
use serde::Serialize;

use crate::resources::ApiArgs;

#[derive(Args, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Meetings to create.
    #[arg(long, default_value_t = 1)]
    meetings: usize,
    /// Participants per meeting.
    #[arg(long, default_value_t = 2)]
    participants: usize,
    /// How long everyone stays (e.g. 30s, 2m, 1500ms; a bare number is seconds).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Participants keep leaving and rejoining while the simulation runs.
    #[arg(long)]
    churn: bool,
    /// Use this app (default: a new one named simulate-…).
    #[arg(long, env = "RTK_APP_ID")]
    app: Option<String>,
    /// The preset participants join with (created in the app if it has none by that name).
    #[arg(long, default_value = "simulate")]
    preset: String,
    /// Joins in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Afterwards, delete the participants it added and set its meetings INACTIVE (the
    /// sessions stay: they are what it measured). Apps cannot be deleted through the API, so
    /// every run uses the one app named rtk-simulate unless given --app.
    #[arg(long)]
    cleanup: bool,
}

/// `30s`, `2m`, `1h`, `1500ms`, or seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("{s:?} is not a duration (e.g. 30s, 2m, 1500ms)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "sec" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    if !secs.is_finite() || !(0.0..=7.0 * 24.0 * 3600.0).contains(&secs) {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A virtual participant: its token, and its connection while it is in.
struct Virtual {
    meeting: usize,
    participant_id: String,
    token: String,
    link: Option<Participant>,
}

#[derive(Debug, Default, Serialize)]
struct MeetingReport {
    meeting_id: String,
    title: String,
    participants: usize,
    /// Sessions the server has for the meeting.
    sessions: usize,
    /// Peers live just before everyone left, as the server counted them.
    live_participants_before_leaving: u64,
    /// Peers live now.
    live_participants: u64,
    max_concurrent_participants: u64,
    minutes_consumed: f64,
    statuses: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    app_id: String,
    meetings: Vec<MeetingReport>,
    joins: usize,
    leaves: usize,
    failed_joins: usize,
    duration_secs: f64,
    total_sessions: usize,
    total_minutes_consumed: f64,
    /// `--cleanup` deleted the participants and set the meetings INACTIVE.
    cleaned_up: bool,
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

/// A preset document participants can join with: every permission a host has.
fn preset_doc(name: &str) -> serde_json::Value {
    let mut doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/examples/preset.json")).unwrap_or_default();
    doc["name"] = name.into();
    doc
}

/// The app simulations use unless given `--app`.
const SIM_APP: &str = "rtk-simulate";

async fn ensure_app_and_preset(client: &Client, acc: &str, a: &SimulateArgs) -> anyhow::Result<String> {
    let kit = client.realtime_kit();
    let app = match &a.app {
        Some(app) => app.clone(),
        None => {
            // One app for every run, found by its name (the API cannot delete apps).
            let found = kit
                .apps()
                .get(&AppListParams {
                    search: Some(SIM_APP.into()),
                    per_page: Some(100),
                    ..AppListParams::new(acc)
                })
                .await?
                .data
                .into_iter()
                .find(|x| x.name == SIM_APP);
            match found {
                Some(x) => x.id,
                None => {
                    kit.apps()
                        .post(&AppPostParams { account_id: acc.into(), name: SIM_APP.into() })
                        .await?
                        .data
                        .app
                        .id
                }
            }
        }
    };
    let existing = kit
        .presets()
        .get(
            &app,
            &PresetListParams {
                search: Some(a.preset.clone()),
                per_page: Some(100),
                ..PresetListParams::new(acc)
            },
        )
        .await?;
    if !existing.data.iter().any(|p| p.name == a.preset) {
        kit.presets()
            .create(&app, &PresetParams::from_document(acc, preset_doc(&a.preset)))
            .await
            .context("cannot create the simulation's preset")?;
    }
    Ok(app)
}

async fn connect(base: &str, token: &str, meeting: usize, i: usize) -> Option<Participant> {
    let mut p = Participant::connect(base, token).await.ok()?;
    let device =
        serde_json::json!({"os": "rtk-simulate", "browser": "virtual", "meeting": meeting, "index": i});
    p.join(Some(device)).await.ok()?;
    Some(p)
}

/// Runs the simulation; on failure prints `rtk: <error>` and exits with status 1.
pub async fn run(a: SimulateArgs) -> anyhow::Result<()> {
    crate::resources::exit_on_error(simulate(a).await)
}

async fn simulate(a: SimulateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.meetings > 0 && a.participants > 0, "--meetings and --participants must be at least 1");
    let (client, acc) = a.api.connect()?;
    let kit = client.realtime_kit();
    let app = ensure_app_and_preset(&client, &acc, &a).await?;

    // Meetings and participants.
    let total = a.meetings * a.participants;
    let setup = bar(total as u64, "{spinner} setting up   [{bar:30}] {pos}/{len} participants");
    let mut meetings = vec![];
    let mut people = vec![];
    for m in 0..a.meetings {
        let title = format!("Simulated meeting {}", m + 1);
        let meeting = kit
            .meetings()
            .create(&app, &MeetingParams { title: Some(title.clone()), ..MeetingParams::new(&acc) })
            .await?
            .data;
        for i in 0..a.participants {
            let params = AddParticipantParams {
                custom_participant_id: format!("sim-{}-{}", m + 1, i + 1),
                preset_name: a.preset.clone(),
                name: Some(format!("Virtual {}.{}", m + 1, i + 1)),
                ..AddParticipantParams::new(&acc)
            };
            let p = kit.meetings().add_participant(&app, &meeting.id, &params).await?.data;
            people.push(Virtual {
                meeting: m,
                participant_id: p.id,
                token: p.token.unwrap_or_default(),
                link: None,
            });
            setup.inc(1);
        }
        meetings.push((meeting.id, title));
    }
    setup.finish_and_clear();

    // Everyone joins.
    let base = a.api.base_url.clone();
    let joining = bar(total as u64, "{spinner} joining      [{bar:30}] {pos}/{len} in");
    let links: Vec<Option<Participant>> = stream::iter(people.iter().enumerate().map(|(i, v)| {
        let (base, token, meeting, joining) = (base.clone(), v.token.clone(), v.meeting, joining.clone());
        async move {
            let p = connect(&base, &token, meeting, i).await;
            joining.inc(1);
            p
        }
    }))
    .buffered(a.concurrency.max(1))
    .collect()
    .await;
    joining.finish_and_clear();
    let mut report = Report { app_id: app.clone(), ..Report::default() };
    for (v, link) in people.iter_mut().zip(links) {
        match link {
            Some(l) => {
                v.link = Some(l);
                report.joins += 1;
            }
            None => report.failed_joins += 1,
        }
    }

    // Hold (with churn: one participant leaves or comes back each tick).
    let started = Instant::now();
    let hold = bar(a.duration.as_millis().max(1) as u64, "{spinner} in session   [{bar:30}] {elapsed} {msg}");
    let tick = Duration::from_millis(200);
    while started.elapsed() < a.duration {
        tokio::time::sleep(tick.min(a.duration.saturating_sub(started.elapsed()))).await;
        hold.set_position(started.elapsed().as_millis() as u64);
        // Drain events nobody reads, so they do not pile up.
        for v in people.iter_mut() {
            if let Some(l) = v.link.as_mut() {
                while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, l.next_event()).await {}
            }
        }
        if a.churn && !people.is_empty() {
            let i = rand::random::<u32>() as usize % people.len();
            let v = &mut people[i];
            match v.link.take() {
                Some(l) => {
                    let _ = l.leave().await;
                    report.leaves += 1;
                }
                None => match connect(&base, &v.token, v.meeting, i).await {
                    Some(l) => {
                        v.link = Some(l);
                        report.joins += 1;
                    }
                    None => report.failed_joins += 1,
                },
            }
        }
        let live = people.iter().filter(|v| v.link.is_some()).count();
        hold.set_message(format!(
            "{live}/{total} connected, {} joins, {} leaves",
            report.joins, report.leaves
        ));
    }
    hold.finish_and_clear();
    report.duration_secs = started.elapsed().as_secs_f64();

    // What the server counts with everyone still in, then everyone leaves.
    let live_before = live_counts(&client, &acc, &app, &meetings).await?;
    let leaving = bar(total as u64, "{spinner} leaving      [{bar:30}] {pos}/{len}");
    for v in people.iter_mut() {
        if let Some(l) = v.link.take() {
            let _ = l.leave().await;
            report.leaves += 1;
        }
        leaving.inc(1);
    }
    leaving.finish_and_clear();

    for ((id, title), live_before) in meetings.iter().zip(live_before) {
        let sessions = kit
            .sessions()
            .get_sessions(
                &app,
                &SessionListParams {
                    associated_id: Some(id.clone()),
                    per_page: Some(100),
                    ..SessionListParams::new(&acc)
                },
            )
            .await?
            .data
            .sessions;
        report.meetings.push(MeetingReport {
            meeting_id: id.clone(),
            title: title.clone(),
            participants: a.participants,
            sessions: sessions.len(),
            live_participants_before_leaving: live_before,
            live_participants: sessions.iter().map(|s| s.live_participants).sum(),
            max_concurrent_participants: sessions
                .iter()
                .map(|s| s.max_concurrent_participants)
                .max()
                .unwrap_or(0),
            minutes_consumed: sessions.iter().map(|s| s.minutes_consumed).sum(),
            statuses: sessions.iter().map(|s| s.status.clone()).collect(),
        });
    }
    report.total_sessions = report.meetings.iter().map(|m| m.sessions).sum();
    report.total_minutes_consumed = report.meetings.iter().map(|m| m.minutes_consumed).sum();
    if a.cleanup {
        let account = AccountParams::new(&acc);
        for v in &people {
            kit.meetings()
                .delete_meeting_participant(&app, &meetings[v.meeting].0, &v.participant_id, &account)
                .await?;
        }
        for (id, _) in &meetings {
            let off = MeetingParams { status: Some("INACTIVE".into()), ..MeetingParams::new(&acc) };
            kit.meetings().update_meeting_by_id(&app, id, &off).await?;
        }
        report.cleaned_up = true;
    }
    print_report(&report, a.api.json)
}

async fn live_counts(
    client: &Client,
    acc: &str,
    app: &str,
    meetings: &[(String, String)],
) -> anyhow::Result<Vec<u64>> {
    let mut out = vec![];
    for (id, _) in meetings {
        let s = client
            .realtime_kit()
            .sessions()
            .get_sessions(
                app,
                &SessionListParams {
                    associated_id: Some(id.clone()),
                    status: Some("LIVE".into()),
                    ..SessionListParams::new(acc)
                },
            )
            .await?;
        out.push(s.data.sessions.iter().map(|s| s.live_participants).sum());
    }
    Ok(out)
}

fn print_report(r: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    println!(
        "Simulated {} meeting(s) in app {} for {:.1}s: {} joins, {} leaves, {} failed joins.\n",
        r.meetings.len(),
        r.app_id,
        r.duration_secs,
        r.joins,
        r.leaves,
        r.failed_joins
    );
    println!(
        "{:<36}  {:>8}  {:>11}  {:>8}  {:>8}  {:>8}  status",
        "meeting", "sessions", "live before", "live now", "max", "minutes"
    );
    for m in &r.meetings {
        println!(
            "{:<36}  {:>8}  {:>11}  {:>8}  {:>8}  {:>8.2}  {}",
            m.meeting_id,
            m.sessions,
            m.live_participants_before_leaving,
            m.live_participants,
            m.max_concurrent_participants,
            m.minutes_consumed,
            m.statuses.join(",")
        );
    }
    println!(
        "\n{} session(s), {:.2} participant-minutes in all.",
        r.total_sessions, r.total_minutes_consumed
    );
    if r.cleaned_up {
        println!("Cleaned up: the participants are deleted and the meetings INACTIVE (the sessions stay).");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }
}
