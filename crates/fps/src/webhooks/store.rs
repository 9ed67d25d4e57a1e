//! `fps_webhook_subscriptions`, `fps_webhook_deliveries` and the `dispatch` cursor on SQLite
//! and PostgreSQL. Secrets arrive here already sealed. Every change to a subscription is one
//! transaction with its audit events.
//!
//! Dispatch turns outbox events into deliveries: it reads `fps_events` after the `dispatch`
//! cursor, inserts one delivery per matching active subscription (`ON CONFLICT DO NOTHING` on
//! (event, subscription)), and moves the cursor in the same transaction. On PostgreSQL a
//! `seq` can become visible after a larger one (transactions commit in any order), so the
//! cursor moves only over an unbroken run of `seq`s; a hole is waited for until the event
//! after it is [`GAP_GRACE_S`] old (then it was a rolled-back insert). Rows past a hole are
//! dispatched anyway and, when read again, their deliveries already exist.

use bauhinia_store::audit::AuditEvent;
use bauhinia_store::lease;
pub use bauhinia_store::lease::{AttemptResult, ERROR_CHARS_MAX};
use bauhinia_store::{read, write_tx, Database, StoreError};

use super::domain::{stored_patterns, wanted, EventPattern};
use crate::switch::ParticipantCode;

/// How many events one dispatch transaction reads.
pub const DISPATCH_BATCH_MAX: i64 = 500;
/// How long a hole in `fps_events.seq` is waited for.
pub const GAP_GRACE_S: i64 = 60;

/// A subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub id: String,
    pub participant: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub format: String,
    pub secret_sealed: Vec<u8>,
    pub active: bool,
    pub created_at_s: i64,
}

type RawSubscription = (String, String, String, String, String, Vec<u8>, String, i64);

const SUBSCRIPTION_COLUMNS: &str =
    "id, participant, url, event_types, format, secret_sealed, status, created_at_s";

fn decode_subscription(raw: RawSubscription) -> SubscriptionRow {
    let (id, participant, url, types, format, secret_sealed, status, created_at_s) = raw;
    SubscriptionRow {
        id,
        participant,
        url,
        event_types: serde_json::from_str(&types).unwrap_or_default(),
        format,
        secret_sealed,
        active: status == "active",
        created_at_s,
    }
}

/// A delivery as a participant sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

type RawDelivery = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    i64,
);

/// A delivery that is due, with what it takes to make the attempt.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    pub subscription: String,
    pub participant: String,
    pub url: String,
    pub format: String,
    pub secret_sealed: Vec<u8>,
    /// The previous secret, while it still signs after a rotation.
    pub previous_sealed: Option<Vec<u8>>,
    pub event: crate::events::StoredEvent,
}

/// What creating a subscription did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    /// The participant holds the most subscriptions allowed already.
    LimitReached,
}

/// A new subscription; the secret already sealed.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub id: String,
    pub participant: ParticipantCode,
    pub url: String,
    pub event_types: Vec<String>,
    pub format: &'static str,
    pub secret_sealed: Vec<u8>,
    pub now_s: i64,
}

#[derive(Debug, Clone)]
pub struct WebhookStore {
    db: Database,
}

impl WebhookStore {
    pub fn new(db: &Database) -> WebhookStore {
        WebhookStore { db: db.clone() }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Creates a subscription unless the participant already has the most allowed; `audit`
    /// (subscription and secret issue) is written in the same transaction.
    pub async fn create(
        &self,
        s: &NewSubscription,
        audit: &[AuditEvent],
        max: usize,
    ) -> Result<Created, StoreError> {
        let types = serde_json::to_string(&s.event_types).unwrap_or_else(|_| "[]".into());
        Ok(write_tx!(&self.db, tx, append => {
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM fps_webhook_subscriptions WHERE participant = $1 AND status = 'active'",
            )
            .bind(s.participant.as_str())
            .fetch_one(&mut *tx)
            .await?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= max {
                return Ok(Created::LimitReached);
            }
            sqlx::query(
                "INSERT INTO fps_webhook_subscriptions (id, participant, url, event_types, format, \
                 secret_sealed, status, created_at_s, updated_at_s) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7)",
            )
            .bind(&s.id)
            .bind(s.participant.as_str())
            .bind(&s.url)
            .bind(&types)
            .bind(s.format)
            .bind(&s.secret_sealed)
            .bind(s.now_s)
            .execute(&mut *tx)
            .await?;
            for event in audit {
                append(&mut tx, event).await?;
            }
            Created::Created
        }))
    }

    /// Active subscriptions, of one participant or (operator) all, oldest first.
    pub async fn list(
        &self,
        participant: Option<ParticipantCode>,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM fps_webhook_subscriptions \
             WHERE status = 'active' AND ($1 = '' OR participant = $1) ORDER BY created_at_s, id"
        );
        let code = participant.map(|p| p.as_str()).unwrap_or_default();
        let rows: Vec<RawSubscription> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(&code)
            .fetch_all(conn)
            .await?);
        Ok(rows.into_iter().map(decode_subscription).collect())
    }

    /// One subscription, active or deleted.
    pub async fn get(&self, id: &str) -> Result<Option<SubscriptionRow>, StoreError> {
        let sql =
            format!("SELECT {SUBSCRIPTION_COLUMNS} FROM fps_webhook_subscriptions WHERE id = $1");
        let row: Option<RawSubscription> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(conn)
            .await?);
        Ok(row.map(decode_subscription))
    }

    /// Deletes an active subscription and cancels its pending deliveries. `false`: none.
    pub async fn delete(
        &self,
        id: &str,
        now_s: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(write_tx!(&self.db, tx, append => {
            let done = sqlx::query(
                "UPDATE fps_webhook_subscriptions SET status = 'deleted', updated_at_s = $2 \
                 WHERE id = $1 AND status = 'active'",
            )
            .bind(id)
            .bind(now_s)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                sqlx::query(
                    "UPDATE fps_webhook_deliveries SET status = 'cancelled', updated_at_s = $2 \
                     WHERE subscription = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(now_s)
                .execute(&mut *tx)
                .await?;
                append(&mut tx, audit).await?;
            }
            done == 1
        }))
    }

    /// Replaces an active subscription's sealed secret; the current one keeps signing beside it
    /// until `previous_until_s`. `false`: no such subscription.
    pub async fn rotate_secret(
        &self,
        id: &str,
        sealed: &[u8],
        now_s: i64,
        previous_until_s: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(write_tx!(&self.db, tx, append => {
            let done = sqlx::query(
                "UPDATE fps_webhook_subscriptions SET previous_secret_sealed = secret_sealed, \
                 previous_until_s = $4, secret_sealed = $2, updated_at_s = $3 \
                 WHERE id = $1 AND status = 'active'",
            )
            .bind(id)
            .bind(sealed)
            .bind(now_s)
            .bind(previous_until_s)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                append(&mut tx, audit).await?;
            }
            done == 1
        }))
    }

    /// A subscription's deliveries, newest first, before delivery `before` (if given).
    pub async fn deliveries(
        &self,
        subscription: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        const SQL: &str = "SELECT d.id, d.event_seq, e.id, e.type, d.status, d.attempts, \
            d.next_attempt_at_ms, d.last_status_code, d.last_error, d.created_at_s, d.updated_at_s \
            FROM fps_webhook_deliveries d JOIN fps_events e ON e.seq = d.event_seq \
            WHERE d.subscription = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3";
        let rows: Vec<RawDelivery> = read!(&self.db, conn => sqlx::query_as(SQL)
            .bind(subscription)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit.clamp(1, 100))
            .fetch_all(conn)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| DeliveryRow {
                id: r.0,
                event_seq: r.1,
                event_id: r.2,
                event_type: r.3,
                status: r.4,
                attempts: r.5,
                next_attempt_at_ms: r.6,
                last_status_code: r.7,
                last_error: r.8,
                created_at_s: r.9,
                updated_at_s: r.10,
            })
            .collect())
    }

    /// Makes a delivery of an active subscription due now again, with a fresh round of
    /// attempts (whatever its status). `false`: no such delivery.
    pub async fn redeliver(
        &self,
        subscription: &str,
        delivery: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let now_s = now_ms / 1000;
        Ok(write_tx!(&self.db, tx, _audit => {
            sqlx::query(
                "UPDATE fps_webhook_deliveries SET status = 'pending', attempts = 0, \
                 next_attempt_at_ms = $3, updated_at_s = $4 WHERE id = $2 AND subscription = $1 \
                 AND subscription IN (SELECT id FROM fps_webhook_subscriptions WHERE status = 'active')",
            )
            .bind(subscription)
            .bind(delivery)
            .bind(now_ms)
            .bind(now_s)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// Whether `fps_events` has rows after the dispatch cursor (a read, so an idle poll
    /// writes nothing).
    pub async fn dispatch_behind(&self) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM fps_events WHERE seq > \
            (SELECT seq FROM fps_webhook_cursors WHERE name = 'dispatch') LIMIT 1) AS t";
        let n: i64 = read!(&self.db, conn => sqlx::query_scalar(SQL).fetch_one(conn).await?);
        Ok(n > 0)
    }

    /// One dispatch transaction (see the module). Returns how many events it read.
    pub async fn dispatch_once(&self, now_s: i64, now_ms: i64) -> Result<usize, StoreError> {
        type Ev = (i64, String, String, i64);
        type Sub = (String, String, String);
        Ok(write_tx!(&self.db, tx, _audit => {
            let cursor: i64 = sqlx::query_scalar(
                "UPDATE fps_webhook_cursors SET seq = seq WHERE name = 'dispatch' RETURNING seq",
            )
            .fetch_one(&mut *tx)
            .await?;
            let events: Vec<Ev> = sqlx::query_as(
                "SELECT seq, participant, type, created_at_s FROM fps_events WHERE seq > $1 \
                 ORDER BY seq LIMIT $2",
            )
            .bind(cursor)
            .bind(DISPATCH_BATCH_MAX)
            .fetch_all(&mut *tx)
            .await?;
            let subs: Vec<Sub> = if events.is_empty() {
                Vec::new()
            } else {
                sqlx::query_as(
                    "SELECT id, participant, event_types FROM fps_webhook_subscriptions \
                     WHERE status = 'active'",
                )
                .fetch_all(&mut *tx)
                .await?
            };
            let subs: Vec<(String, String, Vec<EventPattern>)> = subs
                .into_iter()
                .map(|(id, participant, types)| (id, participant, stored_patterns(&types)))
                .collect();
            let mut advanced = cursor;
            let mut contiguous = true;
            for (seq, participant, kind, created_at_s) in &events {
                // A hole: an insert not yet committed (PostgreSQL) or rolled back.
                if *seq != advanced + 1 && now_s - created_at_s < GAP_GRACE_S {
                    contiguous = false;
                }
                if contiguous {
                    advanced = *seq;
                }
                for (sub, _, _) in subs
                    .iter()
                    .filter(|(_, p, patterns)| p == participant && wanted(patterns, kind))
                {
                    sqlx::query(
                        "INSERT INTO fps_webhook_deliveries (event_seq, subscription, attempts, \
                         next_attempt_at_ms, status, created_at_s, updated_at_s) \
                         VALUES ($1, $2, 0, $3, 'pending', $4, $4) \
                         ON CONFLICT (event_seq, subscription) DO NOTHING",
                    )
                    .bind(seq)
                    .bind(sub)
                    .bind(now_ms)
                    .bind(now_s)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            if advanced != cursor {
                sqlx::query("UPDATE fps_webhook_cursors SET seq = $1 WHERE name = 'dispatch'")
                    .bind(advanced)
                    .execute(&mut *tx)
                    .await?;
            }
            // Caught up when nothing new was read, or when the rest waits behind a hole.
            if contiguous { events.len() } else { 0 }
        }))
    }

    /// Pending deliveries whose time has come, oldest first, at most `limit`.
    pub async fn due(&self, now_ms: i64, limit: i64) -> Result<Vec<Due>, StoreError> {
        const SQL: &str = "SELECT d.id, d.attempts, d.next_attempt_at_ms, s.id, s.participant, \
            s.url, s.format, s.secret_sealed, \
            CASE WHEN s.previous_until_s > $3 THEN s.previous_secret_sealed END, \
            e.seq, e.id, e.participant, e.type, e.subject, e.payload, e.created_at_s \
            FROM fps_webhook_deliveries d \
            JOIN fps_webhook_subscriptions s ON s.id = d.subscription \
            JOIN fps_events e ON e.seq = d.event_seq \
            WHERE d.status = 'pending' AND d.next_attempt_at_ms <= $1 \
            ORDER BY d.next_attempt_at_ms, d.id LIMIT $2";
        type Flat = (
            i64,
            i64,
            i64,
            String,
            String,
            String,
            String,
            Vec<u8>,
            Option<Vec<u8>>,
            i64,
            String,
            String,
            String,
            String,
            String,
            i64,
        );
        let rows: Vec<Flat> = read!(&self.db, conn => sqlx::query_as(SQL)
            .bind(now_ms)
            .bind(limit.clamp(1, 1000))
            .bind(now_ms / 1000)
            .fetch_all(conn)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| Due {
                id: r.0,
                attempts: r.1,
                next_attempt_at_ms: r.2,
                subscription: r.3,
                participant: r.4,
                url: r.5,
                format: r.6,
                secret_sealed: r.7,
                previous_sealed: r.8,
                event: crate::events::StoredEvent {
                    seq: r.9,
                    id: r.10,
                    participant: r.11,
                    kind: r.12,
                    subject: r.13,
                    payload: r.14,
                    created_at_s: r.15,
                },
            })
            .collect())
    }

    /// Takes due deliveries for one attempt each (see [`lease::claim`]).
    pub async fn claim(&self, due: Vec<Due>, lease_until_ms: i64) -> Result<Vec<Due>, StoreError> {
        lease::claim(&self.db, "fps_webhook_deliveries", due, lease_until_ms).await
    }

    /// Records the ends of attempts (see [`lease::record`]); a final failure is audited.
    pub async fn record(
        &self,
        ended: &[(Due, AttemptResult)],
        now_s: i64,
    ) -> Result<(), StoreError> {
        lease::record(&self.db, "fps_webhook_deliveries", ended, now_s).await
    }
}

impl lease::Leased for Due {
    fn id(&self) -> i64 {
        self.id
    }

    fn next_attempt_at_ms(&self) -> i64 {
        self.next_attempt_at_ms
    }

    fn attempts(&self) -> i64 {
        self.attempts
    }
}
