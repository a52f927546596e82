//! `rtk-bench webhooks`: webhook deliveries under a join storm, and through a `kill -9`.
//!
//! A receiver on loopback is subscribed to every session event. N participants join M
//! meetings at R joins/s through the gateway, then all leave; the sessions end (no
//! keep-alive). The receiver records each request's `rtk-uuid`, body and arrival time.
//!
//! - Figures: events delivered per second over the run, end-to-end latency (arrival minus the
//!   time of the change the body states: `joinedAt`, `leftAt`, `startedAt`, `endedAt`), and the
//!   outbox depth over the run (events that had happened and had not arrived, sampled every
//!   50 ms from the log).
//! - With `--kill-after K`: once K events have arrived the server is killed with SIGKILL and
//!   started again on the same store, mid-storm. Joins the dead server could not take fail
//!   (and are counted); connected peers resume by themselves.
//!
//! Either way the check is against what the store says happened (sessions and their peers,
//! read through the API): every event arrives, once after deduplication on `rtk-uuid`,
//! nothing else arrives, and each session's events arrive in order (started first, each
//! peer's join before its leave, ended last).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::Api;

/// How long the run may wait for the last events, a restart or the sessions' end.
const PATIENCE: Duration = Duration::from_secs(120);

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    uuid: String,
    body: Value,
    at: i64,
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Got>>>);

impl Log {
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
    fn all(&self) -> Vec<Got> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A receiver answering 200 to every POST; its URL.
async fn receiver(log: Log) -> anyhow::Result<String> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    async move {
                        let uuid = req
                            .headers()
                            .get("rtk-uuid")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        log.0.lock().unwrap_or_else(|e| e.into_inner()).push(Got {
                            uuid,
                            body,
                            at: wall_ms(),
                        });
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::new())))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(url)
}

/// What an event is about: (session, kind, peer or "").
fn key_of(b: &Value) -> (String, String, String) {
    let kind = b["event"].as_str().unwrap_or_default().to_string();
    let session = b["meeting"]["sessionId"].as_str().unwrap_or_default().to_string();
    let peer = b["participant"]["peerId"].as_str().unwrap_or_default().to_string();
    (session, kind, peer)
}

/// When the change an event reports happened.
fn change_at(b: &Value) -> Option<i64> {
    let t = match b["event"].as_str()? {
        "meeting.started" => &b["meeting"]["startedAt"],
        "meeting.participantJoined" => &b["participant"]["joinedAt"],
        "meeting.participantLeft" => &b["participant"]["leftAt"],
        "meeting.ended" => &b["meeting"]["endedAt"],
        _ => return None,
    };
    rtk_server::clock::parse_rfc3339(t.as_str()?)
}

/// The restart to do mid-storm.
pub struct Kill {
    pub after: usize,
    pub server_pid: u32,
    pub restart: String,
}

/// Every page of a list under `data.{field}`.
async fn all_pages(api: &Api, url: &str, field: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = vec![];
    for page in 1.. {
        let sep = if url.contains('?') { '&' } else { '?' };
        let v = api.get(format!("{url}{sep}per_page=100&page_no={page}")).await?;
        let items = v["data"][field].as_array().cloned().unwrap_or_default();
        let n = items.len();
        out.extend(items);
        if n < 100 {
            break;
        }
    }
    Ok(out)
}

pub async fn run(
    api: &Api,
    base: &str,
    app: &str,
    n: usize,
    meetings: usize,
    rate: u64,
    kill: Option<Kill>,
) -> anyhow::Result<()> {
    let kit = api.kit.clone();
    let log = Log::default();
    let url = receiver(log.clone()).await?;
    let events = ["meeting.started", "meeting.participantJoined", "meeting.participantLeft", "meeting.ended"];
    api.post(format!("{kit}/{app}/webhooks"), json!({"name": "bench", "url": url, "events": events})).await?;
    let meetings = meetings.clamp(1, n.max(1));
    let (mids, tokens) = api.people(app, n, meetings, json!({"session_keep_alive_time_in_secs": 0})).await?;
    let mids: HashSet<String> = mids.into_iter().collect();

    // The storm. Each participant reads its events until told to leave.
    let joined = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let (leave_tx, leave_rx) = tokio::sync::watch::channel(false);
    // Each participant reports once its join is answered (or failed); all leave after that.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let t0 = wall_ms();
    let started = Instant::now();
    let mut killed = None;
    let mut tasks = Vec::with_capacity(n);
    for tok in tokens {
        tick.tick().await;
        if let Some(k) = &kill {
            if killed.is_none() && log.len() >= k.after {
                killed = Some(kill_and_restart(api, base, k).await?);
            }
        }
        let (joined, failed, base, mut leave, done) =
            (joined.clone(), failed.clone(), base.to_string(), leave_rx.clone(), done_tx.clone());
        tasks.push(tokio::spawn(async move {
            let p = async {
                let mut p = rtk_client::participant::Participant::connect(&base, &tok).await?;
                p.join(None).await?;
                Ok::<_, rtk_client::participant::ParticipantError>(p)
            }
            .await;
            let Ok(mut p) = p else {
                failed.fetch_add(1, Ordering::SeqCst);
                let _ = done.send(());
                return;
            };
            joined.fetch_add(1, Ordering::SeqCst);
            let _ = done.send(());
            loop {
                tokio::select! {
                    _ = leave.changed() => break,
                    ev = p.next_event() => if ev.is_none() { return },
                }
            }
            let _ = p.leave().await;
        }));
    }
    drop(done_tx);
    for _ in 0..n {
        if done_rx.recv().await.is_none() {
            break;
        }
    }
    let storm_secs = started.elapsed().as_secs_f64();
    if let Some(k) = &kill {
        if killed.is_none() {
            killed = Some(kill_and_restart(api, base, k).await?);
        }
    }
    let _ = leave_tx.send(true);
    futures_util::future::join_all(tasks).await;

    // What happened, as the store has it: every session of the app and its peers. The run
    // waits for every session to end (the last leaves, or heartbeat timeouts after the kill).
    let deadline = Instant::now() + PATIENCE;
    let sessions = loop {
        let mut s = all_pages(api, &format!("{kit}/{app}/sessions"), "sessions").await?;
        // Only this run's meetings (the seed has live sessions of its own).
        s.retain(|x| x["associated_id"].as_str().is_some_and(|m| mids.contains(m)));
        if s.iter().all(|x| x["status"] == "ENDED") {
            break s;
        }
        if Instant::now() > deadline {
            bail!("sessions still live {PATIENCE:?} after the storm");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut want: HashSet<(String, String, String)> = HashSet::new();
    for s in &sessions {
        let sid = s["id"].as_str().unwrap_or_default().to_string();
        want.insert((sid.clone(), "meeting.started".into(), String::new()));
        want.insert((sid.clone(), "meeting.ended".into(), String::new()));
        for p in all_pages(api, &format!("{kit}/{app}/sessions/{sid}/participants"), "participants").await? {
            let peer = p["id"].as_str().unwrap_or_default().to_string();
            want.insert((sid.clone(), "meeting.participantJoined".into(), peer.clone()));
            want.insert((sid.clone(), "meeting.participantLeft".into(), peer));
        }
    }
    // Wait for the receiver to have them all.
    loop {
        let have: HashSet<_> = log.all().iter().map(|g| key_of(&g.body)).collect();
        if want.is_subset(&have) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = log.all();
    let t_last = got.iter().map(|g| g.at).max().unwrap_or(t0);

    // Once per rtk-uuid; the same uuid always the same event.
    let mut errors: Vec<String> = vec![];
    let mut first: HashMap<String, &Got> = HashMap::new();
    let mut duplicates = 0usize;
    let mut order: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for g in &got {
        match first.get(&g.uuid) {
            Some(f) => {
                duplicates += 1;
                if f.body != g.body {
                    errors.push(format!("rtk-uuid {} came with two bodies", g.uuid));
                }
            }
            None => {
                first.insert(g.uuid.clone(), g);
                let (sid, kind, peer) = key_of(&g.body);
                order.entry(sid).or_default().push((kind, peer));
            }
        }
    }
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for g in first.values() {
        *seen.entry(key_of(&g.body)).or_default() += 1;
    }
    let missing = want.iter().filter(|k| !seen.contains_key(*k)).count();
    let twice = seen.values().filter(|c| **c > 1).count();
    let unexpected = seen.keys().filter(|k| !want.contains(*k)).count();
    if missing > 0 || twice > 0 || unexpected > 0 {
        errors.push(format!(
            "{missing} events missing, {twice} sent twice under different rtk-uuids, {unexpected} not in the store"
        ));
    }
    // Order within each session.
    let mut out_of_order = 0usize;
    for (sid, evs) in &order {
        let pos = |kind: &str, peer: &str| evs.iter().position(|(k, p)| k == kind && p == peer);
        let ok = evs.first().is_some_and(|(k, _)| k == "meeting.started")
            && evs.last().is_some_and(|(k, _)| k == "meeting.ended")
            && evs.iter().filter(|(k, _)| k == "meeting.participantLeft").all(|(_, p)| {
                matches!((pos("meeting.participantJoined", p), pos("meeting.participantLeft", p)), (Some(j), Some(l)) if j < l)
            });
        if !ok {
            out_of_order += 1;
            if out_of_order <= 5 {
                errors.push(format!("session {sid}: events out of order: {evs:?}"));
            }
        }
    }

    // Figures: latency and depth (from the first arrival of each event).
    let mut lat: Vec<i64> = vec![];
    let mut changes: Vec<(i64, i64)> = vec![];
    for g in first.values() {
        if let Some(c) = change_at(&g.body) {
            lat.push(g.at - c);
            changes.push((c, g.at));
        }
    }
    lat.sort_unstable();
    let pct = |p: f64| lat.get(((lat.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0);
    let mut max_depth = 0usize;
    let mut t = t0;
    while t <= t_last {
        let depth = changes.iter().filter(|(c, a)| *c <= t && *a > t).count();
        max_depth = max_depth.max(depth);
        t += 50;
    }
    let run_secs = ((t_last - t0) as f64 / 1000.0).max(0.001);
    if kill.is_none() && duplicates > 0 {
        errors.push(format!("{duplicates} events delivered twice with no node killed"));
    }
    let exact = errors.is_empty();
    println!(
        "{}",
        json!({"participants": n, "meetings": meetings, "rate": rate, "joined": joined.load(Ordering::SeqCst),
               "joins_failed": failed.load(Ordering::SeqCst), "storm_secs": storm_secs,
               "sessions": sessions.len(), "events_expected": want.len(), "events_delivered": first.len(),
               "requests": got.len(), "duplicates": duplicates, "out_of_order_sessions": out_of_order,
               "events_per_sec": first.len() as f64 / run_secs, "run_secs": run_secs,
               "latency_ms_p50": pct(0.5), "latency_ms_p99": pct(0.99), "latency_ms_max": lat.last().copied().unwrap_or(0),
               "max_outbox_depth": max_depth,
               "killed": killed.is_some(), "restart_secs": killed, "exact": exact})
    );
    for e in errors.iter().take(20) {
        eprintln!("{e}");
    }
    if !exact {
        bail!("the webhook check failed: {} problems", errors.len());
    }
    Ok(())
}

/// `kill -9`, restart, wait until ready: the seconds it took.
async fn kill_and_restart(api: &Api, base: &str, k: &Kill) -> anyhow::Result<f64> {
    let t = Instant::now();
    let st = std::process::Command::new("kill").args(["-9", &k.server_pid.to_string()]).status()?;
    if !st.success() {
        bail!("kill -9 {} failed", k.server_pid);
    }
    crate::gone(k.server_pid, PATIENCE).await?;
    eprintln!("killed the server once {} events had arrived", k.after);
    let st = std::process::Command::new("sh").args(["-c", &k.restart]).status()?;
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
    Ok(t.elapsed().as_secs_f64())
}
