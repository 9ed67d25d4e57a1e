//! Database access for every Bauhinia service: the connection pools (typed per dialect, never
//! `sqlx::Any`), the per-dialect migrations, and throwaway test databases.
//!
//! The backend is chosen once, from the URL scheme, at start-up: `sqlite:` (the embedded
//! default) or `postgres:`/`postgresql:`. Service crates implement their store traits on the
//! pools handed out here; this crate knows no service's tables beyond running migrations.

pub mod audit;
pub mod dialect;
mod url;

#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

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

/// SQLite with one writer: `writer` has exactly one connection, so writes queue in the pool
/// instead of failing with `SQLITE_BUSY`; `reader` serves concurrent reads under WAL.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pub reader: SqlitePool,
    pub writer: SqlitePool,
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

async fn connect_sqlite(url: &str) -> Result<SqliteDb, StoreError> {
    // FULL: a commit survives power loss. Consent and money will be written through this
    // pool, and the catalogue is small enough that the extra fsync costs nothing visible.
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(SQLITE_BUSY_TIMEOUT_S));
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_S))
        .connect_with(options.clone())
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(SQLITE_READERS_MAX)
        .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_S))
        .connect_with(options.read_only(true))
        .await?;
    Ok(SqliteDb { reader, writer })
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
            .execute(&db.writer)
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
