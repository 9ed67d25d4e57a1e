//! Turns the settlement ledger's log into outbox events. The ledger's writer has no outbox
//! hook (its batches are its own transactions), so this reads `ledger_transfers` of ledger 1
//! by `seq` after the `ledger` cursor and, in ONE transaction, appends the events and moves
//! the cursor past what it read: a crash before the commit leaves both as they were, and two
//! tailers (two tasks, two nodes) serialise on the cursor row, which each locks first. Event
//! ids are derived from (transfer, participant, type), so even a replay could not duplicate.
//!
//! Which events a transfer makes:
//! - accepted single transfer → `transfer.settled` to debtor and creditor;
//! - accepted pending / post / void → `transfer.pending` / `transfer.posted` /
//!   `transfer.voided` to both;
//! - settlement funding or defunding (one side is the RTGS account) → `settlement.funded` /
//!   `settlement.defunded` to the participant only;
//! - refused → `transfer.refused` to the participant that submitted it (or, if the operator
//!   did, the debtor participant), never to the creditor.

use bauhinia_store::{read, write_tx, Database, StoreError};

use crate::events::Event;
use crate::ledger::journal::{Row16, TRANSFER_COLUMNS};
use crate::ledger::{Kind, Recorded};
use crate::switch::{account_owner, ParticipantCode, FPS_LEDGER};
use crate::wire::TransferView;

use super::domain::ledger_event_id;

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

const LOCK_CURSOR: &str = "UPDATE fps_webhook_cursors SET seq = seq WHERE name = $1 RETURNING seq";
const MOVE_CURSOR: &str = "UPDATE fps_webhook_cursors SET seq = $2 WHERE name = $1";

/// One transaction of the tailer: at most [`TAIL_BATCH_MAX`] ledger rows. Returns how many
/// rows it read (0: caught up).
pub async fn tail_once(db: &Database) -> Result<usize, StoreError> {
    let sql = format!(
        "SELECT {TRANSFER_COLUMNS}, seq FROM ledger_transfers \
         WHERE ledger = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    );
    Ok(write_tx!(db, tx, _audit => {
        let cursor: i64 = sqlx::query_scalar(LOCK_CURSOR)
            .bind("ledger")
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(&sql)
            .bind(FPS_LEDGER)
            .bind(cursor)
            .bind(TAIL_BATCH_MAX)
            .fetch_all(&mut *tx)
            .await?;
        let rows = decode_all(&rows)?;
        if let Some((last, _)) = rows.last() {
            let events: Vec<Event> = rows.iter().flat_map(|(_, r)| events_for(r)).collect();
            crate::events::append(&mut *tx, &events).await?;
            sqlx::query(MOVE_CURSOR)
                .bind("ledger")
                .bind(*last)
                .execute(&mut *tx)
                .await?;
        }
        rows.len()
    }))
}

/// Whether the ledger has rows the tailer has not read (a read, so an idle poll writes nothing).
async fn behind(db: &Database) -> Result<bool, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM ledger_transfers WHERE ledger = $1 \
        AND seq > (SELECT seq FROM fps_webhook_cursors WHERE name = 'ledger') LIMIT 1) AS t";
    let n: i64 = read!(db, conn => sqlx::query_scalar(SQL).bind(FPS_LEDGER).fetch_one(conn).await?);
    Ok(n > 0)
}

/// Runs the tailer until it has caught up. Returns how many ledger rows it read.
pub async fn catch_up(db: &Database) -> Result<usize, StoreError> {
    if !behind(db).await? {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let n = tail_once(db).await?;
        total += n;
        if i64::try_from(n).unwrap_or(i64::MAX) < TAIL_BATCH_MAX {
            return Ok(total);
        }
    }
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
