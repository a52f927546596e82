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

/// Imported sessions take seqs in the order given; unfiltered pages are seeks on seq.
async fn import_and_pages(db: Db) {
    use rtk_server::store::{SessionFilter, SessionRow};
    let Some(tdb) = TestDb::new(db).await else { return };
    let store = Store::connect(&tdb.url).await.unwrap();
    let rows: Vec<SessionRow> = (0..25)
        .map(|i| SessionRow {
            id: format!("s{i:02}"),
            app_id: "app".into(),
            seq: 0,
            meeting_id: "m".into(),
            meeting_title: None,
            parent_session_id: None,
            status: "ENDED".into(),
            keep_alive_ms: 60_000,
            started_at: i,
            ended_at: Some(i + 10),
            created_at: i,
            updated_at: i + 10,
            live_count: 0,
            max_live: 1,
            peer_count: 1,
            closed_ms: 10,
            live_join_sum: 0,
            last_leave_at: Some(i + 10),
            ends_at: None,
            dropped_count: 0,
        })
        .collect();
    store.import_sessions(&rows[..10]).await.unwrap();
    store.import_sessions(&rows[10..]).await.unwrap();
    assert_eq!(store.session_total("app").await.unwrap(), 25);
    let ids = |v: &Vec<SessionRow>| v.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    let desc = SessionFilter { descending: true, ..Default::default() };
    let (p, total) = store.list_sessions("app", &desc, 0, 10, 20).await.unwrap();
    assert_eq!(
        (ids(&p), total),
        (vec!["s04".into(), "s03".into(), "s02".into(), "s01".into(), "s00".into()], 25)
    );
    let (p, _) = store.list_sessions("app", &desc, 0, 2, 0).await.unwrap();
    assert_eq!(ids(&p), vec!["s24".to_string(), "s23".into()]);
    let asc = SessionFilter::default();
    let (p, _) = store.list_sessions("app", &asc, 0, 3, 10).await.unwrap();
    assert_eq!(ids(&p), vec!["s10".to_string(), "s11".into(), "s12".into()]);
    let (p, _) = store.list_sessions("app", &desc, 0, 10, 30).await.unwrap();
    assert!(p.is_empty());
    // The filtered path orders the same way.
    let f = SessionFilter { live: Some(false), descending: true, ..Default::default() };
    let (p, total) = store.list_sessions("app", &f, 0, 2, 0).await.unwrap();
    assert_eq!((ids(&p), total), (vec!["s24".to_string(), "s23".into()], 25));
    let got = store.session("app", "s07").await.unwrap().unwrap();
    assert_eq!(got.seq, 8);
    assert_eq!(store.session("other-app", "s07").await.unwrap(), None);
}

#[tokio::test]
async fn import_and_pages_sqlite() {
    import_and_pages(Db::Sqlite).await;
}

#[tokio::test]
async fn import_and_pages_postgres() {
    import_and_pages(Db::Postgres).await;
}

/// Upgrading a database whose live session has a peer dropped under the earlier rule (presence
/// up to its last message, counted in live_count and live_join_sum): migration 0003 moves that
/// peer's presence into closed_ms as of its last message and counts it as dropped.
async fn upgrade_converts_dropped_peers(db: Db) {
    use sqlx::any::AnyPoolOptions;
    let Some(tdb) = TestDb::new(db).await else { return };
    sqlx::any::install_default_drivers();
    let url = if tdb.url.starts_with("sqlite:") { format!("{}?mode=rwc", tdb.url) } else { tdb.url.clone() };
    let pool = AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    let all = sqlx::migrate!("./migrations");
    let mut before = sqlx::migrate::Migrator::DEFAULT;
    before.migrations = std::borrow::Cow::Owned(all.iter().filter(|m| m.version <= 2).cloned().collect());
    before.run(&pool).await.unwrap();
    let t0: i64 = 1_000_000;
    for sql in [
        "INSERT INTO accounts (id, created_at) VALUES ('acc', 0)".to_string(),
        "INSERT INTO apps (id, account_id, name, created_at) VALUES ('app', 'acc', 'a', 0)".to_string(),
        format!(
            "INSERT INTO sessions (id, app_id, seq, meeting_id, meeting_title, parent_session_id, status, keep_alive_ms, \
             started_at, ended_at, created_at, updated_at, live_count, max_live, peer_count, closed_ms, live_join_sum, \
             last_leave_at, ends_at) VALUES ('s', 'app', 1, 'm', NULL, NULL, 'LIVE', 60000, {t0}, NULL, {t0}, {t0}, \
             2, 2, 2, 0, {}, NULL, NULL)",
            2 * t0 + 1000
        ),
        format!(
            "INSERT INTO peers (id, session_id, meeting_id, participant_id, custom_participant_id, display_name, \
             preset_name, device, joined_at, left_at, last_seen_at, leave_reason, connected, node_id, created_at, updated_at) \
             VALUES ('on', 's', 'm', 'p1', 'c1', NULL, 'host', NULL, {t0}, NULL, {t0}, NULL, 1, NULL, {t0}, {t0}), \
                    ('off', 's', 'm', 'p2', 'c2', NULL, 'host', NULL, {}, NULL, {}, NULL, 0, NULL, {t0}, {t0})",
            t0 + 1000,
            t0 + 5000
        ),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    pool.close().await;
    let store = Store::connect(&tdb.url).await.unwrap();
    let s = store.session("app", "s").await.unwrap().unwrap();
    assert_eq!((s.live_count, s.dropped_count), (2, 1));
    // At t0 + 10 s: 10 s for the connected peer, 4 s (join to last message) for the dropped one.
    assert_eq!(s.presence_ms(t0 + 10_000), 14_000);
    assert_eq!(store.peer("off").await.unwrap().unwrap().dropped_at, Some(t0 + 5000));
}

#[tokio::test]
async fn upgrade_sqlite() {
    upgrade_converts_dropped_peers(Db::Sqlite).await;
}

#[tokio::test]
async fn upgrade_postgres() {
    upgrade_converts_dropped_peers(Db::Postgres).await;
}
