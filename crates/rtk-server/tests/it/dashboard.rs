//! The dashboard's server side: the page and its assets at `/` (no CDN, a strict CSP), and a
//! live session's events as server-sent events, read here as the page reads them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both;
use crate::harness::TestServer;

/// The next server-sent event of `resp`: (event, data as JSON); `None` when the stream ends.
async fn next_event(resp: &mut reqwest::Response, buf: &mut String) -> Option<(String, Value)> {
    loop {
        if let Some(cut) = buf.find("\n\n") {
            let frame: String = buf.drain(..cut + 2).collect();
            let field = |name: &str| {
                frame.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start().to_string()))
            };
            let Some(kind) = field("event:") else { continue }; // a keep-alive comment
            let data = field("data:").and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(Value::Null);
            return Some((kind, data));
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
            .await
            .expect("an event within 10 s")
            .expect("the stream reads");
        buf.push_str(&String::from_utf8_lossy(&chunk?));
    }
}

async fn page_and_events(s: &TestServer) {
    let page = s.http.get(format!("{}/", s.root)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"src="/dashboard/app.js""#) && !html.contains("https://"),
        "every asset is rtk's own"
    );
    let js = s.http.get(format!("{}/dashboard/app.js", s.root)).send().await.unwrap();
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(js.text().await.unwrap().contains("/events"));

    let r = s.room(json!({"title": "Live view"})).await;
    let p = s.participant(&r.app, &r.meeting, "alice", "host").await;
    let mut alice = s.connect(p["token"].as_str().unwrap()).await;
    alice.join().await;
    let sid = alice.session_id.clone().unwrap();
    let url = format!("{}/_rtk/accounts/{}/apps/{}/sessions/{sid}/events", s.root, s.account, r.app);
    let (st, _) = s.http.get(&url).send().await.map(|r| (r.status(), ())).unwrap();
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the stream needs the API token");
    let mut stream = s.http.get(&url).bearer_auth(&s.token).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();
    let (kind, hello) = next_event(&mut stream, &mut buf).await.unwrap();
    assert_eq!((kind.as_str(), hello["status"].as_str()), ("hello", Some("LIVE")), "{hello}");

    // What the peers hear, the stream hears: a join, a chat message, a leave, the end.
    let bob = s.joined(&r, "bob").await;
    let bob_peer = bob.peer_id.clone().unwrap();
    let (kind, ev) = next_event(&mut stream, &mut buf).await.unwrap();
    assert_eq!(kind, "peer_joined", "{ev}");
    assert_eq!(ev["peer"]["peer_id"], bob_peer.as_str(), "{ev}");
    alice.send(&rtk_api::gateway::ClientMessage::Chat { message: "hello, viewers".into() }).await;
    let (kind, ev) = next_event(&mut stream, &mut buf).await.unwrap();
    assert_eq!((kind.as_str(), ev["message"].as_str()), ("chat", Some("hello, viewers")), "{ev}");
    bob.leave().await;
    let (kind, ev) = next_event(&mut stream, &mut buf).await.unwrap();
    assert_eq!((kind.as_str(), ev["peer_id"].as_str()), ("peer_left", Some(bob_peer.as_str())), "{ev}");
    let (st, _) = s
        .post(&format!("{}/{}/meetings/{}/active-session/kick-all", s.kit(), r.app, r.meeting), json!({}))
        .await;
    assert!(st.is_success());
    let (kind, ev) = next_event(&mut stream, &mut buf).await.unwrap();
    assert_eq!((kind.as_str(), ev["session_id"].as_str()), ("session_ended", Some(sid.as_str())), "{ev}");
    assert!(next_event(&mut stream, &mut buf).await.is_none(), "the stream ends with the session");

    // An ended session: hello and session_ended at once; an unknown one: 404.
    let mut again = s.http.get(&url).bearer_auth(&s.token).send().await.unwrap();
    let mut buf = String::new();
    assert_eq!(next_event(&mut again, &mut buf).await.unwrap().1["status"], "ENDED");
    assert_eq!(next_event(&mut again, &mut buf).await.unwrap().0, "session_ended");
    assert!(next_event(&mut again, &mut buf).await.is_none());
    let unknown = url.replace(&sid, "nope");
    let st = s.http.get(&unknown).bearer_auth(&s.token).send().await.unwrap().status();
    assert_eq!(st, StatusCode::NOT_FOUND);
}
both!(the_page_and_a_live_sessions_events, super::page_and_events);

/// Drops and resumes, which peers are not told: the stream says `peer_dropped` and
/// `peer_resumed`, and the peer gaps (the timeline's grey) keep them with their exact times,
/// after the session has ended too.
async fn drops_and_resumes(s: &TestServer) {
    use rtk_api::gateway::{ClientMessage, ServerEvent};
    let r = s.room(json!({"title": "Gaps"})).await;
    let host = s.joined(&r, "host").await;
    let p = s.participant(&r.app, &r.meeting, "wobbly", "host").await;
    let token = p["token"].as_str().unwrap();
    let mut w = s.connect(token).await;
    w.join().await;
    let (sid, peer) = (w.session_id.clone().unwrap(), w.peer_id.clone().unwrap());
    let app_base = format!("{}/_rtk/accounts/{}/apps/{}", s.root, s.account, r.app);
    let mut stream =
        s.http.get(format!("{app_base}/sessions/{sid}/events")).bearer_auth(&s.token).send().await.unwrap();
    let mut buf = String::new();
    assert_eq!(next_event(&mut stream, &mut buf).await.unwrap().0, "hello");
    // Lost at +4 s, back at +9 s; lost again at +12 s for good.
    s.clock.advance(4_000);
    w.vanish();
    let (kind, ev) = next_event(&mut stream, &mut buf).await.unwrap();
    assert_eq!((kind.as_str(), ev["peer_id"].as_str()), ("peer_dropped", Some(peer.as_str())), "{ev}");
    s.clock.advance(5_000);
    let mut w = s.connect(token).await;
    w.send(&ClientMessage::Resume { peer_id: peer.clone() }).await;
    w.wait_for(|e| matches!(e, ServerEvent::Resumed { .. })).await;
    let (kind, ev) = next_event(&mut stream, &mut buf).await.unwrap();
    assert_eq!((kind.as_str(), ev["peer_id"].as_str()), ("peer_resumed", Some(peer.as_str())), "{ev}");
    s.clock.advance(3_000);
    w.vanish();
    assert_eq!(next_event(&mut stream, &mut buf).await.unwrap().0, "peer_dropped");
    let gaps_url = format!("{app_base}/sessions/{sid}/peer-gaps");
    let (st, _) = s.http.get(&gaps_url).send().await.map(|r| (r.status(), ())).unwrap();
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the gaps need the API token");
    let (st, v) = s.get(&gaps_url).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["data"],
        json!([
            {"peer_id": peer, "dropped_at": crate::harness::at(4_000), "resumed_at": crate::harness::at(9_000)},
            {"peer_id": peer, "dropped_at": crate::harness::at(12_000), "resumed_at": null},
        ])
    );
    // The session ends; the gaps stay. Another app's session id is unknown here.
    host.leave().await;
    s.advance(30_000).await; // the dropped peer's heartbeat timeout: it leaves at its drop
    s.advance(120_000).await; // past the keep-alive
    let (_, d) = s.get(&format!("{}/{}/sessions/{sid}", s.kit(), r.app)).await;
    assert_eq!(d["data"]["status"], "ENDED", "{d}");
    let (_, v) = s.get(&gaps_url).await;
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2), "{v}");
    let (st, _) = s.get(&format!("{app_base}/sessions/nope/peer-gaps")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
both!(drops_and_resumes_are_shown, super::drops_and_resumes);
