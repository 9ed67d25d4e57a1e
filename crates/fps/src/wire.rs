//! The switch's JSON shapes, and their conversion to ledger transfers with every fault named.

use bauhinia_core::{Currency, FieldError, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ledger::model::{Kind, Outcome, Recorded, REFERENCE_MAX};
use crate::ledger::{Id, Transfer};
use crate::switch::{account_owner, ParticipantCode};

/// What a transfer is for. Stored as the transfer's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Person to person.
    #[default]
    P2p,
    /// Person to merchant.
    P2m,
    /// Institution to person (payroll, by HKID proxy).
    Payroll,
    /// Answers a request to pay.
    RequestToPay,
    /// A direct debit under an eDDA mandate.
    DirectDebit,
    /// A return of an earlier transfer (`related_id`).
    Return,
    /// A refund of an earlier transfer (`related_id`).
    Refund,
    /// An e-CNY wallet top-up.
    EcnyTopUp,
    /// RTGS funding of a settlement account (operator only).
    SettlementFunding,
    /// RTGS defunding of a settlement account (operator only).
    SettlementDefunding,
    Other,
}

impl Purpose {
    pub const ALL: [Purpose; 11] = [
        Purpose::P2p,
        Purpose::P2m,
        Purpose::Payroll,
        Purpose::RequestToPay,
        Purpose::DirectDebit,
        Purpose::Return,
        Purpose::Refund,
        Purpose::EcnyTopUp,
        Purpose::SettlementFunding,
        Purpose::SettlementDefunding,
        Purpose::Other,
    ];

    pub fn code(self) -> u16 {
        match self {
            Purpose::Other => 0,
            Purpose::P2p => 1,
            Purpose::P2m => 2,
            Purpose::Payroll => 3,
            Purpose::RequestToPay => 4,
            Purpose::DirectDebit => 5,
            Purpose::Return => 6,
            Purpose::Refund => 7,
            Purpose::EcnyTopUp => 8,
            Purpose::SettlementFunding => 9,
            Purpose::SettlementDefunding => 10,
        }
    }

    pub fn from_code(code: u16) -> Purpose {
        Purpose::ALL
            .into_iter()
            .find(|p| p.code() == code)
            .unwrap_or(Purpose::Other)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Settles at once.
    #[default]
    Single,
    /// Reserves the amount until posted, voided or timed out.
    Pending,
    /// Posts a pending transfer (`pending_id`), for its amount or less.
    Post,
    /// Voids a pending transfer (`pending_id`).
    Void,
}

/// One transfer between two participants' settlement accounts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The client's id for this transfer (a UUID; time-ordered UUIDv7 recommended). A retry
    /// with the same id and body returns the original answer.
    pub id: String,
    /// The paying participant's code: the caller itself.
    pub debtor: String,
    /// The receiving participant's code (may be omitted to post or void).
    #[serde(default)]
    pub creditor: Option<String>,
    #[schema(value_type = String, example = "HKD")]
    pub currency: Currency,
    /// A decimal amount such as `125.50` (omit to post or void the whole pending amount).
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub mode: Mode,
    /// The pending transfer to post or void.
    #[serde(default)]
    pub pending_id: Option<String>,
    /// For a pending transfer: seconds until it times out (1 to 86,400).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    /// Linked to the next transfer of the same request: all succeed or none.
    #[serde(default)]
    pub linked: bool,
    #[serde(default)]
    pub purpose: Purpose,
    /// Remittance information (at most 140 characters).
    #[serde(default)]
    pub reference: String,
    /// An earlier transfer this one refers to (the original of a return or refund).
    #[serde(default)]
    pub related_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Up to 8,189 transfers, answered in order.
    pub transfers: Vec<TransferRequest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Accepted,
    Refused,
}

/// The answer to one transfer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferResult {
    pub id: String,
    pub status: Status,
    /// Why it was refused (a stable code), when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
    /// When the ledger answered it (RFC 3339, nanoseconds), when it was accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `true` when this id had been answered before: this is the original answer.
    pub replayed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<TransferResult>,
}

/// A recorded transfer, as shown to the participants it names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferView {
    pub id: String,
    pub debtor: Option<String>,
    pub creditor: Option<String>,
    #[schema(value_type = String)]
    pub currency: Currency,
    /// Decimal, e.g. `125.50`.
    pub amount: String,
    pub mode: Mode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_id: Option<String>,
    pub purpose: Purpose,
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_id: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub timestamp: String,
    /// Who submitted it (`participant:004`, `operator`).
    pub submitted_by: String,
}

pub fn format_id(id: Id) -> String {
    uuid::Uuid::from_u128(id).hyphenated().to_string()
}

pub fn parse_id(text: &str) -> Option<Id> {
    uuid::Uuid::try_parse(text).ok().map(|u| u.as_u128())
}

pub fn format_time(ns: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl TransferResult {
    pub fn from_outcome(id: &str, outcome: Outcome) -> TransferResult {
        let replayed = matches!(outcome, Outcome::Exists(_));
        match outcome.result() {
            Ok(ts) => TransferResult {
                id: id.to_owned(),
                status: Status::Accepted,
                reason: None,
                detail: None,
                timestamp: Some(format_time(ts)),
                replayed,
            },
            Err(Some(r)) => TransferResult {
                id: id.to_owned(),
                status: Status::Refused,
                reason: Some(r.code()),
                detail: Some(r.text()),
                timestamp: None,
                replayed,
            },
            Err(None) => TransferResult {
                id: id.to_owned(),
                status: Status::Refused,
                reason: Some("id_conflict"),
                detail: Some("This transfer id was already used for a different request."),
                timestamp: None,
                replayed: true,
            },
        }
    }
}

impl TransferView {
    pub fn from_recorded(r: &Recorded) -> TransferView {
        let t = &r.transfer;
        let (mode, pending_id) = match t.kind {
            Kind::Single => (Mode::Single, None),
            Kind::Pending { .. } => (Mode::Pending, None),
            Kind::Post { pending_id } => (Mode::Post, Some(format_id(pending_id))),
            Kind::Void { pending_id } => (Mode::Void, Some(format_id(pending_id))),
        };
        // A participant's code, or `RTGS` for the central side of funding and defunding.
        let party = |id: Id| match account_owner(id) {
            Some((code, _)) => Some(code.as_str()),
            None => (id >> 64 == 2).then(|| "RTGS".to_owned()),
        };
        TransferView {
            id: format_id(t.id),
            debtor: party(t.debit_account),
            creditor: party(t.credit_account),
            currency: t.currency,
            amount: Money::from_minor(t.amount, t.currency).to_decimal_string(),
            mode,
            pending_id,
            purpose: Purpose::from_code(t.code),
            reference: t.reference.clone(),
            related_id: (t.user_data != 0).then(|| format_id(t.user_data)),
            status: if r.result.is_ok() {
                Status::Accepted
            } else {
                Status::Refused
            },
            reason: r.result.err().map(|e| e.code()),
            timestamp: format_time(r.timestamp_ns),
            submitted_by: r.actor.clone(),
        }
    }
}

impl TransferRequest {
    /// Checks the request and builds the ledger transfer; `at` is the JSON Pointer prefix
    /// (`` or `/transfers/3`). Who may send it is the switch's rule ([`crate::switch::Switch::submit`]).
    pub fn to_transfer(&self, at: &str, errors: &mut Vec<FieldError>) -> Option<Transfer> {
        let before = errors.len();
        let mut fail = |field: &str, detail: &str| {
            errors.push(FieldError::new(format!("{at}/{field}"), detail));
        };
        let id = parse_id(&self.id);
        if id.is_none() {
            fail(
                "id",
                "must be a UUID such as 01890a5d-ac96-774b-bcce-b302099a8057",
            );
        }
        if id == Some(0) {
            fail("id", "must not be the nil UUID");
        }
        let debtor = ParticipantCode::parse(&self.debtor);
        if debtor.is_none() {
            fail("debtor", "must be a 3-digit participant code such as 004");
        }
        if matches!(
            self.purpose,
            Purpose::SettlementFunding | Purpose::SettlementDefunding
        ) {
            fail(
                "purpose",
                "settlement funding and defunding go through /api/v1/fps/settlement",
            );
        }
        let two_phase_end = matches!(self.mode, Mode::Post | Mode::Void);
        let creditor = match &self.creditor {
            Some(text) => {
                let code = ParticipantCode::parse(text);
                if code.is_none() {
                    fail("creditor", "must be a 3-digit participant code such as 012");
                }
                code
            }
            None if two_phase_end => None,
            None => {
                fail("creditor", "is required");
                None
            }
        };
        let amount = match &self.amount {
            Some(text) => match Money::parse_decimal(text, self.currency) {
                Ok(m) if m.minor > 0 => Some(m.minor),
                Ok(_) => {
                    fail("amount", "must be more than zero");
                    None
                }
                Err(e) => {
                    fail("amount", &e.to_string());
                    None
                }
            },
            None if two_phase_end => Some(0),
            None => {
                fail("amount", "is required");
                None
            }
        };
        let pending_id = match (&self.pending_id, two_phase_end) {
            (Some(text), true) => {
                let p = parse_id(text);
                if p.is_none() {
                    fail("pending_id", "must be a UUID");
                }
                p
            }
            (None, true) => {
                fail("pending_id", "is required to post or void");
                None
            }
            (Some(_), false) => {
                fail("pending_id", "is only for mode post or void");
                None
            }
            (None, false) => None,
        };
        let kind = match self.mode {
            Mode::Single => {
                if self.timeout_seconds.is_some() {
                    fail("timeout_seconds", "is only for mode pending");
                }
                Some(Kind::Single)
            }
            Mode::Pending => match self.timeout_seconds {
                Some(t) if (1..=crate::ledger::model::TIMEOUT_MAX_S).contains(&t) => {
                    Some(Kind::Pending { timeout_s: t })
                }
                Some(_) => {
                    fail("timeout_seconds", "must be 1 to 86400");
                    None
                }
                None => {
                    fail("timeout_seconds", "is required for a pending transfer");
                    None
                }
            },
            Mode::Post => pending_id.map(|pending_id| Kind::Post { pending_id }),
            Mode::Void => pending_id.map(|pending_id| Kind::Void { pending_id }),
        };
        if self.reference.chars().count() > REFERENCE_MAX {
            fail("reference", "must be at most 140 characters");
        }
        let related = match &self.related_id {
            Some(text) => {
                let r = parse_id(text);
                if r.is_none() {
                    fail("related_id", "must be a UUID");
                }
                r
            }
            None => Some(0),
        };
        if errors.len() > before {
            return None;
        }
        Some(Transfer {
            id: id?,
            debit_account: debtor?.settlement_account(self.currency),
            credit_account: creditor.map_or(0, |c| c.settlement_account(self.currency)),
            amount: amount?,
            currency: self.currency,
            kind: kind?,
            linked: self.linked,
            code: self.purpose.code(),
            user_data: related?,
            reference: self.reference.clone(),
        })
    }
}
