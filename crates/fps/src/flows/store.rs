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

use super::domain::{MandateStatus, RequestStatus, Side, PAGE_MAX};
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

// ---------------------------------------------------------------------------------------------
// The statements of each change (composed by the service into one `apply`) and the lists.

impl RequestRow {
    /// Inserts the request unless its id is taken.
    pub fn insert(&self) -> Step {
        Step::must(
            "INSERT INTO fps_requests (id, payee, payer, currency, amount_minor, reference, \
             payee_masked_name, expires_at_s, status, fingerprint, created_at_s, updated_at_s) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING",
            vec![
                self.id.clone().into(),
                self.payee.clone().into(),
                self.payer.clone().into(),
                self.currency.clone().into(),
                self.amount_minor.into(),
                self.reference.clone().into(),
                self.payee_masked_name.clone().into(),
                self.expires_at_s.into(),
                self.status.clone().into(),
                self.fingerprint.clone().into(),
                self.created_at_s.into(),
                self.updated_at_s.into(),
            ],
        )
    }

    /// Moves the request `from` → `to`, setting its transfer: only before its expiry when it
    /// leaves pending for anything but expired, only after it when expiring, and out of
    /// settling only by the payment that began it.
    pub fn change(
        &self,
        from: RequestStatus,
        to: RequestStatus,
        transfer_id: Option<String>,
        now_s: i64,
    ) -> Step {
        let expiry = match (from, to) {
            (RequestStatus::Pending, RequestStatus::Expired) => " AND expires_at_s <= $4",
            (RequestStatus::Pending, _) => " AND expires_at_s > $4",
            _ => "",
        };
        let mut args = vec![
            self.id.clone().into(),
            from.as_str().into(),
            to.as_str().into(),
            now_s.into(),
            transfer_id.into(),
        ];
        let same_payment = if from == RequestStatus::Settling {
            args.push(self.transfer_id.clone().into());
            " AND transfer_id = $6"
        } else {
            ""
        };
        Step::must(
            format!(
                "UPDATE fps_requests SET status = $3, updated_at_s = $4, transfer_id = $5 \
                 WHERE id = $1 AND status = $2{expiry}{same_payment}"
            ),
            args,
        )
    }
}

impl MandateRow {
    /// Inserts the mandate unless its id is taken.
    pub fn insert(&self) -> Step {
        Step::must(
            "INSERT INTO fps_mandates (id, kind, creditor, creditor_reference_sealed, debtor, \
             debtor_reference_sealed, debtor_masked_name, currency, per_debit_minor, period, \
             period_limit_minor, valid_from, valid_until, status, fingerprint, created_at_s, \
             updated_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17) ON CONFLICT (id) DO NOTHING",
            vec![
                self.id.clone().into(),
                self.kind.clone().into(),
                self.creditor.clone().into(),
                self.creditor_reference_sealed.clone().into(),
                self.debtor.clone().into(),
                self.debtor_reference_sealed.clone().into(),
                self.debtor_masked_name.clone().into(),
                self.currency.clone().into(),
                self.per_debit_minor.into(),
                self.period.clone().into(),
                self.period_limit_minor.into(),
                self.valid_from.clone().into(),
                self.valid_until.clone().into(),
                self.status.clone().into(),
                self.fingerprint.clone().into(),
                self.created_at_s.into(),
                self.updated_at_s.into(),
            ],
        )
    }

    /// Moves the mandate `from` → `to`.
    pub fn change(&self, from: MandateStatus, to: MandateStatus, now_s: i64) -> Step {
        Step::must(
            "UPDATE fps_mandates SET status = $3, updated_at_s = $4 WHERE id = $1 AND status = $2",
            vec![
                self.id.clone().into(),
                from.as_str().into(),
                to.as_str().into(),
                now_s.into(),
            ],
        )
    }
}

/// Which step of [`DebitRow::reserve`] did not change its row.
pub const DEBIT_MANDATE_NOT_ACTIVE: usize = 0;
pub const DEBIT_ID_TAKEN: usize = 1;

/// Which step of [`ReturnRow::reserve`] did not change its row.
pub const RETURN_ID_TAKEN: usize = 0;

impl DebitRow {
    /// Reserves the debit: locks the mandate's row, requiring it active (PostgreSQL waits
    /// there for a concurrent debit of the same mandate); inserts the debit unless its id is
    /// taken; adds its amount to the period's usage if it stays within `period_limit`.
    pub fn reserve(&self, period_limit: i64) -> [Step; 4] {
        let usage = |amount: bool| {
            let mut args = vec![
                Arg::from(self.mandate_id.clone()),
                self.period_start.clone().into(),
            ];
            if amount {
                args.extend([self.amount_minor.into(), period_limit.into()]);
            }
            args
        };
        [
            Step::must(
                "UPDATE fps_mandates SET updated_at_s = updated_at_s WHERE id = $1 AND status = 'active'",
                vec![self.mandate_id.clone().into()],
            ),
            Step::must(
                "INSERT INTO fps_debits (id, mandate_id, creditor, debtor, currency, amount_minor, \
                 reference, collection_date, period_start, status, fingerprint, created_at_s, \
                 updated_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (id) DO NOTHING",
                vec![
                    self.id.clone().into(),
                    self.mandate_id.clone().into(),
                    self.creditor.clone().into(),
                    self.debtor.clone().into(),
                    self.currency.clone().into(),
                    self.amount_minor.into(),
                    self.reference.clone().into(),
                    self.collection_date.clone().into(),
                    self.period_start.clone().into(),
                    self.status.clone().into(),
                    self.fingerprint.clone().into(),
                    self.created_at_s.into(),
                    self.updated_at_s.into(),
                ],
            ),
            Step::may(
                "INSERT INTO fps_mandate_usage (mandate_id, period_start, used_minor) \
                 VALUES ($1, $2, 0) ON CONFLICT (mandate_id, period_start) DO NOTHING",
                usage(false),
            ),
            Step::must(
                "UPDATE fps_mandate_usage SET used_minor = used_minor + $3 \
                 WHERE mandate_id = $1 AND period_start = $2 AND used_minor + $3 <= $4",
                usage(true),
            ),
        ]
    }

    /// Gives back the period usage a refused debit reserved.
    pub fn release(&self) -> Step {
        Step::must(
            "UPDATE fps_mandate_usage SET used_minor = used_minor - $3 \
             WHERE mandate_id = $1 AND period_start = $2",
            vec![
                self.mandate_id.clone().into(),
                self.period_start.clone().into(),
                self.amount_minor.into(),
            ],
        )
    }
}

impl ReturnRow {
    /// Reserves the return: inserts it unless its id is taken, and adds its amount to what is
    /// returned of the original if that stays within `original_minor`.
    pub fn reserve(&self, original_minor: i64) -> [Step; 3] {
        [
            Step::must(
                "INSERT INTO fps_returns (id, kind, original_id, creditor, debtor, currency, \
                 amount_minor, reason_code, reference, status, fingerprint, created_at_s, \
                 updated_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (id) DO NOTHING",
                vec![
                    self.id.clone().into(),
                    self.kind.clone().into(),
                    self.original_id.clone().into(),
                    self.creditor.clone().into(),
                    self.debtor.clone().into(),
                    self.currency.clone().into(),
                    self.amount_minor.into(),
                    self.reason_code.clone().into(),
                    self.reference.clone().into(),
                    self.status.clone().into(),
                    self.fingerprint.clone().into(),
                    self.created_at_s.into(),
                    self.updated_at_s.into(),
                ],
            ),
            Step::may(
                "INSERT INTO fps_return_totals (original_id, original_minor, returned_minor) \
                 VALUES ($1, $2, 0) ON CONFLICT (original_id) DO NOTHING",
                vec![self.original_id.clone().into(), original_minor.into()],
            ),
            Step::must(
                "UPDATE fps_return_totals SET returned_minor = returned_minor + $2 \
                 WHERE original_id = $1 AND returned_minor + $2 <= original_minor",
                vec![self.original_id.clone().into(), self.amount_minor.into()],
            ),
        ]
    }

    /// Gives back the amount a refused return reserved.
    pub fn release(&self) -> Step {
        Step::must(
            "UPDATE fps_return_totals SET returned_minor = returned_minor - $2 WHERE original_id = $1",
            vec![self.original_id.clone().into(), self.amount_minor.into()],
        )
    }
}

/// Writes how a reserved debit or return ended: `settled`, or `refused` with its reason.
pub fn finish(table: Table, id: &str, reason: Option<String>, now_s: i64) -> Step {
    let status = if reason.is_some() {
        "refused"
    } else {
        "settled"
    };
    let column = if table == Table::Returns {
        "refusal"
    } else {
        "reason"
    };
    Step::must(
        format!(
            "UPDATE {} SET status = $2, {column} = $3, updated_at_s = $4 \
             WHERE id = $1 AND status = 'pending'",
            table.name()
        ),
        vec![id.into(), status.into(), reason.into(), now_s.into()],
    )
}

impl FlowStore {
    /// A participant's requests (as payer, payee or either), newest first, before `before`.
    /// Expiry is computed on read: a pending row past its expiry lists as expired.
    pub async fn requests(
        &self,
        participant: &str,
        side: Option<Side>,
        status: Option<RequestStatus>,
        (before, limit): (Option<i64>, i64),
        now_s: i64,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let who = match side {
            Some(Side::Payer) => "payer = $1",
            Some(Side::Payee) => "payee = $1",
            None => "(payer = $1 OR payee = $1)",
        };
        let mut args = page_args(participant, before, limit);
        let filter = match status {
            None => "",
            Some(RequestStatus::Pending) => " AND status = 'pending' AND expires_at_s > $4",
            Some(RequestStatus::Expired) => {
                " AND (status = 'expired' OR (status = 'pending' AND expires_at_s <= $4))"
            }
            Some(_) => " AND status = $4",
        };
        match status {
            Some(RequestStatus::Pending | RequestStatus::Expired) => args.push(now_s.into()),
            Some(s) => args.push(s.as_str().into()),
            None => {}
        }
        let sql = format!(
            "SELECT * FROM fps_requests WHERE {who} AND seq < $2{filter} ORDER BY seq DESC LIMIT $3"
        );
        self.rows(&sql, &args).await
    }

    /// Pending requests whose expiry has passed, the oldest first.
    pub async fn due_requests(
        &self,
        now_s: i64,
        limit: i64,
    ) -> Result<Vec<RequestRow>, StoreError> {
        self.rows(
            "SELECT * FROM fps_requests WHERE status = 'pending' AND expires_at_s <= $1 \
             ORDER BY expires_at_s LIMIT $2",
            &[now_s.into(), limit.clamp(1, 10_000).into()],
        )
        .await
    }

    /// A participant's mandates (as debtor, creditor or either), newest first.
    pub async fn mandates(
        &self,
        participant: &str,
        side: Option<Side>,
        status: Option<MandateStatus>,
        (before, limit): (Option<i64>, i64),
    ) -> Result<Vec<MandateRow>, StoreError> {
        let who = match side {
            Some(Side::Payer) => "debtor = $1",
            Some(Side::Payee) => "creditor = $1",
            None => "(debtor = $1 OR creditor = $1)",
        };
        let mut args = page_args(participant, before, limit);
        let filter = match status {
            Some(s) => {
                args.push(s.as_str().into());
                " AND status = $4"
            }
            None => "",
        };
        let sql = format!(
            "SELECT * FROM fps_mandates WHERE {who} AND seq < $2{filter} ORDER BY seq DESC LIMIT $3"
        );
        self.rows(&sql, &args).await
    }

    /// A mandate's debits, newest first.
    pub async fn debits(
        &self,
        mandate_id: &str,
        (before, limit): (Option<i64>, i64),
    ) -> Result<Vec<DebitRow>, StoreError> {
        self.rows(
            "SELECT * FROM fps_debits WHERE mandate_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            &page_args(mandate_id, before, limit),
        )
        .await
    }

    /// The returns and refunds of a transfer, newest first (at most a page).
    pub async fn returns_of(&self, original_id: &str) -> Result<Vec<ReturnRow>, StoreError> {
        self.rows(
            "SELECT * FROM fps_returns WHERE original_id = $1 ORDER BY seq DESC LIMIT $2",
            &[original_id.into(), PAGE_MAX.into()],
        )
        .await
    }

    /// How much of a transfer is returned or refunded (or reserved to be).
    pub async fn returned(&self, original_id: &str) -> Result<i64, StoreError> {
        let used: Vec<(i64,)> = self
            .rows(
                "SELECT returned_minor FROM fps_return_totals WHERE original_id = $1",
                &[original_id.into()],
            )
            .await?;
        Ok(used.first().map_or(0, |r| r.0))
    }
}

/// `$1` the key, `$2` the cursor, `$3` the page size (1 to [`PAGE_MAX`]).
fn page_args(key: &str, before: Option<i64>, limit: i64) -> Vec<Arg> {
    vec![
        key.into(),
        before.unwrap_or(i64::MAX).into(),
        limit.clamp(1, PAGE_MAX).into(),
    ]
}
