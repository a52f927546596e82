//! The exact bytes of every endpoint's answers, against a recorded copy (`tests/vectors/wire.txt`).
//!
//! A scripted run touches every route rtk serves — success and the usual errors — on a manual
//! clock, and records each answer's status and body with ids, tokens and the server's address
//! replaced by numbered placeholders (in order of first appearance). Field order, `null`
//! versus absent, number formatting: any change to what a client receives shows here as a
//! diff. After an intended change of the wire format, regenerate the copy with
//! `RTK_WIRE_BLESS=1 cargo test -p rtk-server --test it wire` and review the diff.

use std::collections::HashMap;

use reqwest::Method;
use rtk_api::gateway::{ClientMessage, ServerEvent};
use serde_json::{json, Value};

use crate::both;
use crate::harness::{preset_doc, TestServer};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/wire.txt");

/// Ids, tokens and the address, numbered in order of first appearance.
#[derive(Default)]
struct Names {
    seen: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
}

impl Names {
    fn name(&mut self, kind: &'static str, raw: &str) -> String {
        if let Some(n) = self.seen.get(raw) {
            return n.clone();
        }
        let c = self.counts.entry(kind).or_default();
        *c += 1;
        let n = format!("<{kind}{c}>");
        self.seen.insert(raw.to_string(), n.clone());
        n
    }

    /// `text` with every UUID and JWT replaced by its placeholder.
    fn normalise(&mut self, text: &str) -> String {
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < b.len() {
            if let Some(len) = uuid_at(&b[i..]) {
                out.push_str(&self.name("id", &text[i..i + len]));
                i += len;
            } else if let Some(len) = jwt_at(&b[i..]) {
                out.push_str(&self.name("jwt", &text[i..i + len]));
                i += len;
            } else {
                let ch = text[i..].chars().next().unwrap();
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        out
    }
}

fn uuid_at(b: &[u8]) -> Option<usize> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = 0;
    for (g, n) in GROUPS.iter().enumerate() {
        if g > 0 {
            (b.get(i) == Some(&b'-')).then_some(())?;
            i += 1;
        }
        for _ in 0..*n {
            b.get(i).filter(|c| c.is_ascii_hexdigit())?;
            i += 1;
        }
    }
    Some(i)
}

fn jwt_at(b: &[u8]) -> Option<usize> {
    if !b.starts_with(b"eyJ") {
        return None;
    }
    let url_safe = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
    let mut i = 0;
    for part in 0..3 {
        if part > 0 {
            (b.get(i) == Some(&b'.')).then_some(())?;
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(url_safe) {
            i += 1;
        }
        (i > start).then_some(())?;
    }
    Some(i)
}

struct Recorder<'a> {
    s: &'a TestServer,
    names: Names,
    out: String,
}

impl<'a> Recorder<'a> {
    fn new(s: &'a TestServer) -> Self {
        let mut names = Names::default();
        names.seen.insert(s.root.clone(), "<root>".into());
        names.seen.insert(s.account.clone(), "<account>".into());
        Recorder { s, names, out: String::new() }
    }

    fn unroot(&self, text: &str) -> String {
        text.replace(&self.s.root, "<root>").replace(&self.s.account, "<account>")
    }

    /// Sends a request (path relative to the kit root unless it starts with `/`), records the
    /// answer and returns it parsed (`Value::Null` for a body that is not JSON).
    async fn call(&mut self, method: Method, path: &str, body: Option<&str>, auth: bool) -> Value {
        let url = if path.starts_with('/') {
            format!("{}{path}", self.s.root)
        } else {
            format!("{}/{path}", self.s.kit())
        };
        let mut rb = self.s.http.request(method.clone(), &url);
        if auth {
            rb = rb.bearer_auth(&self.s.token);
        }
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b.to_string());
        }
        let resp = rb.send().await.expect("request is sent");
        let status = resp.status().as_u16();
        let ctype =
            resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = resp.text().await.expect("body is read");
        let shown_path = self.unroot(&url);
        let shown_path = self.names.normalise(&shown_path);
        let shown_body = self.unroot(&text);
        let shown_body = self.names.normalise(&shown_body);
        let req_body = body.map(|b| self.names.normalise(&self.unroot(b))).unwrap_or_default();
        self.out.push_str(&format!("{method} {shown_path} {req_body}\n{status} {ctype}\n{shown_body}\n\n"));
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&mut self, path: &str) -> Value {
        self.call(Method::GET, path, None, true).await
    }
    async fn send(&mut self, method: Method, path: &str, body: Value) -> Value {
        self.call(method, path, Some(&body.to_string()), true).await
    }
    async fn post(&mut self, path: &str, body: Value) -> Value {
        self.send(Method::POST, path, body).await
    }
}

fn id(v: &Value, at: &str) -> String {
    v.pointer(at).and_then(Value::as_str).unwrap_or_else(|| panic!("no {at} in {v}")).to_string()
}

async fn every_endpoint(s: &TestServer) {
    let mut r = Recorder::new(s);
    // Apps.
    let app = id(&r.post("apps", json!({"name": "  wire app  "})).await, "/data/app/id");
    s.clock.advance(1000);
    r.post("apps", json!({"name": "second"})).await;
    r.post("apps", json!({"name": ""})).await;
    r.get("apps").await;
    r.get("apps?sort_order=DESC&per_page=1&page_no=2").await;
    r.get("apps?search=WIRE").await;
    r.get("apps?per_page=0").await;
    r.call(Method::GET, "apps", None, false).await;
    r.call(Method::DELETE, "apps", None, true).await;
    r.call(Method::GET, "/accounts/someone-else/realtime/kit/apps", None, true).await;
    r.call(Method::POST, "apps", Some("{\"name\": "), true).await;
    r.get(&format!("{app}/nope")).await;

    // Presets: the document as sent, unknown members kept, name trimmed.
    s.clock.advance(1000);
    let mut doc = preset_doc("  host  ");
    doc["a_newer_member"] = json!({"z": 1, "a": [1.5, "x", null]});
    let host = id(&r.post(&format!("{app}/presets"), doc).await, "/data/id");
    s.clock.advance(1000);
    r.post(&format!("{app}/presets"), preset_doc("guest")).await;
    r.post(&format!("{app}/presets"), preset_doc("guest")).await;
    r.post(&format!("{app}/presets"), json!({"name": 5, "config": {"view_type": "X"}})).await;
    r.get(&format!("{app}/presets")).await;
    r.get(&format!("{app}/presets?search=gue&per_page=5")).await;
    r.get(&format!("{app}/presets/{host}")).await;
    s.clock.advance(1000);
    r.send(Method::PATCH, &format!("{app}/presets/{host}"), json!({"config": {"max_screenshare_count": 3}}))
        .await;
    s.clock.advance(1000);
    r.send(Method::PUT, &format!("{app}/presets/{host}"), preset_doc("host")).await;
    let extra = id(&r.post(&format!("{app}/presets"), preset_doc("doomed")).await, "/data/id");
    r.call(Method::DELETE, &format!("{app}/presets/{extra}"), None, true).await;
    // A patch that adds members: where they land in the stored document.
    s.clock.advance(1000);
    r.send(
        Method::PATCH,
        &format!("{app}/presets/{host}"),
        json!({"k1": 1, "k2": {"x": [true]}, "k3": "three", "k4": null, "name": " host "}),
    )
    .await;
    r.get(&format!("{app}/presets/{host}")).await;
    r.send(Method::PATCH, &format!("{app}/presets/{host}"), json!({"name": 7})).await;
    r.send(Method::PUT, &format!("{app}/presets/{host}"), json!({"name": "host"})).await;
    r.get(&format!("{app}/presets/{extra}")).await;

    // Meetings: defaults, every field, write-only storage secrets, patch and put.
    s.clock.advance(1000);
    let plain = id(&r.post(&format!("{app}/meetings"), json!({})).await, "/data/id");
    s.clock.advance(1000);
    let full = json!({
        "title": "Full", "preferred_region": "eu-central-1", "record_on_start": true,
        "live_stream_on_start": false, "persist_chat": true, "summarize_on_end": false,
        "transcribe_on_end": true, "session_keep_alive_time_in_secs": 30, "status": "ACTIVE",
        "ai_config": {"transcription": {"language": "en-US", "keywords": ["rtk"], "profanity_filter": false}},
        "recording_config": {"max_seconds": 60, "file_name_prefix": "rec",
            "storage_config": {"type": "aws", "bucket": "b", "region": "us-east-1", "access_key": "AK", "secret": "S", "path": "p"}},
        "ignored": "not a meeting field"
    });
    let meeting = id(&r.post(&format!("{app}/meetings"), full).await, "/data/id");
    r.post(&format!("{app}/meetings"), json!({"title": 5, "session_keep_alive_time_in_secs": 0.5})).await;
    r.get(&format!("{app}/meetings")).await;
    r.get(&format!("{app}/meetings?search=full&status=ACTIVE&per_page=1")).await;
    r.get(&format!("{app}/meetings?status=nope")).await;
    r.get(&format!("{app}/meetings/{meeting}")).await;
    s.clock.advance(1000);
    r.send(
        Method::PATCH,
        &format!("{app}/meetings/{plain}"),
        json!({"title": "Plain", "persist_chat": true}),
    )
    .await;
    s.clock.advance(1000);
    r.send(Method::PUT, &format!("{app}/meetings/{plain}"), json!({"record_on_start": true})).await;
    r.get(&format!("{app}/meetings/{plain}")).await;
    s.clock.advance(1000);
    let settings = json!({"ai_config": {"summarization": {"word_limit": 150}}, "live_stream_on_start": null,
                          "recording_config": {"storage_config": {"type": "gcs", "bucket": "b", "password": "p"}}});
    r.send(Method::PATCH, &format!("{app}/meetings/{plain}"), settings).await;
    r.send(Method::PATCH, &format!("{app}/meetings/{plain}"), json!({"status": "INACTIVE", "title": "Off"}))
        .await;
    r.get(&format!("{app}/meetings?status=INACTIVE")).await;
    r.send(Method::PUT, &format!("{app}/meetings/{plain}"), json!({})).await;
    r.get(&format!("{app}/meetings/does-not-exist")).await;

    // Participants.
    s.clock.advance(1000);
    let body =
        json!({"custom_participant_id": "alice", "preset_name": "host", "name": "Alice", "picture": null});
    let alice = r.post(&format!("{app}/meetings/{meeting}/participants"), body).await;
    let alice_id = id(&alice, "/data/id");
    let alice_token = id(&alice, "/data/token");
    let body = json!({"custom_participant_id": "bob", "preset_name": "guest"});
    let bob = r.post(&format!("{app}/meetings/{meeting}/participants"), body).await;
    let bob_token = id(&bob, "/data/token");
    let body = json!({"custom_participant_id": "carol", "preset_name": "guest", "name": "Carol"});
    let carol = r.post(&format!("{app}/meetings/{meeting}/participants"), body).await;
    let carol_id = id(&carol, "/data/id");
    let carol_token = id(&carol, "/data/token");
    r.post(
        &format!("{app}/meetings/{meeting}/participants"),
        json!({"custom_participant_id": "x", "preset_name": "nobody"}),
    )
    .await;
    r.get(&format!("{app}/meetings/{meeting}/participants?per_page=2")).await;
    r.get(&format!("{app}/meetings/{meeting}/participants/{alice_id}")).await;
    s.clock.advance(1000);
    r.send(
        Method::PATCH,
        &format!("{app}/meetings/{meeting}/participants/{carol_id}"),
        json!({"name": null}),
    )
    .await;
    r.post(&format!("{app}/meetings/{meeting}/participants/{carol_id}/token"), json!({})).await;
    let doomed = id(
        &r.post(
            &format!("{app}/meetings/{meeting}/participants"),
            json!({"custom_participant_id": "d", "preset_name": "guest"}),
        )
        .await,
        "/data/id",
    );
    r.call(Method::DELETE, &format!("{app}/meetings/{meeting}/participants/{doomed}"), None, true).await;
    r.get(&format!("{app}/meetings/{meeting}/participants/{doomed}")).await;

    // No session yet.
    r.get(&format!("{app}/meetings/{meeting}/active-session")).await;

    // A session: three peers join, one chats.
    s.clock.advance(1000);
    let device = json!({"os": "linux", "os_version": "6.1", "cpus": 8, "is_mobile": false,
                        "browser": "rtk-test", "browser_version": "1.0", "user_agent": "ua", "extra": [1]});
    let mut a = s.connect(&alice_token).await;
    a.join_with(Some(device)).await;
    let session = a.session_id.clone().unwrap();
    let alice_peer = a.peer_id.clone().unwrap();
    s.clock.advance(1000);
    let mut b = s.connect(&bob_token).await;
    b.join().await;
    let mut c = s.connect(&carol_token).await;
    c.join_with(Some(json!("a device that is a string"))).await;
    let carol_peer = c.peer_id.clone().unwrap();
    s.clock.advance(1000);
    a.send(&ClientMessage::Chat { message: "hello, \"world\"\n=1+1".into() }).await;
    a.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    s.clock.advance(30_000);

    // Sessions.
    r.get(&format!("{app}/sessions")).await;
    r.get(&format!("{app}/sessions?status=LIVE&sort_by=minutesConsumed&per_page=5")).await;
    r.get(&format!("{app}/sessions?participants=9:1")).await;
    r.get(&format!("{app}/sessions/{session}")).await;
    r.get(&format!("{app}/sessions/{session}?include_breakout_rooms=true")).await;
    r.get(&format!("{app}/sessions/{session}/participants")).await;
    r.get(&format!("{app}/sessions/{session}/participants?include_peer_events=true&sort_by=duration&sort_order=DESC&per_page=2"))
        .await;
    r.get(&format!("{app}/sessions/{session}/participants?view=sideways")).await;
    r.get(&format!("{app}/sessions/{session}/participants/{alice_peer}?include_peer_events=true")).await;
    r.get(&format!("{app}/sessions/{session}/participants/{alice_id}")).await;
    r.get(&format!("{app}/sessions/peer-report/{alice_peer}")).await;
    r.get(&format!("{app}/sessions/peer-report/{carol_peer}")).await;
    r.get(&format!("{app}/sessions/{session}/participants/{carol_peer}")).await;
    r.get(&format!("{app}/sessions/{session}/participants/nobody")).await;
    r.get(&format!("{app}/sessions/peer-report/nobody")).await;
    let chat = r.get(&format!("{app}/sessions/{session}/chat")).await;
    let link = id(&chat, "/data/chat_download_url");
    r.call(Method::GET, &link.replace(&s.root, ""), None, false).await;
    r.get(&format!("{app}/sessions/nope")).await;

    // The active session and its actions.
    r.get(&format!("{app}/meetings/{meeting}/active-session")).await;
    r.post(
        &format!("{app}/meetings/{meeting}/active-session/mute"),
        json!({"custom_participant_ids": ["bob"]}),
    )
    .await;
    r.post(&format!("{app}/meetings/{meeting}/active-session/mute"), json!({})).await;
    r.post(&format!("{app}/meetings/{meeting}/active-session/mute-all"), json!({"allow_unmute": true})).await;
    r.post(
        &format!("{app}/meetings/{meeting}/active-session/poll"),
        json!({"question": "Lunch?", "options": ["yes", "no"], "anonymous": true}),
    )
    .await;
    r.post(
        &format!("{app}/meetings/{meeting}/active-session/poll"),
        json!({"question": "", "options": ["one"]}),
    )
    .await;
    s.clock.advance(1000);
    let rooms = r
        .post(
            &format!("{app}/meetings/{meeting}/active-session/breakout-rooms"),
            json!({"rooms": [{"title": "Room A"}, {}]}),
        )
        .await;
    let room = id(&rooms, "/data/breakout_rooms/0/id");
    r.get(&format!("{app}/meetings/{meeting}/active-session/breakout-rooms")).await;
    s.clock.advance(1000);
    r.post(
        &format!("{app}/meetings/{meeting}/active-session/breakout-rooms/move"),
        json!({"to_meeting_id": room, "participant_ids": [carol_id]}),
    )
    .await;
    c.wait_for(|e| matches!(e, ServerEvent::Moved { .. })).await;
    r.get(&format!("{app}/meetings/{meeting}/active-session/breakout-rooms")).await;
    r.get(&format!("{app}/sessions/{session}?include_breakout_rooms=true")).await;
    r.get(&format!("{app}/sessions/{session}/participants?view=consolidated")).await;
    r.get(&format!("{app}/meetings/{room}/active-session")).await;
    s.clock.advance(1000);
    r.post(
        &format!("{app}/meetings/{meeting}/active-session/kick"),
        json!({"participant_ids": [id(&bob, "/data/id")]}),
    )
    .await;
    b.closed().await;
    s.clock.advance(1000);
    r.post(&format!("{app}/meetings/{meeting}/active-session/kick-all"), json!({})).await;
    a.closed().await;
    r.get(&format!("{app}/sessions/{session}")).await;
    r.get(&format!("{app}/meetings/{meeting}/active-session")).await;
    drop(c);

    // Operations.
    r.call(Method::GET, "/healthz", None, false).await;
    r.call(Method::GET, "/readyz", None, false).await;
    r.call(Method::GET, "/nothing/here", None, false).await;

    check(&r.out, GOLDEN);
}

const ADMIN: &str = "wire-admin-token";
const GOLDEN_ADMIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/wire-admin.txt");

/// rtk's admin endpoints (a manual clock and an admin token).
async fn admin_endpoints(s: &TestServer) {
    let mut r = Recorder::new(s);
    let admin = |r: &mut Recorder<'_>, method: Method, path: &str, body: Option<&str>| {
        let url = format!("{}{path}", r.s.root);
        let mut rb = r.s.http.request(method.clone(), url).bearer_auth(ADMIN);
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b.to_string());
        }
        (method, path.to_string(), body.map(str::to_string), rb)
    };
    for (method, path, body) in [
        (Method::GET, "/_rtk/clock", None),
        (Method::POST, "/_rtk/clock/advance", Some(r#"{"seconds": 90}"#)),
        (Method::POST, "/_rtk/clock/advance", Some(r#"{"milliseconds": 1500.4}"#)),
        (Method::POST, "/_rtk/clock/advance", Some(r#"{"seconds": -1}"#)),
        (Method::POST, "/_rtk/clock/set", Some(r#"{"time": "2026-02-01T00:00:00Z"}"#)),
        (Method::POST, "/_rtk/clock/set", Some(r#"{"time": "2020-01-01T00:00:00Z"}"#)),
        (Method::POST, "/_rtk/clock/set", Some(r#"{}"#)),
        (Method::POST, "/_rtk/reset", None),
    ] {
        let (method, path, body, rb) = admin(&mut r, method, path, body);
        let resp = rb.send().await.expect("request is sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body is read");
        let shown = r.names.normalise(&r.unroot(&text));
        r.out.push_str(&format!("{method} {path} {}\n{status}\n{shown}\n\n", body.unwrap_or_default()));
    }
    // An API token is not the admin token.
    r.call(Method::GET, "/_rtk/clock", None, true).await;
    check(&r.out, GOLDEN_ADMIN);
}

async fn admin_server(db: crate::harness::Db) -> Option<TestServer> {
    TestServer::start_with(db, |c| {
        c.manual_clock = Some(rtk_server::ManualClock::new(crate::harness::T0));
        c.admin_token_hash = Some(rtk_server::auth::hash_token(ADMIN));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_bytes_sqlite() {
    if let Some(s) = admin_server(crate::harness::Db::Sqlite).await {
        admin_endpoints(&s).await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn admin_bytes_postgres() {
    if let Some(s) = admin_server(crate::harness::Db::Postgres).await {
        admin_endpoints(&s).await;
        s.stop().await;
    }
}

fn check(got: &str, golden: &str) {
    if std::env::var_os("RTK_WIRE_BLESS").is_some() {
        std::fs::write(golden, got).expect("write the recorded copy");
        return;
    }
    let want = std::fs::read_to_string(golden).unwrap_or_else(|_| panic!("{golden} exists"));
    if got != want {
        let (g, w): (Vec<_>, Vec<_>) = (got.split("\n\n").collect(), want.split("\n\n").collect());
        for (i, (a, b)) in g.iter().zip(w.iter()).enumerate() {
            assert_eq!(a, b, "answer {i} differs from {golden}");
        }
        assert_eq!(g.len(), w.len(), "a different number of answers");
    }
}

both!(wire_bytes, super::every_endpoint);
