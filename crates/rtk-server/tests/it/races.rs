//! Races between a peer's connections, the reaper and node recovery: each must leave the
//! session's accounting exact and never end or freeze a peer that is live elsewhere.

use std::sync::Arc;
use std::time::Duration;

use rtk_api::gateway::{ClientMessage, ServerEvent};
use rtk_server::engine::{Engine, EngineError};
use rtk_server::store::{AppRow, MeetingRow, ParticipantRow};
use rtk_server::{Clock, ManualClock, Store};
use serde_json::json;

use crate::gateway::Room;
use crate::harness::{Db, TestDb, TestServer, T0};

/// A peer resumed on a new connection while its old one was still open: when the old one
/// then breaks, it must not mark the (now resumed) peer dropped. Repeated, since which of the
/// old connection's events the server sees first (the replacement notice or the broken socket)
/// is up to the scheduler.
async fn stale_connection_leaves_a_resumed_peer_alone(db: Db) {
    let Some(s) = TestServer::start(db).await else { return };
    let room = Room::new(&s, json!({})).await;
    let (_, t) = room.person(&s, "a").await;
    for _ in 0..10 {
        let mut old = s.connect(&t).await;
        old.join().await;
        let peer = old.peer_id.clone().unwrap();
        let mut new = s.connect(&t).await;
        new.send(&ClientMessage::Resume { peer_id: peer.clone() }).await;
        new.wait_for(|e| matches!(e, ServerEvent::Resumed { .. })).await;
        old.vanish();
        // The new connection still works and the peer is connected, not dropped.
        new.ping().await;
        crate::ws::eventually("the server has ended the old connection", || async {
            s.state.connections.count() == 1
        })
        .await;
        let p = s.store.peer(&peer).await.unwrap().unwrap();
        assert!(p.connected && p.dropped_at.is_none() && p.left_at.is_none(), "{p:?}");
        new.leave().await;
    }
    s.stop().await;
}

struct World {
    store: Store,
    clock: ManualClock,
    part: ParticipantRow,
    _db: TestDb,
}

async fn world(db: Db) -> Option<World> {
    let tdb = TestDb::new(db).await?;
    let store = Store::connect(&tdb.url).await.unwrap();
    store.create_account("acc", 0).await.unwrap();
    store
        .insert_app(&AppRow { id: "app".into(), account_id: "acc".into(), name: "a".into(), created_at: 0 })
        .await
        .unwrap();
    store
        .insert_meeting(&MeetingRow {
            id: "m".into(),
            app_id: "app".into(),
            title: None,
            status: "ACTIVE".into(),
            keep_alive_secs: 60,
            body: "{}".into(),
            parent_meeting_id: None,
            created_at: 0,
            updated_at: 0,
        })
        .await
        .unwrap();
    let part = ParticipantRow {
        id: "p".into(),
        meeting_id: "m".into(),
        app_id: "app".into(),
        custom_participant_id: "c".into(),
        preset_id: "x".into(),
        preset_name: "host".into(),
        name: None,
        picture: None,
        created_at: 0,
        updated_at: 0,
    };
    store.insert_participant(&part).await.unwrap();
    Some(World { store, clock: ManualClock::new(T0), part, _db: tdb })
}

impl World {
    fn engine(&self, node: &str) -> Engine {
        Engine::new(self.store.clone(), Arc::new(self.clock.clone()), Duration::from_secs(30))
            .with_node_id(node)
    }
}

/// A dropped peer past its heartbeat timeout cannot resume, even before the reaper ended it.
async fn no_resume_after_the_timeout(db: Db) {
    let Some(w) = world(db).await else { return };
    let e = w.engine("n1");
    let j = e.join(&w.part, None).await.unwrap();
    w.clock.advance(5_000);
    assert!(e.drop_peer(&j.peer.id).await.unwrap());
    w.clock.advance(30_000); // last message at 0: the timeout ran out at 30 s
    let r = e.resume(&j.peer.id, &w.part.id).await;
    assert!(matches!(r, Err(EngineError::PeerGone(_))), "{r:?}");
    // Within the timeout it still can (a fresh peer).
    let j2 = e.join(&w.part, None).await.unwrap();
    w.clock.advance(1_000);
    e.drop_peer(&j2.peer.id).await.unwrap();
    w.clock.advance(20_000);
    e.resume(&j2.peer.id, &w.part.id).await.unwrap();
}

/// The reaper decides on a reading; a heartbeat recorded after that reading keeps the peer.
async fn a_later_heartbeat_wins_over_the_reaper(db: Db) {
    let Some(w) = world(db).await else { return };
    let e = w.engine("n1");
    let j = e.join(&w.part, None).await.unwrap();
    w.clock.advance(40_000);
    // The reaper read the peer as silent since T0 (cutoff T0 + 10 s) ...
    let stale: Vec<_> = w.store.silent_peers(T0 + 10_000).await.unwrap();
    assert_eq!(stale.len(), 1);
    // ... but a beat is written before it acts.
    e.beat(&j.peer.id).await.unwrap();
    e.flush_beats().await.unwrap();
    let out = w.store.time_out_peer(&j.peer.id, 0, T0 + 10_000, w.clock.now() + 1).await.unwrap();
    assert!(out.is_none(), "a peer heard from after the reading is not timed out");
    assert!(w.store.peer(&j.peer.id).await.unwrap().unwrap().left_at.is_none());
}

/// A node that restarts marks its peers dropped at their last message; a peer of it that
/// another node took over (resumed there) is left alone, and the aggregates stay exact.
async fn recovery_counts_only_its_own_peers(db: Db) {
    let Some(w) = world(db).await else { return };
    let n1 = w.engine("n1");
    let a = n1.join(&w.part, None).await.unwrap();
    w.clock.advance(2_000);
    let b = n1.join(&w.part, None).await.unwrap();
    w.clock.advance(3_000);
    n1.beat(&a.peer.id).await.unwrap();
    n1.flush_beats().await.unwrap(); // a last heard at +5 s
                                     // b's connection moves to node 2 (resumed there).
    let n2 = w.engine("n2");
    n2.drop_peer(&b.peer.id).await.unwrap(); // not n2's: nothing happens
    assert!(w.store.peer(&b.peer.id).await.unwrap().unwrap().connected);
    n1.drop_peer(&b.peer.id).await.unwrap();
    w.clock.advance(1_000);
    n2.resume(&b.peer.id, &w.part.id).await.unwrap();
    w.clock.advance(4_000); // +10 s
                            // Node 1 restarts: only a is its own.
    assert_eq!(w.engine("n1").recover().await.unwrap(), 1);
    let s = w.store.session("app", &a.session.id).await.unwrap().unwrap();
    assert_eq!((s.live_count, s.dropped_count), (2, 1));
    let now = w.clock.now();
    let peers = w.store.session_peers(std::slice::from_ref(&s.id)).await.unwrap();
    let brute: i64 = peers.iter().map(|p| p.presence_ms(now)).sum();
    assert_eq!(s.presence_ms(now), brute);
    // a: join to its last message (5 s); b: continuous from +2 s to now (8 s).
    assert_eq!(brute, 5_000 + 8_000);
}

macro_rules! on_both {
    ($name:ident, $f:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$f(crate::harness::Db::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(rtk_no_pg, ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set")]
            async fn postgres() {
                super::$f(crate::harness::Db::Postgres).await;
            }
        }
    };
}

on_both!(stale_connection, stale_connection_leaves_a_resumed_peer_alone);
on_both!(late_resume, no_resume_after_the_timeout);
on_both!(reaper_reading, a_later_heartbeat_wins_over_the_reaper);
on_both!(recovery, recovery_counts_only_its_own_peers);
