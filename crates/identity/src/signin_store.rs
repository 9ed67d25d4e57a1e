//! Where sign-in state is kept: passkeys, WebAuthn ceremonies between start and finish,
//! sessions, enrolment codes and lockouts, on SQLite and PostgreSQL (one conformance suite runs
//! against both). Every change that is a security event carries its audit event into the same
//! transaction.
//!
//! Times cross this boundary as the fixed-width UTC text of [`crate::clock`]; PostgreSQL casts
//! it to `timestamptz` on the way in and prints it back with `to_char` on the way out.

use bauhinia_store::audit::{self, AuditEvent};
use bauhinia_store::{Database, SqliteDb, StoreError};
use sqlx::PgPool;

use crate::clock;
use crate::domain::{LockScope, LockoutState};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyRow {
    pub id: String,
    pub resident_id: String,
    pub credential_id: Vec<u8>,
    /// The webauthn-rs `Passkey`, as JSON.
    pub credential: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CeremonyRow {
    pub id: String,
    /// `enrol`, `register` or `authenticate`.
    pub kind: String,
    pub resident_id: Option<String>,
    /// The webauthn-rs ceremony state, as JSON.
    pub state: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// SHA-256 of the cookie's token; the token itself is never stored.
    pub token_hash: Vec<u8>,
    pub id: String,
    pub resident_id: String,
    pub auth_time: String,
    pub acr: String,
    /// JSON array of authentication method references.
    pub amr: String,
    pub created_at: String,
    pub expires_at: String,
    pub ended_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeRow {
    pub resident_id: String,
    pub code_hash: Vec<u8>,
    pub issued_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct LockoutRow {
    failures: i64,
    locked_until: Option<String>,
}

/// How a removal went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    NotFound,
    /// Refused: it is the resident's only passkey.
    Last,
}

/// How a write of a new passkey went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewPasskey {
    Stored,
    /// Another passkey already has this credential id.
    Duplicate,
    /// The resident already holds the most passkeys allowed.
    TooMany,
    /// Enrolment only: the code was used, replaced or expired since the ceremony started.
    CodeGone,
}

/// The enrolment code a new passkey consumes.
#[derive(Debug, Clone, Copy)]
pub struct CodeUse<'a> {
    pub code_hash: &'a [u8],
    pub now: &'a str,
}

#[derive(Debug, Clone)]
pub enum SignInStore {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// `to_char` of a `timestamptz` column in the stored text form.
fn pg_time(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS {column}")
}

fn pg_passkey_columns() -> String {
    format!(
        "id, resident_id, credential_id, credential::text AS credential, name, {}, {}",
        pg_time("created_at"),
        pg_time("last_used_at")
    )
}
const PASSKEY_COLUMNS: &str =
    "id, resident_id, credential_id, credential, name, created_at, last_used_at";

fn pg_session_columns() -> String {
    format!(
        "token_hash, id, resident_id, {}, acr, amr::text AS amr, {}, {}, {}",
        pg_time("auth_time"),
        pg_time("created_at"),
        pg_time("expires_at"),
        pg_time("ended_at")
    )
}
const SESSION_COLUMNS: &str =
    "token_hash, id, resident_id, auth_time, acr, amr, created_at, expires_at, ended_at";

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}

fn lockout_state(row: Option<LockoutRow>) -> Result<LockoutState, StoreError> {
    let Some(row) = row else {
        return Ok(LockoutState::default());
    };
    let locked_until = row
        .locked_until
        .as_deref()
        .map(clock::from_text)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("lockout time: {e}")))?;
    Ok(LockoutState {
        failures: u32::try_from(row.failures).unwrap_or(u32::MAX),
        locked_until,
    })
}

impl SignInStore {
    pub fn new(db: &Database) -> Self {
        match db {
            Database::Sqlite(db) => SignInStore::Sqlite(db.clone()),
            Database::Postgres(pool) => SignInStore::Postgres(pool.clone()),
        }
    }

    // ---- ceremonies ------------------------------------------------------------------------

    /// Forgets expired ceremonies, then stores `row` unless `live_max` ceremonies are already
    /// waiting (a bound on what strangers starting ceremonies can make the table hold).
    /// Returns whether it was stored.
    pub async fn insert_ceremony(
        &self,
        row: &CeremonyRow,
        now: &str,
        live_max: i64,
    ) -> Result<bool, StoreError> {
        match self {
            SignInStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                sqlx::query("DELETE FROM identity_webauthn_ceremonies WHERE expires_at <= ?")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let live: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM identity_webauthn_ceremonies")
                        .fetch_one(&mut *tx)
                        .await?;
                if live >= live_max {
                    return Ok(false);
                }
                sqlx::query("INSERT INTO identity_webauthn_ceremonies (id, kind, resident_id, state, expires_at) VALUES (?, ?, ?, ?, ?)")
                    .bind(&row.id)
                    .bind(&row.kind)
                    .bind(&row.resident_id)
                    .bind(&row.state)
                    .bind(&row.expires_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            SignInStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "DELETE FROM identity_webauthn_ceremonies WHERE expires_at <= $1::timestamptz",
                )
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let live: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM identity_webauthn_ceremonies")
                        .fetch_one(&mut *tx)
                        .await?;
                if live >= live_max {
                    return Ok(false);
                }
                sqlx::query("INSERT INTO identity_webauthn_ceremonies (id, kind, resident_id, state, expires_at) VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz)")
                    .bind(&row.id)
                    .bind(&row.kind)
                    .bind(&row.resident_id)
                    .bind(&row.state)
                    .bind(&row.expires_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(true)
    }

    /// Removes and returns the ceremony `id` of `kind`, in one statement: of two finishes
    /// racing, one gets it and the other nothing. The caller checks its expiry.
    pub async fn take_ceremony(
        &self,
        id: &str,
        kind: &str,
    ) -> Result<Option<CeremonyRow>, StoreError> {
        Ok(match self {
            SignInStore::Sqlite(db) => {
                sqlx::query_as(
                    "DELETE FROM identity_webauthn_ceremonies WHERE id = ? AND kind = ? \
                 RETURNING id, kind, resident_id, state, expires_at",
                )
                .bind(id)
                .bind(kind)
                .fetch_optional(&mut *db.write().await?)
                .await?
            }
            SignInStore::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "DELETE FROM identity_webauthn_ceremonies WHERE id = $1 AND kind = $2 \
                 RETURNING id, kind, resident_id, state::text AS state, {}",
                    pg_time("expires_at")
                ))
                .bind(id)
                .bind(kind)
                .fetch_optional(pool)
                .await?
            }
        })
    }

    // ---- passkeys --------------------------------------------------------------------------

    /// A resident's passkeys, oldest first.
    pub async fn passkeys(&self, resident_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        Ok(match self {
            SignInStore::Sqlite(db) => sqlx::query_as(&format!(
                "SELECT {PASSKEY_COLUMNS} FROM identity_passkeys WHERE resident_id = ? ORDER BY created_at, id"
            ))
            .bind(resident_id)
            .fetch_all(&db.reader)
            .await?,
            SignInStore::Postgres(pool) => sqlx::query_as(&format!(
                "SELECT {} FROM identity_passkeys WHERE resident_id = $1 ORDER BY created_at, id",
                pg_passkey_columns()
            ))
            .bind(resident_id)
            .fetch_all(pool)
            .await?,
        })
    }

    pub async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<PasskeyRow>, StoreError> {
        Ok(match self {
            SignInStore::Sqlite(db) => {
                sqlx::query_as(&format!(
                    "SELECT {PASSKEY_COLUMNS} FROM identity_passkeys WHERE credential_id = ?"
                ))
                .bind(credential_id)
                .fetch_optional(&db.reader)
                .await?
            }
            SignInStore::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "SELECT {} FROM identity_passkeys WHERE credential_id = $1",
                    pg_passkey_columns()
                ))
                .bind(credential_id)
                .fetch_optional(pool)
                .await?
            }
        })
    }

    /// Stores a new passkey with its audit events; for an enrolment (`code` given) also
    /// consumes the enrolment code, starts `session` and clears the enrolment failures — all or
    /// nothing.
    pub async fn insert_passkey(
        &self,
        row: &PasskeyRow,
        code: Option<CodeUse<'_>>,
        session: Option<&SessionRow>,
        events: &[AuditEvent],
        per_resident_max: i64,
    ) -> Result<NewPasskey, StoreError> {
        match self {
            SignInStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                if let Some(code) = code {
                    let used = sqlx::query("UPDATE identity_enrolment_codes SET used_at = ? WHERE resident_id = ? AND code_hash = ? AND used_at IS NULL AND expires_at > ?")
                        .bind(code.now)
                        .bind(&row.resident_id)
                        .bind(code.code_hash)
                        .bind(code.now)
                        .execute(&mut *tx)
                        .await?;
                    if used.rows_affected() != 1 {
                        return Ok(NewPasskey::CodeGone);
                    }
                    sqlx::query("UPDATE identity_lockouts SET failures = 0 WHERE resident_id = ? AND scope = 'enrolment'")
                        .bind(&row.resident_id)
                        .execute(&mut *tx)
                        .await?;
                }
                let held: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM identity_passkeys WHERE resident_id = ?",
                )
                .bind(&row.resident_id)
                .fetch_one(&mut *tx)
                .await?;
                if held >= per_resident_max {
                    return Ok(NewPasskey::TooMany);
                }
                let inserted = sqlx::query(&format!(
                    "INSERT INTO identity_passkeys ({PASSKEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                ))
                .bind(&row.id)
                .bind(&row.resident_id)
                .bind(&row.credential_id)
                .bind(&row.credential)
                .bind(&row.name)
                .bind(&row.created_at)
                .bind(&row.last_used_at)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => return Ok(NewPasskey::Duplicate),
                    other => other?,
                };
                if let Some(session) = session {
                    sqlite_insert_session(&mut tx, session).await?;
                }
                for event in events {
                    audit::append_sqlite(&mut tx, event).await?;
                }
                tx.commit().await?;
            }
            SignInStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                if let Some(code) = code {
                    let used = sqlx::query("UPDATE identity_enrolment_codes SET used_at = $1::timestamptz WHERE resident_id = $2 AND code_hash = $3 AND used_at IS NULL AND expires_at > $1::timestamptz")
                        .bind(code.now)
                        .bind(&row.resident_id)
                        .bind(code.code_hash)
                        .execute(&mut *tx)
                        .await?;
                    if used.rows_affected() != 1 {
                        return Ok(NewPasskey::CodeGone);
                    }
                    sqlx::query("UPDATE identity_lockouts SET failures = 0 WHERE resident_id = $1 AND scope = 'enrolment'")
                        .bind(&row.resident_id)
                        .execute(&mut *tx)
                        .await?;
                }
                // Locks the resident's passkeys, so two additions cannot both pass the count.
                let held = sqlx::query(
                    "SELECT id FROM identity_passkeys WHERE resident_id = $1 FOR UPDATE",
                )
                .bind(&row.resident_id)
                .fetch_all(&mut *tx)
                .await?
                .len();
                if i64::try_from(held).unwrap_or(i64::MAX) >= per_resident_max {
                    return Ok(NewPasskey::TooMany);
                }
                let inserted = sqlx::query(&format!(
                    "INSERT INTO identity_passkeys ({PASSKEY_COLUMNS}) VALUES ($1, $2, $3, $4::jsonb, $5, $6::timestamptz, $7::timestamptz)"
                ))
                .bind(&row.id)
                .bind(&row.resident_id)
                .bind(&row.credential_id)
                .bind(&row.credential)
                .bind(&row.name)
                .bind(&row.created_at)
                .bind(&row.last_used_at)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => return Ok(NewPasskey::Duplicate),
                    other => other?,
                };
                if let Some(session) = session {
                    pg_insert_session(&mut tx, session).await?;
                }
                for event in events {
                    audit::append_pg(&mut tx, event).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(NewPasskey::Stored)
    }

    /// Removes a resident's passkey unless it is their last.
    pub async fn remove_passkey(
        &self,
        resident_id: &str,
        passkey_id: &str,
        event: &AuditEvent,
    ) -> Result<Removal, StoreError> {
        match self {
            SignInStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                let ids: Vec<String> =
                    sqlx::query_scalar("SELECT id FROM identity_passkeys WHERE resident_id = ?")
                        .bind(resident_id)
                        .fetch_all(&mut *tx)
                        .await?;
                let outcome = removal(&ids, passkey_id);
                if outcome == Removal::Removed {
                    sqlx::query("DELETE FROM identity_passkeys WHERE id = ? AND resident_id = ?")
                        .bind(passkey_id)
                        .bind(resident_id)
                        .execute(&mut *tx)
                        .await?;
                    audit::append_sqlite(&mut tx, event).await?;
                    tx.commit().await?;
                }
                Ok(outcome)
            }
            SignInStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // FOR UPDATE: two removals at once cannot both see two passkeys and leave none.
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM identity_passkeys WHERE resident_id = $1 FOR UPDATE",
                )
                .bind(resident_id)
                .fetch_all(&mut *tx)
                .await?;
                let outcome = removal(&ids, passkey_id);
                if outcome == Removal::Removed {
                    sqlx::query("DELETE FROM identity_passkeys WHERE id = $1 AND resident_id = $2")
                        .bind(passkey_id)
                        .bind(resident_id)
                        .execute(&mut *tx)
                        .await?;
                    audit::append_pg(&mut tx, event).await?;
                    tx.commit().await?;
                }
                Ok(outcome)
            }
        }
    }

    /// A successful passkey sign-in: the passkey's updated credential (counter, backup state)
    /// and last use, the new session, the login failures cleared, and the audit event.
    pub async fn record_login(
        &self,
        passkey: &PasskeyRow,
        session: &SessionRow,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        match self {
            SignInStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                sqlx::query(
                    "UPDATE identity_passkeys SET credential = ?, last_used_at = ? WHERE id = ?",
                )
                .bind(&passkey.credential)
                .bind(&passkey.last_used_at)
                .bind(&passkey.id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE identity_lockouts SET failures = 0 WHERE resident_id = ? AND scope = 'login'")
                    .bind(&passkey.resident_id)
                    .execute(&mut *tx)
                    .await?;
                sqlite_insert_session(&mut tx, session).await?;
                audit::append_sqlite(&mut tx, event).await?;
                tx.commit().await?;
            }
            SignInStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("UPDATE identity_passkeys SET credential = $1::jsonb, last_used_at = $2::timestamptz WHERE id = $3")
                    .bind(&passkey.credential)
                    .bind(&passkey.last_used_at)
                    .bind(&passkey.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE identity_lockouts SET failures = 0 WHERE resident_id = $1 AND scope = 'login'")
                    .bind(&passkey.resident_id)
                    .execute(&mut *tx)
                    .await?;
                pg_insert_session(&mut tx, session).await?;
                audit::append_pg(&mut tx, event).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    // ---- sessions --------------------------------------------------------------------------

    /// Stores a session with its audit event, forgetting sessions that expired before `now`.
    pub async fn insert_session(
        &self,
        row: &SessionRow,
        now: &str,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        match self {
            SignInStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                sqlx::query("DELETE FROM identity_sessions WHERE expires_at <= ?")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlite_insert_session(&mut tx, row).await?;
                audit::append_sqlite(&mut tx, event).await?;
                tx.commit().await?;
            }
            SignInStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("DELETE FROM identity_sessions WHERE expires_at <= $1::timestamptz")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                pg_insert_session(&mut tx, row).await?;
                audit::append_pg(&mut tx, event).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    pub async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
        Ok(match self {
            SignInStore::Sqlite(db) => {
                sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM identity_sessions WHERE token_hash = ?"
                ))
                .bind(token_hash)
                .fetch_optional(&db.reader)
                .await?
            }
            SignInStore::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "SELECT {} FROM identity_sessions WHERE token_hash = $1",
                    pg_session_columns()
                ))
                .bind(token_hash)
                .fetch_optional(pool)
                .await?
            }
        })
    }

    /// Ends the session if it is live at `now`, with `event`; returns whether it did.
    pub async fn end_session(
        &self,
        token_hash: &[u8],
        now: &str,
        event: impl FnOnce(&str, &str) -> AuditEvent,
    ) -> Result<bool, StoreError> {
        match self {
            SignInStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                let ended: Option<(String, String)> = sqlx::query_as(
                    "UPDATE identity_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL AND expires_at > ? \
                     RETURNING id, resident_id",
                )
                .bind(now)
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((id, resident_id)) = ended else {
                    return Ok(false);
                };
                audit::append_sqlite(&mut tx, &event(&id, &resident_id)).await?;
                tx.commit().await?;
            }
            SignInStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let ended: Option<(String, String)> = sqlx::query_as(
                    "UPDATE identity_sessions SET ended_at = $1::timestamptz WHERE token_hash = $2 AND ended_at IS NULL \
                     AND expires_at > $1::timestamptz RETURNING id, resident_id",
                )
                .bind(now)
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((id, resident_id)) = ended else {
                    return Ok(false);
                };
                audit::append_pg(&mut tx, &event(&id, &resident_id)).await?;
                tx.commit().await?;
            }
        }
        Ok(true)
    }

    // ---- enrolment codes -------------------------------------------------------------------

    /// Makes `row` the resident's one enrolment code (replacing any earlier one).
    pub async fn replace_code(&self, row: &CodeRow, event: &AuditEvent) -> Result<(), StoreError> {
        match self {
            SignInStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                sqlx::query(
                    "INSERT INTO identity_enrolment_codes (resident_id, code_hash, issued_at, expires_at, used_at) \
                     VALUES (?, ?, ?, ?, NULL) ON CONFLICT (resident_id) DO UPDATE SET code_hash = excluded.code_hash, \
                     issued_at = excluded.issued_at, expires_at = excluded.expires_at, used_at = NULL",
                )
                .bind(&row.resident_id)
                .bind(&row.code_hash)
                .bind(&row.issued_at)
                .bind(&row.expires_at)
                .execute(&mut *tx)
                .await?;
                audit::append_sqlite(&mut tx, event).await?;
                tx.commit().await?;
            }
            SignInStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "INSERT INTO identity_enrolment_codes (resident_id, code_hash, issued_at, expires_at, used_at) \
                     VALUES ($1, $2, $3::timestamptz, $4::timestamptz, NULL) ON CONFLICT (resident_id) DO UPDATE SET \
                     code_hash = excluded.code_hash, issued_at = excluded.issued_at, expires_at = excluded.expires_at, used_at = NULL",
                )
                .bind(&row.resident_id)
                .bind(&row.code_hash)
                .bind(&row.issued_at)
                .bind(&row.expires_at)
                .execute(&mut *tx)
                .await?;
                audit::append_pg(&mut tx, event).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    pub async fn code(&self, resident_id: &str) -> Result<Option<CodeRow>, StoreError> {
        Ok(match self {
            SignInStore::Sqlite(db) => sqlx::query_as(
                "SELECT resident_id, code_hash, issued_at, expires_at, used_at FROM identity_enrolment_codes WHERE resident_id = ?",
            )
            .bind(resident_id)
            .fetch_optional(&db.reader)
            .await?,
            SignInStore::Postgres(pool) => sqlx::query_as(&format!(
                "SELECT resident_id, code_hash, {}, {}, {} FROM identity_enrolment_codes WHERE resident_id = $1",
                pg_time("issued_at"),
                pg_time("expires_at"),
                pg_time("used_at")
            ))
            .bind(resident_id)
            .fetch_optional(pool)
            .await?,
        })
    }

    // ---- lockouts --------------------------------------------------------------------------

    pub async fn lockout(
        &self,
        resident_id: &str,
        scope: LockScope,
    ) -> Result<LockoutState, StoreError> {
        let row: Option<LockoutRow> = match self {
            SignInStore::Sqlite(db) => {
                sqlx::query_as("SELECT failures, locked_until FROM identity_lockouts WHERE resident_id = ? AND scope = ?")
                    .bind(resident_id)
                    .bind(scope.as_str())
                    .fetch_optional(&db.reader)
                    .await?
            }
            SignInStore::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "SELECT failures, {} FROM identity_lockouts WHERE resident_id = $1 AND scope = $2",
                    pg_time("locked_until")
                ))
                .bind(resident_id)
                .bind(scope.as_str())
                .fetch_optional(pool)
                .await?
            }
        };
        lockout_state(row)
    }

    /// Counts one failure in `scope`: reads the state, applies `next`, writes it back with the
    /// events `events` makes of (before, after) — one transaction, so concurrent failures are
    /// all counted. A lock in the enrolment scope also voids the resident's enrolment code, so
    /// the guesses at one code stay bounded. Returns the new state.
    pub async fn record_failure(
        &self,
        resident_id: &str,
        scope: LockScope,
        next: impl FnOnce(&LockoutState) -> LockoutState,
        events: impl FnOnce(&LockoutState, &LockoutState) -> Vec<AuditEvent>,
    ) -> Result<LockoutState, StoreError> {
        match self {
            SignInStore::Sqlite(db) => {
                let mut tx = db.begin_write().await?;
                let row: Option<LockoutRow> = sqlx::query_as("SELECT failures, locked_until FROM identity_lockouts WHERE resident_id = ? AND scope = ?")
                    .bind(resident_id)
                    .bind(scope.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let before = lockout_state(row)?;
                let after = next(&before);
                sqlx::query(
                    "INSERT INTO identity_lockouts (resident_id, scope, failures, locked_until) VALUES (?, ?, ?, ?) \
                     ON CONFLICT (resident_id, scope) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
                )
                .bind(resident_id)
                .bind(scope.as_str())
                .bind(i64::from(after.failures))
                .bind(after.locked_until.map(clock::to_text))
                .execute(&mut *tx)
                .await?;
                if scope == LockScope::Enrolment && before.locks(&after) {
                    sqlx::query("DELETE FROM identity_enrolment_codes WHERE resident_id = ?")
                        .bind(resident_id)
                        .execute(&mut *tx)
                        .await?;
                }
                for event in events(&before, &after) {
                    audit::append_sqlite(&mut tx, &event).await?;
                }
                tx.commit().await?;
                Ok(after)
            }
            SignInStore::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // The row must exist before FOR UPDATE can lock it.
                sqlx::query("INSERT INTO identity_lockouts (resident_id, scope, failures) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
                    .bind(resident_id)
                    .bind(scope.as_str())
                    .execute(&mut *tx)
                    .await?;
                let row: Option<LockoutRow> = sqlx::query_as(&format!(
                    "SELECT failures, {} FROM identity_lockouts WHERE resident_id = $1 AND scope = $2 FOR UPDATE",
                    pg_time("locked_until")
                ))
                .bind(resident_id)
                .bind(scope.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let before = lockout_state(row)?;
                let after = next(&before);
                sqlx::query("UPDATE identity_lockouts SET failures = $3, locked_until = $4::timestamptz WHERE resident_id = $1 AND scope = $2")
                    .bind(resident_id)
                    .bind(scope.as_str())
                    .bind(i64::from(after.failures))
                    .bind(after.locked_until.map(clock::to_text))
                    .execute(&mut *tx)
                    .await?;
                if scope == LockScope::Enrolment && before.locks(&after) {
                    sqlx::query("DELETE FROM identity_enrolment_codes WHERE resident_id = $1")
                        .bind(resident_id)
                        .execute(&mut *tx)
                        .await?;
                }
                for event in events(&before, &after) {
                    audit::append_pg(&mut tx, &event).await?;
                }
                tx.commit().await?;
                Ok(after)
            }
        }
    }

    /// Appends an event that changes nothing else (a failure with no resident to count it on).
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        match self {
            SignInStore::Sqlite(db) => audit::append_sqlite(&mut *db.write().await?, event).await,
            SignInStore::Postgres(pool) => {
                audit::append_pg(&mut *pool.acquire().await?, event).await
            }
        }
    }
}

fn removal(ids: &[String], passkey_id: &str) -> Removal {
    if !ids.iter().any(|id| id == passkey_id) {
        Removal::NotFound
    } else if ids.len() <= 1 {
        Removal::Last
    } else {
        Removal::Removed
    }
}

async fn sqlite_insert_session(
    tx: &mut sqlx::SqliteConnection,
    row: &SessionRow,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO identity_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&row.token_hash)
    .bind(&row.id)
    .bind(&row.resident_id)
    .bind(&row.auth_time)
    .bind(&row.acr)
    .bind(&row.amr)
    .bind(&row.created_at)
    .bind(&row.expires_at)
    .bind(&row.ended_at)
    .execute(tx)
    .await?;
    Ok(())
}

async fn pg_insert_session(
    tx: &mut sqlx::PgConnection,
    row: &SessionRow,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO identity_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4::timestamptz, $5, $6::jsonb, \
         $7::timestamptz, $8::timestamptz, $9::timestamptz)"
    ))
    .bind(&row.token_hash)
    .bind(&row.id)
    .bind(&row.resident_id)
    .bind(&row.auth_time)
    .bind(&row.acr)
    .bind(&row.amr)
    .bind(&row.created_at)
    .bind(&row.expires_at)
    .bind(&row.ended_at)
    .execute(tx)
    .await?;
    Ok(())
}
