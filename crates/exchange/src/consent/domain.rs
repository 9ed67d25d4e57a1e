//! The consent: what its owner agrees to share, with whom, why and for how long; its lifecycle
//! (one transition table); and the authorisation of a data request against a consent. (Reading
//! a consumer's request into terms is `request.rs`, re-exported here.) Pure: no I/O, no clock (the time is
//! always an argument, in Unix seconds), no SQL.
//!
//! A fetch is allowed only by [`authorise`]; a status changes only through [`transition`].

use bauhinia_core::{ErrorCode, Localized};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// The longest a consent may be valid: one year. IADS consents last "until revoked or expired";
/// a year bounds what a forgotten consent can leak and matches the yearly re-consent most
/// banks ask of their customers.
pub const VALIDITY_MAX_S: i64 = 365 * DAY_S;
/// How long the owner has to approve or reject a request before it expires.
pub const APPROVAL_WINDOW_S: i64 = 15 * 60;
/// The most data products one consent may name.
pub const PRODUCTS_MAX: usize = 16;
/// The most providers one consent may name.
pub const PROVIDERS_MAX: usize = 8;
/// The longest id (participant, resident, company, product) accepted, in bytes.
pub const ID_LEN_MAX: usize = 64;
/// The longest purpose text, in characters.
pub const PURPOSE_TEXT_CHARS_MAX: usize = 500;
/// The highest frequency value (fetches per unit).
pub const FREQUENCY_VALUE_MAX: u32 = 1000;
/// The highest data-life value (units a STORE consumer may keep the data).
pub const DATA_LIFE_VALUE_MAX: u32 = 120;
/// The longest return URL a consent request may carry.
pub const RETURN_URL_LEN_MAX: usize = 2048;
/// The earliest date a data range may start: 1970-01-01.
pub const DATA_RANGE_FROM_MIN_S: i64 = 0;
/// The instants RFC 3339 can write in UTC, 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z. Every
/// time of the terms lies here, so [`rfc3339`] writes each as a date-time (a receipt shows it).
pub const RFC3339_UTC_RANGE_S: std::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

pub use super::request::{check_terms, parse_request, REQUEST_FIELDS};

const HOUR_S: i64 = 3600;
const DAY_S: i64 = 24 * HOUR_S;
/// Hong Kong Time, UTC+8 all year: frequency windows of a day, a month or a year follow the
/// owner's calendar, not UTC's.
const HKT_OFFSET_S: i32 = 8 * 3600;

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// 1 to [`ID_LEN_MAX`] characters from `A–Z a–z 0–9 . _ : -`.
            pub fn parse(text: &str) -> Option<$name> {
                let ok = !text.is_empty()
                    && text.len() <= ID_LEN_MAX
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
                ok.then(|| $name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(text: String) -> Result<Self, String> {
                $name::parse(&text).ok_or_else(|| format!("not a valid {}", stringify!($name)))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// A consent's id (a UUID when Bauhinia makes it).
    ConsentId
);
opaque_id!(
    /// The identity module's resident id: opaque here, never an HKID.
    ResidentId
);
opaque_id!(
    /// A participant of the exchange (a data consumer or provider) by its directory id.
    ParticipantId
);
opaque_id!(
    /// A company (its Business Registration or Companies Registry number, or a CorpID later).
    CompanyId
);
opaque_id!(
    /// A data product of the catalogue, e.g. `iads.balance`.
    ProductId
);

/// Why the data is wanted: a small vocabulary in the spirit of Account Aggregator's purpose
/// codes. The code is what machines compare; the label is what the owner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PurposeCode {
    #[serde(rename = "101")]
    AccountOpening,
    #[serde(rename = "102")]
    CreditAssessment,
    #[serde(rename = "103")]
    LoanMonitoring,
    #[serde(rename = "104")]
    WealthManagement,
    #[serde(rename = "105")]
    PersonalFinance,
    #[serde(rename = "106")]
    InsuranceUnderwriting,
}

impl PurposeCode {
    pub const ALL: [PurposeCode; 6] = [
        PurposeCode::AccountOpening,
        PurposeCode::CreditAssessment,
        PurposeCode::LoanMonitoring,
        PurposeCode::WealthManagement,
        PurposeCode::PersonalFinance,
        PurposeCode::InsuranceUnderwriting,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            PurposeCode::AccountOpening => "101",
            PurposeCode::CreditAssessment => "102",
            PurposeCode::LoanMonitoring => "103",
            PurposeCode::WealthManagement => "104",
            PurposeCode::PersonalFinance => "105",
            PurposeCode::InsuranceUnderwriting => "106",
        }
    }

    pub fn parse(text: &str) -> Option<PurposeCode> {
        PurposeCode::ALL.into_iter().find(|p| p.code() == text)
    }

    /// The category a consent receipt files the purpose under.
    pub const fn category(self) -> &'static str {
        match self {
            PurposeCode::AccountOpening => "customer-onboarding",
            PurposeCode::CreditAssessment | PurposeCode::LoanMonitoring => "credit",
            PurposeCode::WealthManagement | PurposeCode::PersonalFinance => "financial-advice",
            PurposeCode::InsuranceUnderwriting => "insurance",
        }
    }

    /// What the owner reads, in the three portal languages.
    pub fn label(self) -> Localized {
        let (zh_hant, zh_hans, en) = match self {
            PurposeCode::AccountOpening => ("開立戶口", "开立户口", "Opening an account"),
            PurposeCode::CreditAssessment => (
                "信貸評估",
                "信贷评估",
                "Assessing an application for credit",
            ),
            PurposeCode::LoanMonitoring => ("貸款監察", "贷款监察", "Monitoring an existing loan"),
            PurposeCode::WealthManagement => ("財富管理", "财富管理", "Wealth management advice"),
            PurposeCode::PersonalFinance => (
                "個人理財及綜合結單",
                "个人理财及综合结单",
                "Personal finance and combined statements",
            ),
            PurposeCode::InsuranceUnderwriting => {
                ("保險核保", "保险核保", "Insurance underwriting")
            }
        };
        Localized {
            zh_hant: zh_hant.to_owned(),
            zh_hans: zh_hans.to_owned(),
            en: en.to_owned(),
        }
    }
}

/// The purpose: a code of the vocabulary and the consumer's own words for the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    pub code: PurposeCode,
    pub text: String,
}

/// Whose data it is, and so who approves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Resident(ResidentId),
    /// A company acting through a representative resident (upgraded to CorpID when that
    /// module lands): only the representative may approve or manage the consent.
    Company {
        company: CompanyId,
        representative: ResidentId,
    },
}

impl Owner {
    /// The one resident who may approve, reject, pause, resume and revoke.
    pub fn approver(&self) -> &ResidentId {
        match self {
            Owner::Resident(resident) => resident,
            Owner::Company { representative, .. } => representative,
        }
    }

    /// `{"resident": id}` or `{"company": id, "representative": id}`, as requests name it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Owner::Resident(resident) => serde_json::json!({ "resident": resident }),
            Owner::Company {
                company,
                representative,
            } => serde_json::json!({ "company": company, "representative": representative }),
        }
    }

    pub fn company(&self) -> Option<&CompanyId> {
        match self {
            Owner::Resident(_) => None,
            Owner::Company { company, .. } => Some(company),
        }
    }
}

/// A unit of time for frequency limits and data life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeUnit {
    Hour,
    Day,
    Month,
    Year,
}

impl TimeUnit {
    pub const fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Hour => "HOUR",
            TimeUnit::Day => "DAY",
            TimeUnit::Month => "MONTH",
            TimeUnit::Year => "YEAR",
        }
    }

    pub fn parse(text: &str) -> Option<TimeUnit> {
        [
            TimeUnit::Hour,
            TimeUnit::Day,
            TimeUnit::Month,
            TimeUnit::Year,
        ]
        .into_iter()
        .find(|u| u.as_str() == text)
    }
}

/// At most `value` fetches per calendar `unit` (in Hong Kong Time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frequency {
    pub unit: TimeUnit,
    pub value: u32,
}

/// How long a STORE consumer may keep the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataLife {
    pub unit: TimeUnit,
    pub value: u32,
}

/// A span of time in Unix seconds, `from` inclusive, `to` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub from_s: i64,
    pub to_s: i64,
}

impl Span {
    pub fn contains(&self, other: Span) -> bool {
        self.from_s <= other.from_s && other.to_s <= self.to_s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Mode {
    /// The consumer may show the data and must not keep it.
    View,
    /// The consumer may keep the data for the consent's data life.
    Store,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FetchType {
    /// One fetch in the consent's whole life.
    Onetime,
    /// Fetches repeated within the frequency limit.
    Periodic,
}

/// What the owner is asked to agree to: every term of a consent, valid once it has this type
/// (only [`parse_request`] makes one from outside input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentTerms {
    pub purpose: Purpose,
    pub products: Vec<ProductId>,
    pub owner: Owner,
    pub consumer: ParticipantId,
    pub providers: Vec<ParticipantId>,
    /// The dates of the data that may be fetched.
    pub data_range: Span,
    pub frequency: Frequency,
    /// When fetches are allowed: `from_s` to `to_s` (the consent's "until").
    pub validity: Span,
    pub mode: Mode,
    pub fetch_type: FetchType,
    /// Present exactly when `mode` is STORE.
    pub data_life: Option<DataLife>,
    /// Where the portal sends the owner back after approving or rejecting: the consumer's
    /// page (https, or http on loopback for development; no fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// A consent's status. PENDING and REJECTED come before approval; the rest after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pending,
    Active,
    Paused,
    Revoked,
    Expired,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Active,
        Status::Paused,
        Status::Revoked,
        Status::Expired,
        Status::Rejected,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Active => "ACTIVE",
            Status::Paused => "PAUSED",
            Status::Revoked => "REVOKED",
            Status::Expired => "EXPIRED",
            Status::Rejected => "REJECTED",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// No action leaves these.
    pub const fn is_final(self) -> bool {
        matches!(self, Status::Revoked | Status::Expired | Status::Rejected)
    }
}

/// What can happen to a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Approve,
    Reject,
    Pause,
    Resume,
    Revoke,
    /// The system's: the approval deadline or the validity's end has passed.
    Expire,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Approve,
        Action::Reject,
        Action::Pause,
        Action::Resume,
        Action::Revoke,
        Action::Expire,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Revoke => "revoke",
            Action::Expire => "expire",
        }
    }
}

/// What an owner (or a company's representative) may do; expiry is the system's alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerAction {
    Approve,
    Reject,
    Pause,
    Resume,
    Revoke,
}

impl From<OwnerAction> for Action {
    fn from(action: OwnerAction) -> Action {
        match action {
            OwnerAction::Approve => Action::Approve,
            OwnerAction::Reject => Action::Reject,
            OwnerAction::Pause => Action::Pause,
            OwnerAction::Resume => Action::Resume,
            OwnerAction::Revoke => Action::Revoke,
        }
    }
}

/// A transition the table does not allow, with the status the consent is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {} consent does not allow `{}`", .from.as_str(), .action.as_str())]
pub struct TransitionRefused {
    pub from: Status,
    pub action: Action,
}

/// The lifecycle, the one place it is written:
///
/// | from            | action  | to       |
/// |-----------------|---------|----------|
/// | PENDING         | approve | ACTIVE   |
/// | PENDING         | reject  | REJECTED |
/// | PENDING         | expire  | EXPIRED  |
/// | ACTIVE          | pause   | PAUSED   |
/// | PAUSED          | resume  | ACTIVE   |
/// | ACTIVE, PAUSED  | revoke  | REVOKED  |
/// | ACTIVE, PAUSED  | expire  | EXPIRED  |
///
/// Anything else is refused, naming the current status.
pub fn transition(from: Status, action: Action) -> Result<Status, TransitionRefused> {
    use Action as A;
    use Status as S;
    match (from, action) {
        (S::Pending, A::Approve) => Ok(S::Active),
        (S::Pending, A::Reject) => Ok(S::Rejected),
        (S::Pending | S::Active | S::Paused, A::Expire) => Ok(S::Expired),
        (S::Active, A::Pause) => Ok(S::Paused),
        (S::Paused, A::Resume) => Ok(S::Active),
        (S::Active | S::Paused, A::Revoke) => Ok(S::Revoked),
        _ => Err(TransitionRefused { from, action }),
    }
}

/// A stored consent: its terms, where it is in its lifecycle, and once ACTIVE the signed
/// artefact (compact JWS) of what the owner approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: ConsentId,
    pub terms: ConsentTerms,
    pub status: Status,
    pub created_at_s: i64,
    /// A PENDING consent not approved by then expires.
    pub approval_deadline_s: i64,
    pub updated_at_s: i64,
    /// Incremented by every change (optimistic concurrency).
    pub version: i64,
    pub artefact: Option<String>,
}

impl Consent {
    /// The action time forces on the consent at `now_s`, if any: a PENDING consent past its
    /// approval deadline, or an ACTIVE or PAUSED one past its validity, expires.
    pub fn due(&self, now_s: i64) -> Option<Action> {
        let due = match self.status {
            Status::Pending => {
                now_s >= self.approval_deadline_s || now_s > self.terms.validity.to_s
            }
            Status::Active | Status::Paused => now_s > self.terms.validity.to_s,
            Status::Revoked | Status::Expired | Status::Rejected => false,
        };
        due.then_some(Action::Expire)
    }
}

/// A consumer's request for data under a consent, as the gateway sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    pub consumer: ParticipantId,
    pub provider: ParticipantId,
    pub products: Vec<ProductId>,
    /// The dates of the data wanted.
    pub range: Span,
}

/// Why a fetch is refused: one variant per reason, each with a stable error code. (A consent
/// that does not exist is the caller's to report: `exchange.consent_not_found`.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("the consent was given to another consumer")]
    WrongConsumer,
    #[error("the consent is not approved yet")]
    Pending,
    #[error("the consent is paused")]
    Paused,
    #[error("the consent is revoked")]
    Revoked,
    #[error("the consent is expired")]
    Expired,
    #[error("the consent was rejected")]
    Rejected,
    #[error("the consent is valid only from {from_s}")]
    NotYetValid { from_s: i64 },
    #[error("the consent's validity ended at {until_s}")]
    ValidityEnded { until_s: i64 },
    #[error("the provider {0} is not named by the consent")]
    Provider(ParticipantId),
    #[error("the product {0} is not covered by the consent")]
    Product(ProductId),
    #[error("the dates asked are outside the consent's range {}..={}", .allowed.from_s, .allowed.to_s)]
    DateRange { allowed: Span },
    /// `next_allowed_at_s` is `None` for a ONETIME consent already used.
    #[error("the frequency limit is reached{}", next_fetch(.next_allowed_at_s))]
    Frequency { next_allowed_at_s: Option<i64> },
    /// The signed request was seen before (its key and `jti`): not a consent's answer, but
    /// refused in the same transaction that would have counted the use.
    #[error("this signed request was already made (a replay)")]
    Replayed,
    /// The consent's signed artefact does not verify, or no longer matches its stored terms
    /// (the row was altered): it moves no data.
    #[error("the consent's signed artefact does not verify or does not match its terms")]
    ArtefactInvalid,
}

fn next_fetch(at_s: &Option<i64>) -> String {
    match at_s {
        Some(at_s) => format!("; the next fetch is allowed from {}", rfc3339(*at_s)),
        None => "; a ONETIME consent allows no other fetch".into(),
    }
}

impl Denial {
    pub const fn code(&self) -> ErrorCode {
        match self {
            Denial::WrongConsumer => ErrorCode::ExchangeConsentWrongConsumer,
            Denial::Pending => ErrorCode::ExchangeConsentPending,
            Denial::Paused => ErrorCode::ExchangeConsentPaused,
            Denial::Revoked => ErrorCode::ExchangeConsentRevoked,
            Denial::Expired | Denial::ValidityEnded { .. } => ErrorCode::ExchangeConsentExpired,
            Denial::Rejected => ErrorCode::ExchangeConsentRejected,
            Denial::NotYetValid { .. } => ErrorCode::ExchangeConsentNotYetValid,
            Denial::Provider(_) => ErrorCode::ExchangeConsentProvider,
            Denial::Product(_) => ErrorCode::ExchangeConsentProduct,
            Denial::DateRange { .. } => ErrorCode::ExchangeConsentDateRange,
            Denial::Frequency { .. } => ErrorCode::ExchangeConsentFrequency,
            Denial::Replayed => ErrorCode::ExchangeRequestReplayed,
            Denial::ArtefactInvalid => ErrorCode::ExchangeConsentArtefactInvalid,
        }
    }

    /// A stable refinement of the code, for the audit record and the problem's `reason`.
    pub const fn reason(&self) -> &'static str {
        match self {
            Denial::WrongConsumer => "wrong_consumer",
            Denial::Pending => "pending",
            Denial::Paused => "paused",
            Denial::Revoked => "revoked",
            Denial::Expired => "expired",
            Denial::Rejected => "rejected",
            Denial::NotYetValid { .. } => "not_yet_valid",
            Denial::ValidityEnded { .. } => "validity_ended",
            Denial::Provider(_) => "provider",
            Denial::Product(_) => "product",
            Denial::DateRange { .. } => "date_range",
            Denial::Frequency { .. } => "frequency",
            Denial::Replayed => "replayed",
            Denial::ArtefactInvalid => "artefact_invalid",
        }
    }
}

/// The window the frequency limit counts uses in at `now_s`: `[start_s, end_s)`. A PERIODIC
/// consent's window is the calendar hour, day, month or year (Hong Kong Time) holding `now_s`;
/// a ONETIME consent's is its whole validity, with no end (it is never allowed again).
pub fn frequency_window(terms: &ConsentTerms, now_s: i64) -> (i64, Option<i64>) {
    match terms.fetch_type {
        FetchType::Onetime => (i64::MIN, None),
        FetchType::Periodic => {
            let (start, end) = calendar_window(terms.frequency.unit, now_s);
            (start, Some(end))
        }
    }
}

/// The calendar unit holding `now_s` in Hong Kong Time, as Unix seconds `[start, end)`.
fn calendar_window(unit: TimeUnit, now_s: i64) -> (i64, i64) {
    let hour_start = now_s.div_euclid(HOUR_S) * HOUR_S;
    let offset = UtcOffset::from_whole_seconds(HKT_OFFSET_S).unwrap_or(UtcOffset::UTC);
    let Ok(local) = OffsetDateTime::from_unix_timestamp(now_s).map(|t| t.to_offset(offset)) else {
        return (hour_start, hour_start.saturating_add(HOUR_S));
    };
    let date = local.date();
    let midnight = |d: time::Date| d.midnight().assume_offset(offset).unix_timestamp();
    match unit {
        TimeUnit::Hour => (hour_start, hour_start + HOUR_S),
        TimeUnit::Day => {
            let start = midnight(date);
            (start, start + DAY_S)
        }
        TimeUnit::Month => {
            let first = date.replace_day(1).unwrap_or(date);
            let next = if first.month() == time::Month::December {
                first
                    .replace_year(first.year() + 1)
                    .and_then(|d| d.replace_month(time::Month::January))
            } else {
                first.replace_month(first.month().next())
            };
            let start = midnight(first);
            (start, next.map(midnight).unwrap_or(start + 31 * DAY_S))
        }
        TimeUnit::Year => {
            let first = date
                .replace_month(time::Month::January)
                .and_then(|d| d.replace_day(1))
                .unwrap_or(date);
            let start = midnight(first);
            let next = first.replace_year(first.year() + 1).map(midnight);
            (start, next.unwrap_or(start + 366 * DAY_S))
        }
    }
}

/// Whether `request` may be served under `consent` at `now_s`, given how many uses the
/// consent already has in its current [`frequency_window`]. Checked in this order, so a
/// consumer learns nothing about a consent that is not its own: consumer, status, validity,
/// provider, products, dates, frequency.
pub fn authorise(
    consent: &Consent,
    request: &FetchRequest,
    now_s: i64,
    uses_in_current_window: u32,
) -> Result<(), Denial> {
    let terms = &consent.terms;
    if request.consumer != terms.consumer {
        return Err(Denial::WrongConsumer);
    }
    match consent.status {
        Status::Active => {}
        Status::Pending => return Err(Denial::Pending),
        Status::Paused => return Err(Denial::Paused),
        Status::Revoked => return Err(Denial::Revoked),
        Status::Expired => return Err(Denial::Expired),
        Status::Rejected => return Err(Denial::Rejected),
    }
    if now_s < terms.validity.from_s {
        return Err(Denial::NotYetValid {
            from_s: terms.validity.from_s,
        });
    }
    if now_s > terms.validity.to_s {
        return Err(Denial::ValidityEnded {
            until_s: terms.validity.to_s,
        });
    }
    if !terms.providers.contains(&request.provider) {
        return Err(Denial::Provider(request.provider.clone()));
    }
    if let Some(product) = request
        .products
        .iter()
        .find(|p| !terms.products.contains(p))
    {
        return Err(Denial::Product(product.clone()));
    }
    if request.range.from_s > request.range.to_s || !terms.data_range.contains(request.range) {
        return Err(Denial::DateRange {
            allowed: terms.data_range,
        });
    }
    if uses_in_current_window >= terms.frequency.value {
        let (_, end) = frequency_window(terms, now_s);
        return Err(Denial::Frequency {
            next_allowed_at_s: end.filter(|&end| end <= terms.validity.to_s),
        });
    }
    Ok(())
}

/// Unix seconds as RFC 3339 (UTC), or the number itself if out of range
/// ([`RFC3339_UTC_RANGE_S`]).
pub fn rfc3339(at_s: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at_s)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| at_s.to_string())
}

/// One entry of a consent's history: a request or an action, who did it, and the statuses
/// before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    pub at_s: i64,
    /// `request` or an [`Action`] (`approve`, `reject`, …).
    pub kind: String,
    /// `resident:<id>`, `participant:<id>` or `system`.
    pub actor: String,
    pub from: Option<Status>,
    pub to: Status,
}

/// The event kind of a consumer's request.
pub const EVENT_REQUEST: &str = "request";
