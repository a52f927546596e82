//! Secrets at rest and in links: sealed signing keys, the key file, file modes, CSV cells a
//! spreadsheet would run, and download links that do not trust the client's headers.

use std::sync::Arc;

use rtk_api::gateway::{ClientMessage, ServerEvent};
use rtk_server::tokens::ParticipantClaims;
use rtk_server::{Config, ManualClock, Server, Store};
use serde_json::{json, Value};

use crate::both;
use crate::gateway::Room;
use crate::harness::{Db, TestDb, TestServer, T0};

fn config(db: &TestDb) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: db.dir.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        reaper_interval: None,
        ..Config::default()
    }
}

async fn stored_secrets(store: &Store) -> Vec<(String, String)> {
    store.signing_keys().await.unwrap().into_iter().map(|k| (k.kid, k.secret)).collect()
}

fn claims(n: i64) -> ParticipantClaims {
    ParticipantClaims {
        sub: "p".into(),
        participant_id: "p".into(),
        meeting_id: "m".into(),
        app_id: "a".into(),
        account_id: "acc".into(),
        preset_name: "host".into(),
        iat: T0 / 1000,
        exp: T0 / 1000 + 3600 + n,
        jti: format!("j{n}"),
    }
}

/// Defect: the signing keys sat in the database as plain hex, so a copy of the database
/// let anyone forge tokens. Now they are sealed with the key file's KEK; a plain key from an
/// older version is sealed in place at start and tokens it signed stay valid.
async fn plain_keys_are_sealed_in_place(db: Db) {
    let Some(tdb) = TestDb::new(db).await else { return };
    // What an older rtk left: one plain active key, and a token it signed.
    let store = Store::connect(&tdb.url).await.unwrap();
    let plain = "11".repeat(32);
    store
        .ensure_signing_key(&rtk_server::store::KeyRow {
            kid: "old-key".into(),
            secret: plain.clone(),
            active: true,
            created_at: T0,
        })
        .await
        .unwrap();
    store.close().await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("old-key".into());
    let old_token =
        jsonwebtoken::encode(&header, &claims(0), &jsonwebtoken::EncodingKey::from_secret(&[0x11; 32]))
            .unwrap();

    let server = Server::start(config(&tdb), Arc::new(ManualClock::new(T0))).await.expect("starts");
    let keys = &server.state().keys;
    assert_eq!(keys.verify(&old_token, T0).await.expect("the old token stays valid"), claims(0));
    let rows = stored_secrets(&server.state().store).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1.starts_with("sealed:v1:"), "sealed in place: {rows:?}");
    assert!(!rows[0].1.contains(&plain));
    // New tokens, and rotation: every stored key sealed, every token still valid.
    let t1 = keys.sign(&claims(1)).await.unwrap();
    rtk_server::admin::rotate_keys(keys, T0).await.unwrap();
    let t2 = keys.sign(&claims(2)).await.unwrap();
    for (t, n) in [(&old_token, 0), (&t1, 1), (&t2, 2)] {
        assert_eq!(keys.verify(t, T0).await.unwrap(), claims(n));
    }
    let rows = stored_secrets(&server.state().store).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|(_, s)| s.starts_with("sealed:v1:")), "{rows:?}");
    // The database alone does not sign: the sealed text used as a key forges nothing.
    for (kid, sealed) in &rows {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some(kid.clone());
        for secret in
            [sealed.as_bytes().to_vec(), hex::decode(sealed.trim_start_matches("sealed:v1:")).unwrap()]
        {
            let forged =
                jsonwebtoken::encode(&h, &claims(9), &jsonwebtoken::EncodingKey::from_secret(&secret))
                    .unwrap();
            assert!(keys.verify(&forged, T0).await.is_err());
        }
    }
    // A restart with the same key file opens them.
    drop(server);
    let again = Server::start(config(&tdb), Arc::new(ManualClock::new(T0))).await.expect("restarts");
    assert!(again.state().keys.verify(&t2, T0).await.is_ok());
    assert!(again.state().keys.verify(&old_token, T0).await.is_ok());
}

/// Defect: nothing tied the database to a key file. Now a wrong or missing key file is a
/// startup error naming the file, and no new key is made.
async fn wrong_key_file_is_a_startup_error(db: Db) {
    let Some(tdb) = TestDb::new(db).await else { return };
    let first = Server::start(config(&tdb), Arc::new(ManualClock::new(T0))).await.expect("starts");
    let store = first.state().store.clone();
    let before = stored_secrets(&store).await;
    drop(first);
    let key_file = tdb.dir.path().join("signing.key");
    let good = std::fs::read(&key_file).unwrap();
    // Another deployment's key file.
    let other = tdb.dir.path().join("other.key");
    rtk_server::secrets::Kek::create(&other).unwrap();
    std::fs::copy(&other, &key_file).unwrap();
    let err = Server::start(config(&tdb), Arc::new(ManualClock::new(T0))).await.err().expect("refuses");
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!(
            "the signing key file {} does not open the keys in the database",
            key_file.display()
        )),
        "{msg}"
    );
    // Configured elsewhere (--signing-key-file): same check.
    let mut cfg = config(&tdb);
    cfg.signing_key_file = Some(other.clone());
    let err = Server::start(cfg, Arc::new(ManualClock::new(T0))).await.err().expect("refuses");
    assert!(format!("{err:#}").contains(&other.display().to_string()), "{err:#}");
    // Missing.
    std::fs::remove_file(&key_file).unwrap();
    let err = Server::start(config(&tdb), Arc::new(ManualClock::new(T0))).await.err().expect("refuses");
    assert!(format!("{err:#}").contains("does not exist"), "{err:#}");
    assert!(!key_file.exists(), "no key file is made up for sealed keys");
    assert_eq!(stored_secrets(&store).await, before, "no new keys");
    // The right file again: starts, same keys.
    std::fs::write(&key_file, &good).unwrap();
    let ok = Server::start(config(&tdb), Arc::new(ManualClock::new(T0))).await.expect("starts");
    assert_eq!(stored_secrets(&ok.state().store).await, before);
}

mod keys {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn plain_sealed_sqlite() {
        super::plain_keys_are_sealed_in_place(crate::harness::Db::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    async fn plain_sealed_postgres() {
        super::plain_keys_are_sealed_in_place(crate::harness::Db::Postgres).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_key_file_sqlite() {
        super::wrong_key_file_is_a_startup_error(crate::harness::Db::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    async fn wrong_key_file_postgres() {
        super::wrong_key_file_is_a_startup_error(crate::harness::Db::Postgres).await;
    }
}

/// Defect: a fresh SQLite data directory was 0755 with a 0644 database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_data_dir_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = tmp.path().join("nested").join("data");
    let cfg = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.clone(),
        reaper_interval: None,
        ..Config::default()
    };
    let server = Server::start(cfg, Arc::new(ManualClock::new(T0))).await.expect("starts");
    // A write, so the -wal and -shm files exist.
    rtk_server::admin::create_account(&server.state().store, Some("x"), T0).await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for f in ["rtk.db", "rtk.db-wal", "rtk.db-shm", "signing.key", "credentials.json"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
}

/// Defect: chat cells beginning with `=`, `+`, `-`, `@`, tab or CR went into the CSV as they
/// were, and a spreadsheet opening the export runs them as formulas.
async fn csv_cells_never_run_as_formulas(s: &TestServer) {
    let room = Room::new(s, json!({"title": "csv"})).await;
    let (st, v) = s
        .post(
            &format!("{}/{}/meetings/{}/participants", s.kit(), room.app, room.meeting),
            json!({"custom_participant_id": "mallory", "preset_name": "host", "name": "=HYPERLINK(\"http://x\")"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let token = v["data"]["token"].as_str().unwrap().to_string();
    let mut a = s.connect(&token).await;
    a.join().await;
    let sid = a.session_id.clone().unwrap();
    let sent = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", "plain", "a=b"];
    for m in sent {
        a.send(&ClientMessage::Chat { message: m.into() }).await;
        a.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
    }
    let (st, v) = s.get(&format!("{}/chat", room.session_url(s, &sid))).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["messages"][0]["message"], "=1+2", "the API keeps the text as sent");
    let url = v["data"]["chat_download_url"].as_str().unwrap();
    let csv = s.http.get(url).send().await.unwrap().text().await.unwrap();
    let rows: Vec<&str> = csv.split('\n').skip(1).filter(|l| !l.is_empty()).collect();
    // The message is the last cell (none of ours holds a comma).
    let messages: Vec<&str> = rows.iter().map(|r| r.rsplit_once(',').unwrap().1).collect();
    assert_eq!(
        messages,
        vec!["'=1+2", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tTAB", "\"'\rCR\"", "plain", "a=b"],
        "{csv}"
    );
    assert!(rows.iter().all(|r| r.contains(",\"'=HYPERLINK(\"\"http://x\"\")\",")), "{csv}");
    a.leave().await;
}

/// Defect: the download link took its host from `X-Forwarded-Host`, which any client sends,
/// so a link could be made to point anywhere. Now it is the configured public URL (default:
/// the listen address) unless forwarded headers are trusted.
async fn download_link_host(db: Db) {
    let forwarded = |rb: reqwest::RequestBuilder| {
        rb.header("x-forwarded-proto", "https").header("x-forwarded-host", "evil.example")
    };
    async fn link(s: &TestServer, f: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> String {
        let room = Room::new(s, json!({"title": "links"})).await;
        let (_, t) = room.person(s, "p").await;
        let mut a = s.connect(&t).await;
        a.join().await;
        let sid = a.session_id.clone().unwrap();
        a.leave().await;
        let rb = s.http.get(format!("{}/chat", room.session_url(s, &sid))).bearer_auth(&s.token);
        let v: Value = f(rb).send().await.unwrap().json().await.unwrap();
        v["data"]["chat_download_url"].as_str().unwrap().to_string()
    }
    // Default: the listen address, whatever the client says.
    let Some(s) = TestServer::start(db).await else { return };
    let url = link(&s, forwarded).await;
    assert!(url.starts_with(&format!("{}/chat-exports/", s.root)), "{url}");
    let csv = s.http.get(&url).send().await.unwrap();
    assert_eq!(csv.status(), 200, "the default link works");
    s.stop().await;
    // Configured.
    let s = TestServer::start_with(db, |c| c.public_url = Some("https://rtk.example.com/base/".into()))
        .await
        .unwrap();
    let url = link(&s, forwarded).await;
    assert!(url.starts_with("https://rtk.example.com/base/chat-exports/"), "{url}");
    s.stop().await;
    // Behind a trusted proxy: its headers.
    let s = TestServer::start_with(db, |c| {
        c.public_url = Some("http://internal:8787".into());
        c.trust_forwarded_headers = true;
    })
    .await
    .unwrap();
    let url = link(&s, forwarded).await;
    assert!(url.starts_with("https://evil.example/chat-exports/"), "{url}");
    let url = link(&s, |rb| rb).await;
    assert!(url.starts_with("http://internal:8787/chat-exports/"), "{url}");
    s.stop().await;
}

both!(csv_injection, super::csv_cells_never_run_as_formulas);

mod links {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::download_link_host(crate::harness::Db::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    async fn postgres() {
        super::download_link_host(crate::harness::Db::Postgres).await;
    }
}
