//! Where residents are kept: the [`IdentityStore`] trait with SQLite and PostgreSQL
//! implementations that pass one conformance suite. Rows hold only sealed or hashed HKIDs;
//! every write carries its audit event into the same transaction.

use std::future::Future;

use bauhinia_store::audit::{self, AuditEvent};
use bauhinia_store::{Database, SqliteDb, StoreError};
use sqlx::PgPool;

/// A resident as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResidentRow {
    pub id: String,
    pub hkid_lookup: Vec<u8>,
    pub hkid_sealed: Vec<u8>,
    pub english_name: String,
    pub chinese_name: Option<String>,
    pub date_of_birth: String,
    pub gender: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    /// JSON: the address lines.
    pub residential_address: String,
    pub postal_address: Option<String>,
}

pub trait IdentityStore: Send + Sync {
    /// Inserts a resident and its audit event atomically. A second resident with the same HKID
    /// lookup hash is a [`StoreError::Conflict`], and nothing is written.
    fn insert_resident(
        &self,
        row: &ResidentRow,
        event: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts many residents and one audit event atomically (an operator's import). Any HKID
    /// already registered, or repeated in the batch, is a [`StoreError::Conflict`] and nothing
    /// is written.
    fn insert_residents(
        &self,
        rows: &[ResidentRow],
        event: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn resident_by_lookup(
        &self,
        lookup: &[u8],
    ) -> impl Future<Output = Result<Option<ResidentRow>, StoreError>> + Send;

    fn resident(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<ResidentRow>, StoreError>> + Send;

    fn count_residents(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

#[derive(Debug, Clone)]
pub enum AnyIdentityStore {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

impl AnyIdentityStore {
    pub fn new(db: &Database) -> Self {
        match db {
            Database::Sqlite(db) => AnyIdentityStore::Sqlite(db.clone()),
            Database::Postgres(pool) => AnyIdentityStore::Postgres(pool.clone()),
        }
    }
}

const COLUMNS: &str = "id, hkid_lookup, hkid_sealed, english_name, chinese_name, date_of_birth, gender, mobile, email, \
                       residential_address, postal_address";
const PG_COLUMNS: &str = "id, hkid_lookup, hkid_sealed, english_name, chinese_name, date_of_birth, gender, mobile, email, \
                          residential_address::text AS residential_address, postal_address::text AS postal_address";

fn conflict_on_unique(error: sqlx::Error) -> StoreError {
    match error.as_database_error() {
        Some(db) if db.is_unique_violation() => {
            StoreError::Conflict("a resident with this HKID is already registered".into())
        }
        _ => StoreError::Sqlx(error),
    }
}

impl IdentityStore for AnyIdentityStore {
    async fn insert_resident(
        &self,
        row: &ResidentRow,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        match self {
            AnyIdentityStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                sqlx::query(&format!("INSERT INTO identity_residents ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
                    .bind(&row.id)
                    .bind(&row.hkid_lookup)
                    .bind(&row.hkid_sealed)
                    .bind(&row.english_name)
                    .bind(&row.chinese_name)
                    .bind(&row.date_of_birth)
                    .bind(&row.gender)
                    .bind(&row.mobile)
                    .bind(&row.email)
                    .bind(&row.residential_address)
                    .bind(&row.postal_address)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_on_unique)?;
                audit::append_sqlite(&mut tx, event).await?;
                tx.commit().await?;
            }
            AnyIdentityStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(&format!(
                    "INSERT INTO identity_residents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb)"
                ))
                .bind(&row.id)
                .bind(&row.hkid_lookup)
                .bind(&row.hkid_sealed)
                .bind(&row.english_name)
                .bind(&row.chinese_name)
                .bind(&row.date_of_birth)
                .bind(&row.gender)
                .bind(&row.mobile)
                .bind(&row.email)
                .bind(&row.residential_address)
                .bind(&row.postal_address)
                .execute(&mut *tx)
                .await
                .map_err(conflict_on_unique)?;
                audit::append_pg(&mut tx, event).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    async fn insert_residents(
        &self,
        rows: &[ResidentRow],
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        // Multi-row INSERTs of this many rows stay under both dialects' parameter limits
        // (SQLite 32,766; PostgreSQL 65,535) at 11 parameters a row.
        const ROWS_PER_STATEMENT: usize = 500;
        fn statement(rows: usize, pg: bool) -> String {
            let mut sql = format!("INSERT INTO identity_residents ({COLUMNS}) VALUES ");
            for r in 0..rows {
                if r > 0 {
                    sql.push_str(", ");
                }
                let n = r * 11;
                let (a, b) = if pg { ("::jsonb", "::jsonb") } else { ("", "") };
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}{a}, ${}{b})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6,
                    n + 7,
                    n + 8,
                    n + 9,
                    n + 10,
                    n + 11
                ));
            }
            sql
        }
        macro_rules! insert_all {
            ($tx:ident, $pg:expr) => {
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let sql = statement(chunk.len(), $pg);
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query
                            .bind(&row.id)
                            .bind(&row.hkid_lookup)
                            .bind(&row.hkid_sealed)
                            .bind(&row.english_name)
                            .bind(&row.chinese_name)
                            .bind(&row.date_of_birth)
                            .bind(&row.gender)
                            .bind(&row.mobile)
                            .bind(&row.email)
                            .bind(&row.residential_address)
                            .bind(&row.postal_address);
                    }
                    query.execute(&mut *$tx).await.map_err(conflict_on_unique)?;
                }
            };
        }
        match self {
            AnyIdentityStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                insert_all!(tx, false);
                audit::append_sqlite(&mut tx, event).await?;
                tx.commit().await?;
            }
            AnyIdentityStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                insert_all!(tx, true);
                audit::append_pg(&mut tx, event).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    async fn resident_by_lookup(&self, lookup: &[u8]) -> Result<Option<ResidentRow>, StoreError> {
        Ok(match self {
            AnyIdentityStore::Sqlite(db) => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM identity_residents WHERE hkid_lookup = ?"
                ))
                .bind(lookup)
                .fetch_optional(&db.reader)
                .await?
            }
            AnyIdentityStore::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "SELECT {PG_COLUMNS} FROM identity_residents WHERE hkid_lookup = $1"
                ))
                .bind(lookup)
                .fetch_optional(pool)
                .await?
            }
        })
    }

    async fn resident(&self, id: &str) -> Result<Option<ResidentRow>, StoreError> {
        Ok(match self {
            AnyIdentityStore::Sqlite(db) => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM identity_residents WHERE id = ?"
                ))
                .bind(id)
                .fetch_optional(&db.reader)
                .await?
            }
            AnyIdentityStore::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "SELECT {PG_COLUMNS} FROM identity_residents WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(pool)
                .await?
            }
        })
    }

    async fn count_residents(&self) -> Result<i64, StoreError> {
        Ok(match self {
            AnyIdentityStore::Sqlite(db) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM identity_residents")
                    .fetch_one(&db.reader)
                    .await?
            }
            AnyIdentityStore::Postgres(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM identity_residents")
                    .fetch_one(pool)
                    .await?
            }
        })
    }
}
