//! eDDA on the hosted banks: a customer's mandates on the switch's `FlowService` — a standard
//! mandate the customer sets up at their (the debtor's) bank, a simplified one the creditor's
//! bank proposes and the customer confirms or rejects, suspend, resume and cancel — and the
//! collection under a mandate, made by the creditor's bank: hold on the debtor's account at the
//! debtor's bank, the direct debit at the switch, post, credit the creditor's account. A
//! collection is a payment like any other (its steps' ids derived from its id, finished by
//! `recover`), in both customers' histories.

use bauhinia_core::{Currency, Money};
use bauhinia_fps::flows::domain::{MandateAction, MandateKind, MandateStatus, Period};
use bauhinia_fps::flows::wire::{NewDebit, NewMandate};
use bauhinia_fps::flows::FlowError;
use bauhinia_fps::proxy::domain::mask_name;
use bauhinia_fps::proxy::AccountReference;
use bauhinia_fps::switch::ParticipantCode;
use bauhinia_fps::wire::Purpose;
use bauhinia_store::StoreError;

use super::{event, now_s, outgoing, BankError, Banks, PayeePreview, PaymentView};
use crate::domain::{AccountNumber, Destination, HISTORY_MAX};
use crate::store::MandateLink;

/// A mandate on `debtor` (a customer's account) for `creditor` (an account at another bank):
/// at most `per_debit` a debit and `monthly` a Hong Kong calendar month.
#[derive(Debug, Clone)]
pub struct MandateOrder {
    /// The id of the mandate (a UUID): the same order sent twice sets it up once.
    pub id: uuid::Uuid,
    pub debtor: AccountNumber,
    pub creditor: AccountNumber,
    pub per_debit: Money,
    pub monthly: Money,
}

/// A mandate as its debtor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateView {
    pub id: String,
    pub kind: MandateKind,
    pub status: MandateStatus,
    pub debtor_account: String,
    pub creditor_bank: String,
    pub creditor_name: String,
    /// The creditor's account, masked.
    pub creditor_account: String,
    pub per_debit: Money,
    pub monthly: Money,
    pub at_s: i64,
}

/// A collection under a mandate, by the creditor's bank.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The collection's id (a UUID): the same collection sent twice is made once.
    pub id: uuid::Uuid,
    pub amount: Money,
    pub reference: String,
}

fn corrupt(what: &str) -> BankError {
    StoreError::Corrupt(format!("bank mandate {what}")).into()
}

impl Banks {
    /// The customer `owner` sets up a standard mandate on their account at their bank (the
    /// debtor's): active at once.
    pub async fn set_up_mandate(
        &self,
        owner: &str,
        order: MandateOrder,
        actor: &str,
    ) -> Result<MandateView, BankError> {
        self.own_account_row(owner, &order.debtor).await?;
        self.make_mandate(MandateKind::Standard, order, actor).await
    }

    /// The creditor's bank proposes a simplified mandate on a customer's account: pending
    /// until the customer confirms it at their bank.
    pub async fn propose_mandate(
        &self,
        order: MandateOrder,
        actor: &str,
    ) -> Result<MandateView, BankError> {
        self.make_mandate(MandateKind::Simplified, order, actor)
            .await
    }

    async fn make_mandate(
        &self,
        kind: MandateKind,
        order: MandateOrder,
        actor: &str,
    ) -> Result<MandateView, BankError> {
        let debtor = self.account_row(&order.debtor).await?;
        let creditor = self
            .account_row(&order.creditor)
            .await
            .map_err(|_| BankError::field("creditor", "no open account has this number"))?;
        if order.creditor.bank() == order.debtor.bank() {
            return Err(BankError::field(
                "creditor",
                "must be an account at another bank than the debtor's",
            ));
        }
        for (name, limit) in [("per_debit", order.per_debit), ("monthly", order.monthly)] {
            if limit.currency.code() != debtor.currency
                || limit.currency.code() != creditor.currency
            {
                return Err(BankError::field(name, "not the accounts' currency"));
            }
        }
        let reference = |n: &AccountNumber, field: &str| {
            AccountReference::parse(&n.to_string()).map_err(|why| BankError::field(field, why))
        };
        let new = NewMandate {
            id: order.id.as_u128(),
            kind,
            creditor: order.creditor.bank(),
            creditor_reference: reference(&order.creditor, "creditor")?,
            debtor: order.debtor.bank(),
            debtor_reference: reference(&order.debtor, "debtor")?,
            debtor_masked_name: mask_name(&debtor.holder_name).unwrap_or_default(),
            per_debit: order.per_debit,
            period: Period::Month,
            period_limit: order.monthly,
            valid_from: bauhinia_fps::flows::service::hong_kong_date(now_s()),
            valid_until: None,
        };
        let caller = match kind {
            MandateKind::Standard => order.debtor.bank(),
            MandateKind::Simplified => order.creditor.bank(),
        };
        let made = self
            .flows
            .create_mandate(caller, new, now_s())
            .await
            .map_err(limits_invalid)?;
        let link = MandateLink {
            id: made.view.id,
            debtor_account: debtor.number.clone(),
            creditor_account: creditor.number.clone(),
            created_at_s: now_s(),
        };
        let e = event(
            actor,
            "bank.mandate.create",
            debtor.owner.clone(),
            true,
            serde_json::json!({
                "mandate": link.id,
                "kind": kind.as_str(),
                "account": link.debtor_account,
                "creditor": order.creditor.masked(),
                "per_debit": order.per_debit.to_decimal_string(),
                "monthly": order.monthly.to_decimal_string(),
            }),
        );
        self.store.insert_mandate(&link, &e).await?;
        let stored = self.store.mandate_link(&link.id).await?.unwrap_or(link);
        self.mandate_view(stored).await
    }

    /// A mandate as the debtor's bank has it now.
    async fn mandate_view(&self, link: MandateLink) -> Result<MandateView, BankError> {
        let (Some(debtor), Some(creditor)) = (
            AccountNumber::parse(&link.debtor_account),
            AccountNumber::parse(&link.creditor_account),
        ) else {
            return Err(corrupt(&link.id));
        };
        let live = self.flows.mandate(debtor.bank(), &link.id).await?;
        let currency = Currency::parse(&live.currency).ok_or_else(|| corrupt(&link.id))?;
        let money =
            |text: &str| Money::parse_decimal(text, currency).map_err(|_| corrupt(&link.id));
        let creditor_name = self
            .store
            .account(&creditor)
            .await?
            .map(|a| mask_name(&a.holder_name).unwrap_or_default())
            .unwrap_or_default();
        Ok(MandateView {
            kind: MandateKind::parse(&live.kind).ok_or_else(|| corrupt(&link.id))?,
            status: MandateStatus::parse(&live.status).ok_or_else(|| corrupt(&link.id))?,
            debtor_account: link.debtor_account.clone(),
            creditor_bank: creditor.bank().as_str(),
            creditor_name,
            creditor_account: creditor.masked(),
            per_debit: money(&live.per_debit_limit)?,
            monthly: money(&live.period_limit)?,
            at_s: link.created_at_s,
            id: link.id,
        })
    }

    /// The mandates on `owner`'s accounts, newest first.
    pub async fn mandates_of(&self, owner: &str) -> Result<Vec<MandateView>, BankError> {
        let mut out = Vec::new();
        for link in self.store.mandates_of(owner, None, HISTORY_MAX).await? {
            out.push(self.mandate_view(link).await?);
        }
        Ok(out)
    }

    /// The customer confirms, rejects, suspends, resumes or cancels a mandate on their account
    /// (at their bank, the debtor's).
    pub async fn move_mandate(
        &self,
        owner: &str,
        id: &str,
        action: MandateAction,
        actor: &str,
    ) -> Result<MandateView, BankError> {
        let link = self
            .store
            .mandates_of(owner, Some(id), 1)
            .await?
            .into_iter()
            .next()
            .ok_or(BankError::MandateNotFound)?;
        let bank = AccountNumber::parse(&link.debtor_account)
            .map(|n| n.bank())
            .ok_or_else(|| corrupt(id))?;
        match self
            .flows
            .move_mandate(bank, &link.id, action, now_s())
            .await
        {
            Ok(_) => {}
            Err(FlowError::State(_, why)) => return Err(BankError::MandateState(why)),
            Err(other) => return Err(other.into()),
        }
        let e = event(
            actor,
            "bank.mandate.move",
            owner.to_owned(),
            true,
            serde_json::json!({ "mandate": link.id, "action": action.as_str() }),
        );
        self.store.db().append_audit(&e).await?;
        self.mandate_view(link).await
    }

    /// The creditor's bank collects under mandate `id`: a payment from the debtor's account to
    /// the creditor's, settled at the switch as a direct debit. The same collection (same id)
    /// sent again is made once; a different one under a used id is `IdConflict`.
    pub async fn collect(
        &self,
        mandate_id: &str,
        collection: Collection,
        actor: &str,
    ) -> Result<PaymentView, BankError> {
        let link = self
            .store
            .mandate_link(mandate_id)
            .await?
            .ok_or(BankError::MandateNotFound)?;
        let (Some(debtor), Some(creditor)) = (
            AccountNumber::parse(&link.debtor_account),
            AccountNumber::parse(&link.creditor_account),
        ) else {
            return Err(corrupt(mandate_id));
        };
        if let Some(existing) = self
            .ordered(collection.id, &debtor, collection.amount)
            .await?
        {
            return existing;
        }
        let owner = self.account_row(&debtor).await?.owner;
        let (_, reference) = self
            .checked_order(&owner, &debtor, collection.amount, &collection.reference)
            .await?;
        let view = self.mandate_view(link.clone()).await?;
        if view.status != MandateStatus::Active {
            return Err(BankError::MandateState(format!(
                "the mandate is {}",
                view.status.as_str()
            )));
        }
        if collection.amount.minor > view.per_debit.minor {
            return Err(BankError::field(
                "amount",
                "exceeds the mandate's per-debit limit",
            ));
        }
        let payee = PayeePreview {
            bank: creditor.bank(),
            bank_name: String::new(),
            masked_name: view.creditor_name,
            masked_address: creditor.masked(),
        };
        let purpose = Purpose::DirectDebit;
        let row = outgoing(
            collection.id,
            &debtor,
            &payee,
            collection.amount,
            purpose,
            reference,
        );
        let destination = Destination::Debit(link.id);
        self.order(&owner, row, destination, purpose, actor).await
    }

    /// Step 2 of a collection: the creditor's bank presents the direct debit `transfer` at the
    /// switch (a retry with the same id answers, or finishes, the same debit).
    pub(super) async fn settle_debit(
        &self,
        creditor_bank: ParticipantCode,
        mandate: &str,
        row: &crate::store::PaymentRow,
        transfer: bauhinia_fps::ledger::Id,
    ) -> Result<Result<(), &'static str>, BankError> {
        let currency = Currency::parse(&row.currency).ok_or_else(|| corrupt(mandate))?;
        let new = NewDebit {
            id: transfer,
            amount: Money::from_minor(row.amount, currency),
            reference: row.reference.clone(),
            collection_date: None,
        };
        let cap = bauhinia_fps::ledger::Refusal::ExceedsDebitCap.code();
        match self.flows.debit(creditor_bank, mandate, new, now_s()).await {
            Ok(answer) if answer.view.status == "settled" => Ok(Ok(())),
            Ok(answer) => Ok(Err(match answer.view.reason.as_deref() {
                Some(code) if code == cap => "payer_bank_liquidity",
                _ => "debit_refused",
            })),
            Err(FlowError::LimitExceeded(_)) => Ok(Err("mandate_limit_exceeded")),
            Err(FlowError::State(..) | FlowError::Forbidden(_) | FlowError::NotFound(_)) => {
                Ok(Err("mandate_not_active"))
            }
            Err(FlowError::Invalid(..) | FlowError::Conflict(_)) => Ok(Err("debit_invalid")),
            Err(other) => Err(other.into()),
        }
    }
}

/// A mandate's limits the switch refused are the customer's input: named as such.
fn limits_invalid(error: FlowError) -> BankError {
    match error {
        FlowError::Invalid(_, faults) => BankError::Invalid(
            faults
                .into_iter()
                .map(|f| (f.pointer.trim_start_matches('/').to_owned(), f.detail))
                .collect(),
        ),
        FlowError::Conflict(_) => BankError::IdConflict,
        other => other.into(),
    }
}
