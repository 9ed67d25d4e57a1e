//! The flows' tables on SQLite and PostgreSQL (`fps_requests`, `fps_mandates`,
//! `fps_mandate_usage`, `fps_debits`, `fps_returns`, `fps_return_totals`).
//!
//! Every change is a list of [`Step`]s run in one write transaction with its outbox events and
//! audit events: a step that must change a row and changes none rolls the whole transaction
//! back, and the caller learns which step it was. That is how each rule that depends on the
//! database is kept without a race on either dialect: an insert `ON CONFLICT DO NOTHING` that
//! changes nothing means the id is taken; a status change is `UPDATE … WHERE status = <from>`;
//! a limit is `UPDATE … SET used = used + $n WHERE used + $n <= limit` (PostgreSQL re-checks the
//! condition on the row it waited for; SQLite has one writer). This module never sees an
//! account reference in clear: the service seals them first.

use bauhinia_store::audit::AuditEvent;
use bauhinia_store::{read, write_tx, Database, StoreError};

use crate::events::{self, Event};

/// A value bound to a step's or a read's placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bytes(Vec<u8>),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Int(n)
    }
}

impl From<Option<String>> for Arg {
    fn from(s: Option<String>) -> Arg {
        Arg::OptText(s)
    }
}

impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Arg {
        Arg::Bytes(b)
    }
}

/// One statement of a change.
#[derive(Debug, Clone)]
pub struct Step {
    pub sql: String,
    pub args: Vec<Arg>,
    /// The change is abandoned (rolled back) if this statement changes no row.
    pub must_change: bool,
}

impl Step {
    /// A statement that must change a row.
    pub fn must(sql: impl Into<String>, args: Vec<Arg>) -> Step {
        Step {
            sql: sql.into(),
            args,
            must_change: true,
        }
    }

    /// A statement that may change nothing.
    pub fn may(sql: impl Into<String>, args: Vec<Arg>) -> Step {
        Step {
            sql: sql.into(),
            args,
            must_change: false,
        }
    }
}

/// The index of the step that changed nothing; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unchanged(pub usize);

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::OptText(s) => q.bind(s.as_deref()),
                Arg::Int(n) => q.bind(*n),
                Arg::Bytes(b) => q.bind(b.as_slice()),
            };
        }
        q
    }};
}

/// A stored request to pay, as written.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestRow {
    pub seq: i64,
    pub id: String,
    pub payee: String,
    pub payer: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reference: String,
    pub payee_masked_name: String,
    pub expires_at_s: i64,
    pub status: String,
    pub transfer_id: Option<String>,
    pub fingerprint: Vec<u8>,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

/// A stored mandate; the account references sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MandateRow {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub creditor: String,
    pub creditor_reference_sealed: Vec<u8>,
    pub debtor: String,
    pub debtor_reference_sealed: Vec<u8>,
    pub debtor_masked_name: String,
    pub currency: String,
    pub per_debit_minor: i64,
    pub period: String,
    pub period_limit_minor: i64,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub status: String,
    pub fingerprint: Vec<u8>,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DebitRow {
    pub seq: i64,
    pub id: String,
    pub mandate_id: String,
    pub creditor: String,
    pub debtor: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reference: String,
    pub collection_date: String,
    pub period_start: String,
    pub status: String,
    pub reason: Option<String>,
    pub fingerprint: Vec<u8>,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReturnRow {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub original_id: String,
    pub creditor: String,
    pub debtor: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reason_code: Option<String>,
    pub reference: String,
    pub status: String,
    pub refusal: Option<String>,
    pub fingerprint: Vec<u8>,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

/// The flows' store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FlowStore {
    db: Database,
}

impl FlowStore {
    pub fn new(db: &Database) -> FlowStore {
        FlowStore { db: db.clone() }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Runs `steps` in one write transaction with `events` (the outbox) and `audit`, all or
    /// nothing: `Ok(Err(Unchanged(i)))` when step `i` had to change a row and did not.
    pub async fn apply(
        &self,
        steps: &[Step],
        events: &[Event],
        audit: &[AuditEvent],
    ) -> Result<Result<(), Unchanged>, StoreError> {
        write_tx!(&self.db, tx, append_audit => {
            for (i, step) in steps.iter().enumerate() {
                let done = bind_all!(sqlx::query(&step.sql), &step.args)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if step.must_change && done == 0 {
                    return Ok(Err(Unchanged(i)));
                }
            }
            events::append(&mut *tx, events).await?;
            for event in audit {
                append_audit(&mut tx, event).await?;
            }
        });
        Ok(Ok(()))
    }

    /// Rows of one of the flows' tables.
    pub async fn rows<T>(&self, sql: &str, args: &[Arg]) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        Ok(
            read!(&self.db, conn => bind_all!(sqlx::query_as::<_, T>(sql), args)
            .fetch_all(conn)
            .await?),
        )
    }

    /// The row of `table` with this id.
    pub async fn by_id<T>(&self, table: Table, id: &str) -> Result<Option<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let sql = format!("SELECT * FROM {} WHERE id = $1", table.name());
        Ok(self.rows(&sql, &[Arg::from(id)]).await?.into_iter().next())
    }
}

/// The flows' tables that rows are read from by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Requests,
    Mandates,
    Debits,
    Returns,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Requests => "fps_requests",
            Table::Mandates => "fps_mandates",
            Table::Debits => "fps_debits",
            Table::Returns => "fps_returns",
        }
    }
}
