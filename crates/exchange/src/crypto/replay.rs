//! Replay protection for detached signatures: a `(kid, jti)` pair is accepted once within its
//! `iat` window. The pairs are rows of `exchange_seen_requests`, so the check holds across
//! restarts and across nodes sharing the database, and it runs inside the caller's write
//! transaction (`replay::record(&mut *tx, …)` in a `write_tx!` body), so a request is recorded
//! exactly when its effects are. Once a row's window has passed the request would be refused as
//! stale anyway; [`purge_expired`] removes such rows and [`record`] reuses one it finds.

use bauhinia_store::{write_tx, Database, StoreError};
use sqlx::{PgConnection, SqliteConnection};

use super::jws::{Verified, MAX_SKEW_S};

/// Whether a request id was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// First use within the window: go on.
    Fresh,
    /// Seen before within the window: refuse (`exchange.request_replayed`).
    Replayed,
}

// Inserts the pair; an existing row counts only while it has not expired (`$4` is now), so a
// row the purge has not reached yet does not block a later, genuinely new request.
pub const RECORD: &str =
    "INSERT INTO exchange_seen_requests (kid, jti, expires_at_s) VALUES ($1, $2, $3) \
     ON CONFLICT (kid, jti) DO UPDATE SET expires_at_s = excluded.expires_at_s \
     WHERE exchange_seen_requests.expires_at_s <= $4";

/// A write transaction's connection, of either dialect.
pub trait ReplayLedger {
    fn record_request_id(
        &mut self,
        kid: &str,
        jti: &str,
        expires_at_s: i64,
        now_s: i64,
    ) -> impl std::future::Future<Output = Result<Recorded, StoreError>> + Send;
}

macro_rules! ledger_for {
    ($conn:ty) => {
        impl ReplayLedger for $conn {
            async fn record_request_id(
                &mut self,
                kid: &str,
                jti: &str,
                expires_at_s: i64,
                now_s: i64,
            ) -> Result<Recorded, StoreError> {
                let done = sqlx::query(RECORD)
                    .bind(kid)
                    .bind(jti)
                    .bind(expires_at_s)
                    .bind(now_s)
                    .execute(&mut *self)
                    .await?;
                Ok(if done.rows_affected() == 0 {
                    Recorded::Replayed
                } else {
                    Recorded::Fresh
                })
            }
        }
    };
}

ledger_for!(SqliteConnection);
ledger_for!(PgConnection);

/// When a signature made at `iat` stops being accepted.
pub fn expires_at_s(iat: i64) -> i64 {
    iat.saturating_add(MAX_SKEW_S)
}

/// Records the verified signature's `(kid, jti)` in the transaction `conn` belongs to.
pub async fn record<C: ReplayLedger + ?Sized>(
    conn: &mut C,
    verified: &Verified,
    now_s: i64,
) -> Result<Recorded, StoreError> {
    let expires = expires_at_s(verified.iat).max(now_s.saturating_add(1));
    conn.record_request_id(&verified.kid, &verified.jti, expires, now_s)
        .await
}

/// Records the signature in a transaction of its own, for callers with nothing else to write.
pub async fn record_once(
    db: &Database,
    verified: &Verified,
    now_s: i64,
) -> Result<Recorded, StoreError> {
    Ok(write_tx!(db, tx, _audit => record(&mut *tx, verified, now_s).await?))
}

/// Deletes the rows whose window has passed; returns how many.
pub async fn purge_expired(db: &Database, now_s: i64) -> Result<u64, StoreError> {
    const PURGE: &str = "DELETE FROM exchange_seen_requests WHERE expires_at_s <= $1";
    Ok(write_tx!(db, tx, _audit => sqlx::query(PURGE)
        .bind(now_s)
        .execute(&mut *tx)
        .await?
        .rows_affected()))
}
