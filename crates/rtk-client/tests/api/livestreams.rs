//! `realtime_kit().livestreams()`: every call, read into rtk-api's types, without media (the
//! ingest itself is tested with ffmpeg in rtk-server's tests/it/livestreams.rs and in the
//! conformance suites). Also the 409 of a server without an RTMP listener.

use rtk_api::livestreams::VideoConfig;
use rtk_client::params::*;

use crate::harness::{env, env_with};

#[tokio::test]
async fn every_livestream_call() {
    let env = env_with(|c| c.livestreams.rtmp_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let ls = env.client.realtime_kit().livestreams();
    let acc = AccountParams::new(&env.account);
    let meeting = env.meeting("Launch").await;

    let start = StartLivestreamParams {
        name: Some("launch".into()),
        video_config: Some(VideoConfig { width: Some(1280), height: Some(720) }),
        ..StartLivestreamParams::new(&env.account)
    };
    let r = ls.start_livestreaming_a_meeting(&env.app, &meeting, &start).await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let live = r.data;
    assert_eq!((live.status.as_str(), live.name.as_deref()), ("INVOKED", Some("launch")));
    assert!(live.ingest_server.starts_with("rtmp://127.0.0.1:") && !live.stream_key.is_empty(), "{live:?}");
    let err = ls.start_livestreaming_a_meeting(&env.app, &meeting, &start).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409), "{err}");

    let active = ls.get_meeting_active_livestreams(&env.app, &meeting, &acc).await.unwrap().data;
    assert_eq!((active.id.as_str(), active.disabled.as_str()), (live.id.as_str(), "false"));
    // Not live until a publisher connects.
    let err = ls.get_active_livestreams_for_livestream_id(&env.app, &live.id, &acc).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");

    let cam = ls
        .create_independent_livestream(
            &env.app,
            &CreateLivestreamParams { name: Some("cam".into()), ..CreateLivestreamParams::new(&env.account) },
        )
        .await
        .unwrap()
        .data;
    assert!(!cam.disabled && cam.meeting_id.is_none());

    let page = ls.get_all_livestreams(&env.app, &LivestreamListParams::new(&env.account)).await.unwrap().data;
    let ids: Vec<&str> = page.livestreams.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, [cam.id.as_str(), live.id.as_str()], "newest first");
    assert_eq!(page.paging.total_count, 2);
    let only =
        LivestreamListParams { exclude_meetings: Some(true), ..LivestreamListParams::new(&env.account) };
    let page = ls.get_all_livestreams(&env.app, &only).await.unwrap().data;
    assert_eq!(page.livestreams.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), [cam.id.as_str()]);

    let stopped = ls.stop_livestreaming_a_meeting(&env.app, &meeting, &acc).await.unwrap().data;
    assert!(stopped.message.contains(&live.id), "{stopped:?}");
    let err = ls.stop_livestreaming_a_meeting(&env.app, &meeting, &acc).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");

    let one = ls
        .get_livestream_session_for_livestream_id(
            &env.app,
            &live.id,
            &LivestreamSessionListParams::new(&env.account),
        )
        .await
        .unwrap()
        .data;
    assert_eq!((one.livestream.status.as_str(), one.livestream.disabled.as_str()), ("IDLE", "true"));
    assert!(one.session.is_none() && one.sessions.is_empty());
    assert_eq!(one.paging.total_count, 0);
    let err = ls.get_livestream_session_details_for_session_id(&env.app, "nope", &acc).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");

    // The harness clock starts at 2026-01-01T00:00:00Z: no ingests, so zeros on every day.
    let range = LivestreamAnalyticsParams {
        start_time: Some(1_767_225_600 - 86_400),
        end_time: Some(1_767_225_600),
        ..LivestreamAnalyticsParams::new(&env.account)
    };
    let totals = ls.get_livestream_analytics_complete(&env.app, &range).await.unwrap().data;
    assert_eq!((totals.count, totals.total_ingest_seconds, totals.total_viewer_seconds), (0, 0, 0));
    let days = ls.get_livestream_analytics_daywise(&env.app, &range).await.unwrap().data;
    assert_eq!(days.iter().map(|d| d.date.as_str()).collect::<Vec<_>>(), ["2025-12-31", "2026-01-01"]);
    let org = ls.get_org_analytics(&env.app, &AnalyticsParams::new(&env.account)).await.unwrap().data;
    assert_eq!(org.session_stats.day_stats.len(), 30);
}

#[tokio::test]
async fn off_without_an_rtmp_listener() {
    let env = env().await;
    let meeting = env.meeting("No RTMP").await;
    let ls = env.client.realtime_kit().livestreams();
    let err = ls
        .start_livestreaming_a_meeting(&env.app, &meeting, &StartLivestreamParams::new(&env.account))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409), "{err}");
    assert!(err.to_string().contains("--rtmp-listen"), "{err}");
}
