//! The banks' tables (`bank_hosted`, `bank_accounts`, `bank_proxies`, `bank_payments`,
//! `bank_requests`, `bank_mandates`) on SQLite and PostgreSQL, one query text for both. Every change is written with its audit
//! event in one transaction.

use bauhinia_store::audit::{AuditEvent, Outcome as AuditOutcome};
use bauhinia_store::{read, write_tx, Database, StoreError};

use crate::domain::{AccountNumber, PaymentState, BANKS_LEDGER};

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub number: String,
    pub bank: String,
    pub owner: String,
    pub holder_name: String,
    pub currency: String,
    pub kind: String,
    pub status: String,
    pub created_at_s: i64,
}

type AccountTuple = (String, String, String, String, String, String, String, i64);

impl From<AccountTuple> for AccountRow {
    fn from(t: AccountTuple) -> AccountRow {
        let (number, bank, owner, holder_name, currency, kind, status, created_at_s) = t;
        AccountRow {
            number,
            bank,
            owner,
            holder_name,
            currency,
            kind,
            status,
            created_at_s,
        }
    }
}

const ACCOUNT_COLUMNS: &str =
    "number, bank, owner, holder_name, currency, kind, status, created_at_s";

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: String,
    pub account: String,
    pub direction: String,
    pub state: String,
    pub counterparty_bank: String,
    pub counterparty_name: String,
    pub counterparty_address: String,
    pub payee_sealed: Option<Vec<u8>>,
    pub currency: String,
    pub amount: i64,
    pub purpose: String,
    pub reference: String,
    pub fps_transfer: String,
    pub reason: Option<String>,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

const PAYMENT_COLUMNS: &str = "id, account, direction, state, counterparty_bank, \
    counterparty_name, counterparty_address, payee_sealed, currency, amount, purpose, \
    reference, fps_transfer, reason, created_at_s, updated_at_s";

type PaymentTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
);

/// A request to pay a customer made, as the payee's bank recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: String,
    pub payee_account: String,
    pub payer_bank: String,
    pub payer_hash: Vec<u8>,
    pub payer_masked_name: String,
    pub payer_address: String,
    pub currency: String,
    pub amount: i64,
    pub reference: String,
    pub created_at_s: i64,
}

type RequestTuple = (
    String,
    String,
    String,
    Vec<u8>,
    String,
    String,
    String,
    i64,
    String,
    i64,
);

impl From<RequestTuple> for RequestRow {
    fn from(t: RequestTuple) -> RequestRow {
        let (
            id,
            payee_account,
            payer_bank,
            payer_hash,
            payer_masked_name,
            payer_address,
            currency,
            amount,
            reference,
            created_at_s,
        ) = t;
        RequestRow {
            id,
            payee_account,
            payer_bank,
            payer_hash,
            payer_masked_name,
            payer_address,
            currency,
            amount,
            reference,
            created_at_s,
        }
    }
}

/// A mandate's link to the accounts of its debtor and creditor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateLink {
    pub id: String,
    pub debtor_account: String,
    pub creditor_account: String,
    pub created_at_s: i64,
}

impl From<(String, String, String, i64)> for MandateLink {
    fn from(
        (id, debtor_account, creditor_account, created_at_s): (String, String, String, i64),
    ) -> MandateLink {
        MandateLink {
            id,
            debtor_account,
            creditor_account,
            created_at_s,
        }
    }
}

const REQUEST_COLUMNS: &str = "r.id, r.payee_account, r.payer_bank, r.payer_hash, \
    r.payer_masked_name, r.payer_address, r.currency, r.amount, r.reference, r.created_at_s";

impl From<PaymentTuple> for PaymentRow {
    fn from(t: PaymentTuple) -> PaymentRow {
        let (
            id,
            account,
            direction,
            state,
            counterparty_bank,
            counterparty_name,
            counterparty_address,
            payee_sealed,
            currency,
            amount,
            purpose,
            reference,
            fps_transfer,
            reason,
            created_at_s,
            updated_at_s,
        ) = t;
        PaymentRow {
            id,
            account,
            direction,
            state,
            counterparty_bank,
            counterparty_name,
            counterparty_address,
            payee_sealed,
            currency,
            amount,
            purpose,
            reference,
            fps_transfer,
            reason,
            created_at_s,
            updated_at_s,
        }
    }
}

/// A proxy a customer registered through the bank (masks only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRow {
    pub account: String,
    pub kind: String,
    pub masked: String,
    pub created_at_s: i64,
}

/// A new account: everything but its number, which the row's sequence number decides.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub bank: bauhinia_fps::switch::ParticipantCode,
    pub owner: String,
    pub holder_name: String,
    pub currency: &'static str,
    pub kind: &'static str,
}

#[derive(Debug, Clone)]
pub struct BankStore {
    db: Database,
}

impl BankStore {
    pub fn new(db: &Database) -> BankStore {
        BankStore { db: db.clone() }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Records that `code`'s books are kept here (once).
    pub async fn host(&self, code: &str, actor: &str) -> Result<bool, StoreError> {
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "bank.host",
            subject: format!("participant:{code}"),
            outcome: AuditOutcome::Success,
            detail: serde_json::json!({}),
            request_id: None,
        };
        Ok(write_tx!(&self.db, tx, append => {
            let inserted = sqlx::query(
                "INSERT INTO bank_hosted (code, created_at_s) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING",
            )
            .bind(code)
            .bind(now_s())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                append(&mut tx, &event).await?;
            }
            inserted
        }))
    }

    pub async fn hosted(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            read!(&self.db, conn => sqlx::query_scalar("SELECT code FROM bank_hosted ORDER BY code")
            .fetch_all(conn)
            .await?),
        )
    }

    /// Inserts an account and returns its number; `ledger_id` gives the ledger id of a number.
    pub async fn insert_account(
        &self,
        account: &NewAccount,
        actor: &str,
    ) -> Result<AccountNumber, StoreError> {
        let placeholder = uuid::Uuid::new_v4().to_string();
        let created = now_s();
        Ok(write_tx!(&self.db, tx, append => {
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO bank_accounts (number, bank, owner, holder_name, currency, kind, ledger_id, status, created_at_s) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8) RETURNING seq",
            )
            .bind(&placeholder)
            .bind(account.bank.as_str())
            .bind(&account.owner)
            .bind(&account.holder_name)
            .bind(account.currency)
            .bind(account.kind)
            .bind(placeholder.as_bytes().to_vec())
            .bind(created)
            .fetch_one(&mut *tx)
            .await?;
            let number = AccountNumber::from_seq(account.bank, seq)
                .ok_or_else(|| StoreError::Conflict("the bank has no account numbers left".into()))?;
            sqlx::query("UPDATE bank_accounts SET number = $1, ledger_id = $2 WHERE seq = $3")
                .bind(number.to_string())
                .bind(number.ledger_id().to_be_bytes().to_vec())
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            let event = AuditEvent {
                actor: actor.to_owned(),
                action: "bank.account.open",
                subject: account.owner.clone(),
                outcome: AuditOutcome::Success,
                detail: serde_json::json!({
                    "account": number.to_string(),
                    "currency": account.currency,
                    "kind": account.kind,
                }),
                request_id: None,
            };
            append(&mut tx, &event).await?;
            number
        }))
    }

    pub async fn account(&self, number: &AccountNumber) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM bank_accounts WHERE number = $1");
        let row: Option<AccountTuple> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(number.to_string())
            .fetch_optional(conn)
            .await?);
        Ok(row.map(AccountRow::from))
    }

    pub async fn accounts_of(&self, owner: &str) -> Result<Vec<AccountRow>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM bank_accounts WHERE owner = $1 ORDER BY seq LIMIT 100"
        );
        let rows: Vec<AccountTuple> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(owner)
            .fetch_all(conn)
            .await?);
        Ok(rows.into_iter().map(AccountRow::from).collect())
    }

    /// Posted and pending balances of banks' ledger accounts, as last committed.
    pub async fn balances(&self, ids: &[u128]) -> Result<Vec<(u128, i64, i64)>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<(i64, i64, i64)> = read!(&self.db, conn => sqlx::query_as(
                "SELECT credits_posted - debits_posted, debits_pending, credits_pending \
                 FROM ledger_accounts WHERE ledger = $1 AND id = $2",
            )
            .bind(BANKS_LEDGER)
            .bind(id.to_be_bytes().to_vec())
            .fetch_optional(conn)
            .await?);
            let (balance, debits_pending, _) = row.unwrap_or((0, 0, 0));
            out.push((*id, balance, debits_pending));
        }
        Ok(out)
    }

    /// Records a payment (with its audit event); `false` if its id was already taken.
    pub async fn insert_payment(
        &self,
        payment: &PaymentRow,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(write_tx!(&self.db, tx, append => {
            let inserted = sqlx::query(&format!(
                "INSERT INTO bank_payments ({PAYMENT_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (id) DO NOTHING"
            ))
            .bind(&payment.id)
            .bind(&payment.account)
            .bind(&payment.direction)
            .bind(&payment.state)
            .bind(&payment.counterparty_bank)
            .bind(&payment.counterparty_name)
            .bind(&payment.counterparty_address)
            .bind(&payment.payee_sealed)
            .bind(&payment.currency)
            .bind(payment.amount)
            .bind(&payment.purpose)
            .bind(&payment.reference)
            .bind(&payment.fps_transfer)
            .bind(&payment.reason)
            .bind(payment.created_at_s)
            .bind(payment.updated_at_s)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                append(&mut tx, event).await?;
            }
            inserted
        }))
    }

    pub async fn payment(&self, id: &str) -> Result<Option<PaymentRow>, StoreError> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM bank_payments WHERE id = $1");
        let row: Option<PaymentTuple> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(conn)
            .await?);
        Ok(row.map(PaymentRow::from))
    }

    /// Moves an initiated payment to its end (with its audit event); `false` if it had
    /// already ended.
    pub async fn finish_payment(
        &self,
        id: &str,
        state: PaymentState,
        reason: Option<&str>,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(write_tx!(&self.db, tx, append => {
            let moved = sqlx::query(
                "UPDATE bank_payments SET state = $1, reason = $2, updated_at_s = $3 \
                 WHERE id = $4 AND state = 'initiated'",
            )
            .bind(state.as_str())
            .bind(reason)
            .bind(now_s())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if moved {
                append(&mut tx, event).await?;
            }
            moved
        }))
    }

    /// Payments out that were ordered but not finished (oldest first, at most `limit`).
    pub async fn unfinished(&self, limit: i64) -> Result<Vec<PaymentRow>, StoreError> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM bank_payments WHERE state = 'initiated' ORDER BY seq LIMIT $1"
        );
        let rows: Vec<PaymentTuple> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(conn)
            .await?);
        Ok(rows.into_iter().map(PaymentRow::from).collect())
    }

    /// An owner's payments, out and in, newest first.
    pub async fn history(&self, owner: &str, limit: i64) -> Result<Vec<PaymentRow>, StoreError> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM bank_payments WHERE account IN \
             (SELECT number FROM bank_accounts WHERE owner = $1) ORDER BY seq DESC LIMIT $2"
        );
        let rows: Vec<PaymentTuple> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(owner)
            .bind(limit)
            .fetch_all(conn)
            .await?);
        Ok(rows.into_iter().map(PaymentRow::from).collect())
    }

    /// Keeps the customer's own list entry of a proxy registered through the bank.
    pub async fn insert_proxy(
        &self,
        account: &str,
        kind: &str,
        key_hash: &[u8; 32],
        masked: &str,
    ) -> Result<(), StoreError> {
        write_tx!(&self.db, tx, _append => {
            sqlx::query(
                "INSERT INTO bank_proxies (account, kind, key_hash, masked, created_at_s) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account, key_hash) DO NOTHING",
            )
            .bind(account)
            .bind(kind)
            .bind(key_hash.to_vec())
            .bind(masked)
            .bind(now_s())
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    pub async fn has_proxy(&self, account: &str, key_hash: &[u8; 32]) -> Result<bool, StoreError> {
        let n: i64 = read!(&self.db, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM bank_proxies WHERE account = $1 AND key_hash = $2",
        )
        .bind(account)
        .bind(key_hash.to_vec())
        .fetch_one(conn)
        .await?);
        Ok(n > 0)
    }

    pub async fn proxies_of(&self, owner: &str) -> Result<Vec<ProxyRow>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT p.account, p.kind, p.masked, p.created_at_s FROM bank_proxies p \
             JOIN bank_accounts a ON a.number = p.account WHERE a.owner = $1 ORDER BY p.seq LIMIT 100",
        )
        .bind(owner)
        .fetch_all(conn)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(account, kind, masked, created_at_s)| ProxyRow {
                account,
                kind,
                masked,
                created_at_s,
            })
            .collect())
    }
    /// Records a request a customer made (with its audit event); `false` if its id was
    /// already taken.
    pub async fn insert_request(
        &self,
        request: &RequestRow,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(write_tx!(&self.db, tx, append => {
            let inserted = sqlx::query(
                "INSERT INTO bank_requests (id, payee_account, payer_bank, payer_hash, \
                 payer_masked_name, payer_address, currency, amount, reference, created_at_s) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&request.id)
            .bind(&request.payee_account)
            .bind(&request.payer_bank)
            .bind(&request.payer_hash)
            .bind(&request.payer_masked_name)
            .bind(&request.payer_address)
            .bind(&request.currency)
            .bind(request.amount)
            .bind(&request.reference)
            .bind(request.created_at_s)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                append(&mut tx, event).await?;
            }
            inserted
        }))
    }

    pub async fn request(&self, id: &str) -> Result<Option<RequestRow>, StoreError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM bank_requests r WHERE r.id = $1");
        let row: Option<RequestTuple> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(conn)
            .await?);
        Ok(row.map(RequestRow::from))
    }

    /// The requests `owner` made, newest first.
    pub async fn requests_made(
        &self,
        owner: &str,
        limit: i64,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM bank_requests r JOIN bank_accounts a \
             ON a.number = r.payee_account WHERE a.owner = $1 AND r.id = COALESCE($3, r.id) \
             ORDER BY r.seq DESC LIMIT $2"
        );
        self.requests_where(&sql, owner, limit, None).await
    }

    /// The requests addressed to a proxy `owner` registered through the payer's bank, newest
    /// first (only the request `only`, when given).
    pub async fn requests_to(
        &self,
        owner: &str,
        only: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM bank_requests r WHERE EXISTS (SELECT 1 FROM \
             bank_proxies p JOIN bank_accounts a ON a.number = p.account WHERE a.owner = $1 \
             AND p.key_hash = r.payer_hash AND a.bank = r.payer_bank) \
             AND r.id = COALESCE($3, r.id) ORDER BY r.seq DESC LIMIT $2"
        );
        self.requests_where(&sql, owner, limit, only).await
    }

    async fn requests_where(
        &self,
        sql: &str,
        owner: &str,
        limit: i64,
        only: Option<&str>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let rows: Vec<RequestTuple> = read!(&self.db, conn => sqlx::query_as(sql)
            .bind(owner)
            .bind(limit)
            .bind(only)
            .fetch_all(conn)
            .await?);
        Ok(rows.into_iter().map(RequestRow::from).collect())
    }
    /// Links a mandate to its accounts (with its audit event); `false` if its id was taken.
    pub async fn insert_mandate(
        &self,
        link: &MandateLink,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(write_tx!(&self.db, tx, append => {
            let inserted = sqlx::query(
                "INSERT INTO bank_mandates (id, debtor_account, creditor_account, created_at_s) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&link.id)
            .bind(&link.debtor_account)
            .bind(&link.creditor_account)
            .bind(link.created_at_s)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                append(&mut tx, event).await?;
            }
            inserted
        }))
    }

    pub async fn mandate_link(&self, id: &str) -> Result<Option<MandateLink>, StoreError> {
        let row: Option<(String, String, String, i64)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT id, debtor_account, creditor_account, created_at_s FROM bank_mandates \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(conn)
        .await?);
        Ok(row.map(MandateLink::from))
    }

    /// The mandates on `owner`'s accounts, newest first (only the mandate `only`, when given).
    pub async fn mandates_of(
        &self,
        owner: &str,
        only: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MandateLink>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT m.id, m.debtor_account, m.creditor_account, m.created_at_s \
             FROM bank_mandates m JOIN bank_accounts a ON a.number = m.debtor_account \
             WHERE a.owner = $1 AND m.id = COALESCE($3, m.id) ORDER BY m.seq DESC LIMIT $2",
        )
        .bind(owner)
        .bind(limit)
        .bind(only)
        .fetch_all(conn)
        .await?);
        Ok(rows.into_iter().map(MandateLink::from).collect())
    }
}
