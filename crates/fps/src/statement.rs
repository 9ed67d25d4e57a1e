//! End-of-day statements: a participant's settlement account for one Hong Kong calendar day
//! (00:00–24:00 at UTC+8) as camt.053.001.08 — the opening balance (`OPBD`), every settled
//! movement booked that day, and the closing balance (`CLBD`), which is the opening balance
//! plus the entries (a check the statement makes before it is written).

use bauhinia_core::{Currency, Money};
use bauhinia_store::{Database, StoreError};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::iso20022::{
    balance_type, entry_status, Account, AccountId, AccountStatement, Amount, Balance,
    BankTransactionCode, CodeOrProprietary, CreditDebit, DateOrDateTime, Entry, IsoDate,
    IsoDateTime, Max34Text, Max35Text, Max4Text, Max70Text, OneOrMore, Period, References,
    Remittance, Statement, StatementHeader, Text, TransactionDetails,
};
use crate::ledger::journal::{id_bytes, Row16, TRANSFER_COLUMNS};
use crate::ledger::{Id, Recorded};
use crate::switch::{sqlite_row16, Participant, SwitchError, FPS_LEDGER};

/// The most entries one statement carries; a busier day is refused with a clear error.
pub const ENTRIES_MAX: i64 = 100_000;

/// Hong Kong time, in which FPS's business day is counted.
pub fn hong_kong() -> UtcOffset {
    UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC)
}

#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error(transparent)]
    Switch(#[from] SwitchError),
    #[error("the day has more than {ENTRIES_MAX} entries")]
    TooLarge,
    #[error("the statement could not be written: {0}")]
    Shape(String),
}

impl From<StoreError> for StatementError {
    fn from(e: StoreError) -> Self {
        StatementError::Switch(SwitchError::Store(e))
    }
}

impl From<sqlx::Error> for StatementError {
    fn from(e: sqlx::Error) -> Self {
        StatementError::Switch(SwitchError::Sqlx(e))
    }
}

fn day_bounds(day: Date) -> (i64, i64, OffsetDateTime, OffsetDateTime) {
    let from = PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(hong_kong());
    let to = day.next_day().map_or(from, |d| {
        PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(hong_kong())
    });
    let ns = |t: OffsetDateTime| i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX);
    (ns(from), ns(to), from, to)
}

fn iso(t: OffsetDateTime) -> IsoDateTime {
    let t = t.to_offset(hong_kong());
    IsoDateTime {
        local: PrimitiveDateTime::new(t.date(), t.time()),
        offset: Some(t.offset()),
    }
}

fn iso_ns(ns: i64) -> IsoDateTime {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    iso(t)
}

fn text<const N: usize>(value: &str) -> Result<Text<N>, StatementError> {
    Text::new(value).map_err(StatementError::Shape)
}

/// The posted balance of `account` from every settled movement before `before_ns`.
async fn balance_before(db: &Database, account: Id, before_ns: i64) -> Result<i64, StatementError> {
    let sql = "SELECT CAST(COALESCE(SUM(CASE WHEN credit_account = $2 THEN amount ELSE -amount END), 0) AS BIGINT) \
               FROM ledger_transfers WHERE ledger = $1 AND result = 0 AND kind IN (0, 2) \
               AND (debit_account = $2 OR credit_account = $2) AND timestamp_ns < $3";
    let id = id_bytes(account).to_vec();
    Ok(bauhinia_store::read!(db, conn =>
        sqlx::query_scalar::<_, i64>(sql).bind(FPS_LEDGER).bind(&id).bind(before_ns).fetch_one(conn).await?
    ))
}

/// The settled movements of `account` in `[from_ns, to_ns)`, in the order they were made.
async fn movements(
    db: &Database,
    account: Id,
    from_ns: i64,
    to_ns: i64,
) -> Result<Vec<Recorded>, StatementError> {
    let sql = format!(
        "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE ledger = $1 AND result = 0 AND kind IN (0, 2) \
         AND (debit_account = $2 OR credit_account = $2) AND timestamp_ns >= $3 AND timestamp_ns < $4 \
         ORDER BY timestamp_ns LIMIT $5"
    );
    let id = id_bytes(account).to_vec();
    let rows: Vec<Row16> = match db {
        Database::Sqlite(s) => sqlx::query(&sql)
            .bind(FPS_LEDGER)
            .bind(&id)
            .bind(from_ns)
            .bind(to_ns)
            .bind(ENTRIES_MAX + 1)
            .fetch_all(&s.reader)
            .await?
            .iter()
            .map(sqlite_row16)
            .collect::<Result<_, _>>()?,
        Database::Postgres(p) => sqlx::query(&sql)
            .bind(FPS_LEDGER)
            .bind(&id)
            .bind(from_ns)
            .bind(to_ns)
            .bind(ENTRIES_MAX + 1)
            .fetch_all(p)
            .await?
            .iter()
            .map(crate::ledger::journal::pg_row)
            .collect::<Result<_, _>>()?,
    };
    if i64::try_from(rows.len()).unwrap_or(i64::MAX) > ENTRIES_MAX {
        return Err(StatementError::TooLarge);
    }
    Ok(rows
        .into_iter()
        .map(Row16::into_recorded)
        .collect::<Result<_, _>>()?)
}

fn balance(
    kind: &str,
    minor: i64,
    currency: Currency,
    day: Date,
) -> Result<Balance, StatementError> {
    Ok(Balance {
        kind: CodeOrProprietary::code(kind).ok_or_else(|| StatementError::Shape(kind.into()))?,
        amount: Amount::new(Money::from_minor(minor.saturating_abs(), currency))
            .ok_or_else(|| StatementError::Shape("balance out of range".into()))?,
        credit_debit: if minor < 0 {
            CreditDebit::Debit
        } else {
            CreditDebit::Credit
        },
        date: DateOrDateTime::Date(IsoDate(day)),
    })
}

/// What camt.053 and camt.054 entries of a movement both carry: the bank transaction code
/// (payments / received or issued credit transfer / domestic) and one transaction with the
/// transfer's id (`transfer_hex`, 32 hex digits) and its remittance text.
pub(crate) fn movement_parts(
    transfer_hex: &str,
    remittance: &str,
    credit: bool,
) -> Result<(BankTransactionCode, Vec<TransactionDetails>), String> {
    let code = |c: &str| -> Result<Max4Text, String> { Text::new(c) };
    Ok((
        BankTransactionCode {
            domain: code("PMNT")?,
            family: code(if credit { "RCDT" } else { "ICDT" })?,
            sub_family: code("DMCT")?,
        },
        vec![TransactionDetails {
            references: Some(References {
                transaction_id: Some(Text::new(transfer_hex)?),
                ..References::default()
            }),
            remittance: if remittance.is_empty() {
                None
            } else {
                // A refused transfer may carry a reference longer than the 140 characters an
                // accepted one has; camt.054 shows its beginning.
                Some(Remittance {
                    unstructured: vec![Text::new(
                        remittance.chars().take(140).collect::<String>(),
                    )?],
                })
            },
            ..TransactionDetails::default()
        }],
    ))
}

/// The camt.053 statement of `participant`'s settlement account in `currency` for `day`.
pub async fn end_of_day(
    db: &Database,
    participant: &Participant,
    currency: Currency,
    day: Date,
) -> Result<Statement, StatementError> {
    let account = participant.code.settlement_account(currency);
    let (from_ns, to_ns, from, to) = day_bounds(day);
    let opening = balance_before(db, account, from_ns).await?;
    let moves = movements(db, account, from_ns, to_ns).await?;
    let mut closing = i128::from(opening);
    let mut entries = Vec::with_capacity(moves.len());
    for r in &moves {
        let t = &r.transfer;
        let credit = t.credit_account == account;
        closing += if credit {
            i128::from(t.amount)
        } else {
            -i128::from(t.amount)
        };
        let reference = format!("{:032x}", t.id);
        let (bank_transaction_code, details) =
            movement_parts(&reference, &t.reference, credit).map_err(StatementError::Shape)?;
        entries.push(Entry {
            reference: Some(text(&reference)?),
            amount: Amount::new(Money::from_minor(t.amount, currency))
                .ok_or_else(|| StatementError::Shape("amount out of range".into()))?,
            credit_debit: if credit {
                CreditDebit::Credit
            } else {
                CreditDebit::Debit
            },
            status: CodeOrProprietary::code(entry_status::BOOKED)
                .ok_or_else(|| StatementError::Shape("status".into()))?,
            booking_date: Some(DateOrDateTime::DateTime(iso_ns(r.timestamp_ns))),
            value_date: Some(DateOrDateTime::Date(IsoDate(day))),
            account_servicer_reference: Some(text(&reference)?),
            bank_transaction_code,
            details,
            additional_info: None,
        });
    }
    let closing = i64::try_from(closing).map_err(|_| StatementError::Shape("overflow".into()))?;
    // A finished day: its closing balance, summed independently, must be what the entries give.
    let now_ns = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(0);
    if to_ns <= now_ns && balance_before(db, account, to_ns).await? != closing {
        return Err(StatementError::Shape(
            "the closing balance does not equal the opening balance plus the entries".into(),
        ));
    }
    let id: Max35Text = text(&format!("{}-{}-{day}", participant.code, currency.code()))?;
    let account_id: Max34Text = text(&format!("FPS-{}-{}", participant.code, currency.code()))?;
    let name: Max70Text = text(&participant.name_en.chars().take(70).collect::<String>())?;
    let now = OffsetDateTime::now_utc();
    Ok(Statement {
        header: StatementHeader {
            message_id: text(&format!(
                "CAMT053-{}-{}-{}",
                participant.code,
                currency.code(),
                day.to_string().replace('-', "")
            ))?,
            created: iso(now),
        },
        statements: OneOrMore::one(AccountStatement {
            id,
            electronic_sequence: None,
            created: Some(iso(now)),
            period: Some(Period {
                from: iso(from),
                to: iso(to),
            }),
            account: Account {
                id: AccountId::Other(account_id),
                currency: Some(currency),
                name: Some(name),
                proxy: None,
            },
            balances: OneOrMore::new(vec![
                balance(balance_type::OPBD, opening, currency, day)?,
                balance(balance_type::CLBD, closing, currency, day)?,
            ])
            .ok_or_else(|| StatementError::Shape("balances".into()))?,
            entries,
            additional_info: None,
        }),
    })
}
