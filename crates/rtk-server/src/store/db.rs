//! The executor under the store: one set of SQL text, run by each backend's native driver.
//!
//! - SQLite (`rusqlite`): reads run inline on the calling thread, on a small pool of read-only
//!   connections (WAL lets them read while the writer writes); writes run on the one writer
//!   connection, whose lock is the store's writer lock. Statements are prepared once per
//!   connection and cached. `$N` placeholders are bound by number, whatever their order.
//!   A thread of its own checkpoints the WAL, passively; the writer checkpoints inline only
//!   when the WAL has grown large (a long stream of writes with no pause).
//! - PostgreSQL (sqlx `PgPool`): the same SQL, binds typed by the Rust value.
//!
//! Rows are decoded by position (`FromRow`, one implementation per row type for both
//! backends), never by column name.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::postgres::{PgArguments, PgPool, PgRow, Postgres};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{StoreError, StoreResult};

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Str(&'a str),
    OptStr(Option<&'a str>),
    Bool(bool),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        Param::OptInt(v)
    }
}
impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Str(v)
    }
}
impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Str(v)
    }
}
impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::OptStr(v)
    }
}
impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Param::OptStr(v.as_deref())
    }
}
impl From<bool> for Param<'_> {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}

/// `params![a, b, …]`: a slice of statement parameters.
macro_rules! params {
    ($($e:expr),* $(,)?) => {
        &[$($crate::store::db::Param::from($e)),*][..]
    };
}
pub(crate) use params;

/// A WHERE clause built term by term, with its parameters: each `$?` in a term becomes the
/// next `$N`.
pub(crate) struct Cond<'a> {
    pub sql: String,
    pub ps: Vec<Param<'a>>,
}

impl<'a> Cond<'a> {
    pub fn new(first: &str, p: Param<'a>) -> Self {
        let mut c = Cond { sql: String::new(), ps: vec![] };
        c.push(first, p);
        c
    }

    /// Appends `term`, whose one `$?` takes `p`.
    pub fn push(&mut self, term: &str, p: Param<'a>) {
        self.ps.push(p);
        self.sql.push_str(&term.replace("$?", &format!("${}", self.ps.len())));
    }

    /// The next placeholder, for `p`: `$N`.
    pub fn bind(&mut self, p: Param<'a>) -> String {
        self.ps.push(p);
        format!("${}", self.ps.len())
    }
}

/// A database error, as each driver reports it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            DbError::Postgres(sqlx::Error::Database(d)) => d.is_unique_violation(),
            _ => false,
        }
    }

    /// The database could not be reached or was too busy: worth trying again.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            }
            DbError::Postgres(e) => matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)),
            _ => false,
        }
    }

    /// The cause for a message: the database's own words where there are some.
    pub fn cause(&self) -> String {
        match self {
            DbError::Postgres(sqlx::Error::Database(d)) => d.message().to_string(),
            DbError::Postgres(sqlx::Error::Io(io)) => io.to_string(),
            DbError::Postgres(sqlx::Error::PoolTimedOut) => "no connection in time".to_string(),
            e => e.to_string(),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(DbError::Sqlite(e))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(DbError::Postgres(e))
    }
}

/// One column's value, decodable from both backends.
pub(crate) trait Col: Sized {
    fn lite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn pg(r: &PgRow, i: usize) -> Result<Self, sqlx::Error>;
}

impl<T> Col for T
where
    T: rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    fn lite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn pg(r: &PgRow, i: usize) -> Result<Self, sqlx::Error> {
        use sqlx::Row as _;
        r.try_get(i)
    }
}

/// A result row of either backend.
pub(crate) enum Row<'r> {
    Lite(&'r rusqlite::Row<'r>),
    Pg(&'r PgRow),
}

impl Row<'_> {
    /// The value of column `i` (0-based, in the order the statement selects them).
    pub fn get<T: Col>(&self, i: usize) -> StoreResult<T> {
        Ok(match self {
            Row::Lite(r) => T::lite(r, i)?,
            Row::Pg(r) => T::pg(r, i)?,
        })
    }
}

/// A row type the store reads.
pub(crate) trait FromRow: Sized {
    fn from_row(r: &Row<'_>) -> StoreResult<Self>;
}

macro_rules! scalar_row {
    ($($t:ty),*) => {$(
        impl FromRow for $t {
            fn from_row(r: &Row<'_>) -> StoreResult<Self> {
                r.get(0)
            }
        }
    )*};
}
scalar_row!(i64, Option<i64>, String, bool);

// ---- SQLite ----

/// Statements kept prepared per connection.
const STATEMENT_CACHE: usize = 256;
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 8;
/// Write transactions between passive checkpoints (and any transaction that changed this
/// many rows asks for one at once).
const CHECKPOINT_EVERY: u64 = 64;
const CHECKPOINT_CHANGES: u64 = 2_000;
/// The writer checkpoints inline only when the WAL has grown this far (pages): a backstop for
/// a stream of writes with no pause in which the checkpoint thread could catch up (a bulk
/// import), since a WAL only starts over once it has been checkpointed whole.
const WAL_BACKSTOP_PAGES: u32 = 8_192;
/// The writer's page cache (KiB): imports and the indexes of large tables stay in memory.
const WRITER_CACHE_KIB: u32 = 32_768;

/// A SQLite database: the writer connection (its lock is the writer lock) and idle readers.
pub(crate) struct Lite {
    path: PathBuf,
    readers: std::sync::Mutex<Vec<rusqlite::Connection>>,
    writer: Arc<Mutex<rusqlite::Connection>>,
    commits: std::sync::atomic::AtomicU64,
    checkpoint: std::sync::mpsc::SyncSender<()>,
}

impl std::fmt::Debug for Lite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lite").field("path", &self.path).finish_non_exhaustive()
    }
}

fn lite_open(path: &Path, flags: rusqlite::OpenFlags) -> rusqlite::Result<rusqlite::Connection> {
    let c = rusqlite::Connection::open_with_flags(path, flags)?;
    c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(c)
}

/// A connection for looking at an existing file without changing it.
pub(crate) fn lite_probe(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    lite_open(path, flags)
}

impl Lite {
    /// Opens the writer (WAL, `synchronous=NORMAL`, foreign keys, no inline checkpoints),
    /// runs `init` on it (the migrations) and starts the checkpoint thread. The file must exist.
    pub fn open(
        path: &Path,
        init: impl FnOnce(&rusqlite::Connection) -> StoreResult<()>,
    ) -> StoreResult<Lite> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let writer = lite_open(path, flags)?;
        writer.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; \
             PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}; PRAGMA cache_size=-{WRITER_CACHE_KIB};"
        ))?;
        init(&writer)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        // A first checkpoint at once: whatever an earlier process left in the WAL.
        let _ = tx.try_send(());
        let cp_path = path.to_path_buf();
        std::thread::Builder::new()
            .name("rtk-sqlite-checkpoint".into())
            .spawn(move || {
                let Ok(conn) = lite_open(&cp_path, flags) else { return };
                // Ends when the database is dropped (the sender with it).
                while rx.recv().is_ok() {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(error = %e, "SQLite checkpoint failed");
                    }
                }
            })
            .map_err(|e| StoreError::Invalid(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Lite {
            path: path.to_path_buf(),
            readers: Default::default(),
            writer: Arc::new(Mutex::new(writer)),
            commits: Default::default(),
            checkpoint: tx,
        })
    }

    /// Runs `f` on a read connection, inline.
    fn read<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => {
                let flags =
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
                lite_open(&self.path, flags)?
            }
        };
        let out = f(&conn);
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }

    /// The writer connection, locked: the writer lock.
    pub async fn writer(&self) -> OwnedMutexGuard<rusqlite::Connection> {
        self.writer.clone().lock_owned().await
    }

    /// After a commit: asks the checkpoint thread for a passive checkpoint now and then.
    fn committed(&self, changes: u64) {
        let n = self.commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n.is_multiple_of(CHECKPOINT_EVERY) || changes >= CHECKPOINT_CHANGES {
            let _ = self.checkpoint.try_send(());
        }
    }

    /// Closes the idle readers and checkpoints what the WAL holds (the connections themselves
    /// close when the last handle is dropped).
    async fn close(&self) {
        self.readers.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let w = self.writer().await;
        if let Err(e) = w.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "SQLite checkpoint failed");
        }
    }
}

/// Binds `params` to `stmt`: `$N` takes `params[N - 1]`.
fn lite_bind(stmt: &mut rusqlite::Statement<'_>, params: &[Param<'_>]) -> StoreResult<()> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(i);
        let Some(p) = params.get(n - 1) else {
            return Err(StoreError::Invalid(format!("statement parameter ${n} has no value")));
        };
        match *p {
            Param::Int(v) => stmt.raw_bind_parameter(i, v)?,
            Param::OptInt(v) => stmt.raw_bind_parameter(i, v)?,
            Param::Str(v) => stmt.raw_bind_parameter(i, v)?,
            Param::OptStr(v) => stmt.raw_bind_parameter(i, v)?,
            Param::Bool(v) => stmt.raw_bind_parameter(i, v)?,
        }
    }
    Ok(())
}

fn lite_rows<T: FromRow>(c: &rusqlite::Connection, sql: &str, params: &[Param<'_>]) -> StoreResult<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    lite_bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(T::from_row(&Row::Lite(r))?);
    }
    Ok(out)
}

fn lite_optional<T: FromRow>(
    c: &rusqlite::Connection,
    sql: &str,
    params: &[Param<'_>],
) -> StoreResult<Option<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    lite_bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    let first = match rows.next()? {
        Some(r) => Some(T::from_row(&Row::Lite(r))?),
        None => None,
    };
    // Run the statement to its end (an UPDATE … RETURNING finishes its work there).
    while rows.next()?.is_some() {}
    Ok(first)
}

fn lite_execute(c: &rusqlite::Connection, sql: &str, params: &[Param<'_>]) -> StoreResult<u64> {
    let mut stmt = c.prepare_cached(sql)?;
    lite_bind(&mut stmt, params)?;
    Ok(stmt.raw_execute()? as u64)
}

// ---- PostgreSQL ----

fn pg_query<'q>(sql: &'q str, params: &[Param<'q>]) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    let mut q = sqlx::query::<Postgres>(sql);
    for p in params {
        q = match *p {
            Param::Int(v) => q.bind(v),
            Param::OptInt(v) => q.bind(v),
            Param::Str(v) => q.bind(v),
            Param::OptStr(v) => q.bind(v),
            Param::Bool(v) => q.bind(v),
        };
    }
    q
}

fn pg_decode<T: FromRow>(rows: &[PgRow]) -> StoreResult<Vec<T>> {
    rows.iter().map(|r| T::from_row(&Row::Pg(r))).collect()
}

// ---- Both ----

/// The database behind a store.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Lite(Arc<Lite>),
    Pg(PgPool),
}

impl Db {
    pub async fn rows<T: FromRow>(&self, sql: &str, params: &[Param<'_>]) -> StoreResult<Vec<T>> {
        match self {
            Db::Lite(l) => l.read(|c| lite_rows(c, sql, params)),
            Db::Pg(p) => pg_decode(&pg_query(sql, params).fetch_all(p).await?),
        }
    }

    pub async fn optional<T: FromRow>(&self, sql: &str, params: &[Param<'_>]) -> StoreResult<Option<T>> {
        match self {
            Db::Lite(l) => l.read(|c| lite_optional(c, sql, params)),
            Db::Pg(p) => match pg_query(sql, params).fetch_optional(p).await? {
                Some(r) => Ok(Some(T::from_row(&Row::Pg(&r))?)),
                None => Ok(None),
            },
        }
    }

    pub async fn one<T: FromRow>(&self, sql: &str, params: &[Param<'_>]) -> StoreResult<T> {
        let pg = matches!(self, Db::Pg(_));
        self.optional(sql, params).await?.ok_or_else(|| no_row(pg))
    }

    /// Reads one row and runs `then` on it, on SQLite under the writer lock (so a cache filled
    /// from the read is never older than the last commit).
    pub async fn read_locked<T: FromRow, R>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        then: impl FnOnce(Option<T>) -> R,
    ) -> StoreResult<R> {
        match self {
            Db::Lite(l) => {
                let conn = l.writer().await;
                let v = lite_optional(&conn, sql, params)?;
                Ok(then(v))
            }
            Db::Pg(_) => Ok(then(self.optional(sql, params).await?)),
        }
    }

    pub async fn begin(&self) -> StoreResult<WriteTx> {
        let began = std::time::Instant::now();
        match self {
            Db::Lite(l) => {
                let conn = l.writer().await;
                conn.execute_batch("BEGIN IMMEDIATE")?;
                let start = conn.total_changes();
                Ok(WriteTx {
                    inner: Tx::Lite(LiteTx { conn, lite: l.clone(), open: true, start }),
                    wrote_events: false,
                    outbox: None,
                    links: None,
                    began,
                })
            }
            Db::Pg(p) => Ok(WriteTx {
                inner: Tx::Pg(p.begin().await?),
                wrote_events: false,
                outbox: None,
                links: None,
                began,
            }),
        }
    }

    pub async fn ping(&self) -> StoreResult<()> {
        match self {
            Db::Lite(l) => l.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?)),
            Db::Pg(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
                Ok(())
            }
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Lite(l) => l.close().await,
            Db::Pg(p) => p.close().await,
        }
    }
}

fn no_row(pg: bool) -> StoreError {
    StoreError::Db(match pg {
        false => DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows),
        true => DbError::Postgres(sqlx::Error::RowNotFound),
    })
}

fn ended() -> StoreError {
    StoreError::Invalid("the transaction has ended".into())
}

/// A write transaction; on SQLite it holds the writer connection (the writer lock) until it
/// ends. Dropped without a commit, it rolls back.
pub struct WriteTx {
    inner: Tx,
    /// Set when the transaction wrote webhook events: the commit wakes the delivery worker.
    pub(crate) wrote_events: bool,
    /// What the commit wakes (set by `Store::write`).
    pub(crate) outbox: Option<Arc<tokio::sync::Notify>>,
    /// What makes chat download links for events written in this transaction.
    pub(crate) links: Option<Arc<dyn super::ChatLinks>>,
    /// When it was asked for (waiting for the writer included): `rtk_store_transaction_seconds`.
    began: std::time::Instant,
}

enum Tx {
    Lite(LiteTx),
    Pg(sqlx::Transaction<'static, Postgres>),
    Done,
}

/// The writer connection inside a transaction (`open` until it commits).
struct LiteTx {
    conn: OwnedMutexGuard<rusqlite::Connection>,
    lite: Arc<Lite>,
    open: bool,
    /// The connection's change count when the transaction began.
    start: u64,
}

impl Drop for LiteTx {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl WriteTx {
    pub(crate) async fn rows<T: FromRow>(&mut self, sql: &str, params: &[Param<'_>]) -> StoreResult<Vec<T>> {
        match &mut self.inner {
            Tx::Lite(LiteTx { conn, .. }) => lite_rows(conn, sql, params),
            Tx::Pg(tx) => pg_decode(&pg_query(sql, params).fetch_all(&mut **tx).await?),
            Tx::Done => Err(ended()),
        }
    }

    pub(crate) async fn optional<T: FromRow>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> StoreResult<Option<T>> {
        match &mut self.inner {
            Tx::Lite(LiteTx { conn, .. }) => lite_optional(conn, sql, params),
            Tx::Pg(tx) => match pg_query(sql, params).fetch_optional(&mut **tx).await? {
                Some(r) => Ok(Some(T::from_row(&Row::Pg(&r))?)),
                None => Ok(None),
            },
            Tx::Done => Err(ended()),
        }
    }

    pub(crate) async fn one<T: FromRow>(&mut self, sql: &str, params: &[Param<'_>]) -> StoreResult<T> {
        let pg = matches!(self.inner, Tx::Pg(_));
        self.optional(sql, params).await?.ok_or_else(|| no_row(pg))
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> StoreResult<u64> {
        match &mut self.inner {
            Tx::Lite(LiteTx { conn, .. }) => lite_execute(conn, sql, params),
            Tx::Pg(tx) => Ok(pg_query(sql, params).execute(&mut **tx).await?.rows_affected()),
            Tx::Done => Err(ended()),
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.commit_then(|| {}).await
    }

    /// Rolls back now (a dropped transaction rolls back too, at once: see `LiteTx`'s drop).
    pub async fn rollback(mut self) -> StoreResult<()> {
        match std::mem::replace(&mut self.inner, Tx::Done) {
            Tx::Lite(t) => drop(t),
            Tx::Pg(tx) => tx.rollback().await?,
            Tx::Done => {}
        }
        Ok(())
    }

    /// Commits, then runs `f` while still holding the writer lock (SQLite), so in-process
    /// caches see changes in commit order.
    pub async fn commit_then(mut self, f: impl FnOnce()) -> StoreResult<()> {
        match std::mem::replace(&mut self.inner, Tx::Done) {
            Tx::Lite(mut t) => {
                let done = t.conn.execute_batch("COMMIT");
                // A failed commit rolls back (when `t` is dropped).
                t.open = done.is_err();
                done?;
                let changes = t.conn.total_changes().saturating_sub(t.start);
                f();
                let lite = t.lite.clone();
                drop(t);
                lite.committed(changes);
            }
            Tx::Pg(tx) => {
                tx.commit().await?;
                f();
            }
            Tx::Done => {}
        }
        metrics::histogram!("rtk_store_transaction_seconds").record(self.began.elapsed().as_secs_f64());
        if self.wrote_events {
            if let Some(n) = &self.outbox {
                n.notify_one();
            }
        }
        Ok(())
    }
}
