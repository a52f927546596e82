//! Transcripts and summaries: segments from the gateway (final stored, interim relayed) and from
//! the API, the four formats behind the link (SRT and WebVTT checked by strict parsers), the
//! built-in extractive summary and a configured command, `transcribe_on_end` /
//! `summarize_on_end` with their webhooks.

use reqwest::StatusCode;
use rtk_api::gateway::{ClientMessage, ServerEvent};
use serde_json::{json, Value};

use crate::both;
use crate::harness::{at, TestServer};

async fn get_text(url: &str) -> (StatusCode, String, String) {
    let r = reqwest::get(url).await.unwrap();
    let st = r.status();
    let ct = r.headers().get("content-type").map(|h| h.to_str().unwrap().to_string()).unwrap_or_default();
    (st, ct, r.text().await.unwrap())
}

/// Cues of an SRT file, strictly: index lines 1, 2, …; `HH:MM:SS,mmm --> HH:MM:SS,mmm`; text.
fn parse_srt(s: &str) -> Vec<(i64, i64, String)> {
    let time = |t: &str| -> i64 {
        let (hms, ms) = t.split_once(',').unwrap_or_else(|| panic!("SRT time {t}"));
        let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        assert_eq!((p.len(), ms.len()), (3, 3), "SRT time {t}");
        ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + ms.parse::<i64>().unwrap()
    };
    let mut out = vec![];
    for (i, b) in s.split("\n\n").filter(|b| !b.is_empty()).enumerate() {
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(lines.len(), 3, "{b:?}");
        assert_eq!(lines[0], (i + 1).to_string(), "{b:?}");
        let (a, z) = lines[1].split_once(" --> ").unwrap();
        let (a, z) = (time(a), time(z));
        assert!(a <= z, "{b:?}");
        out.push((a, z, lines[2].to_string()));
    }
    assert!(s.ends_with("\n\n") || s.is_empty(), "{s:?}");
    out
}

/// Cues of a WebVTT file: the signature, then id, timing (`HH:MM:SS.mmm`) and one text line.
fn parse_vtt(s: &str) -> Vec<(i64, i64, String)> {
    let mut blocks = s.split("\n\n");
    assert_eq!(blocks.next(), Some("WEBVTT"), "{s:?}");
    let time = |t: &str| -> i64 {
        let (hms, ms) = t.split_once('.').unwrap();
        let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        assert_eq!((p.len(), ms.len()), (3, 3), "VTT time {t}");
        ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + ms.parse::<i64>().unwrap()
    };
    blocks
        .filter(|b| !b.is_empty())
        .map(|b| {
            let lines: Vec<&str> = b.lines().collect();
            assert_eq!(lines.len(), 3, "{b:?}");
            let (a, z) = lines[1].split_once(" --> ").unwrap();
            assert!(!lines[2].contains("-->"));
            (time(a), time(z), lines[2].to_string())
        })
        .collect()
}

async fn segments_and_formats(s: &TestServer) {
    let r = s.room(json!({"title": "Planning"})).await;
    let mut ada = s.joined(&r, "ada").await;
    let mut bo = s.joined(&r, "bo").await;
    let session = ada.session_id.clone().unwrap();
    let base = format!("{}/{}/sessions/{session}", s.kit(), r.app);
    // Nothing yet: 404.
    let (st, v) = s.get(&format!("{base}/transcript")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");

    s.pass(5_000).await;
    // Interim: relayed to the others, not stored.
    ada.send(&ClientMessage::Transcript {
        text: "the budg".into(),
        start: None,
        end: None,
        is_final: Some(false),
    })
    .await;
    let e = bo.wait_for(|e| matches!(e, ServerEvent::Transcript { .. })).await;
    assert!(
        matches!(&e, ServerEvent::Transcript { is_final: false, id: None, text, .. } if text == "the budg"),
        "{e:?}"
    );
    // Final, timed: stored and relayed with its id.
    ada.send(&ClientMessage::Transcript {
        text: "The budget review is due Friday.".into(),
        start: Some(at(1_000)),
        end: Some(at(4_500)),
        is_final: None,
    })
    .await;
    let e = bo.wait_for(|e| matches!(e, ServerEvent::Transcript { is_final: true, .. })).await;
    let ServerEvent::Transcript { id: Some(_), start, end, .. } = &e else { panic!("{e:?}") };
    assert_eq!((start.as_str(), end.as_str()), (at(1_000).as_str(), at(4_500).as_str()));
    // In the future, or backwards: an error event, the connection stays.
    ada.send(&ClientMessage::Transcript {
        text: "later".into(),
        start: None,
        end: Some(at(60_000)),
        is_final: None,
    })
    .await;
    let e = ada.wait_for(|e| matches!(e, ServerEvent::Error { .. })).await;
    assert!(format!("{e:?}").contains("invalid_transcript"), "{e:?}");
    ada.ping().await;

    // From the API, with a speaker or a participant.
    let (st, v) = s
        .post(
            &format!("{base}/transcript"),
            json!({"segments": [
                {"speaker": "Bo", "text": "I will send the budget numbers, before the review.", "start": at(4_000), "end": at(5_000)},
                {"speaker": "Ada", "text": "=cmd then \"hiring\"", "start": at(2_000), "end": at(3_000)}
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!((v["data"]["stored"].clone(), v["data"]["total"].clone()), (json!(2), json!(3)));
    for (body, needle) in [
        (json!({"segments": []}), "1 to 1000"),
        (
            json!({"segments": [{"speaker": "x", "text": "", "start": at(0), "end": at(1)}]}),
            "segments[0].text",
        ),
        (
            json!({"segments": [{"speaker": "x", "text": "t", "start": at(2_000), "end": at(1_000)}]}),
            "in order",
        ),
        (
            json!({"segments": [{"speaker": "x", "text": "t", "start": at(0), "end": at(999_999)}]}),
            "within the session",
        ),
        (json!({"segments": [{"text": "t", "start": at(0), "end": at(1)}]}), "is required"),
        (
            json!({"segments": [{"participant_id": "nobody", "text": "t", "start": at(0), "end": at(1)}]}),
            "no participant",
        ),
        (json!([1]), "must be an object"),
    ] {
        let (st, v) = s.post(&format!("{base}/transcript"), body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v.to_string().contains(needle), "{body}: {v}");
    }

    // The formats, in time order, timed from the session's start.
    let link = |f: &str| {
        let u = format!("{base}/transcript?format={f}");
        async move {
            let (st, v) = s.get(&u).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            assert_eq!(v["data"]["sessionId"], json!(v["data"]["sessionId"].as_str().unwrap()));
            assert!(v["data"]["transcript_download_url_expiry"].is_string());
            v["data"]["transcript_download_url"].as_str().unwrap().to_string()
        }
    };
    let (st, ct, srt) = get_text(&link("srt").await).await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "application/x-subrip; charset=utf-8"));
    assert_eq!(
        parse_srt(&srt),
        vec![
            (1_000, 4_500, "ada: The budget review is due Friday.".to_string()),
            (2_000, 3_000, "Ada: =cmd then \"hiring\"".to_string()),
            (4_000, 5_000, "Bo: I will send the budget numbers, before the review.".to_string()),
        ]
    );
    let (_, ct, vtt) = get_text(&link("VTT").await).await;
    assert_eq!(ct, "text/vtt; charset=utf-8");
    assert_eq!(parse_vtt(&vtt)[0], (1_000, 4_500, "<v ada>The budget review is due Friday.".to_string()));
    let (_, _, j) = get_text(&link("JSON").await).await;
    let doc: Value = serde_json::from_str(&j).unwrap();
    assert_eq!(doc["segments"][0]["start_offset_ms"], 1_000);
    assert_eq!(doc["segments"][0]["peer_id"], json!(ada.peer_id.clone().unwrap()));
    let (_, ct, csv) = get_text(&link("csv").await).await;
    assert_eq!(ct, "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,start,end,speaker,peer_id,participant_id,text");
    assert!(
        lines[2].ends_with(",Ada,,,\"'=cmd then \"\"hiring\"\"\""),
        "formula neutralised, quotes doubled: {}",
        lines[2]
    );
    let (st, v) = s.get(&format!("{base}/transcript?format=DOCX")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // The built-in summary: extractive, talk time per speaker.
    let (st, v) = s.get(&format!("{base}/summary")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, v) = s.post(&format!("{base}/summary"), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"], json!({"session_id": session, "status": "COMPLETED", "method": "extractive"}));
    let (st, v) = s.get(&format!("{base}/summary")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["sessionId"], json!(session));
    let (st, ct, md) = get_text(v["data"]["summaryDownloadUrl"].as_str().unwrap()).await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "text/markdown; charset=utf-8"));
    assert!(md.contains("Extractive"), "{md}");
    assert!(md.contains("- ada: 0.1 min in 1 segment\n"), "{md}");
    assert!(md.contains("budget"), "{md}");
    // Links are credentials of their kind only.
    let (st, _, _) = get_text(&format!("{}/summaries/not-a-token", s.root)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    bo.leave().await;
    ada.leave().await;
}
both!(transcript_segments_and_formats, super::segments_and_formats);

async fn on_end_with_webhooks(s: &TestServer) {
    let r = s.room(json!({"transcribe_on_end": true, "summarize_on_end": true, "session_keep_alive_time_in_secs": 10}),
    )
    .await;
    let (st, v) = s
        .post(
            &format!("{}/{}/webhooks", s.kit(), r.app),
            json!({"name": "ai", "url": "http://127.0.0.1:9/hook", "events": ["meeting.ended", "meeting.transcript", "meeting.summary"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let hook = v["data"]["id"].as_str().unwrap().to_string();
    let mut ada = s.joined(&r, "ada").await;
    let session = ada.session_id.clone().unwrap();
    s.pass(3_000).await;
    ada.send(&ClientMessage::Transcript {
        text: "Ship it on Monday.".into(),
        start: Some(at(1_000)),
        end: None,
        is_final: None,
    })
    .await;
    ada.wait_for(|e| matches!(e, ServerEvent::Transcript { .. })).await;
    ada.leave().await;
    s.pass(10_000).await;

    let store = rtk_server::Store::connect(&s.db.url).await.unwrap();
    let mut rows = store.deliveries(&hook, None, 10).await.unwrap();
    rows.reverse();
    let bodies: Vec<Value> = rows.iter().map(|d| serde_json::from_str(&d.body).unwrap()).collect();
    let events: Vec<&str> = bodies.iter().map(|b| b["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["meeting.ended", "meeting.transcript", "meeting.summary"], "in the session's order");
    assert_eq!(bodies[1]["meeting"]["sessionId"], json!(session));
    let (st, _, csv) = get_text(bodies[1]["transcriptDownloadUrl"].as_str().unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(csv.contains("Ship it on Monday."), "{csv}");
    let (st, _, md) = get_text(bodies[2]["summaryDownloadUrl"].as_str().unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(md.contains("Ship it on Monday."), "{md}");
    assert!(bodies[2]["summaryDownloadUrlExpiry"].is_string());
    store.close().await;
}
both!(transcribe_and_summarize_on_end, super::on_end_with_webhooks);

async fn command_summarizer(s: &TestServer) {
    let r = s.room(json!({})).await;
    let ada = s.joined(&r, "ada").await;
    let session = ada.session_id.clone().unwrap();
    let base = format!("{}/{}/sessions/{session}", s.kit(), r.app);
    s.pass(2_000).await;
    let (st, v) = s.post(&format!("{base}/summary"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "no transcript yet: {v}");
    let (st, _) = s
        .post(&format!("{base}/transcript"), json!({"segments": [{"speaker": "Ada", "text": "one two three", "start": at(0), "end": at(1_000)}]}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = s.post(&format!("{base}/summary"), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["data"]["status"].clone(), v["data"]["method"].clone()),
        (json!("PROCESSING"), Value::Null)
    );
    // The command reads the transcript (JSON) on stdin; what it prints is the summary.
    let url = format!("{base}/summary");
    crate::ws::eventually("the command's summary", || async { s.get(&url).await.0 == StatusCode::OK }).await;
    let (_, v) = s.get(&url).await;
    let (_, _, body) = get_text(v["data"]["summaryDownloadUrl"].as_str().unwrap()).await;
    assert!(body.starts_with("summary of ") && body.contains("\"text\":\"one two three\""), "{body}");
}
both!(a_command_summarizer, super::command_summarizer, |c: &mut rtk_server::Config| {
    c.summarizer = rtk_server::transcripts::Summarizer::Command {
        argv: vec!["sh".into(), "-c".into(), "printf 'summary of '; cat".into()],
        timeout: std::time::Duration::from_secs(20),
    };
});

async fn failing_summarizer(s: &TestServer) {
    let r = s.room(json!({})).await;
    let ada = s.joined(&r, "ada").await;
    let session = ada.session_id.clone().unwrap();
    let base = format!("{}/{}/sessions/{session}", s.kit(), r.app);
    s.pass(2_000).await;
    s.post(
        &format!("{base}/transcript"),
        json!({"segments": [{"speaker": "Ada", "text": "x y z", "start": at(0), "end": at(1_000)}]}),
    )
    .await;
    s.post(&format!("{base}/summary"), json!({})).await;
    let url = format!("{base}/summary");
    crate::ws::eventually("the failure recorded", || async {
        s.get(&url).await.1.to_string().contains("failed")
    })
    .await;
    let (st, v) = s.get(&url).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        v.to_string().contains("exited with exit status: 3") && v.to_string().contains("no model here"),
        "{v}"
    );
}
both!(a_failing_summarizer, super::failing_summarizer, |c: &mut rtk_server::Config| {
    c.summarizer = rtk_server::transcripts::Summarizer::Command {
        argv: vec!["sh".into(), "-c".into(), "cat >/dev/null; echo 'no model here' >&2; exit 3".into()],
        timeout: std::time::Duration::from_secs(20),
    };
});
