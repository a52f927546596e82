//! The sessions API over real HTTP, with sessions made by real WebSocket clients.

use rtk_api::gateway::{ClientMessage, ServerEvent};
use serde_json::{json, Value};

use crate::both;
use crate::gateway::Room;
use crate::harness::{TestServer, T0};

async fn list_and_filters(s: &TestServer) {
    let r1 = Room::new(s, json!({"title": "Design review"})).await;
    let r2 = Room { app: r1.app.clone(), meeting: s.meeting(&r1.app, json!({"title": "Hiring sync"})).await };
    let (_, t1) = r1.person(s, "a").await;
    let (_, t1b) = r1.person(s, "b").await;
    let (_, t2) = r2.person(s, "c").await;
    // Session 1 (r1): two peers for 60 s, ended.
    let mut a = s.connect(&t1).await;
    a.join().await;
    let mut b = s.connect(&t1b).await;
    b.join().await;
    let s1 = a.session_id.clone().unwrap();
    s.clock.advance(60_000);
    a.leave().await;
    b.leave().await;
    s.advance(60_000).await;
    // Session 2 (r2): one peer, live.
    let mut c = s.connect(&t2).await;
    c.join().await;
    let s2 = c.session_id.clone().unwrap();
    s.clock.advance(30_000);
    let base = format!("{}/{}/sessions", s.kit(), r1.app);
    let ids = |v: &Value| -> Vec<String> {
        v["data"]["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (st, v) = s.get(&base).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(ids(&v), vec![s2.clone(), s1.clone()], "newest first by default");
    assert_eq!(v["paging"], json!({"total_count": 2, "start_offset": 1, "end_offset": 2}));
    let (_, v) = s.get(&format!("{base}?sort_order=ASC&per_page=1&page_no=2")).await;
    assert_eq!(ids(&v), vec![s2.clone()]);
    let (_, v) = s.get(&format!("{base}?status=LIVE")).await;
    assert_eq!(ids(&v), vec![s2.clone()]);
    assert_eq!(v["data"]["sessions"][0]["live_participants"], 1);
    let (_, v) = s.get(&format!("{base}?status=ENDED")).await;
    assert_eq!(ids(&v), vec![s1.clone()]);
    assert_eq!(v["data"]["sessions"][0]["minutes_consumed"], 2.0);
    let (_, v) = s.get(&format!("{base}?associated_id={}", r2.meeting)).await;
    assert_eq!(ids(&v), vec![s2.clone()]);
    let (_, v) = s.get(&format!("{base}?search=design")).await;
    assert_eq!(ids(&v), vec![s1.clone()]);
    let (_, v) = s.get(&format!("{base}?search={s2}")).await;
    assert_eq!(ids(&v), vec![s2.clone()]);
    let (_, v) = s.get(&format!("{base}?search={}", r1.meeting)).await;
    assert_eq!(ids(&v), vec![s1.clone()]);
    let (_, v) = s.get(&format!("{base}?participants=2:10")).await;
    assert_eq!(ids(&v), vec![s1.clone()]);
    let (_, v) = s.get(&format!("{base}?participants=:1")).await;
    assert_eq!(ids(&v), vec![s2.clone()]);
    let (_, v) = s.get(&format!("{base}?sort_by=minutesConsumed&sort_order=DESC")).await;
    assert_eq!(ids(&v), vec![s1.clone(), s2.clone()], "2 minutes before 0.5");
    let start = rtk_server::clock::rfc3339(T0 + 100_000);
    let (_, v) = s.get(&format!("{base}?start_time={start}")).await;
    assert_eq!(ids(&v), vec![s2.clone()]);
    for bad in ["status=PAUSED", "sort_by=name", "participants=x:y", "start_time=soon", "per_page=0"] {
        let (st, v) = s.get(&format!("{base}?{bad}")).await;
        assert_eq!(st, 400, "{bad}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(bad.split('=').next().unwrap()), "{v}");
    }
    // MIN above MAX: an empty range, no session.
    let (st, v) = s.get(&format!("{base}?participants=5:1")).await;
    assert_eq!((st.as_u16(), v["paging"]["total_count"].clone()), (200, serde_json::json!(0)), "{v}");
    // Unknown session, and another account's token.
    let (st, v) = s.get(&r1.session_url(s, "no-such-session")).await;
    assert_eq!(
        (st.as_u16(), v["error"]["message"].clone()),
        (404, json!("No session found with id no-such-session"))
    );
    let other = rtk_server::admin::create_account(&s.store, None, 0).await.unwrap();
    let (_, tok) = rtk_server::admin::create_token(&s.store, &other, "o", "o@x", 0).await.unwrap();
    let r = s.http.get(r1.session_url(s, &s1)).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = s
        .http
        .get(format!("{}/client/v4/accounts/{other}/realtime/kit/{}/sessions/{s1}", s.root, r1.app))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    c.leave().await;
}

async fn participants_and_chat(s: &TestServer) {
    let room = Room::new(s, json!({"title": "Chatty"})).await;
    let (pa, ta) = room.person(s, "alice").await;
    let (_, tb) = room.person(s, "bob").await;
    let mut a = s.connect(&ta).await;
    a.join_with(Some(json!({"browser": "firefox", "browser_version": "140", "os": "linux", "cpus": 8, "is_mobile": false, "extra": [1]}))).await;
    let sid = a.session_id.clone().unwrap();
    s.clock.advance(10_000);
    let mut b = s.connect(&tb).await;
    b.join().await;
    s.clock.advance(1_000);
    a.send(&ClientMessage::Chat { message: "hello, \"bob\"".into() }).await;
    let e = b.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    let ServerEvent::Chat { message, peer_id, sent_at, .. } = e else { unreachable!() };
    assert_eq!((message.as_str(), Some(peer_id)), ("hello, \"bob\"", a.peer_id.clone()));
    assert_eq!(sent_at, rtk_server::clock::rfc3339(T0 + 11_000));
    a.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await; // the sender gets it too
    s.clock.advance(1_000);
    b.send(&ClientMessage::Chat { message: "hi alice\nline 2".into() }).await;
    a.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    s.clock.advance(50_000);
    b.leave().await;
    // Chat, in order, with sender and time; and the CSV behind the download URL.
    let (st, v) = s.get(&format!("{}/chat", room.session_url(s, &sid))).await;
    assert_eq!(st, 200, "{v}");
    let msgs = v["data"]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(
        (msgs[0]["display_name"].clone(), msgs[1]["display_name"].clone()),
        (json!("alice"), json!("bob"))
    );
    assert_eq!(msgs[1]["message"], "hi alice\nline 2");
    let url = v["data"]["chat_download_url"].as_str().unwrap();
    assert_eq!(v["data"]["chat_download_url_expiry"], rtk_server::clock::rfc3339(T0 + 62_000 + 3_600_000));
    let csv = s.http.get(url).send().await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,sent_at,peer_id,participant_id,display_name,message");
    assert!(lines[1].ends_with(",alice,\"hello, \"\"bob\"\"\""), "{csv}");
    assert!(csv.contains("\"hi alice\nline 2\""), "{csv}");
    // The client's X-Forwarded-* headers are not trusted (no --trust-forwarded-headers): the
    // link names the server's own address (tests/it/secrets.rs covers the settings).
    let r = s
        .http
        .get(format!("{}/chat", room.session_url(s, &sid)))
        .bearer_auth(&s.token)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "rtk.example.com")
        .send()
        .await
        .unwrap();
    let pv: Value = r.json().await.unwrap();
    assert!(
        pv["data"]["chat_download_url"].as_str().unwrap().starts_with(&format!("{}/chat-exports/", s.root)),
        "{pv}"
    );
    let r = s.http.get(format!("{url}x")).send().await.unwrap();
    assert_eq!(r.status(), 404, "a tampered link");
    // Participants, raw: one row per peer.
    let purl = format!("{}/participants", room.session_url(s, &sid));
    let (st, v) = s.get(&format!("{purl}?include_peer_events=true")).await;
    assert_eq!(st, 200, "{v}");
    let ps = v["data"]["participants"].as_array().unwrap();
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0]["display_name"], "alice");
    assert_eq!(ps[0]["user_id"], pa);
    assert_eq!(ps[0]["left_at"], Value::Null, "alice is still here");
    assert!((ps[0]["duration"].as_f64().unwrap() - 62.0 / 60.0).abs() < 1e-9);
    assert!((ps[1]["duration"].as_f64().unwrap() - 52.0 / 60.0).abs() < 1e-9);
    assert_eq!(ps[1]["peer_events"][1]["event_name"], "PEER_LEAVING");
    assert_eq!(ps[1]["left_at"], rtk_server::clock::rfc3339(T0 + 62_000));
    let (_, v) = s.get(&format!("{purl}?sort_by=duration&sort_order=ASC")).await;
    assert_eq!(v["data"]["participants"][0]["display_name"], "bob");
    let (_, v) = s.get(&format!("{purl}?search=ALI")).await;
    assert_eq!(v["data"]["participants"].as_array().unwrap().len(), 1);
    let (st, _) = s.get(&format!("{purl}?view=fancy")).await;
    assert_eq!(st, 400);
    // One participant's details: by peer id or participant id; device metadata from join.
    let peer = a.peer_id.clone().unwrap();
    for id in [&peer, &pa] {
        let (st, v) = s.get(&format!("{purl}/{id}")).await;
        assert_eq!(st, 200, "{v}");
        let p = &v["data"]["participant"];
        assert_eq!(p["id"], peer);
        assert_eq!(p["peer_stats"]["device_info"], json!({"os": "linux", "cpus": 8, "is_mobile": false}));
        assert_eq!(p["device"]["extra"], json!([1]));
    }
    let (st, _) = s.get(&format!("{purl}/nobody")).await;
    assert_eq!(st, 404);
    // The peer report.
    let (st, v) = s.get(&format!("{}/{}/sessions/peer-report/{peer}", s.kit(), room.app)).await;
    assert_eq!(st, 200, "{v}");
    let meta = &v["data"]["participant"]["peer_report"]["metadata"];
    assert_eq!(meta["browser_metadata"], json!({"browser": "firefox", "browser_version": "140"}));
    assert_eq!(v["data"]["participant"]["session_id"], sid);
    let (st, _) = s.get(&format!("{}/{}/sessions/peer-report/nope", s.kit(), room.app)).await;
    assert_eq!(st, 404);
    a.leave().await;
}

async fn breakout_rooms(s: &TestServer) {
    let room = Room::new(s, json!({"title": "All hands"})).await;
    let (pa, ta) = room.person(s, "a").await;
    let (_, tb) = room.person(s, "b").await;
    let active = format!("{}/{}/meetings/{}/active-session", s.kit(), room.app, room.meeting);
    // Breakout rooms need a live session.
    let (st, _) = s.post(&format!("{active}/breakout-rooms"), json!({"rooms": [{"title": "R1"}]})).await;
    assert_eq!(st, 404);
    let mut a = s.connect(&ta).await;
    a.join().await;
    let mut b = s.connect(&tb).await;
    b.join().await;
    let main = a.session_id.clone().unwrap();
    let (st, v) = s.post(&format!("{active}/breakout-rooms"), json!({"rooms": [{"title": "R1"}, {}]})).await;
    assert_eq!(st, 201, "{v}");
    let r1 = v["data"]["breakout_rooms"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(v["data"]["breakout_rooms"][1]["title"], "All hands — room 2");
    assert_eq!(v["data"]["breakout_rooms"][0]["parent_meeting_id"], room.meeting);
    // Move a into R1 at +20 s: a's connection becomes a peer of R1's session.
    s.clock.advance(20_000);
    let (st, v) = s
        .post(&format!("{active}/breakout-rooms/move"), json!({"participant_ids": [pa], "to_meeting_id": r1}))
        .await;
    assert_eq!(st, 200, "{v}");
    let child = v["data"]["moved"][0]["session_id"].as_str().unwrap().to_string();
    let e = a.wait_for(|e| matches!(e, ServerEvent::Moved { .. })).await;
    let ServerEvent::Moved { meeting_id, session_id, parent_meeting_id, .. } = e else { unreachable!() };
    assert_eq!((meeting_id.as_str(), session_id.as_str()), (r1.as_str(), child.as_str()));
    assert_eq!(parent_meeting_id.as_deref(), Some(room.meeting.as_str()));
    let e = b.wait_for(|e| matches!(e, ServerEvent::PeerLeft { .. })).await;
    assert!(matches!(e, ServerEvent::PeerLeft { ref reason, .. } if reason == "moved"));
    // The connection still works in its new session: chat lands in the child session.
    a.send(&ClientMessage::Chat { message: "in the room".into() }).await;
    a.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    assert_eq!(room.details(s, &main).await["live_participants"], 1);
    let cd = room.details(s, &child).await;
    assert_eq!((cd["live_participants"].clone(), cd["parent_session_id"].clone()), (json!(1), json!(main)));
    assert_eq!(cd["associated_id"], r1);
    // include_breakout_rooms lists the child session, in both shapes.
    let (_, v) = s.get(&format!("{}?include_breakout_rooms=true", room.session_url(s, &main))).await;
    assert_eq!(v["data"]["breakout_rooms"][0]["id"], child);
    assert_eq!(v["data"]["session"]["breakout_rooms"][0]["id"], child);
    let (_, v) = s.get(&room.session_url(s, &main)).await;
    assert!(v["data"].get("breakout_rooms").is_none());
    // Back to the main room at +50 s (30 s in R1).
    s.clock.advance(30_000);
    let back = format!("{}/{}/meetings/{r1}/active-session/breakout-rooms/move", s.kit(), room.app);
    let (st, v) =
        s.post(&back, json!({"custom_participant_ids": ["a"], "to_meeting_id": room.meeting})).await;
    assert_eq!(st, 200, "{v}");
    a.wait_for(|e| matches!(e, ServerEvent::Moved { .. })).await;
    s.clock.advance(10_000); // +60
                             // Raw: a has two rows in the main session (0–20 and 50–60); consolidated adds R1's 30 s.
    let purl = format!("{}/participants", room.session_url(s, &main));
    let (_, v) = s.get(&purl).await;
    let rows: Vec<&Value> =
        v["data"]["participants"].as_array().unwrap().iter().filter(|p| p["user_id"] == pa).collect();
    assert_eq!(rows.len(), 2);
    let raw: f64 = rows.iter().map(|r| r["duration"].as_f64().unwrap()).sum();
    assert!((raw - 30.0 / 60.0).abs() < 1e-9, "raw keeps sessions apart: {raw}");
    let (_, v) = s.get(&format!("{purl}?view=consolidated")).await;
    let rows: Vec<&Value> =
        v["data"]["participants"].as_array().unwrap().iter().filter(|p| p["user_id"] == pa).collect();
    assert_eq!(rows.len(), 1);
    assert!(
        (rows[0]["duration"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "consolidated: 20 + 30 + 10 s = 1 min"
    );
    // The active session lists its breakout rooms' sessions; the rooms list shows R1 ended after keep-alive.
    let (_, v) = s.get(&active).await;
    assert_eq!(v["data"]["breakout_rooms"][0]["id"], child);
    // Over the gateway: b moves itself into R1 and back, as its preset allows.
    b.send(&ClientMessage::SwitchMeeting { meeting_id: r1.clone() }).await;
    let e = b.wait_for(|e| matches!(e, ServerEvent::Moved { .. } | ServerEvent::Error { .. })).await;
    assert!(matches!(e, ServerEvent::Moved { ref meeting_id, .. } if *meeting_id == r1), "{e:?}");
    b.send(&ClientMessage::SwitchMeeting { meeting_id: room.meeting.clone() }).await;
    let e = b.wait_for(|e| matches!(e, ServerEvent::Moved { .. } | ServerEvent::Error { .. })).await;
    assert!(matches!(e, ServerEvent::Moved { ref meeting_id, .. } if *meeting_id == room.meeting), "{e:?}");
    b.send(&ClientMessage::SwitchMeeting { meeting_id: "nowhere".into() }).await;
    let e = b.wait_for(|e| matches!(e, ServerEvent::Error { .. })).await;
    assert!(matches!(e, ServerEvent::Error { ref code, .. } if code == "invalid_meeting"), "{e:?}");
    // A preset without the permission may not.
    let mut guest = crate::harness::preset_doc("guest");
    guest["permissions"]["connected_meetings"]["can_switch_connected_meetings"] = json!(false);
    let (st, _) = s.post(&format!("{}/{}/presets", s.kit(), room.app), guest).await;
    assert_eq!(st, 201);
    let g = s.participant(&room.app, &room.meeting, "g", "guest").await;
    let mut gc = s.connect(g["token"].as_str().unwrap()).await;
    gc.join().await;
    gc.send(&ClientMessage::SwitchMeeting { meeting_id: r1.clone() }).await;
    let e = gc.wait_for(|e| matches!(e, ServerEvent::Error { .. })).await;
    assert!(matches!(e, ServerEvent::Error { ref code, .. } if code == "forbidden"), "{e:?}");
    gc.leave().await;
    let bad = s
        .post(
            &format!("{active}/breakout-rooms/move"),
            json!({"participant_ids": [pa], "to_meeting_id": "elsewhere"}),
        )
        .await;
    assert_eq!(bad.0, 404);
    a.leave().await;
    b.leave().await;
}

both!(list, super::list_and_filters);
both!(participants_chat, super::participants_and_chat);
both!(breakout, super::breakout_rooms);
