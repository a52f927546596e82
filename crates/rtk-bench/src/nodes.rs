//! `rtk-bench nodes`: several `rtk serve` processes on one PostgreSQL database, checked as
//! one server (docs/deployment.md).
//!
//! 1. P peers of M meetings join spread over the nodes (each meeting's over all of them): every meeting's
//!    numbers, read from every node, are exact, and every peer has heard every other peer of
//!    its meeting, wherever that one joined.
//!    With `--db-restart CMD`, CMD (say, `pg_ctlcluster 15 main restart`) runs once a third of
//!    the peers have joined; joins that fail meanwhile are retried, and the same checks hold.
//! 2. To each node: a mute, a poll and a kick for peers connected to the other nodes: every
//!    target hears it (send-to-hear latency reported).
//! 3. `kill -9` of the last node: within the lease bound every one of its peers has left, at
//!    a time no later than the kill, as read from the surviving nodes; every other peer is
//!    still live and has heard its dead neighbours leave.
//!
//! Fails (non-zero exit) on any miss; prints one JSON line of figures.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rtk_api::gateway::ServerEvent;
use rtk_client::participant::{Event, Participant};
use serde_json::json;

use crate::Api;

/// How long anything that should happen may take before the check fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// What one peer heard, with when (since the run's start).
#[derive(Default)]
struct Heard {
    events: Vec<(Duration, ServerEvent)>,
    closed: Option<(Duration, u16)>,
}

impl Heard {
    /// The peers it heard join (or found there when it joined).
    fn joined(&self) -> HashSet<&str> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                ServerEvent::PeerJoined { peer } => Some(peer.peer_id.as_str()),
                _ => None,
            })
            .collect()
    }
}

struct Peer {
    participant_id: String,
    peer_id: String,
    meeting: usize,
    node: usize,
    heard: Arc<Mutex<Heard>>,
    joined_ms: i64,
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Waits until `f` holds, polling every 20 ms (what is awaited happens in other processes).
async fn until(what: &str, mut f: impl FnMut() -> bool) -> anyhow::Result<Duration> {
    let t = Instant::now();
    while !f() {
        if t.elapsed() > PATIENCE {
            bail!("{what}: not within {PATIENCE:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(t.elapsed())
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    bases: &[String],
    account: &str,
    token: &str,
    app: &str,
    peers: usize,
    meetings: usize,
    kill_pid: u32,
    lease: Duration,
    db_restart: Option<&str>,
) -> anyhow::Result<()> {
    let n = bases.len();
    if n < 2 {
        bail!("nodes: give at least two --base-url");
    }
    let apis: Vec<Api> = bases.iter().map(|b| Api::new(b, account, token)).collect();
    let kit0 = &apis[0].kit;
    let meetings = meetings.clamp(1, peers.max(1));
    let (mids, tokens) = apis[0].people(app, peers, meetings, json!({})).await?;
    let t0 = Instant::now();

    // 1. The joins, spread over the nodes (each meeting's peers in turn over every node); each
    // peer records what it hears.
    let mut all: Vec<Peer> = Vec::with_capacity(peers);
    let mut clients = Vec::with_capacity(peers);
    let mut restart: Option<std::process::Child> = None;
    let mut retried = 0usize;
    for (i, tok) in tokens.iter().enumerate() {
        let node = (i / meetings) % n;
        if let (Some(cmd), true) = (db_restart, i == peers / 3) {
            // The database goes away mid-storm; the joins carry on, retrying what failed.
            restart = Some(std::process::Command::new("sh").args(["-c", cmd]).spawn()?);
        }
        let began = Instant::now();
        let (mut p, j) = loop {
            let tried = async {
                let mut p = Participant::connect(&bases[node], tok).await?;
                let j = p.join(None).await?;
                Ok::<_, rtk_client::participant::ParticipantError>((p, j))
            };
            match tried.await {
                Ok(ok) => break ok,
                Err(e) if db_restart.is_some() && began.elapsed() < PATIENCE * 2 => {
                    retried += 1;
                    if retried % 20 == 1 {
                        eprintln!("peer {i} on node {node}: {e}; retrying");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e).with_context(|| format!("peer {i} joins on node {node}")),
            }
        };
        let heard = Arc::new(Mutex::new(Heard::default()));
        {
            let mut h = heard.lock().unwrap();
            for other in &j.peers {
                h.events.push((t0.elapsed(), ServerEvent::PeerJoined { peer: other.clone() }));
            }
        }
        all.push(Peer {
            participant_id: String::new(),
            peer_id: j.peer_id.clone(),
            meeting: i % meetings,
            node,
            heard: heard.clone(),
            joined_ms: wall_ms(),
        });
        clients.push(tokio::spawn(async move {
            while let Some(e) = p.next_event().await {
                let mut h = heard.lock().unwrap();
                match e {
                    Event::Server(ev) => h.events.push((t0.elapsed(), ev)),
                    Event::Closed { code, .. } => {
                        h.closed = Some((t0.elapsed(), code));
                        break;
                    }
                    // A dropped link (its node was killed): the client tries to resume; what
                    // matters here is what the other nodes do.
                    _ => {}
                }
            }
        }));
    }
    if let Some(mut r) = restart {
        let st = r.wait()?;
        if !st.success() {
            bail!("the database restart command failed: {st}");
        }
    }
    // Participant ids by custom id (u{i}), for the actions.
    for (m, mid) in mids.iter().enumerate() {
        let v = apis[0].get(format!("{}/{app}/meetings/{mid}/participants?per_page=100", kit0)).await?;
        for p in v["data"].as_array().context("participants")? {
            let cpid = p["custom_participant_id"].as_str().unwrap_or_default();
            if let Some(i) = cpid.strip_prefix('u').and_then(|s| s.parse::<usize>().ok()) {
                if i < all.len() && all[i].meeting == m {
                    all[i].participant_id = p["id"].as_str().unwrap_or_default().to_string();
                }
            }
        }
    }
    if all.iter().any(|p| p.participant_id.is_empty()) {
        bail!("some participants were not listed");
    }
    // Every peer hears every other peer of its meeting.
    let heard_all = |all: &[Peer]| {
        all.iter().all(|p| {
            let h = p.heard.lock().unwrap();
            let known = h.joined();
            all.iter()
                .filter(|o| o.meeting == p.meeting && o.peer_id != p.peer_id)
                .all(|o| known.contains(o.peer_id.as_str()))
        })
    };
    if let Err(e) = until("every peer hears every other peer of its meeting", || heard_all(&all)).await {
        for p in &all {
            let h = p.heard.lock().unwrap();
            let known = h.joined();
            for o in all.iter().filter(|o| o.meeting == p.meeting && o.peer_id != p.peer_id) {
                if !known.contains(o.peer_id.as_str()) {
                    eprintln!(
                        "peer {} (node {}, joined at {}) never heard peer {} (node {}, joined at {})",
                        p.peer_id, p.node, p.joined_ms, o.peer_id, o.node, o.joined_ms
                    );
                }
            }
        }
        return Err(e);
    }
    // Exact numbers, from every node.
    for (k, api) in apis.iter().enumerate() {
        for (m, mid) in mids.iter().enumerate() {
            let want = all.iter().filter(|p| p.meeting == m).count() as u64;
            let v = api.get(format!("{}/{app}/meetings/{mid}/active-session", api.kit)).await?;
            let (l, mx) =
                (v["data"]["live_participants"].as_u64(), v["data"]["max_concurrent_participants"].as_u64());
            if l != Some(want) || mx != Some(want) {
                bail!("meeting {m} read from node {k}: live {l:?}, max {mx:?}, expected {want}");
            }
        }
    }

    // 2. Actions sent to node k for peers on other nodes.
    let mut latencies: Vec<f64> = vec![];
    let mut kicked: HashSet<String> = HashSet::new();
    for (k, api) in apis.iter().enumerate() {
        // A meeting with peers on other nodes than k.
        let m = k % meetings;
        let targets: Vec<&Peer> =
            all.iter().filter(|p| p.meeting == m && p.node != k && !kicked.contains(&p.peer_id)).collect();
        let (Some(mute), Some(kick)) = (targets.first(), targets.last()) else { continue };
        if mute.peer_id == kick.peer_id {
            continue;
        }
        let base = format!("{}/{app}/meetings/{}/active-session", api.kit, mids[m]);
        let count = |p: &Peer, f: &dyn Fn(&ServerEvent) -> bool| {
            p.heard.lock().unwrap().events.iter().filter(|(_, e)| f(e)).count()
        };
        let is_muted = |e: &ServerEvent| matches!(e, ServerEvent::Muted { .. });
        let is_poll = |e: &ServerEvent| matches!(e, ServerEvent::PollCreated { .. });
        let mutes = count(mute, &is_muted);
        let sent = t0.elapsed();
        api.post(format!("{base}/mute"), json!({"participant_ids": [mute.participant_id]})).await?;
        until("a mute reaches its peer on another node", || count(mute, &is_muted) > mutes).await?;
        latencies.push(heard_at(mute, &is_muted, mutes).saturating_sub(sent).as_secs_f64() * 1000.0);
        // A poll: every live peer of the meeting, on every node.
        let hearers: Vec<&Peer> =
            all.iter().filter(|p| p.meeting == m && !kicked.contains(&p.peer_id)).collect();
        let before: Vec<usize> = hearers.iter().map(|p| count(p, &is_poll)).collect();
        let sent = t0.elapsed();
        api.post(
            format!("{base}/poll"),
            json!({"question": format!("from node {k}?"), "options": ["yes", "no"]}),
        )
        .await?;
        until("a poll reaches every peer of its meeting", || {
            hearers.iter().zip(&before).all(|(p, b)| count(p, &is_poll) > *b)
        })
        .await?;
        for (p, b) in hearers.iter().zip(&before) {
            latencies.push(heard_at(p, &is_poll, *b).saturating_sub(sent).as_secs_f64() * 1000.0);
        }
        // A kick: the peer hears it and its connection closes.
        let sent = t0.elapsed();
        api.post(format!("{base}/kick"), json!({"participant_ids": [kick.participant_id]})).await?;
        until("a kick reaches its peer on another node", || kick.heard.lock().unwrap().closed.is_some())
            .await?;
        let (at, code) = kick.heard.lock().unwrap().closed.context("closed")?;
        if code != rtk_api::gateway::close::KICKED {
            bail!("a kicked peer's connection closed with {code}");
        }
        latencies.push(at.saturating_sub(sent).as_secs_f64() * 1000.0);
        kicked.insert(kick.peer_id.clone());
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);

    // 3. kill -9 of the last node.
    let dead = n - 1;
    let doomed: Vec<&Peer> = all.iter().filter(|p| p.node == dead && !kicked.contains(&p.peer_id)).collect();
    let survivors: Vec<&Peer> =
        all.iter().filter(|p| p.node != dead && !kicked.contains(&p.peer_id)).collect();
    let killed_ms = wall_ms();
    let killed = Instant::now();
    std::process::Command::new("kill").args(["-9", &kill_pid.to_string()]).status()?;
    let doomed_ids: HashSet<&str> = doomed.iter().map(|p| p.peer_id.as_str()).collect();
    // Poll the store through node 0 for the doomed peers' leaves.
    let mut left_at: HashMap<String, i64> = HashMap::new();
    loop {
        left_at.clear();
        let mut live_survivors = 0usize;
        for mid in &mids {
            let v = apis[0].get(format!("{}/{app}/meetings/{mid}/active-session", kit0)).await;
            let Ok(v) = v else { continue };
            let Some(sid) = v["data"]["id"].as_str() else { continue };
            let ps = apis[0].get(format!("{}/{app}/sessions/{sid}/participants?per_page=100", kit0)).await?;
            for p in ps["data"]["participants"].as_array().context("session participants")? {
                // A session participant's `id` is its peer id.
                let pid = p["id"].as_str().unwrap_or_default();
                let gone = p["left_at"].as_str().and_then(rtk_server::clock::parse_rfc3339);
                if let Some(at) = gone {
                    left_at.insert(pid.to_string(), at);
                } else if survivors.iter().any(|s| s.peer_id == pid) {
                    live_survivors += 1;
                }
            }
        }
        if doomed_ids.iter().all(|id| left_at.contains_key(*id)) {
            if live_survivors != survivors.len() {
                bail!(
                    "{} of {} peers on the surviving nodes are live after the kill",
                    live_survivors,
                    survivors.len()
                );
            }
            break;
        }
        if killed.elapsed() > lease * 3 + Duration::from_secs(5) {
            let missing = doomed_ids.iter().filter(|id| !left_at.contains_key(**id)).count();
            bail!(
                "{missing} of {} peers of the killed node still live {:?} after the kill",
                doomed.len(),
                killed.elapsed()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ghost = killed.elapsed();
    for p in &doomed {
        let at = left_at[&p.peer_id];
        if at > killed_ms || at < p.joined_ms - 1_000 {
            bail!(
                "peer {} of the killed node left at {at}, outside its join {} .. the kill {killed_ms}",
                p.peer_id,
                p.joined_ms
            );
        }
    }
    // Every survivor hears each dead neighbour leave.
    until("the survivors hear the killed node's peers leave", || {
        survivors.iter().all(|s| {
            let h = s.heard.lock().unwrap();
            let left: HashSet<&str> = h
                .events
                .iter()
                .filter_map(|(_, e)| match e {
                    ServerEvent::PeerLeft { peer_id, .. } => Some(peer_id.as_str()),
                    _ => None,
                })
                .collect();
            doomed.iter().filter(|d| d.meeting == s.meeting).all(|d| left.contains(d.peer_id.as_str()))
        })
    })
    .await?;
    let max_lag = doomed.iter().map(|p| killed_ms - left_at[&p.peer_id]).max().unwrap_or(0);
    println!(
        "{}",
        json!({"nodes": n, "peers": peers, "meetings": meetings, "exact": true,
               "db_restarted": db_restart.is_some(), "join_retries": retried,
               "actions": latencies.len(), "action_ms_p50": pct(0.5), "action_ms_p99": pct(0.99), "action_ms_max": pct(1.0),
               "killed_peers": doomed.len(), "ghost_secs": ghost.as_secs_f64(), "lease_secs": lease.as_secs_f64(),
               "left_before_kill_ms_max": max_lag})
    );
    for c in clients {
        c.abort();
    }
    Ok(())
}

/// When `p` heard the event after the first `skip` matching ones.
fn heard_at(p: &Peer, f: &dyn Fn(&ServerEvent) -> bool, skip: usize) -> Duration {
    p.heard.lock().unwrap().events.iter().filter(|(_, e)| f(e)).nth(skip).map(|(t, _)| *t).unwrap_or_default()
}
