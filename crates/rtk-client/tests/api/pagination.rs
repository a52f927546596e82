//! Auto-paging streams over every list endpoint, across several pages of a real rtk.

use futures_util::{StreamExt, TryStreamExt};
use rtk_client::params::*;

use crate::harness::{env, preset_doc};

#[tokio::test]
async fn apps_presets_and_meetings_across_pages() {
    let env = env().await;
    let kit = env.client.realtime_kit();
    for i in 0..11 {
        kit.apps()
            .post(&AppPostParams { account_id: env.account.clone(), name: format!("app-{i:02}") })
            .await
            .unwrap();
    }
    let per = |n| AppListParams { per_page: Some(n), ..AppListParams::new(&env.account) };
    let first = kit.apps().get(&per(5)).await.unwrap();
    assert_eq!(first.data.len(), 5);
    assert_eq!(first.paging.unwrap().total_count, 12);
    let all: Vec<_> = kit.apps().get_auto_paging(per(5)).try_collect().await.unwrap();
    assert_eq!(all.len(), 12, "3 pages: 5 + 5 + 2");
    let mut names: Vec<_> = all.iter().map(|a| a.name.clone()).collect();
    assert_eq!(names[0], "sdk");
    names.dedup();
    assert_eq!(names.len(), 12, "no duplicates");
    // Starting from page 2 skips the first page.
    let rest: Vec<_> =
        kit.apps().get_auto_paging(AppListParams { page_no: Some(2), ..per(5) }).try_collect().await.unwrap();
    assert_eq!(rest.len(), 7);
    // The default page size too (one page).
    let all: Vec<_> =
        kit.apps().get_auto_paging(AppListParams::new(&env.account)).try_collect().await.unwrap();
    assert_eq!(all.len(), 12);

    for i in 0..6 {
        let mut doc = preset_doc();
        doc["name"] = format!("p{i}").into();
        kit.presets().create(&env.app, &PresetParams::from_document(&env.account, doc)).await.unwrap();
    }
    let presets: Vec<_> = kit
        .presets()
        .get_auto_paging(
            &env.app,
            PresetListParams { per_page: Some(4), ..PresetListParams::new(&env.account) },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(presets.len(), 7);

    for i in 0..7 {
        env.meeting(&format!("m{i}")).await;
    }
    let meetings: Vec<_> = kit
        .meetings()
        .get_auto_paging(
            &env.app,
            MeetingListParams { per_page: Some(3), ..MeetingListParams::new(&env.account) },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(meetings.len(), 7);
    assert_eq!(meetings[0].title.as_deref(), Some("m6"), "newest first");
    // Only what the filter matches.
    let few: Vec<_> = kit
        .meetings()
        .get_auto_paging(
            &env.app,
            MeetingListParams {
                per_page: Some(1),
                search: Some("m1".into()),
                ..MeetingListParams::new(&env.account)
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(few.len(), 1);
}

#[tokio::test]
async fn participants_and_sessions_across_pages() {
    let env = env().await;
    let kit = env.client.realtime_kit();
    let meeting = env.meeting("big").await;
    let mut joined = vec![];
    for i in 0..5 {
        joined.push(env.join(&meeting, &format!("u{i}")).await);
    }
    for i in 5..7 {
        env.participant(&meeting, &format!("u{i}")).await;
    }
    let people: Vec<_> = kit
        .meetings()
        .get_meeting_participants_auto_paging(
            &env.app,
            &meeting,
            ParticipantListParams { per_page: Some(2), ..ParticipantListParams::new(&env.account) },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        people.iter().map(|p| p.custom_participant_id.as_str()).collect::<Vec<_>>(),
        ["u0", "u1", "u2", "u3", "u4", "u5", "u6"]
    );

    let session = joined[0].1.session_id.clone();
    let in_session: Vec<_> = kit
        .sessions()
        .get_session_participants_auto_paging(
            &env.app,
            &session,
            SessionParticipantListParams {
                per_page: Some(2),
                ..SessionParticipantListParams::new(&env.account)
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(in_session.len(), 5);
    assert_eq!(
        in_session.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        joined.iter().map(|(_, j)| j.peer_id.as_str()).collect::<Vec<_>>()
    );

    // Sessions: one per meeting that someone joined.
    let mut others = vec![];
    for i in 0..4 {
        let m = env.meeting(&format!("s{i}")).await;
        others.push(env.join(&m, "x").await);
    }
    let sessions: Vec<_> = kit
        .sessions()
        .get_sessions_auto_paging(
            &env.app,
            SessionListParams { per_page: Some(2), ..SessionListParams::new(&env.account) },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 5);
    let mut ids: Vec<_> = sessions.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    for (p, _) in joined.into_iter().chain(others) {
        p.leave().await.unwrap();
    }
}

#[tokio::test]
async fn the_first_error_ends_the_stream() {
    let env = env().await;
    let mut s = env
        .client
        .realtime_kit()
        .meetings()
        .get_auto_paging("no-such-app", MeetingListParams::new(&env.account));
    let e = s.next().await.unwrap().unwrap_err();
    assert!(e.is_not_found());
    assert!(s.next().await.is_none());
}
