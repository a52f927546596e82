//! Livestreams with a real ingest: ffmpeg publishes an H.264 + AAC test pattern over RTMP to
//! the `ingest_server` + `stream_key` the API returned, ffprobe reads the `playback_url`
//! (HTTP-FLV), a player's time accrues as viewer seconds, and the stop ends the ingest, all
//! on the manual clock so every second is exact. Wrong, busy and stopped keys are refused.
//! Also: `live_stream_on_start` and the session's end, without media.
//!
//! ffmpeg and ffprobe come from Debian's package (`.ci/run` installs it); without them these
//! tests say so and pass, unless `CI` or `RTK_TEST_REQUIRE_FFMPEG` is set.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::Command;

use crate::both;
use crate::harness::{at, TestServer};

fn ffmpeg_present() -> bool {
    let ok = |bin: &str| {
        std::process::Command::new(bin).arg("-version").output().is_ok_and(|o| o.status.success())
    };
    if ok("ffmpeg") && ok("ffprobe") {
        return true;
    }
    if std::env::var_os("CI").is_some() || std::env::var_os("RTK_TEST_REQUIRE_FFMPEG").is_some() {
        panic!("ffmpeg and ffprobe are required here (apt-get install ffmpeg)");
    }
    eprintln!("SKIPPED: ffmpeg/ffprobe not installed; the livestream media tests did not run");
    false
}

/// ffmpeg publishing a test pattern with tone to `url` in real time for `secs`.
fn publish(url: &str, secs: u32) -> tokio::process::Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=15"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15"])
        .args(["-c:a", "aac", "-b:a", "64k", "-t", &secs.to_string(), "-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ffmpeg starts")
}

/// A publisher the ingest refuses: ffmpeg fails, and says why.
async fn refused(url: &str) -> String {
    let out = tokio::time::timeout(Duration::from_secs(30), publish(url, 3).wait_with_output())
        .await
        .expect("a refused ffmpeg exits")
        .expect("ffmpeg ran");
    assert!(!out.status.success(), "ffmpeg was let publish to {url}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls `url` until `ok` holds of its answer (an ingest starting is seen through the API).
async fn until(s: &TestServer, url: &str, ok: impl Fn(StatusCode, &Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (st, v) = s.get(url).await;
        if ok(st, &v) {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "{url} never became ready: {st} {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the server has written off every playback connection of `lid`.
async fn viewers_gone(s: &TestServer, lid: &str) {
    let live = s.engine.livestreams().expect("livestreaming is on").live(lid).expect("the ingest runs");
    tokio::time::timeout(
        Duration::from_secs(20),
        live.flushed_by(tokio::time::Instant::now() + Duration::from_secs(20)),
    )
    .await
    .expect("the viewers leave");
    assert_eq!(live.viewer_count(), 0);
}

fn live(c: &mut rtk_server::Config) {
    c.livestreams.rtmp_listen = Some("127.0.0.1:0".parse().unwrap());
}

async fn ingest_playback_and_stop(s: &TestServer) {
    if !ffmpeg_present() {
        return;
    }
    let r = s.room(json!({"title": "Keynote"})).await;
    let base = format!("{}/{}", s.kit(), r.app);
    let start_url = format!("{base}/meetings/{}/livestreams", r.meeting);
    let (st, v) =
        s.post(&start_url, json!({"name": "keynote", "video_config": {"width": 160, "height": 120}})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let ls = v["data"].clone();
    assert_eq!(ls["status"], "INVOKED");
    let ingest = ls["ingest_server"].as_str().unwrap().to_string();
    assert!(ingest.starts_with("rtmp://127.0.0.1:") && ingest.ends_with("/live/"), "{ls}");
    let key = ls["stream_key"].as_str().unwrap().to_string();
    let playback = ls["playback_url"].as_str().unwrap().to_string();
    let lid = ls["id"].as_str().unwrap().to_string();
    // One livestream per meeting at a time.
    let (st, v) = s.post(&start_url, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    // Bad input.
    let (st, _) = s.post(&start_url, json!({"video_config": {"width": "wide"}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // A key the API never issued is refused.
    let why = refused(&format!("{ingest}not-a-key")).await;
    assert!(!why.is_empty());

    let started = {
        use rtk_server::clock::Clock;
        s.clock.now()
    };
    let mut ffmpeg = publish(&format!("{ingest}{key}"), 120);
    let active = format!("{base}/livestreams/{lid}/active-livestream-session");
    let v = until(s, &active, |st, _| st == StatusCode::OK).await;
    assert_eq!(v["data"]["livestream"]["status"], "LIVE", "{v}");
    assert_eq!(v["data"]["session"]["started_time"], at(started - crate::harness::T0));
    let (_, m) = s.get(&format!("{base}/meetings/{}/active-livestream", r.meeting)).await;
    assert_eq!(m["data"]["status"], "LIVE", "{m}");
    assert_eq!(m["data"]["disabled"], "false", "{m}");

    // A second publisher on the same key is refused while the first publishes.
    refused(&format!("{ingest}{key}")).await;

    // What a player sees: a video and an audio stream.
    let probe = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_type,codec_name",
                "-of",
                "csv=p=0",
                &playback,
            ])
            .output(),
    )
    .await
    .expect("ffprobe finishes")
    .expect("ffprobe runs");
    let streams = String::from_utf8_lossy(&probe.stdout);
    assert!(probe.status.success(), "{}", String::from_utf8_lossy(&probe.stderr));
    assert!(streams.contains("h264,video") && streams.contains("aac,audio"), "{streams}");

    // ffprobe's connection has closed; then a player watches for exactly 10 s of the clock.
    viewers_gone(s, &lid).await;
    let mut player = s.http.get(&playback).send().await.expect("playback answers");
    assert_eq!(player.status(), StatusCode::OK);
    assert_eq!(player.headers()["content-type"], "video/x-flv");
    let first = player.chunk().await.unwrap().expect("the stream starts");
    assert_eq!(&first[..3], b"FLV");
    s.clock.advance(10_000);
    drop(player);
    // The server sees the player leave at its next write: wait for that before time moves.
    viewers_gone(s, &lid).await;
    s.clock.advance(5_000);
    let v = until(s, &active, |_, v| v["data"]["session"]["viewer_seconds"] == "10").await;
    assert_eq!(v["data"]["session"]["ingest_seconds"], "15", "{v}");

    // Stopping ends the ingest (ffmpeg's connection is closed) and refuses the key from then on.
    let (st, v) = s.post(&format!("{base}/meetings/{}/active-livestream/stop", r.meeting), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["data"]["message"].as_str().unwrap().contains(&lid), "{v}");
    let status =
        tokio::time::timeout(Duration::from_secs(20), ffmpeg.wait()).await.expect("ffmpeg is cut off");
    assert!(status.is_ok());
    let (st, v) = s.get(&format!("{base}/livestreams/{lid}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["livestream"]["status"], "IDLE", "{d}");
    assert_eq!(d["livestream"]["disabled"], "true", "{d}");
    assert_eq!(d["paging"]["total_count"], 1);
    let session = &d["session"];
    assert_eq!(session["ingest_seconds"], 15, "{session}");
    assert_eq!(session["viewer_seconds"], 10, "{session}");
    assert_eq!(session["stopped_time"], at(started + 15_000 - crate::harness::T0));
    assert_eq!(session["err_message"], Value::Null);
    assert!(session.get("recording_url").is_none(), "not recorded without --livestream-record: {session}");
    assert_eq!(d["sessions"].as_array().unwrap().len(), 1);
    let sid = session["id"].as_str().unwrap();
    let (_, one) = s.get(&format!("{base}/livestreams/sessions/{sid}")).await;
    assert_eq!(one["data"]["ingest_seconds"], 15, "{one}");
    let (st, _) = s.get(&active).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&format!("{base}/meetings/{}/active-livestream", r.meeting)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.post(&format!("{base}/meetings/{}/active-livestream/stop", r.meeting), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    refused(&format!("{ingest}{key}")).await;
    let (st, _) = s.http.get(&playback).send().await.map(|r| (r.status(), ())).unwrap();
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Analytics: the one ingest, to the second.
    let secs = started / 1000;
    let (_, v) = s
        .get(&format!(
            "{base}/analytics/livestreams/overall?start_time={}&end_time={}",
            secs - 60,
            secs + 3600
        ))
        .await;
    assert_eq!(v["data"], json!({"count": 1, "total_ingest_seconds": 15, "total_viewer_seconds": 10}));
    // Python 5.0.0 sends RFC 3339 times here.
    let (_, iso) = s
        .get(&format!(
            "{base}/analytics/livestreams/overall?start_time=2000-01-01T00:00:00Z&end_time=9999-12-31T00:00:00Z"
        ))
        .await;
    assert_eq!(iso["data"], v["data"]);
    let (st, v) = s.get(&format!("{base}/analytics/livestreams/overall?start_time=yesterday")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (_, v) = s
        .get(&format!("{base}/analytics/livestreams/daywise?start_time={}&end_time={}", secs - 86_400, secs))
        .await;
    let days = v["data"].as_array().unwrap();
    assert_eq!(days.len(), 2, "{v}");
    assert_eq!(days[1]["count"], 1, "{v}");
    assert_eq!(days[1]["total_ingest_seconds"], 15);
    assert_eq!(days[0]["count"], 0);
    // A range longer than a century answers its last 36,525 days.
    let (st, v) = s
        .get(&format!(
            "{base}/analytics/livestreams/daywise?start_time=0000-01-01T00:00:00Z&end_time=2000-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let days = v["data"].as_array().unwrap();
    assert_eq!((days.len(), days.last().unwrap()["date"].as_str()), (36_525, Some("2000-01-01")));

    // The list: the page's first livestream at the top, the page in `livestreams`.
    let (_, v) = s.get(&format!("{base}/livestreams")).await;
    assert_eq!(v["data"]["id"], lid.as_str(), "{v}");
    assert_eq!(v["data"]["livestreams"].as_array().unwrap().len(), 1);
    let (_, v) = s.get(&format!("{base}/livestreams?exclude_meetings=true")).await;
    assert_eq!(v["data"]["livestreams"], json!([]), "{v}");
    assert!(v["data"].get("id").is_none());
    let (st, _) = s.get(&format!("{base}/livestreams?status=BOGUS")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
both!(ingest_playback_viewers_and_stop, super::ingest_playback_and_stop, super::live);

async fn a_dropped_publisher(s: &TestServer) {
    if !ffmpeg_present() {
        return;
    }
    let app = s.app("independent").await;
    let base = format!("{}/{app}", s.kit());
    let (st, v) = s.post(&format!("{base}/livestreams"), json!({"name": "cam"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["disabled"], false, "{v}");
    assert_eq!(v["data"]["meeting_id"], Value::Null);
    let lid = v["data"]["id"].as_str().unwrap().to_string();
    let url = format!(
        "{}{}",
        v["data"]["ingest_server"].as_str().unwrap(),
        v["data"]["stream_key"].as_str().unwrap()
    );
    let mut ffmpeg = publish(&url, 120);
    let active = format!("{base}/livestreams/{lid}/active-livestream-session");
    until(s, &active, |st, _| st == StatusCode::OK).await;
    s.clock.advance(7_000);
    // Killed mid-stream: the ingest fails at that moment, with the reason.
    ffmpeg.kill().await.unwrap();
    let v =
        until(s, &format!("{base}/livestreams/{lid}"), |_, v| v["data"]["livestream"]["status"] == "ERRORED")
            .await;
    let session = &v["data"]["session"];
    assert_eq!(session["ingest_seconds"], 7, "{session}");
    assert!(session["err_message"].as_str().unwrap().contains("dropped"), "{session}");
    // An independent livestream takes a new ingest: a second session.
    let mut again = publish(&url, 120);
    until(s, &active, |st, _| st == StatusCode::OK).await;
    again.kill().await.unwrap();
    let v = until(s, &format!("{base}/livestreams/{lid}"), |_, v| {
        v["data"]["paging"]["total_count"] == 2 && v["data"]["livestream"]["status"] == "ERRORED"
    })
    .await;
    assert_eq!(v["data"]["sessions"].as_array().unwrap().len(), 2);
}
both!(a_dropped_publisher_errors_and_can_come_back, super::a_dropped_publisher, super::live);

async fn on_start_and_session_end(s: &TestServer) {
    let r = s.room(json!({"title": "Town hall", "live_stream_on_start": true})).await;
    let base = format!("{}/{}", s.kit(), r.app);
    let (st, _) = s.get(&format!("{base}/meetings/{}/active-livestream", r.meeting)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let mut alice = s.joined(&r, "alice").await;
    let (st, v) = s.get(&format!("{base}/meetings/{}/active-livestream", r.meeting)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "INVOKED");
    assert_eq!(v["data"]["name"], "Town hall");
    let lid = v["data"]["id"].as_str().unwrap().to_string();
    // The host ends the session: its livestream stops with it.
    let (st, v) = s.post(&format!("{base}/meetings/{}/active-session/kick-all", r.meeting), json!({})).await;
    assert!(st.is_success(), "{v}");
    alice.closed().await;
    let (st, _) = s.get(&format!("{base}/meetings/{}/active-livestream", r.meeting)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = s.get(&format!("{base}/livestreams/{lid}")).await;
    assert_eq!(v["data"]["livestream"]["disabled"], "true", "{v}");
    assert_eq!(v["data"]["session"], Value::Null);
}
both!(live_stream_on_start_follows_the_session, super::on_start_and_session_end, super::live);

async fn off_without_rtmp(s: &TestServer) {
    let app = s.app("off").await;
    let (st, v) = s.post(&format!("{}/{app}/livestreams", s.kit()), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v.to_string().contains("--rtmp-listen"), "{v}");
}
both!(livestreaming_is_off_without_an_rtmp_listener, super::off_without_rtmp);

fn recorded(c: &mut rtk_server::Config) {
    live(c);
    c.livestreams.record = true;
}

/// With `record`, an ingest is stored as FLV behind a signed link: the file plays (a video and
/// an audio stream of the length ffmpeg sent), its size is the one reported, and the link
/// expires with the recordings' retention.
async fn ingest_recorded(s: &TestServer) {
    if !ffmpeg_present() {
        return;
    }
    let app = s.app("recorded").await;
    let base = format!("{}/{app}", s.kit());
    let (_, v) = s.post(&format!("{base}/livestreams"), json!({"name": "rec"})).await;
    let lid = v["data"]["id"].as_str().unwrap().to_string();
    let url = format!(
        "{}{}",
        v["data"]["ingest_server"].as_str().unwrap(),
        v["data"]["stream_key"].as_str().unwrap()
    );
    // ffmpeg sends 3 s of media and ends the ingest itself.
    let out = tokio::time::timeout(Duration::from_secs(60), publish(&url, 3).wait_with_output())
        .await
        .expect("ffmpeg finishes")
        .expect("ffmpeg ran");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = until(s, &format!("{base}/livestreams/{lid}"), |_, v| {
        // (The livestream and its sessions are two reads: wait for both to show the end.)
        v["data"]["session"]["recording_url"].is_string() && v["data"]["livestream"]["status"] == "IDLE"
    })
    .await;
    let session = &v["data"]["session"];
    assert_eq!(v["data"]["livestream"]["status"], "IDLE", "{v}");
    let link = session["recording_url"].as_str().unwrap().to_string();
    assert!(link.ends_with(".flv"), "{link}");
    let (_, one) = s.get(&format!("{base}/livestreams/sessions/{}", session["id"].as_str().unwrap())).await;
    assert_eq!(one["data"]["recording_file_size"], session["recording_file_size"], "{one}");

    let got = s.http.get(&link).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "video/x-flv");
    let file = got.bytes().await.unwrap();
    assert_eq!(&file[..3], b"FLV");
    assert_eq!(session["recording_file_size"], file.len() as u64, "{session}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.flv");
    std::fs::write(&path, &file).unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name:format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .await
        .unwrap();
    let shown = String::from_utf8_lossy(&probe.stdout);
    assert!(probe.status.success(), "{}", String::from_utf8_lossy(&probe.stderr));
    assert!(shown.contains("h264,video") && shown.contains("aac,audio"), "{shown}");
    let duration: f64 = shown.lines().filter_map(|l| l.trim().parse().ok()).next().expect("a duration");
    assert!((2.5..=3.5).contains(&duration), "the file holds {duration} s of the 3 s sent: {shown}");

    // Not a link: 404. Past the retention: 410.
    let (st, _) = s
        .http
        .get(format!("{}/livestream-files/nope.flv", s.root))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.clock.advance(7 * 24 * 3600 * 1000 + 1000);
    let st = s.http.get(&link).send().await.unwrap().status();
    assert_eq!(st, StatusCode::GONE);
}
both!(an_ingest_is_recorded_as_flv, super::ingest_recorded, super::recorded);
