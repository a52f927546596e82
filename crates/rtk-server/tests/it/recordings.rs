//! Recordings: the state machine through the API with real peers on the gateway, the file
//! behind the download link (JSON and WebVTT), the session's `meta`, record_on_start,
//! max_seconds and the session's end on the manual clock, the list's filters, and errors.

use reqwest::{Method, StatusCode};
use rtk_api::gateway::{ClientMessage, ServerEvent};
use serde_json::{json, Value};

use crate::both;
use crate::harness::{at, TestServer};

fn rec_url(s: &TestServer, app: &str) -> String {
    format!("{}/{app}/recordings", s.kit())
}

/// The fields every SDK requires, present (null where unknown), of the right types.
fn assert_shape(v: &Value) {
    for k in [
        "audio_download_url",
        "download_url",
        "download_url_expiry",
        "file_size",
        "session_id",
        "started_time",
        "stopped_time",
    ] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    assert!(v["id"].is_string() && v["invoked_time"].is_string() && v["output_file_name"].is_string(), "{v}");
    assert!(rtk_api::recordings::STATUSES.contains(&v["status"].as_str().unwrap()), "{v}");
}

async fn lifecycle(s: &TestServer) {
    let r = s.room(json!({"title": "Board meeting"})).await;
    let url = rec_url(s, &r.app);
    // No live session yet: nothing to record.
    let (st, v) = s.post(&url, json!({"meeting_id": r.meeting})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v.to_string().contains("no live session"), "{v}");

    let mut alice = s.joined(&r, "alice").await;
    let session = alice.session_id.clone().unwrap();
    let (st, v) = s
        .post(
            &url,
            json!({"meeting_id": r.meeting, "file_name_prefix": "board", "max_seconds": 3600,
                   "storage_config": {"type": "aws", "bucket": "b", "secret": "s3cr3t", "access_key": "AK"},
                   "video_config": {"codec": "H264", "width": 1280}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let rec = v["data"].clone();
    assert_shape(&rec);
    assert_eq!(rec["status"], "INVOKED", "the answer is the recording as invoked: {rec}");
    assert_eq!((rec["invoked_time"].clone(), rec["session_id"].clone()), (json!(at(0)), json!(session)));
    assert_eq!(rec["start_reason"], json!({"caller": {"type": "ORGANIZATION"}, "reason": "API_CALL"}));
    assert_eq!(rec["storage_config"], json!({"type": "aws", "bucket": "b"}), "secrets are never read back");
    let id = rec["id"].as_str().unwrap().to_string();
    assert_eq!(rec["output_file_name"], format!("board_{id}.json"));
    let one = format!("{url}/{id}");

    // The recorder attached before the answer: RECORDING from the invocation.
    let (_, v) = s.get(&one).await;
    assert_eq!(
        (v["data"]["status"].clone(), v["data"]["started_time"].clone()),
        (json!("RECORDING"), json!(at(0)))
    );
    // Only one at a time.
    let (st, v) = s.post(&url, json!({"meeting_id": r.meeting})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v.to_string().contains("Recording already in progress"), "{v}");
    let (st, v) = s.get(&format!("{url}/active-recording/{}", r.meeting)).await;
    assert_eq!((st, v["data"]["id"].clone()), (StatusCode::OK, json!(id)));

    // 10 s recorded, 10 s paused, 20 s recorded, with a chat line in each part.
    s.pass(4_000).await;
    alice.send(&ClientMessage::Chat { message: "before the pause".into() }).await;
    alice.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    s.pass(6_000).await;
    let act = |a: &str| json!({ "action": a });
    let (st, v) = s.call(Method::PUT, &one, Some(act("resume"))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v.to_string().contains("it is RECORDING"), "{v}");
    let (st, v) = s.call(Method::PUT, &one, Some(act("pause"))).await;
    assert_eq!((st, v["data"]["status"].clone()), (StatusCode::OK, json!("PAUSED")), "{v}");
    assert_eq!(v["data"]["recording_duration"], 10);
    s.pass(5_000).await;
    alice.send(&ClientMessage::Chat { message: "while paused".into() }).await;
    alice.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    s.pass(5_000).await;
    let (_, v) = s.get(&one).await;
    assert_eq!(v["data"]["recording_duration"], 10, "a pause accrues nothing: {v}");
    let (st, v) = s.call(Method::PUT, &one, Some(act("resume"))).await;
    assert_eq!((st, v["data"]["status"].clone()), (StatusCode::OK, json!("RECORDING")), "{v}");
    s.pass(5_000).await;
    alice.send(&ClientMessage::Chat { message: "after <b>&</b>".into() }).await;
    alice.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    s.pass(15_000).await;

    let (st, v) = s.call(Method::PUT, &one, Some(act("stop"))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["data"]["status"].clone(), v["data"]["stopped_time"].clone()),
        (json!("UPLOADING"), json!(at(40_000)))
    );
    assert_eq!(v["data"]["stop_reason"], json!({"caller": {"type": "ORGANIZATION"}, "reason": "API_CALL"}));
    let (st, v) = s.call(Method::PUT, &one, Some(act("stop"))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");

    let (_, v) = s.get(&one).await;
    let rec = v["data"].clone();
    assert_shape(&rec);
    assert_eq!(rec["status"], "UPLOADED", "{rec}");
    assert_eq!(rec["recording_duration"], 30, "40 s less the 10 s pause: {rec}");
    let link = rec["download_url"].as_str().unwrap().to_string();
    assert_eq!(rec["download_url_expiry"], at(40_000 + 7 * 86_400_000));
    let (st, ctype, body) = fetch(&link).await;
    assert_eq!((st, ctype.as_str()), (StatusCode::OK, "application/json"));
    assert_eq!(rec["file_size"], json!(body.len() as f64));
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((doc["format"].clone(), doc["recording_id"].clone()), (json!("rtk-recording/1"), json!(id)));
    assert_eq!(doc["recording_duration_ms"], 30_000);
    assert_eq!(doc["pauses"], json!([{"from": at(10_000), "to": at(20_000)}]));
    let events: Vec<(i64, String, Option<String>)> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["offset_ms"].as_i64().unwrap(),
                e["type"].as_str().unwrap().to_string(),
                e["message"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (0, "peer_joined".into(), None),
            (4_000, "chat".into(), Some("before the pause".into())),
            (10_000, "paused".into(), None),
            (10_000, "resumed".into(), None),
            (15_000, "chat".into(), Some("after <b>&</b>".into())),
        ],
        "media offsets, the paused chat absent: {doc}"
    );
    let (st, ctype, vtt) = fetch(&format!("{link}.vtt")).await;
    assert_eq!((st, ctype.as_str()), (StatusCode::OK, "text/vtt; charset=utf-8"));
    let cues = parse_vtt(std::str::from_utf8(&vtt).unwrap());
    assert_eq!(cues.len(), 5, "{cues:?}");
    assert_eq!(cues[1], (4_000, 5_000, "alice: before the pause".to_string()));
    assert_eq!(cues[4].2, "alice: after &lt;b&gt;&amp;&lt;/b&gt;");

    // The session's meta carries it; the hot path and the routed path agree.
    let details = format!("{}/{}/sessions/{session}", s.kit(), r.app);
    let (_, v) = s.get(&details).await;
    let m = &v["data"]["meta"]["recordings"];
    assert_eq!(
        (m[0]["id"].clone(), m[0]["status"].clone(), m[0]["recording_duration"].clone()),
        (json!(id), json!("UPLOADED"), json!(30)),
        "{v}"
    );
    let (_, routed) = s.get(&format!("{details}?include_breakout_rooms=false")).await;
    assert_eq!(routed["data"]["meta"], v["data"]["meta"]);

    // The link expires with the recording's retention: 410, and `expired=true` finds it.
    let (_, v) = s.get(&format!("{url}?expired=true")).await;
    assert_eq!(v["paging"]["total_count"], 0, "{v}");
    s.clock.advance(7 * 86_400_000);
    let (st, _, _) = fetch(&link).await;
    assert_eq!(st, StatusCode::GONE);
    let (_, v) = s.get(&format!("{url}?expired=true")).await;
    assert_eq!(
        (v["paging"]["total_count"].clone(), v["data"][0]["id"].clone()),
        (json!(1), json!(id)),
        "{v}"
    );
    // A forged or foreign link is not a file.
    let (st, _, _) = fetch(&format!("{}/recording-files/not-a-token", s.root)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    alice.leave().await;
}
both!(lifecycle_pause_stop_and_file, super::lifecycle);

async fn fetch(url: &str) -> (StatusCode, String, Vec<u8>) {
    let r = reqwest::get(url).await.unwrap();
    let st = r.status();
    let ct = r.headers().get("content-type").map(|h| h.to_str().unwrap().to_string()).unwrap_or_default();
    (st, ct, r.bytes().await.unwrap().to_vec())
}

/// A strict WebVTT reader: the signature line, then cues of an id line, a timing line
/// `HH:MM:SS.mmm --> HH:MM:SS.mmm` (end after start, starts in order) and one text line.
fn parse_vtt(s: &str) -> Vec<(i64, i64, String)> {
    let mut blocks = s.split("\n\n");
    assert!(blocks.next().unwrap().starts_with("WEBVTT"), "{s}");
    let time = |t: &str| -> i64 {
        let (hms, ms) = t.split_once('.').unwrap_or_else(|| panic!("bad time {t}"));
        let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        assert_eq!((p.len(), ms.len()), (3, 3), "bad time {t}");
        ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + ms.parse::<i64>().unwrap()
    };
    let mut out: Vec<(i64, i64, String)> = vec![];
    for b in blocks.filter(|b| !b.trim().is_empty()) {
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(lines.len(), 3, "a cue is id, timing, text: {b:?}");
        let (a, z) = lines[1].split_once(" --> ").unwrap_or_else(|| panic!("bad timing {b:?}"));
        let (a, z) = (time(a), time(z));
        assert!(z >= a && out.last().is_none_or(|l| l.0 <= a), "{b:?}");
        assert!(!lines[2].contains("-->"), "{b:?}");
        out.push((a, z, lines[2].to_string()));
    }
    out
}

async fn ends_with_the_session(s: &TestServer) {
    let r = s.room(json!({"session_keep_alive_time_in_secs": 60})).await;
    let url = rec_url(s, &r.app);
    let alice = s.joined(&r, "alice").await;
    let (st, v) = s.post(&url, json!({"meeting_id": r.meeting})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    s.pass(40_000).await;
    alice.leave().await;
    // Keep-alive: the recorder stays until the session closes, 60 s after the last leave.
    s.pass(59_000).await;
    let (_, v) = s.get(&format!("{url}/{id}")).await;
    assert_eq!(v["data"]["status"], "RECORDING", "{v}");
    s.pass(1_000).await;
    let (_, v) = s.get(&format!("{url}/{id}")).await;
    assert_eq!(v["data"]["status"], "UPLOADED", "{v}");
    assert_eq!(v["data"]["stopped_time"], at(100_000));
    assert_eq!(v["data"]["stop_reason"], json!({"reason": "ALL_PEERS_LEFT"}));
    assert_eq!(v["data"]["recording_duration"], 100);
    let (st, v) = s.get(&format!("{url}/active-recording/{}", r.meeting)).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");

    // Kick-all ends the session at once, and its recording with it.
    let bob = s.joined(&r, "bob").await;
    let (_, v) = s.post(&url, json!({"meeting_id": r.meeting})).await;
    let id2 = v["data"]["id"].as_str().unwrap().to_string();
    s.pass(5_000).await;
    let (st, v) = s
        .post(&format!("{}/{}/meetings/{}/active-session/kick-all", s.kit(), r.app, r.meeting), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = s.get(&format!("{url}/{id2}")).await;
    assert_eq!(
        (
            v["data"]["status"].clone(),
            v["data"]["recording_duration"].clone(),
            v["data"]["stop_reason"]["reason"].clone()
        ),
        (json!("UPLOADED"), json!(5), json!("ALL_PEERS_LEFT")),
        "{v}"
    );
    drop(bob);
}
both!(a_recording_ends_with_its_session, super::ends_with_the_session);

async fn on_start_and_max_seconds(s: &TestServer) {
    let r = s.room(json!({"record_on_start": true, "recording_config": {"max_seconds": 60, "file_name_prefix": "auto"}}),
    )
    .await;
    let url = rec_url(s, &r.app);
    let _alice = s.joined(&r, "alice").await;
    let (_, v) = s.get(&format!("{url}/active-recording/{}", r.meeting)).await;
    let rec = v["data"].clone();
    assert_eq!(
        (rec["status"].clone(), rec["start_reason"].clone()),
        (json!("RECORDING"), json!({"reason": "RECORD_ON_START"})),
        "{v}"
    );
    assert!(rec["output_file_name"].as_str().unwrap().starts_with("auto_"), "{rec}");
    // Paused for 30 s, the 60 s of recorded time end at 90 s.
    let one = format!("{url}/{}", rec["id"].as_str().unwrap());
    s.pass(20_000).await;
    s.call(Method::PUT, &one, Some(json!({"action": "pause"}))).await;
    s.pass(30_000).await;
    s.call(Method::PUT, &one, Some(json!({"action": "resume"}))).await;
    s.pass(39_999).await;
    let (_, v) = s.get(&one).await;
    assert_eq!(
        (v["data"]["status"].clone(), v["data"]["recording_duration"].clone()),
        (json!("RECORDING"), json!(59)),
        "{v}"
    );
    s.pass(30_000).await;
    let (_, v) = s.get(&one).await;
    assert_eq!(v["data"]["status"], "UPLOADED", "{v}");
    assert_eq!(
        (v["data"]["stopped_time"].clone(), v["data"]["recording_duration"].clone()),
        (json!(at(90_000)), json!(60)),
        "{v}"
    );
    assert_eq!(v["data"]["stop_reason"], json!({"rtk_reason": "MAX_SECONDS"}));
}
both!(record_on_start_and_max_seconds, super::on_start_and_max_seconds);

async fn list_and_errors(s: &TestServer) {
    let r = s.room(json!({"title": "Weekly Sync"})).await;
    let url = rec_url(s, &r.app);
    let _alice = s.joined(&r, "alice").await;
    let mut ids = vec![];
    for i in 0..3 {
        let (st, v) = s.post(&url, json!({"meeting_id": r.meeting, "allow_multiple_recordings": true})).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        ids.push(v["data"]["id"].as_str().unwrap().to_string());
        s.pass(1_000 * (i + 1)).await;
    }
    s.call(Method::PUT, &format!("{url}/{}", ids[0]), Some(json!({"action": "stop"}))).await;
    s.call(Method::PUT, &format!("{url}/{}", ids[1]), Some(json!({"action": "pause"}))).await;

    let list = |q: &str| {
        let u = format!("{url}?{q}");
        async move { s.get(&u).await }
    };
    let got = |v: &Value| -> Vec<String> {
        v["data"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_string()).collect()
    };
    let (st, v) = list("").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(got(&v), vec![ids[2].clone(), ids[1].clone(), ids[0].clone()], "newest first");
    assert_eq!(v["paging"], json!({"total_count": 3, "start_offset": 1, "end_offset": 3}));
    assert_eq!(v["data"][0]["meeting"]["id"], r.meeting);
    assert_eq!(v["data"][0]["meeting"]["title"], "Weekly Sync");
    let (_, v) = list("sort_by=invokedTime&sort_order=ASC&per_page=2&page_no=2").await;
    assert_eq!((got(&v), v["paging"]["total_count"].clone()), (vec![ids[2].clone()], json!(3)));
    let (_, v) = list("status=PAUSED&status=UPLOADED&sort_order=asc").await;
    assert_eq!(got(&v), vec![ids[0].clone(), ids[1].clone()]);
    let (_, v) = list("status=RECORDING").await;
    assert_eq!(got(&v), vec![ids[2].clone()]);
    let (_, v) = list("search=weekly").await;
    assert_eq!(v["paging"]["total_count"], 3);
    let (_, v) = list(&format!("search={}", r.meeting)).await;
    assert_eq!(v["paging"]["total_count"], 3);
    let (_, v) = list("search=nothing-like-it").await;
    assert_eq!(v["paging"]["total_count"], 0);
    let (_, v) = list(&format!("start_time={}", at(1_000))).await;
    assert_eq!(got(&v), vec![ids[2].clone(), ids[1].clone()]);
    let (_, v) = list("meeting_id=other").await;
    assert_eq!(v["paging"]["total_count"], 0);

    for (q, needle) in [
        ("status=DONE", "status"),
        ("sort_by=createdAt", "sort_by"),
        ("expired=maybe", "expired"),
        ("start_time=yesterday", "start_time"),
        ("sort_order=up", "sort_order"),
    ] {
        let (st, v) = list(q).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert!(v.to_string().contains(needle), "{q}: {v}");
    }
    for (body, st_want, needle) in [
        (json!({}), StatusCode::BAD_REQUEST, "\\\"meeting_id\\\" is required"),
        (json!([r.meeting]), StatusCode::BAD_REQUEST, "JSON object"),
        (json!({"meeting_id": r.meeting, "max_seconds": 10}), StatusCode::BAD_REQUEST, "max_seconds"),
        (
            json!({"meeting_id": r.meeting, "audio_config": {"codec": "FLAC"}}),
            StatusCode::BAD_REQUEST,
            "audio_config.codec",
        ),
        (json!({"meeting_id": "nope"}), StatusCode::NOT_FOUND, "No meeting found"),
    ] {
        let (st, v) = s.post(&url, body.clone()).await;
        assert_eq!(st, st_want, "{body}: {v}");
        assert!(v.to_string().contains(needle), "{body}: {v}");
    }
    for (body, needle) in [
        (json!({}), "\\\"action\\\" is required"),
        (json!({"action": "rewind"}), "stop, pause or resume"),
        (json!({"action": 1}), "must be a string"),
    ] {
        let (st, v) = s.call(Method::PUT, &format!("{url}/{}", ids[2]), Some(body.clone())).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v.to_string().contains(needle), "{body}: {v}");
    }
    let (st, _) = s.call(Method::PUT, &format!("{url}/nope"), Some(json!({"action": "stop"}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&format!("{url}/nope")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&format!("{url}/active-recording/nope")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // A track recording: its own row beside the composite ones, the participants it names.
    let (st, v) = s
        .post(&format!("{url}/track"), json!({"meeting_id": r.meeting, "user_ids": ["alice"], "layers": {"default": {"file_name_prefix": "tracks", "media_kind": "audio"}}}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let t = v["data"]["recording"].clone();
    assert_shape(&t);
    assert_eq!((t["rtk_kind"].clone(), t["status"].clone()), (json!("track"), json!("INVOKED")));
    assert!(t["output_file_name"].as_str().unwrap().starts_with("tracks_"), "{t}");
    let (st, v) =
        s.post(&format!("{url}/track"), json!({"meeting_id": r.meeting, "user_ids": "alice"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
}
both!(list_filters_and_errors, super::list_and_errors);

async fn status_webhooks(s: &TestServer) {
    let r = s.room(json!({"title": "Hooked"})).await;
    let (st, v) = s
        .post(
            &format!("{}/{}/webhooks", s.kit(), r.app),
            json!({"name": "rec", "url": "http://127.0.0.1:9/hook", "events": ["meeting.started", "recording.statusUpdate"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let hook = v["data"]["id"].as_str().unwrap().to_string();
    let url = rec_url(s, &r.app);
    let alice = s.joined(&r, "alice").await;
    let (_, v) = s.post(&url, json!({"meeting_id": r.meeting})).await;
    let one = format!("{url}/{}", v["data"]["id"].as_str().unwrap());
    for (wait, action) in [(2_000, "pause"), (3_000, "resume"), (5_000, "stop")] {
        s.pass(wait).await;
        let (st, v) = s.call(Method::PUT, &one, Some(json!({ "action": action }))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (_, v) = s.get(&one).await;
    let rec = v["data"].clone();
    let store = rtk_server::Store::connect(&s.db.url).await.unwrap();
    let mut rows = store.deliveries(&hook, None, 100).await.unwrap();
    rows.reverse();
    let bodies: Vec<Value> = rows.iter().map(|d| serde_json::from_str(&d.body).unwrap()).collect();
    let seen: Vec<(String, String)> = bodies
        .iter()
        .map(|b| {
            (
                b["event"].as_str().unwrap().to_string(),
                b["recording"]["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("meeting.started", ""),
        ("recording.statusUpdate", "INVOKED"),
        ("recording.statusUpdate", "RECORDING"),
        ("recording.statusUpdate", "PAUSED"),
        ("recording.statusUpdate", "RECORDING"),
        ("recording.statusUpdate", "UPLOADING"),
        ("recording.statusUpdate", "UPLOADED"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(seen, want, "in order, in the session's chain");
    let last = &bodies[6];
    assert_eq!(last["recording"]["recordingId"], rec["id"]);
    assert_eq!(last["recording"]["downloadUrl"], rec["download_url"]);
    assert_eq!(last["recording"]["downloadUrlExpiry"], rec["download_url_expiry"]);
    assert_eq!(last["recording"]["fileSize"], json!(rec["file_size"].as_f64().unwrap().to_string()));
    assert_eq!(last["recording"]["recordingDuration"], 7, "10 s less the 3 s pause");
    assert_eq!(last["recording"]["roomUUID"], json!(alice.session_id.clone().unwrap()));
    assert_eq!(
        (last["meeting"]["id"].clone(), last["meeting"]["title"].clone()),
        (json!(r.meeting), json!("Hooked"))
    );
    assert!(
        bodies[1]["recording"]["downloadUrl"].is_null()
            && bodies[1]["recording"]["recordingDuration"].is_null()
    );
    store.close().await;
    alice.leave().await;
}
both!(recording_status_webhooks_in_order, super::status_webhooks);
