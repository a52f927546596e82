//! The store conformance suite: the same story against SQLite and PostgreSQL, through the
//! store interface alone.

use crate::harness::{Db, TestDb};
use rtk_server::store::{AppRow, MeetingFilter, MeetingRow, ParticipantRow, PresetRow, StoreError};
use rtk_server::Store;

async fn story(db: Db) {
    let Some(tdb) = TestDb::new(db).await else {
        return;
    };
    let store = Store::connect(&tdb.url).await.unwrap();
    // Migrations are idempotent: connecting again applies nothing and fails nothing.
    let store2 = Store::connect(&tdb.url).await.unwrap();
    assert_eq!(store.account_count().await.unwrap(), 0);
    store.create_account("acc", 1).await.unwrap();
    assert!(matches!(store.create_account("acc", 2).await, Err(StoreError::Conflict(_))));
    assert_eq!(store2.account_count().await.unwrap(), 1);

    let app = AppRow { id: "app".into(), account_id: "acc".into(), name: "A".into(), created_at: 10 };
    store.insert_app(&app).await.unwrap();
    assert_eq!(store.app("acc", "app").await.unwrap(), Some(app.clone()));
    assert_eq!(store.app("other", "app").await.unwrap(), None);

    let p = PresetRow {
        id: "p1".into(),
        app_id: "app".into(),
        name: "host".into(),
        body: "{\"x\":1}".into(),
        created_at: 1,
        updated_at: 1,
    };
    store.insert_preset(&p).await.unwrap();
    let dup = PresetRow { id: "p2".into(), ..p.clone() };
    assert!(matches!(store.insert_preset(&dup).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.preset_by_name("app", "host").await.unwrap().unwrap().id, "p1");

    for i in 0..3 {
        let m = MeetingRow {
            id: format!("m{i}"),
            app_id: "app".into(),
            title: Some(format!("Title_{i}")),
            status: if i == 2 { "INACTIVE".into() } else { "ACTIVE".into() },
            keep_alive_secs: 60,
            body: "{}".into(),
            parent_meeting_id: None,
            created_at: 100 + i,
            updated_at: 100 + i,
        };
        store.insert_meeting(&m).await.unwrap();
    }
    let (rows, total) = store.list_meetings("app", &MeetingFilter::default(), 2, 0).await.unwrap();
    assert_eq!((rows.len(), total), (2, 3));
    assert_eq!(rows[0].id, "m2", "newest first");
    let f = MeetingFilter { search: Some("title_1".into()), ..Default::default() };
    assert_eq!(store.list_meetings("app", &f, 10, 0).await.unwrap().1, 1);
    // `_` is literal in search, not a wildcard.
    let f = MeetingFilter { search: Some("e_".into()), ..Default::default() };
    assert_eq!(store.list_meetings("app", &f, 10, 0).await.unwrap().1, 3);
    let f = MeetingFilter { search: Some("e__".into()), ..Default::default() };
    assert_eq!(store.list_meetings("app", &f, 10, 0).await.unwrap().1, 0);
    let f = MeetingFilter {
        status: Some("INACTIVE".into()),
        start_time: Some(101),
        end_time: Some(102),
        ..Default::default()
    };
    assert_eq!(store.list_meetings("app", &f, 10, 0).await.unwrap().1, 1);

    let part = ParticipantRow {
        id: "pa".into(),
        meeting_id: "m0".into(),
        app_id: "app".into(),
        custom_participant_id: "c".into(),
        preset_id: "p1".into(),
        preset_name: "host".into(),
        name: None,
        picture: Some("http://x/p.png".into()),
        created_at: 5,
        updated_at: 5,
    };
    store.insert_participant(&part).await.unwrap();
    assert_eq!(store.participant_by_id("pa").await.unwrap(), Some(part.clone()));
    assert!(store.delete_participant("m0", "pa").await.unwrap());
    assert!(!store.delete_participant("m0", "pa").await.unwrap());
    assert_eq!(store.participant("m0", "pa").await.unwrap(), None);
}

#[tokio::test]
async fn store_story_sqlite() {
    story(Db::Sqlite).await;
}

#[tokio::test]
async fn store_story_postgres() {
    story(Db::Postgres).await;
}
