//! Migrations: numbered SQL files, applied in order, each in one transaction, and recorded in
//! `_sqlx_migrations` (the table, layout and SHA-384 checksums of the sqlx migrator rtk used
//! before, so databases it migrated open unchanged and foreign ones are still refused).
//!
//! Most migrations are portable SQL shared by both backends (`migrations/NNNN_*.sql`); a
//! migration only one backend needs lives in `migrations/<backend>/` and the other backend
//! has no migration of that number.

use sha2::{Digest, Sha384};

use super::{Backend, StoreError, StoreResult};

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> Vec<u8> {
        Sha384::digest(self.sql.as_bytes()).to_vec()
    }
}

macro_rules! migration {
    ($v:expr, $desc:expr, $file:expr) => {
        Migration { version: $v, description: $desc, sql: include_str!(concat!("../../migrations/", $file)) }
    };
}

const SHARED: &[Migration] = &[
    migration!(1, "foundation", "0001_foundation.sql"),
    migration!(2, "sessions", "0002_sessions.sql"),
    migration!(3, "dropped presence", "0003_dropped_presence.sql"),
    migration!(4, "chat bounds", "0004_chat_bounds.sql"),
    migration!(6, "peer pages", "0006_peer_pages.sql"),
    migration!(7, "webhooks", "0007_webhooks.sql"),
    migration!(8, "recordings", "0008_recordings.sql"),
    migration!(9, "transcripts", "0009_transcripts.sql"),
    migration!(10, "livestreams", "0010_livestreams.sql"),
    migration!(11, "livestream recordings", "0011_livestream_recordings.sql"),
    migration!(12, "nodes", "0012_nodes.sql"),
    migration!(14, "peer gaps", "0014_peer_gaps.sql"),
    migration!(15, "webhook retention", "0015_webhook_retention.sql"),
];

const POSTGRES: &[Migration] = &[
    migration!(5, "typed columns", "postgres/0005_typed_columns.sql"),
    migration!(13, "bus log", "postgres/0013_bus_log.sql"),
];

/// The migrations of `backend`, in order.
pub fn migrations(backend: Backend) -> Vec<Migration> {
    let own: &[Migration] = match backend {
        Backend::Sqlite => &[],
        Backend::Postgres => POSTGRES,
    };
    let mut all: Vec<Migration> = SHARED.iter().chain(own).copied().collect();
    all.sort_by_key(|m| m.version);
    all
}

const TABLE_SQLITE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

const TABLE_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
)";

/// Serialises migrations of several nodes starting at once on one PostgreSQL database.
const PG_LOCK_KEY: i64 = 0x7274_6b5f_6d69_6772; // "rtk_migr"

/// What the database says it has applied.
struct Applied {
    version: i64,
    checksum: Vec<u8>,
    success: bool,
}

/// Checks what the database has applied against `known`; the versions still to apply.
fn pending(known: &[Migration], applied: &[Applied]) -> StoreResult<Vec<Migration>> {
    for a in applied {
        match known.iter().find(|m| m.version == a.version) {
            Some(m) if m.checksum() == a.checksum => {}
            Some(_) => {
                return Err(StoreError::Invalid(format!(
                    "its migration {} is not rtk's: this is not an rtk database",
                    a.version
                )))
            }
            None => {
                return Err(StoreError::Invalid(format!(
                    "it has migration {}, which this rtk does not know: the database of another \
                     application or of a newer rtk",
                    a.version
                )))
            }
        }
        if !a.success {
            return Err(StoreError::Invalid(format!(
                "its migration {} did not finish: restore the database from a backup",
                a.version
            )));
        }
    }
    Ok(known.iter().filter(|m| !applied.iter().any(|a| a.version == m.version)).copied().collect())
}

/// Refuses a database that has tables but not rtk's migrations (another application's
/// database, or a file that happens to be SQLite): migrating it would mix rtk's schema into
/// it, and an empty-looking store would re-run first start. `tables` are the database's
/// tables, `applied` its `_sqlx_migrations` rows (if it has that table).
fn check_is_rtk(backend: Backend, tables: &[String], applied: &[Applied]) -> StoreResult<()> {
    pending(&migrations(backend), applied)?;
    let first_is_ours = applied.iter().any(|a| a.version == 1);
    let others: Vec<&String> = tables.iter().filter(|t| *t != "_sqlx_migrations").collect();
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

// ---- SQLite ----

fn lite_applied(c: &rusqlite::Connection) -> rusqlite::Result<Option<Vec<Applied>>> {
    let has: bool = c.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !has {
        return Ok(None);
    }
    let mut s = c.prepare("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")?;
    let rows =
        s.query_map([], |r| Ok(Applied { version: r.get(0)?, checksum: r.get(1)?, success: r.get(2)? }))?;
    Ok(Some(rows.collect::<rusqlite::Result<_>>()?))
}

/// The check of `check_is_rtk` on a SQLite connection (which it leaves as it was).
pub fn lite_check(c: &rusqlite::Connection) -> StoreResult<()> {
    let mut s =
        c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_'")?;
    let tables = s.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    let applied = lite_applied(c)?.unwrap_or_default();
    check_is_rtk(Backend::Sqlite, &tables, &applied)
}

/// Applies the SQLite migrations up to `upto` (all: `i64::MAX`) that are not applied yet.
pub fn lite_run(c: &rusqlite::Connection, upto: i64) -> StoreResult<()> {
    c.execute_batch(TABLE_SQLITE)?;
    let applied = lite_applied(c)?.unwrap_or_default();
    for m in pending(&migrations(Backend::Sqlite), &applied)?.into_iter().filter(|m| m.version <= upto) {
        let started = std::time::Instant::now();
        c.execute_batch("BEGIN IMMEDIATE")?;
        let done = c.execute_batch(m.sql).and_then(|_| {
            c.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES (?1, ?2, TRUE, ?3, ?4)",
                rusqlite::params![
                    m.version,
                    m.description,
                    m.checksum(),
                    started.elapsed().as_nanos() as i64
                ],
            )
        });
        match done {
            Ok(_) => c.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                return Err(StoreError::Invalid(format!("migration {} failed: {e}", m.version)));
            }
        }
    }
    Ok(())
}

// ---- PostgreSQL ----

async fn pg_applied(c: &mut sqlx::PgConnection) -> StoreResult<Vec<Applied>> {
    use sqlx::Row;
    let has: bool = sqlx::query(
        "SELECT COUNT(*) > 0 FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    if !has {
        return Ok(vec![]);
    }
    let rows = sqlx::query("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut *c)
        .await?;
    rows.iter()
        .map(|r| Ok(Applied { version: r.try_get(0)?, checksum: r.try_get(1)?, success: r.try_get(2)? }))
        .collect()
}

pub async fn pg_check(c: &mut sqlx::PgConnection) -> StoreResult<()> {
    use sqlx::Row;
    let tables = sqlx::query(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<Result<Vec<_>, _>>()?;
    let applied = pg_applied(c).await?;
    check_is_rtk(Backend::Postgres, &tables, &applied)
}

/// Applies the PostgreSQL migrations up to `upto` that are not applied yet, one node at a time.
pub async fn pg_run(pool: &sqlx::PgPool, upto: i64) -> StoreResult<()> {
    use sqlx::Connection;
    let mut c = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(PG_LOCK_KEY).execute(&mut *c).await?;
    let run = async {
        sqlx::raw_sql(TABLE_POSTGRES).execute(&mut *c).await?;
        let applied = pg_applied(&mut c).await?;
        for m in pending(&migrations(Backend::Postgres), &applied)?.into_iter().filter(|m| m.version <= upto)
        {
            let started = std::time::Instant::now();
            let mut tx = c.begin().await?;
            sqlx::raw_sql(m.sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Invalid(format!("migration {} failed: {e}", m.version)))?;
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES ($1, $2, TRUE, $3, $4)",
            )
            .bind(m.version)
            .bind(m.description)
            .bind(m.checksum())
            .bind(started.elapsed().as_nanos() as i64)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok::<_, StoreError>(())
    }
    .await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(PG_LOCK_KEY).execute(&mut *c).await;
    run?;
    unlocked?;
    Ok(())
}
