//! Turns the settlement ledger's log into outbox events for the participants that listen. The
//! ledger's writer has no outbox hook (its batches are its own transactions), so this reads
//! `ledger_transfers` of ledger 1 by `seq` after the `ledger` cursor and, in ONE write
//! transaction, appends the events and moves the cursor past what it read: a crash before the
//! commit leaves both as they were. Event ids are derived from (transfer, participant, type),
//! so even a replay could not duplicate.
//!
//! **Only listeners get events.** An event is made for a participant only if one of its active
//! subscriptions wants that type: the ledger is already the durable log of every transfer, so
//! copying each of its rows into `fps_events` for nobody would double the switch's writes for
//! nothing (measured: it cut the HTTP transfer rate to a quarter). With no active subscription
//! at all, the cursor jumps to the ledger's end without reading a row. The listeners are read
//! inside the write transaction, after the rows, so a subscription gets an event for every
//! transfer the ledger records after it was created (and for some just before). The camt.054
//! pull endpoint reads the ledger itself ([`account_entries_after`]), so it needs no listener.
//!
//! The ledger rows are read before the write lock is taken (reading does not block the ledger's
//! writer); the write transaction then locks the cursor row and, if another tailer (another
//! task or node) has moved it meanwhile, gives way and writes nothing.
//!
//! Which events a transfer makes:
//! - accepted single transfer → `transfer.settled` to debtor and creditor;
//! - accepted pending / post / void → `transfer.pending` / `transfer.posted` /
//!   `transfer.voided` to both;
//! - settlement funding or defunding (one side is the RTGS account) → `settlement.funded` /
//!   `settlement.defunded` to the participant only;
//! - refused → `transfer.refused` to the participant that submitted it (or, if the operator
//!   did, the debtor participant), never to the creditor.

use bauhinia_core::Currency;
use bauhinia_store::{read, write_tx, Database, StoreError};

use crate::events::{Event, StoredEvent};
use crate::ledger::journal::{id_bytes, Row16, TRANSFER_COLUMNS};
use crate::ledger::{Kind, Recorded};
use crate::switch::{account_owner, ParticipantCode, FPS_LEDGER};
use crate::wire::TransferView;

use super::domain::{ledger_event_id, stored_patterns, wanted, EventPattern};

/// The most ledger rows one tailer transaction reads.
pub const TAIL_BATCH_MAX: i64 = 1_000;

/// A row of `ledger_transfers` with its `seq`, from either dialect.
trait LedgerRow {
    fn decode(&self) -> Result<(i64, Row16), sqlx::Error>;
}

impl LedgerRow for sqlx::sqlite::SqliteRow {
    fn decode(&self) -> Result<(i64, Row16), sqlx::Error> {
        Ok((
            sqlx::Row::try_get(self, 15)?,
            crate::switch::sqlite_row16(self)?,
        ))
    }
}

impl LedgerRow for sqlx::postgres::PgRow {
    fn decode(&self) -> Result<(i64, Row16), sqlx::Error> {
        Ok((
            sqlx::Row::try_get(self, 15)?,
            crate::ledger::journal::pg_row(self)?,
        ))
    }
}

fn decode_all<R: LedgerRow>(rows: &[R]) -> Result<Vec<(i64, Recorded)>, StoreError> {
    rows.iter()
        .map(|r| {
            let (seq, row) = r.decode()?;
            Ok((seq, row.into_recorded()?))
        })
        .collect()
}

// `+ledger` (not `ledger`) in the queries that walk the log by `seq`: it keeps the planner off
// the (ledger, …) indexes, which would read every row of the ledger and sort them, and on the
// primary key, which reads from the cursor on (one row, or a page, whatever the ledger's size).
const READ_CURSOR: &str = "SELECT seq FROM fps_webhook_cursors WHERE name = 'ledger'";
const LOCK_CURSOR: &str =
    "UPDATE fps_webhook_cursors SET seq = seq WHERE name = 'ledger' RETURNING seq";
const MOVE_CURSOR: &str = "UPDATE fps_webhook_cursors SET seq = $1 WHERE name = 'ledger'";
const LISTENERS: &str =
    "SELECT participant, event_types FROM fps_webhook_subscriptions WHERE status = 'active'";
const ANY_LISTENER: &str =
    "SELECT COUNT(*) FROM (SELECT 1 FROM fps_webhook_subscriptions WHERE status = 'active' \
     LIMIT 1) AS t";
const LEDGER_END: &str =
    "SELECT seq FROM ledger_transfers WHERE +ledger = $1 ORDER BY seq DESC LIMIT 1";

/// The active subscriptions' (participant, event types): who wants which events.
#[derive(Debug, Default)]
pub struct Listeners(Vec<(String, Vec<EventPattern>)>);

impl Listeners {
    fn from_rows(rows: Vec<(String, String)>) -> Listeners {
        Listeners(
            rows.into_iter()
                .map(|(participant, types)| (participant, stored_patterns(&types)))
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether some subscription of `participant` wants events of type `kind`.
    pub fn want(&self, participant: &str, kind: &str) -> bool {
        self.0
            .iter()
            .any(|(p, patterns)| p == participant && wanted(patterns, kind))
    }
}

/// What one tailer transaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tailed {
    /// Read this many ledger rows and wrote their listeners' events.
    Read(usize),
    /// Nobody listens: the cursor jumped to the ledger's end unread.
    Skipped,
    /// Another tailer moved the cursor first; nothing was written.
    GaveWay,
}

/// One transaction of the tailer: at most [`TAIL_BATCH_MAX`] ledger rows.
pub async fn tail_once(db: &Database) -> Result<Tailed, StoreError> {
    let anyone: i64 = read!(db, conn => sqlx::query_scalar(ANY_LISTENER).fetch_one(conn).await?);
    if anyone == 0 {
        return skip_to_end(db).await;
    }
    let sql = log_page_sql();
    // Read outside the write lock: the ledger's writer shares it (on SQLite).
    let (cursor, rows) = read!(db, conn => {
        let cursor: i64 = sqlx::query_scalar(READ_CURSOR).fetch_one(conn).await?;
        let rows = sqlx::query(&sql)
            .bind(FPS_LEDGER)
            .bind(cursor)
            .bind(TAIL_BATCH_MAX)
            .fetch_all(conn)
            .await?;
        (cursor, decode_all(&rows)?)
    });
    let Some((last, _)) = rows.last() else {
        return Ok(Tailed::Read(0));
    };
    Ok(write_tx!(db, tx, _audit => {
        let locked: i64 = sqlx::query_scalar(LOCK_CURSOR).fetch_one(&mut *tx).await?;
        if locked == cursor {
            let listeners = Listeners::from_rows(
                sqlx::query_as(LISTENERS).fetch_all(&mut *tx).await?,
            );
            let events: Vec<Event> = rows
                .iter()
                .flat_map(|(_, r)| events_for(r))
                .filter(|e| listeners.want(&e.participant.as_str(), e.kind))
                .collect();
            crate::events::append(&mut *tx, &events).await?;
            sqlx::query(MOVE_CURSOR).bind(*last).execute(&mut *tx).await?;
            Tailed::Read(rows.len())
        } else {
            Tailed::GaveWay
        }
    }))
}

/// With no active subscription: moves the cursor to the ledger's last row, reading none. The
/// end is read before the listeners, so a subscription created meanwhile is either seen (and
/// nothing is skipped) or newer than every row skipped.
async fn skip_to_end(db: &Database) -> Result<Tailed, StoreError> {
    Ok(write_tx!(db, tx, _audit => {
        let cursor: i64 = sqlx::query_scalar(LOCK_CURSOR).fetch_one(&mut *tx).await?;
        let end: Option<i64> = sqlx::query_scalar(LEDGER_END)
            .bind(FPS_LEDGER)
            .fetch_optional(&mut *tx)
            .await?;
        let anyone: i64 = sqlx::query_scalar(ANY_LISTENER).fetch_one(&mut *tx).await?;
        match end {
            Some(end) if anyone == 0 && end > cursor => {
                sqlx::query(MOVE_CURSOR).bind(end).execute(&mut *tx).await?;
                Tailed::Skipped
            }
            // A listener arrived: the next round reads.
            _ => Tailed::GaveWay,
        }
    }))
}

/// A page of the log after the cursor.
fn log_page_sql() -> String {
    format!(
        "SELECT {TRANSFER_COLUMNS}, seq FROM ledger_transfers \
         WHERE +ledger = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    )
}

const BEHIND: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM ledger_transfers WHERE +ledger = $1 \
    AND seq > (SELECT seq FROM fps_webhook_cursors WHERE name = 'ledger') LIMIT 1) AS t";

/// Whether the ledger has rows the tailer has not read (a read, so an idle poll writes nothing).
async fn behind(db: &Database) -> Result<bool, StoreError> {
    let n: i64 =
        read!(db, conn => sqlx::query_scalar(BEHIND).bind(FPS_LEDGER).fetch_one(conn).await?);
    Ok(n > 0)
}

/// Runs the tailer until it has caught up, given way to another tailer, or run `rounds`
/// transactions. Returns how many ledger rows it read.
pub async fn catch_up(db: &Database, rounds: usize) -> Result<usize, StoreError> {
    if !behind(db).await? {
        return Ok(0);
    }
    let mut total = 0;
    for _ in 0..rounds {
        match tail_once(db).await? {
            Tailed::Read(n) => {
                total += n;
                if i64::try_from(n).unwrap_or(i64::MAX) < TAIL_BATCH_MAX {
                    return Ok(total);
                }
            }
            Tailed::Skipped | Tailed::GaveWay => return Ok(total),
        }
    }
    Ok(total)
}

/// `participant`'s accepted transfers and settlement movements (both currencies) after the
/// ledger `seq` `after_seq`, oldest first, at most `limit`, as the events a listener would get
/// (with the ledger's `seq` as theirs). Four index range scans, each stopping at `limit`.
pub async fn account_entries_after(
    db: &Database,
    participant: ParticipantCode,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let scan = |side: &str, n: u8| {
        format!(
            "SELECT seq FROM (SELECT seq FROM ledger_transfers WHERE ledger = $1 \
             AND {side}_account = ${n} AND result = 0 AND seq > $4 ORDER BY seq LIMIT $5) AS s{side}{n}"
        )
    };
    let sql = format!(
        "SELECT {TRANSFER_COLUMNS}, seq FROM ledger_transfers WHERE seq IN ({} UNION ALL {} \
         UNION ALL {} UNION ALL {}) ORDER BY seq LIMIT $5",
        scan("debit", 2),
        scan("credit", 2),
        scan("debit", 3),
        scan("credit", 3),
    );
    let hkd = id_bytes(participant.settlement_account(Currency::Hkd)).to_vec();
    let cny = id_bytes(participant.settlement_account(Currency::Cny)).to_vec();
    let limit = limit.clamp(1, 10_000);
    let rows = read!(db, conn => {
        let rows = sqlx::query(&sql)
            .bind(FPS_LEDGER)
            .bind(&hkd)
            .bind(&cny)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(conn)
            .await?;
        decode_all(&rows)?
    });
    let mut entries = Vec::with_capacity(rows.len());
    for (seq, r) in &rows {
        for e in events_for(r) {
            if e.participant == participant {
                entries.push(StoredEvent {
                    seq: *seq,
                    id: e.id.hyphenated().to_string(),
                    participant: participant.as_str(),
                    kind: e.kind.to_owned(),
                    subject: e.subject,
                    payload: e.payload.to_string(),
                    created_at_s: r.timestamp_ns.div_euclid(1_000_000_000),
                });
            }
        }
    }
    Ok(entries)
}

/// The events one answered ledger transfer makes (see the module's list).
pub fn events_for(r: &Recorded) -> Vec<Event> {
    let t = &r.transfer;
    let debtor = account_owner(t.debit_account).map(|(c, _)| c);
    let creditor = account_owner(t.credit_account).map(|(c, _)| c);
    let view = TransferView::from_recorded(r);
    let payload = serde_json::to_value(&view).unwrap_or(serde_json::Value::Null);
    let make = |participant: ParticipantCode, kind: &'static str| Event {
        id: ledger_event_id(t.id, &participant.as_str(), kind),
        participant,
        kind,
        subject: format!("transfer:{}", view.id),
        payload: payload.clone(),
    };
    if r.result.is_err() {
        let submitter = r
            .actor
            .strip_prefix("participant:")
            .and_then(ParticipantCode::parse);
        return submitter
            .or(debtor)
            .map(|p| make(p, "transfer.refused"))
            .into_iter()
            .collect();
    }
    match (debtor, creditor) {
        // The RTGS side funds the participant.
        (None, Some(p)) => vec![make(p, "settlement.funded")],
        (Some(p), None) => vec![make(p, "settlement.defunded")],
        (Some(d), Some(c)) => {
            let kind = match t.kind {
                Kind::Single => "transfer.settled",
                Kind::Pending { .. } => "transfer.pending",
                Kind::Post { .. } => "transfer.posted",
                Kind::Void { .. } => "transfer.voided",
            };
            if d == c {
                vec![make(d, kind)]
            } else {
                vec![make(d, kind), make(c, kind)]
            }
        }
        (None, None) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use bauhinia_store::testing::TestDb;

    type Error = Box<dyn std::error::Error + Send + Sync>;

    /// The tailer's walks of the log start at the cursor: with the (ledger, …) indexes SQLite
    /// would read the whole ledger and sort it on every poll (it did, and the p99 latency of
    /// the HTTP transfers tripled).
    #[tokio::test]
    async fn the_log_is_walked_by_its_primary_key_on_sqlite() -> Result<(), Error> {
        let db = TestDb::sqlite().await?;
        for sql in [
            super::log_page_sql().as_str(),
            super::BEHIND,
            super::LEDGER_END,
        ] {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let rows: Vec<(i64, i64, i64, String)> = bauhinia_store::read!(&db.db, conn =>
                sqlx::query_as(&explain).bind(1_i64).bind(0_i64).bind(10_i64).fetch_all(conn).await?);
            let plan: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
            assert!(
                plan.iter().all(|step| !step.contains("TEMP B-TREE")
                    && !step.contains("ledger_transfers_time")
                    && !step.contains("ledger_transfers_debit")),
                "{sql}: {plan:?}"
            );
        }
        db.cleanup().await?;
        Ok(())
    }
}
