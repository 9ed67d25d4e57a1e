//! Where signing keeps its state: the certificate authority, residents' keys and signing
//! requests, on SQLite and PostgreSQL. The SQL is shared (`$n` placeholders, which both dialects
//! read); each write and its audit event are one transaction; every status change is a
//! conditional update, so a request is decided once however many try at the same moment.
//! Private keys arrive here already sealed and leave still sealed.

use std::future::Future;

use bauhinia_store::audit::{self, AuditEvent};
use bauhinia_store::{Database, SqliteDb, StoreError};
use sqlx::PgPool;

/// A certificate authority as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthorityRow {
    pub id: String,
    /// `root` or `issuing`.
    pub role: String,
    pub certificate_der: Vec<u8>,
    pub private_key_sealed: Vec<u8>,
    pub created_at_s: i64,
}

/// A resident's signing key and certificate as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRow {
    pub id: String,
    pub resident_id: String,
    /// Upper-case hexadecimal, as `openssl x509 -serial` prints it.
    pub serial: String,
    pub certificate_der: Vec<u8>,
    pub private_key_sealed: Vec<u8>,
    /// `active` or `revoked`.
    pub status: String,
    pub not_before_s: i64,
    pub not_after_s: i64,
    pub created_at_s: i64,
    pub revoked_at_s: Option<i64>,
}

/// A signing request as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestRow {
    pub id: String,
    pub client_id: String,
    pub resident_id: Option<String>,
    pub hkid_lookup: Option<Vec<u8>>,
    pub document_name: String,
    pub document_hash: Vec<u8>,
    pub status: String,
    pub created_at_s: i64,
    pub expires_at_s: i64,
    pub decided_at_s: Option<i64>,
    pub decided_by: Option<String>,
    pub signing_key_id: Option<String>,
    pub signature: Option<String>,
}

/// How a pending request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    Approve {
        resident_id: &'a str,
        key_id: &'a str,
        signature: &'a str,
    },
    Reject {
        resident_id: &'a str,
    },
    Cancel,
    Expire,
}

impl Decision<'_> {
    fn status(&self) -> &'static str {
        match self {
            Decision::Approve { .. } => "approved",
            Decision::Reject { .. } => "rejected",
            Decision::Cancel => "cancelled",
            Decision::Expire => "expired",
        }
    }
}

/// Most pending requests listed for one resident at once.
pub const PENDING_PAGE_MAX: i64 = 50;

pub trait SigningStore: Send + Sync {
    fn authorities(&self) -> impl Future<Output = Result<Vec<AuthorityRow>, StoreError>> + Send;

    /// Inserts the root and issuing CA with one audit event, atomically. A CA already present
    /// for either role is a [`StoreError::Conflict`], and nothing is written.
    fn insert_authorities(
        &self,
        root: &AuthorityRow,
        issuing: &AuthorityRow,
        event: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Revokes the resident's active key (if any) at `now_s`, inserts `key` as the active one
    /// and appends `event` (its detail gains `"revoked": [ids]`), atomically.
    fn enrol(
        &self,
        key: &KeyRow,
        now_s: i64,
        event: &AuditEvent,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    fn active_key(
        &self,
        resident_id: &str,
    ) -> impl Future<Output = Result<Option<KeyRow>, StoreError>> + Send;

    fn key_by_serial(
        &self,
        serial: &str,
    ) -> impl Future<Output = Result<Option<KeyRow>, StoreError>> + Send;

    fn insert_request(
        &self,
        request: &RequestRow,
        event: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn request(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<RequestRow>, StoreError>> + Send;

    /// Pending, unexpired requests for a resident, by id or by HKID lookup hash, oldest first.
    fn pending_for(
        &self,
        resident_id: &str,
        hkid_lookup: &[u8],
        now_s: i64,
    ) -> impl Future<Output = Result<Vec<RequestRow>, StoreError>> + Send;

    /// Moves a pending request to its decision at `now_s` and appends `event`, atomically.
    /// Only a request still pending changes; approval, rejection and cancellation also need it
    /// unexpired at `now_s` (expiry, expired), and approval needs the key still active. Returns whether it changed; when it
    /// did not, nothing is written.
    fn decide(
        &self,
        id: &str,
        decision: &Decision<'_>,
        now_s: i64,
        event: &AuditEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

#[derive(Debug, Clone)]
pub enum AnySigningStore {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

impl AnySigningStore {
    pub fn new(db: &Database) -> Self {
        match db {
            Database::Sqlite(db) => AnySigningStore::Sqlite(db.clone()),
            Database::Postgres(pool) => AnySigningStore::Postgres(pool.clone()),
        }
    }
}

/// Runs `$body` in a transaction on whichever database this is; `$append` is that dialect's
/// audit append. The body is written once and compiled for each dialect.
macro_rules! in_transaction {
    ($store:expr, |$tx:ident, $append:ident| $body:block) => {
        match $store {
            AnySigningStore::Sqlite(db) => {
                let mut $tx = db.begin_write().await?;
                let $append = audit::append_sqlite;
                let result = $body;
                $tx.commit().await?;
                result
            }
            AnySigningStore::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let $append = audit::append_pg;
                let result = $body;
                $tx.commit().await?;
                result
            }
        }
    };
}

/// Runs a read on whichever database this is (`$pool`: SQLite's read pool, or PostgreSQL's).
macro_rules! on_reader {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            AnySigningStore::Sqlite(db) => {
                let $pool = &db.reader;
                $body
            }
            AnySigningStore::Postgres(pool) => {
                let $pool = pool;
                $body
            }
        }
    };
}

fn conflict_on_unique(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| match error.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(what.into()),
        _ => StoreError::Sqlx(error),
    }
}

const AUTHORITY_COLUMNS: &str = "id, role, certificate_der, private_key_sealed, created_at_s";
const KEY_COLUMNS: &str = "id, resident_id, serial, certificate_der, private_key_sealed, status, \
                           not_before_s, not_after_s, created_at_s, revoked_at_s";
const REQUEST_COLUMNS: &str = "id, client_id, resident_id, hkid_lookup, document_name, \
                               document_hash, status, created_at_s, expires_at_s, decided_at_s, \
                               decided_by, signing_key_id, signature";

impl SigningStore for AnySigningStore {
    async fn authorities(&self) -> Result<Vec<AuthorityRow>, StoreError> {
        let sql = format!("SELECT {AUTHORITY_COLUMNS} FROM signing_authorities ORDER BY role");
        Ok(on_reader!(self, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await?))
    }

    async fn insert_authorities(
        &self,
        root: &AuthorityRow,
        issuing: &AuthorityRow,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO signing_authorities ({AUTHORITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        );
        in_transaction!(self, |tx, append| {
            for row in [root, issuing] {
                sqlx::query(&sql)
                    .bind(&row.id)
                    .bind(&row.role)
                    .bind(&row.certificate_der)
                    .bind(&row.private_key_sealed)
                    .bind(row.created_at_s)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_on_unique(
                        "the certificate authority already exists",
                    ))?;
            }
            append(&mut tx, event).await?;
        });
        Ok(())
    }

    async fn enrol(
        &self,
        key: &KeyRow,
        now_s: i64,
        event: &AuditEvent,
    ) -> Result<Vec<String>, StoreError> {
        let revoke = "UPDATE signing_keys SET status = 'revoked', revoked_at_s = $2 \
                      WHERE resident_id = $1 AND status = 'active' RETURNING id";
        let insert = format!(
            "INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        let revoked = in_transaction!(self, |tx, append| {
            let revoked: Vec<String> = sqlx::query_scalar(revoke)
                .bind(&key.resident_id)
                .bind(now_s)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query(&insert)
                .bind(&key.id)
                .bind(&key.resident_id)
                .bind(&key.serial)
                .bind(&key.certificate_der)
                .bind(&key.private_key_sealed)
                .bind(&key.status)
                .bind(key.not_before_s)
                .bind(key.not_after_s)
                .bind(key.created_at_s)
                .bind(key.revoked_at_s)
                .execute(&mut *tx)
                .await
                .map_err(conflict_on_unique(
                    "the resident enrolled at the same moment",
                ))?;
            let mut event = event.clone();
            if let Some(detail) = event.detail.as_object_mut() {
                detail.insert("revoked".into(), serde_json::json!(revoked));
            }
            append(&mut tx, &event).await?;
            revoked
        });
        Ok(revoked)
    }

    async fn active_key(&self, resident_id: &str) -> Result<Option<KeyRow>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE resident_id = $1 AND status = 'active'"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as(&sql)
            .bind(resident_id)
            .fetch_optional(pool)
            .await?))
    }

    async fn key_by_serial(&self, serial: &str) -> Result<Option<KeyRow>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM signing_keys WHERE serial = $1");
        Ok(on_reader!(self, |pool| sqlx::query_as(&sql)
            .bind(serial)
            .fetch_optional(pool)
            .await?))
    }

    async fn insert_request(
        &self,
        request: &RequestRow,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO signing_requests ({REQUEST_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        in_transaction!(self, |tx, append| {
            sqlx::query(&sql)
                .bind(&request.id)
                .bind(&request.client_id)
                .bind(&request.resident_id)
                .bind(&request.hkid_lookup)
                .bind(&request.document_name)
                .bind(&request.document_hash)
                .bind(&request.status)
                .bind(request.created_at_s)
                .bind(request.expires_at_s)
                .bind(request.decided_at_s)
                .bind(&request.decided_by)
                .bind(&request.signing_key_id)
                .bind(&request.signature)
                .execute(&mut *tx)
                .await?;
            append(&mut tx, event).await?;
        });
        Ok(())
    }

    async fn request(&self, id: &str) -> Result<Option<RequestRow>, StoreError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM signing_requests WHERE id = $1");
        Ok(on_reader!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    async fn pending_for(
        &self,
        resident_id: &str,
        hkid_lookup: &[u8],
        now_s: i64,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM signing_requests \
             WHERE (resident_id = $1 OR hkid_lookup = $2) AND status = 'pending' \
             AND expires_at_s > $3 ORDER BY created_at_s, id LIMIT $4"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as(&sql)
            .bind(resident_id)
            .bind(hkid_lookup)
            .bind(now_s)
            .bind(PENDING_PAGE_MAX)
            .fetch_all(pool)
            .await?))
    }

    async fn decide(
        &self,
        id: &str,
        decision: &Decision<'_>,
        now_s: i64,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        // $1 id, $2 status, $3 now, $4 decided_by, $5 key id, $6 signature.
        let (decided_by, key_id, signature, guard) = match decision {
            Decision::Approve {
                resident_id,
                key_id,
                signature,
            } => (
                Some(*resident_id),
                Some(*key_id),
                Some(*signature),
                "AND expires_at_s > $3 AND EXISTS (SELECT 1 FROM signing_keys \
                 WHERE id = $5 AND resident_id = $4 AND status = 'active')",
            ),
            Decision::Reject { resident_id } => {
                (Some(*resident_id), None, None, "AND expires_at_s > $3")
            }
            Decision::Cancel => (None, None, None, "AND expires_at_s > $3"),
            Decision::Expire => (None, None, None, "AND expires_at_s <= $3"),
        };
        let sql = format!(
            "UPDATE signing_requests SET status = $2, decided_at_s = $3, decided_by = $4, \
             signing_key_id = $5, signature = $6 WHERE id = $1 AND status = 'pending' {guard}"
        );
        let changed = in_transaction!(self, |tx, append| {
            let changed = sqlx::query(&sql)
                .bind(id)
                .bind(decision.status())
                .bind(now_s)
                .bind(decided_by)
                .bind(key_id)
                .bind(signature)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if changed {
                append(&mut tx, event).await?;
            }
            changed
        });
        Ok(changed)
    }
}
