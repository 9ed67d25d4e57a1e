//! The switch's outbox: one `fps_events` row per participant concerned by a status change,
//! appended in the transaction of the change (so a change never happens without its
//! notification, nor a notification without its change). Webhook delivery reads the table in
//! `seq` order; the table itself is append-only.

use bauhinia_store::StoreError;
use serde::Serialize;
use sqlx::{PgConnection, SqliteConnection};

use crate::switch::ParticipantCode;

/// A status change for one participant.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Stable across deliveries: the webhook's `webhook-id`.
    pub id: uuid::Uuid,
    pub participant: ParticipantCode,
    /// Dotted: `transfer.settled`, `request.created`, `mandate.activated`, …
    pub kind: &'static str,
    /// `transfer:<uuid>`, `request:<uuid>`, `mandate:<uuid>`.
    pub subject: String,
    /// The JSON body. Never a proxy, HKID or account reference in clear.
    pub payload: serde_json::Value,
}

impl Event {
    /// A new event with a fresh random id.
    pub fn new(
        participant: ParticipantCode,
        kind: &'static str,
        subject: String,
        payload: &impl Serialize,
    ) -> Event {
        Event {
            id: uuid::Uuid::new_v4(),
            participant,
            kind,
            subject,
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub id: String,
    pub participant: String,
    pub kind: String,
    pub subject: String,
    pub payload: String,
    pub created_at_s: i64,
}

const INSERT: &str =
    "INSERT INTO fps_events (id, participant, type, subject, payload, created_at_s) \
                      VALUES ($1, $2, $3, $4, $5, $6)";

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A write transaction's connection, of either dialect: `events::append(&mut *tx, &batch)`
/// inside a `write_tx!` body resolves to the right one.
pub trait Outbox {
    fn append_events(
        &mut self,
        events: &[Event],
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

macro_rules! outbox_for {
    ($conn:ty) => {
        impl Outbox for $conn {
            async fn append_events(&mut self, events: &[Event]) -> Result<(), StoreError> {
                let at = now_s();
                for e in events {
                    sqlx::query(INSERT)
                        .bind(e.id.hyphenated().to_string())
                        .bind(e.participant.as_str())
                        .bind(e.kind)
                        .bind(&e.subject)
                        .bind(e.payload.to_string())
                        .bind(at)
                        .execute(&mut *self)
                        .await?;
                }
                Ok(())
            }
        }
    };
}

outbox_for!(SqliteConnection);
outbox_for!(PgConnection);

/// Appends `events` in the transaction `conn` belongs to.
pub async fn append<C: Outbox + ?Sized>(conn: &mut C, events: &[Event]) -> Result<(), StoreError> {
    conn.append_events(events).await
}

/// Events after `after_seq`, oldest first, at most `limit`.
pub async fn read_after(
    db: &bauhinia_store::Database,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    type Row = (i64, String, String, String, String, String, i64);
    const SELECT: &str = "SELECT seq, id, participant, type, subject, payload, created_at_s \
                          FROM fps_events WHERE seq > $1 ORDER BY seq LIMIT $2";
    let rows: Vec<Row> = bauhinia_store::read!(db, conn => sqlx::query_as(SELECT)
        .bind(after_seq)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(conn)
        .await?);
    Ok(rows
        .into_iter()
        .map(
            |(seq, id, participant, kind, subject, payload, created_at_s)| StoredEvent {
                seq,
                id,
                participant,
                kind,
                subject,
                payload,
                created_at_s,
            },
        )
        .collect())
}
