//! Property: for random join / leave / drop / resume / beat / kick-all sequences on the
//! injected clock, the O(1) aggregates kept by the engine equal a brute-force recomputation
//! from the stored presence intervals, and `minutes_consumed` never decreases between two
//! reads (connected peers' clients keep them alive, as real clients do: no peer goes silent
//! on an open connection, the one case where a read may be lower than the one before).

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rtk_server::engine::Engine;
use rtk_server::store::{AppRow, MeetingRow, ParticipantRow, PeerRow, SessionRow};
use rtk_server::{Clock, ManualClock, Store};

use crate::harness::{Db, TestDb, T0};

#[derive(Debug, Clone)]
enum Act {
    Join(usize),
    Leave(usize),
    Drop(usize),
    Resume(usize),
    Beat(usize),
    KickAll,
    Idle,
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        4 => (0usize..4).prop_map(Act::Join),
        3 => any::<usize>().prop_map(Act::Leave),
        2 => any::<usize>().prop_map(Act::Drop),
        2 => any::<usize>().prop_map(Act::Resume),
        2 => any::<usize>().prop_map(Act::Beat),
        1 => Just(Act::KickAll),
        2 => Just(Act::Idle),
    ]
}

/// Each step first advances the clock (1 ms to 50 s), so no two actions share a time.
fn steps() -> impl Strategy<Value = Vec<(i64, Act)>> {
    prop::collection::vec((1i64..50_000, act()), 1..40)
}

struct Case {
    store: Store,
    clock: ManualClock,
    engine: Engine,
    meeting: String,
    participants: Vec<ParticipantRow>,
    /// The last presence read per session.
    seen: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

async fn case(store: &Store, n: usize) -> Case {
    let meeting = format!("m{n}");
    let keep = [0i64, 20, 60][n % 3];
    store
        .insert_meeting(&MeetingRow {
            id: meeting.clone(),
            app_id: "app".into(),
            title: None,
            status: "ACTIVE".into(),
            keep_alive_secs: keep,
            body: "{}".into(),
            parent_meeting_id: None,
            created_at: 0,
            updated_at: 0,
        })
        .await
        .unwrap();
    let mut participants = vec![];
    for k in 0..4 {
        let p = ParticipantRow {
            id: format!("{meeting}-p{k}"),
            meeting_id: meeting.clone(),
            app_id: "app".into(),
            custom_participant_id: format!("c{k}"),
            preset_id: "x".into(),
            preset_name: "host".into(),
            name: None,
            picture: None,
            created_at: 0,
            updated_at: 0,
        };
        store.insert_participant(&p).await.unwrap();
        participants.push(p);
    }
    let clock = ManualClock::new(T0);
    let engine = Engine::new(store.clone(), Arc::new(clock.clone()), Duration::from_secs(30));
    Case { store: store.clone(), clock, engine, meeting, participants, seen: Default::default() }
}

fn pick(peers: &[PeerRow], i: usize, f: impl Fn(&PeerRow) -> bool) -> Option<&PeerRow> {
    let c: Vec<&PeerRow> = peers.iter().filter(|p| f(p)).collect();
    (!c.is_empty()).then(|| c[i % c.len()])
}

impl Case {
    async fn run(&self, steps: &[(i64, Act)]) {
        for (dt, a) in steps {
            // Connected peers' clients beat at least every 20 s on the way.
            let mut left = *dt;
            while left > 0 {
                let step = left.min(20_000);
                left -= step;
                self.clock.advance(step);
                for p in self.all_peers().await.iter().filter(|p| p.left_at.is_none() && p.connected) {
                    self.engine.beat(&p.id).await.unwrap();
                }
                self.engine.tick().await.unwrap();
                self.check().await;
            }
            let all = self.all_peers().await;
            match a {
                Act::Join(k) => {
                    self.engine.join(&self.participants[*k], None).await.unwrap();
                }
                Act::Leave(i) => {
                    if let Some(p) = pick(&all, *i, |p| p.left_at.is_none()) {
                        assert!(self.engine.leave(&p.id, "left").await.unwrap().is_some());
                    }
                }
                Act::Drop(i) => {
                    if let Some(p) = pick(&all, *i, |p| p.left_at.is_none() && p.connected) {
                        assert!(self.engine.drop_peer(&p.id).await.unwrap());
                    }
                }
                Act::Resume(i) => {
                    if let Some(p) = pick(&all, *i, |p| p.left_at.is_none() && !p.connected) {
                        self.engine.resume(&p.id, &p.participant_id).await.unwrap();
                    }
                }
                Act::Beat(i) => {
                    if let Some(p) = pick(&all, *i, |p| p.left_at.is_none() && p.connected) {
                        assert!(self.engine.beat(&p.id).await.unwrap());
                    }
                }
                Act::KickAll => {
                    let _ = self.engine.kick_all(&self.meeting).await;
                }
                Act::Idle => {}
            }
            self.check().await;
        }
    }

    async fn all_peers(&self) -> Vec<PeerRow> {
        let ids: Vec<String> =
            self.store.meeting_sessions(&self.meeting).await.unwrap().into_iter().map(|s| s.id).collect();
        self.store.session_peers(&ids).await.unwrap()
    }

    async fn check(&self) {
        let now = self.clock.now();
        let sessions = self.store.meeting_sessions(&self.meeting).await.unwrap();
        let live: Vec<&SessionRow> = sessions.iter().filter(|s| s.state(now).live).collect();
        assert!(live.len() <= 1, "at most one live session");
        for s in &sessions {
            let peers = self.store.session_peers(std::slice::from_ref(&s.id)).await.unwrap();
            let open = peers.iter().filter(|p| p.left_at.is_none()).count() as i64;
            assert_eq!(s.live_count, open, "live_count");
            assert_eq!(s.peer_count, peers.len() as i64, "peer_count");
            let brute: i64 = peers.iter().map(|p| p.presence_ms(now)).sum();
            assert_eq!(s.presence_ms(now), brute, "participant-milliseconds");
            let dropped = peers.iter().filter(|p| p.left_at.is_none() && !p.connected).count() as i64;
            assert_eq!(s.dropped_count, dropped, "dropped_count");
            let before = self.seen.lock().unwrap().insert(s.id.clone(), s.presence_ms(now));
            if let Some(before) = before {
                assert!(s.presence_ms(now) >= before, "minutes fell from {before} to {}", s.presence_ms(now));
            }
            // The peak: a peer counts from its join until its leave was recorded (a dropped
            // peer is counted until its timeout, though its presence ends at its last message).
            let mut ev: Vec<(i64, i32)> = vec![];
            for p in &peers {
                ev.push((p.joined_at, 1));
                if p.left_at.is_some() {
                    ev.push((p.updated_at, -1));
                }
            }
            ev.sort();
            let (mut cur, mut peak) = (0i64, 0i64);
            for (_, d) in ev {
                cur += d as i64;
                peak = peak.max(cur);
            }
            assert_eq!(s.max_live, peak, "max_concurrent_participants");
            if s.status == "LIVE" && s.live_count == 0 {
                let last = peers.iter().filter_map(|p| p.left_at).max();
                assert_eq!(s.last_leave_at, last);
                assert_eq!(s.ends_at, last.map(|l| l + s.keep_alive_ms), "keep-alive deadline");
            }
            if s.status == "ENDED" {
                assert_eq!(open, 0);
                assert!(s.ended_at.is_some());
            }
        }
    }
}

fn run(db: Db, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let Some((tdb, store)) = rt.block_on(async {
        let tdb = TestDb::new(db).await?;
        let store = Store::connect(&tdb.url).await.unwrap();
        store.create_account("acc", 0).await.unwrap();
        store
            .insert_app(&AppRow {
                id: "app".into(),
                account_id: "acc".into(),
                name: "a".into(),
                created_at: 0,
            })
            .await
            .unwrap();
        Some((tdb, store))
    }) else {
        return;
    };
    let counter = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&steps(), |steps| {
            let n = counter.get();
            counter.set(n + 1);
            rt.block_on(async {
                let c = case(&store, n).await;
                c.run(&steps).await;
            });
            Ok(())
        })
        .unwrap();
    drop(tdb);
}

#[test]
fn aggregates_match_brute_force_sqlite() {
    run(Db::Sqlite, 64);
}

#[test]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
fn aggregates_match_brute_force_postgres() {
    run(Db::Postgres, 24);
}
