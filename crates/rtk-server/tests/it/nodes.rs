//! Several nodes on one PostgreSQL database (docs/deployment.md): every action reaches a peer
//! on whichever node it is connected, every event reaches the session's peers on every node
//! (the bus), and a node that stops renewing its lease has its peers ended by another at their
//! last heartbeat (leases), exactly, on the shared manual clock.

use rtk_api::gateway::{close, ClientMessage, ServerEvent};
use serde_json::json;

use crate::gateway::Room;
use crate::harness::{at, Db, TestServer};

async fn two_nodes() -> Option<(TestServer, TestServer)> {
    let a = TestServer::start(Db::Postgres).await?;
    let b = a.another_node().await;
    Some((a, b))
}

/// Peers of one meeting on two nodes: joins, chat (one too large for a NOTIFY payload too),
/// mute, poll, kick, participant deletion and kick-all sent to one node reach the peers on the
/// other, and the numbers are those of one node.
async fn actions_reach_peers_on_every_node(a: &TestServer, b: &TestServer) {
    let room = Room::new(a, json!({})).await;
    let (_, t1) = room.person(a, "one").await;
    let (p2, t2) = room.person(a, "two").await;
    let (_, t3) = room.person(a, "three").await;
    let mut one = a.connect(&t1).await;
    one.join().await;
    let mut two = b.connect(&t2).await;
    two.join().await;
    // The join on b is heard on a.
    let e = one.wait_for(|e| matches!(e, ServerEvent::PeerJoined { .. })).await;
    let ServerEvent::PeerJoined { peer } = e else { unreachable!() };
    assert_eq!(peer.peer_id, two.peer_id.clone().unwrap());
    let sid = one.session_id.clone().unwrap();
    assert_eq!(two.session_id.as_deref(), Some(sid.as_str()), "one session across the nodes");

    // Chat from b reaches a, a message of 8,000 bytes as well (stored beside the NOTIFY).
    for text in ["hello from b".to_string(), "é".repeat(4000)] {
        two.send(&ClientMessage::Chat { message: text.clone() }).await;
        let e = one.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
        let ServerEvent::Chat { message, .. } = e else { unreachable!() };
        assert_eq!(message, text);
    }

    let base = |s: &TestServer| format!("{}/{}/meetings/{}/active-session", s.kit(), room.app, room.meeting);
    // Mute sent to a for the peer on b.
    let (st, v) = a.post(&format!("{}/mute", base(a)), json!({"custom_participant_ids": ["two"]})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        two.wait_for(|e| matches!(e, ServerEvent::Muted { .. })).await,
        ServerEvent::Muted { by: "host".into() }
    );
    // A poll sent to b reaches the peer on a.
    let (st, v) =
        b.post(&format!("{}/poll", base(b)), json!({"question": "Lunch?", "options": ["yes", "no"]})).await;
    assert_eq!(st, 201, "{v}");
    let e = one.wait_for(|e| matches!(e, ServerEvent::PollCreated { .. })).await;
    let ServerEvent::PollCreated { poll } = e else { unreachable!() };
    assert_eq!(poll["question"], "Lunch?");

    // A kick sent to a for the peer on b: it is told and closed; a's peer sees it leave.
    a.clock.advance(6_000);
    let (st, v) = a.post(&format!("{}/kick", base(a)), json!({"participant_ids": [p2]})).await;
    assert_eq!(st, 200, "{v}");
    two.wait_for(|e| matches!(e, ServerEvent::Kicked { .. })).await;
    assert_eq!(two.closed().await, close::KICKED);
    let e = one.wait_for(|e| matches!(e, ServerEvent::PeerLeft { .. })).await;
    assert!(matches!(e, ServerEvent::PeerLeft { ref reason, .. } if reason == "kicked"));

    // Deleting a participant through a closes its connection on b with 4003.
    let mut three = b.connect(&t3).await;
    three.join().await;
    one.wait_for(|e| matches!(e, ServerEvent::PeerJoined { .. })).await;
    let three_id = {
        let (_, v) = a.get(&format!("{}/{}/meetings/{}/participants", a.kit(), room.app, room.meeting)).await;
        v["data"].as_array().unwrap().iter().find(|p| p["custom_participant_id"] == "three").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (st, v) = a
        .call(
            reqwest::Method::DELETE,
            &format!("{}/{}/meetings/{}/participants/{three_id}", a.kit(), room.app, room.meeting),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(three.closed().await, close::PARTICIPANT_REVOKED);

    // kick-all through b ends the session for the peer on a.
    let (_, t4) = room.person(a, "four").await;
    let mut four = b.connect(&t4).await;
    four.join().await;
    a.clock.advance(4_000);
    let (st, v) = b.post(&format!("{}/kick-all", base(b)), json!(null)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["kicked_participants_count"], 2);
    for cl in [&mut one, &mut four] {
        cl.wait_for(|e| matches!(e, ServerEvent::SessionEnded { .. })).await;
        assert_eq!(cl.closed().await, close::KICKED);
    }
    // Read from either node: the same exact numbers (one: 10 s, two: 6 s, three: 0 s at 6 s
    // and deleted then, four: 4 s).
    for s in [a, b] {
        let d = room.details(s, &sid).await;
        assert_eq!(d["status"], "ENDED");
        assert_eq!(d["ended_at"], at(10_000));
        assert_eq!(d["live_participants"], 0);
        assert_eq!(d["max_concurrent_participants"], 2);
        assert!((d["minutes_consumed"].as_f64().unwrap() - 20.0 / 60.0).abs() < 1e-9, "{d}");
    }
}

/// A breakout move sent to one node for a peer connected to the other: its connection is
/// rebound there and works in the room's session.
async fn breakout_moves_reach_peers_on_every_node(a: &TestServer, b: &TestServer) {
    let room = Room::new(a, json!({"title": "All hands"})).await;
    let (_, tx) = room.person(a, "x").await;
    let (py, ty) = room.person(a, "y").await;
    let mut x = a.connect(&tx).await;
    x.join().await;
    let mut y = b.connect(&ty).await;
    y.join().await;
    let main = x.session_id.clone().unwrap();
    let active = format!("{}/{}/meetings/{}/active-session", a.kit(), room.app, room.meeting);
    let (st, v) = a.post(&format!("{active}/breakout-rooms"), json!({"rooms": [{"title": "R1"}]})).await;
    assert_eq!(st, 201, "{v}");
    let r1 = v["data"]["breakout_rooms"][0]["id"].as_str().unwrap().to_string();
    let (st, v) = a
        .post(&format!("{active}/breakout-rooms/move"), json!({"participant_ids": [py], "to_meeting_id": r1}))
        .await;
    assert_eq!(st, 200, "{v}");
    let child = v["data"]["moved"][0]["session_id"].as_str().unwrap().to_string();
    let e = y.wait_for(|e| matches!(e, ServerEvent::Moved { .. })).await;
    let ServerEvent::Moved { meeting_id, session_id, .. } = e else { unreachable!() };
    assert_eq!((meeting_id.as_str(), session_id.as_str()), (r1.as_str(), child.as_str()));
    let e = x.wait_for(|e| matches!(e, ServerEvent::PeerLeft { .. })).await;
    assert!(matches!(e, ServerEvent::PeerLeft { ref reason, .. } if reason == "moved"));
    // y's connection on b now speaks for its new peer, in the room's session.
    y.send(&ClientMessage::Chat { message: "in the room".into() }).await;
    y.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    let (_, v) = a.get(&format!("{}/chat", room.session_url(a, &child))).await;
    assert_eq!(v["data"]["messages"][0]["message"], "in the room", "{v}");
    assert_eq!(room.details(a, &main).await["live_participants"], 1);
    assert_eq!(room.details(b, &child).await["live_participants"], 1);
}

/// A node that stops renewing its lease (dead, or cut from the database while it still holds
/// its sockets): at the lease's end the other node ends its peers at their last heartbeat,
/// its session's other peers hear it, and when the node comes back it finds its lease taken
/// over, closes those connections and does not bring the peers back.
async fn a_silent_nodes_peers_leave_at_their_last_heartbeat(a: &TestServer, b: &TestServer) {
    let (room, mut one, mut two, sid) = one_on_each(a, b).await;
    // Both nodes live for 3 s; b's peer's last heartbeat is at 3 s, recorded by b's tick.
    a.clock.advance(3_000);
    one.ping().await;
    two.ping().await;
    a.tick().await;
    b.tick().await;
    // From now on b does nothing (no tick: no renewal, no flush); its socket stays open.
    let lease = rtk_server::engine::DEFAULT_LEASE.as_millis() as i64;
    a.clock.advance(lease - 1);
    one.ping().await;
    a.tick().await;
    assert_eq!(room.details(a, &sid).await["live_participants"], 2, "b's lease has not run out yet");
    a.clock.advance(2);
    one.ping().await;
    a.tick().await;
    let e = one.wait_for(|e| matches!(e, ServerEvent::PeerLeft { .. })).await;
    assert!(matches!(e, ServerEvent::PeerLeft { ref peer_id, ref reason }
        if Some(peer_id) == two.peer_id.as_ref() && reason == "heartbeat_timeout"));
    let d = room.details(a, &sid).await;
    assert_eq!(d["live_participants"], 1, "{d}");
    let gone = session_peer(a, &room, &sid, "two").await;
    assert_eq!(gone["left_at"], at(3_000), "left at its last heartbeat: {gone}");
    // b still listens on the bus here, so it closed the connection as told (4009). Cut from
    // the database it would not hear that: it finds its lease taken over at its next tick and
    // closes every connection it holds then (1001: connect again).
    assert_eq!(two.closed().await, close::TIMEOUT);
    b.tick().await;
    let still = session_peer(b, &room, &sid, "two").await;
    assert_eq!(still["left_at"], at(3_000), "{still}");
    // b takes joins again under its new lease, and its peers are heard on a.
    let (_, t3) = room.person(a, "three").await;
    let mut three = b.connect(&t3).await;
    three.join().await;
    one.wait_for(|e| matches!(e, ServerEvent::PeerJoined { .. })).await;
    assert_eq!(room.details(b, &sid).await["live_participants"], 2);
    // Fencing on its own: another node takes b's lease over while b still holds a connection
    // it heard nothing about; b's next tick closes it (1001: connect again).
    let b_node = std::fs::read_to_string(b.db.dir.path().join("node-id")).unwrap();
    a.db.exec(&[format!("UPDATE nodes SET epoch = epoch + 1 WHERE id = '{}'", b_node.trim())]).await;
    b.tick().await;
    assert!(!closed_yet(&mut three).await, "a lease is renewed every fifth of it, not at every tick");
    a.clock.advance(lease / 5);
    b.tick().await;
    assert_eq!(three.closed().await, close::GOING_AWAY);
    // one: 15.001 s; two: 3 s; three: 2 s (from its join to the close, where it dropped).
    one.leave().await;
    let d = room.details(a, &sid).await;
    let expect = (15_001.0 + 3_000.0 + 2_000.0) / 60_000.0;
    assert!((d["minutes_consumed"].as_f64().unwrap() - expect).abs() < 1e-9, "{d}");
}

/// The database away for longer than a lease (no node could renew): when it is back, no node
/// takes the others for dead at once; each gets a whole lease to renew. A node that then stays
/// silent is taken over as usual.
async fn an_outage_of_the_database_is_no_death(a: &TestServer, b: &TestServer) {
    let (room, mut one, mut two, sid) = one_on_each(a, b).await;
    let lease = rtk_server::engine::DEFAULT_LEASE.as_millis() as i64;
    // 2.5 leases with no tick anywhere (within the heartbeat timeout); a comes back first.
    a.clock.advance(lease * 5 / 2);
    one.ping().await;
    two.ping().await;
    a.tick().await;
    assert_eq!(room.details(a, &sid).await["live_participants"], 2, "b was not taken for dead");
    b.tick().await;
    assert!(!closed_yet(&mut two).await, "b kept its lease and its connection");
    // From here b stays silent (a ticks on): once b's lease has run out and a has held its
    // own for a whole lease again, b is taken over.
    for step in [lease / 2, lease / 2, 1_000] {
        a.clock.advance(step);
        one.ping().await;
        a.tick().await;
    }
    assert_eq!(room.details(a, &sid).await["live_participants"], 1);
    let gone = session_peer(a, &room, &sid, "two").await;
    assert_eq!(gone["left_at"], at(lease * 5 / 2), "at its last heartbeat: {gone}");
}

/// A node whose lease renewals fail (here: its table is gone for a while) refuses joins once
/// its lease has run out, since another node may be ending its peers; renewed again, it takes
/// them.
async fn a_node_that_cannot_renew_refuses_joins(a: &TestServer, b: &TestServer) {
    let (room, _one, _two, _sid) = one_on_each(a, b).await;
    let lease = rtk_server::engine::DEFAULT_LEASE.as_millis() as i64;
    a.db.exec(&["ALTER TABLE nodes RENAME TO nodes_away".to_string()]).await;
    a.clock.advance(lease / 2);
    assert!(b.engine.tick().await.is_err(), "the renewal fails");
    // Within its lease it still takes joins.
    let (_, t3) = room.person(a, "three").await;
    let mut three = b.connect(&t3).await;
    three.join().await;
    a.clock.advance(lease / 2 + 1);
    let (_, t4) = room.person(a, "four").await;
    let mut four = b.connect(&t4).await;
    four.send(&ClientMessage::Join { device: None }).await;
    let e = four.wait_for(|e| matches!(e, ServerEvent::Error { .. })).await;
    assert!(matches!(e, ServerEvent::Error { ref code, .. } if code == "join_failed"), "{e:?}");
    // The table is back: the next tick renews (the lease was not taken over) and joins work.
    a.db.exec(&["ALTER TABLE nodes_away RENAME TO nodes".to_string()]).await;
    b.tick().await;
    let mut four = b.connect(&t4).await;
    four.join().await;
}

/// A session whose only peer was on a node that died ends, after its keep-alive, at that
/// peer's last heartbeat, as seen from the surviving node.
async fn a_dead_nodes_last_peer_ends_its_session(a: &TestServer, b: &TestServer) {
    let room = Room::new(a, json!({})).await;
    let (_, t) = room.person(a, "only").await;
    let mut only = b.connect(&t).await;
    only.join().await;
    let sid = only.session_id.clone().unwrap();
    a.clock.advance(4_000);
    only.ping().await;
    b.tick().await;
    // b goes silent; a ticks on, second by second, until the lease and then the keep-alive
    // (60 s by default) have passed.
    for _ in 0..80 {
        a.clock.advance(1_000);
        a.tick().await;
    }
    let d = room.details(a, &sid).await;
    assert_eq!((d["status"].as_str(), d["live_participants"].as_i64()), (Some("ENDED"), Some(0)), "{d}");
    assert_eq!(d["ended_at"], at(4_000), "ended at its last peer's last heartbeat: {d}");
    assert!((d["minutes_consumed"].as_f64().unwrap() - 4.0 / 60.0).abs() < 1e-9, "{d}");
    assert_eq!(room.details(b, &sid).await["status"], "ENDED", "the same from the silent node");
}

/// A room with peer "one" joined on `a` and "two" on `b`; the session's id.
async fn one_on_each(a: &TestServer, b: &TestServer) -> (Room, crate::ws::Client, crate::ws::Client, String) {
    let room = Room::new(a, json!({})).await;
    let (_, t1) = room.person(a, "one").await;
    let (_, t2) = room.person(a, "two").await;
    let mut one = a.connect(&t1).await;
    one.join().await;
    let mut two = b.connect(&t2).await;
    two.join().await;
    let sid = one.session_id.clone().unwrap();
    (room, one, two, sid)
}

/// The session participant (peer) of custom participant id `cpid`, read through `s`.
async fn session_peer(s: &TestServer, room: &Room, sid: &str, cpid: &str) -> serde_json::Value {
    let (_, peers) = s.get(&format!("{}/participants", room.session_url(s, sid))).await;
    let found =
        peers["data"]["participants"].as_array().unwrap().iter().find(|p| p["custom_participant_id"] == cpid);
    found.cloned().unwrap_or_else(|| panic!("no peer {cpid} in {peers}"))
}

/// True if `c`'s connection has closed; a ping answered proves it is open.
async fn closed_yet(c: &mut crate::ws::Client) -> bool {
    c.send(&ClientMessage::Ping { ts: Some(9) }).await;
    loop {
        match c.next().await {
            crate::ws::Next::Event(ServerEvent::Pong { ts: Some(9) }) => return false,
            crate::ws::Next::Event(_) => continue,
            crate::ws::Next::Closed(..) => return true,
        }
    }
}

macro_rules! on_two_nodes {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[cfg_attr(
            rtk_no_pg,
            ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
        )]
        async fn $name() {
            if let Some((a, b)) = super::two_nodes().await {
                super::$name(&a, &b).await;
                b.stop().await;
                a.stop().await;
            }
        }
    };
}

mod postgres {
    on_two_nodes!(actions_reach_peers_on_every_node);
    on_two_nodes!(a_silent_nodes_peers_leave_at_their_last_heartbeat);
    on_two_nodes!(breakout_moves_reach_peers_on_every_node);
    on_two_nodes!(an_outage_of_the_database_is_no_death);
    on_two_nodes!(a_node_that_cannot_renew_refuses_joins);
    on_two_nodes!(a_dead_nodes_last_peer_ends_its_session);
}
