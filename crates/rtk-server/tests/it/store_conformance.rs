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
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
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
            meta: "{}".into(),
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
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn import_and_pages_postgres() {
    import_and_pages(Db::Postgres).await;
}

/// Upgrading a database whose live session has a peer dropped under the earlier rule (presence
/// up to its last message, counted in live_count and live_join_sum): migration 0003 moves that
/// peer's presence into closed_ms as of its last message and counts it as dropped.
async fn upgrade_converts_dropped_peers(db: Db) {
    let Some(tdb) = TestDb::new(db).await else { return };
    Store::migrate_upto(&tdb.url, 2).await.unwrap();
    let t0: i64 = 1_000_000;
    tdb.exec(&[
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
    ])
    .await;
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
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn upgrade_postgres() {
    upgrade_converts_dropped_peers(Db::Postgres).await;
}

/// The SHA-384 checksums the sqlx migrator of earlier rtk versions recorded for migrations
/// 1–4 (read from databases it created): the store's own migrator must accept them.
const OLD_CHECKSUMS: [(i64, &str, &str); 4] = [
    (
        1,
        "foundation",
        "9ab8d9c302f9d45148fbefcc93a85188ea3a78b30a89e1f4b4d85403b7a190f2412b45da6b5a6338479557074d48e147",
    ),
    (
        2,
        "sessions",
        "87cdd0102d5d6de876679aa6747159bb9cae00f49db9e6641fe0cdf9120ebeb98d2f50c4b033c497180fc07c28b7d470",
    ),
    (
        3,
        "dropped presence",
        "34901793669c45c0291cdd2095781a00bfda124ba5df86224d485232678316faf634343cf94dc554f2de35ea0ef97d1a",
    ),
    (
        4,
        "chat bounds",
        "d05b82c1bfc1dc8106ded6d3d6ed991bbc5f4c7cdebe66ab197c4839c3645b5a806e76284cf1cd401e4f239a30cbc88e",
    ),
];

/// A database exactly as an rtk that migrated with sqlx left it: its schema (migrations 1–4),
/// sqlx's bookkeeping table and rows, and a live session with a connected and a dropped peer.
async fn old_rtk_database(tdb: &TestDb, tamper: bool) {
    let pg = !tdb.url.starts_with("sqlite:");
    let mut sqls = vec![if pg {
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, \
         execution_time BIGINT NOT NULL)"
            .to_string()
    } else {
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, \
         execution_time BIGINT NOT NULL)"
            .to_string()
    }];
    sqls.push(include_str!("../../migrations/0001_foundation.sql").to_string());
    sqls.push(include_str!("../../migrations/0002_sessions.sql").to_string());
    sqls.push(include_str!("../../migrations/0003_dropped_presence.sql").to_string());
    sqls.push(include_str!("../../migrations/0004_chat_bounds.sql").to_string());
    for (v, desc, sum) in OLD_CHECKSUMS {
        let sum = if tamper && v == 3 { sum.replace('9', "8") } else { sum.to_string() };
        let blob = if pg { format!("decode('{sum}', 'hex')") } else { format!("X'{sum}'") };
        sqls.push(format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ({v}, '{desc}', TRUE, {blob}, 1000)"
        ));
    }
    let t0 = 1_000_000;
    sqls.push("INSERT INTO accounts (id, created_at) VALUES ('acc', 0)".into());
    sqls.push("INSERT INTO apps (id, account_id, name, created_at) VALUES ('app', 'acc', 'a', 0)".into());
    sqls.push("INSERT INTO signing_keys (kid, secret, active, created_at) VALUES ('k1', 'old', 0, 1), ('k2', 'new', 1, 2)".into());
    sqls.push(format!(
        "INSERT INTO sessions (id, app_id, seq, meeting_id, meeting_title, parent_session_id, status, keep_alive_ms, \
         started_at, ended_at, created_at, updated_at, live_count, max_live, peer_count, closed_ms, live_join_sum, \
         last_leave_at, ends_at, dropped_count) VALUES ('s', 'app', 1, 'm', NULL, NULL, 'LIVE', 60000, {t0}, NULL, \
         {t0}, {t0}, 2, 2, 2, 4000, {t0}, NULL, NULL, 1)"
    ));
    sqls.push(format!(
        "INSERT INTO peers (id, session_id, meeting_id, participant_id, custom_participant_id, display_name, \
         preset_name, device, joined_at, left_at, last_seen_at, leave_reason, connected, node_id, created_at, updated_at, \
         dropped_at) VALUES ('on', 's', 'm', 'p1', 'c1', NULL, 'host', NULL, {t0}, NULL, {t0}, NULL, 1, NULL, {t0}, {t0}, NULL), \
         ('off', 's', 'm', 'p2', 'c2', NULL, 'host', NULL, {}, NULL, {}, NULL, 0, NULL, {t0}, {t0}, {})",
        t0 + 1000,
        t0 + 5000,
        t0 + 5000
    ));
    tdb.exec(&sqls).await;
}

/// Databases migrated by the earlier (sqlx) migrator open: their recorded migrations are
/// recognised, the new ones apply, and the flags read back as they were written (on
/// PostgreSQL they are BOOLEAN columns now). A recorded checksum that is not rtk's is refused.
async fn opens_databases_of_the_old_migrator(db: Db) {
    use rtk_server::store::{PeerOrder, SessionRow};
    let Some(tdb) = TestDb::new(db).await else { return };
    old_rtk_database(&tdb, false).await;
    let store = Store::connect(&tdb.url).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(
        keys.iter().map(|k| (k.kid.as_str(), k.active)).collect::<Vec<_>>(),
        [("k2", true), ("k1", false)]
    );
    let on = store.peer("on").await.unwrap().unwrap();
    let off = store.peer("off").await.unwrap().unwrap();
    assert!(on.connected && !off.connected);
    let s: SessionRow = store.session("app", "s").await.unwrap().unwrap();
    assert_eq!(s.presence_ms(1_010_000), 14_000);
    // The new indexes serve the participants list: the dropped peer's presence is fixed at 4 s.
    let page = store.session_peers_page("s", PeerOrder::Duration, false, 1_002_000, 10, 0).await.unwrap();
    assert_eq!(page.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["on", "off"]);
    // Opening again applies nothing.
    store.close().await;
    Store::connect(&tdb.url).await.unwrap();

    let Some(tampered) = TestDb::new(db).await else { return };
    old_rtk_database(&tampered, true).await;
    let err = Store::connect(&tampered.url).await.unwrap_err().to_string();
    assert!(err.contains("migration 3 is not rtk's"), "{err}");
}

#[tokio::test]
async fn old_migrator_sqlite() {
    opens_databases_of_the_old_migrator(Db::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn old_migrator_postgres() {
    opens_databases_of_the_old_migrator(Db::Postgres).await;
}

/// Engine-owned changes that are one transaction each: creating breakout rooms is all or
/// nothing, and removing a participant deletes it and ends its live peers together.
async fn one_transaction_each(db: Db) {
    use rtk_server::store::JoinSpec;
    let Some(tdb) = TestDb::new(db).await else { return };
    let store = Store::connect(&tdb.url).await.unwrap();
    store.create_account("acc", 0).await.unwrap();
    store
        .insert_app(&AppRow { id: "app".into(), account_id: "acc".into(), name: "A".into(), created_at: 0 })
        .await
        .unwrap();
    let meeting = |id: &str, parent: Option<&str>| MeetingRow {
        id: id.into(),
        app_id: "app".into(),
        title: Some(id.to_uppercase()),
        status: "ACTIVE".into(),
        keep_alive_secs: 60,
        body: "{}".into(),
        parent_meeting_id: parent.map(str::to_string),
        created_at: 1,
        updated_at: 1,
    };
    store.insert_meeting(&meeting("root", None)).await.unwrap();
    // The second room's id is taken: neither room is created.
    let err =
        store.insert_breakout_rooms(&[meeting("r1", Some("root")), meeting("root", Some("root"))]).await;
    assert!(err.is_err());
    assert!(store.child_meetings("root").await.unwrap().is_empty());
    store.insert_breakout_rooms(&[meeting("r1", Some("root")), meeting("r2", Some("root"))]).await.unwrap();
    let rooms: Vec<String> = store.child_meetings("root").await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(rooms, ["r1", "r2"]);

    let part = ParticipantRow {
        id: "pa".into(),
        meeting_id: "root".into(),
        app_id: "app".into(),
        custom_participant_id: "c".into(),
        preset_id: "p".into(),
        preset_name: "host".into(),
        name: None,
        picture: None,
        created_at: 1,
        updated_at: 1,
    };
    store.insert_participant(&part).await.unwrap();
    let join = |meeting: &str, peer: &str| JoinSpec {
        app_id: "app".into(),
        meeting_id: meeting.into(),
        meeting_title: None,
        keep_alive_ms: 60_000,
        parent_session_id: None,
        peer_id: peer.into(),
        participant_id: "pa".into(),
        custom_participant_id: "c".into(),
        display_name: None,
        preset_name: "host".into(),
        device: None,
        node_id: None,
    };
    let main = store.join_peer(&join("root", "p1"), 1_000).await.unwrap().session;
    let room = store.join_peer(&join("r1", "p2"), 2_000).await.unwrap().session;
    store.join_peer(&join("root", "p3"), 3_000).await.unwrap();
    store.leave_peer("p3", 4_000, "left", 4_000).await.unwrap().unwrap();
    assert_eq!(store.remove_participant("other", "pa", "participant_deleted", 10_000).await.unwrap(), None);
    let left = store.remove_participant("root", "pa", "participant_deleted", 10_000).await.unwrap().unwrap();
    let mut ids: Vec<&str> = left.iter().map(|(_, p)| p.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["p1", "p2"], "the live peers leave; the one gone already is untouched");
    for (s, p) in &left {
        assert_eq!((p.left_at, p.leave_reason.as_deref()), (Some(10_000), Some("participant_deleted")));
        assert_eq!(s.live_count, 0);
    }
    assert_eq!(store.peer("p3").await.unwrap().unwrap().left_at, Some(4_000));
    assert_eq!(store.participant("root", "pa").await.unwrap(), None);
    assert_eq!(store.session("app", &main.id).await.unwrap().unwrap().live_count, 0);
    assert_eq!(store.session("app", &room.id).await.unwrap().unwrap().presence_ms(20_000), 8_000);
    assert_eq!(store.remove_participant("root", "pa", "participant_deleted", 11_000).await.unwrap(), None);
}

#[tokio::test]
async fn one_transaction_each_sqlite() {
    one_transaction_each(Db::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn one_transaction_each_postgres() {
    one_transaction_each(Db::Postgres).await;
}
