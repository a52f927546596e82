//! The admin clock (`/_rtk/clock`): a server on a manual clock that a test moves over HTTP,
//! every rule that falls due applied before the call answers.

use reqwest::StatusCode;
use rtk_api::gateway::close;
use rtk_server::ManualClock;
use serde_json::{json, Value};

use crate::gateway::Room;
use crate::harness::{Db, TestServer, T0};
use crate::ws::Client;

const ADMIN: &str = "test-admin-token";

async fn start(db: Db) -> Option<TestServer> {
    TestServer::start_with(db, |c| {
        c.manual_clock = Some(ManualClock::new(T0));
        c.admin_token_hash = Some(rtk_server::auth::hash_token(ADMIN));
    })
    .await
}

impl TestServer {
    async fn clock(&self, path: &str, body: Option<Value>, token: Option<&str>) -> (StatusCode, Value) {
        let url = format!("{}/_rtk/clock{path}", self.root);
        let mut req = match &body {
            Some(b) => self.http.post(&url).json(b),
            None => self.http.get(&url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn advance_secs(&self, secs: f64) -> Value {
        let (st, v) = self.clock("/advance", Some(json!({"seconds": secs})), Some(ADMIN)).await;
        assert_eq!(st, 200, "{v}");
        v["data"].clone()
    }
}

fn at(ms: i64) -> String {
    rtk_server::clock::rfc3339(ms)
}

/// On the system clock there is no admin clock, whatever the token.
#[tokio::test]
async fn absent_on_the_system_clock() {
    let Some(s) = TestServer::start(Db::Sqlite).await else { return };
    for (path, body) in [("", None), ("/advance", Some(json!({"seconds": 1})))] {
        let (st, v) = s.clock(path, body, Some(&s.token.clone())).await;
        assert_eq!(st, 404, "{v}");
        assert_eq!(v["success"], false);
    }
    s.stop().await;
}

/// Only the admin token moves the clock: no token, a wrong one or an API token is a 401.
async fn admin_token_only(s: &TestServer) {
    for token in [None, Some("nope"), Some(s.token.as_str())] {
        let (st, v) = s.clock("/advance", Some(json!({"seconds": 5})), token).await;
        assert_eq!(st, 401, "{token:?}: {v}");
    }
    let (st, v) = s.clock("", None, Some(ADMIN)).await;
    assert_eq!((st.as_u16(), v["data"]["now"].clone()), (200, json!(at(T0))), "{v}");
    // Bad moves are 400s and move nothing.
    for body in [json!({"seconds": -1}), json!({}), json!({"seconds": "ten"}), json!({"seconds": 1e300})] {
        let (st, v) = s.clock("/advance", Some(body.clone()), Some(ADMIN)).await;
        assert_eq!(st, 400, "{body}: {v}");
    }
    let (st, v) = s.clock("/set", Some(json!({"time": at(T0 - 1000)})), Some(ADMIN)).await;
    assert_eq!(st, 400, "never backwards: {v}");
    let (st, v) = s.clock("/set", Some(json!({"time": at(T0 + 5000)})), Some(ADMIN)).await;
    assert_eq!((st.as_u16(), v["data"]["now"].clone()), (200, json!(at(T0 + 5000))), "{v}");
}

/// A session with a 60 s keep-alive and a 30 s heartbeat timeout runs its whole course in two
/// calls: a dropped peer leaves when its timeout runs out (at the drop), the session ends 60 s
/// after that, each with its exact time, and the call that crossed it reports what it applied.
async fn keep_alive_and_heartbeat_in_two_calls(s: &TestServer) {
    let room = Room::new(s, json!({"session_keep_alive_time_in_secs": 60})).await;
    let (_, t) = room.person(s, "a").await;
    let mut c = s.connect(&t).await;
    c.join().await;
    let sid = c.session_id.clone().unwrap();
    // Open connections are kept alive through a move: 10 s of presence.
    s.advance_secs(10.0).await;
    let d = room.details(s, &sid).await;
    assert_eq!(d["live_participants"], 1);
    assert!((d["minutes_consumed"].as_f64().unwrap() - 10.0 / 60.0).abs() < 1e-9, "{d}");
    let peer = c.peer_id.clone().unwrap();
    c.vanish();
    crate::ws::eventually("the drop is seen", || async {
        s.store.peer(&peer).await.unwrap().is_some_and(|p| !p.connected)
    })
    .await;
    // 30 s after its last message (the move's beat at +10 s) it leaves, at the drop.
    let applied = s.advance_secs(30.0).await;
    assert_eq!(applied["applied"], json!({"timed_out": 1, "ended": 0}), "{applied}");
    let d = room.details(s, &sid).await;
    assert_eq!((d["status"].as_str(), d["live_participants"].as_i64()), (Some("LIVE"), Some(0)));
    // The keep-alive runs out 60 s after that leave, well inside this move.
    let applied = s.advance_secs(600.0).await;
    assert_eq!(applied["applied"], json!({"timed_out": 0, "ended": 1}), "{applied}");
    let d = room.details(s, &sid).await;
    assert_eq!(d["status"], "ENDED");
    assert_eq!(d["ended_at"], json!(at(T0 + 10_000)));
    assert!((d["minutes_consumed"].as_f64().unwrap() - 10.0 / 60.0).abs() < 1e-9, "{d}");
}

/// A connected peer stays through a long move and accrues all of it.
async fn connected_peers_are_kept_alive(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (_, t) = room.person(s, "b").await;
    let mut c = s.connect(&t).await;
    c.join().await;
    let sid = c.session_id.clone().unwrap();
    let start = s.store.peer(c.peer_id.as_deref().unwrap()).await.unwrap().unwrap().joined_at;
    s.advance_secs(3600.0).await;
    let d = room.details(s, &sid).await;
    assert_eq!(d["live_participants"], 1);
    let want = (rtk_server::Clock::now(&s.clock) - start) as f64 / 60_000.0;
    assert!((d["minutes_consumed"].as_f64().unwrap() - want).abs() < 1e-9, "{d}");
    c.ping().await;
    c.leave().await;
}

/// Moving past a participant token's 100 days makes the gateway refuse it as expired.
async fn tokens_expire_on_the_moved_clock(s: &TestServer) {
    let room = Room::new(s, json!({})).await;
    let (_, t) = room.person(s, "c").await;
    s.connect(&t).await; // valid now
    s.advance_secs(100.0 * 86_400.0 + 1.0).await;
    let mut c = Client::connect_raw(&s.gateway_url(&t)).await;
    assert_eq!(c.closed().await, close::TOKEN_EXPIRED);
}

async fn run(
    db: Db,
    f: for<'a> fn(&'a TestServer) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>,
) {
    let Some(s) = start(db).await else { return };
    f(&s).await;
    s.stop().await;
}

macro_rules! on_both {
    ($name:ident, $f:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::run(crate::harness::Db::Sqlite, |s| Box::pin(super::$f(s))).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(rtk_no_pg, ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set")]
            async fn postgres() {
                super::run(crate::harness::Db::Postgres, |s| Box::pin(super::$f(s))).await;
            }
        }
    };
}

on_both!(auth, admin_token_only);
on_both!(course, keep_alive_and_heartbeat_in_two_calls);
on_both!(kept_alive, connected_peers_are_kept_alive);
on_both!(expiry, tokens_expire_on_the_moved_clock);

/// `POST /_rtk/reset` leaves nothing apps made — in the API, in the tables, in the caches — and
/// keeps the credentials: the same API token works on the empty store at once.
async fn reset_leaves_nothing_behind(s: &TestServer) {
    let room = Room::new(s, json!({"title": "before the reset"})).await;
    let (_, t) = room.person(s, "a").await;
    let mut c = s.connect(&t).await;
    c.join().await;
    let sid = c.session_id.clone().unwrap();
    c.send(&rtk_api::gateway::ClientMessage::Chat { message: "hello".into() }).await;
    c.wait_for(|e| matches!(e, rtk_api::gateway::ServerEvent::Chat { .. })).await;
    assert_eq!(room.details(s, &sid).await["live_participants"], 1); // warms the caches
    let (st, _) = s.clock("", None, None).await;
    assert_eq!(st, 401);
    let url = format!("{}/_rtk/reset", s.root);
    let r = s.http.post(&url).bearer_auth(&s.token).send().await.unwrap();
    assert_eq!(r.status(), 401, "an API token cannot reset");
    let r = s.http.post(&url).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The connected peer is told its session is gone.
    assert_eq!(c.closed().await, close::SESSION_ENDED);
    // Nothing through the API …
    let (st, v) = s.get(&format!("{}/apps", s.kit())).await;
    assert_eq!(st, 200, "the API token still works");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(0), "{v}");
    let (st, _) = s.get(&room.session_url(s, &sid)).await;
    assert_eq!(st, 404, "no session, not even from a cache");
    let (st, _) = s.get(&format!("{}/{}/meetings/{}", s.kit(), room.app, room.meeting)).await;
    assert_eq!(st, 404);
    // … nor in any table; the credentials are kept.
    assert_app_tables_empty(s).await;
    // And the store works on: a new room, a new session.
    let room = Room::new(s, json!({})).await;
    let (_, t) = room.person(s, "b").await;
    let mut c = s.connect(&t).await;
    c.join().await;
    assert_eq!(room.details(s, c.session_id.as_deref().unwrap()).await["live_participants"], 1);
    c.leave().await;
}

on_both!(reset, reset_leaves_nothing_behind);

/// No row of anything apps make is left in the store; the credentials are.
async fn assert_app_tables_empty(s: &TestServer) {
    for t in [
        "apps",
        "presets",
        "meetings",
        "participants",
        "sessions",
        "peers",
        "chat_messages",
        "chat_counters",
        "polls",
        "app_counters",
    ] {
        assert_eq!(s.db.count(t).await, 0, "{t} is empty after a reset");
    }
    assert!(s.db.count("api_tokens").await >= 1, "credentials are kept");
}

/// With the system clock and no admin token there is no reset either.
#[tokio::test]
async fn no_reset_without_an_admin_token() {
    let Some(s) = TestServer::start(Db::Sqlite).await else { return };
    let r = s.http.post(format!("{}/_rtk/reset", s.root)).bearer_auth(&s.token).send().await.unwrap();
    assert_eq!(r.status(), 404);
    s.stop().await;
}

/// Property: after any sequence of API calls (apps, presets, meetings, participants, joins,
/// leaves, chat, kick-all), `POST /_rtk/reset` leaves no row behind, and the same sequence
/// replayed after it gives the same answers as it did on the fresh store (no counter, cache or
/// uniqueness residue from before).
mod reset_property {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::{json, Value};

    use super::{start, ADMIN};
    use crate::harness::{Db, TestServer};

    #[derive(Debug, Clone)]
    enum Op {
        App,
        Preset(usize),
        Meeting(usize),
        Participant(usize),
        Join(usize),
        Leave(usize),
        Chat(usize),
        KickAll(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            1 => Just(Op::App),
            1 => any::<usize>().prop_map(Op::Preset),
            2 => any::<usize>().prop_map(Op::Meeting),
            2 => any::<usize>().prop_map(Op::Participant),
            3 => any::<usize>().prop_map(Op::Join),
            2 => any::<usize>().prop_map(Op::Leave),
            1 => any::<usize>().prop_map(Op::Chat),
            1 => any::<usize>().prop_map(Op::KickAll),
        ]
    }

    /// Runs `ops`; what every call answered (status and the id-free part of the body).
    async fn replay(s: &TestServer, ops: &[Op]) -> Vec<String> {
        let mut apps: Vec<String> = vec![];
        let mut meetings: Vec<(String, String)> = vec![];
        let mut parts: Vec<String> = vec![];
        let mut peers: Vec<String> = vec![];
        let mut log = vec![];
        for (i, o) in ops.iter().enumerate() {
            let pick = |v: usize, n: usize| (n > 0).then(|| v % n);
            match o {
                Op::App => apps.push(s.app(&format!("app-{i}")).await),
                Op::Preset(k) => {
                    if let Some(a) = pick(*k, apps.len()) {
                        let (st, _) = s
                            .post(
                                &format!("{}/{}/presets", s.kit(), apps[a]),
                                crate::harness::preset_doc("host"),
                            )
                            .await;
                        log.push(format!("preset {st}"));
                    }
                }
                Op::Meeting(k) => {
                    if let Some(a) = pick(*k, apps.len()) {
                        let m = s.meeting(&apps[a], json!({"title": format!("m-{i}")})).await;
                        meetings.push((apps[a].clone(), m));
                    }
                }
                Op::Participant(k) => {
                    if let Some(m) = pick(*k, meetings.len()) {
                        let (app, meeting) = &meetings[m];
                        let url = format!("{}/{app}/meetings/{meeting}/participants", s.kit());
                        let (st, v) = s
                            .post(
                                &url,
                                json!({"custom_participant_id": format!("c-{i}"), "preset_name": "host"}),
                            )
                            .await;
                        log.push(format!("participant {st}"));
                        if st == 201 {
                            parts.push(v["data"]["id"].as_str().unwrap().to_string());
                        }
                    }
                }
                Op::Join(k) => {
                    if let Some(p) = pick(*k, parts.len()) {
                        let row = s.store.participant_by_id(&parts[p]).await.unwrap().unwrap();
                        let j = s.engine.join(&row, None).await.unwrap();
                        log.push(format!("join started={}", j.started));
                        peers.push(j.peer.id);
                    }
                }
                Op::Leave(k) => {
                    if let Some(p) = pick(*k, peers.len()) {
                        let left = s.engine.leave(&peers.remove(p), "left").await.unwrap();
                        log.push(format!("leave {}", left.is_some()));
                    }
                }
                Op::Chat(k) => {
                    if let Some(p) = pick(*k, peers.len()) {
                        log.push(format!("chat {}", s.engine.chat(&peers[p], "hi", 10).await.is_ok()));
                    }
                }
                Op::KickAll(k) => {
                    if let Some(m) = pick(*k, meetings.len()) {
                        let (app, meeting) = &meetings[m];
                        let url = format!("{}/{app}/meetings/{meeting}/active-session/kick-all", s.kit());
                        let (st, _) = s.post(&url, json!(null)).await;
                        log.push(format!("kick-all {st}"));
                    }
                }
            }
            s.clock.advance(1_000);
        }
        // What the API shows at the end, without ids.
        for app in &apps {
            let (_, v) = s.get(&format!("{}/{app}/sessions?sort_order=ASC&per_page=100", s.kit())).await;
            let sessions: Vec<Value> = v["data"]["sessions"].as_array().cloned().unwrap_or_default();
            for x in sessions {
                log.push(format!(
                    "session {} live={} max={} minutes={}",
                    x["status"],
                    x["live_participants"],
                    x["max_concurrent_participants"],
                    x["minutes_consumed"]
                ));
            }
            let (_, v) = s.get(&format!("{}/{app}/meetings", s.kit())).await;
            log.push(format!("meetings {}", v["paging"]["total_count"]));
        }
        log
    }

    async fn reset(s: &TestServer) {
        let r = s.http.post(format!("{}/_rtk/reset", s.root)).bearer_auth(ADMIN).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }

    fn run(db: Db, cases: u32) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let Some(s) = rt.block_on(start(db)) else { return };
        let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        runner
            .run(&prop::collection::vec(op(), 1..30), |ops| {
                rt.block_on(async {
                    reset(&s).await;
                    let first = replay(&s, &ops).await;
                    reset(&s).await;
                    super::assert_app_tables_empty(&s).await;
                    let again = replay(&s, &ops).await;
                    assert_eq!(first, again, "the same calls after a reset answer the same");
                });
                Ok(())
            })
            .unwrap();
        rt.block_on(s.stop());
    }

    #[test]
    fn sqlite() {
        run(Db::Sqlite, 24);
    }

    #[test]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    fn postgres() {
        run(Db::Postgres, 8);
    }
}

/// An admin token alone does not make a production server resettable: that takes a manual
/// clock or `enable_reset`.
#[tokio::test]
async fn reset_needs_a_test_environment() {
    for (enable, want) in [(false, 404), (true, 200)] {
        let Some(s) = TestServer::start_with(Db::Sqlite, |c| {
            c.admin_token_hash = Some(rtk_server::auth::hash_token(ADMIN));
            c.enable_reset = enable;
        })
        .await
        else {
            return;
        };
        let r = s.http.post(format!("{}/_rtk/reset", s.root)).bearer_auth(ADMIN).send().await.unwrap();
        assert_eq!(r.status(), want, "enable_reset = {enable}");
        s.stop().await;
    }
}
