//! Throwaway databases for tests: a fresh SQLite file, and — when `DATABASE_URL` names a
//! PostgreSQL server — a fresh database on it, dropped afterwards. Store conformance suites run
//! the same cases on both.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use crate::{Database, DatabaseUrl, StoreError};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A migrated database that cleans up after itself when [`TestDb::cleanup`] is awaited (or, for
/// SQLite, when dropped).
#[derive(Debug)]
pub struct TestDb {
    pub db: Database,
    /// An empty scratch directory of this test's own, for what a service keeps in files beside
    /// its database (uploads, search indexes); removed by [`TestDb::cleanup`].
    pub files: std::path::PathBuf,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(std::path::PathBuf),
    PgDatabase { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh, migrated SQLite database in its own temporary directory.
    pub async fn sqlite() -> Result<Self, StoreError> {
        let dir = std::env::temp_dir().join(format!("bauhinia-test-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let db = Database::connect(&DatabaseUrl::sqlite_file(&dir.join("test.db"))).await?;
        db.migrate().await?;
        let files = dir.join("files");
        std::fs::create_dir_all(&files).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Self {
            db,
            files,
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// A fresh, migrated PostgreSQL database on the server `DATABASE_URL` names, or `None`
    /// when it is unset. With `BAUHINIA_TEST_REQUIRE_POSTGRES=1` an unset URL is an error, so the
    /// test command can never skip the PostgreSQL half silently.
    pub async fn postgres() -> Result<Option<Self>, StoreError> {
        let Ok(admin_url) = std::env::var("DATABASE_URL") else {
            if std::env::var("BAUHINIA_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                return Err(StoreError::UnsupportedUrl(
                    "BAUHINIA_TEST_REQUIRE_POSTGRES=1 but DATABASE_URL is not set".into(),
                ));
            }
            return Ok(None);
        };
        let suffix = unique_suffix();
        let name = format!("bauhinia_t_{suffix}");
        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = DatabaseUrl::parse(&replace_database(&admin_url, &name))?;
        let db = Database::connect(&url).await?;
        db.migrate().await?;
        let files = std::env::temp_dir().join(format!("bauhinia-test-files-{suffix}"));
        std::fs::create_dir_all(&files).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(Self {
            db,
            files,
            cleanup: Cleanup::PgDatabase { admin_url, name },
        }))
    }

    /// Closes the pools and removes the database.
    pub async fn cleanup(self) -> Result<(), StoreError> {
        self.db.close().await;
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgDatabase { admin_url, name } => {
                let _ = std::fs::remove_dir_all(&self.files);
                let mut admin = sqlx::PgConnection::connect(admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
            }
        }
        Ok(())
    }
}

/// `postgres://u@h:p/old?x` → `postgres://u@h:p/new?x`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base
        .get(authority_start..)
        .and_then(|r| r.find('/'))
        .map(|i| i + authority_start);
    let host = match path_start {
        Some(i) => base.get(..i).unwrap_or(base),
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_name() {
        assert_eq!(
            super::replace_database("postgres://p@127.0.0.1:5/x", "y"),
            "postgres://p@127.0.0.1:5/y"
        );
        assert_eq!(
            super::replace_database("postgres://p@h/x?sslmode=disable", "y"),
            "postgres://p@h/y?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://p@h", "y"),
            "postgres://p@h/y"
        );
    }
}
