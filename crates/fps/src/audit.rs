//! `bauhinia fps audit`: an independent check of a ledger's journal. It replays the transfer
//! log and the expiries in the writer's order (their timestamps, strictly increasing), with
//! its own arithmetic rather than the writer's state machine, and checks that
//!
//! - every accepted transfer was admissible when it was made (accounts exist, currencies match,
//!   the debit cap held, a post or void found its pending transfer open);
//! - every refusal is a known reason;
//! - timestamps strictly increase;
//! - the replayed totals equal the stored account totals;
//! - per currency, posted and pending balances over all accounts sum to zero (conservation).

use std::collections::HashMap;

use bauhinia_core::Currency;
use bauhinia_store::{Database, StoreError};
use futures_util::TryStreamExt as _;

use crate::ledger::journal::{id_from, Row16, TRANSFER_COLUMNS};
use crate::ledger::model::{Kind, Totals};
use crate::ledger::Id;

/// What the audit found.
#[derive(Debug, Default)]
pub struct AuditReport {
    pub accounts: usize,
    pub accepted: u64,
    pub refused: u64,
    pub expiries: u64,
    pub open_pending: usize,
    /// Per currency: (posted sum, pending sum) over all accounts, replayed.
    pub sums: Vec<(Currency, i128, i128)>,
    /// Every inconsistency, in words (at most 100 kept; `problem_count` counts them all).
    pub problems: Vec<String>,
    pub problem_count: u64,
}

impl AuditReport {
    pub fn passed(&self) -> bool {
        self.problem_count == 0
    }

    fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < 100 {
            self.problems.push(text);
        }
    }
}

struct Acc {
    currency: Currency,
    debit_cap: Option<i64>,
    stored: Totals,
    replayed: Totals,
}

struct Open {
    debit: Id,
    credit: Id,
    amount: i64,
}

enum Event {
    Transfer(Box<Row16>),
    Expiry(Id),
}

fn hex(id: Id) -> String {
    format!("{id:032x}")
}

/// Audits ledger number `ledger` on `db`.
pub async fn audit(db: &Database, ledger: i64) -> Result<AuditReport, StoreError> {
    let mut report = AuditReport::default();
    let mut accounts: HashMap<Id, Acc> = HashMap::new();
    type AccountRow = (Vec<u8>, String, Option<i64>, i64, i64, i64, i64);
    let account_sql = "SELECT id, currency, debit_cap, debits_pending, debits_posted, credits_pending, credits_posted FROM ledger_accounts WHERE ledger = $1";
    let rows: Vec<AccountRow> = match db {
        Database::Sqlite(s) => {
            sqlx::query_as(account_sql)
                .bind(ledger)
                .fetch_all(&s.reader)
                .await?
        }
        Database::Postgres(p) => {
            sqlx::query_as(account_sql)
                .bind(ledger)
                .fetch_all(p)
                .await?
        }
    };
    for (id, currency, debit_cap, dpe, dpo, cpe, cpo) in rows {
        let currency = match currency.as_str() {
            "HKD" => Currency::Hkd,
            "CNY" => Currency::Cny,
            other => {
                report.problem(format!("account with unknown currency {other}"));
                continue;
            }
        };
        let Some(id) = id_from(&id) else {
            report.problem("account with a malformed id".into());
            continue;
        };
        accounts.insert(
            id,
            Acc {
                currency,
                debit_cap,
                stored: Totals {
                    debits_pending: dpe,
                    debits_posted: dpo,
                    credits_pending: cpe,
                    credits_posted: cpo,
                },
                replayed: Totals::default(),
            },
        );
    }
    report.accounts = accounts.len();

    // Expiries are few: load them, then merge them into the transfer stream by timestamp.
    let expiry_sql =
        "SELECT pending_id, timestamp_ns FROM ledger_expiries WHERE ledger = $1 ORDER BY timestamp_ns";
    let expiries: Vec<(Vec<u8>, i64)> = match db {
        Database::Sqlite(s) => {
            sqlx::query_as(expiry_sql)
                .bind(ledger)
                .fetch_all(&s.reader)
                .await?
        }
        Database::Postgres(p) => sqlx::query_as(expiry_sql).bind(ledger).fetch_all(p).await?,
    };
    let mut expiries = expiries.into_iter().peekable();
    let mut open: HashMap<Id, Open> = HashMap::new();
    let mut last_ts = i64::MIN;
    let sql =
        format!("SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE ledger = $1 ORDER BY seq");
    let mut replay = |report: &mut AuditReport, event: Event, ts: i64| {
        if ts <= last_ts {
            report.problem(format!("timestamp {ts} does not follow {last_ts}"));
        }
        last_ts = last_ts.max(ts);
        apply(report, &mut accounts, &mut open, event);
    };
    macro_rules! drain_expiries_before {
        ($ts:expr) => {
            while let Some((pid, at)) = expiries.next_if(|(_, at)| *at < $ts) {
                match id_from(&pid) {
                    Some(pid) => replay(&mut report, Event::Expiry(pid), at),
                    None => report.problem("expiry with a malformed id".into()),
                }
            }
        };
    }
    match db {
        Database::Sqlite(s) => {
            let mut stream = sqlx::query(&sql).bind(ledger).fetch(&s.reader);
            while let Some(row) = stream.try_next().await? {
                let row = crate::switch::sqlite_row16(&row)?;
                drain_expiries_before!(row.timestamp_ns);
                let ts = row.timestamp_ns;
                replay(&mut report, Event::Transfer(Box::new(row)), ts);
            }
        }
        Database::Postgres(p) => {
            let mut stream = sqlx::query(&sql).bind(ledger).fetch(p);
            while let Some(row) = stream.try_next().await? {
                let row = crate::ledger::journal::pg_row(&row)?;
                drain_expiries_before!(row.timestamp_ns);
                let ts = row.timestamp_ns;
                replay(&mut report, Event::Transfer(Box::new(row)), ts);
            }
        }
    }
    drain_expiries_before!(i64::MAX);
    report.open_pending = open.len();

    let mut sums: Vec<(Currency, i128, i128)> = Vec::new();
    let mut ids: Vec<&Id> = accounts.keys().collect();
    ids.sort();
    let mut mismatches = Vec::new();
    for id in ids {
        let Some(a) = accounts.get(id) else { continue };
        if a.stored != a.replayed {
            mismatches.push(format!(
                "account {}: stored totals {:?} but the log gives {:?}",
                hex(*id),
                a.stored,
                a.replayed
            ));
        }
        let t = a.replayed;
        let pending = i128::from(t.credits_pending) - i128::from(t.debits_pending);
        match sums.iter_mut().find(|(c, _, _)| *c == a.currency) {
            Some(s) => {
                s.1 += t.balance();
                s.2 += pending;
            }
            None => sums.push((a.currency, t.balance(), pending)),
        }
    }
    for m in mismatches {
        report.problem(m);
    }
    for (currency, posted, pending) in &sums {
        if *posted != 0 || *pending != 0 {
            report.problem(format!(
                "conservation broken in {}: posted balances sum to {posted}, pending to {pending}",
                currency.code()
            ));
        }
    }
    report.sums = sums;
    Ok(report)
}

fn apply(
    report: &mut AuditReport,
    accounts: &mut HashMap<Id, Acc>,
    open: &mut HashMap<Id, Open>,
    event: Event,
) {
    let row = match event {
        Event::Expiry(pid) => {
            report.expiries += 1;
            match open.remove(&pid) {
                Some(p) => release(accounts, &p),
                None => report.problem(format!("expiry of {} which is not open", hex(pid))),
            }
            return;
        }
        Event::Transfer(row) => row,
    };
    let recorded = match row.into_recorded() {
        Ok(r) => r,
        Err(e) => {
            report.problem(format!("unreadable transfer: {e}"));
            return;
        }
    };
    let t = &recorded.transfer;
    if recorded.result.is_err() {
        report.refused += 1;
        return;
    }
    report.accepted += 1;
    let name = hex(t.id);
    let (Some(debit), Some(credit)) = (
        accounts.get(&t.debit_account),
        accounts.get(&t.credit_account),
    ) else {
        report.problem(format!(
            "transfer {name} names an account that does not exist"
        ));
        return;
    };
    if debit.currency != t.currency
        || credit.currency != t.currency
        || t.debit_account == t.credit_account
    {
        report.problem(format!(
            "transfer {name}: currencies or accounts do not fit"
        ));
        return;
    }
    if t.amount <= 0 && matches!(t.kind, Kind::Single | Kind::Pending { .. }) {
        report.problem(format!("transfer {name}: amount {} accepted", t.amount));
        return;
    }
    match t.kind {
        Kind::Single | Kind::Pending { .. } => {
            let cap = debit.debit_cap;
            let available = debit.replayed.available();
            if let Some(cap) = cap {
                if available - i128::from(t.amount) < -i128::from(cap) {
                    report.problem(format!(
                        "transfer {name} was accepted beyond the debit cap ({available} available, {} asked, cap {cap})",
                        t.amount
                    ));
                }
            }
            let pending = matches!(t.kind, Kind::Pending { .. });
            if let Some(d) = accounts.get_mut(&t.debit_account) {
                if pending {
                    d.replayed.debits_pending += t.amount;
                } else {
                    d.replayed.debits_posted += t.amount;
                }
            }
            if let Some(c) = accounts.get_mut(&t.credit_account) {
                if pending {
                    c.replayed.credits_pending += t.amount;
                } else {
                    c.replayed.credits_posted += t.amount;
                }
            }
            if pending {
                open.insert(
                    t.id,
                    Open {
                        debit: t.debit_account,
                        credit: t.credit_account,
                        amount: t.amount,
                    },
                );
            }
        }
        Kind::Post { pending_id } | Kind::Void { pending_id } => {
            let Some(p) = open.remove(&pending_id) else {
                report.problem(format!(
                    "transfer {name} resolves {} which is not open",
                    hex(pending_id)
                ));
                return;
            };
            if p.debit != t.debit_account || p.credit != t.credit_account || t.amount > p.amount {
                report.problem(format!("transfer {name} does not fit its pending transfer"));
            }
            release(accounts, &p);
            if matches!(t.kind, Kind::Post { .. }) {
                if let Some(d) = accounts.get_mut(&p.debit) {
                    d.replayed.debits_posted += t.amount;
                }
                if let Some(c) = accounts.get_mut(&p.credit) {
                    c.replayed.credits_posted += t.amount;
                }
            }
        }
    }
}

fn release(accounts: &mut HashMap<Id, Acc>, p: &Open) {
    if let Some(d) = accounts.get_mut(&p.debit) {
        d.replayed.debits_pending -= p.amount;
    }
    if let Some(c) = accounts.get_mut(&p.credit) {
        c.replayed.credits_pending -= p.amount;
    }
}
