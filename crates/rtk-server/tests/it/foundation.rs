//! Apps, presets, meetings, participants, paging, errors and the operations endpoints.

use crate::both;
use crate::harness::{preset_doc, TestServer, T0};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn assert_error(status: StatusCode, v: &Value, want: StatusCode, needle: &str) {
    assert_eq!(status, want, "{v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["error"]["code"], want.as_u16(), "{v}");
    assert_eq!(v["errors"][0]["code"], want.as_u16(), "{v}");
    let all = v["errors"].to_string();
    assert!(all.contains(needle), "expected {needle:?} in {v}");
}

async fn apps_and_paging(s: &TestServer) {
    for i in 0..5 {
        s.clock.advance(1000);
        s.app(&format!("app-{i}")).await;
    }
    let (st, v) = s.get(&format!("{}/apps?per_page=2&page_no=2", s.kit())).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][0]["name"], "app-2");
    assert_eq!(v["data"][0]["created_at"], "2026-01-01T00:00:03.000Z");
    assert_eq!(v["paging"], json!({"total_count": 5, "start_offset": 3, "end_offset": 4}));
    // Python SDKs send floats.
    let (_, v) = s.get(&format!("{}/apps?per_page=2.0&page_no=3.0", s.kit())).await;
    assert_eq!(v["paging"], json!({"total_count": 5, "start_offset": 5, "end_offset": 5}));
    // Past the end: empty, offsets 0.
    let (_, v) = s.get(&format!("{}/apps?per_page=2&page_no=9", s.kit())).await;
    assert_eq!(v["data"], json!([]));
    assert_eq!(v["paging"], json!({"total_count": 5, "start_offset": 0, "end_offset": 0}));
    // Bounds.
    for q in ["per_page=0", "per_page=101", "page_no=0", "page_no=1.5", "per_page=abc"] {
        let (st, v) = s.get(&format!("{}/apps?{q}", s.kit())).await;
        let name = q.split('=').next().unwrap();
        assert_error(st, &v, StatusCode::BAD_REQUEST, name);
    }
    // search and sort_order (current SDKs send them).
    let (_, v) = s.get(&format!("{}/apps?search=APP-3", s.kit())).await;
    assert_eq!(v["paging"]["total_count"], 1);
    assert_eq!(v["data"][0]["name"], "app-3");
    let (_, v) = s.get(&format!("{}/apps?sort_order=DESC&per_page=1", s.kit())).await;
    assert_eq!(v["data"][0]["name"], "app-4");
    let (st, v) = s.get(&format!("{}/apps?sort_order=sideways", s.kit())).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "sort_order");
    // Default page size is 20, maximum 100.
    let (_, v) = s.get(&format!("{}/apps?per_page=100", s.kit())).await;
    assert_eq!(v["paging"]["end_offset"], 5);
}

async fn bad_bodies(s: &TestServer) {
    let url = format!("{}/apps", s.kit());
    let (st, v) = s.post(&url, json!({})).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "name");
    let (st, v) = s.post(&url, json!({"name": ["x"]})).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "\\\"name\\\"");
    let (st, v) = s.post(&url, json!({"name": "  "})).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "name");
    // Malformed JSON.
    let r = s
        .http
        .post(&url)
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let st = r.status();
    let v: Value = r.json().await.unwrap();
    assert_error(st, &v, StatusCode::BAD_REQUEST, "malformed JSON");
    // Oversized body.
    let big = json!({"name": "x".repeat(2 * 1024 * 1024)});
    let (st, v) = s.post(&url, big).await;
    assert_error(st, &v, StatusCode::PAYLOAD_TOO_LARGE, "too large");
    // Nothing was created by any of these.
    let (_, v) = s.get(&url).await;
    assert_eq!(v["paging"]["total_count"], 0);
}

async fn routes_and_ops(s: &TestServer) {
    // Unknown route and wrong method: the same envelope.
    let (st, v) = s.get(&format!("{}/nope/nothing/here/at/all", s.kit())).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, "no such route");
    let (st, v) = s.call(Method::DELETE, &format!("{}/apps", s.kit()), None).await;
    assert_error(st, &v, StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    // Served at the root too.
    let app = s.app("rooted").await;
    let (st, v) = s.get(&format!("{}/accounts/{}/realtime/kit/apps", s.root, s.account)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"][0]["id"], app);
    // Unknown and oddly shaped ids are 404, never 400/500.
    for id in ["does-not-exist", "abcdef-ghijkl", "%E2%9C%93", "x'%20OR%20'1'='1"] {
        let (st, v) = s.get(&format!("{}/{app}/meetings/{id}", s.kit())).await;
        assert_error(st, &v, StatusCode::NOT_FOUND, "No meeting found");
        let (st, _) = s.get(&format!("{}/{id}/meetings", s.kit())).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    let (st, v) = s.get(&format!("{}/healthz", s.root)).await;
    assert_eq!((st, v["data"]["status"].clone()), (StatusCode::OK, json!("ok")));
    let (st, v) = s.get(&format!("{}/readyz", s.root)).await;
    assert_eq!((st, v["data"]["status"].clone()), (StatusCode::OK, json!("ready")));
    let metrics = s.http.get(format!("{}/metrics", s.root)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http_requests_total{method=\"GET\",route=\"/client/v4/accounts/{account_id}/realtime/kit/apps\",status=\"200\"}"), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket"), "latency histogram");
    let (st, doc) = s.get(&format!("{}/openapi.json", s.root)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/accounts/{account_id}/realtime/kit/apps",
        "/accounts/{account_id}/realtime/kit/{app_id}/presets/{preset_id}",
        "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/participants/{participant_id}/token",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing from the OpenAPI document");
    }
}

async fn presets(s: &TestServer) {
    let app = s.app("p").await;
    let base = format!("{}/{app}/presets", s.kit());
    let mut doc = preset_doc("host");
    doc["future_field"] = json!({"kept": [1, 2]});
    let (st, v) = s.post(&base, doc.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let (_, got) = s.get(&format!("{base}/{id}")).await;
    // Returned faithfully: every field given, plus id and timestamps.
    for k in ["config", "permissions", "ui", "future_field", "name"] {
        assert_eq!(got["data"][k], doc[k], "{k}");
    }
    assert_eq!(got["data"]["created_at"], "2026-01-01T00:00:00.000Z");
    // Duplicate name.
    let (st, v) = s.post(&base, preset_doc("host")).await;
    assert_error(st, &v, StatusCode::CONFLICT, "already exists");
    // Invalid documents name every bad field.
    let mut bad = preset_doc("bad");
    bad["config"]["view_type"] = json!("PARTY");
    bad["ui"]["design_tokens"]["spacing_base"] = json!("four");
    bad["permissions"]["chat"]["public"].as_object_mut().unwrap().remove("text");
    let (st, v) = s.post(&base, bad).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "config.view_type");
    let msgs = v["errors"].to_string();
    assert!(
        msgs.contains("ui.design_tokens.spacing_base") && msgs.contains("permissions.chat.public.text"),
        "{msgs}"
    );
    // PATCH merges deeply and keeps the rest.
    s.clock.advance(5000);
    let (st, v) = s
        .call(
            Method::PATCH,
            &format!("{base}/{id}"),
            Some(json!({"config": {"media": {"video": {"quality": "fhd"}}}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["config"]["media"]["video"]["quality"], "fhd");
    assert_eq!(v["data"]["config"]["media"]["video"]["frame_rate"], 30);
    assert_eq!(v["data"]["permissions"], doc["permissions"]);
    assert_eq!(v["data"]["updated_at"], "2026-01-01T00:00:05.000Z");
    let (st, v) = s
        .call(
            Method::PATCH,
            &format!("{base}/{id}"),
            Some(json!({"config": {"media": {"video": {"quality": 5}}}})),
        )
        .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "config.media.video.quality");
    // PUT replaces.
    let (st, v) = s.call(Method::PUT, &format!("{base}/{id}"), Some(preset_doc("host2"))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["name"], "host2");
    assert!(v["data"].get("future_field").is_none());
    // List is paged and shows summaries.
    s.preset(&app, "guest").await;
    let (_, v) = s.get(&format!("{base}?per_page=1")).await;
    assert_eq!(v["paging"], json!({"total_count": 2, "start_offset": 1, "end_offset": 1}));
    assert_eq!(v["data"][0]["name"], "host2");
    let (_, v) = s.get(&format!("{base}?search=GUE")).await;
    assert_eq!(v["paging"]["total_count"], 1);
    assert_eq!(v["data"][0]["name"], "guest");
    // DELETE returns the preset, then it is gone.
    let (st, v) = s.call(Method::DELETE, &format!("{base}/{id}"), None).await;
    assert_eq!((st, v["data"]["id"].clone()), (StatusCode::OK, json!(id)));
    let (st, v) = s.get(&format!("{base}/{id}")).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, "No preset found");
}

async fn meetings(s: &TestServer) {
    let app = s.app("m").await;
    let base = format!("{}/{app}/meetings", s.kit());
    // Defaults.
    let (st, v) = s.post(&base, json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let d = &v["data"];
    assert_eq!(d["session_keep_alive_time_in_secs"], 60);
    assert_eq!(d["status"], "ACTIVE");
    assert_eq!(d["record_on_start"], false);
    assert_eq!(d["title"], Value::Null);
    // Every create field is stored and returned.
    let full = json!({
        "title": "Weekly sync", "preferred_region": "eu-central-1", "record_on_start": true,
        "live_stream_on_start": false, "persist_chat": true, "summarize_on_end": true,
        "transcribe_on_end": true, "session_keep_alive_time_in_secs": 120, "status": "INACTIVE",
        "ai_config": {"summarization": {"summary_type": "team_meeting", "text_format": "markdown", "word_limit": 300},
                      "transcription": {"keywords": ["rtk"], "language": "en-US", "profanity_filter": true}},
        "recording_config": {"max_seconds": 3600, "file_name_prefix": "sync",
                             "video_config": {"codec": "H264", "width": 1280, "height": 720},
                             "storage_config": {"type": "aws", "bucket": "b", "region": "us-east-1", "access_key": "AK", "secret": "SK"}}
    });
    s.clock.advance(1000);
    let (st, v) = s.post(&base, full.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let (_, got) = s.get(&format!("{base}/{id}")).await;
    for k in [
        "title",
        "preferred_region",
        "record_on_start",
        "live_stream_on_start",
        "persist_chat",
        "summarize_on_end",
        "transcribe_on_end",
        "session_keep_alive_time_in_secs",
        "status",
        "ai_config",
    ] {
        assert_eq!(got["data"][k], full[k], "{k}");
    }
    assert_eq!(got["data"]["recording_config"]["video_config"], full["recording_config"]["video_config"]);
    let sc = &got["data"]["recording_config"]["storage_config"];
    assert_eq!(sc["bucket"], "b");
    assert!(
        sc.get("secret").is_none() && sc.get("access_key").is_none(),
        "storage secrets are write-only: {sc}"
    );
    // Keep-alive bounds and types.
    for bad in [
        json!({"session_keep_alive_time_in_secs": 601}),
        json!({"session_keep_alive_time_in_secs": -1}),
        json!({"session_keep_alive_time_in_secs": 1.5}),
        json!({"session_keep_alive_time_in_secs": "60"}),
    ] {
        let (st, v) = s.post(&base, bad).await;
        assert_error(st, &v, StatusCode::BAD_REQUEST, "session_keep_alive_time_in_secs");
    }
    let (st, v) =
        s.post(&base, json!({"status": "PAUSED", "ai_config": {"transcription": {"language": "xx"}}})).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "status");
    assert!(v["errors"].to_string().contains("ai_config.transcription.language"));
    // PATCH changes only what it names.
    s.clock.advance(1000);
    let (st, v) = s
        .call(Method::PATCH, &format!("{base}/{id}"), Some(json!({"status": "ACTIVE", "title": "Renamed"})))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "ACTIVE");
    assert_eq!(v["data"]["title"], "Renamed");
    assert_eq!(v["data"]["persist_chat"], true);
    assert_eq!(v["data"]["updated_at"], "2026-01-01T00:00:02.000Z");
    assert_eq!(v["data"]["created_at"], "2026-01-01T00:00:01.000Z");
    // PUT resets what it does not name (status is kept).
    let (st, v) = s.call(Method::PUT, &format!("{base}/{id}"), Some(json!({"title": "Fresh"}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["persist_chat"], false);
    assert_eq!(v["data"]["session_keep_alive_time_in_secs"], 60);
    assert_eq!(v["data"]["status"], "ACTIVE");
    // List: newest first, search by title or id, status and time filters.
    s.clock.advance(1000);
    s.meeting(&app, json!({"title": "Retro 100%", "status": "INACTIVE"})).await;
    let (_, v) = s.get(&base).await;
    assert_eq!(v["paging"]["total_count"], 3);
    assert_eq!(v["data"][0]["title"], "Retro 100%");
    let (_, v) = s.get(&format!("{base}?search=fre")).await;
    assert_eq!(v["paging"]["total_count"], 1);
    assert_eq!(v["data"][0]["id"], id);
    let (_, v) = s.get(&format!("{base}?search={id}")).await;
    assert_eq!(v["data"][0]["id"], id);
    let (_, v) = s.get(&format!("{base}?search=100%25")).await;
    assert_eq!(v["paging"]["total_count"], 1, "a literal %");
    let (_, v) = s.get(&format!("{base}?status=INACTIVE")).await;
    assert_eq!(v["paging"]["total_count"], 1);
    let (_, v) =
        s.get(&format!("{base}?start_time=2026-01-01T00:00:01.000Z&end_time=2026-01-01T00:00:02Z")).await;
    assert_eq!(v["paging"]["total_count"], 1);
    assert_eq!(v["data"][0]["id"], id);
    let (st, v) = s.get(&format!("{base}?start_time=yesterday")).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "start_time");
    let _ = T0;
}

async fn participants(s: &TestServer) {
    let app = s.app("pp").await;
    s.preset(&app, "host").await;
    let guest_preset = s.preset(&app, "guest").await;
    let meeting = s.meeting(&app, json!({"title": "m"})).await;
    let base = format!("{}/{app}/meetings/{meeting}/participants", s.kit());
    let p = s.participant(&app, &meeting, "user-1", "host").await;
    let pid = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["custom_participant_id"], "user-1");
    assert_eq!(p["preset_name"], "host");
    let token = p["token"].as_str().unwrap().to_string();
    assert_eq!(token.split('.').count(), 3, "a JWT");
    // Unknown preset, missing fields.
    let (st, v) = s.post(&base, json!({"custom_participant_id": "u", "preset_name": "nope"})).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "No preset named \\\"nope\\\"");
    let (st, v) = s.post(&base, json!({"preset_name": "host"})).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, "custom_participant_id");
    // Get has no token.
    let (st, v) = s.get(&format!("{base}/{pid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["data"].get("token").is_none());
    assert_eq!(v["data"]["name"], "user-1");
    // Edit: preset and name change, a fresh token comes back, older ones stay valid.
    let (st, v) = s
        .call(Method::PATCH, &format!("{base}/{pid}"), Some(json!({"preset_name": "guest", "name": null})))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["preset_name"], "guest");
    assert_eq!(v["data"]["name"], Value::Null);
    let t2 = v["data"]["token"].as_str().unwrap().to_string();
    // Refresh.
    let (st, v) = s.post(&format!("{base}/{pid}/token"), json!(null)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let t3 = v["data"]["token"].as_str().unwrap().to_string();
    assert!(t3 != token && t3 != t2);
    let state_keys = rtk_server::tokens::KeyRing::load(
        s.store.clone(),
        &s.db.dir.path().join("signing.key"),
        s.clock_now(),
    )
    .await
    .unwrap();
    for t in [&token, &t2, &t3] {
        let c = state_keys.verify(t, s.clock_now()).await.expect("older tokens stay valid");
        assert_eq!(c.participant_id, pid);
        assert_eq!(c.meeting_id, meeting);
        assert_eq!(c.app_id, app);
        assert_eq!(c.account_id, s.account);
        assert_eq!(c.exp - c.iat, 100 * 24 * 3600, "100 days");
    }
    // Expiry follows the clock.
    let after = s.clock_now() + 100 * 24 * 3600 * 1000 + 1;
    assert_eq!(state_keys.verify(&token, after).await, Err(rtk_server::tokens::TokenError::Expired));
    // A forged token fails.
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert!(state_keys.verify(&forged, s.clock_now()).await.is_err());
    // Key rotation: old tokens stay valid, new ones use the new key.
    let kid = rtk_server::admin::rotate_keys(&s.state.keys, s.clock_now()).await.unwrap();
    let (_, v) = s.post(&format!("{base}/{pid}/token"), json!(null)).await;
    let t4 = v["data"]["token"].as_str().unwrap().to_string();
    assert!(state_keys.verify(&token, s.clock_now()).await.is_ok());
    assert!(state_keys.verify(&t4, s.clock_now()).await.is_ok());
    let header: Value = {
        let h = t4.split('.').next().unwrap();
        let bytes = base64url(h);
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(header["kid"], kid);
    // List.
    s.participant(&app, &meeting, "user-2", "host").await;
    let (_, v) = s.get(&format!("{base}?per_page=1&page_no=2")).await;
    assert_eq!(v["paging"], json!({"total_count": 2, "start_offset": 2, "end_offset": 2}));
    assert_eq!(v["data"][0]["custom_participant_id"], "user-2");
    // Delete: returns preset_id, then 404.
    let (st, v) = s.call(Method::DELETE, &format!("{base}/{pid}"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["preset_id"], guest_preset);
    assert_eq!(v["data"]["custom_participant_id"], "user-1");
    let (st, v) = s.get(&format!("{base}/{pid}")).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, "No participant found");
    let (st, _) = s.post(&format!("{base}/{pid}/token"), json!(null)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Participants of an unknown meeting.
    let (st, v) = s.get(&format!("{}/{app}/meetings/nope/participants", s.kit())).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, "No meeting found");
}

fn base64url(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = vec![];
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = A.iter().position(|&a| a == c).unwrap() as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}

impl TestServer {
    pub fn clock_now(&self) -> i64 {
        use rtk_server::Clock;
        self.clock.now()
    }
}

both!(apps_paging, super::apps_and_paging);
both!(bodies, super::bad_bodies);
both!(routes_ops, super::routes_and_ops);
both!(presets_crud, super::presets);
both!(meetings_crud, super::meetings);
both!(participants_crud, super::participants);
