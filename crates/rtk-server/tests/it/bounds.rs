//! Bounds that keep one client from costing everyone: field sizes, the paged peer list of
//! `joined`, connections per participant, stored chat per session, and the chat endpoints.

use rtk_api::gateway::{close, ClientMessage, ServerEvent, PEER_PAGE};
use serde_json::{json, Value};

use crate::both;
use crate::gateway::Room;
use crate::harness::TestServer;

fn status_and_message(r: &(reqwest::StatusCode, Value)) -> (u16, String) {
    (r.0.as_u16(), r.1["error"]["message"].as_str().unwrap_or_default().to_string())
}

/// Every free-text field has a documented maximum: at it a write succeeds, past it a 400 names
/// the field, and nothing is stored.
async fn field_sizes(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let kit = format!("{}/{}", s.kit(), room.app);
    let purl = format!("{kit}/meetings/{}/participants", room.meeting);
    let at = "a".repeat(256);
    let over = "é".repeat(257); // characters, not bytes, are counted
    let ok = s.post(&purl, json!({"custom_participant_id": at, "preset_name": "host", "name": at})).await;
    assert_eq!(ok.0, 201, "{}", ok.1);
    for (field, value) in [
        ("name", over.clone()),
        ("custom_participant_id", over.clone()),
        ("preset_name", over.clone()),
        ("picture", format!("https://x.example/{}", "p".repeat(2048))),
    ] {
        let mut body = json!({"custom_participant_id": "c-1", "preset_name": "host", "name": "n"});
        body[field] = value.into();
        let r = s.post(&purl, body).await;
        let (st, msg) = status_and_message(&r);
        assert_eq!(st, 400, "{field}: {}", r.1);
        assert!(msg.contains(&format!("\"{field}\" must be at most")), "{field}: {msg}");
    }
    let (_, v) = s.get(&purl).await;
    assert_eq!(v["data"].as_array().map(Vec::len), Some(1), "nothing past a limit was stored: {v}");
    let r = s.post(&format!("{kit}/meetings"), json!({"title": over})).await;
    assert_eq!(status_and_message(&r).0, 400, "{}", r.1);
    let r = s.post(&format!("{}/apps", s.kit()), json!({"name": over})).await;
    assert_eq!(status_and_message(&r).0, 400, "{}", r.1);
    let mut preset = crate::harness::preset_doc("p");
    preset["name"] = over.clone().into();
    let r = s.post(&format!("{kit}/presets"), preset).await;
    assert_eq!(status_and_message(&r).0, 400, "{}", r.1);
    // Polls and breakout rooms need a live session.
    let (_, t) = room.person(s, "host").await;
    let mut c = s.connect(&t).await;
    c.join().await;
    let active = format!("{kit}/meetings/{}/active-session", room.meeting);
    let poll = |q: String, options: Vec<String>| json!({"question": q, "options": options});
    let two = vec!["yes".to_string(), "no".to_string()];
    let r = s.post(&format!("{active}/poll"), poll("q?".into(), two.clone())).await;
    assert_eq!(r.0, 201, "{}", r.1);
    let r = s.post(&format!("{active}/poll"), poll("q".repeat(1001), two.clone())).await;
    assert_eq!(status_and_message(&r).0, 400, "{}", r.1);
    let r = s.post(&format!("{active}/poll"), poll("q?".into(), vec!["o".repeat(257), "b".into()])).await;
    assert!(status_and_message(&r).1.contains("options[0]"), "{}", r.1);
    let many: Vec<String> = (0..51).map(|i| i.to_string()).collect();
    let r = s.post(&format!("{active}/poll"), poll("q?".into(), many)).await;
    assert!(status_and_message(&r).1.contains("2 to 50"), "{}", r.1);
    let r = s.post(&format!("{active}/breakout-rooms"), json!({"rooms": [{"title": over}]})).await;
    assert!(status_and_message(&r).1.contains("rooms[0].title"), "{}", r.1);
    // Chat over the gateway: 4,000 characters at most.
    c.send(&ClientMessage::Chat { message: "x".repeat(4001) }).await;
    let e = c.wait_for(|e| matches!(e, ServerEvent::Error { .. })).await;
    assert!(matches!(e, ServerEvent::Error { ref code, .. } if code == "invalid_chat"), "{e:?}");
    c.leave().await;
}

/// A late joiner of a large meeting gets the peer list in pages, no frame larger for it.
async fn joined_is_paged(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (_, t) = room.person(s, "crowd").await;
    let n = PEER_PAGE * 2 + 50;
    let mut crowd = vec![];
    for _ in 0..n {
        let mut c = s.connect(&t).await;
        c.join().await;
        crowd.push(c);
    }
    let mut late = s.connect(&t).await;
    late.send(&ClientMessage::Join { device: None }).await;
    let ServerEvent::Joined { peers, peers_total, .. } =
        late.wait_for(|e| matches!(e, ServerEvent::Joined { .. })).await
    else {
        unreachable!()
    };
    assert_eq!((peers.len(), peers_total), (PEER_PAGE, n as u64));
    let mut all: Vec<String> = peers.into_iter().map(|p| p.peer_id).collect();
    loop {
        let ServerEvent::Peers { peers, last } =
            late.wait_for(|e| matches!(e, ServerEvent::Peers { .. })).await
        else {
            unreachable!()
        };
        assert!(peers.len() <= PEER_PAGE);
        all.extend(peers.into_iter().map(|p| p.peer_id));
        if last {
            break;
        }
    }
    let mut expected: Vec<String> = crowd.iter().map(|c| c.peer_id.clone().unwrap()).collect();
    all.sort();
    expected.sort();
    assert_eq!(all, expected, "every peer exactly once");
    for c in crowd {
        c.vanish();
    }
}

/// One participant token opens at most `max_connections_per_participant` connections; a
/// closed one frees its seat.
async fn connections_per_participant(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (_, t) = room.person(s, "greedy").await;
    let (_, other) = room.person(s, "other").await;
    let first = s.connect(&t).await;
    let _second = s.connect(&t).await;
    let mut third = crate::ws::Client::connect_raw(&s.gateway_url(&t)).await;
    let (code, reason) = third.closed_with().await;
    assert_eq!(code, close::TOO_MANY_CONNECTIONS, "{reason}");
    let _o = s.connect(&other).await; // another participant is not affected
    first.vanish();
    crate::ws::eventually("the closed connection frees its seat", || async {
        let mut c = crate::ws::Client::connect_raw(&s.gateway_url(&t)).await;
        matches!(c.next().await, crate::ws::Next::Event(ServerEvent::Hello { .. }))
    })
    .await;
}

/// Stored chat stops at the session's bound (1,200 on this server); the chat endpoint pages what is stored and the
/// CSV streams all of it, in order.
async fn chat_bounds(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (_, t) = room.person(s, "talker").await;
    let mut c = s.connect(&t).await;
    c.join().await;
    let sid = c.session_id.clone().unwrap();
    let peer = c.peer_id.clone().unwrap();
    // 1,199 through the engine (the gateway's rate limit would make this slow), then the
    // gateway to reach and pass the bound of 1,200.
    // The peer hears each one: it reads them in batches, as a slow client would be closed.
    for batch in (0..1199).collect::<Vec<_>>().chunks(500) {
        for i in batch {
            s.engine.chat(&peer, &format!("m{i:04}"), 1200).await.unwrap();
        }
        let last = format!("m{:04}", batch[batch.len() - 1]);
        c.wait_for(|e| matches!(e, ServerEvent::Chat { message, .. } if *message == last)).await;
    }
    c.send(&ClientMessage::Chat { message: "m1199".into() }).await;
    c.wait_for(|e| matches!(e, ServerEvent::Chat { ref message, .. } if message == "m1199")).await;
    c.send(&ClientMessage::Chat { message: "one too many".into() }).await;
    let e = c.wait_for(|e| matches!(e, ServerEvent::Error { .. })).await;
    assert!(matches!(e, ServerEvent::Error { ref code, .. } if code == "chat_limit"), "{e:?}");
    let url = format!("{}/{}/sessions/{sid}/chat", s.kit(), room.app);
    let (st, v) = s.get(&format!("{url}?per_page=100&page_no=12")).await;
    assert_eq!(st, 200, "{v}");
    let msgs = v["data"]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 100);
    assert_eq!((msgs[0]["message"].as_str(), msgs[99]["message"].as_str()), (Some("m1100"), Some("m1199")));
    assert_eq!(v["paging"]["total_count"], 1200, "{}", v["paging"]);
    let (_, v) = s.get(&url).await;
    assert_eq!(v["data"]["messages"].as_array().unwrap().len(), 20, "the default page");
    let (st, _) = s.get(&format!("{url}?per_page=1000")).await;
    assert_eq!(st, 400, "per_page is bounded as on every list");
    let link = v["data"]["chat_download_url"].as_str().unwrap();
    let csv = s.http.get(link).send().await.unwrap().text().await.unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1200, "the export streams every stored message across batches");
    for (i, r) in rows.iter().enumerate() {
        assert!(r.ends_with(&format!(",m{i:04}")), "row {i} out of order: {r}");
    }
    c.leave().await;
}

both!(fields, super::field_sizes);

/// Servers whose participants may hold many connections (one token stands for a crowd).
mod crowd {
    use crate::harness::{Db, TestServer};

    async fn run(db: Db) {
        let Some(s) = TestServer::start_with(db, |c| c.max_connections_per_participant = 1000).await else {
            return;
        };
        super::joined_is_paged(&s).await;
        s.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn joined_pages_sqlite() {
        run(Db::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    async fn joined_pages_postgres() {
        run(Db::Postgres).await;
    }
}

mod chat {
    use crate::harness::{Db, TestServer};

    async fn run(db: Db) {
        let Some(s) = TestServer::start_with(db, |c| c.max_chat_messages_per_session = 1200).await else {
            return;
        };
        super::chat_bounds(&s).await;
        s.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Db::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    async fn postgres() {
        run(Db::Postgres).await;
    }
}

mod seats {
    use crate::harness::{Db, TestServer};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let Some(s) = TestServer::start_with(Db::Sqlite, |c| c.max_connections_per_participant = 2).await
        else {
            return;
        };
        super::connections_per_participant(&s).await;
        s.stop().await;
    }
}
