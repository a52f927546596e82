//! Property: a page of a session's peers read from the indexes (`Store::session_peers_page`,
//! what the participants list serves) is exactly the page of the brute-force ordering — every
//! peer sorted by `(join time | presence at now, id)`, reversed for descending, then skipped
//! and taken — for random mixes of connected, dropped and departed peers with many ties.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rtk_server::store::{PeerOrder, PeerRow, SessionRow};
use rtk_server::Store;

use crate::harness::{Db, TestDb};

/// What becomes of a peer: still connected, dropped (presence fixed at its drop), left
/// (fixed at its leave), or left after a drop (fixed at the drop).
#[derive(Debug, Clone, Copy)]
enum Fate {
    Connected,
    Dropped(i64),
    Left(i64),
    LeftDropped(i64),
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        2 => Just(Fate::Connected),
        1 => (0i64..45).prop_map(Fate::Dropped),
        1 => (0i64..45).prop_map(Fate::Left),
        1 => (0i64..45).prop_map(Fate::LeftDropped),
    ]
}

/// Peers as (join offset, fate, id key): small ranges, so times and durations tie often.
fn peers() -> impl Strategy<Value = Vec<(i64, Fate, u16)>> {
    prop::collection::vec((0i64..8, fate(), any::<u16>()), 0..30)
}

const T: i64 = 1_000_000;
/// The moment pages are read at: a connected peer's presence is NOW - joined_at, which ties
/// with the fixed presence of others.
const NOW: i64 = T + 30;

fn session(id: &str, n: usize) -> SessionRow {
    SessionRow {
        id: id.into(),
        app_id: "app".into(),
        seq: 0,
        meeting_id: format!("m-{id}"),
        meeting_title: None,
        parent_session_id: None,
        status: "LIVE".into(),
        keep_alive_ms: 60_000,
        started_at: T,
        ended_at: None,
        created_at: T,
        updated_at: T,
        live_count: 0,
        max_live: 0,
        peer_count: n as i64,
        closed_ms: 0,
        live_join_sum: 0,
        last_leave_at: None,
        ends_at: None,
        dropped_count: 0,
        meta: "{}".into(),
    }
}

fn peer(sid: &str, i: usize, (off, fate, key): (i64, Fate, u16)) -> PeerRow {
    let joined = T + off;
    let (left_at, dropped_at) = match fate {
        Fate::Connected => (None, None),
        Fate::Dropped(d) => (None, Some(joined + d)),
        Fate::Left(d) => (Some(joined + d), None),
        Fate::LeftDropped(d) => (Some(joined + d), Some(joined + d)),
    };
    PeerRow {
        // Ids sort independently of join order.
        id: format!("{sid}-{key:05}-{i:02}"),
        session_id: sid.into(),
        meeting_id: format!("m-{sid}"),
        participant_id: format!("p{i}"),
        custom_participant_id: format!("c{i}"),
        display_name: None,
        preset_name: "host".into(),
        device: None,
        joined_at: joined,
        left_at,
        last_seen_at: joined,
        leave_reason: left_at.map(|_| "left".into()),
        connected: dropped_at.is_none(),
        node_id: None,
        created_at: joined,
        updated_at: joined,
        dropped_at,
    }
}

fn brute(all: &[PeerRow], order: PeerOrder, desc: bool, limit: i64, offset: i64) -> Vec<String> {
    let mut v: Vec<&PeerRow> = all.iter().collect();
    v.sort_by_key(|p| {
        let k = match order {
            PeerOrder::JoinedAt => p.joined_at,
            PeerOrder::Duration => p.presence_ms(NOW),
        };
        (k, p.id.clone())
    });
    if desc {
        v.reverse();
    }
    v.into_iter().skip(offset as usize).take(limit as usize).map(|p| p.id.clone()).collect()
}

fn run(db: Db, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let Some((tdb, store)) = rt.block_on(async {
        let tdb = TestDb::new(db).await?;
        let store = Store::connect(&tdb.url).await.unwrap();
        Some((tdb, store))
    }) else {
        return;
    };
    let counter = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&peers(), |spec| {
            let n = counter.get();
            counter.set(n + 1);
            rt.block_on(check(&store, n, &spec));
            Ok(())
        })
        .unwrap();
    drop(tdb);
}

async fn check(store: &Store, n: usize, spec: &[(i64, Fate, u16)]) {
    let sid = format!("s{n}");
    // Another session's peers must never show up.
    let other = format!("s{n}-other");
    store.import_sessions(&[session(&sid, spec.len()), session(&other, 1)]).await.unwrap();
    let all: Vec<PeerRow> = spec.iter().enumerate().map(|(i, p)| peer(&sid, i, *p)).collect();
    store.import_peers(&all).await.unwrap();
    store.import_peers(&[peer(&other, 0, (0, Fate::Connected, 0))]).await.unwrap();
    let len = all.len() as i64;
    for order in [PeerOrder::JoinedAt, PeerOrder::Duration] {
        for desc in [false, true] {
            // Every page boundary: pages of 1, 2 and 3 from every offset, and one page of all.
            let pages =
                [1, 2, 3].into_iter().flat_map(|l| (0..=len + 1).map(move |o| (l, o))).chain([(len + 1, 0)]);
            for (limit, offset) in pages {
                let got: Vec<String> = store
                    .session_peers_page(&sid, order, desc, NOW, limit, offset)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|p| p.id)
                    .collect();
                assert_eq!(
                    got,
                    brute(&all, order, desc, limit, offset),
                    "{order:?} desc={desc} limit={limit} offset={offset} peers={spec:?}"
                );
            }
        }
    }
}

#[test]
fn pages_match_brute_force_sqlite() {
    run(Db::Sqlite, 64);
}

#[test]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
fn pages_match_brute_force_postgres() {
    run(Db::Postgres, 24);
}
