//! Rows of work taken by a lease and retried (webhook deliveries of FPS and of the data
//! exchange). A table that uses this has the columns `id`, `status` (`pending` while there is
//! work), `attempts`, `next_attempt_at_ms` (Unix milliseconds), `last_status_code`,
//! `last_error` and `updated_at_s`.
//!
//! A worker claims due rows by moving their time forward by a lease, in one transaction, and
//! only if each is still as it read it (`next_attempt_at_ms` and `attempts`): of two workers,
//! one gets a row. It records the ends of its attempts in one transaction, and only for rows
//! whose attempt count is still the one it claimed: an attempt whose lease ran out, and which
//! another worker has made again, records nothing. A crash between the two leaves the row due
//! again when the lease runs out: at-least-once.

use crate::audit::AuditEvent;
use crate::{write_tx, Database, StoreError};

/// The most characters of an error kept with a row.
pub const ERROR_CHARS_MAX: usize = 200;

/// A row as the worker read it.
pub trait Leased {
    fn id(&self) -> i64;
    fn next_attempt_at_ms(&self) -> i64;
    fn attempts(&self) -> i64;
}

/// How an attempt ended, to record.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    Delivered {
        status_code: i64,
    },
    /// Failed; try again at this time.
    Retry {
        at_ms: i64,
        status_code: Option<i64>,
        error: String,
    },
    /// Failed for the last time: the row is `failed` (a dead letter), and `audit` says so.
    Failed {
        status_code: Option<i64>,
        error: String,
        audit: AuditEvent,
    },
}

/// Takes `due` rows of `table` for one attempt each by moving their time to `lease_until_ms`;
/// a row someone else took since it was read is left out. Returns the rows taken.
pub async fn claim<T: Leased>(
    db: &Database,
    table: &'static str,
    due: Vec<T>,
    lease_until_ms: i64,
) -> Result<Vec<T>, StoreError> {
    if due.is_empty() {
        return Ok(due);
    }
    let sql = format!(
        "UPDATE {table} SET next_attempt_at_ms = $3 \
         WHERE id = $1 AND status = 'pending' AND next_attempt_at_ms = $2 AND attempts = $4"
    );
    Ok(write_tx!(db, tx, _audit => {
        let mut taken = Vec::with_capacity(due.len());
        for row in due {
            let done = sqlx::query(&sql)
                .bind(row.id())
                .bind(row.next_attempt_at_ms())
                .bind(lease_until_ms)
                .bind(row.attempts())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 1 {
                taken.push(row);
            }
        }
        taken
    }))
}

/// Records the ends of attempts on rows of `table`, in one transaction (see the module); a
/// final failure is audited.
pub async fn record<T: Leased>(
    db: &Database,
    table: &'static str,
    ended: &[(T, AttemptResult)],
    now_s: i64,
) -> Result<(), StoreError> {
    if ended.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE {table} SET status = $2, attempts = $3, next_attempt_at_ms = $4, \
         last_status_code = $5, last_error = $6, updated_at_s = $7 \
         WHERE id = $1 AND status = 'pending' AND attempts = $8"
    );
    let truncate = |text: &str| -> String { text.chars().take(ERROR_CHARS_MAX).collect() };
    write_tx!(db, tx, append => {
        for (row, result) in ended {
            let (status, next, code, error, audit) = match result {
                AttemptResult::Delivered { status_code } => {
                    ("delivered", row.next_attempt_at_ms(), Some(*status_code), None, None)
                }
                AttemptResult::Retry { at_ms, status_code, error } => {
                    ("pending", *at_ms, *status_code, Some(truncate(error)), None)
                }
                AttemptResult::Failed { status_code, error, audit } => (
                    "failed",
                    row.next_attempt_at_ms(),
                    *status_code,
                    Some(truncate(error)),
                    Some(audit),
                ),
            };
            let done = sqlx::query(&sql)
                .bind(row.id())
                .bind(status)
                .bind(row.attempts() + 1)
                .bind(next)
                .bind(code)
                .bind(error)
                .bind(now_s)
                .bind(row.attempts())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if let (1, Some(audit)) = (done, audit) {
                append(&mut tx, audit).await?;
            }
        }
    });
    Ok(())
}
