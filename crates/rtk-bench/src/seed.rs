//! `rtk-bench seed`: fills a store through the `Store`'s public methods (in batches, not over
//! HTTP), so a benchmark starts from a known size in seconds.
//!
//! The main app holds a live session of 2 peers, one of `participants` peers and `ended`
//! ended sessions over up to 1,000 meetings. With `--lists N` a second app (the *lists app*)
//! holds N of everything a list endpoint pages over: N presets (one named `host`), N meetings
//! with one ended session each, a *crowd* meeting with N participants whose live session has
//! N peers and two breakout rooms (child meetings with live child sessions), and an empty
//! meeting for the add-participant write.

use std::time::Instant;

use rtk_server::store::{AppRow, MeetingRow, ParticipantRow, PeerRow, PresetRow, SessionRow};
use rtk_server::{admin, Clock, Store, SystemClock};
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;

fn session(id: &str, app: &str, meeting: &str, start: i64) -> SessionRow {
    SessionRow {
        id: id.to_string(),
        app_id: app.to_string(),
        seq: 0, // assigned by import_sessions
        meeting_id: meeting.to_string(),
        meeting_title: Some(format!("Meeting {meeting}")),
        parent_session_id: None,
        status: "LIVE".into(),
        keep_alive_ms: 60_000,
        started_at: start,
        ended_at: None,
        created_at: start,
        updated_at: start,
        live_count: 0,
        max_live: 0,
        peer_count: 0,
        closed_ms: 0,
        live_join_sum: 0,
        last_leave_at: None,
        ends_at: None,
        dropped_count: 0,
        meta: "{}".into(),
    }
}

/// A meeting as `POST …/meetings` with an empty body stores it (the defaults as its document).
fn meeting(id: &str, app: &str, now: i64) -> MeetingRow {
    MeetingRow {
        id: id.to_string(),
        app_id: app.to_string(),
        title: Some(format!("Meeting {id}")),
        status: "ACTIVE".into(),
        keep_alive_secs: 60,
        body: json!({
            "preferred_region": null, "record_on_start": false, "live_stream_on_start": false,
            "persist_chat": false, "summarize_on_end": false, "transcribe_on_end": false,
        })
        .to_string(),
        parent_meeting_id: None,
        created_at: now,
        updated_at: now,
    }
}

/// Who a seeded peer is: a participant row of the meeting, or (for the main app's sessions,
/// which only the session endpoints read) a made-up participant id.
struct Who {
    participant_id: String,
    custom_participant_id: String,
    name: String,
}

/// A live session of one peer per `who`, joined over the hour before `now`; every fourth
/// peer has left again, so the sort by duration differs from the sort by join time. The
/// session's aggregates are the ones the engine would have kept.
async fn live_session(
    store: &Store,
    app: &str,
    m: &MeetingRow,
    parent_session: Option<&str>,
    who: &[Who],
    now: i64,
) -> anyhow::Result<String> {
    let sid = format!("{}-live", m.id);
    let mut s = session(&sid, app, &m.id, now - HOUR);
    s.meeting_title = m.title.clone();
    s.parent_session_id = parent_session.map(str::to_string);
    let mut peers = Vec::with_capacity(who.len());
    for (i, w) in who.iter().enumerate() {
        let joined = now - HOUR + (i as i64 * 7) % HOUR;
        let left = (i % 4 == 3).then(|| (joined + 60_000 + (i as i64 * 13) % 1_800_000).min(now - 1));
        match left {
            Some(l) => {
                s.closed_ms += l - joined;
                s.last_leave_at = s.last_leave_at.max(Some(l));
            }
            None => {
                s.live_count += 1;
                s.live_join_sum += joined;
            }
        }
        peers.push(PeerRow {
            id: format!("{sid}-peer-{i}"),
            session_id: sid.clone(),
            meeting_id: m.id.clone(),
            participant_id: w.participant_id.clone(),
            custom_participant_id: w.custom_participant_id.clone(),
            display_name: Some(w.name.clone()),
            preset_name: "host".into(),
            device: None,
            joined_at: joined,
            left_at: left,
            last_seen_at: left.unwrap_or(joined),
            leave_reason: left.map(|_| "left".to_string()),
            connected: left.is_none(),
            node_id: None,
            created_at: joined,
            updated_at: left.unwrap_or(joined),
            dropped_at: None,
        });
    }
    s.max_live = who.len() as i64;
    s.peer_count = who.len() as i64;
    s.updated_at = s.last_leave_at.unwrap_or(s.started_at);
    store.import_sessions(&[s]).await?;
    for chunk in peers.chunks(5_000) {
        store.import_peers(chunk).await?;
    }
    Ok(sid)
}

fn made_up(mid: &str, n: usize) -> Vec<Who> {
    (0..n)
        .map(|i| Who {
            participant_id: format!("{mid}-p{i}"),
            custom_participant_id: format!("user-{i}"),
            name: format!("User {i}"),
        })
        .collect()
}

/// N ended sessions, oldest first so the app's order of creation (seq) follows `started_at`,
/// in meetings `meeting_of(i)`, imported in batches of 10,000. Returns the first one's id.
async fn ended_sessions(
    store: &Store,
    app: &str,
    n: usize,
    now: i64,
    meeting_of: impl Fn(usize) -> String,
) -> anyhow::Result<Option<String>> {
    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000.min(n));
    let mut first = None;
    for i in 0..n {
        let start = now - 2 * HOUR - ((n - 1 - i) as i64 * 31_000) % (365 * 86_400_000);
        let mut s = session(&format!("{app}-ended-{i}"), app, &meeting_of(i), start);
        let peers = 2 + (i as i64 % 7);
        s.status = "ENDED".into();
        s.ended_at = Some(start + 1_800_000);
        s.last_leave_at = s.ended_at;
        s.updated_at = start + 1_800_000;
        s.max_live = peers;
        s.peer_count = peers;
        s.closed_ms = peers * 1_800_000;
        first.get_or_insert_with(|| s.id.clone());
        batch.push(s);
        if batch.len() == 10_000 {
            store.import_sessions(&batch).await?;
            batch.clear();
            eprintln!("seeded {} ended sessions ({:.1} s)", i + 1, started.elapsed().as_secs_f64());
        }
    }
    if !batch.is_empty() {
        store.import_sessions(&batch).await?;
    }
    Ok(first)
}

async fn new_app(store: &Store, account: &str, name: &str, now: i64) -> anyhow::Result<String> {
    let app = format!("app-{}", uuid::Uuid::new_v4().simple());
    store
        .insert_app(&AppRow {
            id: app.clone(),
            account_id: account.to_string(),
            name: name.into(),
            created_at: now,
        })
        .await?;
    Ok(app)
}

/// The lists app (see the module comment); its ids as JSON.
async fn lists_app(store: &Store, account: &str, n: usize, now: i64) -> anyhow::Result<Value> {
    let app = new_app(store, account, "bench lists", now).await?;
    // Presets: the example document under N names, `host` first.
    let mut doc: Value = serde_json::from_str(include_str!("../../../docs/examples/preset.json"))?;
    if let Some(d) = doc.as_object_mut() {
        d.remove("name");
    }
    let mut host = None;
    for i in 0..n.max(1) {
        let id = uuid::Uuid::now_v7().to_string();
        let name = if i == 0 { "host".to_string() } else { format!("preset-{i}") };
        let at = now - HOUR + i as i64;
        store
            .insert_preset(&PresetRow {
                id: id.clone(),
                app_id: app.clone(),
                name,
                body: doc.to_string(),
                created_at: at,
                updated_at: at,
            })
            .await?;
        host.get_or_insert(id);
    }
    let host = host.unwrap_or_default();
    // N meetings with one ended session each.
    for i in 0..n {
        store
            .insert_meeting(&meeting(&format!("{app}-m{i}"), &app, now - 400 * 86_400_000 + i as i64))
            .await?;
    }
    let app2 = app.clone();
    ended_sessions(store, &app, n, now, move |i| format!("{app2}-m{i}")).await?;
    // The crowd: N participants, a live session of N peers, two breakout rooms.
    let crowd = meeting(&format!("{app}-crowd"), &app, now - 2 * HOUR);
    store.insert_meeting(&crowd).await?;
    let mut who = Vec::with_capacity(n);
    for i in 0..n {
        let p = ParticipantRow {
            id: uuid::Uuid::now_v7().to_string(),
            meeting_id: crowd.id.clone(),
            app_id: app.clone(),
            custom_participant_id: format!("user-{i}"),
            preset_id: host.clone(),
            preset_name: "host".into(),
            name: Some(format!("User {i}")),
            picture: None,
            created_at: now - 2 * HOUR + i as i64,
            updated_at: now - 2 * HOUR + i as i64,
        };
        store.insert_participant(&p).await?;
        who.push(Who {
            participant_id: p.id,
            custom_participant_id: p.custom_participant_id,
            name: format!("User {i}"),
        });
    }
    let crowd_session = live_session(store, &app, &crowd, None, &who, now).await?;
    for r in 0..2 {
        let mut room = meeting(&format!("{app}-crowd-room{r}"), &app, now - HOUR);
        room.parent_meeting_id = Some(crowd.id.clone());
        store.insert_meeting(&room).await?;
        // Two of the crowd's participants in each room.
        let moved: Vec<Who> = who
            .iter()
            .skip(2 * r)
            .take(2)
            .map(|w| Who {
                participant_id: w.participant_id.clone(),
                custom_participant_id: w.custom_participant_id.clone(),
                name: w.name.clone(),
            })
            .collect();
        live_session(store, &app, &room, Some(&crowd_session), &moved, now).await?;
    }
    let write = meeting(&format!("{app}-write"), &app, now - HOUR);
    store.insert_meeting(&write).await?;
    Ok(json!({
        "app": app, "preset": host, "crowd_meeting": crowd.id, "crowd_session": crowd_session,
        "participant": who.first().map(|w| w.participant_id.clone()), "write_meeting": write.id,
    }))
}

pub async fn run(url: &str, ended: usize, participants: usize, lists: usize) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    let now = SystemClock.now();
    let account = admin::create_account(&store, None, now).await?;
    let (_, token) = admin::create_token(&store, &account, "bench", admin::DEFAULT_EMAIL, now).await?;
    let app = new_app(&store, &account, "bench", now).await?;
    let small_m = meeting(&format!("{app}-small"), &app, now - HOUR);
    store.insert_meeting(&small_m).await?;
    let small = live_session(&store, &app, &small_m, None, &made_up(&small_m.id, 2), now).await?;
    let big_m = meeting(&format!("{app}-big"), &app, now - HOUR);
    store.insert_meeting(&big_m).await?;
    let big = live_session(&store, &app, &big_m, None, &made_up(&big_m.id, participants), now).await?;
    // Ended sessions, spread over 1,000 meetings, two hours to a year old.
    let meetings = ended.clamp(1, 1000);
    for m in 0..meetings {
        store.insert_meeting(&meeting(&format!("{app}-m{m}"), &app, now - 400 * 86_400_000)).await?;
    }
    let started = Instant::now();
    let app2 = app.clone();
    let ended_id =
        ended_sessions(&store, &app, ended, now, move |i| format!("{app2}-m{}", i % meetings)).await?;
    let seed_secs = started.elapsed().as_secs_f64();
    let lists = if lists > 0 { lists_app(&store, &account, lists, now).await? } else { Value::Null };
    // Fresh statistics, or PostgreSQL plans the first reads as if the tables were empty.
    store.analyze().await?;
    println!(
        "{}",
        json!({"account": account, "token": token, "app": app, "small_session": small, "big_session": big,
               "ended_session": ended_id, "seed_secs": seed_secs, "lists": lists})
    );
    Ok(())
}
