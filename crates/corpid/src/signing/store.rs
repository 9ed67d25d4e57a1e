//! Where company signing keeps its state, on SQLite and PostgreSQL with one query text
//! (`read!`, `write_tx!`): companies' keys, requests, approvals. Each change and its audit event
//! are one transaction; a request changes only while pending and unexpired, by a conditional
//! update that also locks its row, so of two signatories approving at once one finalises and
//! the other's approval is refused, never both. Private keys arrive sealed and leave sealed.

use bauhinia_store::audit::AuditEvent;
use bauhinia_store::{read, write_tx, Database, StoreError};

use crate::domain::signing::ApprovalRefusal;
use crate::error::CorpIdError;

/// A company's signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRow {
    pub id: String,
    pub business_id: String,
    pub serial: String,
    pub certificate_der: Vec<u8>,
    pub private_key_sealed: Vec<u8>,
    pub status: String,
    pub not_before_s: i64,
    pub not_after_s: i64,
    pub created_at_s: i64,
    pub revoked_at_s: Option<i64>,
    pub revocation_reason: Option<String>,
}

const KEY_COLUMNS: &str = "id, business_id, serial, certificate_der, private_key_sealed, status, \
     not_before_s, not_after_s, created_at_s, revoked_at_s, revocation_reason";

/// A company signing request as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestRow {
    pub id: String,
    pub client_id: String,
    pub business_id: String,
    pub kind: String,
    pub document_name: String,
    pub document_hash: Vec<u8>,
    pub approvals_required: i64,
    pub status: String,
    pub created_at_s: i64,
    pub expires_at_s: i64,
    pub decided_at_s: Option<i64>,
    pub decided_by: Option<String>,
    pub company_key_id: Option<String>,
    pub signature: Option<String>,
}

const REQUEST_COLUMNS: &str = "id, client_id, business_id, kind, document_name, document_hash, \
     approvals_required, status, created_at_s, expires_at_s, decided_at_s, decided_by, \
     company_key_id, signature";

/// One signatory's approval as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApprovalRow {
    pub request_id: String,
    pub resident_id: String,
    pub role: String,
    pub agent_brn: Option<String>,
    pub delegation_id: Option<String>,
    pub approved_at_s: i64,
}

/// A delegation's terms, as verification reads them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DelegationTermsRow {
    pub client_brn: String,
    pub agent_brn: String,
    pub valid_from_s: i64,
    pub valid_until_s: i64,
    pub revoked_at_s: Option<i64>,
}

/// How a pending request ends without a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Reject,
    Cancel,
    Expire,
}

impl Ending {
    fn status(self) -> &'static str {
        match self {
            Ending::Reject => "rejected",
            Ending::Cancel => "cancelled",
            Ending::Expire => "expired",
        }
    }
}

/// Most pending requests listed for one signatory at once.
pub const PENDING_PAGE_MAX: i64 = 50;

/// Locks a request that is pending and unexpired at `$now` for the rest of the transaction
/// (an UPDATE that changes nothing: PostgreSQL locks the row, SQLite holds the write lock);
/// whether it was.
macro_rules! lock_pending {
    ($tx:ident, $id:expr, $now:expr) => {{
        let locked: Option<String> = sqlx::query_scalar(
            "UPDATE corpid_signing_requests SET status = status \
             WHERE id = $1 AND status = 'pending' AND expires_at_s > $2 RETURNING id",
        )
        .bind($id)
        .bind($now)
        .fetch_optional(&mut *$tx)
        .await?;
        locked.is_some()
    }};
}

/// Inserts an approval in `$tx`; the same signatory twice is [`ApprovalRefusal::AlreadyApproved`].
macro_rules! insert_approval {
    ($tx:ident, $a:expr) => {{
        let a: &ApprovalRow = $a;
        sqlx::query(
            "INSERT INTO corpid_signing_approvals \
             (request_id, resident_id, role, agent_brn, delegation_id, approved_at_s) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&a.request_id)
        .bind(&a.resident_id)
        .bind(&a.role)
        .bind(&a.agent_brn)
        .bind(&a.delegation_id)
        .bind(a.approved_at_s)
        .execute(&mut *$tx)
        .await
        .map_err(|e| {
            if bauhinia_store::dialect::is_unique_violation(&e) {
                CorpIdError::Approval(ApprovalRefusal::AlreadyApproved)
            } else {
                e.into()
            }
        })?;
    }};
}

/// How many approvals a request holds, in `$tx`.
macro_rules! approvals_in_tx {
    ($tx:ident, $id:expr) => {{
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM corpid_signing_approvals WHERE request_id = $1",
        )
        .bind($id)
        .fetch_one(&mut *$tx)
        .await?;
        n
    }};
}

#[derive(Debug, Clone)]
pub struct SigningStore {
    db: Database,
}

impl SigningStore {
    pub fn new(db: &Database) -> SigningStore {
        SigningStore { db: db.clone() }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub async fn active_key(&self, business_id: &str) -> Result<Option<KeyRow>, CorpIdError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM corpid_signing_keys WHERE business_id = $1 AND status = 'active'"
        );
        Ok(
            read!(&self.db, conn => sqlx::query_as(&sql).bind(business_id).fetch_optional(conn).await?),
        )
    }

    pub async fn key_by_serial(&self, serial: &str) -> Result<Option<KeyRow>, CorpIdError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM corpid_signing_keys WHERE serial = $1");
        Ok(read!(&self.db, conn => sqlx::query_as(&sql).bind(serial).fetch_optional(conn).await?))
    }

    /// Revokes the business's active key (reason `superseded`) at `now`, inserts `key` as the
    /// active one and appends `event`, atomically; the ids revoked. Two first needs at once:
    /// one inserts, the other gets [`StoreError::Conflict`] and nothing is written.
    pub async fn insert_key(
        &self,
        key: &KeyRow,
        replace: bool,
        now: i64,
        event: &AuditEvent,
    ) -> Result<Vec<String>, CorpIdError> {
        let insert = format!(
            "INSERT INTO corpid_signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        Ok(write_tx!(&self.db, tx, append => {
            let revoked: Vec<String> = if replace {
                sqlx::query_scalar(
                    "UPDATE corpid_signing_keys SET status = 'revoked', revoked_at_s = $2, \
                     revocation_reason = 'superseded' WHERE business_id = $1 AND status = 'active' RETURNING id",
                )
                .bind(&key.business_id)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?
            } else {
                Vec::new()
            };
            sqlx::query(&insert)
                .bind(&key.id)
                .bind(&key.business_id)
                .bind(&key.serial)
                .bind(&key.certificate_der)
                .bind(&key.private_key_sealed)
                .bind(&key.status)
                .bind(key.not_before_s)
                .bind(key.not_after_s)
                .bind(key.created_at_s)
                .bind(key.revoked_at_s)
                .bind(&key.revocation_reason)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if bauhinia_store::dialect::is_unique_violation(&e) {
                        CorpIdError::Store(StoreError::Conflict("the company key was made at the same moment".into()))
                    } else {
                        e.into()
                    }
                })?;
            let mut event = event.clone();
            if let Some(detail) = event.detail.as_object_mut() {
                detail.insert("revoked".into(), serde_json::json!(revoked));
            }
            append(&mut tx, &event).await?;
            revoked
        }))
    }

    pub async fn insert_request(
        &self,
        request: &RequestRow,
        event: &AuditEvent,
    ) -> Result<(), CorpIdError> {
        let sql = format!(
            "INSERT INTO corpid_signing_requests ({REQUEST_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        write_tx!(&self.db, tx, append => {
            sqlx::query(&sql)
                .bind(&request.id)
                .bind(&request.client_id)
                .bind(&request.business_id)
                .bind(&request.kind)
                .bind(&request.document_name)
                .bind(&request.document_hash)
                .bind(request.approvals_required)
                .bind(&request.status)
                .bind(request.created_at_s)
                .bind(request.expires_at_s)
                .bind(request.decided_at_s)
                .bind(&request.decided_by)
                .bind(&request.company_key_id)
                .bind(&request.signature)
                .execute(&mut *tx)
                .await?;
            append(&mut tx, event).await?;
        });
        Ok(())
    }

    pub async fn request(&self, id: &str) -> Result<Option<RequestRow>, CorpIdError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM corpid_signing_requests WHERE id = $1");
        Ok(read!(&self.db, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?))
    }

    /// A request's approvals, oldest first.
    pub async fn approvals(&self, request_id: &str) -> Result<Vec<ApprovalRow>, CorpIdError> {
        Ok(read!(&self.db, conn => sqlx::query_as(
            "SELECT request_id, resident_id, role, agent_brn, delegation_id, approved_at_s \
             FROM corpid_signing_approvals WHERE request_id = $1 ORDER BY approved_at_s, resident_id",
        )
        .bind(request_id)
        .fetch_all(conn)
        .await?))
    }

    /// Pending, unexpired requests of these businesses, oldest first.
    pub async fn pending_for(
        &self,
        business_ids: &[String],
        now: i64,
    ) -> Result<Vec<RequestRow>, CorpIdError> {
        let mut found = Vec::new();
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM corpid_signing_requests \
             WHERE business_id = $1 AND status = 'pending' AND expires_at_s > $2 \
             ORDER BY created_at_s, id LIMIT $3"
        );
        for business_id in business_ids {
            let rows: Vec<RequestRow> = read!(&self.db, conn => sqlx::query_as(&sql)
                .bind(business_id)
                .bind(now)
                .bind(PENDING_PAGE_MAX)
                .fetch_all(conn)
                .await?);
            found.extend(rows);
        }
        found.sort_by(|a, b| (a.created_at_s, &a.id).cmp(&(b.created_at_s, &b.id)));
        found.truncate(usize::try_from(PENDING_PAGE_MAX).unwrap_or(usize::MAX));
        Ok(found)
    }

    /// The business's requests in any state, newest first, at most `limit`.
    pub async fn requests_of_business(
        &self,
        business_id: &str,
        limit: i64,
    ) -> Result<Vec<RequestRow>, CorpIdError> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM corpid_signing_requests WHERE business_id = $1 \
             ORDER BY created_at_s DESC, id DESC LIMIT $2"
        );
        Ok(read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(business_id)
            .bind(limit)
            .fetch_all(conn)
            .await?))
    }

    /// Records an approval that does not yet complete the request: the request must be pending
    /// and unexpired at `now` and hold exactly `held` approvals. Whether it was recorded.
    pub async fn add_approval(
        &self,
        approval: &ApprovalRow,
        held: i64,
        now: i64,
        event: &AuditEvent,
    ) -> Result<bool, CorpIdError> {
        Ok(write_tx!(&self.db, tx, append => {
            if !lock_pending!(tx, &approval.request_id, now) || approvals_in_tx!(tx, &approval.request_id) != held {
                false
            } else {
                insert_approval!(tx, approval);
                append(&mut tx, event).await?;
                true
            }
        }))
    }

    /// Records the last approval and the signature: the request must be pending and unexpired
    /// at `now`, hold exactly `held` approvals, and the company key (if it signed) be active.
    /// Whether it was recorded.
    pub async fn finalise(
        &self,
        approval: &ApprovalRow,
        held: i64,
        company_key_id: Option<&str>,
        signature: &str,
        now: i64,
        event: &AuditEvent,
    ) -> Result<bool, CorpIdError> {
        Ok(write_tx!(&self.db, tx, append => {
            let key_active = match company_key_id {
                Some(key) => {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM corpid_signing_keys WHERE id = $1 AND status = 'active'",
                    )
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await?;
                    n == 1
                }
                None => true,
            };
            if !key_active
                || !lock_pending!(tx, &approval.request_id, now)
                || approvals_in_tx!(tx, &approval.request_id) != held
            {
                false
            } else {
                insert_approval!(tx, approval);
                sqlx::query(
                    "UPDATE corpid_signing_requests SET status = 'approved', decided_at_s = $2, \
                     decided_by = $3, company_key_id = $4, signature = $5 WHERE id = $1",
                )
                .bind(&approval.request_id)
                .bind(now)
                .bind(&approval.resident_id)
                .bind(company_key_id)
                .bind(signature)
                .execute(&mut *tx)
                .await?;
                append(&mut tx, event).await?;
                true
            }
        }))
    }

    /// Ends a pending request (rejection and cancellation need it unexpired at `now`, expiry
    /// expired). Whether it changed.
    pub async fn end(
        &self,
        id: &str,
        ending: Ending,
        by: Option<&str>,
        now: i64,
        event: &AuditEvent,
    ) -> Result<bool, CorpIdError> {
        let guard = match ending {
            Ending::Expire => "expires_at_s <= $3",
            Ending::Reject | Ending::Cancel => "expires_at_s > $3",
        };
        let sql = format!(
            "UPDATE corpid_signing_requests SET status = $2, decided_at_s = $3, decided_by = $4 \
             WHERE id = $1 AND status = 'pending' AND {guard}"
        );
        Ok(write_tx!(&self.db, tx, append => {
            let changed = sqlx::query(&sql)
                .bind(id)
                .bind(ending.status())
                .bind(now)
                .bind(by)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if changed {
                append(&mut tx, event).await?;
            }
            changed
        }))
    }

    /// A delegation's terms, if it exists.
    pub async fn delegation_terms(
        &self,
        delegation_id: &str,
    ) -> Result<Option<DelegationTermsRow>, CorpIdError> {
        Ok(read!(&self.db, conn => sqlx::query_as(
            "SELECT c.brn AS client_brn, a.brn AS agent_brn, d.valid_from_s, d.valid_until_s, d.revoked_at_s \
             FROM corpid_delegations d JOIN corpid_businesses a ON a.id = d.agent_id \
             JOIN corpid_businesses c ON c.id = d.client_id WHERE d.id = $1",
        )
        .bind(delegation_id)
        .fetch_optional(conn)
        .await?))
    }

    /// The delegation from `client_id` to the agent `agent_brn` in force at `now`, if any.
    pub async fn delegation_in_force(
        &self,
        client_id: &str,
        agent_brn: &str,
        now: i64,
    ) -> Result<Option<String>, CorpIdError> {
        Ok(read!(&self.db, conn => sqlx::query_scalar(
            "SELECT d.id FROM corpid_delegations d JOIN corpid_businesses a ON a.id = d.agent_id \
             WHERE d.client_id = $1 AND a.brn = $2 AND d.revoked_at_s IS NULL \
             AND d.valid_from_s <= $3 AND d.valid_until_s > $3 ORDER BY d.valid_until_s DESC LIMIT 1",
        )
        .bind(client_id)
        .bind(agent_brn)
        .bind(now)
        .fetch_optional(conn)
        .await?))
    }

    /// Whether the resident administers or signs for an agent that held a delegation from
    /// `client_id` which is no longer in force at `now` (it ended or was revoked).
    pub async fn had_delegation(
        &self,
        resident_id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<bool, CorpIdError> {
        let n: i64 = read!(&self.db, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM corpid_delegations d JOIN corpid_representatives r ON r.business_id = d.agent_id \
             WHERE d.client_id = $1 AND r.resident_id = $2 \
             AND r.role IN ('administrator', 'authorised_signatory') \
             AND (d.valid_until_s <= $3 OR (d.revoked_at_s IS NOT NULL AND d.revoked_at_s <= $3))",
        )
        .bind(client_id)
        .bind(resident_id)
        .bind(now)
        .fetch_one(conn)
        .await?);
        Ok(n > 0)
    }
}
