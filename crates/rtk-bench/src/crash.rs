//! `rtk-bench crash`: the design's crash target. Peers join and chat (each waits for the
//! server's acknowledgement: `joined`, and its own message broadcast back), the server is
//! killed with SIGKILL and restarted on the same store. Then:
//!
//! - every acknowledged join and chat message is in the store;
//! - the peers of the first half of the meetings reconnect and *resume* (same peer, presence
//!   continuous); their sessions are still live with every peer;
//! - the peers of the other half never come back; once the heartbeat timeout has passed their
//!   sessions must have ended at their last heartbeat. Heartbeats are written once per reaper
//!   tick (1 s), so the bound is one tick before the last one the client saw answered.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use rtk_api::gateway::{ClientMessage, ServerEvent};
use rtk_client::participant::{Event, Participant};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::Api;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a reconnect, a resume or the end of a session may take before the run fails.
const PATIENCE: Duration = Duration::from_secs(60);
/// The reaper's tick, the bound on heartbeat precision lost to a crash.
const TICK_MS: i64 = 1_000;

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A peer that will not come back: a bare socket, so nothing reconnects after the kill.
struct Gone {
    _ws: Ws,
    session_id: String,
    /// Wall-clock time just before the last ping the server answered.
    last_beat: i64,
}

async fn event(ws: &mut Ws) -> anyhow::Result<ServerEvent> {
    loop {
        match tokio::time::timeout(PATIENCE, ws.next()).await.context("no frame from the gateway")? {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str())?),
            Some(Ok(Message::Close(f))) => bail!("closed by the gateway: {f:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => bail!("connection lost"),
        }
    }
}

async fn send(ws: &mut Ws, m: &ClientMessage) -> anyhow::Result<()> {
    Ok(ws.send(Message::Text(serde_json::to_string(m)?.into())).await?)
}

/// Connects, joins, chats and pings, each time waiting for the acknowledgement.
async fn gone_peer(base: &str, token: &str) -> anyhow::Result<Gone> {
    let url = rtk_client::participant::gateway_url(base, token)?;
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    send(&mut ws, &ClientMessage::Join { device: None }).await?;
    let (peer_id, session_id) = loop {
        if let ServerEvent::Joined { peer_id, session_id, .. } = event(&mut ws).await? {
            break (peer_id, session_id);
        }
    };
    send(&mut ws, &ClientMessage::Chat { message: format!("from {peer_id}") }).await?;
    loop {
        if matches!(event(&mut ws).await?, ServerEvent::Chat { peer_id: p, .. } if p == peer_id) {
            break;
        }
    }
    let last_beat = wall_ms();
    send(&mut ws, &ClientMessage::Ping { ts: None }).await?;
    while !matches!(event(&mut ws).await?, ServerEvent::Pong { .. }) {}
    Ok(Gone { _ws: ws, session_id, last_beat })
}

/// A peer that comes back: the SDK's participant, which reconnects and resumes by itself.
async fn staying_peer(base: &str, token: &str) -> anyhow::Result<(Participant, String, String)> {
    let mut p = Participant::connect(base, token).await?;
    let j = p.join(None).await?;
    p.chat(&format!("from {}", j.peer_id))?;
    loop {
        match tokio::time::timeout(PATIENCE, p.next_event()).await.context("no chat echo")? {
            Some(Event::Server(ServerEvent::Chat { peer_id, .. })) if peer_id == j.peer_id => break,
            Some(_) => continue,
            None => bail!("participant closed before its chat was acknowledged"),
        }
    }
    Ok((p, j.peer_id, j.session_id))
}

/// Waits for the participant to resume; false if it rejoined as a new peer or closed.
async fn resumed(mut p: Participant) -> (bool, Participant) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, p.next_event()).await {
            Ok(Some(Event::Resumed { .. })) => return (true, p),
            Ok(Some(Event::Rejoined { .. } | Event::Closed { .. })) | Ok(None) | Err(_) => return (false, p),
            Ok(Some(_)) => continue,
        }
    }
}

fn parse_ms(v: &Value) -> Option<i64> {
    rtk_server::clock::parse_rfc3339(v.as_str()?)
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    api: &Api,
    base: &str,
    app: &str,
    n: usize,
    meetings: usize,
    server_pid: u32,
    restart: &str,
) -> anyhow::Result<()> {
    let meetings = meetings.clamp(2, n.max(2));
    // No keep-alive: a session ends as its last peer leaves, so the check need not wait.
    let (mids, tokens) = api.people(app, n, meetings, json!({"session_keep_alive_time_in_secs": 0})).await?;
    // Meeting m's peers resume when m is in the first half.
    let stays = |m: usize| m < meetings / 2;

    // Everyone joins and chats, 50 at a time; every step is acknowledged.
    let mut staying = Vec::new();
    let mut gone = Vec::new();
    let all: Vec<(usize, String)> = tokens.into_iter().enumerate().collect();
    for chunk in all.chunks(50) {
        let futs = chunk.iter().map(|(i, tok)| async move {
            if stays(*i % meetings) {
                staying_peer(base, tok).await.map(|p| (Some(p), None))
            } else {
                gone_peer(base, tok).await.map(|g| (None, Some(g)))
            }
        });
        for r in futures_util::future::join_all(futs).await {
            match r? {
                (Some(p), _) => staying.push(p),
                (_, Some(g)) => gone.push(g),
                _ => {}
            }
        }
    }
    let acked = staying.len() + gone.len();
    let staying_n = staying.len();
    eprintln!("{acked} peers joined and chatted ({} will resume); killing the server", staying.len());

    let killed_at = wall_ms();
    let t_kill = Instant::now();
    let st = std::process::Command::new("kill").args(["-9", &server_pid.to_string()]).status()?;
    if !st.success() {
        bail!("kill -9 {server_pid} failed");
    }
    crate::gone(server_pid, PATIENCE).await?;
    let st = std::process::Command::new("sh").args(["-c", restart]).status()?;
    if !st.success() {
        bail!("the restart command failed");
    }
    let ready = async {
        loop {
            if let Ok(r) = api.http.get(format!("{base}/readyz")).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(PATIENCE, ready).await.context("the restarted server never became ready")?;
    let restart_secs = t_kill.elapsed().as_secs_f64();
    let gone_sessions: std::collections::BTreeMap<String, i64> =
        gone.iter().fold(Default::default(), |mut m, g| {
            let e = m.entry(g.session_id.clone()).or_insert(i64::MIN);
            *e = (*e).max(g.last_beat);
            m
        });
    drop(gone);

    // The staying peers resume on the new server.
    let outcomes = futures_util::future::join_all(staying.into_iter().map(|(p, _, _)| resumed(p))).await;
    let resumed_n = outcomes.iter().filter(|(ok, _)| *ok).count();
    let resumed_secs = t_kill.elapsed().as_secs_f64();
    eprintln!(
        "restarted in {restart_secs:.2} s; {resumed_n} of {staying_n} resumed after {resumed_secs:.2} s"
    );

    // The others' sessions end once the heartbeat timeout has passed.
    let kit = &api.kit;
    let details = |sid: String| async move {
        api.get(format!("{kit}/{app}/sessions/{sid}")).await.map(|v| v["data"].clone())
    };
    let deadline = Instant::now() + PATIENCE;
    let mut ended = std::collections::BTreeMap::new();
    while ended.len() < gone_sessions.len() {
        for sid in gone_sessions.keys() {
            if !ended.contains_key(sid) {
                let d = details(sid.clone()).await?;
                if d["status"] == "ENDED" {
                    ended.insert(sid.clone(), d);
                }
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{} of {} abandoned sessions never ended",
                gone_sessions.len() - ended.len(),
                gone_sessions.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut errors = Vec::new();
    let (mut end_err_min, mut end_err_max) = (i64::MAX, i64::MIN);
    for (sid, d) in &ended {
        let last = gone_sessions[sid];
        let Some(at) = parse_ms(&d["ended_at"]) else {
            errors.push(format!("session {sid}: no ended_at"));
            continue;
        };
        let err = at - last;
        end_err_min = end_err_min.min(err);
        end_err_max = end_err_max.max(err);
        if err < -TICK_MS - 50 || at > killed_at + 50 {
            errors.push(format!("session {sid} ended at {at}, last heartbeat {last}, killed at {killed_at}"));
        }
    }

    // Nothing acknowledged was lost: every session has all its peers and all their messages,
    // and the resumed ones are still live with every peer (resumed, not joined again).
    let per_meeting = |m: usize| (0..n).filter(|i| i % meetings == m).count() as u64;
    let (mut peers_found, mut chats_found) = (0u64, 0u64);
    for (m, mid) in mids.iter().enumerate() {
        let want = per_meeting(m);
        let sessions = api.get(format!("{kit}/{app}/sessions?associated_id={mid}")).await?;
        let list = sessions["data"]["sessions"].as_array().cloned().unwrap_or_default();
        if list.len() != 1 {
            errors.push(format!("meeting {mid}: {} sessions, expected 1", list.len()));
            continue;
        }
        let sid = list[0]["id"].as_str().unwrap_or_default().to_string();
        let d = details(sid.clone()).await?;
        let ps = api.get(format!("{kit}/{app}/sessions/{sid}/participants?per_page=100")).await?;
        let peers = ps["paging"]["total_count"].as_u64().unwrap_or(0);
        let chat = api.get(format!("{kit}/{app}/sessions/{sid}/chat")).await?;
        let chats = chat["data"]["messages"].as_array().map(|a| a.len() as u64).unwrap_or(0);
        peers_found += peers;
        chats_found += chats;
        let live = d["live_participants"].as_u64().unwrap_or(0);
        let max = d["max_concurrent_participants"].as_u64().unwrap_or(0);
        let expect_live = if stays(m) { want } else { 0 };
        let expect_status = if stays(m) { "LIVE" } else { "ENDED" };
        if peers != want
            || chats != want
            || live != expect_live
            || max != want
            || d["status"] != expect_status
        {
            errors.push(format!(
                "meeting {mid}: {peers} peers, {chats} messages, live {live}, max {max}, {} (expected {want}, {want}, {expect_live}, {want}, {expect_status})",
                d["status"]
            ));
        }
    }
    for (_, p) in outcomes {
        let _ = p.leave().await;
    }
    if resumed_n != staying_n {
        errors.push(format!("{resumed_n} of {staying_n} peers resumed"));
    }
    let exact = errors.is_empty();
    println!(
        "{}",
        json!({"peers": n, "meetings": meetings, "acknowledged_joins": acked, "peers_in_store": peers_found,
               "acknowledged_chats": acked, "chats_in_store": chats_found,
               "resumed": resumed_n, "restart_secs": restart_secs, "all_resumed_secs": resumed_secs,
               "abandoned_sessions": gone_sessions.len(), "abandoned_sessions_ended": ended.len(),
               "end_minus_last_heartbeat_ms_min": end_err_min, "end_minus_last_heartbeat_ms_max": end_err_max,
               "exact": exact})
    );
    for e in errors.iter().take(20) {
        eprintln!("{e}");
    }
    if !exact {
        bail!("the crash check failed: {} problems, {resumed_n} resumed", errors.len());
    }
    Ok(())
}
