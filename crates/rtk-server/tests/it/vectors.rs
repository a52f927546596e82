//! Replays every scenario of `vectors/sessions.json` (the executable form of the session
//! rules) through the engine on the injected clock, on SQLite and on PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rtk_server::engine::{Engine, EngineError};
use rtk_server::store::{AppRow, MeetingRow, ParticipantRow};
use rtk_server::{Clock, ManualClock, Store};
use serde_json::Value;

use crate::harness::{Db, TestDb, T0};

pub const VECTORS: &str = include_str!("../vectors/sessions.json");

/// The repository's copy must match the shared one when that is present.
#[test]
fn vectors_copy_is_current() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/sessions.json");
    if let Ok(text) = std::fs::read_to_string(shared) {
        let a: Value = serde_json::from_str(&text).unwrap();
        let b: Value = serde_json::from_str(VECTORS).unwrap();
        assert_eq!(a, b, "crates/rtk-server/tests/vectors/sessions.json is stale: copy {shared} over it");
    }
}

pub struct World {
    pub store: Store,
    pub clock: ManualClock,
    pub engine: Engine,
    pub meeting: MeetingRow,
    participants: HashMap<String, ParticipantRow>,
    peers: HashMap<String, String>,
    keepers: Keepers,
    _db: TestDb,
}

pub fn at(t: &Value) -> i64 {
    T0 + (t.as_f64().unwrap() * 1000.0).round() as i64
}

/// The peers whose clients keep them alive between the listed events (joined, and neither
/// left, dropped nor silent), with the time of their last message. A kept peer gets a
/// heartbeat one second before its timeout would run out, and no sooner, so the listed
/// events alone decide every other peer's last message.
#[derive(Default)]
pub struct Keepers {
    last: HashMap<String, i64>,
    timeout_ms: i64,
}

impl Keepers {
    pub fn new(heartbeat_secs: u64) -> Self {
        Self { last: HashMap::new(), timeout_ms: heartbeat_secs as i64 * 1000 }
    }

    /// The peer sent a message at `t` (join, beat, chat, resume): kept from now on.
    pub fn heard(&mut self, peer: &str, t: i64) {
        self.last.insert(peer.to_string(), t);
    }

    /// The peer leaves, drops or goes silent: its client no longer keeps it alive.
    pub fn forget(&mut self, peer: &str) {
        self.last.remove(peer);
    }

    pub fn forget_all(&mut self) {
        self.last.clear();
    }

    /// The next heartbeat a kept peer must send before the clock reaches `t` (not before
    /// `now`), if any.
    pub fn due(&self, now: i64, t: i64) -> Option<(i64, String)> {
        self.last
            .iter()
            .map(|(p, last)| ((last + self.timeout_ms - 1000).max(now), p.clone()))
            .filter(|(at, _)| *at < t)
            .min()
    }
}

impl World {
    pub async fn new(db: Db, keep_alive_secs: i64, heartbeat_secs: u64) -> Option<World> {
        let tdb = TestDb::new(db).await?;
        let store = Store::connect(&tdb.url).await.unwrap();
        let clock = ManualClock::new(T0);
        let engine = Engine::new(store.clone(), Arc::new(clock.clone()), Duration::from_secs(heartbeat_secs));
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
        let meeting = MeetingRow {
            id: "meeting".into(),
            app_id: "app".into(),
            title: Some("Vector meeting".into()),
            status: "ACTIVE".into(),
            keep_alive_secs,
            body: "{}".into(),
            parent_meeting_id: None,
            created_at: 0,
            updated_at: 0,
        };
        store.insert_meeting(&meeting).await.unwrap();
        Some(World {
            store,
            clock,
            engine,
            meeting,
            participants: HashMap::new(),
            peers: HashMap::new(),
            keepers: Keepers::new(heartbeat_secs),
            _db: tdb,
        })
    }

    async fn participant(&mut self, name: &str) -> ParticipantRow {
        if let Some(p) = self.participants.get(name) {
            return p.clone();
        }
        let p = ParticipantRow {
            id: format!("part-{name}"),
            meeting_id: self.meeting.id.clone(),
            app_id: "app".into(),
            custom_participant_id: name.into(),
            preset_id: "preset".into(),
            preset_name: "host".into(),
            name: Some(name.into()),
            picture: None,
            created_at: 0,
            updated_at: 0,
        };
        self.store.insert_participant(&p).await.unwrap();
        self.participants.insert(name.into(), p.clone());
        p
    }

    /// Moves the clock to `t` and applies what became due, with the heartbeats of the peers
    /// whose clients keep them alive on the way.
    pub async fn advance(&mut self, t: i64) {
        while let Some((at, peer)) = self.keepers.due(self.clock.now(), t) {
            self.clock.set(at);
            self.engine.tick().await.unwrap();
            assert!(self.engine.beat(&self.peers[&peer]).await.unwrap());
            self.keepers.heard(&peer, at);
        }
        self.clock.set(t);
        self.engine.tick().await.unwrap();
    }

    pub async fn apply(&mut self, ev: &Value, ctx: &str) {
        if let Some(peer) = ev["join"].as_str() {
            let who = ev["participant"].as_str().unwrap_or(peer).to_string();
            let part = self.participant(&who).await;
            let r = self.engine.join(&part, None).await;
            if ev["refused"] == true {
                assert!(
                    matches!(r, Err(EngineError::MeetingInactive(_))),
                    "{ctx}: join should be refused: {r:?}"
                );
            } else {
                let joined = r.unwrap_or_else(|e| panic!("{ctx}: join failed: {e}"));
                self.peers.insert(peer.into(), joined.peer.id);
                self.keepers.heard(peer, self.clock.now());
            }
        } else if let Some(peer) = ev["leave"].as_str() {
            let left = self.engine.leave(&self.peers[peer], "left").await.unwrap();
            assert!(left.is_some(), "{ctx}: {peer} was not live");
            self.keepers.forget(peer);
        } else if let Some(peer) = ev["beat"].as_str() {
            assert!(self.engine.beat(&self.peers[peer]).await.unwrap(), "{ctx}: beat from a gone peer");
            self.keepers.heard(peer, self.clock.now());
        } else if let Some(peer) = ev["chat"].as_str() {
            self.engine
                .chat(&self.peers[peer], "hello", 10_000)
                .await
                .unwrap_or_else(|e| panic!("{ctx}: chat: {e}"));
            self.keepers.heard(peer, self.clock.now());
        } else if let Some(peer) = ev["silent"].as_str() {
            self.keepers.forget(peer);
        } else if let Some(peer) = ev["drop"].as_str() {
            assert!(self.engine.drop_peer(&self.peers[peer]).await.unwrap(), "{ctx}: drop of a gone peer");
            self.keepers.forget(peer);
        } else if let Some(peer) = ev["resume"].as_str() {
            let pid = self.participants[ev["participant"].as_str().unwrap_or(peer)].id.clone();
            self.engine
                .resume(&self.peers[peer], &pid)
                .await
                .unwrap_or_else(|e| panic!("{ctx}: resume: {e}"));
            self.keepers.heard(peer, self.clock.now());
        } else if ev["kick_all"] == true {
            self.engine.kick_all(&self.meeting.id).await.unwrap();
            self.keepers.forget_all();
        } else if let Some(st) = ev["set_status"].as_str() {
            self.meeting.status = st.into();
            self.store.update_meeting(&self.meeting).await.unwrap();
        } else {
            panic!("{ctx}: unknown event {ev}");
        }
    }

    pub async fn check(&self, x: &Value, ctx: &str) {
        let now = self.clock.now();
        let sessions = self.store.meeting_sessions(&self.meeting.id).await.unwrap();
        if let Some(n) = x["sessions"].as_u64() {
            assert_eq!(sessions.len() as u64, n, "{ctx}: number of sessions");
        }
        let Some(k) = x["session"].as_u64() else { return };
        let s = &sessions[k as usize - 1];
        let st = s.state(now);
        if let Some(status) = x["status"].as_str() {
            assert_eq!(if st.live { "LIVE" } else { "ENDED" }, status, "{ctx}: status");
        }
        if let Some(v) = x["live"].as_i64() {
            assert_eq!(st.live_participants, v, "{ctx}: live");
        }
        if let Some(v) = x["max"].as_i64() {
            assert_eq!(s.max_live, v, "{ctx}: max");
        }
        if let Some(v) = x["minutes"].as_f64() {
            assert!((st.minutes_consumed - v).abs() < 1e-6, "{ctx}: minutes {} != {v}", st.minutes_consumed);
        }
        if !x["started_at"].is_null() {
            assert_eq!(s.started_at, at(&x["started_at"]), "{ctx}: started_at");
        }
        if !x["ended_at"].is_null() {
            assert_eq!(st.ended_at, Some(at(&x["ended_at"])), "{ctx}: ended_at");
        }
    }
}

/// Events and expectations in time order; at equal times, events first (in file order).
pub fn timeline(sc: &Value) -> Vec<(i64, bool, Value)> {
    let mut steps: Vec<(i64, bool, Value)> = vec![];
    for e in sc["events"].as_array().unwrap() {
        steps.push((at(&e["t"]), false, e.clone()));
    }
    for x in sc["expect"].as_array().unwrap() {
        steps.push((at(&x["t"]), true, x.clone()));
    }
    steps.sort_by_key(|(t, is_expect, _)| (*t, *is_expect));
    steps
}

async fn replay_all(db: Db) {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let defaults = &doc["defaults"];
    let mut ran = 0;
    for sc in doc["scenarios"].as_array().unwrap() {
        let name = sc["name"].as_str().unwrap();
        let keep = sc["keep_alive_secs"].as_i64().unwrap_or(defaults["keep_alive_secs"].as_i64().unwrap());
        let hb = sc["heartbeat_timeout_secs"]
            .as_u64()
            .unwrap_or(defaults["heartbeat_timeout_secs"].as_u64().unwrap());
        let Some(mut w) = World::new(db, keep, hb).await else { return };
        for (t, is_expect, step) in timeline(sc) {
            w.advance(t).await;
            let ctx = format!("{name} @ t={}", (t - T0) as f64 / 1000.0);
            if is_expect {
                w.check(&step, &ctx).await;
            } else {
                w.apply(&step, &ctx).await;
            }
        }
        ran += 1;
    }
    assert_eq!(ran, doc["scenarios"].as_array().unwrap().len());
}

#[tokio::test]
async fn vectors_sqlite() {
    replay_all(Db::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn vectors_postgres() {
    replay_all(Db::Postgres).await;
}

/// The same vectors through the gateway with real WebSocket clients, read back over HTTP.
mod through_the_gateway {
    use std::collections::HashMap;
    use std::time::Duration;

    use rtk_api::gateway::{close, ClientMessage, ServerEvent};
    use serde_json::{json, Value};

    use super::{at, timeline, Keepers, VECTORS};
    use crate::gateway::Room;
    use crate::harness::{Db, TestServer, T0};
    use crate::ws::{eventually, Client};
    use rtk_server::Clock;

    async fn replay(db: Db) {
        let doc: Value = serde_json::from_str(VECTORS).unwrap();
        let defaults = &doc["defaults"];
        for sc in doc["scenarios"].as_array().unwrap() {
            let name = sc["name"].as_str().unwrap();
            let keep =
                sc["keep_alive_secs"].as_i64().unwrap_or(defaults["keep_alive_secs"].as_i64().unwrap());
            let hb = sc["heartbeat_timeout_secs"]
                .as_u64()
                .unwrap_or(defaults["heartbeat_timeout_secs"].as_u64().unwrap());
            let Some(s) = TestServer::start_with(db, |c| c.heartbeat_timeout = Duration::from_secs(hb)).await
            else {
                return;
            };
            let room = Room::new(&s, json!({"title": name, "session_keep_alive_time_in_secs": keep})).await;
            let mut tokens: HashMap<String, String> = HashMap::new();
            let mut clients: HashMap<String, Client> = HashMap::new();
            let mut peer_ids: HashMap<String, String> = HashMap::new();
            let mut keepers = Keepers::new(hb);
            // Silent peers' clients: open, reading nothing, sending nothing.
            let mut silent: Vec<(String, Client)> = vec![];
            for (t, is_expect, step) in timeline(sc) {
                while let Some((at, peer)) = keepers.due(s.clock.now(), t) {
                    s.clock.set(at);
                    s.tick().await;
                    clients.get_mut(&peer).unwrap().ping().await;
                    keepers.heard(&peer, at);
                }
                s.clock.set(t);
                s.tick().await;
                let ctx = format!("{name} @ t={} (gateway)", (t - T0) as f64 / 1000.0);
                if is_expect {
                    check(&s, &room, &step, &ctx).await;
                    continue;
                }
                if let Some(peer) = step["join"].as_str() {
                    let who = step["participant"].as_str().unwrap_or(peer).to_string();
                    if !tokens.contains_key(&who) {
                        tokens.insert(who.clone(), room.person(&s, &who).await.1);
                    }
                    let mut c = s.connect(&tokens[&who]).await;
                    if step["refused"] == true {
                        c.send(&ClientMessage::Join { device: None }).await;
                        assert_eq!(c.closed().await, close::MEETING_INACTIVE, "{ctx}");
                    } else {
                        c.join().await;
                        peer_ids.insert(peer.into(), c.peer_id.clone().unwrap());
                        clients.insert(peer.into(), c);
                        keepers.heard(peer, t);
                    }
                } else if let Some(peer) = step["leave"].as_str() {
                    clients.remove(peer).unwrap().leave().await;
                    keepers.forget(peer);
                } else if let Some(peer) = step["beat"].as_str() {
                    clients.get_mut(peer).unwrap().ping().await;
                    keepers.heard(peer, t);
                } else if let Some(peer) = step["chat"].as_str() {
                    let c = clients.get_mut(peer).unwrap();
                    c.send(&ClientMessage::Chat { message: format!("hello from {peer}") }).await;
                    // The sender hears its own message once the server has carried it.
                    c.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
                    keepers.heard(peer, t);
                } else if let Some(peer) = step["silent"].as_str() {
                    silent.push((peer.to_string(), clients.remove(peer).unwrap()));
                    keepers.forget(peer);
                } else if let Some(peer) = step["drop"].as_str() {
                    keepers.forget(peer);
                    clients.remove(peer).unwrap().vanish();
                    let (store, id) = (s.store.clone(), peer_ids[peer].clone());
                    eventually("the drop is seen", || {
                        let (store, id) = (store.clone(), id.clone());
                        async move { store.peer(&id).await.unwrap().is_some_and(|p| !p.connected) }
                    })
                    .await;
                } else if let Some(peer) = step["resume"].as_str() {
                    let who = step["participant"].as_str().unwrap_or(peer);
                    let mut c = s.connect(&tokens[who]).await;
                    c.send(&ClientMessage::Resume { peer_id: peer_ids[peer].clone() }).await;
                    c.wait_for(|e| matches!(e, ServerEvent::Resumed { .. })).await;
                    clients.insert(peer.into(), c);
                    keepers.heard(peer, t);
                } else if step["kick_all"] == true {
                    keepers.forget_all();
                    let url =
                        format!("{}/{}/meetings/{}/active-session/kick-all", s.kit(), room.app, room.meeting);
                    let (st, v) = s.post(&url, json!(null)).await;
                    assert_eq!(st, 200, "{ctx}: {v}");
                    for (_, mut c) in clients.drain() {
                        assert_eq!(c.closed().await, close::KICKED, "{ctx}");
                    }
                } else if let Some(status) = step["set_status"].as_str() {
                    let url = format!("{}/{}/meetings/{}", s.kit(), room.app, room.meeting);
                    let (st, _) = s.call(reqwest::Method::PATCH, &url, Some(json!({"status": status}))).await;
                    assert_eq!(st, 200, "{ctx}");
                }
            }
            // A silent peer that timed out was told so with 4009 on its open connection, though
            // the others' chat reached it all along.
            for (peer, mut c) in silent {
                let gone = s.store.peer(&peer_ids[&peer]).await.unwrap().unwrap();
                if gone.leave_reason.as_deref() == Some("heartbeat_timeout") {
                    assert_eq!(c.closed().await, close::TIMEOUT, "{name}: silent {peer}");
                }
            }
            for (_, c) in clients.drain() {
                c.vanish();
            }
            s.stop().await;
        }
    }

    async fn check(s: &TestServer, room: &Room, x: &Value, ctx: &str) {
        let url = format!(
            "{}/{}/sessions?associated_id={}&sort_order=ASC&per_page=100",
            s.kit(),
            room.app,
            room.meeting
        );
        let (_, v) = s.get(&url).await;
        let sessions = v["data"]["sessions"].as_array().unwrap();
        if let Some(n) = x["sessions"].as_u64() {
            assert_eq!(sessions.len() as u64, n, "{ctx}: sessions");
        }
        let Some(k) = x["session"].as_u64() else { return };
        let id = sessions[k as usize - 1]["id"].as_str().unwrap();
        let d = room.details(s, id).await;
        if let Some(st) = x["status"].as_str() {
            assert_eq!(d["status"], st, "{ctx}: status");
        }
        if let Some(n) = x["live"].as_i64() {
            assert_eq!(d["live_participants"], n, "{ctx}: live");
        }
        if let Some(n) = x["max"].as_i64() {
            assert_eq!(d["max_concurrent_participants"], n, "{ctx}: max");
        }
        if let Some(m) = x["minutes"].as_f64() {
            assert!(
                (d["minutes_consumed"].as_f64().unwrap() - m).abs() < 1e-6,
                "{ctx}: minutes {}",
                d["minutes_consumed"]
            );
        }
        if !x["started_at"].is_null() {
            assert_eq!(
                d["started_at"],
                rtk_server::clock::rfc3339(at(&x["started_at"])),
                "{ctx}: started_at"
            );
        }
        if !x["ended_at"].is_null() {
            assert_eq!(d["ended_at"], rtk_server::clock::rfc3339(at(&x["ended_at"])), "{ctx}: ended_at");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn vectors_gateway_sqlite() {
        replay(Db::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    async fn vectors_gateway_postgres() {
        replay(Db::Postgres).await;
    }
}

/// Many participants joining one meeting at once: one session, exact counts (SQLite's group
/// commit batches them; on PostgreSQL concurrent first joins race on the one-LIVE index and
/// retry).
async fn concurrent_joins(db: Db) {
    let Some(mut w) = World::new(db, 60, 30).await else { return };
    let mut parts = vec![];
    for i in 0..60 {
        parts.push(w.participant(&format!("p{i}")).await);
    }
    let engine = w.engine.clone();
    let tasks: Vec<_> = parts
        .into_iter()
        .map(|p| {
            let e = engine.clone();
            tokio::spawn(async move { e.join(&p, None).await.map(|j| j.session.id) })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().expect("every join succeeds"));
    }
    assert_eq!(ids.len(), 1, "one session for all of them");
    let sessions = w.store.meeting_sessions(&w.meeting.id).await.unwrap();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!((s.live_count, s.max_live, s.peer_count), (60, 60, 60));
    w.clock.advance(60_000);
    assert!((s.state(w.clock.now()).minutes_consumed - 60.0).abs() < 1e-9);
    let _ = &mut w;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_joins_sqlite() {
    concurrent_joins(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn concurrent_joins_postgres() {
    concurrent_joins(Db::Postgres).await;
}
