//! `FlowService`: requests to pay, eDDA mandates, direct debits and returns/refunds on top of
//! the switch. It checks who may act (the domain's rules), seals account references, reserves
//! limits and amounts in the store before any money moves, settles through `Switch` (which
//! stays the only way money moves), and records the outcome — with its outbox events, one per
//! participant concerned, and its audit event — in one transaction.
//!
//! A settlement that was reserved but not finished (the process stopped between the ledger's
//! answer and the write of the outcome) is finished by the client's retry with the same id: the
//! ledger answers a transfer id once, so resubmitting it never moves money twice.

use std::sync::Arc;

use bauhinia_core::crypto::{CryptoError, Vault};
use bauhinia_core::{Currency, ErrorCode, FieldError, Money, Problem};
use bauhinia_store::audit::{AuditEvent, Outcome as AuditOutcome};
use bauhinia_store::StoreError;
use serde::Serialize;
use time::Date;

use super::domain::{
    check_debit, mandate_move, request_expiry, request_move, returnable, DebitFault, MandateAction,
    MandateKind, MandateStatus, MandateTerms, Period, Refusal, RequestAction, RequestStatus,
    ReturnKind, Side, PAGE_MAX,
};
use super::store::{
    self, DebitRow, FlowStore, MandateRow, RequestRow, ReturnRow, Step, Table, Unchanged,
    DEBIT_ID_TAKEN, DEBIT_MANDATE_NOT_ACTIVE, RETURN_ID_TAKEN,
};
use super::wire::{
    format_date, format_time_s, DebitView, MandateView, NewDebit, NewMandate, NewRequest,
    NewReturn, RequestView, ReturnView, ReturnsPage,
};
use crate::events::Event;
use crate::ledger::{Id, Kind, Outcome, Transfer};
use crate::proxy::AccountReference;
use crate::switch::{account_owner, Caller, ParticipantCode, Switch, SwitchError};
use crate::wire::{format_id, parse_id, Purpose};

const FINGERPRINT_CONTEXT: &str = "fps.flows.fingerprint";

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// Invalid input (`code` is the flow's `*_invalid`), every fault named.
    #[error("invalid input")]
    Invalid(ErrorCode, Vec<FieldError>),
    #[error("not found")]
    NotFound(ErrorCode),
    #[error("{0}")]
    Forbidden(&'static str),
    /// The status does not allow it (`code` is the flow's `*_state`).
    #[error("{1}")]
    State(ErrorCode, String),
    /// The id was used for a different body.
    #[error("{0}")]
    Conflict(String),
    #[error("the debit exceeds the mandate's {0} limit")]
    LimitExceeded(&'static str),
    #[error("only {remaining} remains of the original transfer")]
    ExceedsOriginal { remaining: String },
    /// The ledger refused the transfer (its stable code and text).
    #[error("{1}")]
    Refused(&'static str, &'static str),
    #[error("the transfer id was already used for a different transfer")]
    TransferIdConflict,
    #[error(transparent)]
    Switch(#[from] SwitchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<FlowError> for Problem {
    fn from(error: FlowError) -> Problem {
        match error {
            FlowError::Invalid(code, errors) => Problem::new(code).errors(errors),
            FlowError::NotFound(code) => Problem::new(code),
            FlowError::Forbidden(why) => Problem::new(ErrorCode::FpsFlowForbidden).detail(why),
            FlowError::State(code, why) => Problem::new(code).detail(why),
            FlowError::Conflict(why) => Problem::new(ErrorCode::FpsRequestConflict).detail(why),
            e @ FlowError::LimitExceeded(_) => {
                Problem::new(ErrorCode::FpsMandateLimitExceeded).detail(e.to_string())
            }
            e @ FlowError::ExceedsOriginal { .. } => {
                Problem::new(ErrorCode::FpsReturnExceedsOriginal).detail(e.to_string())
            }
            FlowError::Refused(code, text) => Problem::new(ErrorCode::FpsTransferRefused)
                .reason(code)
                .detail(text),
            FlowError::TransferIdConflict => Problem::new(ErrorCode::FpsTransferIdConflict),
            FlowError::Switch(e) => e.into(),
            FlowError::Store(StoreError::Sqlx(sqlx::Error::PoolTimedOut)) => {
                Problem::new(ErrorCode::StoreUnavailable)
            }
            other => Problem::internal(&other),
        }
    }
}

fn invalid(code: ErrorCode, pointer: &str, why: impl Into<String>) -> FlowError {
    FlowError::Invalid(code, vec![FieldError::new(pointer, why)])
}

fn corrupt(what: &str) -> FlowError {
    FlowError::Store(StoreError::Corrupt(what.to_owned()))
}

fn code_of(text: &str) -> Result<ParticipantCode, FlowError> {
    ParticipantCode::parse(text).ok_or_else(|| corrupt("a participant code"))
}

fn currency_of(text: &str) -> Result<Currency, FlowError> {
    crate::switch::CURRENCIES
        .into_iter()
        .find(|c| c.code() == text)
        .ok_or_else(|| corrupt("a currency"))
}

fn id_of(text: &str) -> Result<Id, FlowError> {
    parse_id(text).ok_or_else(|| corrupt("an id"))
}

fn date_of(text: &str) -> Result<Date, FlowError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map_err(|_| corrupt("a date"))
}

fn decimal(minor: i64, currency: &str) -> Result<String, FlowError> {
    Ok(Money::from_minor(minor, currency_of(currency)?).to_decimal_string())
}

/// Hong Kong's date at `now_s`.
pub fn hong_kong_date(now_s: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(now_s)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(crate::statement::hong_kong())
        .date()
}

/// One event for each of the two participants concerned.
fn to_both(
    parties: [ParticipantCode; 2],
    kind: &'static str,
    subject: &str,
    payload: &impl Serialize,
) -> Vec<Event> {
    parties
        .into_iter()
        .map(|p| Event::new(p, kind, subject.to_owned(), payload))
        .collect()
}

fn audit(
    actor: String,
    action: &'static str,
    subject: &str,
    success: bool,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor,
        action,
        subject: subject.to_owned(),
        outcome: if success {
            AuditOutcome::Success
        } else {
            AuditOutcome::Failure
        },
        detail,
        request_id: None,
    }
}

fn actor(code: ParticipantCode) -> String {
    Caller::Participant(code).actor()
}

/// Whether an answer was made now or is the original answer to a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<T> {
    pub created: bool,
    pub view: T,
}

/// A page of a list, newest first; `next` is the cursor for the following page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

/// How a settlement ended, for the outcome's write.
enum Settled {
    Accepted,
    /// The ledger's (or the switch's) reason.
    Refused(&'static str, &'static str),
    IdConflict,
}

fn settled(outcome: Result<Vec<Outcome>, SwitchError>) -> Result<Settled, FlowError> {
    let outcome = match outcome {
        Ok(outcomes) => outcomes
            .into_iter()
            .next()
            .ok_or_else(|| corrupt("the ledger gave no answer"))?,
        Err(SwitchError::Inadmissible(_)) => {
            return Ok(Settled::Refused(
                "creditor_suspended",
                "The receiving participant is suspended and cannot be paid.",
            ))
        }
        Err(other) => return Err(other.into()),
    };
    Ok(match outcome {
        Outcome::Created { .. } | Outcome::Exists(Ok(_)) => Settled::Accepted,
        Outcome::Refused(r) | Outcome::Exists(Err(r)) => Settled::Refused(r.code(), r.text()),
        Outcome::IdConflict => Settled::IdConflict,
    })
}

#[derive(Debug)]
pub struct FlowService {
    store: FlowStore,
    switch: Arc<Switch>,
    vault: Arc<Vault>,
}

impl FlowService {
    pub fn new(switch: Arc<Switch>, vault: Arc<Vault>) -> FlowService {
        FlowService {
            store: FlowStore::new(switch.db()),
            switch,
            vault,
        }
    }

    pub fn store(&self) -> &FlowStore {
        &self.store
    }

    /// A keyed hash of a request's fields: a retry is recognised without keeping the fields
    /// (some are account references) in a guessable form.
    fn fingerprint(&self, parts: &[&str]) -> Vec<u8> {
        self.vault
            .lookup_hash(FINGERPRINT_CONTEXT, parts.join("\u{1f}").as_bytes())
            .to_vec()
    }

    fn known(
        &self,
        code: ParticipantCode,
        pointer: &str,
        invalid: ErrorCode,
    ) -> Result<(), FlowError> {
        match self.switch.participant(code) {
            Some(_) => Ok(()),
            None => Err(self::invalid(
                invalid,
                pointer,
                "no participant has this code",
            )),
        }
    }

    /// Creates a row by `insert` (an `INSERT … ON CONFLICT (id) DO NOTHING`, step 0 of
    /// `steps`) with its events and audit, or — the id being taken — answers the stored row if
    /// it was made from the same fields, and a conflict if not.
    async fn create<T: Fingerprinted>(
        &self,
        table: Table,
        new: &T,
        insert: Step,
        events: &[Event],
        audit: &[AuditEvent],
    ) -> Result<Answer<T>, FlowError> {
        let created = self.store.apply(&[insert], events, audit).await?.is_ok();
        let row: T = self.stored(table, new.id()).await?;
        if !created && row.fingerprint() != new.fingerprint() {
            return Err(FlowError::Conflict(format!(
                "{} was already used for a different request",
                new.id()
            )));
        }
        Ok(Answer { created, view: row })
    }

    /// A row known to exist (just written, or found by a failed insert).
    async fn stored<T: Fingerprinted>(&self, table: Table, id: &str) -> Result<T, FlowError> {
        self.store
            .by_id(table, id)
            .await?
            .ok_or_else(|| corrupt(table.name()))
    }

    // -----------------------------------------------------------------------------------------
    // Requests to pay

    fn request_view(&self, row: &RequestRow, now_s: i64) -> Result<RequestView, FlowError> {
        let status = RequestStatus::parse(&row.status)
            .ok_or_else(|| corrupt("a request status"))?
            .as_of(row.expires_at_s, now_s);
        Ok(RequestView {
            id: row.id.clone(),
            payee: row.payee.clone(),
            payer: row.payer.clone(),
            currency: row.currency.clone(),
            amount: decimal(row.amount_minor, &row.currency)?,
            reference: row.reference.clone(),
            payee_masked_name: row.payee_masked_name.clone(),
            expires_at: format_time_s(row.expires_at_s),
            status: status.as_str().to_owned(),
            transfer_id: row.transfer_id.clone(),
            created_at: format_time_s(row.created_at_s),
            updated_at: format_time_s(row.updated_at_s),
        })
    }

    /// The payee's participant asks the payer's for money.
    pub async fn create_request(
        &self,
        payee: ParticipantCode,
        new: NewRequest,
        now_s: i64,
    ) -> Result<Answer<RequestView>, FlowError> {
        let code = ErrorCode::FpsRequestInvalid;
        if new.payer == payee {
            return Err(invalid(
                code,
                "/payer",
                "must be another participant than the payee",
            ));
        }
        self.known(new.payer, "/payer", code)?;
        let expires_at_s = request_expiry(now_s, new.expires_at_s)
            .map_err(|why| invalid(code, "/expires_at", why))?;
        let id = format_id(new.id);
        let fingerprint = self.fingerprint(&[
            "request",
            &payee.as_str(),
            &new.payer.as_str(),
            new.amount.currency.code(),
            &new.amount.minor.to_string(),
            &new.reference,
            &new.expires_at_s.map(|s| s.to_string()).unwrap_or_default(),
            &new.payee_masked_name,
        ]);
        let row = RequestRow {
            seq: 0,
            id: id.clone(),
            payee: payee.as_str(),
            payer: new.payer.as_str(),
            currency: new.amount.currency.code().to_owned(),
            amount_minor: new.amount.minor,
            reference: new.reference,
            payee_masked_name: new.payee_masked_name,
            expires_at_s,
            status: RequestStatus::Pending.as_str().to_owned(),
            transfer_id: None,
            fingerprint: fingerprint.clone(),
            created_at_s: now_s,
            updated_at_s: now_s,
        };
        let view = self.request_view(&row, now_s)?;
        let subject = format!("request:{id}");
        let insert = row.insert();
        let events = to_both([payee, new.payer], "request.created", &subject, &view);
        let audit = [audit(
            actor(payee),
            "fps.request.create",
            &subject,
            true,
            serde_json::json!({ "payer": view.payer, "currency": view.currency, "amount": view.amount, "expires_at": view.expires_at }),
        )];
        let answer = self
            .create(Table::Requests, &row, insert, &events, &audit)
            .await?;
        Ok(Answer {
            created: answer.created,
            view: self.request_view(&answer.view, now_s)?,
        })
    }

    /// A request the participant is payee or payer of, and its side.
    async fn request_row(
        &self,
        caller: ParticipantCode,
        id: &str,
    ) -> Result<(RequestRow, Side), FlowError> {
        let not_found = || FlowError::NotFound(ErrorCode::FpsRequestNotFound);
        let id = parse_id(id).map(format_id).ok_or_else(not_found)?;
        let row: RequestRow = self
            .store
            .by_id(Table::Requests, &id)
            .await?
            .ok_or_else(not_found)?;
        let me = caller.as_str();
        let side = if row.payer == me {
            Side::Payer
        } else if row.payee == me {
            Side::Payee
        } else {
            return Err(not_found());
        };
        Ok((row, side))
    }

    pub async fn request(
        &self,
        caller: ParticipantCode,
        id: &str,
        now_s: i64,
    ) -> Result<RequestView, FlowError> {
        let (row, _) = self.request_row(caller, id).await?;
        self.request_view(&row, now_s)
    }

    /// The participant's requests (as payer, payee or either), newest first.
    pub async fn requests(
        &self,
        caller: ParticipantCode,
        side: Option<Side>,
        status: Option<RequestStatus>,
        before: Option<i64>,
        limit: i64,
        now_s: i64,
    ) -> Result<Page<RequestView>, FlowError> {
        let rows = self
            .store
            .requests(&caller.as_str(), side, status, (before, limit), now_s)
            .await?;
        page(rows, limit, |r| r.seq, |r| self.request_view(r, now_s))
    }

    /// Writes a request's status change `from` → `to` with its events and audit; `false` if
    /// the row was no longer in `from` (or, moving from pending, had expired).
    #[allow(clippy::too_many_arguments)]
    async fn move_request_row(
        &self,
        row: &RequestRow,
        from: RequestStatus,
        to: RequestStatus,
        by: String,
        event: Option<&'static str>,
        transfer_id: Option<String>,
        now_s: i64,
        detail: serde_json::Value,
    ) -> Result<bool, FlowError> {
        let step = row.change(from, to, transfer_id.clone(), now_s);
        let after = RequestRow {
            status: to.as_str().to_owned(),
            transfer_id,
            updated_at_s: now_s,
            ..row.clone()
        };
        let view = self.request_view(&after, now_s)?;
        let subject = format!("request:{}", row.id);
        let parties = [code_of(&row.payee)?, code_of(&row.payer)?];
        let events = event.map_or_else(Vec::new, |kind| to_both(parties, kind, &subject, &view));
        let action = match to {
            RequestStatus::Paid => "fps.request.paid",
            RequestStatus::Declined => "fps.request.decline",
            RequestStatus::Cancelled => "fps.request.cancel",
            RequestStatus::Expired => "fps.request.expire",
            RequestStatus::Settling => "fps.request.pay",
            RequestStatus::Pending => "fps.request.payment_refused",
        };
        let success = to != RequestStatus::Pending;
        let audit = [audit(by, action, &subject, success, detail)];
        Ok(self.store.apply(&[step], &events, &audit).await?.is_ok())
    }

    fn request_refusal(refusal: Refusal) -> FlowError {
        match refusal {
            Refusal::Forbidden(why) => FlowError::Forbidden(why),
            Refusal::State(why) => FlowError::State(ErrorCode::FpsRequestState, why.to_owned()),
        }
    }

    /// Writes the expiry of a pending request whose time has passed (once: a conditional
    /// update), with its events.
    async fn expire(&self, row: &RequestRow, now_s: i64) -> Result<(), FlowError> {
        let stored = RequestStatus::parse(&row.status);
        if stored == Some(RequestStatus::Pending) && now_s >= row.expires_at_s {
            self.move_request_row(
                row,
                RequestStatus::Pending,
                RequestStatus::Expired,
                "system".into(),
                Some("request.expired"),
                None,
                now_s,
                serde_json::json!({}),
            )
            .await?;
        }
        Ok(())
    }

    /// Writes the expiry of up to `limit` requests whose time has passed; how many.
    pub async fn expire_due(&self, now_s: i64, limit: i64) -> Result<usize, FlowError> {
        let rows = self.store.due_requests(now_s, limit).await?;
        for row in &rows {
            self.expire(row, now_s).await?;
        }
        Ok(rows.len())
    }

    /// The payer's participant declines, or the payee's cancels, a pending request.
    pub async fn move_request(
        &self,
        caller: ParticipantCode,
        id: &str,
        action: RequestAction,
        now_s: i64,
    ) -> Result<RequestView, FlowError> {
        let (row, side) = self.request_row(caller, id).await?;
        self.expire(&row, now_s).await?;
        let status = RequestStatus::parse(&row.status)
            .ok_or_else(|| corrupt("a request status"))?
            .as_of(row.expires_at_s, now_s);
        let to = request_move(status, action, side).map_err(Self::request_refusal)?;
        let event = match action {
            RequestAction::Decline => "request.declined",
            _ => "request.cancelled",
        };
        let moved = self
            .move_request_row(
                &row,
                RequestStatus::Pending,
                to,
                actor(caller),
                Some(event),
                None,
                now_s,
                serde_json::json!({}),
            )
            .await?;
        if !moved {
            return Err(FlowError::State(
                ErrorCode::FpsRequestState,
                "the request changed meanwhile; read it again".into(),
            ));
        }
        self.request(caller, id, now_s).await
    }

    /// The payer's participant pays a request with a transfer of its amount, purpose
    /// `request_to_pay`, `related_id` the request. Marked paid only once the ledger accepted the
    /// transfer; a retry with the same transfer id answers (or finishes) the same payment.
    pub async fn pay_request(
        &self,
        caller: ParticipantCode,
        id: &str,
        transfer_id: Id,
        now_s: i64,
    ) -> Result<RequestView, FlowError> {
        let (row, side) = self.request_row(caller, id).await?;
        let transfer_text = format_id(transfer_id);
        let same_transfer = row.transfer_id.as_deref() == Some(transfer_text.as_str());
        let stored =
            RequestStatus::parse(&row.status).ok_or_else(|| corrupt("a request status"))?;
        match stored {
            RequestStatus::Paid if same_transfer && side == Side::Payer => {
                return self.request_view(&row, now_s)
            }
            RequestStatus::Settling if same_transfer && side == Side::Payer => {}
            _ => {
                self.expire(&row, now_s).await?;
                let status = stored.as_of(row.expires_at_s, now_s);
                request_move(status, RequestAction::Pay, side).map_err(Self::request_refusal)?;
                let begun = self
                    .move_request_row(
                        &row,
                        RequestStatus::Pending,
                        RequestStatus::Settling,
                        actor(caller),
                        None,
                        Some(transfer_text.clone()),
                        now_s,
                        serde_json::json!({ "transfer": transfer_text }),
                    )
                    .await?;
                if !begun {
                    return Err(FlowError::State(
                        ErrorCode::FpsRequestState,
                        "the request changed meanwhile; read it again".into(),
                    ));
                }
            }
        }
        let row = RequestRow {
            status: RequestStatus::Settling.as_str().to_owned(),
            transfer_id: Some(transfer_text.clone()),
            ..row
        };
        let transfer = Self::payment(&row, transfer_id)?;
        let outcome = settled(
            self.switch
                .submit(vec![transfer], Caller::Participant(caller))
                .await,
        )?;
        let (to, event, error) = match outcome {
            Settled::Accepted => (RequestStatus::Paid, Some("request.paid"), None),
            Settled::Refused(code, text) => (
                RequestStatus::Pending,
                None,
                Some(FlowError::Refused(code, text)),
            ),
            Settled::IdConflict => (
                RequestStatus::Pending,
                None,
                Some(FlowError::TransferIdConflict),
            ),
        };
        let transfer = (to == RequestStatus::Paid).then(|| transfer_text.clone());
        let detail = serde_json::json!({ "transfer": transfer_text });
        let by = actor(caller);
        let from = RequestStatus::Settling;
        self.move_request_row(&row, from, to, by, event, transfer, now_s, detail)
            .await?;
        match error {
            Some(e) => Err(e),
            None => self.request(caller, id, now_s).await,
        }
    }

    /// The transfer that pays a request: payer → payee, its amount, purpose `request_to_pay`,
    /// `related_id` the request.
    fn payment(row: &RequestRow, transfer_id: Id) -> Result<Transfer, FlowError> {
        let currency = currency_of(&row.currency)?;
        Ok(Transfer {
            id: transfer_id,
            debit_account: code_of(&row.payer)?.settlement_account(currency),
            credit_account: code_of(&row.payee)?.settlement_account(currency),
            amount: row.amount_minor,
            currency,
            kind: Kind::Single,
            linked: false,
            code: Purpose::RequestToPay.code(),
            user_data: id_of(&row.id)?,
            reference: row.reference.clone(),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Mandates

    fn reference_context(id: &str, side: Side) -> String {
        match side {
            Side::Payee => format!("fps.mandate.creditor_reference:{id}"),
            Side::Payer => format!("fps.mandate.debtor_reference:{id}"),
        }
    }

    /// The mandate as `viewer` sees it: the account reference of its own side only (none for
    /// an event's payload).
    fn mandate_view(
        &self,
        row: &MandateRow,
        viewer: Option<Side>,
    ) -> Result<MandateView, FlowError> {
        let open = |side: Side, sealed: &[u8]| -> Result<Option<String>, FlowError> {
            if viewer != Some(side) {
                return Ok(None);
            }
            let plain = self
                .vault
                .open(&Self::reference_context(&row.id, side), sealed)?;
            Ok(Some(
                String::from_utf8(plain).map_err(|_| corrupt("a sealed account reference"))?,
            ))
        };
        Ok(MandateView {
            id: row.id.clone(),
            kind: row.kind.clone(),
            creditor: row.creditor.clone(),
            creditor_reference: open(Side::Payee, &row.creditor_reference_sealed)?,
            debtor: row.debtor.clone(),
            debtor_reference: open(Side::Payer, &row.debtor_reference_sealed)?,
            debtor_masked_name: row.debtor_masked_name.clone(),
            currency: row.currency.clone(),
            per_debit_limit: decimal(row.per_debit_minor, &row.currency)?,
            period_limit: decimal(row.period_limit_minor, &row.currency)?,
            period: row.period.clone(),
            valid_from: row.valid_from.clone(),
            valid_until: row.valid_until.clone(),
            status: row.status.clone(),
            created_at: format_time_s(row.created_at_s),
            updated_at: format_time_s(row.updated_at_s),
        })
    }

    /// Sets up a mandate: `standard` by the debtor's participant (active at once), `simplified`
    /// by the creditor's (pending until the debtor's confirms).
    pub async fn create_mandate(
        &self,
        caller: ParticipantCode,
        new: NewMandate,
        now_s: i64,
    ) -> Result<Answer<MandateView>, FlowError> {
        let code = ErrorCode::FpsMandateInvalid;
        let (own, other, other_field) = match new.kind.set_up_by() {
            Side::Payer => (new.debtor, new.creditor, "/creditor"),
            Side::Payee => (new.creditor, new.debtor, "/debtor"),
        };
        if own != caller {
            return Err(FlowError::Forbidden(match new.kind {
                MandateKind::Standard => {
                    "a standard mandate is set up by the debtor's participant (the caller must be the debtor)"
                }
                MandateKind::Simplified => {
                    "a simplified mandate is set up by the creditor's participant (the caller must be the creditor)"
                }
            }));
        }
        self.known(other, other_field, code)?;
        let terms = MandateTerms {
            status: new.kind.initial_status(),
            per_debit: new.per_debit,
            period: new.period,
            period_limit: new.period_limit.minor,
            valid_from: new.valid_from,
            valid_until: new.valid_until,
        };
        terms
            .check()
            .map_err(|(field, why)| invalid(code, field, why))?;
        let set_up_by = new.kind.set_up_by();
        let row = self.new_mandate_row(new, terms.status, now_s)?;
        let id = row.id.clone();
        let insert = row.insert();
        let subject = format!("mandate:{id}");
        let payload = self.mandate_view(&row, None)?;
        let parties = [code_of(&row.creditor)?, code_of(&row.debtor)?];
        let mut events = to_both(parties, "mandate.created", &subject, &payload);
        if terms.status == MandateStatus::Active {
            events.extend(to_both(parties, "mandate.activated", &subject, &payload));
        }
        let audit = [audit(
            actor(caller),
            "fps.mandate.create",
            &subject,
            true,
            serde_json::json!({
                "kind": row.kind, "creditor": row.creditor, "debtor": row.debtor,
                "debtor_masked_name": row.debtor_masked_name, "status": row.status,
                "currency": row.currency, "per_debit_limit": payload.per_debit_limit,
                "period_limit": payload.period_limit, "period": row.period,
            }),
        )];
        let answer = self
            .create(Table::Mandates, &row, insert, &events, &audit)
            .await?;
        Ok(Answer {
            created: answer.created,
            view: self.mandate_view(&answer.view, Some(set_up_by))?,
        })
    }

    /// The row of a new mandate: its account references sealed (each bound to the mandate and
    /// its side), its fingerprint keyed.
    fn new_mandate_row(
        &self,
        new: NewMandate,
        status: MandateStatus,
        now_s: i64,
    ) -> Result<MandateRow, FlowError> {
        let id = format_id(new.id);
        let valid_until = new.valid_until.map(format_date);
        let fingerprint = self.fingerprint(&[
            "mandate",
            new.kind.as_str(),
            &new.creditor.as_str(),
            new.creditor_reference.expose(),
            &new.debtor.as_str(),
            new.debtor_reference.expose(),
            &new.debtor_masked_name,
            new.per_debit.currency.code(),
            &new.per_debit.minor.to_string(),
            &new.period_limit.minor.to_string(),
            new.period.as_str(),
            &format_date(new.valid_from),
            valid_until.as_deref().unwrap_or(""),
        ]);
        let seal = |side: Side, reference: &AccountReference| {
            self.vault.seal(
                &Self::reference_context(&id, side),
                reference.expose().as_bytes(),
            )
        };
        Ok(MandateRow {
            seq: 0,
            id: id.clone(),
            kind: new.kind.as_str().to_owned(),
            creditor: new.creditor.as_str(),
            creditor_reference_sealed: seal(Side::Payee, &new.creditor_reference)?,
            debtor: new.debtor.as_str(),
            debtor_reference_sealed: seal(Side::Payer, &new.debtor_reference)?,
            debtor_masked_name: new.debtor_masked_name,
            currency: new.per_debit.currency.code().to_owned(),
            per_debit_minor: new.per_debit.minor,
            period: new.period.as_str().to_owned(),
            period_limit_minor: new.period_limit.minor,
            valid_from: format_date(new.valid_from),
            valid_until,
            status: status.as_str().to_owned(),
            fingerprint,
            created_at_s: now_s,
            updated_at_s: now_s,
        })
    }

    async fn mandate_row(
        &self,
        caller: ParticipantCode,
        id: &str,
    ) -> Result<(MandateRow, Side), FlowError> {
        let not_found = || FlowError::NotFound(ErrorCode::FpsMandateNotFound);
        let id = parse_id(id).map(format_id).ok_or_else(not_found)?;
        let row: MandateRow = self
            .store
            .by_id(Table::Mandates, &id)
            .await?
            .ok_or_else(not_found)?;
        let me = caller.as_str();
        let side = if row.debtor == me {
            Side::Payer
        } else if row.creditor == me {
            Side::Payee
        } else {
            return Err(not_found());
        };
        Ok((row, side))
    }

    pub async fn mandate(
        &self,
        caller: ParticipantCode,
        id: &str,
    ) -> Result<MandateView, FlowError> {
        let (row, side) = self.mandate_row(caller, id).await?;
        self.mandate_view(&row, Some(side))
    }

    /// The participant's mandates (as debtor, creditor or either), newest first.
    pub async fn mandates(
        &self,
        caller: ParticipantCode,
        side: Option<Side>,
        status: Option<MandateStatus>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<MandateView>, FlowError> {
        let rows = self
            .store
            .mandates(&caller.as_str(), side, status, (before, limit))
            .await?;
        let me = caller.as_str();
        page(
            rows,
            limit,
            |r| r.seq,
            |r| {
                let side = if r.debtor == me {
                    Side::Payer
                } else {
                    Side::Payee
                };
                self.mandate_view(r, Some(side))
            },
        )
    }

    /// Confirms, rejects, suspends, resumes or cancels a mandate (see `domain::mandate_move`).
    pub async fn move_mandate(
        &self,
        caller: ParticipantCode,
        id: &str,
        action: MandateAction,
        now_s: i64,
    ) -> Result<MandateView, FlowError> {
        let (row, side) = self.mandate_row(caller, id).await?;
        let from = MandateStatus::parse(&row.status).ok_or_else(|| corrupt("a mandate status"))?;
        let to = mandate_move(from, action, side).map_err(|r| match r {
            Refusal::Forbidden(why) => FlowError::Forbidden(why),
            Refusal::State(why) => FlowError::State(ErrorCode::FpsMandateState, why.to_owned()),
        })?;
        let after = MandateRow {
            status: to.as_str().to_owned(),
            updated_at_s: now_s,
            ..row.clone()
        };
        let subject = format!("mandate:{}", row.id);
        let payload = self.mandate_view(&after, None)?;
        let parties = [code_of(&row.creditor)?, code_of(&row.debtor)?];
        let step = row.change(from, to, now_s);
        let events = to_both(parties, action.event(), &subject, &payload);
        let audit = [audit(
            actor(caller),
            mandate_audit_action(action),
            &subject,
            true,
            serde_json::json!({ "from": from.as_str(), "to": to.as_str() }),
        )];
        if self.store.apply(&[step], &events, &audit).await?.is_err() {
            return Err(FlowError::State(
                ErrorCode::FpsMandateState,
                "the mandate changed meanwhile; read it again".into(),
            ));
        }
        self.mandate_view(&after, Some(side))
    }

    // -----------------------------------------------------------------------------------------
    // Direct debits

    fn debit_view(row: &DebitRow) -> Result<DebitView, FlowError> {
        Ok(DebitView {
            id: row.id.clone(),
            mandate_id: row.mandate_id.clone(),
            creditor: row.creditor.clone(),
            debtor: row.debtor.clone(),
            currency: row.currency.clone(),
            amount: decimal(row.amount_minor, &row.currency)?,
            reference: row.reference.clone(),
            collection_date: row.collection_date.clone(),
            status: row.status.clone(),
            reason: row.reason.clone(),
            created_at: format_time_s(row.created_at_s),
            updated_at: format_time_s(row.updated_at_s),
        })
    }

    /// The creditor's participant collects under an active mandate: the debit is checked
    /// against the mandate, its amount reserved against the period's limit together with the
    /// debit's row, then settled debtor → creditor on the mandate's authority. A refused
    /// settlement releases the reservation.
    pub async fn debit(
        &self,
        caller: ParticipantCode,
        mandate_id: &str,
        new: NewDebit,
        now_s: i64,
    ) -> Result<Answer<DebitView>, FlowError> {
        let (mandate, side) = self.mandate_row(caller, mandate_id).await?;
        if side != Side::Payee {
            return Err(FlowError::Forbidden(
                "only the mandate's creditor participant presents direct debits",
            ));
        }
        let id = format_id(new.id);
        let fingerprint = self.fingerprint(&[
            "debit",
            &mandate.id,
            new.amount.currency.code(),
            &new.amount.minor.to_string(),
            &new.reference,
            &new.collection_date.map(format_date).unwrap_or_default(),
        ]);
        if let Some(existing) = self.store.by_id::<DebitRow>(Table::Debits, &id).await? {
            return self.debit_retry(existing, &fingerprint, now_s).await;
        }
        let today = hong_kong_date(now_s);
        let collection = new.collection_date.unwrap_or(today);
        let terms = mandate_terms(&mandate)?;
        let period_start =
            format_date(check_debit(&terms, new.amount, collection, today).map_err(debit_fault)?);
        let row = DebitRow {
            seq: 0,
            id: id.clone(),
            mandate_id: mandate.id.clone(),
            creditor: mandate.creditor.clone(),
            debtor: mandate.debtor.clone(),
            currency: mandate.currency.clone(),
            amount_minor: new.amount.minor,
            reference: new.reference,
            collection_date: format_date(collection),
            period_start: period_start.clone(),
            status: "pending".into(),
            reason: None,
            fingerprint: fingerprint.clone(),
            created_at_s: now_s,
            updated_at_s: now_s,
        };
        let steps = row.reserve(mandate.period_limit_minor);
        let subject = format!("debit:{id}");
        let audit = [audit(
            actor(caller),
            "fps.debit.create",
            &subject,
            true,
            serde_json::json!({ "mandate": mandate.id, "currency": row.currency, "amount": Self::debit_view(&row)?.amount, "collection_date": row.collection_date }),
        )];
        match self.store.apply(&steps, &[], &audit).await? {
            Ok(()) => {}
            Err(Unchanged(DEBIT_MANDATE_NOT_ACTIVE)) => {
                return Err(FlowError::State(
                    ErrorCode::FpsMandateState,
                    "the mandate is no longer active".into(),
                ))
            }
            Err(Unchanged(DEBIT_ID_TAKEN)) => {
                let existing = self.stored::<DebitRow>(Table::Debits, &id).await?;
                return self.debit_retry(existing, &fingerprint, now_s).await;
            }
            Err(_) => return Err(FlowError::LimitExceeded("per-period")),
        }
        let view = self.settle_debit(&row, now_s).await?;
        Ok(Answer {
            created: true,
            view,
        })
    }

    /// A debit id used before: the same answer (finishing a settlement left pending), or a
    /// conflict if the body differs.
    async fn debit_retry(
        &self,
        existing: DebitRow,
        fingerprint: &[u8],
        now_s: i64,
    ) -> Result<Answer<DebitView>, FlowError> {
        if existing.fingerprint != fingerprint {
            return Err(FlowError::Conflict(format!(
                "{} was already used for a different debit",
                existing.id
            )));
        }
        let view = if existing.status == "pending" {
            self.settle_debit(&existing, now_s).await?
        } else {
            Self::debit_view(&existing)?
        };
        Ok(Answer {
            created: false,
            view,
        })
    }

    async fn settle_debit(&self, row: &DebitRow, now_s: i64) -> Result<DebitView, FlowError> {
        let currency = currency_of(&row.currency)?;
        let (creditor, debtor) = (code_of(&row.creditor)?, code_of(&row.debtor)?);
        let mandate = id_of(&row.mandate_id)?;
        let transfer = Transfer {
            id: id_of(&row.id)?,
            debit_account: debtor.settlement_account(currency),
            credit_account: creditor.settlement_account(currency),
            amount: row.amount_minor,
            currency,
            kind: Kind::Single,
            linked: false,
            code: Purpose::DirectDebit.code(),
            user_data: mandate,
            reference: row.reference.clone(),
        };
        let outcome = settled(
            self.switch
                .submit_under_mandate(vec![transfer], creditor, mandate)
                .await,
        )?;
        // Audited as the creditor's participant; the ledger records the mandate's authority.
        let what = Finish {
            what: Settles::Debit,
            id: &row.id,
            parties: [creditor, debtor],
            actor: actor(creditor),
        };
        self.finish(what, outcome, row.release(), now_s, |status, reason| {
            Self::debit_view(&DebitRow {
                status: status.to_owned(),
                reason,
                updated_at_s: now_s,
                ..row.clone()
            })
        })
        .await
    }

    /// Writes how a reserved settlement ended: `settled`, or `refused` with the reason and
    /// the reservation released by `release`; with one event per party (`<kind>.settled` or
    /// `<kind>.refused`) and the audit event. A row already finished (by a concurrent retry)
    /// is answered as stored.
    async fn finish<V: Serialize>(
        &self,
        what: Finish<'_>,
        outcome: Settled,
        release: Step,
        now_s: i64,
        view: impl Fn(&str, Option<String>) -> Result<V, FlowError>,
    ) -> Result<V, FlowError> {
        let (status, reason) = match outcome {
            Settled::Accepted => ("settled", None),
            Settled::Refused(code, _) => ("refused", Some(code.to_owned())),
            Settled::IdConflict => ("refused", Some("id_conflict".to_owned())),
        };
        let after = view(status, reason.clone())?;
        let refused = reason.is_some();
        let mark = store::finish(what.what.table(), what.id, reason.clone(), now_s);
        let steps = if refused {
            vec![mark, release]
        } else {
            vec![mark]
        };
        let subject = format!("{}:{}", what.what.prefix(), what.id);
        let events = to_both(what.parties, what.what.event(refused), &subject, &after);
        let audit = [audit(
            what.actor,
            what.what.audit_action(refused),
            &subject,
            !refused,
            serde_json::json!({ "status": status, "reason": reason }),
        )];
        if self.store.apply(&steps, &events, &audit).await?.is_err() {
            // Finished meanwhile by a concurrent retry: answer what is stored.
            return match what.what {
                Settles::Debit => {
                    let row = self.stored::<DebitRow>(Table::Debits, what.id).await?;
                    view(&row.status, row.reason)
                }
                Settles::Return(_) => {
                    let row = self.stored::<ReturnRow>(Table::Returns, what.id).await?;
                    view(&row.status, row.refusal)
                }
            };
        }
        Ok(after)
    }

    /// The debits of a mandate, newest first (either party).
    pub async fn debits(
        &self,
        caller: ParticipantCode,
        mandate_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<DebitView>, FlowError> {
        let (mandate, _) = self.mandate_row(caller, mandate_id).await?;
        let rows = self.store.debits(&mandate.id, (before, limit)).await?;
        page(rows, limit, |r| r.seq, Self::debit_view)
    }

    // -----------------------------------------------------------------------------------------
    // Returns and refunds

    fn return_view(row: &ReturnRow) -> Result<ReturnView, FlowError> {
        Ok(ReturnView {
            id: row.id.clone(),
            kind: row.kind.clone(),
            original_id: row.original_id.clone(),
            creditor: row.creditor.clone(),
            debtor: row.debtor.clone(),
            currency: row.currency.clone(),
            amount: decimal(row.amount_minor, &row.currency)?,
            reason: row.reason_code.clone(),
            reference: row.reference.clone(),
            status: row.status.clone(),
            refusal: row.refusal.clone(),
            created_at: format_time_s(row.created_at_s),
            updated_at: format_time_s(row.updated_at_s),
        })
    }

    /// A settled transfer the caller is a party of: (creditor, debtor, the transfer).
    async fn original(
        &self,
        caller: ParticipantCode,
        original: Id,
    ) -> Result<(ParticipantCode, ParticipantCode, crate::ledger::Recorded), FlowError> {
        let not_found = || FlowError::NotFound(ErrorCode::FpsTransferNotFound);
        let recorded = self
            .switch
            .transfer(original)
            .await?
            .ok_or_else(not_found)?;
        let t = &recorded.transfer;
        let creditor = account_owner(t.credit_account).map(|(c, _)| c);
        let debtor = account_owner(t.debit_account).map(|(c, _)| c);
        match (creditor, debtor) {
            (Some(c), Some(d)) if c == caller || d == caller => Ok((c, d, recorded)),
            _ => Err(not_found()),
        }
    }

    /// The original's creditor returns (with an ISO reason) or refunds part or all of a settled
    /// transfer: never more in total than the original. Settled creditor → debtor with
    /// `related_id` the original.
    pub async fn return_transfer(
        &self,
        caller: ParticipantCode,
        original_id: Id,
        new: NewReturn,
        now_s: i64,
    ) -> Result<Answer<ReturnView>, FlowError> {
        let code = ErrorCode::FpsReturnInvalid;
        let (creditor, debtor, recorded) = self.original(caller, original_id).await?;
        if creditor != caller {
            return Err(FlowError::Forbidden(
                "only the original transfer's creditor participant returns or refunds it",
            ));
        }
        let t = &recorded.transfer;
        returnable(recorded.result.is_ok(), t.kind, Purpose::from_code(t.code))
            .map_err(|why| FlowError::Invalid(code, vec![FieldError::new("", why)]))?;
        let amount = return_amount(&new, t.currency)?;
        let id = format_id(new.id);
        let original = format_id(original_id);
        let fingerprint = self.fingerprint(&[
            "return",
            new.kind.as_str(),
            &original,
            &amount.minor.to_string(),
            new.reason.as_deref().unwrap_or(""),
            &new.reference,
        ]);
        if let Some(existing) = self.store.by_id::<ReturnRow>(Table::Returns, &id).await? {
            return self.return_retry(existing, &fingerprint, now_s).await;
        }
        let row = ReturnRow {
            seq: 0,
            id: id.clone(),
            kind: new.kind.as_str().to_owned(),
            original_id: original.clone(),
            creditor: creditor.as_str(),
            debtor: debtor.as_str(),
            currency: t.currency.code().to_owned(),
            amount_minor: amount.minor,
            reason_code: new.reason.clone(),
            reference: new.reference.clone(),
            status: "pending".into(),
            refusal: None,
            fingerprint: fingerprint.clone(),
            created_at_s: now_s,
            updated_at_s: now_s,
        };
        let steps = row.reserve(t.amount);
        let subject = format!("{}:{id}", new.kind.as_str());
        let audit = [audit(
            actor(caller),
            "fps.return.create",
            &subject,
            true,
            serde_json::json!({ "kind": row.kind, "original": original, "currency": row.currency, "amount": amount.to_decimal_string(), "reason": row.reason_code }),
        )];
        match self.store.apply(&steps, &[], &audit).await? {
            Ok(()) => {}
            Err(Unchanged(RETURN_ID_TAKEN)) => {
                let existing = self.stored::<ReturnRow>(Table::Returns, &id).await?;
                return self.return_retry(existing, &fingerprint, now_s).await;
            }
            Err(_) => {
                let remaining = self.remaining(&original, t.amount).await?;
                return Err(FlowError::ExceedsOriginal {
                    remaining: Money::from_minor(remaining, t.currency).to_decimal_string(),
                });
            }
        }
        let view = self.settle_return(&row, now_s).await?;
        Ok(Answer {
            created: true,
            view,
        })
    }

    async fn return_retry(
        &self,
        existing: ReturnRow,
        fingerprint: &[u8],
        now_s: i64,
    ) -> Result<Answer<ReturnView>, FlowError> {
        if existing.fingerprint != fingerprint {
            return Err(FlowError::Conflict(format!(
                "{} was already used for a different return or refund",
                existing.id
            )));
        }
        let view = if existing.status == "pending" {
            self.settle_return(&existing, now_s).await?
        } else {
            Self::return_view(&existing)?
        };
        Ok(Answer {
            created: false,
            view,
        })
    }

    async fn settle_return(&self, row: &ReturnRow, now_s: i64) -> Result<ReturnView, FlowError> {
        let currency = currency_of(&row.currency)?;
        let (creditor, debtor) = (code_of(&row.creditor)?, code_of(&row.debtor)?);
        let kind = ReturnKind::parse(&row.kind).ok_or_else(|| corrupt("a return kind"))?;
        let transfer = Transfer {
            id: id_of(&row.id)?,
            // The original's creditor pays back its debtor.
            debit_account: creditor.settlement_account(currency),
            credit_account: debtor.settlement_account(currency),
            amount: row.amount_minor,
            currency,
            kind: Kind::Single,
            linked: false,
            code: kind.purpose().code(),
            user_data: id_of(&row.original_id)?,
            reference: row.reference.clone(),
        };
        let outcome = settled(
            self.switch
                .submit(vec![transfer], Caller::Participant(creditor))
                .await,
        )?;
        let what = Finish {
            what: Settles::Return(kind),
            id: &row.id,
            parties: [creditor, debtor],
            actor: actor(creditor),
        };
        self.finish(what, outcome, row.release(), now_s, |status, refusal| {
            Self::return_view(&ReturnRow {
                status: status.to_owned(),
                refusal,
                updated_at_s: now_s,
                ..row.clone()
            })
        })
        .await
    }

    async fn remaining(&self, original: &str, original_minor: i64) -> Result<i64, FlowError> {
        Ok(original_minor - self.store.returned(original).await?)
    }

    /// The returns and refunds of a transfer (either party of it), newest first, and what
    /// remains of it.
    pub async fn returns(
        &self,
        caller: ParticipantCode,
        original_id: Id,
    ) -> Result<ReturnsPage, FlowError> {
        let (_, _, recorded) = self.original(caller, original_id).await?;
        let original = format_id(original_id);
        let rows = self.store.returns_of(&original).await?;
        let t = &recorded.transfer;
        let remaining = self.remaining(&original, t.amount).await?;
        Ok(ReturnsPage {
            original_id: original,
            remaining: Money::from_minor(remaining, t.currency).to_decimal_string(),
            returns: rows
                .iter()
                .map(Self::return_view)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// What a reserved settlement was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settles {
    Debit,
    Return(ReturnKind),
}

impl Settles {
    fn table(self) -> Table {
        match self {
            Settles::Debit => Table::Debits,
            Settles::Return(_) => Table::Returns,
        }
    }

    /// The subject's prefix: `debit`, `return` or `refund`.
    fn prefix(self) -> &'static str {
        match self {
            Settles::Debit => "debit",
            Settles::Return(kind) => kind.as_str(),
        }
    }

    fn event(self, refused: bool) -> &'static str {
        match (self, refused) {
            (Settles::Debit, false) => "debit.settled",
            (Settles::Debit, true) => "debit.refused",
            (Settles::Return(ReturnKind::Return), false) => "return.settled",
            (Settles::Return(ReturnKind::Return), true) => "return.refused",
            (Settles::Return(ReturnKind::Refund), false) => "refund.settled",
            (Settles::Return(ReturnKind::Refund), true) => "refund.refused",
        }
    }

    fn audit_action(self, refused: bool) -> &'static str {
        match (self, refused) {
            (Settles::Debit, false) => "fps.debit.settled",
            (Settles::Debit, true) => "fps.debit.refused",
            (Settles::Return(_), false) => "fps.return.settled",
            (Settles::Return(_), true) => "fps.return.refused",
        }
    }
}

/// Which row a settlement's outcome is written to, and for whom.
struct Finish<'a> {
    what: Settles,
    id: &'a str,
    parties: [ParticipantCode; 2],
    actor: String,
}

/// A return's amount, in the original's currency.
fn return_amount(new: &NewReturn, original: Currency) -> Result<Money, FlowError> {
    let code = ErrorCode::FpsReturnInvalid;
    if new.currency.is_some_and(|c| c != original) {
        return Err(invalid(
            code,
            "/currency",
            "must be the original transfer's currency",
        ));
    }
    match Money::parse_decimal(&new.amount, original) {
        Ok(m) if m.minor > 0 => Ok(m),
        Ok(_) => Err(invalid(code, "/amount", "must be more than zero")),
        Err(e) => Err(invalid(code, "/amount", e.to_string())),
    }
}

fn debit_fault(fault: DebitFault) -> FlowError {
    match fault {
        DebitFault::NotActive(status) => FlowError::State(
            ErrorCode::FpsMandateState,
            format!("the mandate is {}, not active", status.as_str()),
        ),
        DebitFault::Field(pointer, why) => invalid(ErrorCode::FpsDebitInvalid, pointer, why),
        DebitFault::ExceedsPerDebit => FlowError::LimitExceeded("per-debit"),
    }
}

fn mandate_audit_action(action: MandateAction) -> &'static str {
    match action {
        MandateAction::Confirm => "fps.mandate.confirm",
        MandateAction::Reject => "fps.mandate.reject",
        MandateAction::Suspend => "fps.mandate.suspend",
        MandateAction::Resume => "fps.mandate.resume",
        MandateAction::Cancel => "fps.mandate.cancel",
    }
}

fn mandate_terms(row: &MandateRow) -> Result<MandateTerms, FlowError> {
    let currency = currency_of(&row.currency)?;
    Ok(MandateTerms {
        status: MandateStatus::parse(&row.status).ok_or_else(|| corrupt("a mandate status"))?,
        per_debit: Money::from_minor(row.per_debit_minor, currency),
        period: Period::parse(&row.period).ok_or_else(|| corrupt("a mandate period"))?,
        period_limit: row.period_limit_minor,
        valid_from: date_of(&row.valid_from)?,
        valid_until: row.valid_until.as_deref().map(date_of).transpose()?,
    })
}

/// A page of views of `rows` (fetched with `limit`), with the cursor of the next page.
fn page<R, V>(
    rows: Vec<R>,
    limit: i64,
    seq: impl Fn(&R) -> i64,
    view: impl Fn(&R) -> Result<V, FlowError>,
) -> Result<Page<V>, FlowError> {
    let limit = limit.clamp(1, PAGE_MAX);
    let next = if i64::try_from(rows.len()).unwrap_or(0) == limit {
        rows.last().map(&seq)
    } else {
        None
    };
    Ok(Page {
        items: rows.iter().map(view).collect::<Result<_, _>>()?,
        next,
    })
}

/// Rows created with a fingerprint of their request.
pub trait Fingerprinted:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
    fn id(&self) -> &str;
    fn fingerprint(&self) -> &[u8];
}

macro_rules! fingerprinted {
    ($($row:ty),*) => {$(
        impl Fingerprinted for $row {
            fn id(&self) -> &str {
                &self.id
            }

            fn fingerprint(&self) -> &[u8] {
                &self.fingerprint
            }
        }
    )*};
}

fingerprinted!(RequestRow, MandateRow, DebitRow, ReturnRow);
