//! Every endpoint through the SDK, against a real rtk.

use reqwest::StatusCode;
use rtk_api::gateway::ServerEvent;
use rtk_client::params::*;
use rtk_client::participant::Event;

use crate::harness::{env, preset_doc, until};

#[tokio::test]
async fn apps() {
    let env = env().await;
    let apps = env.client.realtime_kit().apps();
    let created =
        apps.post(&AppPostParams { account_id: env.account.clone(), name: "second".into() }).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert!(created.success);
    assert_eq!(created.data.app.name, "second");
    let page = apps.get(&AppListParams::new(&env.account)).await.unwrap();
    assert_eq!(page.data.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["sdk", "second"]);
    assert_eq!(page.paging.unwrap().total_count, 2);
    let found = apps
        .get(&AppListParams {
            search: Some("SEC".into()),
            sort_order: Some("DESC".into()),
            ..AppListParams::new(&env.account)
        })
        .await
        .unwrap();
    assert_eq!(found.data.len(), 1);
    assert_eq!(found.data[0].id, created.data.app.id);
    // The raw response is there too.
    let raw: serde_json::Value = found.parse_raw().unwrap();
    assert_eq!(raw["data"][0]["id"], created.data.app.id.as_str());
    assert!(found.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
}

#[tokio::test]
async fn presets() {
    let env = env().await;
    let presets = env.client.realtime_kit().presets();
    let acc = AccountParams::new(&env.account);
    let mut doc = preset_doc();
    doc["name"] = "guest".into();
    let created =
        presets.create(&env.app, &PresetParams::from_document(&env.account, doc.clone())).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let p = created.data;
    assert_eq!(p.name, "guest");
    assert_eq!(p.config()["view_type"], "GROUP_CALL");
    assert!(!p.created_at.is_empty() && !p.updated_at.is_empty());

    let list = presets.get(&env.app, &PresetListParams::new(&env.account)).await.unwrap();
    assert_eq!(list.data.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["host", "guest"]);
    let searched = presets
        .get(
            &env.app,
            &PresetListParams { search: Some("gue".into()), ..PresetListParams::new(&env.account) },
        )
        .await
        .unwrap();
    assert_eq!(searched.data.len(), 1);

    let got = presets.get_preset_by_id(&env.app, &p.id, &acc).await.unwrap().data;
    assert_eq!(got, p);

    let patch = PresetParams {
        config: Some(serde_json::json!({"max_screenshare_count": 3})),
        ..PresetParams::new(&env.account)
    };
    let updated = presets.update(&env.app, &p.id, &patch).await.unwrap().data;
    assert_eq!(updated.config()["max_screenshare_count"], 3);
    assert_eq!(updated.config()["view_type"], "GROUP_CALL", "a merge, not a replacement");

    doc["name"] = "guest-2".into();
    let replaced =
        presets.replace(&env.app, &p.id, &PresetParams::from_document(&env.account, doc)).await.unwrap();
    assert_eq!(replaced.data.name, "guest-2");
    assert_eq!(replaced.data.config()["max_screenshare_count"], 1);

    let deleted = presets.delete(&env.app, &p.id, &acc).await.unwrap().data;
    assert_eq!(deleted.id, p.id);
    let gone = presets.get_preset_by_id(&env.app, &p.id, &acc).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn meetings_and_their_participants() {
    let env = env().await;
    let meetings = env.client.realtime_kit().meetings();
    let acc = AccountParams::new(&env.account);
    let m = meetings
        .create(
            &env.app,
            &MeetingParams {
                title: Some("Weekly sync".into()),
                persist_chat: Some(true),
                session_keep_alive_time_in_secs: Some(120),
                ..MeetingParams::new(&env.account)
            },
        )
        .await
        .unwrap();
    assert_eq!(m.status(), StatusCode::CREATED);
    let m = m.data;
    assert_eq!(m.title.as_deref(), Some("Weekly sync"));
    assert_eq!(m.status.as_deref(), Some("ACTIVE"));
    assert_eq!(m.settings().persist_chat, Some(true));
    assert_eq!(m.session_keep_alive_time_in_secs, Some(120));

    let list = meetings.get(&env.app, &MeetingListParams::new(&env.account)).await.unwrap();
    assert_eq!(list.data.len(), 1);
    let inactive = meetings
        .get(
            &env.app,
            &MeetingListParams { status: Some("INACTIVE".into()), ..MeetingListParams::new(&env.account) },
        )
        .await
        .unwrap();
    assert!(inactive.data.is_empty());
    assert_eq!(meetings.get_meeting_by_id(&env.app, &m.id, &acc).await.unwrap().data, m);

    let patched = meetings
        .update_meeting_by_id(
            &env.app,
            &m.id,
            &MeetingParams { title: Some("Renamed".into()), ..MeetingParams::new(&env.account) },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(patched.title.as_deref(), Some("Renamed"));
    assert_eq!(patched.settings().persist_chat, Some(true), "PATCH keeps what is not given");
    let replaced = meetings
        .replace_meeting_by_id(
            &env.app,
            &m.id,
            &MeetingParams { title: Some("Replaced".into()), ..MeetingParams::new(&env.account) },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(replaced.settings().persist_chat, Some(false), "PUT resets what is not given");

    // Participants.
    let added = meetings
        .add_participant(
            &env.app,
            &m.id,
            &AddParticipantParams {
                custom_participant_id: "user-1".into(),
                preset_name: "host".into(),
                name: Some("Ada".into()),
                ..AddParticipantParams::new(&env.account)
            },
        )
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let p = added.data;
    assert!(p.token.as_deref().is_some_and(|t| t.split('.').count() == 3), "a JWT");
    assert_eq!(p.name.as_deref(), Some("Ada"));

    let list = meetings
        .get_meeting_participants(&env.app, &m.id, &ParticipantListParams::new(&env.account))
        .await
        .unwrap();
    assert_eq!(list.data.len(), 1);
    assert_eq!(list.data[0].id, p.id);
    assert!(list.data[0].token.is_none());
    let one = meetings.get_meeting_participant(&env.app, &m.id, &p.id, &acc).await.unwrap().data;
    assert_eq!(one.custom_participant_id, "user-1");

    let edited = meetings
        .edit_participant(
            &env.app,
            &m.id,
            &p.id,
            &EditParticipantParams {
                name: Some("Ada L.".into()),
                ..EditParticipantParams::new(&env.account)
            },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(edited.name.as_deref(), Some("Ada L."));
    assert!(edited.token.is_some());

    let token = meetings.refresh_participant_token(&env.app, &m.id, &p.id, &acc).await.unwrap().data.token;
    assert_ne!(Some(token.as_str()), p.token.as_deref());

    let deleted = meetings.delete_meeting_participant(&env.app, &m.id, &p.id, &acc).await.unwrap().data;
    assert_eq!(deleted.custom_participant_id, "user-1");
    assert!(deleted.preset_id.is_some());
    let e = meetings.get_meeting_participant(&env.app, &m.id, &p.id, &acc).await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.message(), Some(format!("No participant found with id {}", p.id).as_str()));
}

#[tokio::test]
async fn sessions() {
    let env = env().await;
    let kit = env.client.realtime_kit();
    let acc = AccountParams::new(&env.account);
    let meeting = env.meeting("Standup").await;
    let (mut a, ja) = env.join(&meeting, "a").await;
    let (b, jb) = env.join(&meeting, "b").await;
    assert_eq!(ja.session_id, jb.session_id);
    b.chat("hello from b").unwrap();
    until(&mut a, |e| matches!(e, Event::Server(ServerEvent::Chat { .. }))).await;
    env.clock.advance(90_000);

    let sessions = kit.sessions();
    let list = sessions
        .get_sessions(
            &env.app,
            &SessionListParams {
                associated_id: Some(meeting.clone()),
                ..SessionListParams::new(&env.account)
            },
        )
        .await
        .unwrap();
    assert_eq!(list.data.sessions.len(), 1);
    assert_eq!(list.paging.unwrap().total_count, 1);
    let s = &list.data.sessions[0];
    assert_eq!(s.id, ja.session_id);
    assert!(s.is_live());
    assert_eq!(s.live_participants, 2);
    assert_eq!(s.meeting_display_name, "Standup");

    // The seed endpoint.
    let details = sessions
        .get_session_details(
            &env.app,
            &ja.session_id,
            &GetSessionDetailsParams { account_id: env.account.clone(), include_breakout_rooms: Some(true) },
        )
        .await
        .unwrap();
    let d = &details.data.session;
    assert_eq!(d.id, ja.session_id);
    assert_eq!(d.associated_id, meeting);
    assert_eq!(d.kind, "meeting");
    assert_eq!(d.max_concurrent_participants, 2);
    assert!((d.minutes_consumed - 3.0).abs() < 1e-9, "two peers for 1.5 minutes: {}", d.minutes_consumed);
    assert_eq!(d.breakout_rooms.as_deref(), Some(&[][..]));
    assert!(details.data.extra.is_empty(), "{:?}", details.data.extra);

    let people = sessions
        .get_session_participants(
            &env.app,
            &ja.session_id,
            &SessionParticipantListParams {
                include_peer_events: Some(true),
                ..SessionParticipantListParams::new(&env.account)
            },
        )
        .await
        .unwrap();
    let ps = &people.data.participants;
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].id, ja.peer_id);
    assert_eq!(ps[0].custom_participant_id, "a");
    assert_eq!(ps[0].display_name, "User a");
    assert!(ps[0].left_at.is_none());
    assert!((ps[0].duration - 1.5).abs() < 1e-9);
    assert_eq!(ps[0].peer_events.as_ref().unwrap()[0].event_name, "PEER_JOINING");

    let one = sessions
        .get_session_participant_details(
            &env.app,
            &ja.session_id,
            &ja.peer_id,
            &SessionParticipantParams::new(&env.account),
        )
        .await
        .unwrap()
        .data
        .participant;
    assert_eq!(one.user_id, ps[0].user_id);
    let device = one.device.clone().flatten().expect("the device the peer joined with").to_value();
    assert_eq!(device["os"], "linux");
    assert_eq!(one.peer_stats.unwrap().device_info.os.as_deref(), Some("linux"));

    let report = sessions
        .get_participant_data_from_peer_id(
            &env.app,
            &jb.peer_id,
            &SessionParticipantParams {
                include_peer_events: Some(true),
                ..SessionParticipantParams::new(&env.account)
            },
        )
        .await
        .unwrap()
        .data
        .participant;
    assert_eq!(report.id, jb.peer_id);
    assert_eq!(report.role.as_deref(), Some("host"));
    let metadata = report.peer_report.unwrap().metadata;
    assert_eq!(metadata.browser_metadata.browser.as_deref(), Some("rtk-test"));

    let chat = sessions.get_session_chat(&env.app, &ja.session_id, &acc).await.unwrap().data;
    assert!(chat.chat_download_url.contains("/chat-exports/"));
    let messages = chat.messages.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].message, "hello from b");
    let csv = reqwest::get(&chat.chat_download_url).await.unwrap().text().await.unwrap();
    assert!(csv.contains("hello from b"), "{csv}");

    a.leave().await.unwrap();
    b.leave().await.unwrap();
}

#[tokio::test]
async fn active_session() {
    let env = env().await;
    let kit = env.client.realtime_kit();
    let active = kit.active_session();
    let acc = AccountParams::new(&env.account);
    let meeting = env.meeting("Town hall").await;
    let e = active.get_active_session(&env.app, &meeting, &acc).await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.message(), Some(format!("No active session found for meeting_id {meeting}").as_str()));

    let (mut a, ja) = env.join(&meeting, "a").await;
    let (mut b, jb) = env.join(&meeting, "b").await;
    let (mut c, _) = env.join(&meeting, "c").await;
    let s = active.get_active_session(&env.app, &meeting, &acc).await.unwrap().data;
    assert_eq!(s.id, ja.session_id);
    assert_eq!(s.live_participants, 3);

    let who = |ids: &[&str]| ParticipantsParams {
        custom_participant_ids: Some(ids.iter().map(|s| s.to_string()).collect()),
        ..ParticipantsParams::new(&env.account)
    };
    let muted = active.mute_participants(&env.app, &meeting, &who(&["b"])).await.unwrap().data;
    assert_eq!(muted.action, "mute");
    assert_eq!(muted.muted_peers_count, Some(1));
    assert_eq!(muted.participants[0].custom_participant_id, "b");
    until(&mut b, |e| matches!(e, Event::Server(ServerEvent::Muted { .. }))).await;

    let all = active
        .mute_all_participants(
            &env.app,
            &meeting,
            &MuteAllParams { allow_unmute: Some(true), ..MuteAllParams::new(&env.account) },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(all.action, "mute-all");
    assert_eq!(all.muted_participants_count, Some(3));

    let poll = active
        .create_poll(
            &env.app,
            &meeting,
            &CreatePollParams {
                question: "Lunch?".into(),
                options: vec!["Yes".into(), "No".into()],
                anonymous: Some(true),
                ..CreatePollParams::new(&env.account)
            },
        )
        .await
        .unwrap();
    assert_eq!(poll.status(), StatusCode::CREATED);
    assert_eq!(poll.data.poll.question, "Lunch?");
    assert_eq!(poll.data.poll.options.len(), 2);
    assert!(poll.data.poll.anonymous);
    until(&mut a, |e| matches!(e, Event::Server(ServerEvent::PollCreated { .. }))).await;

    // Breakout rooms: open one, move b there, see it, bring b back.
    let rooms = active
        .create_breakout_rooms(
            &env.app,
            &meeting,
            &CreateBreakoutRoomsParams {
                rooms: vec![BreakoutRoomSpec { title: Some("Room A".into()) }],
                ..CreateBreakoutRoomsParams::new(&env.account)
            },
        )
        .await
        .unwrap()
        .data
        .breakout_rooms;
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].parent_meeting_id.as_deref(), Some(meeting.as_str()));
    let room = rooms[0].meeting.id.clone();
    let moved = active
        .move_participants(
            &env.app,
            &meeting,
            &MoveParticipantsParams {
                to_meeting_id: room.clone(),
                custom_participant_ids: Some(vec!["b".into()]),
                ..MoveParticipantsParams::new(&env.account)
            },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(moved.action, "move");
    assert_eq!(moved.moved[0].from_peer_id, jb.peer_id);
    assert_eq!(moved.moved[0].meeting_id, room);
    until(&mut b, |e| matches!(e, Event::Server(ServerEvent::Moved { .. }))).await;
    let listed = active.get_breakout_rooms(&env.app, &meeting, &acc).await.unwrap().data.breakout_rooms;
    assert_eq!(listed[0].session.clone().flatten().map(|s| s.live_participants), Some(1));
    let details = kit
        .sessions()
        .get_session_details(
            &env.app,
            &ja.session_id,
            &GetSessionDetailsParams {
                include_breakout_rooms: Some(true),
                ..GetSessionDetailsParams::new(&env.account)
            },
        )
        .await
        .unwrap()
        .data
        .session;
    assert_eq!(details.breakout_rooms.as_ref().map(Vec::len), Some(1));
    assert_eq!(details.breakout_rooms.unwrap()[0].parent_session_id.as_deref(), Some(ja.session_id.as_str()));

    // Kick c, then everyone.
    let kicked = active.kick_participants(&env.app, &meeting, &who(&["c"])).await.unwrap().data;
    assert_eq!(kicked.action, "kick");
    assert_eq!(kicked.kicked_peers_count, Some(1));
    until(&mut c, |e| matches!(e, Event::Server(ServerEvent::Kicked { .. }))).await;
    let ended = active.kick_all_participants(&env.app, &meeting, &acc).await.unwrap().data;
    assert_eq!(ended.action, "kick-all");
    assert_eq!(ended.session_id.as_deref(), Some(ja.session_id.as_str()));
    assert_eq!(ended.kicked_participants_count, Some(1), "only a is left in the main session");
    until(&mut a, |e| matches!(e, Event::Server(ServerEvent::Kicked { .. }))).await;
    let e = active.get_active_session(&env.app, &meeting, &acc).await.unwrap_err();
    assert!(e.is_not_found());
}
