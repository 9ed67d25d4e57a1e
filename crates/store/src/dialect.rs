//! Writing a query once for both dialects. Tables designed for it keep to the types both
//! dialects share — `TEXT`, `BIGINT`/`INTEGER` (times as Unix seconds), `BLOB`/`BYTEA`, JSON
//! kept as `TEXT` — and `$1`-style placeholders, which SQLite (through sqlx) reads as numbered
//! arguments too. The macros expand the body once per dialect, so each arm is typed against its
//! own driver: nothing goes through `sqlx::Any`.

/// Runs `$body` with `$conn` bound to the read pool of either dialect.
///
/// ```text
/// let n: i64 = read!(db, conn => sqlx::query_scalar("SELECT 1").fetch_one(conn).await?);
/// ```
#[macro_export]
macro_rules! read {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::Database::Sqlite(sqlite) => {
                let $conn = &sqlite.reader;
                $body
            }
            $crate::Database::Postgres(pool) => {
                let $conn = pool;
                $body
            }
        }
    };
}

/// Runs `$body` inside a write transaction with `$tx` the transaction and `$audit` the audit
/// appender of its dialect (`$audit(&mut *$tx, &event).await?`). The transaction commits when
/// the body finishes; a `?` inside the body returns early and the transaction rolls back.
#[macro_export]
macro_rules! write_tx {
    ($db:expr, $tx:ident, $audit:ident => $body:expr) => {
        match $db {
            $crate::Database::Sqlite(sqlite) => {
                let mut $tx = sqlite.begin_write().await?;
                #[allow(unused_imports)]
                use $crate::audit::append_sqlite as $audit;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::Database::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                #[allow(unused_imports)]
                use $crate::audit::append_pg as $audit;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// Whether an error is a unique-constraint violation, in either dialect.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}
