//! Persistence: one interface over SQLite (default, WAL) and PostgreSQL.
//!
//! Both backends run the same SQL text through their native drivers (`db.rs`): rusqlite for
//! SQLite, sqlx's PostgreSQL driver. Ids are opaque TEXT, timestamps BIGINT milliseconds, JSON
//! documents TEXT (kept byte for byte as given); flags are BOOLEAN on PostgreSQL and INTEGER
//! 0/1 on SQLite. Invariants that must hold across nodes (one LIVE session per meeting, …) are
//! constraints in the schema.
//!
//! SQLite allows one writer at a time: the store has one writer connection, and taking it is
//! the writer lock, so two transactions never deadlock on lock upgrade. PostgreSQL needs no
//! such lock.

mod accounts;
pub(crate) mod analytics;
mod apps;
mod breakout;
mod chat;
pub(crate) mod db;
mod import;
pub(crate) mod livestreams;
mod meetings;
mod migrate;
mod nodes;
mod participants;
mod peers;
mod presets;
pub(crate) mod recordings;
mod sessions;
pub(crate) mod transcripts;
pub(crate) mod webhooks;

pub use accounts::{AccountRow, KeyRow, TokenRow};
pub use apps::AppRow;
pub use chat::ChatRow;
pub use db::{DbError, WriteTx};
pub use import::Dump;
pub use livestreams::{LivestreamFilter, LivestreamRow, LivestreamSessionRow, NewLivestream};
pub use meetings::{MeetingFilter, MeetingRow};
pub use participants::ParticipantRow;
pub use peers::{Dropped, JoinSpec, Joined, PeerGap, PeerOrder, PeerRow};
pub use presets::PresetRow;
pub use recordings::{Action as RecordingAction, NewRecording, RecordingFilter, RecordingRow};
pub use sessions::{SessionFilter, SessionRow, SessionState};
pub use transcripts::{SegmentRow, SummaryRow};
pub use webhooks::{
    AttemptRecord, AttemptRow, Claimed, DeliveryRow, OutboxStats, Outcome, WebhookKeyRow, WebhookRow,
};

use std::sync::Arc;
use std::time::Duration;

use db::{Db, Lite};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(DbError),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    backend: Backend,
    /// SQLite only (one process owns the file, so it sees every write): sessions by id,
    /// written through in commit order, so session reads need no query.
    sessions: Option<Arc<std::sync::RwLock<sessions::SessionCache>>>,
    /// SQLite only: the queue of joins for the group commit (see `Store::batch_joins`).
    joins: Option<tokio::sync::mpsc::UnboundedSender<peers::JoinReq>>,
    /// Woken after a commit that wrote webhook events (the delivery worker waits on it).
    outbox: Arc<tokio::sync::Notify>,
    /// Makes the chat download links `meeting.chatSynced` carries (set once the server has
    /// its keys and public URL; without it that event is not written).
    links: Arc<std::sync::OnceLock<Arc<dyn ChatLinks>>>,
}

/// Makes a signed download link for a session's chat export, inside a store transaction
/// (so it must not touch the store itself).
pub trait ChatLinks: Send + Sync + std::fmt::Debug {
    /// The link and its expiry for the chat of `session_id` (of app `app_id`), made at `now`;
    /// `None` if no link can be made (no active signing key).
    fn chat_link(
        &self,
        session_id: &str,
        app_id: &str,
        now: crate::clock::Millis,
    ) -> Option<(String, crate::clock::Millis)>;

    /// The link and its expiry for the transcript (CSV) of `session_id`, made at `now`.
    fn transcript_link(
        &self,
        session_id: &str,
        app_id: &str,
        now: crate::clock::Millis,
    ) -> Option<(String, crate::clock::Millis)>;

    /// The `ingest_server` and `playback_url` of livestream `livestream_id`; `None` when
    /// livestreaming is off (no RTMP listener).
    fn livestream_urls(&self, _livestream_id: &str) -> Option<(String, String)> {
        None
    }
}

/// How long the first connection to the database may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The file behind a `sqlite:` URL; `None` for in-memory databases.
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(percent_decode(path)))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn suffixed(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// Before the store opens a SQLite file: a new path is created empty with mode 0600 (so the
/// database is never readable by others, whatever the umask); an existing file must look
/// like a SQLite database, and loose modes are warned about.
fn prepare_sqlite_file(path: &std::path::Path) -> StoreResult<()> {
    use std::io::Read;
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match crate::secrets::create_private_file(path) {
                Ok(_) => Ok(()),
                // Created by another process meanwhile: check it as an existing file.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => prepare_sqlite_file(path),
                Err(e) => Err(StoreError::Invalid(format!("cannot create the database {shown}: {e}"))),
            };
        }
        Err(e) => return Err(StoreError::Invalid(format!("cannot open the database {shown}: {e}"))),
    };
    if !meta.is_file() {
        return Err(StoreError::Invalid(format!(
            "refusing to open the database {shown}: not a regular file"
        )));
    }
    for p in [path.to_path_buf(), suffixed(path, "-wal"), suffixed(path, "-shm")] {
        crate::secrets::warn_if_loose(&p, 0o600);
    }
    if meta.len() == 0 {
        // In WAL mode a new database's pages may all still be in the -wal file.
        let wal = std::fs::metadata(suffixed(path, "-wal")).map(|m| m.len()).unwrap_or(0);
        if wal == 0 {
            return Err(StoreError::Invalid(format!(
                "refusing to open the database {shown}: it is an empty file, not an rtk database \
                 (remove it to start a new database there)"
            )));
        }
        return Ok(());
    }
    let mut header = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut header))
        .map_err(|e| StoreError::Invalid(format!("cannot read the database {shown}: {e}")))?;
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(StoreError::Invalid(format!(
            "refusing to open the database {shown}: it is not a SQLite database, so not an rtk database"
        )));
    }
    Ok(())
}

/// Opens the SQLite database at `url`: checks the file, then that it is rtk's (before the
/// writer sets WAL mode, so a foreign file is left exactly as it was), then migrates.
fn open_sqlite(url: &str, upto: i64) -> StoreResult<Lite> {
    let Some(path) = sqlite_path(url) else {
        return Err(StoreError::Invalid(format!(
            "unsupported database URL {url:?}: in-memory SQLite databases are not supported, give a file (sqlite://PATH)"
        )));
    };
    let what = format!("the database {}", path.display());
    prepare_sqlite_file(&path)?;
    let cannot = |e: StoreError| match e {
        StoreError::Invalid(m) => StoreError::Invalid(format!("refusing to open {what}: {m}")),
        StoreError::Db(e) => StoreError::Invalid(format!("cannot open {what}: {}", e.cause())),
        e => e,
    };
    {
        let probe = db::lite_probe(&path).map_err(|e| cannot(e.into()))?;
        migrate::lite_check(&probe).map_err(cannot)?;
    }
    let migrated = std::cell::Cell::new(false);
    let lite = Lite::open(&path, |w| {
        migrated.set(true);
        migrate::lite_run(w, upto)
    })
    .map_err(|e| match (e, migrated.get()) {
        (StoreError::Db(e), true) => StoreError::Invalid(format!("cannot migrate {what}: {}", e.cause())),
        (StoreError::Invalid(m), true) => StoreError::Invalid(format!("cannot migrate {what}: {m}")),
        (e, false) => cannot(e),
        (e, _) => e,
    })?;
    // SQLite creates these with the database's mode less the umask; make sure.
    for suffix in ["-wal", "-shm"] {
        crate::secrets::make_private(&suffixed(&path, suffix));
    }
    Ok(lite)
}

/// Opens the PostgreSQL database at `url`: a first connection alone, under the connect
/// timeout, so a failure reports its cause (refused, unknown host, bad password, not a
/// database) rather than the pool's "timed out"; it also checks that the database is rtk's.
async fn open_postgres(url: &str, connect_timeout: Duration, upto: i64) -> StoreResult<sqlx::PgPool> {
    let what = format!("the database at {}", crate::secrets::redact_url(url));
    let probe = async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let checked = migrate::pg_check(&mut conn).await;
        conn.close().await?;
        Ok::<_, StoreError>(checked)
    };
    match tokio::time::timeout(connect_timeout, probe).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(StoreError::Invalid(m)))) => {
            return Err(StoreError::Invalid(format!("refusing to open {what}: {m}")))
        }
        Ok(Ok(Err(StoreError::Db(e))) | Err(StoreError::Db(e))) => {
            return Err(StoreError::Invalid(format!("cannot open {what}: {}", e.cause())))
        }
        Ok(Ok(Err(e)) | Err(e)) => return Err(e),
        Err(_) => {
            return Err(StoreError::Invalid(format!(
                "cannot open {what}: no connection within {} s",
                connect_timeout.as_secs_f64()
            )))
        }
    }
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|e| StoreError::Invalid(format!("cannot open {what}: {}", DbError::from(e).cause())))?;
    migrate::pg_run(&pool, upto).await.map_err(|e| match e {
        StoreError::Db(e) => StoreError::Invalid(format!("cannot migrate {what}: {}", e.cause())),
        StoreError::Invalid(m) => StoreError::Invalid(format!("cannot migrate {what}: {m}")),
        e => e,
    })?;
    Ok(pool)
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations, with
    /// the default connect timeout (5 s). `url` is `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::open(url, DEFAULT_CONNECT_TIMEOUT).await
    }

    /// Opens the database at `url`, giving up after `connect_timeout` on the first connection.
    ///
    /// A SQLite file that does not exist is created (mode 0600) and initialised. An existing
    /// file that is not an rtk database — not SQLite, empty, or a database with tables but
    /// not rtk's migrations — is refused, never re-initialised; so is a PostgreSQL database
    /// with another application's tables. Errors name the path or the URL (password
    /// redacted) and the cause.
    pub async fn open(url: &str, connect_timeout: Duration) -> StoreResult<Self> {
        Self::open_upto(url, connect_timeout, i64::MAX).await
    }

    /// Opens the database at `url` and applies the migrations numbered up to `upto` only,
    /// leaving a database as an older rtk left it (upgrade tests).
    #[doc(hidden)]
    pub async fn migrate_upto(url: &str, upto: i64) -> StoreResult<()> {
        let store = Self::open_upto(url, DEFAULT_CONNECT_TIMEOUT, upto).await?;
        store.close().await;
        Ok(())
    }

    async fn open_upto(url: &str, connect_timeout: Duration, upto: i64) -> StoreResult<Self> {
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                crate::secrets::redact_url(url)
            )));
        };
        let db = match backend {
            Backend::Sqlite => Db::Lite(Arc::new(open_sqlite(url, upto)?)),
            Backend::Postgres => Db::Pg(open_postgres(url, connect_timeout, upto).await?),
        };
        let sessions = (backend == Backend::Sqlite).then(Default::default);
        let mut store = Self {
            db,
            backend,
            sessions,
            joins: None,
            outbox: Default::default(),
            links: Default::default(),
        };
        if backend == Backend::Sqlite {
            // The batcher holds a handle without the queue, so it ends when the last handle
            // that can send to it is dropped.
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(store.clone().batch_joins(rx));
            store.joins = Some(tx);
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Completes after a commit that wrote webhook events to the outbox (on this handle or
    /// a clone of it), or at once if one came since the last wait.
    pub async fn outbox_written(&self) {
        self.outbox.notified().await
    }

    /// Sets what makes chat download links for `meeting.chatSynced` (the first call wins).
    pub fn set_chat_links(&self, links: Arc<dyn ChatLinks>) {
        let _ = self.links.set(links);
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Starts a write transaction (on SQLite it takes the writer connection: the writer lock).
    pub async fn write(&self) -> StoreResult<WriteTx> {
        let mut w = self.db.begin().await?;
        w.outbox = Some(self.outbox.clone());
        w.links = self.links.get().cloned();
        Ok(w)
    }

    /// Is the store reachable?
    pub async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await
    }

    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Refreshes the planner's statistics after a bulk import (PostgreSQL's `ANALYZE`; its
    /// autovacuum would get there within minutes, and until it does a plan may read a whole
    /// session's peers where an index gives the page). Nothing on SQLite, which plans without.
    pub async fn analyze(&self) -> StoreResult<()> {
        if let Db::Pg(p) = &self.db {
            sqlx::query("ANALYZE").execute(p).await?;
        }
        Ok(())
    }
}

/// Maps a unique-constraint violation to `Conflict(msg)`, anything else as it was.
pub(crate) fn conflict_on_unique(e: StoreError, msg: impl FnOnce() -> String) -> StoreError {
    match e {
        StoreError::Db(db) if db.is_unique_violation() => StoreError::Conflict(msg()),
        e => e,
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub(crate) fn like_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A new resource id: a UUID v7, so ids made later sort later (lists ordered by
/// `created_at, id` keep insertion order even within one millisecond).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Every table that holds what apps made, children first: a reset empties them all.
const APP_TABLES: &[&str] = &[
    "peer_gaps",
    "livestream_sessions",
    "livestreams",
    "summaries",
    "transcript_counters",
    "transcript_segments",
    "daily_stats",
    "recordings",
    "webhook_attempts",
    "webhook_outbox",
    "webhooks",
    "chat_counters",
    "chat_messages",
    "polls",
    "peers",
    "sessions",
    "app_counters",
    "participants",
    "meetings",
    "presets",
    "apps",
];

impl Store {
    /// Empties the store of everything apps made — apps, presets, meetings, participants,
    /// sessions, peers, chat, polls, webhooks and their deliveries — keeping accounts, API tokens
    /// and signing keys (the webhook key too), in one
    /// transaction (a test environment's reset between tests).
    pub async fn reset_keeping_credentials(&self) -> StoreResult<()> {
        let mut w = self.write().await?;
        if self.backend == Backend::Postgres {
            // One statement takes every table's lock at once: no row-by-row order to deadlock
            // with a leave or a heartbeat flush.
            w.execute(&format!("TRUNCATE {}", APP_TABLES.join(", ")), &[]).await?;
        } else {
            for t in APP_TABLES {
                w.execute(&format!("DELETE FROM {t}"), &[]).await?;
            }
        }
        let cache = self.sessions.clone();
        w.commit_then(|| {
            if let Some(c) = &cache {
                c.write().unwrap_or_else(|e| e.into_inner()).clear();
            }
        })
        .await
    }
}
