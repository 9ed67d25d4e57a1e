//! Where the directory is kept, on SQLite and PostgreSQL with one query text (`$1`
//! placeholders, portable types; `read!` and `write_tx!`). Every change is one transaction:
//! it locks the business's row first (an UPDATE of its `revision`), checks the caller and the
//! rule against what that transaction reads, writes, and appends its audit event — so a
//! refused change writes nothing and two concurrent changes cannot both pass the
//! last-administrator check.

use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{read, write_tx, Database};

use crate::domain::{
    check_change, check_grant, check_revoke, check_role_change, AccessRefusal, DelegationTerms,
    NewLicence, Role, SignatoriesRequired, Status, StatusChange,
};
use crate::error::CorpIdError;

/// Who asks for a change: the operator (or the system acting as the operator), or a resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// `admin`, `system:demo`, …: the audit actor.
    Operator(String),
    /// A resident's opaque id.
    Resident(String),
}

impl Caller {
    pub fn actor(&self) -> String {
        match self {
            Caller::Operator(name) => name.clone(),
            Caller::Resident(id) => format!("resident:{id}"),
        }
    }

    fn is_operator(&self) -> bool {
        matches!(self, Caller::Operator(_))
    }
}

/// A business as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BusinessRow {
    pub id: String,
    pub brn: String,
    pub kind: String,
    pub form: String,
    pub status: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    /// JSON: the address lines.
    pub address: String,
    pub registered_on: String,
    /// JSON: the directors.
    pub directors: String,
    pub signatories_required: i64,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

pub(crate) const BUSINESS_COLUMNS: &str =
    "id, brn, kind, form, status, name_en, name_zh, address, registered_on, directors, \
                                signatories_required, created_at_s, updated_at_s";

/// A representative as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepresentativeRow {
    pub business_id: String,
    pub resident_id: String,
    pub role: String,
    pub granted_by: String,
    pub granted_at_s: i64,
}

/// A delegation with both businesses' BRNs and English names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DelegationRow {
    pub id: String,
    pub agent_id: String,
    pub agent_brn: String,
    pub agent_name_en: String,
    pub client_id: String,
    pub client_brn: String,
    pub client_name_en: String,
    pub role: String,
    pub valid_from_s: i64,
    pub valid_until_s: i64,
    pub revoked_at_s: Option<i64>,
    pub created_by: String,
    pub created_at_s: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LicenceRow {
    pub id: String,
    pub business_id: String,
    pub licence_type: String,
    pub number: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub status: String,
    pub shared: i64,
    pub updated_at_s: i64,
}

const LICENCE_COLUMNS: &str =
    "id, business_id, licence_type, number, issuer, valid_from, valid_until, status, shared, updated_at_s";

/// One way a resident may act for a business, as the login lookup reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StandingRow {
    pub business_id: String,
    pub brn: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub role: String,
    pub via_agent_brn: Option<String>,
    pub valid_until_s: Option<i64>,
}

/// What a change does to a business's representatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepresentativeChange<'a> {
    Grant { resident_id: &'a str, role: Role },
    Change { resident_id: &'a str, role: Role },
    Revoke { resident_id: &'a str },
}

/// A business to import with its representatives (at least one administrator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub business: BusinessRow,
    /// (resident id, role)
    pub representatives: Vec<(String, Role)>,
}

/// Rows per multi-row INSERT: 500 businesses × 13 parameters stays under SQLite's 32,766
/// parameters (PostgreSQL allows 65,535).
const ROWS_PER_STATEMENT: usize = 500;

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * columns + c + 1));
        }
        sql.push(')');
    }
    sql
}

fn map_insert(error: sqlx::Error, conflict: CorpIdError) -> CorpIdError {
    match error.as_database_error() {
        Some(db) if db.is_unique_violation() => conflict,
        Some(db) if db.is_foreign_key_violation() => CorpIdError::ResidentNotFound,
        _ => error.into(),
    }
}

fn event(
    caller: &Caller,
    action: &'static str,
    business_id: &str,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor: caller.actor(),
        action,
        subject: format!("business:{business_id}"),
        outcome: Outcome::Success,
        detail,
        request_id: None,
    }
}

/// Locks the business's row for the rest of the transaction; its id and status.
macro_rules! lock_business {
    ($tx:ident, $brn:expr) => {{
        let row: Option<(String, String)> = sqlx::query_as(
            "UPDATE corpid_businesses SET revision = revision + 1 WHERE brn = $1 RETURNING id, status",
        )
        .bind($brn)
        .fetch_optional(&mut *$tx)
        .await?;
        row.ok_or(CorpIdError::BusinessNotFound)?
    }};
}

/// A resident's role for a business, read inside the transaction.
macro_rules! role_in_tx {
    ($tx:ident, $business_id:expr, $resident_id:expr) => {{
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM corpid_representatives WHERE business_id = $1 AND resident_id = $2",
        )
        .bind($business_id)
        .bind($resident_id)
        .fetch_optional(&mut *$tx)
        .await?;
        role.as_deref().and_then(Role::parse)
    }};
}

/// Locks the business and checks that `caller` may change it; its id.
macro_rules! lock_for_change {
    ($tx:ident, $brn:expr, $caller:expr) => {{
        let (id, status) = lock_business!($tx, $brn);
        let caller_role = match $caller {
            Caller::Operator(_) => None,
            Caller::Resident(resident) => role_in_tx!($tx, &id, resident),
        };
        check_change(
            $caller.is_operator(),
            caller_role,
            status == Status::Active.as_str(),
        )?;
        id
    }};
}

/// Inserts businesses and their representatives in `$tx`, 500 rows a statement.
macro_rules! insert_rows {
    ($tx:ident, $rows:expr, $granted_by:expr) => {{
        let rows: &[ImportRow] = $rows;
        let granted_by: &str = $granted_by;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO corpid_businesses ({BUSINESS_COLUMNS}) VALUES {}",
                placeholders(chunk.len(), 13)
            );
            let mut query = sqlx::query(&sql);
            for ImportRow { business: b, .. } in chunk {
                query = query
                    .bind(&b.id)
                    .bind(&b.brn)
                    .bind(&b.kind)
                    .bind(&b.form)
                    .bind(&b.status)
                    .bind(&b.name_en)
                    .bind(&b.name_zh)
                    .bind(&b.address)
                    .bind(&b.registered_on)
                    .bind(&b.directors)
                    .bind(b.signatories_required)
                    .bind(b.created_at_s)
                    .bind(b.updated_at_s);
            }
            query
                .execute(&mut *$tx)
                .await
                .map_err(|e| map_insert(e, CorpIdError::BusinessExists))?;
        }
        let representatives: Vec<(&str, &str, Role, i64)> = rows
            .iter()
            .flat_map(|r| {
                r.representatives
                    .iter()
                    .map(move |(resident, role)| (r.business.id.as_str(), resident.as_str(), *role, r.business.created_at_s))
            })
            .collect();
        for chunk in representatives.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO corpid_representatives (business_id, resident_id, role, granted_by, granted_at_s) VALUES {}",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for (business, resident, role, at) in chunk {
                query = query
                    .bind(*business)
                    .bind(*resident)
                    .bind(role.as_str())
                    .bind(granted_by)
                    .bind(*at);
            }
            query
                .execute(&mut *$tx)
                .await
                .map_err(|e| map_insert(e, CorpIdError::Access(AccessRefusal::RoleExists)))?;
        }
    }};
}

#[derive(Debug, Clone)]
pub struct CorpIdStore {
    db: Database,
}

impl CorpIdStore {
    pub fn new(db: &Database) -> CorpIdStore {
        CorpIdStore { db: db.clone() }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// A new business with its first administrator and its audit event. A BRN already
    /// registered is [`CorpIdError::BusinessExists`]; an unknown resident
    /// [`CorpIdError::ResidentNotFound`]; either way nothing is written.
    pub async fn insert_business(
        &self,
        row: &BusinessRow,
        administrator: &str,
        caller: &Caller,
    ) -> Result<(), CorpIdError> {
        let audit = event(
            caller,
            "corpid.business.register",
            &row.id,
            serde_json::json!({ "brn": row.brn, "form": row.form, "administrator": administrator }),
        );
        let rows = [ImportRow {
            business: row.clone(),
            representatives: vec![(administrator.to_owned(), Role::Administrator)],
        }];
        write_tx!(&self.db, tx, append => {
            insert_rows!(tx, &rows, &caller.actor());
            append(&mut tx, &audit).await?;
        });
        Ok(())
    }

    /// Businesses and their representatives, all or nothing, with one audit event.
    pub async fn import(&self, rows: &[ImportRow], caller: &Caller) -> Result<(), CorpIdError> {
        let audit = AuditEvent {
            actor: caller.actor(),
            action: "corpid.business.import",
            subject: "businesses".to_owned(),
            outcome: Outcome::Success,
            detail: serde_json::json!({
                "count": rows.len(),
                "first_brn": rows.first().map(|r| r.business.brn.as_str()),
                "last_brn": rows.last().map(|r| r.business.brn.as_str()),
            }),
            request_id: None,
        };
        write_tx!(&self.db, tx, append => {
            insert_rows!(tx, rows, &caller.actor());
            append(&mut tx, &audit).await?;
        });
        Ok(())
    }

    pub async fn business_by_brn(&self, brn: &str) -> Result<Option<BusinessRow>, CorpIdError> {
        let sql = format!("SELECT {BUSINESS_COLUMNS} FROM corpid_businesses WHERE brn = $1");
        Ok(read!(&self.db, conn => sqlx::query_as(&sql).bind(brn).fetch_optional(conn).await?))
    }

    /// The operator's status moves (see [`Status::after`]); the new status.
    pub async fn change_status(
        &self,
        brn: &str,
        change: StatusChange,
        reason: Option<&str>,
        caller: &Caller,
        now: i64,
    ) -> Result<Status, CorpIdError> {
        Ok(write_tx!(&self.db, tx, append => {
            let (id, status) = lock_business!(tx, brn);
            let current = Status::parse(&status).ok_or_else(|| CorpIdError::Corrupt(format!("business {id} status")))?;
            let next = current.after(change).ok_or_else(|| CorpIdError::BusinessState(status.clone()))?;
            sqlx::query("UPDATE corpid_businesses SET status = $1, updated_at_s = $2 WHERE id = $3")
                .bind(next.as_str())
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            // A business that may not act signs nothing: its company certificate is revoked
            // with the move (a reactivated business gets a new key on its next signature).
            let revoked_keys: Vec<String> = if next == Status::Active {
                Vec::new()
            } else {
                sqlx::query_scalar(
                    "UPDATE corpid_signing_keys SET status = 'revoked', revoked_at_s = $2, \
                     revocation_reason = $3 WHERE business_id = $1 AND status = 'active' RETURNING serial",
                )
                .bind(&id)
                .bind(now)
                .bind(next.as_str())
                .fetch_all(&mut *tx)
                .await?
            };
            let detail = serde_json::json!({
                "from": current.as_str(), "to": next.as_str(), "reason": reason,
                "revoked_certificates": revoked_keys,
            });
            append(&mut tx, &event(caller, change.action(), &id, detail)).await?;
            next
        }))
    }

    /// Grants, changes or revokes a role, under the rules of `domain::access`.
    pub async fn change_representative(
        &self,
        brn: &str,
        change: RepresentativeChange<'_>,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        write_tx!(&self.db, tx, append => {
            let id = lock_for_change!(tx, brn, caller);
            let resident = match change {
                RepresentativeChange::Grant { resident_id, .. }
                | RepresentativeChange::Change { resident_id, .. }
                | RepresentativeChange::Revoke { resident_id } => resident_id,
            };
            let current = role_in_tx!(tx, &id, resident);
            let administrators: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM corpid_representatives WHERE business_id = $1 AND role = 'administrator'",
            )
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
            let administrators = usize::try_from(administrators).unwrap_or(0);
            let (action, detail) = match change {
                RepresentativeChange::Grant { resident_id, role } => {
                    check_grant(current)?;
                    sqlx::query(
                        "INSERT INTO corpid_representatives (business_id, resident_id, role, granted_by, granted_at_s) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&id)
                    .bind(resident_id)
                    .bind(role.as_str())
                    .bind(caller.actor())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| map_insert(e, CorpIdError::Access(AccessRefusal::RoleExists)))?;
                    ("corpid.role.grant", serde_json::json!({ "resident": resident_id, "role": role.as_str() }))
                }
                RepresentativeChange::Change { resident_id, role } => {
                    check_role_change(current, role, administrators)?;
                    sqlx::query(
                        "UPDATE corpid_representatives SET role = $1, granted_by = $2, granted_at_s = $3 \
                         WHERE business_id = $4 AND resident_id = $5",
                    )
                    .bind(role.as_str())
                    .bind(caller.actor())
                    .bind(now)
                    .bind(&id)
                    .bind(resident_id)
                    .execute(&mut *tx)
                    .await?;
                    let from = current.map(Role::as_str);
                    ("corpid.role.change", serde_json::json!({ "resident": resident_id, "from": from, "role": role.as_str() }))
                }
                RepresentativeChange::Revoke { resident_id } => {
                    check_revoke(current, administrators)?;
                    sqlx::query("DELETE FROM corpid_representatives WHERE business_id = $1 AND resident_id = $2")
                        .bind(&id)
                        .bind(resident_id)
                        .execute(&mut *tx)
                        .await?;
                    let from = current.map(Role::as_str);
                    ("corpid.role.revoke", serde_json::json!({ "resident": resident_id, "from": from }))
                }
            };
            append(&mut tx, &event(caller, action, &id, detail)).await?;
        });
        Ok(())
    }

    /// A delegation from the client (`client_brn`) to the agent, made by the client's
    /// administrator (or the operator). The agent must be active, not the client, and hold no
    /// delegation from the client that has not ended.
    pub async fn create_delegation(
        &self,
        client_brn: &str,
        agent_brn: &str,
        terms: &DelegationTerms,
        delegation_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        write_tx!(&self.db, tx, append => {
            let client = lock_for_change!(tx, client_brn, caller);
            let agent: Option<(String, String)> =
                sqlx::query_as("SELECT id, status FROM corpid_businesses WHERE brn = $1")
                    .bind(agent_brn)
                    .fetch_optional(&mut *tx)
                    .await?;
            let agent = match agent {
                Some((id, status)) if status == Status::Active.as_str() => id,
                _ => return Err(CorpIdError::field("/agent_brn", "no active business has this BRN")),
            };
            if agent == client {
                return Err(CorpIdError::field("/agent_brn", "a business cannot delegate to itself"));
            }
            let live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM corpid_delegations WHERE client_id = $1 AND agent_id = $2 \
                 AND revoked_at_s IS NULL AND valid_until_s > $3",
            )
            .bind(&client)
            .bind(&agent)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if live > 0 {
                return Err(CorpIdError::DelegationExists);
            }
            sqlx::query(
                "INSERT INTO corpid_delegations (id, agent_id, client_id, role, valid_from_s, valid_until_s, created_by, created_at_s) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(delegation_id)
            .bind(&agent)
            .bind(&client)
            .bind(terms.role.as_str())
            .bind(terms.valid_from)
            .bind(terms.valid_until)
            .bind(caller.actor())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "delegation": delegation_id, "agent_brn": agent_brn, "role": terms.role.as_str(),
                "valid_from": terms.valid_from, "valid_until": terms.valid_until,
            });
            append(&mut tx, &event(caller, "corpid.delegation.create", &client, detail)).await?;
        });
        Ok(())
    }

    /// Revokes a delegation the client made that has not ended.
    pub async fn revoke_delegation(
        &self,
        client_brn: &str,
        delegation_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        write_tx!(&self.db, tx, append => {
            let client = lock_for_change!(tx, client_brn, caller);
            let found: Option<(Option<i64>, i64)> = sqlx::query_as(
                "SELECT revoked_at_s, valid_until_s FROM corpid_delegations WHERE id = $1 AND client_id = $2",
            )
            .bind(delegation_id)
            .bind(&client)
            .fetch_optional(&mut *tx)
            .await?;
            match found {
                None => return Err(CorpIdError::DelegationNotFound),
                Some((Some(_), _)) => return Err(CorpIdError::DelegationState),
                Some((None, until)) if until <= now => return Err(CorpIdError::DelegationState),
                Some(_) => {}
            }
            sqlx::query("UPDATE corpid_delegations SET revoked_at_s = $1 WHERE id = $2 AND revoked_at_s IS NULL")
                .bind(now)
                .bind(delegation_id)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({ "delegation": delegation_id });
            append(&mut tx, &event(caller, "corpid.delegation.revoke", &client, detail)).await?;
        });
        Ok(())
    }

    pub async fn set_signing_policy(
        &self,
        brn: &str,
        required: SignatoriesRequired,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        write_tx!(&self.db, tx, append => {
            let id = lock_for_change!(tx, brn, caller);
            sqlx::query("UPDATE corpid_businesses SET signatories_required = $1, updated_at_s = $2 WHERE id = $3")
                .bind(i64::from(required.get()))
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({ "signatories_required": required.get() });
            append(&mut tx, &event(caller, "corpid.signing_policy.set", &id, detail)).await?;
        });
        Ok(())
    }

    /// Adds a licence (`licence_id` new) or replaces one the business keeps.
    pub async fn put_licence(
        &self,
        brn: &str,
        licence_id: &str,
        licence: &NewLicence,
        adding: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        write_tx!(&self.db, tx, append => {
            let id = lock_for_change!(tx, brn, caller);
            let action = if adding {
                let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM corpid_licences WHERE business_id = $1")
                    .bind(&id)
                    .fetch_one(&mut *tx)
                    .await?;
                if kept >= crate::domain::licence::LICENCES_PER_BUSINESS_MAX {
                    return Err(CorpIdError::LicenceLimit);
                }
                sqlx::query(&format!(
                    "INSERT INTO corpid_licences ({LICENCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ))
                .bind(licence_id)
                .bind(&id)
                .bind(&licence.licence_type)
                .bind(&licence.number)
                .bind(&licence.issuer)
                .bind(licence.valid_from.to_string())
                .bind(licence.valid_until.map(|d| d.to_string()))
                .bind(licence.status.as_str())
                .bind(i64::from(licence.shared))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_insert(e, CorpIdError::LicenceExists))?;
                "corpid.licence.add"
            } else {
                let changed = sqlx::query(
                    "UPDATE corpid_licences SET licence_type = $1, number = $2, issuer = $3, valid_from = $4, \
                     valid_until = $5, status = $6, shared = $7, updated_at_s = $8 WHERE id = $9 AND business_id = $10",
                )
                .bind(&licence.licence_type)
                .bind(&licence.number)
                .bind(&licence.issuer)
                .bind(licence.valid_from.to_string())
                .bind(licence.valid_until.map(|d| d.to_string()))
                .bind(licence.status.as_str())
                .bind(i64::from(licence.shared))
                .bind(now)
                .bind(licence_id)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_insert(e, CorpIdError::LicenceExists))?
                .rows_affected();
                if changed == 0 {
                    return Err(CorpIdError::LicenceNotFound);
                }
                "corpid.licence.update"
            };
            let detail = serde_json::json!({
                "licence": licence_id, "licence_type": licence.licence_type, "number": licence.number,
                "issuer": licence.issuer, "status": licence.status.as_str(),
            });
            append(&mut tx, &event(caller, action, &id, detail)).await?;
        });
        Ok(())
    }

    pub async fn remove_licence(
        &self,
        brn: &str,
        licence_id: &str,
        caller: &Caller,
    ) -> Result<(), CorpIdError> {
        write_tx!(&self.db, tx, append => {
            let id = lock_for_change!(tx, brn, caller);
            let removed = sqlx::query("DELETE FROM corpid_licences WHERE id = $1 AND business_id = $2")
                .bind(licence_id)
                .bind(&id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if removed == 0 {
                return Err(CorpIdError::LicenceNotFound);
            }
            let detail = serde_json::json!({ "licence": licence_id });
            append(&mut tx, &event(caller, "corpid.licence.remove", &id, detail)).await?;
        });
        Ok(())
    }

    /// A business's representatives, oldest grant first (at most `limit`).
    pub async fn representatives(
        &self,
        business_id: &str,
        limit: i64,
    ) -> Result<Vec<RepresentativeRow>, CorpIdError> {
        Ok(read!(&self.db, conn => sqlx::query_as(
            "SELECT business_id, resident_id, role, granted_by, granted_at_s FROM corpid_representatives \
             WHERE business_id = $1 ORDER BY granted_at_s, resident_id LIMIT $2",
        )
        .bind(business_id)
        .bind(limit)
        .fetch_all(conn)
        .await?))
    }

    /// Delegations the business made (as client) and holds (as agent), newest first.
    pub async fn delegations(
        &self,
        business_id: &str,
        limit: i64,
    ) -> Result<Vec<DelegationRow>, CorpIdError> {
        const SELECT: &str = "SELECT d.id, d.agent_id, a.brn AS agent_brn, a.name_en AS agent_name_en, \
             d.client_id, c.brn AS client_brn, c.name_en AS client_name_en, d.role, d.valid_from_s, \
             d.valid_until_s, d.revoked_at_s, d.created_by, d.created_at_s \
             FROM corpid_delegations d JOIN corpid_businesses a ON a.id = d.agent_id \
             JOIN corpid_businesses c ON c.id = d.client_id";
        let sql = format!(
            "SELECT * FROM ({SELECT} WHERE d.client_id = $1 UNION ALL {SELECT} WHERE d.agent_id = $1) AS both_sides \
             ORDER BY created_at_s DESC, id LIMIT $2"
        );
        Ok(
            read!(&self.db, conn => sqlx::query_as(&sql).bind(business_id).bind(limit).fetch_all(conn).await?),
        )
    }

    pub async fn licences(&self, business_id: &str) -> Result<Vec<LicenceRow>, CorpIdError> {
        let sql = format!(
            "SELECT {LICENCE_COLUMNS} FROM corpid_licences WHERE business_id = $1 ORDER BY valid_from, id LIMIT $2"
        );
        Ok(read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(business_id)
            .bind(crate::domain::licence::LICENCES_PER_BUSINESS_MAX)
            .fetch_all(conn)
            .await?))
    }

    /// The licences the business marked shared, as [`CorpIdStore::licences`] orders them: the
    /// only ones a service may receive.
    pub async fn shared_licences(&self, business_id: &str) -> Result<Vec<LicenceRow>, CorpIdError> {
        let sql = format!(
            "SELECT {LICENCE_COLUMNS} FROM corpid_licences WHERE business_id = $1 AND shared = 1 \
             ORDER BY valid_from, id LIMIT $2"
        );
        Ok(read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(business_id)
            .bind(crate::domain::licence::LICENCES_PER_BUSINESS_MAX)
            .fetch_all(conn)
            .await?))
    }

    /// Every way `resident_id` may act at `at`: roles of active businesses, and delegations
    /// in force to an active agent the resident administers or signs for, from an active client.
    /// Unmerged: a business may appear more than once (see `domain::access::preferred`).
    pub async fn standings(
        &self,
        resident_id: &str,
        at: i64,
    ) -> Result<Vec<StandingRow>, CorpIdError> {
        const DIRECT: &str = "SELECT b.id AS business_id, b.brn, b.name_en, b.name_zh, r.role, \
             NULL AS via_agent_brn, NULL AS valid_until_s \
             FROM corpid_representatives r JOIN corpid_businesses b ON b.id = r.business_id \
             WHERE r.resident_id = $1 AND b.status = 'active'";
        const DELEGATED: &str = "SELECT c.id AS business_id, c.brn, c.name_en, c.name_zh, d.role, \
             a.brn AS via_agent_brn, d.valid_until_s \
             FROM corpid_representatives r JOIN corpid_businesses a ON a.id = r.business_id \
             JOIN corpid_delegations d ON d.agent_id = a.id \
             JOIN corpid_businesses c ON c.id = d.client_id \
             WHERE r.resident_id = $1 AND r.role IN ('administrator', 'authorised_signatory') \
             AND a.status = 'active' AND c.status = 'active' AND d.revoked_at_s IS NULL \
             AND d.valid_from_s <= $2 AND d.valid_until_s > $2";
        let direct: Vec<StandingRow> = read!(&self.db, conn => sqlx::query_as(DIRECT).bind(resident_id).fetch_all(conn).await?);
        let delegated: Vec<StandingRow> = read!(&self.db, conn => sqlx::query_as(DELEGATED)
            .bind(resident_id)
            .bind(at)
            .fetch_all(conn)
            .await?);
        Ok(direct.into_iter().chain(delegated).collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_every_value() {
        assert_eq!(super::placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::placeholders(1, 1), "($1)");
    }
}
