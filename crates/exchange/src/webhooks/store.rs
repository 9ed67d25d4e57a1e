//! `exchange_webhook_endpoints` and `exchange_webhook_deliveries` on SQLite and PostgreSQL, one
//! query text for both.
//!
//! Notifications are enqueued by [`enqueue`] inside the write transaction of the change they
//! tell of (`write_records!` in `consent/store.rs`): a change never commits without its
//! deliveries, nor a delivery without its change. Every operator's change (an endpoint set or
//! cleared, a replay) is one transaction with its audit event.
//!
//! The worker takes due deliveries by a lease and records their attempts through
//! `bauhinia_store::lease`, as FPS's webhooks do: of two workers, one gets a row.

use bauhinia_core::background::now_ms;
use bauhinia_store::audit::AuditEvent;
use bauhinia_store::lease;
pub use bauhinia_store::lease::AttemptResult;
use bauhinia_store::{read, write_tx, Database, StoreError};
use sqlx::{PgConnection, SqliteConnection};

use super::domain::{Audience, EndpointUrl, Notification};

/// The most deliveries one claim takes.
pub const CLAIM_MAX: i64 = 256;
/// The most dead letters one list returns.
pub const DEAD_LETTERS_MAX: i64 = 200;
/// How long a delivered or cancelled delivery is kept, for support, before housekeeping
/// deletes it. Dead letters stay until replayed.
pub const DONE_KEEP_S: i64 = 7 * 86_400;
/// The most rows one purge deletes.
pub const PURGE_MAX: i64 = 10_000;

/// The participants of `$1`'s audience that have an endpoint: the consent's consumer and
/// providers ([`Audience::Parties`]) or one participant.
const PARTIES_WITH_ENDPOINT: &str = "SELECT participant FROM exchange_webhook_endpoints \
    WHERE participant IN (SELECT consumer FROM exchange_consents WHERE id = $1 \
    UNION SELECT provider FROM exchange_consent_providers WHERE consent = $1) \
    ORDER BY participant";
const ONE_WITH_ENDPOINT: &str =
    "SELECT participant FROM exchange_webhook_endpoints WHERE participant = $1";
const INSERT_DELIVERY: &str = "INSERT INTO exchange_webhook_deliveries (event_id, participant, \
    type, consent, consent_status, occurred_at_s, status, attempts, next_attempt_at_ms, \
    created_at_s, updated_at_s) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $8)";

/// A write transaction's connection, of either dialect: `webhooks::store::enqueue(&mut *tx, …)`
/// inside a `write_tx!` body resolves to the right one.
pub trait NotificationOutbox {
    /// Inserts a pending delivery, due at once, per notification and participant of its
    /// audience that has an endpoint; how many.
    fn enqueue_notifications(
        &mut self,
        notifications: &[Notification],
        now_ms: i64,
    ) -> impl std::future::Future<Output = Result<usize, StoreError>> + Send;
}

macro_rules! outbox_for {
    ($conn:ty) => {
        impl NotificationOutbox for $conn {
            async fn enqueue_notifications(
                &mut self,
                notifications: &[Notification],
                now_ms: i64,
            ) -> Result<usize, StoreError> {
                let mut inserted = 0;
                for n in notifications {
                    let recipients: Vec<String> = match &n.to {
                        Audience::Parties => {
                            sqlx::query_scalar(PARTIES_WITH_ENDPOINT)
                                .bind(n.consent.as_str())
                                .fetch_all(&mut *self)
                                .await?
                        }
                        Audience::Participant(who) => {
                            sqlx::query_scalar(ONE_WITH_ENDPOINT)
                                .bind(who.as_str())
                                .fetch_all(&mut *self)
                                .await?
                        }
                    };
                    for participant in recipients {
                        sqlx::query(INSERT_DELIVERY)
                            .bind(uuid::Uuid::new_v4().hyphenated().to_string())
                            .bind(&participant)
                            .bind(n.kind.as_str())
                            .bind(n.consent.as_str())
                            .bind(n.status.as_str())
                            .bind(n.at_s)
                            .bind(now_ms)
                            .bind(now_ms / 1000)
                            .execute(&mut *self)
                            .await?;
                        inserted += 1;
                    }
                }
                Ok(inserted)
            }
        }
    };
}

outbox_for!(SqliteConnection);
outbox_for!(PgConnection);

/// [`enqueue`] on the embedded database's group-commit thread (`rusqlite`, inside the batch's
/// transaction): the same statements.
pub fn enqueue_embedded(
    conn: &bauhinia_store::rusqlite::Connection,
    notifications: &[Notification],
) -> Result<usize, StoreError> {
    use bauhinia_store::rusqlite::params;
    let now_ms = now_ms();
    let mut inserted = 0;
    for n in notifications {
        let recipients: Vec<String> = match &n.to {
            Audience::Parties => conn
                .prepare_cached(PARTIES_WITH_ENDPOINT)?
                .query_map(params![n.consent.as_str()], |r| r.get(0))?
                .collect::<Result<_, _>>()?,
            Audience::Participant(who) => conn
                .prepare_cached(ONE_WITH_ENDPOINT)?
                .query_map(params![who.as_str()], |r| r.get(0))?
                .collect::<Result<_, _>>()?,
        };
        for participant in recipients {
            conn.prepare_cached(INSERT_DELIVERY)?.execute(params![
                uuid::Uuid::new_v4().hyphenated().to_string(),
                participant,
                n.kind.as_str(),
                n.consent.as_str(),
                n.status.as_str(),
                n.at_s,
                now_ms,
                now_ms / 1000,
            ])?;
            inserted += 1;
        }
    }
    Ok(inserted)
}

/// Enqueues `notifications` in the transaction `conn` belongs to; how many deliveries.
pub async fn enqueue<C: NotificationOutbox + ?Sized>(
    conn: &mut C,
    notifications: &[Notification],
) -> Result<usize, StoreError> {
    if notifications.is_empty() {
        return Ok(0);
    }
    conn.enqueue_notifications(notifications, now_ms()).await
}

/// A delivery as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_id: String,
    pub participant: String,
    pub kind: String,
    pub consent: String,
    pub consent_status: String,
    pub occurred_at_s: i64,
    /// `pending`, `delivered`, `failed` (a dead letter) or `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.participant, d.type AS kind, d.consent, \
    d.consent_status, d.occurred_at_s, d.status, d.attempts, d.next_attempt_at_ms, \
    d.last_status_code, d.last_error, d.created_at_s, d.updated_at_s";

const TABLE: &str = "exchange_webhook_deliveries";

/// A due delivery with where it goes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Due {
    #[sqlx(flatten)]
    pub delivery: DeliveryRow,
    pub url: String,
}

impl lease::Leased for Due {
    fn id(&self) -> i64 {
        self.delivery.id
    }

    fn next_attempt_at_ms(&self) -> i64 {
        self.delivery.next_attempt_at_ms
    }

    fn attempts(&self) -> i64 {
        self.delivery.attempts
    }
}

/// What an operator's change found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Done(u64),
    NoParticipant,
    NoEndpoint,
}

#[derive(Debug, Clone)]
pub struct DeliveryStore {
    db: Database,
}

impl DeliveryStore {
    pub fn new(db: &Database) -> DeliveryStore {
        DeliveryStore { db: db.clone() }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Whether `participant` is registered (participants are never deleted, so this holds
    /// for the transaction that follows).
    async fn known(&self, participant: &str) -> Result<bool, StoreError> {
        let found: Option<String> = read!(&self.db, conn => sqlx::query_scalar(
            "SELECT id FROM exchange_participants WHERE id = $1",
        )
        .bind(participant)
        .fetch_optional(conn)
        .await?);
        Ok(found.is_some())
    }

    /// Sets (or replaces) a participant's endpoint, audited. `NoParticipant`: not registered.
    pub async fn set_endpoint(
        &self,
        participant: &str,
        url: &EndpointUrl,
        now_s: i64,
        audit: &AuditEvent,
    ) -> Result<Found, StoreError> {
        if !self.known(participant).await? {
            return Ok(Found::NoParticipant);
        }
        Ok(write_tx!(&self.db, tx, append => {
            sqlx::query(
                "INSERT INTO exchange_webhook_endpoints (participant, url, created_at_s, updated_at_s) \
                 VALUES ($1, $2, $3, $3) ON CONFLICT (participant) \
                 DO UPDATE SET url = excluded.url, updated_at_s = excluded.updated_at_s",
            )
            .bind(participant)
            .bind(url.as_str())
            .bind(now_s)
            .execute(&mut *tx)
            .await?;
            append(&mut tx, audit).await?;
            Found::Done(1)
        }))
    }

    /// Clears a participant's endpoint and cancels its pending deliveries (how many), audited.
    /// Clearing when there is none changes nothing and records nothing.
    pub async fn clear_endpoint(
        &self,
        participant: &str,
        now_s: i64,
        audit: impl FnOnce(u64) -> AuditEvent,
    ) -> Result<Found, StoreError> {
        if !self.known(participant).await? {
            return Ok(Found::NoParticipant);
        }
        Ok(write_tx!(&self.db, tx, append => {
            let removed = sqlx::query("DELETE FROM exchange_webhook_endpoints WHERE participant = $1")
                .bind(participant)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if removed == 0 {
                return Ok(Found::NoEndpoint);
            }
            let cancelled = sqlx::query(
                "UPDATE exchange_webhook_deliveries SET status = 'cancelled', updated_at_s = $2 \
                 WHERE participant = $1 AND status = 'pending'",
            )
            .bind(participant)
            .bind(now_s)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            append(&mut tx, &audit(cancelled)).await?;
            Found::Done(cancelled)
        }))
    }

    /// A participant's endpoint URL and when it was last set.
    pub async fn endpoint(&self, participant: &str) -> Result<Option<(String, i64)>, StoreError> {
        Ok(read!(&self.db, conn => sqlx::query_as(
            "SELECT url, updated_at_s FROM exchange_webhook_endpoints WHERE participant = $1",
        )
        .bind(participant)
        .fetch_optional(conn)
        .await?))
    }

    /// One delivery.
    pub async fn delivery(&self, id: i64) -> Result<Option<DeliveryRow>, StoreError> {
        let sql =
            format!("SELECT {DELIVERY_COLUMNS} FROM exchange_webhook_deliveries d WHERE d.id = $1");
        let row: Option<DeliveryRow> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(conn)
            .await?);
        Ok(row)
    }

    /// Deliveries of a consent, oldest first (for tests and support).
    pub async fn deliveries_of_consent(
        &self,
        consent: &str,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM exchange_webhook_deliveries d WHERE d.consent = $1 \
             ORDER BY d.id LIMIT $2"
        );
        let rows: Vec<DeliveryRow> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(consent)
            .bind(DEAD_LETTERS_MAX)
            .fetch_all(conn)
            .await?);
        Ok(rows)
    }

    /// Dead letters, newest first, of one participant or all, before delivery `before`.
    pub async fn dead_letters(
        &self,
        participant: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM exchange_webhook_deliveries d \
             WHERE d.status = 'failed' AND (CAST($1 AS TEXT) IS NULL OR d.participant = $1) \
             AND d.id < $2 ORDER BY d.id DESC LIMIT $3"
        );
        let rows: Vec<DeliveryRow> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(participant)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit.clamp(1, DEAD_LETTERS_MAX))
            .fetch_all(conn)
            .await?);
        Ok(rows)
    }

    /// Makes dead letters of `participant` due now with a fresh round of attempts — one
    /// (`delivery`) or all — audited with how many. `NoEndpoint`: the participant has none to
    /// deliver to (nothing changes); `NoParticipant`: not registered; `Done(0)`: no such dead
    /// letter.
    pub async fn replay(
        &self,
        participant: &str,
        delivery: Option<i64>,
        now_ms: i64,
        audit: impl FnOnce(u64) -> AuditEvent,
    ) -> Result<Found, StoreError> {
        if !self.known(participant).await? {
            return Ok(Found::NoParticipant);
        }
        Ok(write_tx!(&self.db, tx, append => {
            let endpoint: Option<String> = sqlx::query_scalar(ONE_WITH_ENDPOINT)
                .bind(participant)
                .fetch_optional(&mut *tx)
                .await?;
            if endpoint.is_none() {
                return Ok(Found::NoEndpoint);
            }
            let replayed = sqlx::query(
                "UPDATE exchange_webhook_deliveries SET status = 'pending', attempts = 0, \
                 next_attempt_at_ms = $3, updated_at_s = $4 \
                 WHERE participant = $1 AND status = 'failed' AND (CAST($2 AS BIGINT) IS NULL OR id = $2)",
            )
            .bind(participant)
            .bind(delivery)
            .bind(now_ms)
            .bind(now_ms / 1000)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if replayed > 0 {
                append(&mut tx, &audit(replayed)).await?;
            }
            Found::Done(replayed)
        }))
    }

    /// Pending deliveries whose time has come, oldest first, at most `limit`, with their
    /// endpoint (a row whose endpoint was cleared has been cancelled).
    pub async fn due(&self, now_ms: i64, limit: i64) -> Result<Vec<Due>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS}, e.url FROM exchange_webhook_deliveries d \
             JOIN exchange_webhook_endpoints e ON e.participant = d.participant \
             WHERE d.status = 'pending' AND d.next_attempt_at_ms <= $1 \
             ORDER BY d.next_attempt_at_ms, d.id LIMIT $2"
        );
        let rows: Vec<Due> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(now_ms)
            .bind(limit.clamp(1, CLAIM_MAX))
            .fetch_all(conn)
            .await?);
        Ok(rows)
    }

    /// Deletes deliveries delivered or cancelled more than [`DONE_KEEP_S`] before `now_s`, at
    /// most [`PURGE_MAX`]; how many.
    pub async fn purge_done(&self, now_s: i64) -> Result<u64, StoreError> {
        Ok(write_tx!(&self.db, tx, _audit => {
            sqlx::query(
                "DELETE FROM exchange_webhook_deliveries WHERE id IN (SELECT id FROM \
                 exchange_webhook_deliveries WHERE status IN ('delivered', 'cancelled') \
                 AND updated_at_s < $1 ORDER BY updated_at_s LIMIT $2)",
            )
            .bind(now_s.saturating_sub(DONE_KEEP_S))
            .bind(PURGE_MAX)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        }))
    }

    /// Takes due deliveries for one attempt each (see [`lease::claim`]).
    pub async fn claim(&self, due: Vec<Due>, lease_until_ms: i64) -> Result<Vec<Due>, StoreError> {
        lease::claim(&self.db, TABLE, due, lease_until_ms).await
    }

    /// Records how attempts ended (see [`lease::record`]); a dead letter is audited.
    pub async fn record(
        &self,
        ended: &[(Due, AttemptResult)],
        now_s: i64,
    ) -> Result<(), StoreError> {
        lease::record(&self.db, TABLE, ended, now_s).await
    }
}

#[cfg(test)]
mod tests {
    use bauhinia_store::testing::TestDb;

    type Error = Box<dyn std::error::Error + Send + Sync>;

    /// A consent's recipients are found through indexes: every consent's change runs this,
    /// and a scan of the consents' providers made creating and approving consents slower the
    /// more there were (the consent benchmark fell below 1,500/s at 20,000 consents).
    #[tokio::test]
    async fn recipients_are_found_by_index_on_sqlite() -> Result<(), Error> {
        let db = TestDb::sqlite().await?;
        for sql in [super::PARTIES_WITH_ENDPOINT, super::ONE_WITH_ENDPOINT] {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let rows: Vec<(i64, i64, i64, String)> = bauhinia_store::read!(&db.db, conn =>
                sqlx::query_as(&explain).bind("c-1").fetch_all(conn).await?);
            let plan: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
            assert!(
                plan.iter().all(|step| !step.starts_with("SCAN")),
                "{sql}: {plan:?}"
            );
        }
        db.cleanup().await?;
        Ok(())
    }
}
