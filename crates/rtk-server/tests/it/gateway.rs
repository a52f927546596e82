//! The gateway with real WebSocket clients: joins create sessions, and every number of the
//! session response follows from what the clients did.

use rtk_api::gateway::{close, ClientMessage, ServerEvent};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::both;
use crate::harness::{TestServer, T0};
use crate::ws::{eventually, Client};

pub struct Room {
    pub app: String,
    pub meeting: String,
}

impl Room {
    pub async fn new(s: &TestServer, meeting: Value) -> Room {
        let app = s.app("gw").await;
        s.preset(&app, "host").await;
        let meeting = s.meeting(&app, meeting).await;
        Room { app, meeting }
    }

    /// Adds a participant; (participant id, token).
    pub async fn person(&self, s: &TestServer, name: &str) -> (String, String) {
        let p = s.participant(&self.app, &self.meeting, name, "host").await;
        (p["id"].as_str().unwrap().to_string(), p["token"].as_str().unwrap().to_string())
    }

    pub fn session_url(&self, s: &TestServer, id: &str) -> String {
        format!("{}/{}/sessions/{id}", s.kit(), self.app)
    }

    /// GET session details: `data.session`, after checking that the flat shape matches it.
    pub async fn details(&self, s: &TestServer, id: &str) -> Value {
        let (st, v) = s.get(&self.session_url(s, id)).await;
        assert_eq!(st, 200, "{v}");
        let mut flat = v["data"].as_object().unwrap().clone();
        let nested = flat.remove("session").expect("data.session (seed shape)");
        assert_eq!(Value::Object(flat), nested, "flat and nested shapes agree");
        nested
    }

    pub async fn active(&self, s: &TestServer) -> (u16, Value) {
        let (st, v) =
            s.get(&format!("{}/{}/meetings/{}/active-session", s.kit(), self.app, self.meeting)).await;
        (st.as_u16(), v)
    }
}

fn at(secs: i64) -> String {
    rtk_server::clock::rfc3339(T0 + secs * 1000)
}

/// The issue's example: A joins at t0, B at t0+30 s, A leaves at t0+90 s, B at t0+120 s.
async fn overlap_story(s: &TestServer) {
    let room = Room::new(s, json!({"title": "Standup"})).await;
    let (_, ta) = room.person(s, "a").await;
    let (_, tb) = room.person(s, "b").await;
    let (st, v) = room.active(s).await;
    assert_eq!(st, 404);
    assert_eq!(v["error"]["message"], format!("No active session found for meeting_id {}", room.meeting));

    let mut a = s.connect(&ta).await;
    a.join_with(Some(json!({"browser": "firefox", "os": "linux", "cpus": 8}))).await;
    let sid = a.session_id.clone().unwrap();
    let d = room.details(s, &sid).await;
    assert_eq!(d["status"], "LIVE");
    assert_eq!(d["live_participants"], 1);
    assert_eq!(d["started_at"], at(0));
    assert_eq!(d["associated_id"], room.meeting);
    assert_eq!(d["meeting_display_name"], "Standup");
    assert_eq!(d["organization_id"], room.app);
    assert_eq!(d["type"], "meeting");
    assert!(d.get("ended_at").is_none());

    s.clock.advance(30_000);
    let mut b = s.connect(&tb).await;
    let joined = b.join().await;
    let ServerEvent::Joined { session_id, peers, .. } = joined else { unreachable!() };
    assert_eq!(session_id, sid, "B joins the same session");
    assert_eq!(peers.len(), 1, "B sees A");
    // A hears about B.
    let e = a.wait_for(|e| matches!(e, ServerEvent::PeerJoined { .. })).await;
    let ServerEvent::PeerJoined { peer } = e else { unreachable!() };
    assert_eq!(Some(peer.peer_id), b.peer_id);

    s.clock.advance(30_000); // t0+60
    let d = room.details(s, &sid).await;
    assert_eq!(
        (d["live_participants"].clone(), d["max_concurrent_participants"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(d["minutes_consumed"], 1.5);

    s.clock.advance(30_000); // t0+90
    let a_peer = a.peer_id.clone().unwrap();
    a.leave().await;
    let e = b.wait_for(|e| matches!(e, ServerEvent::PeerLeft { .. })).await;
    assert_eq!(e, ServerEvent::PeerLeft { peer_id: a_peer, reason: "left".into() });
    let d = room.details(s, &sid).await;
    assert_eq!(d["live_participants"], 1);
    assert_eq!(d["max_concurrent_participants"], 2);

    s.clock.advance(30_000); // t0+120
    b.leave().await;
    s.advance(30_000).await; // t0+150: within keep-alive
    let d = room.details(s, &sid).await;
    assert_eq!(d["status"], "LIVE");
    assert_eq!(d["live_participants"], 0);
    assert_eq!(d["minutes_consumed"], 3.0);
    assert_eq!(room.active(s).await.0, 200);

    s.advance(30_000).await; // t0+180: keep-alive (60 s) has passed
    let d = room.details(s, &sid).await;
    assert_eq!(d["status"], "ENDED");
    assert_eq!(d["ended_at"], at(120));
    assert_eq!(d["max_concurrent_participants"], 2);
    assert_eq!(d["minutes_consumed"], 3.0);
    assert_eq!(room.active(s).await.0, 404);
}

async fn rejoin_and_new_session(s: &TestServer) {
    let room = Room::new(s, json!({"title": "R", "session_keep_alive_time_in_secs": 60})).await;
    let (_, ta) = room.person(s, "a").await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    let first = a.session_id.clone().unwrap();
    s.clock.advance(10_000);
    a.leave().await;
    s.advance(59_000).await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    assert_eq!(
        a.session_id.as_deref(),
        Some(first.as_str()),
        "a rejoin within keep-alive continues the session"
    );
    s.clock.advance(5_000);
    a.leave().await;
    s.advance(60_000).await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    let second = a.session_id.clone().unwrap();
    assert_ne!(second, first, "a join after the keep-alive starts a new session");
    let d = room.details(s, &first).await;
    assert_eq!(d["status"], "ENDED");
    assert_eq!(d["ended_at"], at(74));
    assert!((d["minutes_consumed"].as_f64().unwrap() - 15.0 / 60.0).abs() < 1e-9);
    let d2 = room.details(s, &second).await;
    assert_eq!(d2["status"], "LIVE");
    assert_eq!(d2["started_at"], at(134));
    a.leave().await;
}

async fn drop_and_resume(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (pa, ta) = room.person(s, "a").await;
    let (_, tb) = room.person(s, "b").await;
    let mut b = s.connect(&tb).await;
    b.join().await;
    let sid = b.session_id.clone().unwrap();
    // A joins, beats at +10, vanishes at +15, resumes at +25: presence is continuous.
    let mut a = s.connect(&ta).await;
    a.join().await;
    let peer = a.peer_id.clone().unwrap();
    s.clock.advance(10_000);
    a.ping().await;
    s.clock.advance(5_000);
    a.vanish();
    let store = s.store.clone();
    let p2 = peer.clone();
    eventually("the server notices the lost connection", || {
        let store = store.clone();
        let p = p2.clone();
        async move { store.peer(&p).await.unwrap().is_some_and(|p| !p.connected) }
    })
    .await;
    s.advance(10_000).await; // +25: within the 30 s heartbeat timeout
    assert_eq!(
        room.details(s, &sid).await["live_participants"],
        2,
        "a dropped peer is counted until its timeout"
    );
    let mut a = s.connect(&ta).await;
    a.send(&ClientMessage::Resume { peer_id: peer.clone() }).await;
    let e = a.wait_for(|e| matches!(e, ServerEvent::Resumed { .. })).await;
    assert_eq!(
        e,
        ServerEvent::Resumed {
            peer_id: peer.clone(),
            session_id: sid.clone(),
            meeting_id: room.meeting.clone()
        }
    );
    // A resumed peer is the same peer: B heard no leave, and chat still flows.
    a.send(&ClientMessage::Chat { message: "back".into() }).await;
    let e = b.wait_for(|e| matches!(e, ServerEvent::Chat { .. } | ServerEvent::PeerLeft { .. })).await;
    assert!(matches!(e, ServerEvent::Chat { ref message, .. } if message == "back"), "{e:?}");
    // Now A vanishes for good at +40 after a beat; it leaves at +40 once 30 s have passed.
    s.clock.advance(15_000);
    a.ping().await;
    b.ping().await;
    a.vanish();
    let (store, p2) = (s.store.clone(), peer.clone());
    eventually("the server notices the lost connection", || {
        let store = store.clone();
        let p = p2.clone();
        async move { store.peer(&p).await.unwrap().is_some_and(|p| !p.connected) }
    })
    .await;
    // B's client keeps it alive meanwhile: a connected peer that sends nothing times out too.
    s.advance(10_000).await; // +50
    b.ping().await;
    s.advance(19_000).await; // +69
    assert_eq!(room.details(s, &sid).await["live_participants"], 2);
    s.advance(1_000).await; // +70
    let d = room.details(s, &sid).await;
    assert_eq!(d["live_participants"], 1);
    let left = s.store.peer(&peer).await.unwrap().unwrap();
    assert_eq!(left.left_at, Some(T0 + 40_000), "leaves at its last message");
    assert_eq!(left.leave_reason.as_deref(), Some("heartbeat_timeout"));
    let e = b.wait_for(|e| matches!(e, ServerEvent::PeerLeft { .. })).await;
    assert_eq!(e, ServerEvent::PeerLeft { peer_id: peer.clone(), reason: "heartbeat_timeout".into() });
    // A resume after the timeout fails; a fresh join works.
    let mut a = s.connect(&ta).await;
    a.send(&ClientMessage::Resume { peer_id: peer.clone() }).await;
    let e = a.event().await;
    assert!(matches!(e, ServerEvent::Error { ref code, .. } if code == "resume_failed"), "{e:?}");
    a.join().await;
    assert_ne!(a.peer_id.as_deref(), Some(peer.as_str()));
    let (_, v) =
        s.get(&format!("{}/{}/sessions/{sid}/participants?view=consolidated", s.kit(), room.app)).await;
    let mine: Vec<&Value> =
        v["data"]["participants"].as_array().unwrap().iter().filter(|p| p["user_id"] == pa).collect();
    assert_eq!(mine.len(), 1, "consolidated: one row per participant");
    // 40 s for the first peer plus 0 s so far for the second.
    assert!((mine[0]["duration"].as_f64().unwrap() - 40.0 / 60.0).abs() < 1e-9, "{}", mine[0]);
}

async fn two_devices(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (_, t) = room.person(s, "p").await;
    let mut d1 = s.connect(&t).await;
    d1.join().await;
    s.clock.advance(10_000);
    let mut d2 = s.connect(&t).await;
    d2.join().await;
    let sid = d1.session_id.clone().unwrap();
    assert_eq!(d2.session_id.as_deref(), Some(sid.as_str()));
    let d = room.details(s, &sid).await;
    assert_eq!(d["live_participants"], 2, "one participant on two devices is two peers");
    s.clock.advance(30_000);
    d1.leave().await;
    s.clock.advance(30_000);
    d2.leave().await;
    let d = room.details(s, &sid).await;
    assert_eq!(d["live_participants"], 0);
    assert_eq!(d["max_concurrent_participants"], 2);
    assert!((d["minutes_consumed"].as_f64().unwrap() - 100.0 / 60.0).abs() < 1e-9);
}

async fn host_controls(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (pa, ta) = room.person(s, "a").await;
    let (_, tb) = room.person(s, "b").await;
    let (_, tc) = room.person(s, "c").await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    let mut b = s.connect(&tb).await;
    b.join().await;
    let mut c = s.connect(&tc).await;
    c.join().await;
    let sid = a.session_id.clone().unwrap();
    let base = format!("{}/{}/meetings/{}/active-session", s.kit(), room.app, room.meeting);
    // Mute by custom participant id reaches b only.
    let (st, v) = s.post(&format!("{base}/mute"), json!({"custom_participant_ids": ["b"]})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["participants"][0]["custom_participant_id"], "b");
    assert_eq!(
        b.wait_for(|e| matches!(e, ServerEvent::Muted { .. })).await,
        ServerEvent::Muted { by: "host".into() }
    );
    // Poll reaches everyone.
    let (st, v) =
        s.post(&format!("{base}/poll"), json!({"question": "Lunch?", "options": ["yes", "no"]})).await;
    assert_eq!(st, 201, "{v}");
    for cl in [&mut a, &mut b, &mut c] {
        let e = cl.wait_for(|e| matches!(e, ServerEvent::PollCreated { .. })).await;
        let ServerEvent::PollCreated { poll } = e else { unreachable!() };
        assert_eq!(poll["question"], "Lunch?");
        assert_eq!(poll["options"][1]["text"], "no");
    }
    // Kick a by participant id: a is told, then closed with KICKED; the others see it leave.
    s.clock.advance(6_000);
    let (st, v) = s.post(&format!("{base}/kick"), json!({"participant_ids": [pa]})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["participants"][0]["id"], pa);
    assert!(matches!(a.next().await, crate::ws::Next::Event(ServerEvent::Kicked { .. })));
    assert_eq!(a.closed().await, close::KICKED);
    let e = b.wait_for(|e| matches!(e, ServerEvent::PeerLeft { .. })).await;
    assert!(matches!(e, ServerEvent::PeerLeft { ref reason, .. } if reason == "kicked"));
    let (st, v) = s.post(&format!("{base}/kick"), json!({"participant_ids": ["nobody"]})).await;
    assert_eq!((st.as_u16(), v["error"]["message"].clone()), (404, json!("No user found with id nobody")));
    let (st, _) = s.post(&format!("{base}/kick"), json!({})).await;
    assert_eq!(st, 400);
    // mute-all reaches both remaining peers.
    let (_, v) = s.post(&format!("{base}/mute-all"), json!({"allow_unmute": true})).await;
    assert_eq!(v["data"]["muted_participants_count"], 2);
    // kick-all ends the session at once.
    s.clock.advance(4_000);
    let (st, v) = s.post(&format!("{base}/kick-all"), json!(null)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["kicked_participants_count"], 2);
    for cl in [&mut b, &mut c] {
        cl.wait_for(|e| matches!(e, ServerEvent::SessionEnded { .. })).await;
        assert_eq!(cl.closed().await, close::KICKED);
    }
    let d = room.details(s, &sid).await;
    assert_eq!(d["status"], "ENDED");
    assert_eq!(d["ended_at"], at(10));
    assert_eq!(d["live_participants"], 0);
    // a: 6 s, b and c: 10 s each.
    assert!((d["minutes_consumed"].as_f64().unwrap() - 26.0 / 60.0).abs() < 1e-9, "{d}");
    let (st, _) = s.post(&format!("{base}/kick-all"), json!(null)).await;
    assert_eq!(st, 404, "no active session any more");
    let (st, _) = s.post(&format!("{base}/poll"), json!({"question": "?", "options": ["a", "b"]})).await;
    assert_eq!(st, 404);
}

async fn refusals(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (pid, token) = room.person(s, "a").await;
    // No token, a forged token.
    let mut c = Client::connect_raw(&s.gateway_url("")).await;
    assert_eq!(c.closed().await, close::INVALID_TOKEN);
    let mut forged = token.clone();
    forged.push('x');
    let mut c = Client::connect_raw(&s.gateway_url(&forged)).await;
    assert_eq!(c.closed().await, close::INVALID_TOKEN);
    // A connected peer of a deleted participant is disconnected; its tokens are refused.
    let mut a = s.connect(&token).await;
    a.join().await;
    let sid = a.session_id.clone().unwrap();
    let url = format!("{}/{}/meetings/{}/participants/{pid}", s.kit(), room.app, room.meeting);
    let (st, _) = s.call(reqwest::Method::DELETE, &url, None).await;
    assert_eq!(st, 200);
    assert_eq!(a.closed().await, close::PARTICIPANT_REVOKED);
    assert_eq!(room.details(s, &sid).await["live_participants"], 0);
    let mut c = Client::connect_raw(&s.gateway_url(&token)).await;
    assert_eq!(c.closed().await, close::PARTICIPANT_REVOKED);
    // An INACTIVE meeting refuses joins.
    let (_, t2) = room.person(s, "b").await;
    let murl = format!("{}/{}/meetings/{}", s.kit(), room.app, room.meeting);
    s.call(reqwest::Method::PATCH, &murl, Some(json!({"status": "INACTIVE"}))).await;
    let mut b = s.connect(&t2).await;
    b.send(&ClientMessage::Join { device: None }).await;
    assert_eq!(b.closed().await, close::MEETING_INACTIVE);
    s.call(reqwest::Method::PATCH, &murl, Some(json!({"status": "ACTIVE"}))).await;
    // An expired token (100 days later).
    s.clock.advance(100 * 24 * 3600 * 1000 + 1000);
    let mut c = Client::connect_raw(&s.gateway_url(&t2)).await;
    assert_eq!(c.closed().await, close::TOKEN_EXPIRED);
}

async fn protocol_limits(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (_, t) = room.person(s, "a").await;
    // Not JSON.
    let mut c = s.connect(&t).await;
    c.join().await;
    let sid = c.session_id.clone().unwrap();
    c.send_raw(Message::Text("hello?".into())).await;
    assert_eq!(c.closed().await, close::PROTOCOL);
    // A protocol violation leaves cleanly.
    assert_eq!(room.details(s, &sid).await["live_participants"], 0);
    // Binary frames are not part of the protocol: the peer leaves.
    let mut c = s.connect(&t).await;
    c.join().await;
    let sid2 = c.session_id.clone().unwrap();
    c.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(c.closed().await, close::PROTOCOL);
    assert_eq!(room.details(s, &sid2).await["live_participants"], 0);
    // An unknown message type: 1008 with a reason that fits a close frame (a longer one
    // would make the client fail the connection with 1002 instead).
    let mut c = s.connect(&t).await;
    c.join().await;
    c.send_raw(Message::Text(r#"{"type":"dance","with":"everyone"}"#.into())).await;
    let (code, reason) = c.closed_with().await;
    assert_eq!(code, close::PROTOCOL, "{reason}");
    assert!(!reason.is_empty() && reason.len() <= 123, "{reason}");
    // Oversized, once joined: the documented 1009, and the peer leaves (it is not dropped, to
    // resume and try again).
    let mut c = s.connect(&t).await;
    c.join().await;
    let big_peer = c.peer_id.clone().unwrap();
    c.send_raw(Message::Text("x".repeat(70 * 1024).into())).await;
    assert_eq!(c.closed().await, close::TOO_BIG);
    let p = s.store.peer(&big_peer).await.unwrap().unwrap();
    assert!(p.left_at.is_some(), "{p:?}");
    // Far over the limit too (the frame header alone tells).
    let mut c = s.connect(&t).await;
    c.send_raw(Message::Text("x".repeat(2 * 1024 * 1024).into())).await;
    assert_eq!(c.closed().await, close::TOO_BIG);
    // Too many messages.
    let mut c = s.connect(&t).await;
    c.join().await;
    for _ in 0..200 {
        c.send_raw(Message::Text(r#"{"type":"ping"}"#.into())).await;
    }
    assert_eq!(c.closed().await, close::RATE_LIMITED);
    // WebSocket control frames count against the rate too.
    let mut c = s.connect(&t).await;
    c.join().await;
    for _ in 0..200 {
        c.send_raw(Message::Ping(vec![1].into())).await;
    }
    assert_eq!(c.closed().await, close::RATE_LIMITED);
    // Chat before join is an error, not a close.
    let mut c = s.connect(&t).await;
    c.send(&ClientMessage::Chat { message: "hi".into() }).await;
    assert!(matches!(c.event().await, ServerEvent::Error { ref code, .. } if code == "not_joined"));
}

/// Shutting the server down tells connections to go away; their peers are dropped, not gone,
/// so they can resume after a restart within the heartbeat timeout.
async fn shutdown_drops_peers(db: crate::harness::Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let room = Room::new(&s, json!({})).await;
    let (_, t) = room.person(&s, "a").await;
    let mut c = s.connect(&t).await;
    c.join().await;
    let peer = c.peer_id.clone().unwrap();
    let stop = tokio::spawn(s.stop_keep_db());
    assert_eq!(c.closed().await, close::GOING_AWAY);
    let db = stop.await.unwrap();
    let store = rtk_server::Store::connect(&db.url).await.unwrap();
    let p = store.peer(&peer).await.unwrap().unwrap();
    assert!(p.left_at.is_none() && !p.connected, "{p:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sqlite() {
    shutdown_drops_peers(crate::harness::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn shutdown_postgres() {
    shutdown_drops_peers(crate::harness::Db::Postgres).await;
}

both!(overlap, super::overlap_story);
both!(rejoin, super::rejoin_and_new_session);
both!(dropped, super::drop_and_resume);
both!(devices, super::two_devices);
both!(controls, super::host_controls);
both!(refused, super::refusals);
both!(limits, super::protocol_limits);

/// The gateway's own timers, on real time with short settings: only what a client sends
/// counts as its heartbeat, and the join deadline is absolute from connect.
mod timers {
    use std::time::Duration;

    use futures_util::StreamExt;
    use rtk_api::gateway::{close, ClientMessage, ServerEvent};
    use serde_json::json;
    use tokio_tungstenite::tungstenite::Message;

    use super::Room;
    use crate::harness::{Db, TestServer};

    async fn silent_peer_times_out_while_others_chat(db: Db) {
        let Some(s) = TestServer::start_with(db, |c| c.heartbeat_timeout = Duration::from_secs(1)).await
        else {
            return;
        };
        let room = Room::new(&s, json!({})).await;
        let (_, ta) = room.person(&s, "a").await;
        let (_, tb) = room.person(&s, "b").await;
        let mut a = s.connect(&ta).await;
        a.join().await;
        let silent = a.peer_id.clone().unwrap();
        let joined_at = s.store.peer(&silent).await.unwrap().unwrap().joined_at;
        let mut b = s.connect(&tb).await;
        b.join().await;
        // B chats every 200 ms; A receives each message and sends nothing. A is closed with
        // 4009 about 1 s after its join, however much traffic it receives.
        let talk = async {
            let mut every = tokio::time::interval(Duration::from_millis(200));
            loop {
                every.tick().await;
                b.send(&ClientMessage::Chat { message: "still here".into() }).await;
            }
        };
        let mut heard = 0;
        let closed = async {
            loop {
                match a.next().await {
                    crate::ws::Next::Event(ServerEvent::Chat { .. }) => heard += 1,
                    crate::ws::Next::Event(_) => {}
                    crate::ws::Next::Closed(code, reason) => return (code, reason),
                }
            }
        };
        let (code, reason) = tokio::select! {
            r = closed => r,
            _ = talk => unreachable!(),
        };
        assert_eq!((code, reason.as_str()), (close::TIMEOUT, "heartbeat timeout"));
        assert!(heard >= 1, "A received chat while silent ({heard} messages)");
        let p = s.store.peer(&silent).await.unwrap().unwrap();
        assert_eq!(p.leave_reason.as_deref(), Some("heartbeat_timeout"));
        assert_eq!(p.left_at, Some(joined_at), "it leaves at its last message");
        s.stop().await;
    }

    async fn pings_do_not_extend_the_join_deadline(db: Db) {
        let Some(s) = TestServer::start_with(db, |c| c.join_timeout = Duration::from_millis(500)).await
        else {
            return;
        };
        let room = Room::new(&s, json!({})).await;
        let (_, t) = room.person(&s, "a").await;
        // Transport pings and protocol pings every 100 ms, never a join: closed at 500 ms.
        let url = s.gateway_url(&t);
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        let started = std::time::Instant::now();
        let mut every = tokio::time::interval(Duration::from_millis(100));
        let code = loop {
            tokio::select! {
                _ = every.tick() => {
                    use futures_util::SinkExt;
                    let _ = ws.send(Message::Ping(vec![0].into())).await;
                    let _ = ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await;
                }
                m = ws.next() => match m {
                    Some(Ok(Message::Close(Some(f)))) => break u16::from(f.code),
                    Some(Ok(_)) => {}
                    other => panic!("expected a close frame, got {other:?}"),
                }
            }
            assert!(started.elapsed() < crate::ws::WAIT, "never closed");
        };
        assert_eq!(code, close::TIMEOUT);
        assert!(started.elapsed() >= Duration::from_millis(400), "closed at the deadline, not at once");
        s.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_peer_sqlite() {
        silent_peer_times_out_while_others_chat(Db::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    async fn silent_peer_postgres() {
        silent_peer_times_out_while_others_chat(Db::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn join_deadline_sqlite() {
        pings_do_not_extend_the_join_deadline(Db::Sqlite).await;
    }
}
