//! Limits (docs/limits.md): connection timeouts and cap, bounded error answers, input checks.
//!
//! The connection tests talk raw TCP, since HTTP clients hide exactly what they test (partial
//! heads, unread responses, idle keep-alive). They run on SQLite only: the connection layer
//! is the same whatever the store. The request-validation tests run on both stores.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::both;
use crate::harness::{Db, TestServer};
use crate::ws::{eventually, WAIT};

const MS: Duration = Duration::from_millis(1);

async fn server(tweak: impl FnOnce(&mut rtk_server::Config)) -> Option<TestServer> {
    TestServer::start_with(Db::Sqlite, tweak).await
}

fn addr(s: &TestServer) -> String {
    s.root.trim_start_matches("http://").to_string()
}

async fn connect(s: &TestServer) -> TcpStream {
    TcpStream::connect(addr(s)).await.expect("connects")
}

/// Reads until the server closes the connection (EOF or reset); what it sent, and when it
/// closed. Fails if it stays open for `WAIT`.
async fn until_closed(c: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut got = vec![];
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tokio::time::timeout(WAIT, c.read(&mut buf)).await {
            Err(_) => panic!(
                "the server kept the connection open for {WAIT:?}; it sent {}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Instant::now()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one response (head and `content-length` body): status and body.
async fn response(c: &mut TcpStream) -> (u16, Vec<u8>) {
    let mut got = vec![];
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let status = head[9..12].parse().expect("a status code");
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().expect("a length"));
            while got.len() < end + 4 + len {
                let n =
                    tokio::time::timeout(WAIT, c.read(&mut buf)).await.expect("body in time").expect("read");
                assert!(n > 0, "closed mid-body");
                got.extend_from_slice(&buf[..n]);
            }
            return (status, got[end + 4..end + 4 + len].to_vec());
        }
        let n = tokio::time::timeout(WAIT, c.read(&mut buf)).await.expect("head in time").expect("read");
        assert!(n > 0, "closed before a response: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: rtk\r\n\r\n").into_bytes()
}

fn envelope(body: &[u8], status: u16) -> Value {
    let v: Value =
        serde_json::from_slice(body).unwrap_or_else(|_| panic!("JSON: {}", String::from_utf8_lossy(body)));
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["error"]["code"], status, "{v}");
    assert_eq!(v["errors"][0]["code"], status, "{v}");
    v
}

/// What `/metrics` shows, read in process: the recorder is the process's, and a full
/// connection cap would refuse the request.
fn metrics() -> String {
    rtk_server::http::metrics_handle().render()
}

/// Waits until `/metrics` shows `series`: a connection's close is counted just after the
/// client sees it.
async fn counted(series: &str) {
    eventually(&format!("{series} in /metrics"), || async { metrics().contains(series) }).await;
}

/// Defect: connections sending their head slowly (or nothing) stayed open for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_are_closed_after_the_header_read_timeout() {
    let timeout = 300 * MS;
    let Some(s) = server(|c| {
        c.header_read_timeout = timeout;
        c.idle_timeout = Duration::from_secs(30);
    })
    .await
    else {
        return;
    };
    let opened = Instant::now();
    // Partial heads, and connections that say nothing at all.
    let mut slow = vec![];
    for i in 0..40 {
        let mut c = connect(&s).await;
        if i % 2 == 0 {
            c.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
        }
        slow.push(c);
    }
    // One that trickles a byte every 50 ms never finishes its head: trickling does not extend it.
    let mut trickle = connect(&s).await;
    let trickler = tokio::spawn(async move {
        let started = Instant::now();
        let mut tick = tokio::time::interval(50 * MS);
        for b in b"GET /healthz HTTP/1.1\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            .iter()
            .cycle()
        {
            tick.tick().await;
            if trickle.write_all(&[*b]).await.is_err() {
                return started.elapsed();
            }
            assert!(started.elapsed() < WAIT, "trickling kept the connection open");
        }
        unreachable!()
    });
    // Meanwhile the server answers everyone else.
    let (st, v) = s.get(&format!("{}/healthz", s.root)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for (i, c) in slow.iter_mut().enumerate() {
        let (sent, at) = until_closed(c).await;
        assert!(at - opened >= timeout - 20 * MS, "closed too early: {:?}", at - opened);
        if i % 2 == 0 {
            // A partial request gets told why.
            let text = String::from_utf8_lossy(&sent);
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
            let body = &sent[sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
            envelope(body, 408);
        } else {
            assert!(sent.is_empty(), "{}", String::from_utf8_lossy(&sent));
        }
    }
    let trickled = trickler.await.unwrap();
    assert!(trickled < timeout * 5, "a trickling head lasted {trickled:?}");
    let (st, _) = s.get(&format!("{}/healthz", s.root)).await;
    assert_eq!(st, StatusCode::OK);
    counted("http_connections_closed_total{reason=\"header_read_timeout\"}").await;
    s.stop().await;
}

/// Defect: an idle keep-alive connection was never closed. The idle timeout is its own
/// setting: a connection may wait longer than the header timeout between requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let (header, idle) = (200 * MS, 600 * MS);
    let Some(s) = server(|c| {
        c.header_read_timeout = header;
        c.idle_timeout = idle;
    })
    .await
    else {
        return;
    };
    let mut c = connect(&s).await;
    c.write_all(&get("/healthz")).await.unwrap();
    assert_eq!(response(&mut c).await.0, 200);
    // Longer than the header timeout, shorter than the idle one: still open.
    tokio::time::sleep(header * 2).await;
    c.write_all(&get("/healthz")).await.unwrap();
    assert_eq!(response(&mut c).await.0, 200);
    let answered = Instant::now();
    let (sent, at) = until_closed(&mut c).await;
    assert!(sent.is_empty(), "{}", String::from_utf8_lossy(&sent));
    assert!(at - answered >= idle - 20 * MS, "closed after {:?}", at - answered);
    assert!(at - answered < idle * 4, "closed after {:?}", at - answered);
    counted("http_connections_closed_total{reason=\"idle_timeout\"}").await;
    s.stop().await;
}

/// WebSocket connections are governed by the gateway's heartbeats, not by the HTTP idle and
/// header timeouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_outlive_the_http_timeouts() {
    let Some(s) = server(|c| {
        c.header_read_timeout = 150 * MS;
        c.idle_timeout = 150 * MS;
        c.request_timeout = 300 * MS;
    })
    .await
    else {
        return;
    };
    let room = crate::gateway::Room::new(&s, json!({"title": "ws"})).await;
    let (_, token) = room.person(&s, "a").await;
    let mut a = s.connect(&token).await;
    a.join().await;
    tokio::time::sleep(600 * MS).await;
    a.ping().await;
    a.leave().await;
    s.stop().await;
}

/// Defect: connections were unlimited until file descriptors ran out. Over the cap a new
/// connection gets a 503 envelope and is closed at once; the ones within it are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_refused() {
    let Some(s) = server(|c| c.max_connections = 4).await else { return };
    // The test's own HTTP client holds no connection while these are open.
    let mut open = vec![];
    for _ in 0..4 {
        let mut c = connect(&s).await;
        c.write_all(&get("/healthz")).await.unwrap();
        assert_eq!(response(&mut c).await.0, 200);
        open.push(c);
    }
    for _ in 0..3 {
        let mut extra = connect(&s).await;
        let (sent, _) = until_closed(&mut extra).await;
        let text = String::from_utf8_lossy(&sent);
        assert!(text.starts_with("HTTP/1.1 503"), "{text}");
        let body = &sent[sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
        let v = envelope(body, 503);
        assert!(v["error"]["message"].as_str().unwrap().contains("too many open connections"), "{v}");
    }
    // Those within the cap still work.
    for c in open.iter_mut() {
        c.write_all(&get("/healthz")).await.unwrap();
        assert_eq!(response(c).await.0, 200);
    }
    // A closed connection frees its slot (once the server has seen it close).
    drop(open.pop());
    let a = addr(&s);
    eventually("a freed slot serves a new connection", || {
        let a = a.clone();
        async move {
            let mut c = TcpStream::connect(a).await.unwrap();
            if c.write_all(&get("/healthz")).await.is_err() {
                return false;
            }
            let mut head = [0u8; 12];
            c.read_exact(&mut head).await.is_ok() && &head == b"HTTP/1.1 200"
        }
    })
    .await;
    drop(open);
    counted("http_connections_closed_total{reason=\"max_connections\"}").await;
    s.stop().await;
}

/// Defect: the whole request had no time limit (here: a body that never comes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_takes_too_long_is_answered_503() {
    let Some(s) = server(|c| c.request_timeout = 300 * MS).await else { return };
    let mut c = connect(&s).await;
    let head = format!(
        "POST /client/v4/accounts/{}/realtime/kit/apps HTTP/1.1\r\nhost: rtk\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"name\": ",
        s.account, s.token
    );
    let sent = Instant::now();
    c.write_all(head.as_bytes()).await.unwrap();
    let (status, body) = response(&mut c).await;
    assert_eq!(status, 503);
    let v = envelope(&body, 503);
    assert!(v["error"]["message"].as_str().unwrap().contains("did not complete within"), "{v}");
    assert!(sent.elapsed() >= 280 * MS, "{:?}", sent.elapsed());
    s.stop().await;
}

/// Defect: a client that asks for responses and never reads them held them (and the
/// connection) for ever. With the write timeout, its connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_closed_after_the_write_timeout() {
    let Some(s) = server(|c| c.write_timeout = 300 * MS).await else { return };
    let doc = s.http.get(format!("{}/openapi.json", s.root)).send().await.unwrap().bytes().await.unwrap();
    // Enough pipelined requests that their answers overflow every socket buffer on the way.
    let n = (64 * 1024 * 1024 / doc.len()).max(8);
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut c = socket.connect(addr(&s).parse().unwrap()).await.unwrap();
    let requests: Vec<u8> = (0..n).flat_map(|_| get("/openapi.json")).collect();
    let (mut rd, mut wr) = c.split();
    // Not reading, for longer than the write timeout: the condition under test. (The server
    // stops reading requests while its writes are stuck, so writing them may stall too.)
    let _ = tokio::time::timeout(Duration::from_millis(1500), async {
        let _ = wr.write_all(&requests).await;
        std::future::pending::<()>().await
    })
    .await;
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(WAIT, rd.read(&mut buf)).await {
            Err(_) => panic!("still open after reading {got} bytes"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(k)) => got += k,
        }
    }
    assert!(got < n * doc.len(), "read all {n} answers ({got} bytes): nothing was cut");
    counted("http_connections_closed_total{reason=\"write_timeout\"}").await;
    s.stop().await;
}

/// Heads over rtk's URI and header limits are answered in the envelope and counted; what
/// hyper refuses itself (a malformed request line) is counted too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_get_the_envelope() {
    let Some(s) = server(|_| {}).await else { return };
    let long = format!("{}/healthz?x={}", s.root, "a".repeat(9 * 1024));
    let r = s.http.get(&long).send().await.unwrap();
    assert_eq!(r.status(), 414);
    envelope(&r.bytes().await.unwrap(), 414);
    let mut rb = s.http.get(format!("{}/healthz", s.root));
    for i in 0..5 {
        rb = rb.header(format!("x-big-{i}"), "b".repeat(8 * 1024));
    }
    let r = rb.send().await.unwrap();
    assert_eq!(r.status(), 431);
    envelope(&r.bytes().await.unwrap(), 431);
    // Within the limits, fine.
    let r =
        s.http.get(format!("{}/healthz", s.root)).header("x-big", "b".repeat(8 * 1024)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Garbage instead of a request line: hyper answers 400 (without a body) and closes.
    let mut c = connect(&s).await;
    c.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
    let (sent, _) = until_closed(&mut c).await;
    assert!(String::from_utf8_lossy(&sent).starts_with("HTTP/1.1 400"), "{}", String::from_utf8_lossy(&sent));
    counted("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"414\"}").await;
    counted("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"431\"}").await;
    counted("http_connections_closed_total{reason=\"malformed_request\"}").await;
    s.stop().await;
}

/// Defect: a 1 MB poll body of 500,000 bad options was answered with a 49.8 MB 400, every
/// item listed twice. Now 20 are listed, then one "and N more", and `error.message` is a
/// summary.
async fn huge_bad_bodies_get_small_answers(s: &TestServer) {
    // The scope (app, meeting) is resolved before the body is read: a real one, so the body
    // is what is refused.
    let scope_app = s.app("bodies").await;
    let meeting = s.meeting(&scope_app, json!({})).await;
    let url = format!("{}/{scope_app}/meetings/{meeting}/active-session/poll", s.kit());
    let options = vec!["1"; 500_000].join(",");
    let body = format!("{{\"question\": \"q\", \"options\": [{options}]}}");
    assert!(body.len() < 1024 * 1024);
    let r = s
        .http
        .post(&url)
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.len() < 8 * 1024, "a {}-byte answer", bytes.len());
    let v = envelope(&bytes, 400);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 21, "{v}");
    assert_eq!(errors[0]["message"], "\"options[0]\" must be a string");
    assert_eq!(errors[20]["message"], "and 499980 more errors");
    assert_eq!(
        v["error"]["message"],
        "\"options[0]\" must be a string (and 499999 more errors, listed in \"errors\")"
    );
    // A few errors are all listed; the summary names the first.
    let mut doc = crate::harness::preset_doc("p");
    doc["name"] = json!(5);
    doc["config"]["view_type"] = json!("PARTY");
    let app = s.app("a").await;
    let (st, v) = s.post(&format!("{}/{app}/presets", s.kit()), doc).await;
    assert_eq!(st, 400);
    assert_eq!(v["errors"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["error"]["message"], "\"name\" must be a string (and 1 more error, listed in \"errors\")");
}
both!(huge_bad_bodies, super::huge_bad_bodies_get_small_answers);

async fn post_raw(s: &TestServer, url: &str, content_type: Option<&str>, body: &str) -> (u16, Value) {
    let mut rb = s.http.post(url).bearer_auth(&s.token).body(body.to_string());
    if let Some(ct) = content_type {
        rb = rb.header("content-type", ct);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Defects: trailing data after the JSON value was ignored, and any Content-Type was read as
/// JSON.
async fn bodies_are_one_json_value_of_a_json_type(s: &TestServer) {
    let url = format!("{}/apps", s.kit());
    let json = Some("application/json");
    let (st, v) = post_raw(s, &url, json, r#"{"name":"a"}{"name":"b"}"#).await;
    assert_eq!(st, 400, "{v}");
    envelope(v.to_string().as_bytes(), 400);
    assert!(v["error"]["message"].as_str().unwrap().contains("trailing characters"), "{v}");
    let (st, v) = post_raw(s, &url, json, r#"{"name":"a"} x"#).await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = post_raw(s, &url, json, "{\"name\":\"ok1\"} \r\n\t ").await;
    assert_eq!(st, 201, "{v}");

    let (st, v) = post_raw(s, &url, Some("text/plain"), r#"{"name":"x"}"#).await;
    assert_eq!(st, 415, "{v}");
    envelope(v.to_string().as_bytes(), 415);
    assert!(v["error"]["message"].as_str().unwrap().contains("text/plain"), "{v}");
    let (st, v) = post_raw(s, &url, Some("multipart/form-data; boundary=x"), r#"{"name":"x"}"#).await;
    assert_eq!(st, 415, "{v}");
    // What the SDKs, curl and other JSON clients send.
    for (i, ct) in [
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("Application/JSON"),
        Some("application/vnd.api+json"),
        // `curl -d '{…}'` without -H.
        Some("application/x-www-form-urlencoded"),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let (st, v) = post_raw(s, &url, ct, &format!(r#"{{"name":"ct-{i}"}}"#)).await;
        assert_eq!(st, 201, "{ct:?}: {v}");
    }
    // Nothing was created by the refused ones.
    let (_, v) = s.get(&format!("{url}?per_page=100")).await;
    assert_eq!(v["paging"]["total_count"], 7, "{v}");
}
both!(body_types, super::bodies_are_one_json_value_of_a_json_type);

/// Defect: numbers were only type-checked: a count of −1, 1.5 or 1e300 was stored.
async fn numbers_have_their_ranges(s: &TestServer) {
    let app = s.app("n").await;
    let url = format!("{}/{app}/presets", s.kit());
    for (i, bad) in [json!(-1), json!(1.5), json!(1e300)].into_iter().enumerate() {
        let mut doc = crate::harness::preset_doc(&format!("bad-{i}"));
        doc["config"]["max_screenshare_count"] = bad.clone();
        let (st, v) = s.post(&url, doc).await;
        assert_eq!(st, 400, "{bad}: {v}");
        assert_eq!(
            v["error"]["message"],
            "\"config.max_screenshare_count\" must be a whole number from 0 to 2147483647",
            "{bad}: {v}"
        );
    }
    let bad_fields: [(&[&str], Value); 5] = [
        (&["config", "max_video_streams", "desktop"], json!(-3)),
        (&["config", "max_video_streams", "mobile"], json!(2.5)),
        (&["config", "media", "video", "frame_rate"], json!(-30)),
        (&["config", "livestream_viewer_qualities"], json!([720, -1])),
        (&["ui", "design_tokens", "spacing_base"], json!(-4)),
    ];
    for (path, bad) in bad_fields {
        let mut doc = crate::harness::preset_doc("bad");
        let mut at = &mut doc;
        for k in &path[..path.len() - 1] {
            at = &mut at[*k];
        }
        at[path[path.len() - 1]] = bad.clone();
        let (st, v) = s.post(&url, doc).await;
        assert_eq!(st, 400, "{path:?} = {bad}: {v}");
    }
    // Python SDKs send floats: a whole 2.0 is a count of 2; a fractional frame rate is fine.
    let mut doc = crate::harness::preset_doc("floats");
    doc["config"]["max_screenshare_count"] = json!(2.0);
    doc["config"]["media"]["video"]["frame_rate"] = json!(29.97);
    let (st, v) = s.post(&url, doc).await;
    assert_eq!(st, 201, "{v}");
    // PATCH checks the same ranges.
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let (st, v) = s
        .call(
            reqwest::Method::PATCH,
            &format!("{url}/{id}"),
            Some(json!({"config": {"max_screenshare_count": -1}})),
        )
        .await;
    assert_eq!(st, 400, "{v}");

    // Meetings.
    let murl = format!("{}/{app}/meetings", s.kit());
    for (body, needle) in [
        (
            json!({"recording_config": {"max_seconds": 30}}),
            "\"recording_config.max_seconds\" must be a number from 60 to 86400",
        ),
        (json!({"recording_config": {"max_seconds": 1e300}}), "max_seconds"),
        (
            json!({"recording_config": {"video_config": {"height": 720.5}}}),
            "\"recording_config.video_config.height\" must be a whole number",
        ),
        (
            json!({"recording_config": {"video_config": {"watermark": {"size": {"width": -1}}}}}),
            "watermark.size.width",
        ),
        (
            json!({"recording_config": {"storage_config": {"type": "sftp", "port": 70000}}}),
            "\"recording_config.storage_config.port\" must be a whole number from 1 to 65535",
        ),
        (
            json!({"ai_config": {"summarization": {"word_limit": 1.5}}}),
            "\"ai_config.summarization.word_limit\" must be a whole number",
        ),
        (json!({"session_keep_alive_time_in_secs": 1.5}), "session_keep_alive_time_in_secs"),
    ] {
        let (st, v) = s.post(&murl, body.clone()).await;
        assert_eq!(st, 400, "{body}: {v}");
        assert!(v["errors"].to_string().contains(&needle.replace('"', "\\\"")), "{needle} in {v}");
    }
    let ok = json!({"recording_config": {"max_seconds": 3600, "video_config": {"height": 720, "width": 1280.0},
                    "storage_config": {"type": "sftp", "port": 22}},
                    "ai_config": {"summarization": {"word_limit": 250}}});
    let (st, v) = s.post(&murl, ok).await;
    assert_eq!(st, 201, "{v}");

    // Paging.
    for q in ["page_no=1e300", "page_no=-1", "per_page=2.5", "per_page=-20"] {
        let (st, v) = s.get(&format!("{murl}?{q}")).await;
        assert_eq!(st, 400, "{q}: {v}");
    }
}
both!(numeric_ranges, super::numbers_have_their_ranges);
