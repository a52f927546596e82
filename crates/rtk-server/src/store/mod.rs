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
mod meetings;
mod participants;
mod presets;
mod sessions;

pub use accounts::{AccountRow, KeyRow, TokenRow};
pub use apps::AppRow;
pub use meetings::{MeetingFilter, MeetingRow};
pub use participants::ParticipantRow;
pub use presets::PresetRow;
pub use sessions::{ChatRow, JoinSpec, Joined, PeerRow, SessionFilter, SessionRow, SessionState};

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
    joins: Option<tokio::sync::mpsc::UnboundedSender<sessions::JoinReq>>,
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

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    /// `url` is `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL {url:?}: use sqlite://PATH or postgres://…"
            )));
        };
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
        let pool = opts.connect(&url).await?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Db(e.into()))?;
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
