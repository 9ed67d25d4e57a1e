//! `Banks`: the participant banks whose books Bauhinia keeps. Each bank holds its customers'
//! accounts on the banks' ledger and pays through the switch as the participant it is:
//!
//! 1. the payer's bank holds the amount on the payer's account (a pending transfer);
//! 2. the switch moves settlement funds from the payer's bank to the payee's (ledger 1);
//! 3. accepted: the payer's bank posts the hold, and the payee's bank — if it is hosted here —
//!    resolves the proxy to its customer's account and credits it; refused: the hold is
//!    released and the payment fails with the switch's reason.
//!
//! A request to pay ("request money") is the switch's request-to-pay flow: the payee's bank
//! finds the payer's bank by the payer's proxy and asks it ([`Banks::request_money`]); the
//! payer's bank shows it to the customer whose proxy it was addressed to, who pays it — the
//! same steps, except that step 2 settles through `FlowService::pay_request` and the payee's
//! bank credits the account the request names — or declines it.
//!
//! Every step's id is derived from the payment's id ([`step_id`]), so running a payment again
//! — a resubmitted form, or [`Banks::recover`] after a crash — repeats nothing.

use std::sync::Arc;

use bauhinia_core::crypto::Vault;
use bauhinia_core::{Currency, Money};
use bauhinia_fps::flows::domain::{RequestAction, RequestStatus};
use bauhinia_fps::flows::wire::NewRequest;
use bauhinia_fps::flows::{FlowError, FlowService};
use bauhinia_fps::ledger::{Account, Journal, Kind, Ledger, LedgerError, Outcome, Transfer};
use bauhinia_fps::proxy::domain::{mask_name, LookupMode, LookupPurpose};
use bauhinia_fps::proxy::{ProxyError, ProxyService};
use bauhinia_fps::switch::{Caller, ParticipantCode, Switch, SwitchError};
use bauhinia_fps::wire::{format_id, Purpose};
use bauhinia_store::audit::{AuditEvent, Outcome as AuditOutcome};
use bauhinia_store::{Database, StoreError};

use crate::domain::{
    bank_of, own_account, request_payment_id, step_id, AccountKind, AccountNumber, Destination,
    Payee, PaymentState, Step, BANKS_LEDGER, CUSTOMER, FPS_POSITION, HISTORY_MAX, HOLD_TIMEOUT_S,
    VAULT_CASH,
};
use crate::store::{AccountRow, BankStore, NewAccount, PaymentRow, ProxyRow, RequestRow};

mod mandates;
pub use mandates::{Collection, MandateOrder, MandateView};

#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// Invalid input: the fields (JSON Pointers or form names) and why.
    #[error("invalid request")]
    Invalid(Vec<(String, String)>),
    #[error("no such account")]
    AccountNotFound,
    #[error("no proxy or account answers to this payee")]
    PayeeNotFound,
    #[error("this bank's books are not kept here")]
    NotHosted,
    #[error("this payment id was used for a different payment")]
    IdConflict,
    #[error("no such request to pay")]
    RequestNotFound,
    /// The request is no longer pending: its status.
    #[error("the request is {0}")]
    RequestState(&'static str),
    #[error("no such mandate")]
    MandateNotFound,
    /// The mandate's status does not allow it: why.
    #[error("{0}")]
    MandateState(String),
    #[error(transparent)]
    Flow(#[from] FlowError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("switch: {0}")]
    Switch(#[from] SwitchError),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("sealed data: {0}")]
    Crypto(#[from] bauhinia_core::crypto::CryptoError),
}

impl BankError {
    fn field(name: &str, why: &str) -> BankError {
        BankError::Invalid(vec![(name.to_owned(), why.to_owned())])
    }
}

/// An account with its balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    pub number: AccountNumber,
    pub bank: ParticipantCode,
    pub bank_name: String,
    pub kind: AccountKind,
    pub currency: Currency,
    /// Posted balance.
    pub balance: Money,
    /// What may be spent: the balance less holds.
    pub available: Money,
}

/// Who a payment would reach, before it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeePreview {
    pub bank: ParticipantCode,
    pub bank_name: String,
    pub masked_name: String,
    pub masked_address: String,
}

/// A customer's order.
#[derive(Debug, Clone)]
pub struct PaymentOrder {
    /// The customer's id for the order: the same order sent twice is made once.
    pub id: uuid::Uuid,
    pub from: AccountNumber,
    pub payee: Payee,
    pub amount: Money,
    pub reference: String,
}

/// A payment as its customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    pub id: String,
    pub account: String,
    pub outgoing: bool,
    pub state: PaymentState,
    pub counterparty_bank: String,
    pub counterparty_name: String,
    pub counterparty_address: String,
    pub amount: Money,
    pub purpose: String,
    pub reference: String,
    pub fps_transfer: String,
    pub reason: Option<String>,
    pub at_s: i64,
}

impl PaymentView {
    fn from_row(row: PaymentRow) -> Option<PaymentView> {
        let currency = Currency::parse(&row.currency)?;
        Some(PaymentView {
            outgoing: row.direction == "out",
            state: PaymentState::parse(&row.state)?,
            amount: Money::from_minor(row.amount, currency),
            id: row.id,
            account: row.account,
            counterparty_bank: row.counterparty_bank,
            counterparty_name: row.counterparty_name,
            counterparty_address: row.counterparty_address,
            purpose: row.purpose,
            reference: row.reference,
            fps_transfer: row.fps_transfer,
            reason: row.reason,
            at_s: row.updated_at_s,
        })
    }
}

/// A customer's request for money.
#[derive(Debug, Clone)]
pub struct RequestOrder {
    /// The customer's id for the request: the same request sent twice is made once.
    pub id: uuid::Uuid,
    /// The payee's own account, which the payment will credit.
    pub to: AccountNumber,
    /// Who is asked to pay: a proxy (mobile number, email address or FPS ID).
    pub payer: Payee,
    pub amount: Money,
    pub reference: String,
}

/// A request to pay, as the customer on either side sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestView {
    pub id: String,
    pub payee_bank: String,
    pub payee_name: String,
    /// The payee's account: in full for the payee, masked for the payer.
    pub payee_account: String,
    pub payer_bank: String,
    pub payer_name: String,
    /// The payer's proxy, masked.
    pub payer_address: String,
    pub amount: Money,
    pub reference: String,
    /// As the switch has it now.
    pub status: RequestStatus,
    pub at_s: i64,
}

/// A proxy registered through the bank, as its owner's list shows it.
pub type ProxyView = ProxyRow;

pub struct Banks {
    store: BankStore,
    ledger: Ledger,
    switch: Arc<Switch>,
    proxies: Arc<ProxyService>,
    flows: Arc<FlowService>,
    vault: Arc<Vault>,
}

impl std::fmt::Debug for Banks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Banks").finish_non_exhaustive()
    }
}

const SYSTEM: &str = "system:bank";
/// Unfinished payments recovered at a time.
const RECOVERY_BATCH: i64 = 1_000;
const PAYEE_SEAL_CONTEXT: &str = "bank-payee";

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn event(
    actor: &str,
    action: &'static str,
    subject: String,
    ok: bool,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action,
        subject,
        outcome: if ok {
            AuditOutcome::Success
        } else {
            AuditOutcome::Failure
        },
        detail,
        request_id: None,
    }
}

impl Banks {
    /// Starts the banks' ledger writer and makes sure every hosted bank's and customer's ledger
    /// account exists. Must be called inside the runtime, after migrations and the switch.
    pub async fn start(
        db: &Database,
        vault: Arc<Vault>,
        switch: Arc<Switch>,
        proxies: Arc<ProxyService>,
        flows: Arc<FlowService>,
    ) -> Result<Arc<Banks>, BankError> {
        let ledger = Ledger::start(Journal::open(db, BANKS_LEDGER)?, "banks").await?;
        let banks = Banks {
            store: BankStore::new(db),
            ledger,
            switch,
            proxies,
            flows,
            vault,
        };
        for code in banks.store.hosted().await? {
            if let Some(code) = ParticipantCode::parse(&code) {
                banks.ensure_own_accounts(code).await?;
            }
        }
        Ok(Arc::new(banks))
    }

    pub fn store(&self) -> &BankStore {
        &self.store
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Keeps `code`'s books here from now on. The participant must be registered at the switch.
    pub async fn host(&self, code: ParticipantCode, actor: &str) -> Result<(), BankError> {
        if self.switch.participant(code).is_none() {
            return Err(BankError::NotHosted);
        }
        self.ensure_own_accounts(code).await?;
        self.store.host(&code.as_str(), actor).await?;
        Ok(())
    }

    async fn ensure_own_accounts(&self, code: ParticipantCode) -> Result<(), BankError> {
        let existing = self.ledger.accounts().await?;
        let missing: Vec<Account> = [Currency::Hkd, Currency::Cny]
            .into_iter()
            .flat_map(|c| [(VAULT_CASH, c), (FPS_POSITION, c)])
            .map(|(kind, c)| Account::new(own_account(code, kind, c), c, kind, None))
            .filter(|a| !existing.iter().any(|e| e.id == a.id))
            .collect();
        if !missing.is_empty() {
            self.ledger.create_accounts(missing).await?;
        }
        Ok(())
    }

    pub async fn is_hosted(&self, code: ParticipantCode) -> Result<bool, BankError> {
        Ok(self.store.hosted().await?.contains(&code.as_str()))
    }

    /// The hosted banks, by code, with their names in English.
    pub async fn hosted(&self) -> Result<Vec<(ParticipantCode, String)>, BankError> {
        Ok(self
            .store
            .hosted()
            .await?
            .iter()
            .filter_map(|c| ParticipantCode::parse(c))
            .filter_map(|c| self.switch.participant(c).map(|p| (c, p.name_en.clone())))
            .collect())
    }

    /// Opens an account for `owner` (`resident:<id>`) at a hosted bank.
    pub async fn open_account(
        &self,
        bank: ParticipantCode,
        owner: &str,
        holder_name: &str,
        currency: Currency,
        kind: AccountKind,
        actor: &str,
    ) -> Result<AccountNumber, BankError> {
        if !self.is_hosted(bank).await? {
            return Err(BankError::NotHosted);
        }
        mask_name(holder_name).map_err(|why| BankError::field("holder_name", why))?;
        let new = NewAccount {
            bank,
            owner: owner.to_owned(),
            holder_name: holder_name.to_owned(),
            currency: currency.code(),
            kind: kind.as_str(),
        };
        let number = self.store.insert_account(&new, actor).await?;
        self.ledger
            .create_accounts(vec![Account::new(
                number.ledger_id(),
                currency,
                CUSTOMER,
                Some(0),
            )])
            .await?;
        Ok(number)
    }

    /// A cash deposit at the counter: the bank's vault cash to the customer's account. `id`
    /// makes it idempotent.
    pub async fn deposit(
        &self,
        id: uuid::Uuid,
        number: &AccountNumber,
        amount: Money,
        actor: &str,
    ) -> Result<Outcome, BankError> {
        let account = self.account_row(number).await?;
        if account.currency != amount.currency.code() {
            return Err(BankError::field("currency", "not the account's currency"));
        }
        if amount.minor <= 0 {
            return Err(BankError::field("amount", "must be more than zero"));
        }
        let transfer = Transfer {
            id: id.as_u128(),
            debit_account: own_account(number.bank(), VAULT_CASH, amount.currency),
            credit_account: number.ledger_id(),
            amount: amount.minor,
            currency: amount.currency,
            kind: Kind::Single,
            linked: false,
            code: 0,
            user_data: 0,
            reference: "cash deposit".to_owned(),
        };
        let outcome = self.submit_book(transfer, actor).await?;
        if matches!(outcome, Outcome::Created { .. } | Outcome::Refused(_)) {
            let e = event(
                actor,
                "bank.deposit",
                account.owner.clone(),
                matches!(outcome, Outcome::Created { .. }),
                serde_json::json!({
                    "id": id.to_string(),
                    "account": number.to_string(),
                    "amount": amount.to_decimal_string(),
                    "currency": amount.currency.code(),
                }),
            );
            self.store.db().append_audit(&e).await?;
        }
        Ok(outcome)
    }

    async fn account_row(&self, number: &AccountNumber) -> Result<AccountRow, BankError> {
        self.store
            .account(number)
            .await?
            .filter(|a| a.status == "open")
            .ok_or(BankError::AccountNotFound)
    }

    /// `owner`'s account `number`, or `AccountNotFound` (also for someone else's account).
    async fn own_account_row(
        &self,
        owner: &str,
        number: &AccountNumber,
    ) -> Result<AccountRow, BankError> {
        let account = self.account_row(number).await?;
        if account.owner == owner {
            Ok(account)
        } else {
            Err(BankError::AccountNotFound)
        }
    }

    /// `owner`'s accounts with their balances.
    pub async fn accounts_of(&self, owner: &str) -> Result<Vec<AccountView>, BankError> {
        let rows = self.store.accounts_of(owner).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (Some(number), Some(currency), Some(kind)) = (
                AccountNumber::parse(&row.number),
                Currency::parse(&row.currency),
                AccountKind::parse(&row.kind),
            ) else {
                return Err(StoreError::Corrupt(format!("bank account {}", row.number)).into());
            };
            let balances = self.store.balances(&[number.ledger_id()]).await?;
            let (balance, held) = balances.first().map(|(_, b, h)| (*b, *h)).unwrap_or((0, 0));
            out.push(AccountView {
                bank_name: self.bank_name(number.bank()),
                bank: number.bank(),
                number,
                kind,
                currency,
                balance: Money::from_minor(balance, currency),
                available: Money::from_minor(balance.saturating_sub(held), currency),
            });
        }
        Ok(out)
    }

    fn bank_name(&self, code: ParticipantCode) -> String {
        self.switch
            .participant(code)
            .map(|p| p.name_en.clone())
            .unwrap_or_default()
    }

    /// Who `payee` is, as `from`'s bank may see it: the bank and the masked name.
    pub async fn preview(
        &self,
        owner: &str,
        from: &AccountNumber,
        payee: &Payee,
    ) -> Result<PayeePreview, BankError> {
        self.own_account_row(owner, from).await?;
        self.resolve(from.bank(), payee).await
    }

    async fn resolve(
        &self,
        bank: ParticipantCode,
        payee: &Payee,
    ) -> Result<PayeePreview, BankError> {
        match payee {
            Payee::Proxy(key) => {
                let found = self
                    .proxies
                    .lookup(bank, key, LookupPurpose::P2p, LookupMode::Single)
                    .await?
                    .ok_or(BankError::PayeeNotFound)?;
                Ok(PayeePreview {
                    bank: found.participant,
                    bank_name: found.participant_name,
                    masked_name: found.masked_name,
                    masked_address: key.masked(),
                })
            }
            Payee::Account(number) => {
                let account = self
                    .store
                    .account(number)
                    .await?
                    .filter(|a| a.status == "open")
                    .ok_or(BankError::PayeeNotFound)?;
                Ok(PayeePreview {
                    bank: number.bank(),
                    bank_name: self.bank_name(number.bank()),
                    masked_name: mask_name(&account.holder_name).unwrap_or_default(),
                    masked_address: number.masked(),
                })
            }
        }
    }

    /// `owner`'s account `number`, with `amount` checked against it and `reference` checked.
    async fn checked_order(
        &self,
        owner: &str,
        number: &AccountNumber,
        amount: Money,
        reference: &str,
    ) -> Result<(AccountRow, String), BankError> {
        let account = self.own_account_row(owner, number).await?;
        if account.currency != amount.currency.code() {
            return Err(BankError::field("currency", "not the account's currency"));
        }
        if amount.minor <= 0 {
            return Err(BankError::field("amount", "must be more than zero"));
        }
        let reference = crate::domain::reference(reference)
            .map_err(|why| BankError::field("reference", why))?;
        Ok((account, reference))
    }

    /// Asks the owner of the proxy `order.payer` for money, to be paid into `order.to` (the
    /// asking customer's own account): the payee's bank finds the payer's bank by the proxy
    /// and makes the request at the switch. The same order (same id) sent again gets the same
    /// request.
    pub async fn request_money(
        &self,
        owner: &str,
        order: RequestOrder,
        actor: &str,
    ) -> Result<RequestView, BankError> {
        let id = order.id.hyphenated().to_string();
        let (account, reference) = self
            .checked_order(owner, &order.to, order.amount, &order.reference)
            .await?;
        if let Some(existing) = self.store.request(&id).await? {
            let same = existing.payee_account == account.number
                && existing.amount == order.amount.minor
                && existing.currency == order.amount.currency.code();
            return if same {
                self.request_view(existing, true).await
            } else {
                Err(BankError::IdConflict)
            };
        }
        let Payee::Proxy(key) = &order.payer else {
            return Err(BankError::field(
                "payer",
                "must be a mobile number, email address or FPS ID",
            ));
        };
        let bank = order.to.bank();
        let found = self
            .proxies
            .lookup(bank, key, LookupPurpose::P2p, LookupMode::Single)
            .await?
            .ok_or(BankError::PayeeNotFound)?;
        if found.participant == bank {
            // The switch carries requests between two banks; within one bank, a customer
            // would be asking their own bank.
            return Err(BankError::field(
                "payer",
                "banks with the same bank as this account; ask from an account at another bank",
            ));
        }
        let payee_masked_name = mask_name(&account.holder_name).unwrap_or_default();
        let new = NewRequest {
            id: order.id.as_u128(),
            payer: found.participant,
            amount: order.amount,
            reference: reference.clone(),
            expires_at_s: None,
            payee_masked_name,
        };
        let made = self.flows.create_request(bank, new, now_s()).await?;
        let row = RequestRow {
            id: made.view.id,
            payee_account: account.number.clone(),
            payer_bank: found.participant.as_str(),
            payer_hash: self.proxies.key_hash(key).to_vec(),
            payer_masked_name: found.masked_name,
            payer_address: key.masked(),
            currency: order.amount.currency.code().to_owned(),
            amount: order.amount.minor,
            reference,
            created_at_s: now_s(),
        };
        let e = event(
            actor,
            "bank.request.create",
            owner.to_owned(),
            true,
            serde_json::json!({
                "request": row.id,
                "account": row.payee_account,
                "payer_bank": row.payer_bank,
                "payer": row.payer_address,
                "amount": order.amount.to_decimal_string(),
                "currency": row.currency,
            }),
        );
        self.store.insert_request(&row, &e).await?;
        let stored = self.store.request(&row.id).await?.unwrap_or(row);
        self.request_view(stored, true).await
    }

    /// A request as one side sees it, with its status as the switch has it now.
    async fn request_view(&self, row: RequestRow, payee: bool) -> Result<RequestView, BankError> {
        let corrupt = || StoreError::Corrupt(format!("bank request {}", row.id));
        let (Some(account), Some(payer_bank), Some(currency)) = (
            AccountNumber::parse(&row.payee_account),
            ParticipantCode::parse(&row.payer_bank),
            Currency::parse(&row.currency),
        ) else {
            return Err(corrupt().into());
        };
        let caller = if payee { account.bank() } else { payer_bank };
        let live = self.flows.request(caller, &row.id, now_s()).await?;
        let status = RequestStatus::parse(&live.status).ok_or_else(corrupt)?;
        Ok(RequestView {
            payee_bank: account.bank().as_str(),
            payee_name: live.payee_masked_name,
            payee_account: if payee {
                account.to_string()
            } else {
                account.masked()
            },
            payer_bank: row.payer_bank,
            payer_name: row.payer_masked_name,
            payer_address: row.payer_address,
            amount: Money::from_minor(row.amount, currency),
            reference: row.reference,
            status,
            at_s: row.created_at_s,
            id: row.id,
        })
    }

    /// The pending requests addressed to a proxy `owner` registered through a hosted bank,
    /// newest first.
    pub async fn requests_for(&self, owner: &str) -> Result<Vec<RequestView>, BankError> {
        let mut out = Vec::new();
        for row in self.store.requests_to(owner, None, HISTORY_MAX).await? {
            let view = self.request_view(row, false).await?;
            if view.status == RequestStatus::Pending {
                out.push(view);
            }
        }
        Ok(out)
    }

    /// The requests `owner` made, newest first, with their status.
    pub async fn requests_made(&self, owner: &str) -> Result<Vec<RequestView>, BankError> {
        let mut out = Vec::new();
        for row in self.store.requests_made(owner, HISTORY_MAX).await? {
            out.push(self.request_view(row, true).await?);
        }
        Ok(out)
    }

    /// The request `id`, if it was addressed to one of `owner`'s proxies.
    async fn request_to(&self, owner: &str, id: &str) -> Result<RequestRow, BankError> {
        self.store
            .requests_to(owner, Some(id), 1)
            .await?
            .into_iter()
            .next()
            .ok_or(BankError::RequestNotFound)
    }

    /// Pays a request addressed to `owner` from `from`, an account of theirs at the bank the
    /// request was sent to. Paying the same request from the same account again answers the
    /// same payment.
    pub async fn pay_request(
        &self,
        owner: &str,
        request_id: &str,
        from: &AccountNumber,
        actor: &str,
    ) -> Result<PaymentView, BankError> {
        let request = self.request_to(owner, request_id).await?;
        let Some(currency) = Currency::parse(&request.currency) else {
            return Err(StoreError::Corrupt(format!("bank request {}", request.id)).into());
        };
        if from.bank().as_str() != request.payer_bank {
            return Err(BankError::field(
                "from",
                "must be an account at the bank the request was sent to",
            ));
        }
        let amount = Money::from_minor(request.amount, currency);
        let (_, reference) = self
            .checked_order(owner, from, amount, &request.reference)
            .await?;
        let id = request_payment_id(&request.id, from);
        if let Some(existing) = self.store.payment(&id.hyphenated().to_string()).await? {
            return self.payment_view(existing);
        }
        let view = self.request_view(request.clone(), false).await?;
        if view.status != RequestStatus::Pending {
            return Err(BankError::RequestState(view.status.as_str()));
        }
        let payee = PayeePreview {
            bank: ParticipantCode::parse(&view.payee_bank).ok_or(BankError::RequestNotFound)?,
            bank_name: String::new(),
            masked_name: view.payee_name,
            masked_address: view.payee_account,
        };
        let purpose = Purpose::RequestToPay;
        let row = outgoing(id, from, &payee, amount, purpose, reference);
        let destination = Destination::Request(request.id);
        self.order(owner, row, destination, purpose, actor).await
    }

    /// Declines a pending request addressed to `owner`.
    pub async fn decline_request(
        &self,
        owner: &str,
        request_id: &str,
        actor: &str,
    ) -> Result<RequestView, BankError> {
        let request = self.request_to(owner, request_id).await?;
        let bank = ParticipantCode::parse(&request.payer_bank)
            .ok_or_else(|| StoreError::Corrupt(format!("bank request {}", request.id)))?;
        let declined = self
            .flows
            .move_request(bank, &request.id, RequestAction::Decline, now_s())
            .await;
        if let Err(FlowError::State(..)) = declined {
            let view = self.request_view(request, false).await?;
            return Err(BankError::RequestState(view.status.as_str()));
        }
        declined?;
        let e = event(
            actor,
            "bank.request.decline",
            owner.to_owned(),
            true,
            serde_json::json!({ "request": request.id, "payer_bank": request.payer_bank }),
        );
        self.store.db().append_audit(&e).await?;
        self.request_view(request, false).await
    }

    /// Makes a customer's payment through FPS. A refused payment is an answer, not an error:
    /// the view says `failed` and why. The same order (same id) sent again gets the same
    /// payment; a different order under a used id is `IdConflict`.
    pub async fn pay(
        &self,
        owner: &str,
        order: PaymentOrder,
        actor: &str,
    ) -> Result<PaymentView, BankError> {
        if let Some(existing) = self.ordered(order.id, &order.from, order.amount).await? {
            return existing;
        }
        let (_, reference) = self
            .checked_order(owner, &order.from, order.amount, &order.reference)
            .await?;
        let payee = self.resolve(order.from.bank(), &order.payee).await?;
        if let Payee::Account(number) = &order.payee {
            if *number == order.from {
                return Err(BankError::field("payee", "the paying account itself"));
            }
        }
        let purpose = if payee.bank.as_str() == crate::demo::ECNY_OPERATOR
            && order.amount.currency == Currency::Cny
        {
            Purpose::EcnyTopUp
        } else {
            Purpose::P2p
        };
        let row = outgoing(
            order.id,
            &order.from,
            &payee,
            order.amount,
            purpose,
            reference,
        );
        self.order(owner, row, Destination::Payee(order.payee), purpose, actor)
            .await
    }

    /// Records a payment out (its destination sealed to it) and runs it.
    async fn order(
        &self,
        owner: &str,
        mut row: PaymentRow,
        destination: Destination,
        purpose: Purpose,
        actor: &str,
    ) -> Result<PaymentView, BankError> {
        let id = row.id.clone();
        row.payee_sealed = Some(self.vault.seal(
            &format!("{PAYEE_SEAL_CONTEXT}:{id}"),
            destination.to_sealable().as_bytes(),
        )?);
        let (request, mandate) = match &destination {
            Destination::Request(request) => (Some(request.clone()), None),
            Destination::Debit(mandate) => (None, Some(mandate.clone())),
            Destination::Payee(_) => (None, None),
        };
        let ordered = event(
            actor,
            "bank.payment.order",
            owner.to_owned(),
            true,
            serde_json::json!({
                "payment": id,
                "account": row.account,
                "payee_bank": row.counterparty_bank,
                "payee": row.counterparty_address,
                "amount": amount_text(row.amount, &row.currency),
                "currency": row.currency,
                "request": request,
                "mandate": mandate,
            }),
        );
        if !self.store.insert_payment(&row, &ordered).await? {
            // Another submission of the same id won the race: answer as it did.
            return match self.store.payment(&id).await? {
                Some(existing) => self.payment_view(existing),
                None => Err(BankError::IdConflict),
            };
        }
        self.drive(row, destination, purpose, actor).await
    }

    /// The payment out already ordered under `id`, if any: the same order (account, amount)
    /// answered as it stands, another one an `IdConflict`.
    async fn ordered(
        &self,
        id: uuid::Uuid,
        from: &AccountNumber,
        amount: Money,
    ) -> Result<Option<Result<PaymentView, BankError>>, BankError> {
        let Some(existing) = self.store.payment(&id.hyphenated().to_string()).await? else {
            return Ok(None);
        };
        let same = existing.account == from.to_string()
            && existing.amount == amount.minor
            && existing.currency == amount.currency.code()
            && existing.direction == "out";
        Ok(Some(if same {
            self.payment_view(existing)
        } else {
            Err(BankError::IdConflict)
        }))
    }

    fn payment_view(&self, row: PaymentRow) -> Result<PaymentView, BankError> {
        let id = row.id.clone();
        PaymentView::from_row(row)
            .ok_or_else(|| StoreError::Corrupt(format!("bank payment {id}")).into())
    }

    /// Runs (or re-runs) an initiated payment to its end.
    async fn drive(
        &self,
        row: PaymentRow,
        destination: Destination,
        purpose: Purpose,
        actor: &str,
    ) -> Result<PaymentView, BankError> {
        let (Some(from), Some(currency), Ok(payment)) = (
            AccountNumber::parse(&row.account),
            Currency::parse(&row.currency),
            uuid::Uuid::try_parse(&row.id),
        ) else {
            return Err(StoreError::Corrupt(format!("bank payment {}", row.id)).into());
        };
        let Some(payee_bank) = ParticipantCode::parse(&row.counterparty_bank) else {
            return Err(StoreError::Corrupt(format!("bank payment {}", row.id)).into());
        };
        let bank = from.bank();
        let position = own_account(bank, FPS_POSITION, currency);
        let step = |s| step_id(bank, payment, s);
        let book = |id, debit, credit, kind| Transfer {
            id,
            debit_account: debit,
            credit_account: credit,
            amount: row.amount,
            currency,
            kind,
            linked: false,
            code: purpose.code(),
            user_data: payment.as_u128(),
            reference: row.reference.clone(),
        };

        // 1. Hold the amount on the payer's account.
        let hold = book(
            step(Step::Hold),
            from.ledger_id(),
            position,
            Kind::Pending {
                timeout_s: HOLD_TIMEOUT_S,
            },
        );
        if let Err(refusal) = self.submit_book(hold, actor).await?.result() {
            let reason = match refusal {
                Some(bauhinia_fps::ledger::Refusal::ExceedsDebitCap) => "insufficient_funds",
                Some(r) => r.code(),
                None => "id_conflict",
            };
            return self
                .finish(&row, PaymentState::Failed, Some(reason), actor)
                .await;
        }

        // 2. Settle between the two banks at the switch: a transfer, or the request paid.
        let settled = match &destination {
            Destination::Payee(_) => {
                let settle = Transfer {
                    id: step(Step::Switch),
                    debit_account: bank.settlement_account(currency),
                    credit_account: payee_bank.settlement_account(currency),
                    amount: row.amount,
                    currency,
                    kind: Kind::Single,
                    linked: false,
                    code: purpose.code(),
                    user_data: 0,
                    reference: row.reference.clone(),
                };
                self.settle_transfer(bank, settle).await?
            }
            Destination::Request(request) => {
                self.settle_request(bank, request, step(Step::Switch))
                    .await?
            }
            Destination::Debit(mandate) => {
                self.settle_debit(payee_bank, mandate, &row, step(Step::Switch))
                    .await?
            }
        };
        match settled {
            Ok(()) => {}
            Err(reason) => {
                let release = book(
                    step(Step::Release),
                    0,
                    0,
                    Kind::Void {
                        pending_id: step(Step::Hold),
                    },
                );
                let _ = self.submit_book(release, actor).await?;
                return self
                    .finish(&row, PaymentState::Failed, Some(reason), actor)
                    .await;
            }
        }

        // 3. Post the hold, and credit the payee at a hosted bank.
        let post = book(
            step(Step::Post),
            0,
            0,
            Kind::Post {
                pending_id: step(Step::Hold),
            },
        );
        if let Err(refusal) = self.submit_book(post, actor).await?.result() {
            // The hold timed out while the bank was down, after the switch had settled: the
            // money has left the bank; the customer is debited directly.
            tracing::warn!(payment = %row.id, ?refusal, "hold not posted; debiting directly");
            let debit = book(step(Step::Debit), from.ledger_id(), position, Kind::Single);
            if let Err(refusal) = self.submit_book(debit, actor).await?.result() {
                tracing::error!(payment = %row.id, ?refusal, "the payer could not be debited after settlement");
            }
        }
        if self.is_hosted(payee_bank).await? {
            let payee = match destination {
                Destination::Payee(payee) => payee,
                Destination::Request(request) => Payee::Account(
                    self.store
                        .request(&request)
                        .await?
                        .and_then(|r| AccountNumber::parse(&r.payee_account))
                        .ok_or_else(|| StoreError::Corrupt(format!("bank request {request}")))?,
                ),
                Destination::Debit(mandate) => Payee::Account(
                    self.store
                        .mandate_link(&mandate)
                        .await?
                        .and_then(|m| AccountNumber::parse(&m.creditor_account))
                        .ok_or_else(|| StoreError::Corrupt(format!("bank mandate {mandate}")))?,
                ),
            };
            let payer_name = self
                .store
                .account(&from)
                .await?
                .map(|a| mask_name(&a.holder_name).unwrap_or_default())
                .unwrap_or_default();
            self.receive(payee_bank, &row, &payee, &payer_name, purpose, actor)
                .await?;
        }
        self.finish(&row, PaymentState::Settled, None, actor).await
    }

    /// Step 2 of a payment to a payee: the transfer at the switch; a refusal's reason.
    async fn settle_transfer(
        &self,
        bank: ParticipantCode,
        settle: Transfer,
    ) -> Result<Result<(), &'static str>, BankError> {
        let settled = match self
            .switch
            .submit(vec![settle], Caller::Participant(bank))
            .await
        {
            Ok(outcomes) => outcomes.into_iter().next().map(Outcome::result),
            Err(SwitchError::Inadmissible(_)) => Some(Err(None)),
            Err(other) => return Err(other.into()),
        };
        Ok(match settled {
            Some(Ok(_)) => Ok(()),
            Some(Err(Some(bauhinia_fps::ledger::Refusal::ExceedsDebitCap))) => {
                Err("payer_bank_liquidity")
            }
            Some(Err(Some(r))) => Err(r.code()),
            _ => Err("payee_bank_unavailable"),
        })
    }

    /// Step 2 of a payment of a request: the payer's bank pays it at the switch with the
    /// transfer `transfer` (a retry with the same id answers, or finishes, the same payment).
    async fn settle_request(
        &self,
        bank: ParticipantCode,
        request: &str,
        transfer: bauhinia_fps::ledger::Id,
    ) -> Result<Result<(), &'static str>, BankError> {
        let cap = bauhinia_fps::ledger::Refusal::ExceedsDebitCap.code();
        match self
            .flows
            .pay_request(bank, request, transfer, now_s())
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(FlowError::Refused(code, _)) if code == cap => Ok(Err("payer_bank_liquidity")),
            Err(FlowError::Refused(code, _)) => Ok(Err(code)),
            Err(FlowError::State(..) | FlowError::Forbidden(_) | FlowError::NotFound(_)) => {
                Ok(Err("request_not_pending"))
            }
            Err(FlowError::TransferIdConflict) => Ok(Err("id_conflict")),
            Err(FlowError::Switch(SwitchError::Inadmissible(_))) => {
                Ok(Err("payee_bank_unavailable"))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The payee's bank credits its customer for a settled payment.
    async fn receive(
        &self,
        bank: ParticipantCode,
        payment: &PaymentRow,
        payee: &Payee,
        payer_name: &str,
        purpose: Purpose,
        actor: &str,
    ) -> Result<(), BankError> {
        let account = match payee {
            Payee::Account(number) => Some(number.clone()),
            Payee::Proxy(key) => self
                .proxies
                .lookup(bank, key, LookupPurpose::P2p, LookupMode::Single)
                .await?
                .filter(|f| f.participant == bank)
                .and_then(|f| f.account)
                .and_then(|a| AccountNumber::parse(&a)),
        };
        let Some(account) = account.filter(|a| a.bank() == bank) else {
            tracing::error!(payment = %payment.id, %bank, "the payee's account is not at the payee's bank");
            return Ok(());
        };
        let Some(currency) = Currency::parse(&payment.currency) else {
            return Err(StoreError::Corrupt(format!("bank payment {}", payment.id)).into());
        };
        let fps_id = bauhinia_fps::wire::parse_id(&payment.fps_transfer)
            .ok_or_else(|| StoreError::Corrupt(format!("bank payment {}", payment.id)))?;
        let incoming = uuid::Uuid::from_u128(fps_id);
        let credit = Transfer {
            id: step_id(bank, incoming, Step::Credit),
            debit_account: own_account(bank, FPS_POSITION, currency),
            credit_account: account.ledger_id(),
            amount: payment.amount,
            currency,
            kind: Kind::Single,
            linked: false,
            code: purpose.code(),
            user_data: fps_id,
            reference: payment.reference.clone(),
        };
        if let Err(refusal) = self.submit_book(credit, actor).await?.result() {
            tracing::error!(payment = %payment.id, ?refusal, "the payee could not be credited");
            return Ok(());
        }
        let Some(owner) = self.store.account(&account).await?.map(|a| a.owner) else {
            return Ok(());
        };
        let payer = AccountNumber::parse(&payment.account)
            .map(|n| n.masked())
            .unwrap_or_default();
        let at = now_s();
        let row = PaymentRow {
            id: format_id(step_id(bank, incoming, Step::Credit)),
            account: account.to_string(),
            direction: "in".to_owned(),
            state: PaymentState::Settled.as_str().to_owned(),
            counterparty_bank: payment.account.get(..3).unwrap_or_default().to_owned(),
            counterparty_name: payer_name.to_owned(),
            counterparty_address: payer,
            payee_sealed: None,
            currency: payment.currency.clone(),
            amount: payment.amount,
            purpose: payment.purpose.clone(),
            reference: payment.reference.clone(),
            fps_transfer: payment.fps_transfer.clone(),
            reason: None,
            created_at_s: at,
            updated_at_s: at,
        };
        let received = event(
            actor,
            "bank.payment.receive",
            owner,
            true,
            serde_json::json!({
                "payment": row.id,
                "account": row.account,
                "fps_transfer": row.fps_transfer,
                "amount": Money::from_minor(row.amount, currency).to_decimal_string(),
                "currency": row.currency,
            }),
        );
        self.store.insert_payment(&row, &received).await?;
        Ok(())
    }

    async fn finish(
        &self,
        row: &PaymentRow,
        state: PaymentState,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<PaymentView, BankError> {
        let owner = self
            .store
            .account(&AccountNumber::parse(&row.account).ok_or(BankError::AccountNotFound)?)
            .await?
            .map(|a| a.owner)
            .unwrap_or_default();
        let e = event(
            actor,
            "bank.payment.finish",
            owner,
            state == PaymentState::Settled,
            serde_json::json!({
                "payment": row.id,
                "state": state.as_str(),
                "reason": reason,
                "fps_transfer": row.fps_transfer,
            }),
        );
        self.store
            .finish_payment(&row.id, state, reason, &e)
            .await?;
        match self.store.payment(&row.id).await? {
            Some(done) => self.payment_view(done),
            None => Err(BankError::IdConflict),
        }
    }

    /// Submits one transfer to the banks' ledger; both accounts must belong to one bank.
    async fn submit_book(&self, transfer: Transfer, actor: &str) -> Result<Outcome, BankError> {
        // The books of different banks never touch: money between banks moves at the switch.
        let resolvable = matches!(transfer.kind, Kind::Post { .. } | Kind::Void { .. })
            && transfer.debit_account == 0;
        debug_assert!(
            resolvable || bank_of(transfer.debit_account) == bank_of(transfer.credit_account)
        );
        if !resolvable && bank_of(transfer.debit_account) != bank_of(transfer.credit_account) {
            return Err(BankError::field(
                "account",
                "a transfer between two banks' books",
            ));
        }
        let outcome = self
            .ledger
            .submit(vec![transfer], actor.to_owned())
            .await?
            .into_iter()
            .next()
            .ok_or(LedgerError::Stopped)?;
        Ok(outcome)
    }

    /// Finishes every payment left initiated (a crash between steps). Returns how many.
    pub async fn recover(&self) -> Result<usize, BankError> {
        let mut done = 0;
        for row in self.store.unfinished(RECOVERY_BATCH).await? {
            let payee = row
                .payee_sealed
                .as_deref()
                .map(|sealed| {
                    self.vault
                        .open(&format!("{PAYEE_SEAL_CONTEXT}:{}", row.id), sealed)
                })
                .transpose()?
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| Destination::from_sealable(&text));
            let Some(destination) = payee else {
                tracing::error!(payment = %row.id, "an unfinished payment without its payee");
                continue;
            };
            let purpose = purpose_from_name(&row.purpose);
            self.drive(row, destination, purpose, SYSTEM).await?;
            done += 1;
        }
        Ok(done)
    }

    /// `owner`'s payments, out and in, newest first.
    pub async fn history(&self, owner: &str) -> Result<Vec<PaymentView>, BankError> {
        self.store
            .history(owner, HISTORY_MAX)
            .await?
            .into_iter()
            .map(|row| self.payment_view(row))
            .collect()
    }

    /// One of `owner`'s payments.
    pub async fn payment(&self, owner: &str, id: &str) -> Result<Option<PaymentView>, BankError> {
        let Some(row) = self.store.payment(id).await? else {
            return Ok(None);
        };
        let Some(number) = AccountNumber::parse(&row.account) else {
            return Ok(None);
        };
        if self
            .store
            .account(&number)
            .await?
            .map(|a| a.owner)
            .as_deref()
            != Some(owner)
        {
            return Ok(None);
        }
        self.payment_view(row).map(Some)
    }

    /// Registers `key` for `owner`'s account at its bank, with the owner's consent given now in
    /// the bank's app.
    pub async fn register_proxy(
        &self,
        owner: &str,
        number: &AccountNumber,
        kind: bauhinia_fps::proxy::domain::ProxyKind,
        key: Option<bauhinia_fps::proxy::domain::ProxyKey>,
        consent_version: &str,
        set_default: bool,
    ) -> Result<bauhinia_fps::proxy::Registered, BankError> {
        use bauhinia_fps::proxy::domain::{AccountReference, Consent, ConsentChannel};
        let account = self.own_account_row(owner, number).await?;
        let now = now_s();
        let consent = Consent::new(now, consent_version, ConsentChannel::MobileApp, now)
            .map_err(|(field, why)| BankError::field(&format!("consent.{field}"), why))?;
        let reference = AccountReference::parse(&number.to_string())
            .map_err(|why| BankError::field("account", why))?;
        let registered = self
            .proxies
            .register(
                number.bank(),
                bauhinia_fps::proxy::Registration {
                    kind,
                    key,
                    account: reference,
                    display_name: account.holder_name.clone(),
                    consent,
                    set_default,
                },
            )
            .await?;
        let hash = self.proxies.key_hash(&registered.key);
        self.store
            .insert_proxy(
                &account.number,
                kind.as_str(),
                &hash,
                &registered.key.masked(),
            )
            .await?;
        Ok(registered)
    }

    /// Whether `key` was registered through the bank for `account`.
    pub async fn has_proxy(
        &self,
        account: &AccountNumber,
        key: &bauhinia_fps::proxy::domain::ProxyKey,
    ) -> Result<bool, BankError> {
        let hash = self.proxies.key_hash(key);
        Ok(self.store.has_proxy(&account.to_string(), &hash).await?)
    }

    /// The proxies `owner` registered through the banks.
    pub async fn proxies_of(&self, owner: &str) -> Result<Vec<ProxyView>, BankError> {
        Ok(self.store.proxies_of(owner).await?)
    }
}

fn purpose_name(p: Purpose) -> &'static str {
    match p {
        Purpose::EcnyTopUp => "ecny_top_up",
        Purpose::P2m => "p2m",
        Purpose::RequestToPay => "request_to_pay",
        Purpose::DirectDebit => "direct_debit",
        _ => "p2p",
    }
}

fn purpose_from_name(name: &str) -> Purpose {
    match name {
        "ecny_top_up" => Purpose::EcnyTopUp,
        "p2m" => Purpose::P2m,
        "request_to_pay" => Purpose::RequestToPay,
        "direct_debit" => Purpose::DirectDebit,
        _ => Purpose::P2p,
    }
}

fn amount_text(minor: i64, currency: &str) -> String {
    Currency::parse(currency)
        .map(|c| Money::from_minor(minor, c).to_decimal_string())
        .unwrap_or_default()
}

/// A payment out, initiated: `id` from `from` to `payee`, settled at the switch as the
/// transfer derived from `id`. Its destination is sealed to it when it is ordered.
fn outgoing(
    id: uuid::Uuid,
    from: &AccountNumber,
    payee: &PayeePreview,
    amount: Money,
    purpose: Purpose,
    reference: String,
) -> PaymentRow {
    let at = now_s();
    PaymentRow {
        id: id.hyphenated().to_string(),
        account: from.to_string(),
        direction: "out".to_owned(),
        state: PaymentState::Initiated.as_str().to_owned(),
        counterparty_bank: payee.bank.as_str(),
        counterparty_name: payee.masked_name.clone(),
        counterparty_address: payee.masked_address.clone(),
        payee_sealed: None,
        currency: amount.currency.code().to_owned(),
        amount: amount.minor,
        purpose: purpose_name(purpose).to_owned(),
        reference,
        fps_transfer: format_id(step_id(from.bank(), id, Step::Switch)),
        reason: None,
        created_at_s: at,
        updated_at_s: at,
    }
}

impl From<BankError> for bauhinia_core::Problem {
    fn from(error: BankError) -> bauhinia_core::Problem {
        use bauhinia_core::{ErrorCode, FieldError, Problem};
        match error {
            BankError::Invalid(errors) => Problem::new(ErrorCode::BankInvalid).errors(
                errors
                    .into_iter()
                    .map(|(field, why)| FieldError::new(format!("/{field}"), why))
                    .collect(),
            ),
            BankError::AccountNotFound => Problem::new(ErrorCode::BankAccountNotFound),
            BankError::PayeeNotFound => Problem::new(ErrorCode::BankPayeeNotFound),
            BankError::NotHosted => Problem::new(ErrorCode::BankNotHosted),
            BankError::IdConflict => Problem::new(ErrorCode::BankPaymentIdConflict),
            BankError::RequestNotFound => Problem::new(ErrorCode::BankRequestNotFound),
            e @ BankError::RequestState(_) => {
                Problem::new(ErrorCode::BankRequestState).detail(e.to_string())
            }
            BankError::MandateNotFound => Problem::new(ErrorCode::BankMandateNotFound),
            BankError::MandateState(why) => Problem::new(ErrorCode::BankMandateState).detail(why),
            BankError::Flow(e) => Problem::from(e),
            BankError::Proxy(e) => Problem::from(e),
            BankError::Store(StoreError::Sqlx(sqlx::Error::PoolTimedOut)) => {
                Problem::new(ErrorCode::StoreUnavailable)
            }
            BankError::Ledger(_) => Problem::new(ErrorCode::FpsLedgerUnavailable),
            other => Problem::internal(&other),
        }
    }
}
