//! `rtk-bench livestream`: one RTMP ingest to N HTTP-FLV viewers on loopback.
//!
//! The publisher is this process (an RTMP client on rml_rtmp) sending the tags of an FLV file
//! (encoded beforehand by ffmpeg, at the bitrate under test) in real time, looping it. It
//! notes when it sent each video tag; every viewer parses the FLV stream it plays, so a tag's
//! latency is the time from its send to its arrival at a viewer, on one clock: the server's
//! whole path (ingest, fan-out, HTTP), without an encoder's or a player's buffers.
//! Reports the server's CPU with the ingest alone and with the viewers, its RSS, latency
//! percentiles, the viewers dropped before the ingest ended, and the viewer seconds the API
//! then reports.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionEvent, ClientSessionResult, PublishRequestType,
};
use rml_rtmp::time::RtmpTimestamp;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{cpu_secs, rss_kib, Api};

const VIDEO: u8 = 9;
const AUDIO: u8 = 8;

/// The audio and video tags of an FLV file: (kind, timestamp ms, body).
fn flv_tags(file: &[u8]) -> anyhow::Result<Vec<(u8, u32, Bytes)>> {
    if file.len() < 13 || &file[..3] != b"FLV" {
        bail!("not an FLV file");
    }
    let mut at = u32::from_be_bytes(file[5..9].try_into()?) as usize + 4;
    let mut out = vec![];
    while at + 11 <= file.len() {
        let kind = file[at] & 0x1f;
        let size = u32::from_be_bytes([0, file[at + 1], file[at + 2], file[at + 3]]) as usize;
        let ts = u32::from_be_bytes([file[at + 7], file[at + 4], file[at + 5], file[at + 6]]);
        let body = file.get(at + 11..at + 11 + size).context("a truncated FLV tag")?;
        if kind == VIDEO || kind == AUDIO {
            out.push((kind, ts, Bytes::copy_from_slice(body)));
        }
        at += 11 + size + 4;
    }
    Ok(out)
}

/// A codec configuration record (sent once, not on every loop).
fn is_config(kind: u8, body: &[u8]) -> bool {
    body.get(1) == Some(&0)
        && ((kind == VIDEO && body[0] & 0x0f == 7) || (kind == AUDIO && body[0] >> 4 == 10))
}

async fn send(
    sock: &mut TcpStream,
    results: Vec<ClientSessionResult>,
) -> anyhow::Result<Vec<ClientSessionEvent>> {
    let mut events = vec![];
    for r in results {
        match r {
            ClientSessionResult::OutboundResponse(p) => sock.write_all(&p.bytes).await?,
            ClientSessionResult::RaisedEvent(e) => events.push(e),
            ClientSessionResult::UnhandleableMessageReceived(_) => {}
        }
    }
    Ok(events)
}

/// Reads until the session raises an event `want` accepts.
async fn until_event(
    sock: &mut TcpStream,
    session: &mut ClientSession,
    mut pending: Vec<u8>,
    want: impl Fn(&ClientSessionEvent) -> bool,
) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 65536];
    loop {
        if !pending.is_empty() {
            let results = session.handle_input(&pending).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            pending.clear();
            for e in send(sock, results).await? {
                if want(&e) {
                    return Ok(());
                }
                if let ClientSessionEvent::ConnectionRequestRejected { description } = e {
                    bail!("the ingest refused the connection: {description}");
                }
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf)).await??;
        if n == 0 {
            bail!("the ingest closed the connection (refused the key?)");
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

/// Connects to `ingest` (`rtmp://host:port/live/`) and starts publishing `key`.
async fn publisher(ingest: &str, key: &str) -> anyhow::Result<(TcpStream, ClientSession)> {
    let rest = ingest.strip_prefix("rtmp://").context("ingest_server is not rtmp://")?;
    let (host, app) = rest.split_once('/').context("no application in ingest_server")?;
    let mut sock = TcpStream::connect(host).await?;
    sock.set_nodelay(true)?;
    let mut hs = Handshake::new(PeerType::Client);
    sock.write_all(&hs.generate_outbound_p0_and_p1().map_err(|e| anyhow::anyhow!("{e:?}"))?).await?;
    let mut buf = vec![0u8; 65536];
    let leftover = loop {
        let n = sock.read(&mut buf).await?;
        if n == 0 {
            bail!("closed during the RTMP handshake");
        }
        match hs.process_bytes(&buf[..n]).map_err(|e| anyhow::anyhow!("{e:?}"))? {
            HandshakeProcessResult::InProgress { response_bytes } => sock.write_all(&response_bytes).await?,
            HandshakeProcessResult::Completed { response_bytes, remaining_bytes } => {
                sock.write_all(&response_bytes).await?;
                break remaining_bytes;
            }
        }
    };
    let (mut session, first) =
        ClientSession::new(ClientSessionConfig::new()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    send(&mut sock, first).await?;
    let r = session
        .request_connection(app.trim_end_matches('/').to_string())
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    send(&mut sock, vec![r]).await?;
    until_event(&mut sock, &mut session, leftover, |e| {
        matches!(e, ClientSessionEvent::ConnectionRequestAccepted)
    })
    .await?;
    let r = session
        .request_publishing(key.to_string(), PublishRequestType::Live)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    send(&mut sock, vec![r]).await?;
    until_event(&mut sock, &mut session, vec![], |e| matches!(e, ClientSessionEvent::PublishRequestAccepted))
        .await?;
    Ok((sock, session))
}

/// What one viewer saw.
#[derive(Default)]
struct Seen {
    latencies_ms: Vec<f64>,
    bytes: u64,
    /// Its stream ended while the ingest still ran.
    dropped: bool,
    error: Option<String>,
}

/// Plays `url`, parsing its FLV tags; each video tag's latency from `sent`.
async fn viewer(
    http: reqwest::Client,
    url: String,
    sent: Arc<Mutex<HashMap<u32, Instant>>>,
    publishing: Arc<AtomicBool>,
) -> Seen {
    let mut seen = Seen::default();
    // What the server sends from its cache at connection (configuration, the tags since the
    // last keyframe) was sent before this viewer came: only later tags count for latency.
    let connected = Instant::now();
    let resp = match http.get(&url).send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            seen.error = Some(format!("playback answered {}", r.status()));
            seen.dropped = true;
            return seen;
        }
        Err(e) => {
            seen.error = Some(e.to_string());
            seen.dropped = true;
            return seen;
        }
    };
    let mut resp = resp;
    let mut buf: Vec<u8> = vec![];
    let mut at = 13usize; // past the FLV header and the first previous-tag size
    while let Ok(Some(chunk)) = resp.chunk().await {
        let now = Instant::now();
        seen.bytes += chunk.len() as u64;
        buf.extend_from_slice(&chunk);
        while at + 11 <= buf.len() {
            let size = u32::from_be_bytes([0, buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
            if at + 11 + size + 4 > buf.len() {
                break;
            }
            let ts = u32::from_be_bytes([buf[at + 7], buf[at + 4], buf[at + 5], buf[at + 6]]);
            if buf[at] & 0x1f == VIDEO {
                if let Some(t) =
                    sent.lock().unwrap_or_else(|p| p.into_inner()).get(&ts).filter(|t| **t > connected)
                {
                    seen.latencies_ms.push(now.duration_since(*t).as_secs_f64() * 1000.0);
                }
            }
            at += 11 + size + 4;
        }
        if at > 1 << 20 {
            buf.drain(..at);
            at = 0;
        }
    }
    seen.dropped = publishing.load(Ordering::SeqCst);
    seen
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    base: &str,
    account: &str,
    token: &str,
    app: &str,
    media: &std::path::Path,
    viewers: usize,
    secs: u64,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    let api = Api::new(base, account, token);
    let tags = flv_tags(&std::fs::read(media).with_context(|| format!("reading {}", media.display()))?)?;
    let span = tags.last().map(|t| t.1).context("the media file has no tags")? + 33;
    let media_bytes: usize = tags.iter().map(|t| t.2.len()).sum();
    let media_kbps = media_bytes as f64 * 8.0 / f64::from(span);
    let v = api.post(format!("{}/{app}/livestreams", api.kit), json!({"name": "bench"})).await?;
    let d = &v["data"];
    let (lid, ingest, key, playback) = (
        d["id"].as_str().context("id")?.to_string(),
        d["ingest_server"].as_str().context("ingest_server")?.to_string(),
        d["stream_key"].as_str().context("stream_key")?.to_string(),
        d["playback_url"].as_str().context("playback_url")?.to_string(),
    );
    let (mut sock, mut session) = publisher(&ingest, &key).await?;

    // Publish in real time, looping the file, until told to stop.
    let sent: Arc<Mutex<HashMap<u32, Instant>>> = Arc::default();
    let publishing = Arc::new(AtomicBool::new(true));
    let stop = Arc::new(tokio::sync::Notify::new());
    let pub_task = {
        let (sent, stop) = (sent.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut rd, mut wr) = sock.split();
            let drain = async {
                let mut b = vec![0u8; 4096];
                while rd.read(&mut b).await.is_ok_and(|n| n > 0) {}
            };
            let publish = async {
                let t0 = tokio::time::Instant::now();
                for lap in 0u32.. {
                    for (kind, ts, body) in &tags {
                        if lap > 0 && is_config(*kind, body) {
                            continue;
                        }
                        let ts = ts + lap * span;
                        tokio::time::sleep_until(t0 + Duration::from_millis(u64::from(ts))).await;
                        let r = if *kind == VIDEO {
                            sent.lock().unwrap_or_else(|p| p.into_inner()).insert(ts, Instant::now());
                            session.publish_video_data(body.clone(), RtmpTimestamp::new(ts), false)
                        } else {
                            session.publish_audio_data(body.clone(), RtmpTimestamp::new(ts), false)
                        };
                        match r {
                            Ok(ClientSessionResult::OutboundResponse(p)) => {
                                if wr.write_all(&p.bytes).await.is_err() {
                                    return anyhow::Ok(());
                                }
                            }
                            Ok(_) => {}
                            Err(e) => anyhow::bail!("{e:?}"),
                        }
                    }
                }
                Ok(())
            };
            tokio::select! {
                r = publish => r,
                _ = drain => Ok(()),
                _ = stop.notified() => Ok(()),
            }
        })
    };

    // The ingest alone, for a few seconds: what it costs without viewers.
    let warm = Duration::from_secs(secs.clamp(1, 5));
    let (c0, w0) = (cpu_secs(server_pid), Instant::now());
    tokio::time::sleep(warm).await;
    let (c1, w1) = (cpu_secs(server_pid), Instant::now());
    let rss_ingest = rss_kib(server_pid);

    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    let tasks: Vec<_> = (0..viewers)
        .map(|_| tokio::spawn(viewer(http.clone(), playback.clone(), sent.clone(), publishing.clone())))
        .collect();
    // Wait until every viewer is counted by the server before the CPU clock starts.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = http.get(format!("{base}/metrics")).send().await?.text().await?;
        let n = m
            .lines()
            .find(|l| l.starts_with("rtk_livestream_viewers "))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .unwrap_or(0.0);
        if n as usize >= viewers || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (c2, w2) = (cpu_secs(server_pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (c3, w3) = (cpu_secs(server_pid), Instant::now());
    let rss_viewers = rss_kib(server_pid);

    publishing.store(false, Ordering::SeqCst);
    stop.notify_one();
    pub_task.await??;
    let mut seen = vec![];
    for t in tasks {
        seen.push(tokio::time::timeout(Duration::from_secs(30), t).await??);
    }
    let mut lat: Vec<f64> = seen.iter().flat_map(|s| s.latencies_ms.iter().copied()).collect();
    lat.sort_by(f64::total_cmp);
    let dropped = seen.iter().filter(|s| s.dropped).count();
    let errors: Vec<&String> = seen.iter().filter_map(|s| s.error.as_ref()).take(3).collect();
    let watched = w3.duration_since(w2).as_secs_f64();
    let per_viewer_mbps = seen.iter().map(|s| s.bytes as f64).sum::<f64>() * 8.0
        / 1e6
        / viewers.max(1) as f64
        / w3.duration_since(w2).as_secs_f64().max(0.001);
    let cpu = |a: Option<f64>, b: Option<f64>, w: Duration| match (a, b) {
        (Some(a), Some(b)) => (b - a) / w.as_secs_f64() * 100.0,
        _ => f64::NAN,
    };
    let cpu_ingest = cpu(c0, c1, w1.duration_since(w0));
    let cpu_viewers = cpu(c2, c3, w3.duration_since(w2));
    // The API's figure once the ingest has ended and the viewers' time is written.
    let mut viewer_seconds = serde_json::Value::Null;
    for _ in 0..100 {
        let v = api.get(format!("{}/{app}/livestreams/{lid}", api.kit)).await?;
        let s = &v["data"]["session"];
        if !s["stopped_time"].is_null() {
            viewer_seconds = s["viewer_seconds"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = json!({
        "viewers": viewers,
        "watched_secs": watched,
        "media_kbps": media_kbps.round(),
        "per_viewer_mbps": (per_viewer_mbps * 100.0).round() / 100.0,
        "server_cpu_pct_ingest_only": (cpu_ingest * 10.0).round() / 10.0,
        "server_cpu_pct_with_viewers": (cpu_viewers * 10.0).round() / 10.0,
        "server_cpu_pct_per_viewer": ((cpu_viewers - cpu_ingest) / viewers.max(1) as f64 * 1000.0).round() / 1000.0,
        "server_rss_mib_ingest_only": rss_ingest.map(|k| k / 1024),
        "server_rss_mib_with_viewers": rss_viewers.map(|k| k / 1024),
        "latency_ms_p50": (pct(&lat, 0.5) * 10.0).round() / 10.0,
        "latency_ms_p99": (pct(&lat, 0.99) * 10.0).round() / 10.0,
        "latency_ms_max": (lat.last().copied().unwrap_or(f64::NAN) * 10.0).round() / 10.0,
        "latency_samples": lat.len(),
        "dropped_viewers": dropped,
        "viewer_errors": errors,
        "api_viewer_seconds": viewer_seconds,
    });
    println!("{out}");
    if dropped > 0 {
        bail!("{dropped} of {viewers} viewers were dropped: {out}");
    }
    Ok(())
}
