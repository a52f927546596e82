//! Test harness: a real rtk server on a random loopback port, on a fresh SQLite file or a
//! fresh PostgreSQL database, with a manual clock. Talk to it with real HTTP.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rtk_server::{Config, ManualClock, Server, Store};
use serde_json::Value;

/// Where tests find PostgreSQL (trust auth); each test creates its own database there.
pub fn pg_admin_url() -> String {
    std::env::var("RTK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A database for one test. PostgreSQL databases are dropped when this is dropped.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL is wanted but unreachable and
    /// `RTK_TEST_REQUIRE_PG` is not set (CI sets it, so there the test fails instead).
    pub async fn new(db: Db) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("tempdir");
        match db {
            Db::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("rtk.db").display());
                Some(TestDb { url, dir, pg_name: None })
            }
            Db::Postgres => {
                use sqlx::Connection;
                let admin = pg_admin_url();
                let conn = sqlx::PgConnection::connect(&admin).await;
                let mut conn = match conn {
                    Ok(c) => c,
                    Err(e) if std::env::var_os("RTK_TEST_REQUIRE_PG").is_none() => {
                        skipped(&admin, &e.to_string());
                        return None;
                    }
                    Err(e) => {
                        panic!("PostgreSQL at {admin} is required (RTK_TEST_REQUIRE_PG) but unreachable: {e}")
                    }
                };
                let name = format!("rtk_t_{}", uuid_simple());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
                Some(TestDb { url: format!("{base}/{name}"), dir, pg_name: Some(name) })
            }
        }
    }
}

/// Says that this test is skipped where the run shows it: straight to the process's stderr,
/// which the test harness does not capture (`eprintln!` it would, and hide behind `ok`).
/// libtest still counts the test as passed: its name in this line is the record.
fn skipped(admin: &str, why: &str) {
    use std::io::Write;
    static FIRST: std::sync::Once = std::sync::Once::new();
    let mut err = std::io::stderr().lock();
    FIRST.call_once(|| {
        let _ = writeln!(
            err,
            "\nSKIPPED (not run, reported as ok): the PostgreSQL tests below; PostgreSQL at {admin} is unreachable ({why}). \
             Set RTK_TEST_PG_URL to one, or RTK_TEST_REQUIRE_PG=1 to make this a failure."
        );
    });
    let name = std::thread::current().name().unwrap_or("a PostgreSQL test").to_string();
    let _ = writeln!(err, "SKIPPED: {name}");
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Best effort, on a thread of its own: Drop cannot await.
            let admin = pg_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    use sqlx::Connection;
                    let mut c = sqlx::PgConnection::connect(&admin).await.ok()?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}

impl TestDb {
    /// Runs statements on the database directly, outside the store (each its own transaction).
    pub async fn exec(&self, sqls: &[String]) {
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            let c = rusqlite::Connection::open(path).expect("open the SQLite file");
            for sql in sqls {
                c.execute_batch(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        } else {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&self.url).await.expect("connect to PostgreSQL");
            for sql in sqls {
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }

    /// The number of rows in `table`, read outside the store.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            let c = rusqlite::Connection::open(path).expect("open the SQLite file");
            c.query_row(&sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
        } else {
            use sqlx::{Connection, Row};
            let mut c = sqlx::PgConnection::connect(&self.url).await.expect("connect to PostgreSQL");
            sqlx::query(&sql).fetch_one(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
        }
    }
}

pub fn uuid_simple() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}{}", t, std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// A running server and what the first start created.
pub struct TestServer {
    pub root: String,
    pub account: String,
    pub token: String,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    pub store: Store,
    pub engine: rtk_server::engine::Engine,
    /// The running server's shared state (for tests that drive its services directly).
    pub state: rtk_server::state::AppState,
    pub db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// 2026-01-01T00:00:00Z: a fixed start for the manual clock.
pub const T0: i64 = 1_767_225_600_000;

impl TestServer {
    pub async fn start(db: Db) -> Option<TestServer> {
        Self::start_with(db, |_| {}).await
    }

    pub async fn start_with(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<TestServer> {
        let db = TestDb::new(db).await?;
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: db.dir.path().to_path_buf(),
            database_url: Some(db.url.clone()),
            auth_cache_ttl: Duration::ZERO,
            // Tests drive time-based work themselves with `TestServer::tick`.
            reaper_interval: None,
            ..Config::default()
        };
        tweak(&mut config);
        // A test that runs the server on its own manual clock (the admin clock) drives that one.
        let clock = config.manual_clock.clone().unwrap_or_else(|| ManualClock::new(T0));
        let server = Server::start(config, Arc::new(clock.clone())).await.expect("server starts");
        let boot = server.bootstrap.clone().expect("first start creates credentials");
        let root = format!("http://{}", server.local_addr());
        let store = server.state().store.clone();
        let engine = server.state().engine.clone();
        let state = server.state().clone();
        let (tx, task) = run_in_background(server);
        Some(TestServer {
            root,
            account: boot.account_id,
            token: boot.token,
            clock,
            http: reqwest::Client::new(),
            store,
            engine,
            state,
            db,
            stop: Some(tx),
            task: Some(task),
        })
    }

    /// Another node on this server's database (PostgreSQL), as a second `rtk serve` would be:
    /// its own data directory (so its own node id), the same key file, the same manual clock;
    /// the same credentials work on it. Its reaper is driven by the test, like this one's.
    pub async fn another_node(&self) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            database_url: Some(self.db.url.clone()),
            auth_cache_ttl: Duration::ZERO,
            reaper_interval: None,
            signing_key_file: Some(self.db.dir.path().join(rtk_server::secrets::KEY_FILE_NAME)),
            ..Config::default()
        };
        let server = Server::start(config, Arc::new(self.clock.clone())).await.expect("another node starts");
        assert!(server.bootstrap.is_none(), "the second node finds the first one's credentials");
        let root = format!("http://{}", server.local_addr());
        let (store, engine, state) =
            (server.state().store.clone(), server.state().engine.clone(), server.state().clone());
        let (tx, task) = run_in_background(server);
        TestServer {
            root,
            account: self.account.clone(),
            token: self.token.clone(),
            clock: self.clock.clone(),
            http: reqwest::Client::new(),
            store,
            engine,
            state,
            // The database belongs to the first node: this handle does not drop it.
            db: TestDb { url: self.db.url.clone(), dir, pg_name: None },
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// `{root}/client/v4/accounts/{account}/realtime/kit`.
    pub fn kit(&self) -> String {
        format!("{}/client/v4/accounts/{}/realtime/kit", self.root, self.account)
    }

    /// Sends a request with this server's token; returns status and parsed JSON body.
    pub async fn call(&self, method: Method, url: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.expect("request is sent");
        let status = resp.status();
        let text = resp.text().await.expect("body is read");
        let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is JSON: {text}"));
        (status, v)
    }

    pub async fn get(&self, url: &str) -> (StatusCode, Value) {
        self.call(Method::GET, url, None).await
    }
    pub async fn post(&self, url: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, url, Some(body)).await
    }

    /// Creates an app; its id.
    pub async fn app(&self, name: &str) -> String {
        let (st, v) = self.post(&format!("{}/apps", self.kit()), serde_json::json!({"name": name})).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v["data"]["app"]["id"].as_str().unwrap().to_string()
    }

    /// Creates a preset named `name` in `app`; its id.
    pub async fn preset(&self, app: &str, name: &str) -> String {
        let (st, v) = self.post(&format!("{}/{app}/presets", self.kit()), preset_doc(name)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v["data"]["id"].as_str().unwrap().to_string()
    }

    /// Creates a meeting; its id.
    pub async fn meeting(&self, app: &str, body: Value) -> String {
        let (st, v) = self.post(&format!("{}/{app}/meetings", self.kit()), body).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v["data"]["id"].as_str().unwrap().to_string()
    }

    /// Adds a participant; the response's `data` (with `id` and `token`).
    pub async fn participant(&self, app: &str, meeting: &str, cpid: &str, preset: &str) -> Value {
        let (st, v) = self
            .post(
                &format!("{}/{app}/meetings/{meeting}/participants", self.kit()),
                serde_json::json!({"custom_participant_id": cpid, "preset_name": preset, "name": cpid}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v["data"].clone()
    }

    /// Moves the clock by `ms` and applies what became due (heartbeat timeouts, keep-alive).
    pub async fn advance(&self, ms: i64) {
        self.clock.advance(ms);
        self.tick().await;
    }

    /// Moves the manual clock by `ms` as the admin endpoint does (`Engine::advance`): what
    /// falls due on the way is applied at its moment, and peers with an open connection stay.
    pub async fn pass(&self, ms: i64) {
        use rtk_server::clock::Clock;
        self.engine.advance(&self.clock, self.clock.now() + ms).await.expect("advance");
    }

    /// A new app with the `host` preset and a meeting made from `meeting` (a create body).
    pub async fn room(&self, meeting: Value) -> Room {
        let app = self.app("room").await;
        self.preset(&app, "host").await;
        let meeting = self.meeting(&app, meeting).await;
        Room { app, meeting }
    }

    /// A new participant `name` (preset `host`) of the room's meeting, joined over the gateway.
    pub async fn joined(&self, r: &Room, name: &str) -> crate::ws::Client {
        let p = self.participant(&r.app, &r.meeting, name, "host").await;
        let mut c = self.connect(p["token"].as_str().unwrap()).await;
        c.join().await;
        c
    }

    pub async fn tick(&self) {
        self.engine.tick().await.expect("tick");
    }

    /// `ws://…/gateway/v1?token=…`
    pub fn gateway_url(&self, token: &str) -> String {
        format!("{}/gateway/v1?token={token}", self.root.replacen("http", "ws", 1))
    }

    /// Connects a participant to the gateway and reads its `hello`.
    pub async fn connect(&self, token: &str) -> crate::ws::Client {
        crate::ws::Client::connect(&self.gateway_url(token)).await
    }

    /// Stops the server and hands back its database.
    pub async fn stop_keep_db(mut self) -> TestDb {
        self.shutdown().await;
        let TestServer { db, .. } = self;
        db
    }

    async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// Runs `server` on a task until the sender is used (or dropped).
fn run_in_background(server: Server) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server
            .run(async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
    });
    (tx, task)
}

/// An app and a meeting of it (`TestServer::room`).
pub struct Room {
    pub app: String,
    pub meeting: String,
}

/// `T0 + ms` as the API writes times.
pub fn at(ms: i64) -> String {
    rtk_server::clock::rfc3339(T0 + ms)
}

/// A complete preset document as the official SDKs send it.
pub fn preset_doc(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "config": {
            "max_screenshare_count": 1,
            "max_video_streams": {"desktop": 6, "mobile": 4},
            "media": {
                "screenshare": {"frame_rate": 5, "quality": "hd"},
                "video": {"frame_rate": 30, "quality": "hd", "simulcast": true},
                "audio": {"enable_high_bitrate": false, "enable_stereo": false}
            },
            "view_type": "GROUP_CALL"
        },
        "permissions": {
            "accept_waiting_requests": true, "can_accept_production_requests": true,
            "can_change_participant_permissions": true, "can_edit_display_name": true,
            "can_livestream": false, "can_record": true, "can_spotlight": true,
            "chat": {"private": {"can_receive": true, "can_send": true, "files": true, "text": true},
                     "public": {"can_send": true, "files": true, "text": true}},
            "connected_meetings": {"can_alter_connected_meetings": true, "can_switch_connected_meetings": true, "can_switch_to_parent_meeting": true},
            "disable_participant_audio": false, "disable_participant_screensharing": false,
            "disable_participant_video": false, "hidden_participant": false, "kick_participant": true,
            "media": {"audio": {"can_produce": "ALLOWED"}, "screenshare": {"can_produce": "ALLOWED"}, "video": {"can_produce": "ALLOWED"}},
            "pin_participant": true,
            "plugins": {"can_close": true, "can_edit_config": true, "can_start": true, "config": {}},
            "polls": {"can_create": true, "can_view": true, "can_vote": true},
            "recorder_type": "NONE", "show_participant_list": true, "waiting_room_type": "SKIP"
        },
        "ui": {"design_tokens": {
            "border_radius": "rounded", "border_width": "thin",
            "colors": {"background": {"1000": "#010101", "600": "#222222", "700": "#1f1f1f", "800": "#1b1b1b", "900": "#181818"},
                       "brand": {"300": "#844d1c", "400": "#9d5b22", "500": "#b56927", "600": "#d37c30", "700": "#d9904f"},
                       "danger": "#FF2D2D", "success": "#62A504", "text": "#EEEEEE", "text_on_brand": "#EEEEEE",
                       "video_bg": "#191919", "warning": "#FFCD07"},
            "spacing_base": 4, "theme": "dark", "logo": ""
        }}
    })
}

/// Declares `$name::sqlite` and `$name::postgres`, each running `$body(server)`; with a
/// third argument, on a server whose config that closure tweaks first.
#[macro_export]
macro_rules! both {
    ($name:ident, $f:path) => {
        $crate::both!($name, $f, |_: &mut rtk_server::Config| {});
    };
    ($name:ident, $f:path, $tweak:expr) => {
        mod $name {
            async fn run(db: $crate::harness::Db) {
                if let Some(s) = $crate::harness::TestServer::start_with(db, $tweak).await {
                    $f(&s).await;
                    s.stop().await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::harness::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(rtk_no_pg, ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set")]
            async fn postgres() {
                run($crate::harness::Db::Postgres).await
            }
        }
    };
}
