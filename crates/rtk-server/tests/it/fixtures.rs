//! Fixtures (docs/fixtures.md): histories replayed live through the engine, exported, and
//! imported into another server read back identically over HTTP; the aggregates of imported
//! sessions are the live ones; export → import → export is byte-identical; errors are precise
//! and write nothing; `serve --fixtures` applies them and a reset returns to them.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use rtk_server::fixtures::{self, FixtureError, FixtureSet};
use rtk_server::{Config, ManualClock, Server, Store};
use serde_json::{json, Value};

use crate::harness::{preset_doc, Db, TestDb, TestServer, T0};

/// A fixture for the live side: the harness's account, an app, a preset, a meeting with a
/// breakout room, and four participants.
fn setup(account: &str) -> Value {
    let mut preset = preset_doc("host");
    preset["id"] = "preset-host".into();
    preset["app_id"] = "app1".into();
    json!({
        "rtk_fixtures": 1,
        "apps": [{"id": "app1", "account_id": account, "name": "fixtures app", "created_at": "2025-12-01T00:00:00Z"}],
        "presets": [preset],
        "meetings": [
            {"id": "abcdef-ghijkl", "app_id": "app1", "title": "Standup"},
            {"id": "room-1", "app_id": "app1", "parent_meeting_id": "abcdef-ghijkl", "title": "Breakout"}
        ],
        "participants": [
            {"id": "p-0", "meeting_id": "abcdef-ghijkl", "preset_name": "host", "name": "Ann"},
            {"id": "p-1", "meeting_id": "abcdef-ghijkl", "preset_name": "host", "name": "Ben"},
            {"id": "p-2", "meeting_id": "abcdef-ghijkl", "preset_name": "host"},
            {"id": "p-3", "meeting_id": "abcdef-ghijkl", "preset_name": "host", "name": "Dee", "custom_participant_id": "dee"}
        ]
    })
}

fn set_of(v: &Value) -> FixtureSet {
    FixtureSet::parse("fixtures.json", &serde_json::to_vec(v).unwrap()).expect("the fixture parses")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Leave,
    Join,
    Chat,
    /// The leave of a peer that joined at the same millisecond: after its join.
    LeaveAtOnce,
}

/// Replays a random history through the engine on the manual clock: peers of random
/// participants join the meeting (or its breakout room) and leave at random times (ties:
/// leaves first, but a peer's own join before its leave), some chat, some sessions end by
/// kick-all.
async fn replay_random(s: &TestServer, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let start = T0 + 3_600_000;
    let peers = rng.gen_range(1..9);
    // (time, event, peer index)
    let mut events = vec![];
    let mut plan = vec![];
    for i in 0..peers {
        // Whole seconds make ties (a join at the very moment of a leave) common.
        let joined = start + rng.gen_range(0..240) * 1000;
        let left = joined + rng.gen_range(0..120) * 1000;
        let participant = format!("p-{}", rng.gen_range(0..4));
        let room = if rng.gen_bool(0.25) { "room-1" } else { "abcdef-ghijkl" };
        events.push((joined, Ev::Join, i));
        events.push((left, if left == joined { Ev::LeaveAtOnce } else { Ev::Leave }, i));
        if left - joined > 2 && rng.gen_bool(0.5) {
            events.push((rng.gen_range(joined + 1..left), Ev::Chat, i));
        }
        plan.push((participant, room));
    }
    events.sort();
    let kick_at = rng.gen_bool(0.3).then(|| events[events.len() / 2].0);
    s.clock.set(start);
    let mut kicked = false;
    let mut peer_ids: Vec<Option<String>> = vec![None; peers];
    for (t, ev, i) in events {
        // Time moves in steps of at most 10 s, every connected peer sending its heartbeat at
        // each (as clients do), and what falls due on the way (keep-alive ends) is applied as
        // the live server's reaper would.
        while rtk_server::Clock::now(&s.clock) < t {
            s.clock.set(t.min(rtk_server::Clock::now(&s.clock) + 10_000));
            for id in peer_ids.iter().flatten() {
                let _ = s.engine.beat(id).await;
            }
            s.tick().await;
        }
        if kick_at.is_some_and(|k| !kicked && t >= k) {
            kicked = true;
            let _ = s.engine.kick_all("abcdef-ghijkl").await;
        }
        let (participant, room) = &plan[i];
        match ev {
            Ev::Join => {
                let p = s.store.participant_by_id(participant).await.unwrap().unwrap();
                let j = s.engine.join_meeting(&p, room, Some(&json!({"os": "linux", "n": i}))).await.unwrap();
                peer_ids[i] = Some(j.peer.id);
            }
            Ev::Leave | Ev::LeaveAtOnce => {
                if let Some(id) = &peer_ids[i] {
                    s.engine.leave(id, "left").await.unwrap();
                }
            }
            Ev::Chat => {
                if let Some(id) = &peer_ids[i] {
                    // A kicked peer can no longer chat.
                    let _ =
                        s.engine.chat(id, &format!("message {i}, \"quoted\", with a comma"), 10_000).await;
                }
            }
        }
    }
    // Everything ends: past every keep-alive.
    s.advance(3_600_000).await;
}

/// Every read of the app's history: the sessions list, each session's details (with its
/// breakout rooms), participants (raw and consolidated), each participant, the chat page
/// and its CSV export.
async fn reads(s: &TestServer, account: &str, token: &str) -> Vec<(String, Value)> {
    let kit = format!("{}/client/v4/accounts/{account}/realtime/kit/app1", s.root);
    let get = |url: String| {
        let http = s.http.clone();
        let token = token.to_string();
        async move {
            let r = http.get(&url).bearer_auth(&token).send().await.unwrap();
            let st = r.status();
            let v: Value = r.json().await.unwrap();
            assert_eq!(st, StatusCode::OK, "{url}: {v}");
            v
        }
    };
    let mut out = vec![];
    let list = get(format!("{kit}/sessions?per_page=100")).await;
    out.push(("list".to_string(), list.clone()));
    let ended =
        get(format!("{kit}/sessions?status=ENDED&per_page=100&sort_by=minutesConsumed&sort_order=DESC"))
            .await;
    out.push(("list ended, by minutes".to_string(), ended));
    // Day-wise analytics over the history's days (the replay and the import start at T0).
    let days = format!(
        "{kit}/analytics/daywise?start_date={}&end_date={}",
        &rtk_server::clock::rfc3339(T0 - 86_400_000)[..10],
        &rtk_server::clock::rfc3339(T0 + 3 * 86_400_000)[..10]
    );
    out.push(("analytics daywise".to_string(), get(days).await));
    for sess in list["data"]["sessions"].as_array().unwrap() {
        let id = sess["id"].as_str().unwrap();
        for q in ["", "?include_breakout_rooms=true"] {
            out.push((format!("{id} details{q}"), get(format!("{kit}/sessions/{id}{q}")).await));
        }
        for view in ["raw", "consolidated"] {
            let v = get(format!(
                "{kit}/sessions/{id}/participants?view={view}&include_peer_events=true&per_page=100"
            ))
            .await;
            if view == "raw" {
                for p in v["data"]["participants"].as_array().unwrap() {
                    let pid = p["id"].as_str().unwrap();
                    let one =
                        get(format!("{kit}/sessions/{id}/participants/{pid}?include_peer_events=true")).await;
                    out.push((format!("{id} participant {pid}"), one));
                }
            }
            out.push((format!("{id} participants {view}"), v));
        }
        let mut chat = get(format!("{kit}/sessions/{id}/chat?per_page=100")).await;
        let url = chat["data"]["chat_download_url"].as_str().unwrap().to_string();
        let csv = s.http.get(&url).send().await.unwrap().text().await.unwrap();
        // The link is signed by each server's own key.
        chat["data"]["chat_download_url"] = Value::Null;
        out.push((format!("{id} chat"), chat));
        out.push((format!("{id} chat csv"), Value::String(csv)));
    }
    out
}

/// An empty store in a fresh database of the same backend.
async fn empty_store(db: Db) -> (TestDb, Store) {
    let t = TestDb::new(db).await.expect("database");
    let s = Store::connect(&t.url).await.expect("store");
    (t, s)
}

async fn history_reads_back_as_live(s: &TestServer) {
    let db = if s.store.backend() == rtk_server::store::Backend::Sqlite { Db::Sqlite } else { Db::Postgres };
    for seed in 0..6u64 {
        // A: the history happens live.
        let live = TestServer::start(db).await.unwrap();
        set_of(&setup(&live.account)).apply(&live.store).await.unwrap();
        replay_random(&live, seed).await;
        let now = rtk_server::Clock::now(&live.clock);
        let (export, still_live) = fixtures::export(&live.store, now).await.unwrap();
        assert_eq!(still_live, 0);
        assert!(!export.sessions.is_empty(), "seed {seed}: the replay made sessions");
        let bytes = export.to_bytes();

        // B (the server under test here): the export imported; read with A's credentials.
        s.state.engine.reset().await.unwrap();
        s.state.forget_apps();
        s.clock.set(now.max(rtk_server::Clock::now(&s.clock)));
        let imported = FixtureSet::parse("export.json", &bytes).unwrap().apply(&s.store).await.unwrap();
        assert!(imported.inserted.contains_key("sessions"), "{imported:?}");
        s.clock.set(now);
        let a = reads(&live, &live.account, &live.token).await;
        let b = reads(s, &live.account, &live.token).await;
        assert_eq!(a.len(), b.len());
        for ((what, x), (_, y)) in a.iter().zip(&b) {
            assert_eq!(x, y, "seed {seed}: {what} differs between the live history and its import");
        }

        // Export → import into an empty store → export: the same bytes.
        let (_t, empty) = empty_store(db).await;
        FixtureSet::parse("export.json", &bytes).unwrap().apply(&empty).await.unwrap();
        let again = fixtures::export(&empty, now).await.unwrap().0.to_bytes();
        assert_eq!(String::from_utf8_lossy(&again), String::from_utf8_lossy(&bytes), "seed {seed}");
        // And applying it again changes nothing.
        let twice = FixtureSet::parse("export.json", &bytes).unwrap().apply(&empty).await.unwrap();
        assert!(twice.inserted.is_empty(), "{twice:?}");
        live.stop().await;
        // Leave B with its own credentials for the next round.
        s.store.reset_keeping_credentials().await.unwrap();
    }
}
crate::both!(history_reads_back_as_live_t, super::history_reads_back_as_live);

/// A canonical file (as `rtk export` writes it) imports and exports byte for byte.
fn canonical() -> Vec<u8> {
    include_bytes!("../../../../docs/examples/fixtures.json").to_vec()
}

async fn canonical_round_trip(s: &TestServer) {
    let db = if s.store.backend() == rtk_server::store::Backend::Sqlite { Db::Sqlite } else { Db::Postgres };
    let (_t, store) = empty_store(db).await;
    let applied = FixtureSet::parse("canonical.json", &canonical()).unwrap().apply(&store).await.unwrap();
    assert_eq!(applied.inserted.get("sessions"), Some(&2), "{applied:?}");
    let out = fixtures::export(&store, T0).await.unwrap().0.to_bytes();
    assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&canonical()));

    // Imported through the harness server, it reads back: the token from the file works, the
    // aggregates are computed from the intervals.
    FixtureSet::parse("canonical.json", &canonical()).unwrap().apply(&s.store).await.unwrap();
    let kit = format!("{}/client/v4/accounts/acc-ci/realtime/kit/app1", s.root);
    let r = s.http.get(format!("{kit}/sessions/s-1")).bearer_auth("ci-token-123456").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let d = &v["data"]["session"];
    assert_eq!(d["id"], "s-1");
    assert_eq!(d["status"], "ENDED");
    assert_eq!(d["live_participants"], 0);
    assert_eq!(d["max_concurrent_participants"], 2);
    // 30 min + 15 min of presence.
    assert_eq!(d["minutes_consumed"], 45.0);
    assert_eq!(d["started_at"], "2026-01-05T09:00:00.000Z");
    assert_eq!(d["ended_at"], "2026-01-05T09:30:00.000Z");
    // The X-Auth pair of the file's token.
    let r = s
        .http
        .get(format!("{kit}/sessions/s-1-room"))
        .header("X-Auth-Email", "ci@example.com")
        .header("X-Auth-Key", "ci-token-123456")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["session"]["parent_session_id"], "s-1", "{v}");
    // The file's recording: its file written from the imported timeline, its duration exact
    // (30 min less a 5 min pause), in the session's meta.
    s.engine.recorder_catch_up().await;
    let r =
        s.http.get(format!("{kit}/recordings/rec-1")).bearer_auth("ci-token-123456").send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    let rec = &v["data"];
    assert_eq!(
        (rec["status"].clone(), rec["recording_duration"].clone(), rec["output_file_name"].clone()),
        (json!("UPLOADED"), json!(25 * 60), json!("standup_rec-1.json")),
        "{v}"
    );
    assert_eq!(rec["stop_reason"], json!({"reason": "ALL_PEERS_LEFT"}));
    let file: Value =
        reqwest::get(rec["download_url"].as_str().unwrap()).await.unwrap().json().await.unwrap();
    let kinds: Vec<&str> =
        file["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["peer_present", "chat", "peer_joined", "paused", "resumed", "peer_left", "peer_left"],
        "{file}"
    );
    let r = s.http.get(format!("{kit}/sessions/s-1")).bearer_auth("ci-token-123456").send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["meta"]["recordings"][0]["id"], "rec-1", "{v}");
    // The file's webhook, as the webhooks API shows it.
    let r =
        s.http.get(format!("{kit}/webhooks/wh-billing")).bearer_auth("ci-token-123456").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["data"],
        json!({"id": "wh-billing", "name": "Billing", "url": "https://billing.example.com/rtk-hooks",
               "events": ["meeting.ended", "meeting.participantLeft"], "enabled": true,
               "created_at": "2025-01-01T00:00:00.000Z", "updated_at": "2025-01-01T00:00:00.000Z"})
    );
}
crate::both!(canonical_round_trip_t, super::canonical_round_trip);

fn errors_of(r: Result<fixtures::Applied, FixtureError>) -> Vec<String> {
    match r {
        Err(FixtureError::Invalid(e)) => e,
        other => panic!("expected errors, got {other:?}"),
    }
}

async fn errors_are_precise_and_write_nothing(s: &TestServer) {
    let mut bad = setup(&s.account);
    bad["participants"][2]["preset_name"] = "nobody".into();
    bad["meetings"][1]["parent_meeting_id"] = "m-missing".into();
    bad["meetings"][0]["session_keep_alive_time_in_secs"] = 601.into();
    bad["apps"][0]["created_at"] = "yesterday".into();
    bad["sessions"] = json!([
        {"id": "s-x", "meeting_id": "abcdef-ghijkl", "peers": [
            {"id": "pe-1", "participant_id": "p-0", "joined_at": "2026-01-05T09:00:00Z", "left_at": "2026-01-05T08:00:00Z"}]},
        {"id": "s-y", "meeting_id": "abcdef-ghijkl", "peers": [
            {"id": "pe-2", "participant_id": "p-0", "joined_at": "2026-01-05T10:00:00Z", "left_at": "2026-01-05T10:01:00Z"},
            {"id": "pe-3", "participant_id": "p-1", "joined_at": "2026-01-05T10:00:30Z", "left_at": "2026-01-05T10:06:00Z"}],
         "chat": [{"id": "c-1", "peer_id": "pe-9", "message": "hi", "sent_at": "2026-01-05T10:00:30Z"}]},
        {"id": "s-z", "meeting_id": "abcdef-ghijkl", "peers": [
            {"id": "pe-4", "participant_id": "p-0", "joined_at": "2026-01-05T12:00:00Z", "left_at": "2026-01-05T12:10:00Z"}],
         "recordings": [
            {"id": "r-1", "started_at": "2026-01-05T11:59:00Z", "stopped_at": "2026-01-05T12:05:00Z"},
            {"id": "r-2", "started_at": "2026-01-05T12:01:00Z", "stopped_at": "2026-01-05T12:05:00Z",
             "pauses": [["2026-01-05T12:03:00Z", "2026-01-05T12:02:00Z"]], "kind": "audio", "stop_reason": "BORED"}]}
    ]);
    bad["webhooks"] = json!([
        {"id": "wh-1", "app_id": "app1", "name": "a", "url": "ftp://x.example", "events": ["meeting.ended"]},
        {"id": "wh-2", "app_id": "app1", "name": "b", "url": "https://x.example/h", "events": ["meeting.end", "meeting.ended", "meeting.ended"]},
        {"id": "wh-3", "app_id": "app9", "name": "c", "url": "https://x.example/h", "events": []},
        {"id": "wh-4", "app_id": "app1", "name": "d", "url": "https://x.example/h", "events": ["meeting.started"]}
    ]);
    let errors = errors_of(set_of(&bad).apply(&s.store).await);
    let want = [
        "fixtures.json: webhooks[0] (id \"wh-1\"): \"url\" must be an http or https URL, not ftp:",
        "fixtures.json: webhooks[1] (id \"wh-2\"): \"events[0]\" is not a webhook event: \"meeting.end\" (one of meeting.started, meeting.ended, meeting.participantJoined, meeting.participantLeft, meeting.chatSynced, recording.statusUpdate, livestreaming.statusUpdate, meeting.transcript, meeting.summary)",
        "fixtures.json: webhooks[1] (id \"wh-2\"): \"events[2]\" \"meeting.ended\" is listed twice",
        "fixtures.json: webhooks[2] (id \"wh-3\"): \"app_id\" must name an app of the file or the store, \"app9\" is neither",
        "fixtures.json: webhooks[2] (id \"wh-3\"): \"events\" must list at least one event",
        "fixtures.json: webhooks[3] (id \"wh-4\"): \"url\" is already the URL of webhook \"wh-2\" of app \"app1\"",
    ];
    for w in want {
        assert!(errors.iter().any(|e| e == w), "missing {w:?} in {errors:#?}");
    }
    let want = [
        "fixtures.json: apps[0] (id \"app1\"): \"created_at\" must be an RFC 3339 time (e.g. 2026-01-01T09:00:00Z), got \"yesterday\"",
        "fixtures.json: meetings[0] (id \"abcdef-ghijkl\"): \"session_keep_alive_time_in_secs\" must be a whole number of seconds from 0 to 600",
        "fixtures.json: meetings[1] (id \"room-1\"): \"parent_meeting_id\" must name a meeting of the file or the store, \"m-missing\" is neither",
        "fixtures.json: participants[2] (id \"p-2\"): \"preset_name\" must name a preset of app \"app1\" (in the file or the store)",
        "fixtures.json: sessions[0] (id \"s-x\"): peers[0] (id \"pe-1\"): \"left_at\" must not be before \"joined_at\"",
        "fixtures.json: sessions[1] (id \"s-y\"): chat[0] (id \"c-1\"): \"peer_id\" must name a peer of this session",
        "fixtures.json: sessions[2] (id \"s-z\"): recordings[0] (id \"r-1\"): must run from started_at to stopped_at, in order, within its session (2026-01-05T12:00:00.000Z to 2026-01-05T12:11:00.000Z)",
        "fixtures.json: sessions[2] (id \"s-z\"): recordings[1] (id \"r-2\"): \"pauses[0]\" must be in order, apart, within the recording",
        "fixtures.json: sessions[2] (id \"s-z\"): recordings[1] (id \"r-2\"): \"kind\" must be composite or track",
        "fixtures.json: sessions[2] (id \"s-z\"): recordings[1] (id \"r-2\"): \"stop_reason\" must be API_CALL, ALL_PEERS_LEFT, INTERNAL_ERROR or MAX_SECONDS",
    ];
    for w in want {
        assert!(errors.iter().any(|e| e == w), "missing {w:?} in {errors:#?}");
    }
    // Nothing was written: the valid entries (the preset, the other participants) neither.
    assert!(s.store.app_by_id("app1").await.unwrap().is_none());
    assert_eq!(s.store.dump().await.unwrap().participants.len(), 0);

    // A gap past the keep-alive is two sessions, not one.
    let mut gap = setup(&s.account);
    gap["sessions"] = json!([{"id": "s-gap", "meeting_id": "abcdef-ghijkl", "peers": [
        {"id": "g-1", "participant_id": "p-0", "joined_at": "2026-01-05T10:00:00Z", "left_at": "2026-01-05T10:01:00Z"},
        {"id": "g-2", "participant_id": "p-1", "joined_at": "2026-01-05T10:02:00Z", "left_at": "2026-01-05T10:03:00Z"}]}]);
    let errors = errors_of(set_of(&gap).apply(&s.store).await);
    assert!(
        errors.iter().any(|e| e.starts_with("fixtures.json: sessions[0] (id \"s-gap\"): peers[1] (id \"g-2\"): joins at 2026-01-05T10:02:00.000Z when the session had ended")),
        "{errors:#?}"
    );

    // Applied once, then a changed entry with the same id is a conflict naming the field.
    set_of(&setup(&s.account)).apply(&s.store).await.unwrap();
    let again = set_of(&setup(&s.account)).apply(&s.store).await.unwrap();
    assert!(again.inserted.is_empty(), "{again:?}");
    let mut changed = setup(&s.account);
    changed["meetings"][0]["title"] = "Retro".into();
    let errors = errors_of(set_of(&changed).apply(&s.store).await);
    assert_eq!(
        errors,
        vec!["fixtures.json: meetings[0] (id \"abcdef-ghijkl\"): a different row with this id is already stored \
              (\"title\" is \"Retro\" in the file but \"Standup\" in the store); remove it, or change the id"
            .to_string()]
    );

    // Parse errors name the entry and the path inside it.
    let e = FixtureSet::parse(
        "f.json",
        br#"{"rtk_fixtures": 1, "accounts": [{"id": "a"}, {"id": 5}], "apps": [{"id": "x", "account_id": "a", "name": "n", "colour": 1}]}"#,
    )
    .unwrap_err();
    let FixtureError::Invalid(e) = e else { panic!() };
    assert!(e[0].starts_with("f.json: accounts[1] at \"id\": invalid type: integer `5`"), "{e:#?}");
    assert!(e[1].starts_with("f.json: apps[0] (id \"x\") at \"colour\": unknown field `colour`"), "{e:#?}");
    let FixtureError::Invalid(e) = FixtureSet::parse("f.json", br#"{"rtk_fixtures": 2}"#).unwrap_err() else {
        panic!()
    };
    assert_eq!(e, vec!["f.json: \"rtk_fixtures\" is 2, but this rtk reads version 1".to_string()]);
}
crate::both!(errors_are_precise_t, super::errors_are_precise_and_write_nothing);

/// `serve --fixtures`: applied at start (first start then makes no credentials of its own),
/// and `POST /_rtk/reset` returns to them, not to empty.
async fn reset_returns_to_the_fixtures(db: Db) {
    let Some(t) = TestDb::new(db).await else { return };
    let set = FixtureSet::parse("canonical.json", &canonical()).unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: t.dir.path().to_path_buf(),
        database_url: Some(t.url.clone()),
        manual_clock: Some(ManualClock::new(T0)),
        admin_token_hash: Some(rtk_server::auth::hash_token("admin-token-1")),
        reaper_interval: None,
        fixtures: Some(Arc::new(set)),
        ..Config::default()
    };
    let server = Server::start(config, Arc::new(ManualClock::new(T0))).await.unwrap();
    assert!(server.bootstrap.is_none(), "the fixtures' account is there: no first-start account");
    let root = format!("http://{}", server.local_addr());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    let http = reqwest::Client::new();
    let kit = format!("{root}/client/v4/accounts/acc-ci/realtime/kit/app1");
    let call = |m: reqwest::Method, url: String, body: Option<Value>| {
        let http = http.clone();
        async move {
            let mut rb = http.request(m, &url).bearer_auth("ci-token-123456");
            if let Some(b) = body {
                rb = rb.json(&b);
            }
            let r = rb.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, before) = call(reqwest::Method::GET, format!("{kit}/meetings"), None).await;
    assert_eq!(st, StatusCode::OK, "{before}");
    // The test changes things: a meeting, a title.
    let (st, _) = call(reqwest::Method::POST, format!("{kit}/meetings"), Some(json!({"title": "new"}))).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = call(
        reqwest::Method::PATCH,
        format!("{kit}/meetings/abcdef-ghijkl"),
        Some(json!({"title": "changed"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, during) = call(reqwest::Method::GET, format!("{kit}/meetings"), None).await;
    assert_ne!(during, before);

    let r = http.post(format!("{root}/_rtk/reset")).bearer_auth("admin-token-1").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(v["data"]["fixtures"]["inserted"]["sessions"] == 2, "{v}");
    let (st, after) = call(reqwest::Method::GET, format!("{kit}/meetings"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(after, before, "back to the fixtures");
    let (_, s1) = call(reqwest::Method::GET, format!("{kit}/sessions/s-1"), None).await;
    assert_eq!(s1["data"]["session"]["minutes_consumed"], 45.0);
    // Webhooks too: one the test deleted comes back, one it added is gone.
    let (st, _) = call(reqwest::Method::DELETE, format!("{kit}/webhooks/wh-billing"), None).await;
    assert_eq!(st, StatusCode::OK);
    let hook = json!({"name": "mine", "url": "https://x.example/mine", "events": ["meeting.started"]});
    let (st, _) = call(reqwest::Method::POST, format!("{kit}/webhooks"), Some(hook)).await;
    assert_eq!(st, StatusCode::CREATED);
    let r = http.post(format!("{root}/_rtk/reset")).bearer_auth("admin-token-1").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, hooks) = call(reqwest::Method::GET, format!("{kit}/webhooks"), None).await;
    let ids: Vec<&str> =
        hooks["data"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["wh-billing"], "{hooks}");
    let _ = stop.send(());
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_returns_to_the_fixtures_sqlite() {
    reset_returns_to_the_fixtures(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn reset_returns_to_the_fixtures_postgres() {
    reset_returns_to_the_fixtures(Db::Postgres).await;
}

/// The schema knows every key an export writes, and requires what the reader requires.
#[test]
fn the_schema_names_every_exported_key() {
    let schema: Value = serde_json::from_str(fixtures::SCHEMA).unwrap();
    let file: Value = serde_json::from_slice(&canonical()).unwrap();
    let defs = &schema["$defs"];
    let check = |def: &str, v: &Value| {
        let props = defs[def]["properties"].as_object().unwrap_or_else(|| panic!("{def}"));
        for k in v.as_object().unwrap().keys() {
            assert!(props.contains_key(k), "{def}: {k:?} is not in the schema");
        }
        for r in defs[def]["required"].as_array().unwrap() {
            assert!(v.get(r.as_str().unwrap()).is_some(), "{def}: required {r} missing from the export");
        }
    };
    for (kind, def) in [
        ("accounts", "account"),
        ("api_tokens", "api_token"),
        ("apps", "app"),
        ("presets", "preset"),
        ("meetings", "meeting"),
        ("participants", "participant"),
        ("sessions", "session"),
        ("webhooks", "webhook"),
    ] {
        assert!(schema["properties"][kind].is_object(), "{kind}");
        for e in file[kind].as_array().unwrap_or_else(|| panic!("the canonical file has {kind}")) {
            check(def, e);
            if kind == "sessions" {
                for p in e["peers"].as_array().unwrap() {
                    check("peer", p);
                }
                for c in e["chat"].as_array().unwrap() {
                    check("chat", c);
                }
                for r in e["recordings"].as_array().into_iter().flatten() {
                    check("recording", r);
                }
            }
        }
    }
}
