//! Persistence: one interface over SQLite (default, WAL) and PostgreSQL.
//!
//! Both backends run the same portable SQL through sqlx's `Any` driver: ids are opaque TEXT,
//! timestamps BIGINT milliseconds, JSON documents TEXT, flags BIGINT 0/1. Invariants that must
//! hold across nodes (one LIVE session per meeting, …) are constraints in the schema.
//!
//! SQLite allows one writer at a time; write transactions take an in-process lock first so
//! two deferred transactions never deadlock on lock upgrade. PostgreSQL needs no such lock.

mod accounts;
mod apps;
mod breakout;
mod chat;
mod meetings;
mod participants;
mod peers;
mod presets;
mod sessions;

pub use accounts::{AccountRow, KeyRow, TokenRow};
pub use apps::AppRow;
pub use chat::ChatRow;
pub use meetings::{MeetingFilter, MeetingRow};
pub use participants::ParticipantRow;
pub use peers::{JoinSpec, Joined, PeerRow};
pub use presets::PresetRow;
pub use sessions::{SessionFilter, SessionRow, SessionState};

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
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
    pool: AnyPool,
    backend: Backend,
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite only (one process owns the file, so it sees every write): sessions by id,
    /// written through in commit order, so session reads need no query.
    sessions: Option<Arc<std::sync::RwLock<sessions::SessionCache>>>,
    /// SQLite only: the queue of joins for the group commit (see `Store::batch_joins`).
    joins: Option<tokio::sync::mpsc::UnboundedSender<peers::JoinReq>>,
}

/// A write transaction; on SQLite it also holds the writer lock until it ends.
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Commits, then runs `f` while still holding the writer lock (SQLite), so in-process
    /// caches see changes in commit order.
    pub async fn commit_then(self, f: impl FnOnce()) -> StoreResult<()> {
        let WriteTx { tx, _guard } = self;
        tx.commit().await?;
        f();
        drop(_guard);
        Ok(())
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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

/// Before sqlx opens a SQLite file: a new path is created empty with mode 0600 (so the
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

/// Refuses a database that has tables but not rtk's migrations (another application's
/// database, or a file that happens to be SQLite): migrating it would mix rtk's schema into
/// it, and an empty-looking store would re-run first start.
async fn check_is_rtk(conn: &mut sqlx::AnyConnection, backend: Backend) -> StoreResult<()> {
    use sqlx::Row;
    let tables_sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = current_schema()"
        }
    };
    let tables: Vec<String> = sqlx::query(tables_sql)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("name"))
        .collect::<Result<_, _>>()?;
    let has_migrations = tables.iter().any(|t| t == "_sqlx_migrations");
    let others: Vec<&String> = tables.iter().filter(|t| *t != "_sqlx_migrations").collect();
    let mut first_is_ours = false;
    if has_migrations {
        let applied = sqlx::query("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
        for r in &applied {
            let version: i64 = r.try_get("version")?;
            let checksum: Vec<u8> = r.try_get("checksum")?;
            match MIGRATOR.iter().find(|m| m.version == version) {
                Some(m) if *m.checksum == *checksum => first_is_ours |= version == 1,
                Some(_) => {
                    return Err(StoreError::Invalid(format!(
                        "its migration {version} is not rtk's: this is not an rtk database"
                    )))
                }
                None => {
                    return Err(StoreError::Invalid(format!(
                        "it has migration {version}, which this rtk does not know: the database of \
                         another application or of a newer rtk"
                    )))
                }
            }
        }
    }
    if !others.is_empty() && !first_is_ours {
        let mut names: Vec<&str> = others.iter().map(|s| s.as_str()).take(5).collect();
        names.sort_unstable();
        return Err(StoreError::Invalid(format!(
            "it has tables ({}{}) but not rtk's schema: this is not an rtk database",
            names.join(", "),
            if others.len() > 5 { ", …" } else { "" }
        )));
    }
    Ok(())
}

/// An error's cause for a message: the database's own words where there are some.
fn cause(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "no connection in time".to_string(),
        e => e.to_string(),
    }
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
        sqlx::any::install_default_drivers();
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
        let sqlite_file = match backend {
            Backend::Sqlite => sqlite_path(url),
            Backend::Postgres => None,
        };
        let what = match &sqlite_file {
            Some(p) => format!("the database {}", p.display()),
            None => format!("the database at {}", crate::secrets::redact_url(url)),
        };
        if let Some(path) = &sqlite_file {
            prepare_sqlite_file(path)?;
        }
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let mut opts = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        opts = match backend {
            // A connection to a local file cannot go stale: skip the ping sqlx would otherwise
            // send through the connection's worker thread before every use.
            Backend::Sqlite => opts.max_connections(8).test_before_acquire(false).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
                         PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
                    )
                    .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => opts.max_connections(16),
        };
        // A first connection alone, under the connect timeout, so a failure reports its cause
        // (refused, unknown host, bad password, not a database) rather than the pool's "timed
        // out" (the pool retries a refused connection until its own timeout).
        //
        // That connection also checks that the database is rtk's, before the pool's
        // connections set WAL mode: a foreign file is left exactly as it was.
        let probe = async {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(&url).await?;
            let checked = check_is_rtk(&mut conn, backend).await;
            conn.close().await?;
            Ok::<_, StoreError>(checked)
        };
        match tokio::time::timeout(connect_timeout, probe).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(StoreError::Invalid(m)))) => {
                return Err(StoreError::Invalid(format!("refusing to open {what}: {m}")))
            }
            Ok(Ok(Err(StoreError::Db(e))) | Err(StoreError::Db(e))) => {
                return Err(StoreError::Invalid(format!("cannot open {what}: {}", cause(&e))))
            }
            Ok(Ok(Err(e)) | Err(e)) => return Err(e),
            Err(_) => {
                return Err(StoreError::Invalid(format!(
                    "cannot open {what}: no connection within {} s",
                    connect_timeout.as_secs_f64()
                )))
            }
        }
        let pool = opts
            .connect(&url)
            .await
            .map_err(|e| StoreError::Invalid(format!("cannot open {what}: {}", cause(&e))))?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Invalid(format!("cannot migrate {what}: {e}")))?;
        if let Some(path) = &sqlite_file {
            // SQLite creates these with the database's mode less the umask; make sure.
            for suffix in ["-wal", "-shm"] {
                crate::secrets::make_private(&suffixed(path, suffix));
            }
        }
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let sessions = (backend == Backend::Sqlite).then(Default::default);
        let mut store = Self { pool, backend, write_lock, sessions, joins: None };
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

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction.
    pub async fn write(&self) -> StoreResult<WriteTx> {
        let guard = match &self.write_lock {
            Some(l) => Some(l.clone().lock_owned().await),
            None => None,
        };
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _guard: guard })
    }

    /// Is the store reachable?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps a unique-constraint violation to `Conflict(msg)`, anything else to `Db`.
pub(crate) fn conflict_on_unique(e: sqlx::Error, msg: impl FnOnce() -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(msg());
        }
    }
    StoreError::Db(e)
}

/// Reads a column, mapping decode failures to `Db`.
pub(crate) fn col<T>(row: &AnyRow, name: &str) -> StoreResult<T>
where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    Ok(row.try_get::<T, _>(name)?)
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
    /// sessions, peers, chat, polls — keeping accounts, API tokens and signing keys, in one
    /// transaction (a test environment's reset between tests).
    pub async fn reset_keeping_credentials(&self) -> StoreResult<()> {
        let mut w = self.write().await?;
        if self.backend == Backend::Postgres {
            // One statement takes every table's lock at once: no row-by-row order to deadlock
            // with a leave or a heartbeat flush.
            sqlx::query(&format!("TRUNCATE {}", APP_TABLES.join(", "))).execute(&mut *w.tx).await?;
        } else {
            for t in APP_TABLES {
                sqlx::query(&format!("DELETE FROM {t}")).execute(&mut *w.tx).await?;
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
