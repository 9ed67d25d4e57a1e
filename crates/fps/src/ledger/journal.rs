//! Where a ledger's batches become durable: `ledger_accounts`, `ledger_transfers` (append-only)
//! and `ledger_expiries`, on SQLite (a connection of the writer's own, under the process's
//! write lock) or PostgreSQL. Each batch is one transaction: its transfers, its expiries and
//! the new totals of the accounts it touched, so after a crash the journal holds exactly the
//! batches that were acknowledged.

use std::collections::HashSet;

use bauhinia_core::Currency;
use bauhinia_store::rusqlite::{self, params, OptionalExtension};
use bauhinia_store::{DedicatedWriter, StoreError};
use sqlx::{PgPool, Row};

use super::model::{Account, Id, Kind, Recorded, Refusal, Totals, Transfer};
use super::state::{BatchOutput, History, HistoryError, LedgerState, Pending, Resolution};

/// What the journal holds, enough to rebuild the writer's state.
#[derive(Debug)]
pub struct Loaded {
    pub accounts: Vec<Account>,
    pub ids: HashSet<Id>,
    pub pending: Vec<(Id, Pending)>,
    pub last_timestamp_ns: i64,
}

impl Loaded {
    pub fn into_state(self) -> LedgerState {
        LedgerState::restore(
            self.accounts,
            self.ids,
            self.pending,
            self.last_timestamp_ns,
        )
    }
}

/// The journal of one ledger on one of the two databases.
#[derive(Debug)]
pub enum Journal {
    Sqlite {
        ledger: i64,
        conn: DedicatedWriter,
    },
    Postgres {
        ledger: i64,
        pool: PgPool,
        runtime: tokio::runtime::Handle,
    },
}

pub(crate) fn id_bytes(id: Id) -> [u8; 16] {
    id.to_be_bytes()
}

pub(crate) fn id_from(bytes: &[u8]) -> Option<Id> {
    <[u8; 16]>::try_from(bytes).ok().map(u128::from_be_bytes)
}

fn currency_from(code: &str) -> Option<Currency> {
    Currency::parse(code)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Commit(format!("the ledger journal holds an invalid {what}"))
}

/// A stored transfer row, as both databases return it.
#[derive(Debug)]
pub(crate) struct Row16 {
    pub id: Vec<u8>,
    pub debit: Vec<u8>,
    pub credit: Vec<u8>,
    pub amount: i64,
    pub currency: String,
    pub kind: i64,
    pub pending_id: Option<Vec<u8>>,
    pub timeout_s: i64,
    pub linked: bool,
    pub code: i64,
    pub user_data: Option<Vec<u8>>,
    pub reference: String,
    pub actor: String,
    pub result: i64,
    pub timestamp_ns: i64,
}

impl Row16 {
    pub(crate) fn into_recorded(self) -> Result<Recorded, StoreError> {
        let pending_id = match self.pending_id {
            Some(b) => Some(id_from(&b).ok_or_else(|| corrupt("pending id"))?),
            None => None,
        };
        let timeout_s = u32::try_from(self.timeout_s).map_err(|_| corrupt("timeout"))?;
        let kind =
            Kind::from_parts(self.kind, pending_id, timeout_s).ok_or_else(|| corrupt("kind"))?;
        let result = match self.result {
            0 => Ok(()),
            n => Err(Refusal::from_number(n).ok_or_else(|| corrupt("result"))?),
        };
        Ok(Recorded {
            transfer: Transfer {
                id: id_from(&self.id).ok_or_else(|| corrupt("id"))?,
                debit_account: id_from(&self.debit).ok_or_else(|| corrupt("account id"))?,
                credit_account: id_from(&self.credit).ok_or_else(|| corrupt("account id"))?,
                amount: self.amount,
                currency: currency_from(&self.currency).ok_or_else(|| corrupt("currency"))?,
                kind,
                linked: self.linked,
                code: u16::try_from(self.code).map_err(|_| corrupt("code"))?,
                user_data: match self.user_data {
                    Some(b) => id_from(&b).ok_or_else(|| corrupt("user data"))?,
                    None => 0,
                },
                reference: self.reference,
            },
            result,
            timestamp_ns: self.timestamp_ns,
            actor: self.actor,
        })
    }
}

pub(crate) const TRANSFER_COLUMNS: &str = "id, debit_account, credit_account, amount, currency, kind, pending_id, timeout_s, linked, code, user_data, reference, actor, result, timestamp_ns";

pub(crate) fn sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row16> {
    Ok(Row16 {
        id: row.get(0)?,
        debit: row.get(1)?,
        credit: row.get(2)?,
        amount: row.get(3)?,
        currency: row.get(4)?,
        kind: row.get(5)?,
        pending_id: row.get(6)?,
        timeout_s: row.get(7)?,
        linked: row.get::<_, i64>(8)? != 0,
        code: row.get(9)?,
        user_data: row.get(10)?,
        reference: row.get(11)?,
        actor: row.get(12)?,
        result: row.get(13)?,
        timestamp_ns: row.get(14)?,
    })
}

pub(crate) fn pg_row(row: &sqlx::postgres::PgRow) -> Result<Row16, sqlx::Error> {
    Ok(Row16 {
        id: row.try_get(0)?,
        debit: row.try_get(1)?,
        credit: row.try_get(2)?,
        amount: row.try_get(3)?,
        currency: row.try_get(4)?,
        kind: i64::from(row.try_get::<i16, _>(5)?),
        pending_id: row.try_get(6)?,
        timeout_s: row.try_get(7)?,
        linked: row.try_get(8)?,
        code: row.try_get(9)?,
        user_data: row.try_get(10)?,
        reference: row.try_get(11)?,
        actor: row.try_get(12)?,
        result: row.try_get(13)?,
        timestamp_ns: row.try_get(14)?,
    })
}

struct AccountRow {
    id: Vec<u8>,
    currency: String,
    code: i64,
    debit_cap: Option<i64>,
    totals: [i64; 4],
    created_at_ns: i64,
}

impl AccountRow {
    fn into_account(self) -> Result<Account, StoreError> {
        let [debits_pending, debits_posted, credits_pending, credits_posted] = self.totals;
        Ok(Account {
            id: id_from(&self.id).ok_or_else(|| corrupt("account id"))?,
            currency: currency_from(&self.currency).ok_or_else(|| corrupt("currency"))?,
            code: u16::try_from(self.code).map_err(|_| corrupt("account code"))?,
            debit_cap: self.debit_cap,
            totals: Totals {
                debits_pending,
                debits_posted,
                credits_pending,
                credits_posted,
            },
            created_at_ns: self.created_at_ns,
        })
    }
}

const ACCOUNT_COLUMNS: &str = "id, currency, code, debit_cap, debits_pending, debits_posted, credits_pending, credits_posted, created_at_ns";

/// The open pending transfers: accepted, neither posted nor voided, not expired.
const OPEN_PENDING: &str = "SELECT t.id, t.debit_account, t.credit_account, t.amount, t.currency, t.timeout_s, t.timestamp_ns FROM ledger_transfers t \
     WHERE t.ledger = $1 AND t.kind = 1 AND t.result = 0 \
     AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.ledger = $1 AND r.pending_id = t.id AND r.result = 0) \
     AND NOT EXISTS (SELECT 1 FROM ledger_expiries e WHERE e.ledger = $1 AND e.pending_id = t.id)";

struct PendingRow {
    id: Vec<u8>,
    debit: Vec<u8>,
    credit: Vec<u8>,
    amount: i64,
    currency: String,
    timeout_s: i64,
    timestamp_ns: i64,
}

fn assemble(
    accounts: Vec<AccountRow>,
    ids: Vec<Vec<u8>>,
    pending: Vec<PendingRow>,
    last_timestamp_ns: i64,
) -> Result<Loaded, StoreError> {
    let accounts = accounts
        .into_iter()
        .map(AccountRow::into_account)
        .collect::<Result<Vec<_>, _>>()?;
    let position = |id: Id| accounts.iter().position(|a| a.id == id);
    let mut open = Vec::with_capacity(pending.len());
    for p in pending {
        let id = id_from(&p.id).ok_or_else(|| corrupt("id"))?;
        let debit = id_from(&p.debit)
            .and_then(position)
            .ok_or_else(|| corrupt("pending debit account"))?;
        let credit = id_from(&p.credit)
            .and_then(position)
            .ok_or_else(|| corrupt("pending credit account"))?;
        open.push((
            id,
            Pending {
                debit,
                credit,
                amount: p.amount,
                currency: currency_from(&p.currency).ok_or_else(|| corrupt("currency"))?,
                expires_at_ns: p.timestamp_ns.saturating_add(p.timeout_s * 1_000_000_000),
            },
        ));
    }
    let ids = ids
        .iter()
        .map(|b| id_from(b).ok_or_else(|| corrupt("id")))
        .collect::<Result<HashSet<_>, _>>()?;
    Ok(Loaded {
        accounts,
        ids,
        pending: open,
        last_timestamp_ns,
    })
}

impl Journal {
    /// The journal of ledger number `ledger` on `db`. Must be called inside the runtime.
    pub fn open(db: &bauhinia_store::Database, ledger: i64) -> Result<Journal, StoreError> {
        Ok(match db {
            bauhinia_store::Database::Sqlite(sqlite) => Journal::Sqlite {
                ledger,
                conn: sqlite.dedicated_writer()?,
            },
            bauhinia_store::Database::Postgres(pool) => Journal::Postgres {
                ledger,
                pool: pool.clone(),
                runtime: tokio::runtime::Handle::try_current().map_err(|e| {
                    StoreError::Commit(format!("the ledger journal needs a runtime: {e}"))
                })?,
            },
        })
    }

    pub fn ledger(&self) -> i64 {
        match self {
            Journal::Sqlite { ledger, .. } | Journal::Postgres { ledger, .. } => *ledger,
        }
    }

    /// Reads everything the writer needs to start.
    pub fn load(&mut self) -> Result<Loaded, StoreError> {
        match self {
            Journal::Sqlite { ledger, conn } => {
                let ledger = *ledger;
                let c = conn.reader();
                let mut stmt = c.prepare(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE ledger = ?1 ORDER BY created_at_ns, id"
                ))?;
                let accounts = stmt
                    .query_map([ledger], |r| {
                        Ok(AccountRow {
                            id: r.get(0)?,
                            currency: r.get(1)?,
                            code: r.get(2)?,
                            debit_cap: r.get(3)?,
                            totals: [r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?],
                            created_at_ns: r.get(8)?,
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut stmt = c.prepare("SELECT id FROM ledger_transfers WHERE ledger = ?1")?;
                let ids = stmt
                    .query_map([ledger], |r| r.get::<_, Vec<u8>>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut stmt = c.prepare(&OPEN_PENDING.replace("$1", "?1"))?;
                let pending = stmt
                    .query_map([ledger], |r| {
                        Ok(PendingRow {
                            id: r.get(0)?,
                            debit: r.get(1)?,
                            credit: r.get(2)?,
                            amount: r.get(3)?,
                            currency: r.get(4)?,
                            timeout_s: r.get(5)?,
                            timestamp_ns: r.get(6)?,
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let last: i64 = c.query_row(
                    "SELECT max(coalesce((SELECT max(timestamp_ns) FROM ledger_transfers WHERE ledger = ?1), 0), \
                     coalesce((SELECT max(timestamp_ns) FROM ledger_expiries WHERE ledger = ?1), 0), \
                     coalesce((SELECT max(created_at_ns) FROM ledger_accounts WHERE ledger = ?1), 0))",
                    [ledger],
                    |r| r.get(0),
                )?;
                assemble(accounts, ids, pending, last)
            }
            Journal::Postgres {
                ledger,
                pool,
                runtime,
            } => {
                let ledger = *ledger;
                let pool = &*pool;
                runtime.block_on(async {
                    let accounts = sqlx::query(&format!(
                        "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE ledger = $1 ORDER BY created_at_ns, id"
                    ))
                    .bind(ledger)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(AccountRow {
                            id: r.try_get(0)?,
                            currency: r.try_get(1)?,
                            code: r.try_get(2)?,
                            debit_cap: r.try_get(3)?,
                            totals: [r.try_get(4)?, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?],
                            created_at_ns: r.try_get(8)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                    let ids: Vec<Vec<u8>> =
                        sqlx::query_scalar("SELECT id FROM ledger_transfers WHERE ledger = $1")
                            .bind(ledger)
                            .fetch_all(pool)
                            .await?;
                    let pending = sqlx::query(OPEN_PENDING)
                        .bind(ledger)
                        .fetch_all(pool)
                        .await?
                        .iter()
                        .map(|r| {
                            Ok(PendingRow {
                                id: r.try_get(0)?,
                                debit: r.try_get(1)?,
                                credit: r.try_get(2)?,
                                amount: r.try_get(3)?,
                                currency: r.try_get(4)?,
                                timeout_s: r.try_get(5)?,
                                timestamp_ns: r.try_get(6)?,
                            })
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>()?;
                    let last: i64 = sqlx::query_scalar(
                        "SELECT greatest(coalesce((SELECT max(timestamp_ns) FROM ledger_transfers WHERE ledger = $1), 0), \
                         coalesce((SELECT max(timestamp_ns) FROM ledger_expiries WHERE ledger = $1), 0), \
                         coalesce((SELECT max(created_at_ns) FROM ledger_accounts WHERE ledger = $1), 0))",
                    )
                    .bind(ledger)
                    .fetch_one(pool)
                    .await?;
                    assemble(accounts, ids, pending, last)
                })
            }
        }
    }

    /// Stores new accounts (their totals start at zero).
    pub fn insert_accounts(&mut self, accounts: &[Account]) -> Result<(), StoreError> {
        match self {
            Journal::Sqlite { ledger, conn } => {
                let ledger = *ledger;
                conn.locked(|c| {
                    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    {
                        let mut stmt = tx.prepare_cached(
                            "INSERT INTO ledger_accounts (ledger, id, currency, code, debit_cap, created_at_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )?;
                        for a in accounts {
                            stmt.execute(params![
                                ledger,
                                id_bytes(a.id),
                                a.currency.code(),
                                i64::from(a.code),
                                a.debit_cap,
                                a.created_at_ns
                            ])?;
                        }
                    }
                    tx.commit()?;
                    Ok(())
                })
            }
            Journal::Postgres {
                ledger,
                pool,
                runtime,
            } => {
                let ledger = *ledger;
                runtime.block_on(async {
                    let mut tx = pool.begin().await?;
                    for a in accounts {
                        sqlx::query(
                            "INSERT INTO ledger_accounts (ledger, id, currency, code, debit_cap, created_at_ns) VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(ledger)
                        .bind(id_bytes(a.id).to_vec())
                        .bind(a.currency.code())
                        .bind(i64::from(a.code))
                        .bind(a.debit_cap)
                        .bind(a.created_at_ns)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                })
            }
        }
    }

    /// Makes one batch durable: one transaction, one commit.
    pub fn write_batch(
        &mut self,
        out: &BatchOutput,
        state: &LedgerState,
    ) -> Result<(), StoreError> {
        match self {
            Journal::Sqlite { ledger, conn } => {
                let ledger = *ledger;
                conn.locked(|c| {
                    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    {
                        let mut insert = tx.prepare_cached(&format!(
                            "INSERT INTO ledger_transfers (ledger, {TRANSFER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
                        ))?;
                        for r in &out.recorded {
                            let t = &r.transfer;
                            insert.execute(params![
                                ledger,
                                id_bytes(t.id),
                                id_bytes(t.debit_account),
                                id_bytes(t.credit_account),
                                t.amount,
                                t.currency.code(),
                                t.kind.number(),
                                t.kind.pending_id().map(id_bytes),
                                i64::from(t.kind.timeout_s()),
                                i64::from(t.linked),
                                i64::from(t.code),
                                (t.user_data != 0).then(|| id_bytes(t.user_data)),
                                t.reference,
                                r.actor,
                                r.result.err().map_or(0, Refusal::number),
                                r.timestamp_ns,
                            ])?;
                        }
                        let mut expire = tx.prepare_cached(
                            "INSERT INTO ledger_expiries (ledger, pending_id, timestamp_ns) VALUES (?1, ?2, ?3)",
                        )?;
                        for (id, ts) in &out.expired {
                            expire.execute(params![ledger, id_bytes(*id), ts])?;
                        }
                        let mut update = tx.prepare_cached(
                            "UPDATE ledger_accounts SET debits_pending = ?3, debits_posted = ?4, credits_pending = ?5, credits_posted = ?6 WHERE ledger = ?1 AND id = ?2",
                        )?;
                        for &i in &out.touched {
                            if let Some(a) = state.accounts().get(i) {
                                let t = a.totals;
                                update.execute(params![
                                    ledger,
                                    id_bytes(a.id),
                                    t.debits_pending,
                                    t.debits_posted,
                                    t.credits_pending,
                                    t.credits_posted
                                ])?;
                            }
                        }
                    }
                    tx.commit()?;
                    Ok(())
                })
            }
            Journal::Postgres {
                ledger,
                pool,
                runtime,
            } => {
                let ledger = *ledger;
                runtime.block_on(write_batch_pg(ledger, &*pool, out, state))
            }
        }
    }
}

async fn write_batch_pg(
    ledger: i64,
    pool: &PgPool,
    out: &BatchOutput,
    state: &LedgerState,
) -> Result<(), StoreError> {
    let n = out.recorded.len();
    let mut id = Vec::with_capacity(n);
    let mut debit = Vec::with_capacity(n);
    let mut credit = Vec::with_capacity(n);
    let mut amount = Vec::with_capacity(n);
    let mut currency = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut pending_id: Vec<Option<Vec<u8>>> = Vec::with_capacity(n);
    let mut timeout = Vec::with_capacity(n);
    let mut linked = Vec::with_capacity(n);
    let mut code = Vec::with_capacity(n);
    let mut user_data: Vec<Option<Vec<u8>>> = Vec::with_capacity(n);
    let mut reference = Vec::with_capacity(n);
    let mut actor = Vec::with_capacity(n);
    let mut result = Vec::with_capacity(n);
    let mut ts = Vec::with_capacity(n);
    for r in &out.recorded {
        let t = &r.transfer;
        id.push(id_bytes(t.id).to_vec());
        debit.push(id_bytes(t.debit_account).to_vec());
        credit.push(id_bytes(t.credit_account).to_vec());
        amount.push(t.amount);
        currency.push(t.currency.code());
        kind.push(i16::try_from(t.kind.number()).unwrap_or(0));
        pending_id.push(t.kind.pending_id().map(|p| id_bytes(p).to_vec()));
        timeout.push(i64::from(t.kind.timeout_s()));
        linked.push(t.linked);
        code.push(i64::from(t.code));
        user_data.push((t.user_data != 0).then(|| id_bytes(t.user_data).to_vec()));
        reference.push(t.reference.as_str());
        actor.push(r.actor.as_str());
        result.push(r.result.err().map_or(0, Refusal::number));
        ts.push(r.timestamp_ns);
    }
    let mut tx = pool.begin().await?;
    if n > 0 {
        sqlx::query(&format!(
            "INSERT INTO ledger_transfers (ledger, {TRANSFER_COLUMNS}) \
             SELECT $1, * FROM UNNEST($2::bytea[], $3::bytea[], $4::bytea[], $5::bigint[], $6::text[], $7::smallint[], $8::bytea[], $9::bigint[], $10::bool[], $11::bigint[], $12::bytea[], $13::text[], $14::text[], $15::bigint[], $16::bigint[])"
        ))
        .bind(ledger)
        .bind(id)
        .bind(debit)
        .bind(credit)
        .bind(amount)
        .bind(currency)
        .bind(kind)
        .bind(pending_id)
        .bind(timeout)
        .bind(linked)
        .bind(code)
        .bind(user_data)
        .bind(reference)
        .bind(actor)
        .bind(result)
        .bind(ts)
        .execute(&mut *tx)
        .await?;
    }
    for (pending, at) in &out.expired {
        sqlx::query(
            "INSERT INTO ledger_expiries (ledger, pending_id, timestamp_ns) VALUES ($1, $2, $3)",
        )
        .bind(ledger)
        .bind(id_bytes(*pending).to_vec())
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    for &i in &out.touched {
        if let Some(a) = state.accounts().get(i) {
            let t = a.totals;
            sqlx::query(
                "UPDATE ledger_accounts SET debits_pending = $3, debits_posted = $4, credits_pending = $5, credits_posted = $6 WHERE ledger = $1 AND id = $2",
            )
            .bind(ledger)
            .bind(id_bytes(a.id).to_vec())
            .bind(t.debits_pending)
            .bind(t.debits_posted)
            .bind(t.credits_pending)
            .bind(t.credits_posted)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The journal as [`History`] for the state machine.
impl History for Journal {
    fn transfer(&mut self, id: Id) -> Result<Option<Recorded>, HistoryError> {
        let wrap = |e: StoreError| HistoryError(e.to_string());
        match self {
            Journal::Sqlite { ledger, conn } => {
                let row = conn
                    .reader()
                    .prepare_cached(&format!(
                        "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE ledger = ?1 AND id = ?2"
                    ))
                    .and_then(|mut s| {
                        s.query_row(params![*ledger, id_bytes(id)], sqlite_row).optional()
                    })
                    .map_err(|e| wrap(e.into()))?;
                row.map(Row16::into_recorded).transpose().map_err(wrap)
            }
            Journal::Postgres {
                ledger,
                pool,
                runtime,
            } => {
                let ledger = *ledger;
                let row = runtime
                    .block_on(
                        sqlx::query(&format!(
                            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE ledger = $1 AND id = $2"
                        ))
                        .bind(ledger)
                        .bind(id_bytes(id).to_vec())
                        .fetch_optional(&*pool),
                    )
                    .map_err(|e| wrap(e.into()))?;
                row.map(|r| {
                    pg_row(&r)
                        .map_err(StoreError::from)
                        .and_then(Row16::into_recorded)
                })
                .transpose()
                .map_err(wrap)
            }
        }
    }

    fn resolution(&mut self, pending_id: Id) -> Result<Option<Resolution>, HistoryError> {
        let wrap = |e: StoreError| HistoryError(e.to_string());
        let (kind, expired): (Option<i64>, bool) = match self {
            Journal::Sqlite { ledger, conn } => {
                let c = conn.reader();
                let kind = c
                    .prepare_cached(
                        "SELECT kind FROM ledger_transfers WHERE ledger = ?1 AND pending_id = ?2 AND result = 0 LIMIT 1",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![*ledger, id_bytes(pending_id)], |r| r.get(0))
                            .optional()
                    })
                    .map_err(|e| wrap(e.into()))?;
                let expired = c
                    .prepare_cached(
                        "SELECT 1 FROM ledger_expiries WHERE ledger = ?1 AND pending_id = ?2",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![*ledger, id_bytes(pending_id)], |r| {
                            r.get::<_, i64>(0)
                        })
                        .optional()
                    })
                    .map_err(|e| wrap(e.into()))?
                    .is_some();
                (kind, expired)
            }
            Journal::Postgres {
                ledger,
                pool,
                runtime,
            } => {
                let ledger = *ledger;
                runtime
                    .block_on(async {
                        let kind: Option<i16> = sqlx::query_scalar(
                            "SELECT kind FROM ledger_transfers WHERE ledger = $1 AND pending_id = $2 AND result = 0 LIMIT 1",
                        )
                        .bind(ledger)
                        .bind(id_bytes(pending_id).to_vec())
                        .fetch_optional(&*pool)
                        .await?;
                        let expired: Option<i32> = sqlx::query_scalar(
                            "SELECT 1 FROM ledger_expiries WHERE ledger = $1 AND pending_id = $2",
                        )
                        .bind(ledger)
                        .bind(id_bytes(pending_id).to_vec())
                        .fetch_optional(&*pool)
                        .await?;
                        Ok::<_, sqlx::Error>((kind.map(i64::from), expired.is_some()))
                    })
                    .map_err(|e| wrap(e.into()))?
            }
        };
        Ok(match (kind, expired) {
            (Some(2), _) => Some(Resolution::Posted),
            (Some(3), _) => Some(Resolution::Voided),
            (_, true) => Some(Resolution::Expired),
            _ => None,
        })
    }
}
