//! `rtk-bench`: the tools `bench/run.sh` drives to measure the targets of the design.
//!
//! - `seed`: fills a store through the store layer (in batches, not over HTTP): an account
//!   and token, an app, N ended sessions, and live sessions with 2 and with M peers; with
//!   `--lists N`, a second app with N of everything a list pages over (`seed.rs`).
//! - `baseline`: a minimal hyper server answering every request with the same bytes.
//! - `gateway`: N participants join one meeting through the gateway at R joins/s; checks that
//!   no join was lost and the counts are exact; reports client and server RSS.
//! - `crash`: `kill -9` with peers connected; what survived the restart (`crash.rs`).
//! - `webhooks`: deliveries to a local receiver during a join storm, optionally through a
//!   `kill -9`; checked against the store (`hooks.rs`).
//! - `nodes`: several `rtk serve` processes on one PostgreSQL database: joins spread over
//!   them, actions sent to one node for peers on another, `kill -9` of one (`nodes.rs`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod crash;
mod hooks;
mod live;
mod nodes;
mod seed;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(name = "rtk-bench", about = "Benchmark tools for rtk (driven by bench/run.sh)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// The server under test and the account, token and app to use on it.
#[derive(clap::Args)]
struct Target {
    #[arg(long)]
    base_url: String,
    #[arg(long)]
    account: String,
    #[arg(long)]
    token: String,
    #[arg(long)]
    app: String,
}

#[derive(Subcommand)]
enum Cmd {
    /// Seed a store; prints {account, token, app, small_session, big_session, ended_session,
    /// lists} as JSON.
    Seed {
        #[arg(long)]
        database_url: String,
        /// Ended sessions to add (besides the live ones).
        #[arg(long, default_value_t = 10)]
        ended: usize,
        /// Peers of the big live session.
        #[arg(long, default_value_t = 10_000)]
        participants: usize,
        /// Size of the lists app (0: none): N presets, meetings, sessions, participants of
        /// one meeting and peers of its live session.
        #[arg(long, default_value_t = 0)]
        lists: usize,
    },
    /// Serve the bytes of FILE to every request (HTTP/1.1, keep-alive).
    Baseline {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        body_file: std::path::PathBuf,
    },
    /// Join N participants through the gateway at R joins per second.
    Gateway {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10_000)]
        participants: usize,
        /// Meetings to spread them over (every peer hears every other peer of its meeting).
        #[arg(long, default_value_t = 100)]
        meetings: usize,
        #[arg(long, default_value_t = 2_000)]
        rate: u64,
        /// The server's pid, to report its RSS.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// `kill -9` the server with peers connected, restart it, and check what survived:
    /// every acknowledged join and chat message; half the meetings' peers resume, the other
    /// half never come back and their sessions must end at their last heartbeat.
    Crash {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1_000)]
        peers: usize,
        #[arg(long, default_value_t = 100)]
        meetings: usize,
        /// The server to kill.
        #[arg(long)]
        server_pid: u32,
        /// A shell command that starts the server again (in the background) on the same store.
        #[arg(long)]
        restart: String,
    },
    /// A webhook receiver on loopback, N participants joining at R joins/s and then leaving:
    /// delivery rate, latency and outbox depth, every event once and in order.
    Webhooks {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10_000)]
        participants: usize,
        #[arg(long, default_value_t = 1_000)]
        meetings: usize,
        #[arg(long, default_value_t = 2_000)]
        rate: u64,
        /// Kill the server with SIGKILL once this many events have arrived (needs
        /// `--server-pid` and `--restart`).
        #[arg(long)]
        kill_after: Option<usize>,
        #[arg(long)]
        server_pid: Option<u32>,
        /// A shell command that starts the server again (in the background) on the same store.
        #[arg(long)]
        restart: Option<String>,
    },
    /// Peers joined over several nodes of one PostgreSQL database (one --base-url each, the
    /// last one to be killed): exact numbers from every node, actions that reach peers on the
    /// other nodes, and the killed node's peers ended by the others within the lease.
    Nodes {
        /// Every node's base URL (at least two); the last is killed.
        #[arg(long = "base-url", required = true)]
        bases: Vec<String>,
        #[arg(long)]
        account: String,
        #[arg(long)]
        token: String,
        #[arg(long)]
        app: String,
        #[arg(long, default_value_t = 300)]
        peers: usize,
        #[arg(long, default_value_t = 30)]
        meetings: usize,
        /// The pid of the last node, killed with SIGKILL.
        #[arg(long)]
        kill_pid: u32,
        /// The nodes' lease (`--node-lease-secs`).
        #[arg(long, default_value_t = 10)]
        lease_secs: u64,
        /// A shell command that restarts the database, run once a third of the peers joined.
        #[arg(long)]
        db_restart: Option<String>,
    },
    /// One RTMP ingest (this process publishing MEDIA, an FLV file, in real time) to N HTTP-FLV
    /// viewers: server CPU and RSS, latency from send to viewer, dropped viewers.
    Livestream {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        media: std::path::PathBuf,
        #[arg(long, default_value_t = 100)]
        viewers: usize,
        /// Seconds the viewers watch.
        #[arg(long, default_value_t = 30)]
        secs: u64,
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Seed { database_url, ended, participants, lists } => {
            seed::run(&database_url, ended, participants, lists).await
        }
        Cmd::Livestream { target: t, media, viewers, secs, server_pid } => {
            live::run(&t.base_url, &t.account, &t.token, &t.app, &media, viewers, secs, server_pid).await
        }
        Cmd::Nodes { bases, account, token, app, peers, meetings, kill_pid, lease_secs, db_restart } => {
            let lease = Duration::from_secs(lease_secs);
            nodes::run(
                &bases,
                &account,
                &token,
                &app,
                peers,
                meetings,
                kill_pid,
                lease,
                db_restart.as_deref(),
            )
            .await
        }
        Cmd::Baseline { listen, body_file } => baseline(listen, std::fs::read(body_file)?).await,
        Cmd::Gateway { target: t, participants, meetings, rate, server_pid } => {
            gateway(&t.base_url, &t.account, &t.token, &t.app, participants, meetings, rate, server_pid).await
        }
        Cmd::Crash { target: t, peers, meetings, server_pid, restart } => {
            let api = Api::new(&t.base_url, &t.account, &t.token);
            crash::run(&api, &t.base_url, &t.app, peers, meetings, server_pid, &restart).await
        }
        Cmd::Webhooks { target: t, participants, meetings, rate, kill_after, server_pid, restart } => {
            let api = Api::new(&t.base_url, &t.account, &t.token);
            let kill = match (kill_after, server_pid, restart) {
                (None, _, _) => None,
                (Some(after), Some(server_pid), Some(restart)) => {
                    Some(hooks::Kill { after, server_pid, restart })
                }
                _ => bail!("--kill-after needs --server-pid and --restart"),
            };
            hooks::run(&api, &t.base_url, &t.app, participants, meetings, rate, kill).await
        }
    }
}

async fn baseline(listen: SocketAddr, body: Vec<u8>) -> anyhow::Result<()> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let body = Bytes::from(body);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("baseline listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |_req| {
                let body = body.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .expect("static response"),
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// Waits until process `pid` has exited (gone, or a zombie). SIGKILL is delivered at once, but
/// a process with thousands of sockets takes a while to be torn down, and its listener holds
/// the port until then: a restart must wait for it.
async fn gone(pid: u32, patience: Duration) -> anyhow::Result<()> {
    let alive = || {
        proc_file(Some(pid), "stat")
            .is_some_and(|st| st.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
    };
    let wait = async {
        while alive() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(patience, wait).await.with_context(|| format!("process {pid} did not exit"))
}

/// `/proc/PID/NAME`, or the current process's.
fn proc_file(pid: Option<u32>, name: &str) -> Option<String> {
    let pid = pid.map_or_else(|| "self".to_string(), |p| p.to_string());
    std::fs::read_to_string(format!("/proc/{pid}/{name}")).ok()
}

/// CPU seconds (user + system) the process has used so far.
fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let text = proc_file(pid, "stat")?;
    // Fields after the command (which may hold spaces) start after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// The REST API of the server under test, as its account.
pub struct Api {
    pub http: reqwest::Client,
    /// `{base}/client/v4/accounts/{account}/realtime/kit`
    pub kit: String,
    token: String,
}

impl Api {
    fn new(base: &str, account: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            kit: format!("{base}/client/v4/accounts/{account}/realtime/kit"),
            token: token.to_string(),
        }
    }

    pub async fn post(&self, url: String, body: Value) -> anyhow::Result<Value> {
        let r = self.http.post(&url).bearer_auth(&self.token).json(&body).send().await?;
        let st = r.status();
        let v: Value = r.json().await?;
        if !st.is_success() {
            bail!("POST {url}: {st} {v}");
        }
        Ok(v)
    }

    pub async fn get(&self, url: String) -> anyhow::Result<Value> {
        let r = self.http.get(&url).bearer_auth(&self.token).send().await?;
        let st = r.status();
        let v: Value = r.json().await?;
        if !st.is_success() {
            bail!("GET {url}: {st} {v}");
        }
        Ok(v)
    }

    /// `meetings` meetings (`body` plus a title) and `n` participants (participant i in
    /// meeting i % meetings) with the host preset; (meeting ids, participant tokens).
    pub async fn people(
        &self,
        app: &str,
        n: usize,
        meetings: usize,
        body: Value,
    ) -> anyhow::Result<(Vec<String>, Vec<String>)> {
        let kit = &self.kit;
        let preset: Value = serde_json::from_str(include_str!("../../../docs/examples/preset.json"))?;
        let _ = self.post(format!("{kit}/{app}/presets"), preset).await; // exists already on a second run
        let mut mids = Vec::with_capacity(meetings);
        for m in 0..meetings {
            let mut b = body.clone();
            b["title"] = json!(format!("meeting {m}"));
            let v = self.post(format!("{kit}/{app}/meetings"), b).await?;
            mids.push(v["data"]["id"].as_str().context("meeting id")?.to_string());
        }
        let mut tokens = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(32) {
            let futs = chunk.iter().map(|i| {
                self.post(
                    format!("{kit}/{app}/meetings/{}/participants", mids[i % meetings]),
                    json!({"custom_participant_id": format!("u{i}"), "preset_name": "host"}),
                )
            });
            for v in futures_util::future::join_all(futs).await {
                tokens.push(v?["data"]["token"].as_str().context("token")?.to_string());
            }
        }
        Ok((mids, tokens))
    }
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let text = proc_file(pid, "status")?;
    text.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[allow(clippy::too_many_arguments)]
async fn gateway(
    base: &str,
    account: &str,
    token: &str,
    app: &str,
    n: usize,
    meetings: usize,
    rate: u64,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    let api = Api::new(base, account, token);
    let kit = &api.kit;
    let meetings = meetings.clamp(1, n.max(1));
    let t = Instant::now();
    let (mids, tokens) = api.people(app, n, meetings, json!({})).await?;
    eprintln!("created {n} participants in {meetings} meetings in {:.1} s", t.elapsed().as_secs_f64());
    // The storm: one join every 1/rate s. Each participant then reads (and drops) its events
    // until told to leave.
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let (leave_tx, leave_rx) = tokio::sync::watch::channel(false);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(bool, Duration)>();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let t = Instant::now();
    let cpu0 = (cpu_secs(server_pid), cpu_secs(None));
    let mut tasks = Vec::with_capacity(n);
    for tok in tokens {
        tick.tick().await;
        let (ok, failed, done, base, mut leave) =
            (ok.clone(), failed.clone(), done_tx.clone(), base.to_string(), leave_rx.clone());
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let joined = async {
                let mut p = rtk_client::participant::Participant::connect(&base, &tok).await?;
                p.join(None).await?;
                Ok::<_, rtk_client::participant::ParticipantError>(p)
            }
            .await;
            let mut p = match joined {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("join failed: {e}");
                    failed.fetch_add(1, Ordering::SeqCst);
                    let _ = done.send((false, started.elapsed()));
                    return;
                }
            };
            ok.fetch_add(1, Ordering::SeqCst);
            let _ = done.send((true, started.elapsed()));
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
    let mut latencies = Vec::with_capacity(n);
    while latencies.len() < n {
        match done_rx.recv().await {
            Some((_, d)) => latencies.push(d.as_secs_f64() * 1000.0),
            None => break,
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);
    let storm = t.elapsed().as_secs_f64();
    let cpu1 = (cpu_secs(server_pid), cpu_secs(None));
    let cpu_ms = |a: Option<f64>, b: Option<f64>| Some((b? - a?) * 1000.0 / n.max(1) as f64);
    let joined = ok.load(Ordering::SeqCst);
    let lost = n - joined;
    // What the server says, meeting by meeting.
    let (mut live, mut exact) = (0u64, true);
    for (m, mid) in mids.iter().enumerate() {
        let want = (0..n).filter(|i| i % meetings == m).count() as u64;
        let a: Value = api.get(format!("{kit}/{app}/meetings/{mid}/active-session")).await?;
        let l = a["data"]["live_participants"].as_u64().unwrap_or(0);
        let mx = a["data"]["max_concurrent_participants"].as_u64().unwrap_or(0);
        live += l;
        if l != want || mx != want {
            eprintln!("meeting {mid}: live {l}, max {mx}, expected {want}");
            exact = false;
        }
    }
    let client_rss = rss_kib(None);
    let server_rss = rss_kib(server_pid);
    println!(
        "{}",
        json!({"participants": n, "meetings": meetings, "rate": rate, "joined": joined, "lost": lost,
               "storm_secs": storm, "achieved_joins_per_sec": joined as f64 / storm,
               "join_ms_p50": pct(0.5), "join_ms_p99": pct(0.99),
               "server_cpu_ms_per_join": cpu_ms(cpu0.0, cpu1.0), "client_cpu_ms_per_join": cpu_ms(cpu0.1, cpu1.1),
               "live_participants": live, "exact": exact && joined == n,
               "client_rss_mib": client_rss.map(|k| k as f64 / 1024.0), "server_rss_mib": server_rss.map(|k| k as f64 / 1024.0)})
    );
    let _ = leave_tx.send(true);
    futures_util::future::join_all(tasks).await;
    if !(exact && joined == n) {
        bail!("lost joins or inexact counts: joined {joined} of {n}, live {live}");
    }
    Ok(())
}
