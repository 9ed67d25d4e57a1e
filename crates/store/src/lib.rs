//! Database access for every Bauhinia service: the connection pools (typed per dialect, never
//! `sqlx::Any`), the per-dialect migrations, and throwaway test databases.
//!
//! The backend is chosen once, from the URL scheme, at start-up: `sqlite:` (the embedded
//! default) or `postgres:`/`postgresql:`. Service crates implement their store traits on the
//! pools handed out here; this crate knows no service's tables beyond running migrations.

pub mod audit;
pub mod dialect;
pub mod group_commit;
pub mod lease;
mod url;

#[cfg(feature = "testing")]
pub mod testing;

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use group_commit::{CommitStats, GroupCommit};
/// The driver of [`GroupCommit`] jobs, re-exported so every crate uses the same version.
pub use rusqlite;
pub use url::DatabaseUrl;

/// How long a SQLite connection waits for the write lock before failing.
const SQLITE_BUSY_TIMEOUT_S: u64 = 5;
/// Readers in the SQLite read pool; writes go through a pool of exactly one connection.
const SQLITE_READERS_MAX: u32 = 4;
const POSTGRES_CONNECTIONS_MAX: u32 = 16;
const ACQUIRE_TIMEOUT_S: u64 = 5;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A group commit failed or its thread is gone (see [`GroupCommit`]).
    #[error("group commit: {0}")]
    Commit(String),
}

/// Which SQL dialect a [`Database`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// SQLite with one writer at a time. The process's writes all take one lock first
/// ([`SqliteDb::begin_write`], [`SqliteDb::write`], and each [`GroupCommit`] batch), so they
/// queue in arrival order instead of failing with `SQLITE_BUSY` or sleeping in SQLite's busy
/// handler; `reader` serves concurrent reads under WAL.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pub reader: SqlitePool,
    /// One connection; used only under `write_lock`.
    writer: SqlitePool,
    write_lock: Arc<Semaphore>,
    /// Hot small transactions, committed together (see [`GroupCommit`]).
    pub commits: GroupCommit,
    path: std::path::PathBuf,
}

/// A write connection of its own for a thread that batches its writes itself (the FPS
/// ledger's writer): every transaction on it must be made inside [`DedicatedWriter::locked`],
/// which holds the process's write lock, so it never meets `SQLITE_BUSY` from this process.
#[derive(Debug)]
pub struct DedicatedWriter {
    conn: rusqlite::Connection,
    write_lock: Arc<Semaphore>,
    runtime: tokio::runtime::Handle,
}

impl DedicatedWriter {
    /// Runs `work` with the write lock held. Blocks the calling thread: call it from the
    /// writer's own thread, never from the async runtime.
    pub fn locked<T>(
        &mut self,
        work: impl FnOnce(&mut rusqlite::Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let lock = match self.write_lock.try_acquire() {
            Ok(permit) => permit,
            Err(_) => self
                .runtime
                .block_on(self.write_lock.acquire())
                .map_err(|_| StoreError::Sqlx(sqlx::Error::PoolClosed))?,
        };
        let out = work(&mut self.conn);
        drop(lock);
        out
    }

    /// The connection, for reads only (a write must go through [`DedicatedWriter::locked`]).
    pub fn reader(&self) -> &rusqlite::Connection {
        &self.conn
    }
}

/// The write connection, held with the write lock, for a statement on its own.
#[derive(Debug)]
pub struct SqliteWriter {
    conn: PoolConnection<Sqlite>,
    _lock: OwnedSemaphorePermit,
}

impl Deref for SqliteWriter {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for SqliteWriter {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

/// A write transaction (`BEGIN IMMEDIATE`), held with the write lock. Rolls back if dropped
/// without [`WriteTx::commit`].
#[derive(Debug)]
pub struct WriteTx {
    tx: sqlx::Transaction<'static, Sqlite>,
    _lock: OwnedSemaphorePermit,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl SqliteDb {
    async fn lock(&self) -> Result<OwnedSemaphorePermit, StoreError> {
        let wait = Arc::clone(&self.write_lock).acquire_owned();
        match tokio::time::timeout(Duration::from_secs(ACQUIRE_TIMEOUT_S), wait).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(StoreError::Sqlx(sqlx::Error::PoolClosed)),
            Err(_) => Err(StoreError::Sqlx(sqlx::Error::PoolTimedOut)),
        }
    }

    /// The write connection, for one statement in its own (implicit) transaction.
    pub async fn write(&self) -> Result<SqliteWriter, StoreError> {
        let lock = self.lock().await?;
        Ok(SqliteWriter {
            conn: self.writer.acquire().await?,
            _lock: lock,
        })
    }

    /// A write connection of its own, under the process's write lock (see
    /// [`DedicatedWriter`]). Must be called inside the runtime.
    pub fn dedicated_writer(&self) -> Result<DedicatedWriter, StoreError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| StoreError::Commit(format!("a dedicated writer needs a runtime: {e}")))?;
        Ok(DedicatedWriter {
            conn: group_commit::open(&self.path, Duration::from_secs(SQLITE_BUSY_TIMEOUT_S))?,
            write_lock: Arc::clone(&self.write_lock),
            runtime,
        })
    }

    /// A write transaction. It holds the write lock from the start, so a read inside it is
    /// never overtaken by another writer of this process.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let lock = self.lock().await?;
        Ok(WriteTx {
            tx: self.writer.begin_with("BEGIN IMMEDIATE").await?,
            _lock: lock,
        })
    }
}

/// A connected database of either dialect.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

impl Database {
    /// Connects to the database the URL names, creating a SQLite file if it does not exist.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        match url.backend() {
            Backend::Sqlite => connect_sqlite(url.expose()).await.map(Database::Sqlite),
            Backend::Postgres => connect_postgres(url.expose()).await.map(Database::Postgres),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every pending migration of this dialect. Idempotent.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(db) => SQLITE_MIGRATOR.run(&db.writer).await?,
            Database::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(db) => sqlx::query("SELECT 1")
                .execute(&db.reader)
                .await
                .map(drop)?,
            Database::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Database::Sqlite(db) => {
                db.reader.close().await;
                db.writer.close().await;
            }
            Database::Postgres(pool) => pool.close().await,
        }
    }
}

/// How many pages the write-ahead log grows to before a commit copies it into the database
/// (SQLite's default is 1,000). Under load the same pages — the ends of the tables, the
/// indexes' busiest leaves — are written again and again; a larger log copies each once per
/// checkpoint instead of once per 1,000 pages. 32 MiB of log at most, between checkpoints.
pub(crate) const WAL_AUTOCHECKPOINT_PAGES: i64 = 8192;

async fn connect_sqlite(url: &str) -> Result<SqliteDb, StoreError> {
    // FULL: a commit survives power loss. Consent and money will be written through this
    // pool, and the catalogue is small enough that the extra fsync costs nothing visible.
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(SQLITE_BUSY_TIMEOUT_S))
        .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
    let path = options.get_filename().to_owned();
    let in_memory =
        path.as_os_str().is_empty() || url.contains(":memory:") || url.contains("mode=memory");
    if in_memory {
        return Err(StoreError::UnsupportedUrl(
            "an in-memory SQLite database cannot be shared by the writers and readers; name a file"
                .into(),
        ));
    }
    // A local file cannot go stale: no ping before each use of the one write connection.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_S))
        .connect_with(options.clone())
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(SQLITE_READERS_MAX)
        .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_S))
        .connect_with(options.read_only(true))
        .await?;
    let write_lock = Arc::new(Semaphore::new(1));
    let commits = GroupCommit::start(
        &path,
        Duration::from_secs(SQLITE_BUSY_TIMEOUT_S),
        Arc::clone(&write_lock),
    )?;
    Ok(SqliteDb {
        reader,
        writer,
        write_lock,
        commits,
        path,
    })
}

async fn connect_postgres(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?.application_name("bauhinia");
    Ok(PgPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS_MAX)
        .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_S))
        .connect_with(options)
        .await?)
}

impl Database {
    /// A value of the installation's own metadata.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(match self {
            Database::Sqlite(db) => {
                sqlx::query_scalar("SELECT value FROM bauhinia_meta WHERE key = ?")
                    .bind(key)
                    .fetch_optional(&db.reader)
                    .await?
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar("SELECT value FROM bauhinia_meta WHERE key = $1")
                    .bind(key)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// Sets a metadata value (insert or replace).
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(db) => sqlx::query(
                "INSERT INTO bauhinia_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *db.write().await?)
            .await
            .map(drop)?,
            Database::Postgres(pool) => sqlx::query(
                "INSERT INTO bauhinia_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(pool)
            .await
            .map(drop)?,
        }
        Ok(())
    }
}
