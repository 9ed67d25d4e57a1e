//! The flows' JSON shapes: request bodies, their checked conversion to the service's inputs
//! (every fault named by a JSON Pointer), and the views answered — which are also the payloads
//! of the outbox events, so they never carry an account reference unless the view is for the
//! participant that holds it.

use bauhinia_core::{Currency, FieldError, Money};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::domain::{MandateKind, Period, ReturnKind, REFERENCE_CHARS_MAX};
use crate::ledger::Id;
use crate::proxy::AccountReference;
use crate::switch::ParticipantCode;
use crate::wire::parse_id;

/// Collects field faults while a body is converted.
#[derive(Debug, Default)]
pub struct Faults(pub Vec<FieldError>);

impl Faults {
    pub fn add(&mut self, pointer: &str, why: impl Into<String>) {
        self.0.push(FieldError::new(pointer, why));
    }

    pub fn id(&mut self, pointer: &str, text: &str) -> Option<Id> {
        let id = parse_id(text).filter(|id| *id != 0);
        if id.is_none() {
            self.add(pointer, "must be a non-nil UUID");
        }
        id
    }

    pub fn code(&mut self, pointer: &str, text: &str) -> Option<ParticipantCode> {
        let code = ParticipantCode::parse(text);
        if code.is_none() {
            self.add(pointer, "must be a 3-digit participant code such as 004");
        }
        code
    }

    pub fn amount(&mut self, pointer: &str, text: &str, currency: Currency) -> Option<Money> {
        match Money::parse_decimal(text, currency) {
            Ok(m) if m.minor > 0 => Some(m),
            Ok(_) => {
                self.add(pointer, "must be more than zero");
                None
            }
            Err(e) => {
                self.add(pointer, e.to_string());
                None
            }
        }
    }

    pub fn reference(&mut self, pointer: &str, text: &str) -> String {
        if text.chars().count() > REFERENCE_CHARS_MAX || text.chars().any(char::is_control) {
            self.add(
                pointer,
                "must be at most 140 characters, without control characters",
            );
        }
        text.to_owned()
    }

    pub fn date(&mut self, pointer: &str, text: &str) -> Option<Date> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = Date::parse(text, &format).ok();
        if date.is_none() {
            self.add(pointer, "must be a date written YYYY-MM-DD");
        }
        date
    }

    pub fn account(&mut self, pointer: &str, text: &str) -> Option<AccountReference> {
        AccountReference::parse(text)
            .map_err(|why| self.add(pointer, why))
            .ok()
    }

    /// `Ok` when no fault was found.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

pub fn format_date(date: Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    date.format(&format).unwrap_or_default()
}

pub fn format_time_s(s: i64) -> String {
    crate::wire::format_time(s.saturating_mul(1_000_000_000))
}

// ---------------------------------------------------------------------------------------------
// Requests to pay

/// A request to pay, made by the payee's participant.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestToPayBody {
    /// The client's id (a UUID): a retry with the same id and body gets the same answer.
    pub id: String,
    /// The payer's participant code.
    pub payer: String,
    #[schema(value_type = String, example = "HKD")]
    pub currency: Currency,
    /// Decimal, e.g. `88.00`.
    pub amount: String,
    /// Remittance information (at most 140 characters).
    #[serde(default)]
    pub reference: String,
    /// When the request lapses (RFC 3339); by default in 24 hours, at most 30 days ahead.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The payee's name as the payer will see it masked (`CHAN T** M**`, `陳*明`); only the
    /// mask is kept.
    pub payee_name: String,
}

/// A request to pay, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub id: Id,
    pub payer: ParticipantCode,
    pub amount: Money,
    pub reference: String,
    pub expires_at_s: Option<i64>,
    pub payee_masked_name: String,
}

impl RequestToPayBody {
    pub fn check(&self) -> Result<NewRequest, Vec<FieldError>> {
        let mut f = Faults::default();
        let id = f.id("/id", &self.id);
        let payer = f.code("/payer", &self.payer);
        let amount = f.amount("/amount", &self.amount, self.currency);
        let reference = f.reference("/reference", &self.reference);
        let expires_at_s = self.expires_at.as_deref().and_then(|text| {
            let at =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .ok()
                    .map(time::OffsetDateTime::unix_timestamp);
            if at.is_none() {
                f.add(
                    "/expires_at",
                    "must be an RFC 3339 time such as 2026-03-01T12:00:00+08:00",
                );
            }
            at
        });
        let masked = crate::proxy::domain::mask_name(&self.payee_name)
            .map_err(|why| f.add("/payee_name", why))
            .ok();
        f.finish()?;
        match (id, payer, amount, masked) {
            (Some(id), Some(payer), Some(amount), Some(payee_masked_name)) => Ok(NewRequest {
                id,
                payer,
                amount,
                reference,
                expires_at_s,
                payee_masked_name,
            }),
            _ => Err(Vec::new()),
        }
    }
}

/// A request to pay, as both participants see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub payee: String,
    pub payer: String,
    pub currency: String,
    /// Decimal, e.g. `88.00`.
    pub amount: String,
    pub reference: String,
    pub payee_masked_name: String,
    /// RFC 3339.
    pub expires_at: String,
    /// `pending`, `settling` (being paid), `paid`, `declined`, `cancelled` or `expired`.
    pub status: String,
    /// The transfer that paid it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Pays a request: the payer's participant names the transfer's id.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayBody {
    /// The id of the transfer that pays it (a UUID): a retry with the same id is answered once.
    pub transfer_id: String,
}

// ---------------------------------------------------------------------------------------------
// Mandates

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MandateKindName {
    /// Set up by the debtor's (payer's) participant: active at once.
    Standard,
    /// Set up by the creditor's (payee's) participant: pending until the debtor's confirms.
    Simplified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodName {
    Day,
    Week,
    Month,
    Year,
}

/// An eDDA mandate, set up by the debtor's participant (`standard`) or the creditor's
/// (`simplified`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MandateBody {
    /// The client's id (a UUID).
    pub id: String,
    pub kind: MandateKindName,
    /// The creditor's (merchant's) participant code.
    pub creditor: String,
    /// The creditor's account reference at its participant (kept sealed).
    pub creditor_reference: String,
    /// The debtor's participant code.
    pub debtor: String,
    /// The debtor's account reference at its participant (kept sealed).
    pub debtor_reference: String,
    /// The debtor's name; only its mask is kept.
    pub debtor_name: String,
    #[schema(value_type = String, example = "HKD")]
    pub currency: Currency,
    /// The most one debit may take (decimal).
    pub per_debit_limit: String,
    /// The most all debits in one period may take together (decimal).
    pub period_limit: String,
    /// The period (Hong Kong calendar; weeks begin on Monday).
    pub period: PeriodName,
    /// First day of validity, YYYY-MM-DD.
    pub valid_from: String,
    /// Last day of validity, YYYY-MM-DD (none: until cancelled).
    #[serde(default)]
    pub valid_until: Option<String>,
}

/// A mandate, checked.
#[derive(Debug, Clone)]
pub struct NewMandate {
    pub id: Id,
    pub kind: MandateKind,
    pub creditor: ParticipantCode,
    pub creditor_reference: AccountReference,
    pub debtor: ParticipantCode,
    pub debtor_reference: AccountReference,
    pub debtor_masked_name: String,
    pub per_debit: Money,
    pub period: Period,
    pub period_limit: Money,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
}

impl MandateBody {
    pub fn check(&self) -> Result<NewMandate, Vec<FieldError>> {
        let mut f = Faults::default();
        let id = f.id("/id", &self.id);
        let creditor = f.code("/creditor", &self.creditor);
        let debtor = f.code("/debtor", &self.debtor);
        if creditor.is_some() && creditor == debtor {
            f.add("/debtor", "must be another participant than the creditor");
        }
        let creditor_reference = f.account("/creditor_reference", &self.creditor_reference);
        let debtor_reference = f.account("/debtor_reference", &self.debtor_reference);
        let masked = crate::proxy::domain::mask_name(&self.debtor_name)
            .map_err(|why| f.add("/debtor_name", why))
            .ok();
        let per_debit = f.amount("/per_debit_limit", &self.per_debit_limit, self.currency);
        let period_limit = f.amount("/period_limit", &self.period_limit, self.currency);
        let valid_from = f.date("/valid_from", &self.valid_from);
        let valid_until = self
            .valid_until
            .as_deref()
            .map(|d| f.date("/valid_until", d));
        f.finish()?;
        let kind = match self.kind {
            MandateKindName::Standard => MandateKind::Standard,
            MandateKindName::Simplified => MandateKind::Simplified,
        };
        let period = match self.period {
            PeriodName::Day => Period::Day,
            PeriodName::Week => Period::Week,
            PeriodName::Month => Period::Month,
            PeriodName::Year => Period::Year,
        };
        match (
            id,
            creditor,
            creditor_reference,
            debtor,
            debtor_reference,
            masked,
            per_debit,
            period_limit,
            valid_from,
        ) {
            (
                Some(id),
                Some(creditor),
                Some(creditor_reference),
                Some(debtor),
                Some(debtor_reference),
                Some(debtor_masked_name),
                Some(per_debit),
                Some(period_limit),
                Some(valid_from),
            ) => Ok(NewMandate {
                id,
                kind,
                creditor,
                creditor_reference,
                debtor,
                debtor_reference,
                debtor_masked_name,
                per_debit,
                period,
                period_limit,
                valid_from,
                valid_until: valid_until.flatten(),
            }),
            _ => Err(Vec::new()),
        }
    }
}

/// A mandate as a participant sees it: its own side's account reference only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MandateView {
    pub id: String,
    /// `standard` or `simplified`.
    pub kind: String,
    pub creditor: String,
    /// Shown only to the creditor's participant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creditor_reference: Option<String>,
    pub debtor: String,
    /// Shown only to the debtor's participant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debtor_reference: Option<String>,
    pub debtor_masked_name: String,
    pub currency: String,
    pub per_debit_limit: String,
    pub period_limit: String,
    /// `day`, `week`, `month` or `year`.
    pub period: String,
    pub valid_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// `pending`, `active`, `suspended`, `cancelled` or `rejected`.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

// ---------------------------------------------------------------------------------------------
// Direct debits

/// A direct debit, presented by the creditor's participant under an active mandate.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DebitBody {
    /// The client's id (a UUID); also the id of the transfer that settles it.
    pub id: String,
    #[schema(value_type = String, example = "HKD")]
    pub currency: Currency,
    /// Decimal.
    pub amount: String,
    #[serde(default)]
    pub reference: String,
    /// The collection date, YYYY-MM-DD (Hong Kong); today when omitted; not in the future.
    #[serde(default)]
    pub collection_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDebit {
    pub id: Id,
    pub amount: Money,
    pub reference: String,
    pub collection_date: Option<Date>,
}

impl DebitBody {
    pub fn check(&self) -> Result<NewDebit, Vec<FieldError>> {
        let mut f = Faults::default();
        let id = f.id("/id", &self.id);
        let amount = f.amount("/amount", &self.amount, self.currency);
        let reference = f.reference("/reference", &self.reference);
        let collection_date = self
            .collection_date
            .as_deref()
            .map(|d| f.date("/collection_date", d));
        f.finish()?;
        match (id, amount) {
            (Some(id), Some(amount)) => Ok(NewDebit {
                id,
                amount,
                reference,
                collection_date: collection_date.flatten(),
            }),
            _ => Err(Vec::new()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DebitView {
    /// Also the id of the transfer that settles it.
    pub id: String,
    pub mandate_id: String,
    pub creditor: String,
    pub debtor: String,
    pub currency: String,
    pub amount: String,
    pub reference: String,
    pub collection_date: String,
    /// `pending` (being settled), `settled` or `refused`.
    pub status: String,
    /// Why the ledger refused it (a stable code, e.g. `exceeds_debit_cap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

// ---------------------------------------------------------------------------------------------
// Returns and refunds

/// A return (with an ISO 20022 reason) or a refund of a settled transfer, by its creditor.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    /// The client's id (a UUID); also the id of the transfer that pays it back.
    pub id: String,
    /// Decimal; at most what remains of the original after earlier returns and refunds. The
    /// currency is the original's.
    pub amount: String,
    /// ISO 20022 return reason: required for a return (`AC04` closed account, `AM09` wrong
    /// amount, `MD06` a direct debit the customer disputes, …), optional for a refund.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReturn {
    pub id: Id,
    pub kind: ReturnKind,
    /// Decimal text, parsed in the original's currency by the service.
    pub amount: String,
    /// The currency the amount was given in, when the message names one (ISO 20022): it must
    /// be the original's.
    pub currency: Option<Currency>,
    pub reason: Option<String>,
    pub reference: String,
}

impl ReturnBody {
    pub fn check(&self, kind: ReturnKind) -> Result<NewReturn, Vec<FieldError>> {
        let mut f = Faults::default();
        let id = f.id("/id", &self.id);
        let reference = f.reference("/reference", &self.reference);
        if let Err(why) = super::domain::check_reason(kind, self.reason.as_deref()) {
            f.add("/reason", why);
        }
        f.finish()?;
        id.map(|id| NewReturn {
            id,
            kind,
            amount: self.amount.clone(),
            currency: None,
            reason: self.reason.clone(),
            reference,
        })
        .ok_or_else(Vec::new)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReturnView {
    /// Also the id of the transfer that pays it back.
    pub id: String,
    /// `return` or `refund`.
    pub kind: String,
    pub original_id: String,
    /// The original's creditor, who pays back.
    pub creditor: String,
    /// The original's debtor, who is paid back.
    pub debtor: String,
    pub currency: String,
    pub amount: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub reference: String,
    /// `pending` (being settled), `settled` or `refused`.
    pub status: String,
    /// Why the ledger refused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The returns and refunds of one transfer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnsPage {
    pub original_id: String,
    /// What remains to be returned or refunded (decimal).
    pub remaining: String,
    pub returns: Vec<ReturnView>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use proptest::prelude::*;

    fn request(amount: &str, payer: &str, name: &str) -> RequestToPayBody {
        RequestToPayBody {
            id: "0190bbbb-0000-7000-8000-000000000001".into(),
            payer: payer.into(),
            currency: Currency::Hkd,
            amount: amount.into(),
            reference: String::new(),
            expires_at: None,
            payee_name: name.into(),
        }
    }

    #[test]
    fn faults_name_every_field() {
        let bad = RequestToPayBody {
            id: "nope".into(),
            expires_at: Some("tomorrow".into()),
            ..request("1.001", "4", "")
        };
        let pointers: Vec<String> = bad
            .check()
            .unwrap_err()
            .iter()
            .map(|e| e.field().to_owned())
            .collect();
        assert_eq!(
            pointers,
            ["id", "payer", "amount", "expires_at", "payee_name"]
        );
        let ok = request("88.5", "004", "Chan Tai Man").check().unwrap();
        assert_eq!(ok.amount.minor, 8_850);
        assert_eq!(ok.payee_masked_name, "CHAN T** M**");
    }

    proptest! {
        /// Any text in any field is either accepted or refused with named fields — never a
        /// panic, and an accepted amount is exactly the decimal given.
        #[test]
        fn request_bodies_never_panic(
            amount in "\\PC{0,24}",
            payer in "\\PC{0,6}",
            name in "\\PC{0,40}",
            cents in 1i64..10_000_000,
        ) {
            match request(&amount, &payer, &name).check() {
                Ok(new) => prop_assert!(new.amount.minor > 0),
                Err(errors) => prop_assert!(!errors.is_empty()),
            }
            let text = format!("{}.{:02}", cents / 100, cents % 100);
            let ok = request(&text, "012", "Wong").check().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(ok.amount.minor, cents);
        }
    }
}
