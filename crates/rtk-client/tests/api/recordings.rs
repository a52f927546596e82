//! `realtime_kit().recordings()`: a recording of a real session through the SDK, on the
//! manual clock, so its duration is exact.

use rtk_client::params::*;

use crate::harness::env;

#[tokio::test]
async fn record_pause_stop_list() {
    let env = env().await;
    let recs = env.client.realtime_kit().recordings();
    let meeting = env.meeting("Recorded").await;
    let (_p, joined) = env.join(&meeting, "ada").await;
    let start = StartRecordingParams {
        meeting_id: meeting.clone(),
        file_name_prefix: Some("sdk".into()),
        max_seconds: Some(600),
        ..StartRecordingParams::new(&env.account)
    };
    let r = recs.start_recordings(&env.app, &start).await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let rec = r.data;
    assert_eq!(
        (rec.status.as_str(), rec.session_id.as_deref()),
        ("INVOKED", Some(joined.session_id.as_str()))
    );
    assert_eq!(rec.output_file_name, format!("sdk_{}.json", rec.id));
    let acc = AccountParams::new(&env.account);
    let act =
        |a: &str| RecordingActionParams { action: a.into(), ..RecordingActionParams::new(&env.account) };

    env.clock.advance(20_000);
    assert_eq!(
        recs.pause_resume_stop_recording(&env.app, &rec.id, &act("pause")).await.unwrap().data.status,
        "PAUSED"
    );
    env.clock.advance(5_000);
    assert_eq!(
        recs.pause_resume_stop_recording(&env.app, &rec.id, &act("resume")).await.unwrap().data.status,
        "RECORDING"
    );
    let active = recs.get_active_recordings(&env.app, &meeting, &acc).await.unwrap().data;
    assert_eq!(active.id, rec.id);
    env.clock.advance(10_000);
    let err = recs.pause_resume_stop_recording(&env.app, &rec.id, &act("resume")).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409), "{err}");
    recs.pause_resume_stop_recording(&env.app, &rec.id, &act("stop")).await.unwrap();

    let done = recs.get_one_recording(&env.app, &rec.id, &acc).await.unwrap().data;
    assert_eq!((done.status.as_str(), done.recording_duration), ("UPLOADED", Some(30)));
    let url = done.download_url.clone().unwrap();
    let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(done.file_size, Some(body.len() as f64));

    let list = RecordingListParams {
        status: vec!["UPLOADED".into(), "PAUSED".into()],
        meeting_id: Some(meeting.clone()),
        ..RecordingListParams::new(&env.account)
    };
    let page = recs.get_recordings(&env.app, &list).await.unwrap();
    assert_eq!(page.data.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [rec.id.as_str()]);
    assert_eq!(page.data[0].meeting.as_ref().map(|m| m.id.as_str()), Some(meeting.as_str()));
    let none =
        RecordingListParams { status: vec!["ERRORED".into()], ..RecordingListParams::new(&env.account) };
    assert!(recs.get_recordings(&env.app, &none).await.unwrap().data.is_empty());
}

#[tokio::test]
async fn analytics_daywise() {
    let env = env().await;
    let meeting = env.meeting("Counted").await;
    let (_p, _) = env.join(&meeting, "bo").await;
    let params = AnalyticsParams {
        start_date: Some("2025-12-31".into()),
        end_date: Some("2026-01-01".into()),
        ..AnalyticsParams::new(&env.account)
    };
    let a = env.client.realtime_kit().analytics().get_org_analytics(&env.app, &params).await.unwrap().data;
    let days: Vec<(&str, i64)> =
        a.session_stats.day_stats.iter().map(|d| (d.day.as_str(), d.total_sessions)).collect();
    assert_eq!(days, [("2025-12-31", 0), ("2026-01-01", 1)]);
    assert_eq!(a.session_stats.sessions_count, 1);
    let bad = AnalyticsParams { end_date: Some("01/01/2026".into()), ..AnalyticsParams::new(&env.account) };
    let e = env.client.realtime_kit().analytics().get_org_analytics(&env.app, &bad).await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn transcript_and_summary() {
    let env = env().await;
    let meeting = env.meeting("Talked").await;
    let (_p, joined) = env.join(&meeting, "cy").await;
    env.clock.advance(10_000);
    let sessions = env.client.realtime_kit().sessions();
    let t = |ms: i64| rtk_server::clock::rfc3339(1_767_225_600_000 + ms);
    let segs = rtk_api::sessions::SegmentsIn {
        segments: vec![rtk_api::sessions::SegmentIn {
            speaker: Some("Cy".into()),
            participant_id: None,
            text: "Release on Tuesday.".into(),
            start: t(1_000),
            end: t(2_500),
        }],
    };
    let stored =
        sessions.add_transcript_segments(&env.app, &joined.session_id, &env.account, &segs).await.unwrap();
    assert_eq!((stored.data.stored, stored.data.total), (1, 1));
    let p = TranscriptParams { format: Some("SRT".into()), ..TranscriptParams::new(&env.account) };
    let link = sessions.get_session_transcripts(&env.app, &joined.session_id, &p).await.unwrap().data;
    let srt = reqwest::get(&link.transcript_download_url).await.unwrap().text().await.unwrap();
    assert_eq!(srt, "1\n00:00:01,000 --> 00:00:02,500\nCy: Release on Tuesday.\n\n");
    let acc = AccountParams::new(&env.account);
    let job =
        sessions.generate_summary_of_transcripts(&env.app, &joined.session_id, &acc).await.unwrap().data;
    assert_eq!(job.status, "COMPLETED");
    let sum = sessions.get_session_summary(&env.app, &joined.session_id, &acc).await.unwrap().data;
    let md = reqwest::get(&sum.summary_download_url).await.unwrap().text().await.unwrap();
    assert!(md.contains("Release on Tuesday."), "{md}");
}
