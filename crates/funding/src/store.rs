//! Where scheme versions are kept: the [`FundingStore`] trait the service needs, with a SQLite
//! and a PostgreSQL implementation that pass the same conformance suite.
//!
//! Versions are append-only. Importing a catalogue inserts the versions not stored yet; an
//! existing (id, version) whose document differs is a conflict and the whole import is rolled
//! back, so published history can never be rewritten silently.

use std::future::Future;

use bauhinia_store::{Database, SqliteDb, StoreError};
use sqlx::types::Json;
use sqlx::PgPool;

use crate::catalogue::{Catalogue, SchemeRecord};

/// What an import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportReport {
    pub inserted: usize,
    pub unchanged: usize,
}

pub trait FundingStore: Send + Sync {
    /// Stores every scheme version of `catalogue` (its whole history) that is not stored yet,
    /// atomically.
    fn import(
        &self,
        catalogue: &Catalogue,
    ) -> impl Future<Output = Result<ImportReport, StoreError>> + Send;

    /// The latest version of every scheme, as a catalogue; `None` when nothing is stored.
    fn load_latest(&self) -> impl Future<Output = Result<Option<Catalogue>, StoreError>> + Send;

    /// Every stored version of one scheme, oldest first; empty when the id is unknown.
    fn versions(
        &self,
        scheme_id: &str,
    ) -> impl Future<Output = Result<Vec<SchemeRecord>, StoreError>> + Send;
}

/// The store for whichever backend the database is.
#[derive(Debug, Clone)]
pub enum AnyFundingStore {
    Sqlite(SqliteFundingStore),
    Postgres(PgFundingStore),
}

impl AnyFundingStore {
    pub fn new(db: &Database) -> Self {
        match db {
            Database::Sqlite(db) => AnyFundingStore::Sqlite(SqliteFundingStore { db: db.clone() }),
            Database::Postgres(pool) => {
                AnyFundingStore::Postgres(PgFundingStore { pool: pool.clone() })
            }
        }
    }
}

impl FundingStore for AnyFundingStore {
    async fn import(&self, catalogue: &Catalogue) -> Result<ImportReport, StoreError> {
        match self {
            AnyFundingStore::Sqlite(s) => s.import(catalogue).await,
            AnyFundingStore::Postgres(s) => s.import(catalogue).await,
        }
    }

    async fn load_latest(&self) -> Result<Option<Catalogue>, StoreError> {
        match self {
            AnyFundingStore::Sqlite(s) => s.load_latest().await,
            AnyFundingStore::Postgres(s) => s.load_latest().await,
        }
    }

    async fn versions(&self, scheme_id: &str) -> Result<Vec<SchemeRecord>, StoreError> {
        match self {
            AnyFundingStore::Sqlite(s) => s.versions(scheme_id).await,
            AnyFundingStore::Postgres(s) => s.versions(scheme_id).await,
        }
    }
}

fn to_document(record: &SchemeRecord) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(record).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn conflict(record: &SchemeRecord) -> StoreError {
    StoreError::Conflict(format!(
        "scheme {} version {} is already stored with different content; publish a new version instead",
        record.id, record.version
    ))
}

/// Rebuilds a catalogue from stored rows, reporting a row that no longer validates as corrupt.
fn catalogue_from_rows(rows: Vec<(SchemeRecord, String)>) -> Result<Option<Catalogue>, StoreError> {
    let Some(version) = rows.iter().map(|(_, v)| v.clone()).max() else {
        return Ok(None);
    };
    let records = rows.into_iter().map(|(r, _)| r).collect();
    Catalogue::from_records(version, records)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

const LATEST_SQL: &str = "SELECT document, catalogue_version FROM funding_scheme_versions v \
     WHERE version = (SELECT MAX(version) FROM funding_scheme_versions w WHERE w.scheme_id = v.scheme_id) \
     ORDER BY scheme_id";

#[derive(Debug, Clone)]
pub struct SqliteFundingStore {
    db: SqliteDb,
}

impl FundingStore for SqliteFundingStore {
    async fn import(&self, catalogue: &Catalogue) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        let mut tx = self.db.begin_write().await?;
        for record in catalogue.history() {
            let document = to_document(record)?;
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT document FROM funding_scheme_versions WHERE scheme_id = ? AND version = ?",
            )
            .bind(&record.id)
            .bind(i64::from(record.version))
            .fetch_optional(&mut *tx)
            .await?;
            match stored {
                Some(text) => {
                    let stored: serde_json::Value = serde_json::from_str(&text)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    if stored != document {
                        return Err(conflict(record));
                    }
                    report.unchanged += 1;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO funding_scheme_versions \
                         (scheme_id, version, effective_from, status, catalogue_version, document) \
                         VALUES (?, ?, ?, ?, ?, ?)",
                    )
                    .bind(&record.id)
                    .bind(i64::from(record.version))
                    .bind(&record.effective_from)
                    .bind(record.status.as_str())
                    .bind(&catalogue.version)
                    .bind(document.to_string())
                    .execute(&mut *tx)
                    .await?;
                    report.inserted += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn load_latest(&self) -> Result<Option<Catalogue>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(LATEST_SQL)
            .fetch_all(&self.db.reader)
            .await?;
        let rows = rows
            .into_iter()
            .map(|(doc, version)| Ok((parse_document(&doc)?, version)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        catalogue_from_rows(rows)
    }

    async fn versions(&self, scheme_id: &str) -> Result<Vec<SchemeRecord>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT document FROM funding_scheme_versions WHERE scheme_id = ? ORDER BY version",
        )
        .bind(scheme_id)
        .fetch_all(&self.db.reader)
        .await?;
        rows.iter().map(|doc| parse_document(doc)).collect()
    }
}

fn parse_document(text: &str) -> Result<SchemeRecord, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[derive(Debug, Clone)]
pub struct PgFundingStore {
    pool: PgPool,
}

impl FundingStore for PgFundingStore {
    async fn import(&self, catalogue: &Catalogue) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        let mut tx = self.pool.begin().await?;
        // Serialise concurrent imports (two servers starting at once) on one advisory lock.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('bauhinia.funding.import'))")
            .execute(&mut *tx)
            .await?;
        for record in catalogue.history() {
            let document = to_document(record)?;
            let stored: Option<Json<serde_json::Value>> =
                sqlx::query_scalar("SELECT document FROM funding_scheme_versions WHERE scheme_id = $1 AND version = $2")
                    .bind(&record.id)
                    .bind(i32::try_from(record.version).map_err(|e| StoreError::Corrupt(e.to_string()))?)
                    .fetch_optional(&mut *tx)
                    .await?;
            match stored {
                Some(Json(stored)) if stored != document => return Err(conflict(record)),
                Some(_) => report.unchanged += 1,
                None => {
                    sqlx::query(
                        "INSERT INTO funding_scheme_versions \
                         (scheme_id, version, effective_from, status, catalogue_version, document) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&record.id)
                    .bind(
                        i32::try_from(record.version)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    )
                    .bind(&record.effective_from)
                    .bind(record.status.as_str())
                    .bind(&catalogue.version)
                    .bind(Json(&document))
                    .execute(&mut *tx)
                    .await?;
                    report.inserted += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn load_latest(&self) -> Result<Option<Catalogue>, StoreError> {
        let rows: Vec<(Json<SchemeRecord>, String)> =
            sqlx::query_as(LATEST_SQL).fetch_all(&self.pool).await?;
        catalogue_from_rows(rows.into_iter().map(|(Json(r), v)| (r, v)).collect())
    }

    async fn versions(&self, scheme_id: &str) -> Result<Vec<SchemeRecord>, StoreError> {
        let rows: Vec<Json<SchemeRecord>> = sqlx::query_scalar(
            "SELECT document FROM funding_scheme_versions WHERE scheme_id = $1 ORDER BY version",
        )
        .bind(scheme_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|Json(r)| r).collect())
    }
}
