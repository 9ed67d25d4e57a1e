//! The append-only audit log. Services append an event in the same transaction as the change
//! it records, so there is never a change without its record or a record without its change.
//! The database refuses updates and deletes of the table (triggers in the migrations).

use sqlx::{PgConnection, SqliteConnection};

use crate::{Database, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One event. `detail` must never hold a secret or an identity number in clear.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Who acted: `system`, `resident:<id>`, `service:<client_id>`, `admin:<name>`.
    pub actor: String,
    /// What happened, dotted: `identity.resident.register`.
    pub action: &'static str,
    /// What it happened to: `resident:<id>`.
    pub subject: String,
    pub outcome: Outcome,
    pub detail: serde_json::Value,
    pub request_id: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub outcome: String,
    pub detail: String,
}

pub async fn append_sqlite(
    conn: &mut SqliteConnection,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO audit_events (actor, action, subject, outcome, detail, request_id) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(&event.actor)
        .bind(event.action)
        .bind(&event.subject)
        .bind(event.outcome.as_str())
        .bind(event.detail.to_string())
        .bind(&event.request_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn append_pg(conn: &mut PgConnection, event: &AuditEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (actor, action, subject, outcome, detail, request_id) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&event.actor)
    .bind(event.action)
    .bind(&event.subject)
    .bind(event.outcome.as_str())
    .bind(sqlx::types::Json(&event.detail))
    .bind(&event.request_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Events on one subject, oldest first, at most `limit`.
pub const AUDIT_PAGE_MAX: i64 = 1000;

impl Database {
    /// Appends an event on its own (for events that change nothing else, such as a failed login).
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(db) => append_sqlite(&mut *db.write().await?, event).await,
            Database::Postgres(pool) => append_pg(&mut *pool.acquire().await?, event).await,
        }
    }

    pub async fn audit_for_subject(
        &self,
        subject: &str,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let limit = limit.clamp(1, AUDIT_PAGE_MAX);
        Ok(match self {
            Database::Sqlite(db) => sqlx::query_as(
                "SELECT seq, at, actor, action, subject, outcome, detail FROM audit_events WHERE subject = ? ORDER BY seq LIMIT ?",
            )
            .bind(subject)
            .bind(limit)
            .fetch_all(&db.reader)
            .await?,
            Database::Postgres(pool) => sqlx::query_as(
                "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS at, actor, action, subject, \
                 outcome, detail::text AS detail FROM audit_events WHERE subject = $1 ORDER BY seq LIMIT $2",
            )
            .bind(subject)
            .bind(limit)
            .fetch_all(pool)
            .await?,
        })
    }
}

/// [`append_sqlite`] for a job on the group-commit thread (see [`crate::GroupCommit`]).
pub fn append_embedded(conn: &rusqlite::Connection, event: &AuditEvent) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit_events (actor, action, subject, outcome, detail, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(rusqlite::params![
        event.actor,
        event.action,
        event.subject,
        event.outcome.as_str(),
        event.detail.to_string(),
        event.request_id,
    ])?;
    Ok(())
}
