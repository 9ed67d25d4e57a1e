//! The rules of the payment flows, pure: requests to pay and their statuses, eDDA mandates and
//! their one-way transitions, who may make each move, the Hong Kong calendar periods a mandate's
//! limit counts in, the checks on a direct debit, and which transfers may be returned or refunded.
//! No I/O, no clock: the caller passes the time.

use bauhinia_core::Money;
use time::{Date, Duration};

use crate::ledger::Kind;
use crate::wire::Purpose;

/// A request to pay lasts a day unless the payee's bank says otherwise…
pub const REQUEST_LIFETIME_DEFAULT_S: i64 = 24 * 3600;
/// …and never more than 30 days.
pub const REQUEST_LIFETIME_MAX_S: i64 = 30 * 24 * 3600;
/// Remittance information, as on a transfer.
pub const REFERENCE_CHARS_MAX: usize = crate::ledger::model::REFERENCE_MAX;
/// The most rows one list answers.
pub const PAGE_MAX: i64 = 500;
/// How far back a direct debit's collection date may lie.
pub const DEBIT_BACKDATE_DAYS_MAX: i64 = 30;

/// Why a move is not allowed: the caller may not make it (403), or the status does not allow it
/// (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Forbidden(&'static str),
    State(&'static str),
}

// ---------------------------------------------------------------------------------------------
// Requests to pay

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    Pending,
    /// The payer's transfer is being settled (the request can no longer be declined or
    /// cancelled; it returns to pending if the ledger refuses the transfer).
    Settling,
    Paid,
    Declined,
    Cancelled,
    Expired,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 6] = [
        RequestStatus::Pending,
        RequestStatus::Settling,
        RequestStatus::Paid,
        RequestStatus::Declined,
        RequestStatus::Cancelled,
        RequestStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Settling => "settling",
            RequestStatus::Paid => "paid",
            RequestStatus::Declined => "declined",
            RequestStatus::Cancelled => "cancelled",
            RequestStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status as of `now_s`: a pending request past its expiry is expired, whether or not
    /// the sweep has written it yet.
    pub fn as_of(self, expires_at_s: i64, now_s: i64) -> RequestStatus {
        if self == RequestStatus::Pending && now_s >= expires_at_s {
            RequestStatus::Expired
        } else {
            self
        }
    }
}

/// The expiry of a request made at `now_s`, asked for as `expires_at_s`.
pub fn request_expiry(now_s: i64, expires_at_s: Option<i64>) -> Result<i64, &'static str> {
    match expires_at_s {
        None => Ok(now_s.saturating_add(REQUEST_LIFETIME_DEFAULT_S)),
        Some(at) if at <= now_s => Err("must be in the future"),
        Some(at) if at - now_s > REQUEST_LIFETIME_MAX_S => Err("must be at most 30 days ahead"),
        Some(at) => Ok(at),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestAction {
    /// The payer's bank pays it (its status moves to settling, then paid).
    Pay,
    Decline,
    Cancel,
}

impl RequestAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestAction::Pay => "pay",
            RequestAction::Decline => "decline",
            RequestAction::Cancel => "cancel",
        }
    }
}

/// Which side of a request, mandate or transfer a participant is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The payer of a request; the debtor of a mandate.
    Payer,
    /// The payee of a request; the creditor of a mandate.
    Payee,
}

/// The status a request moves to when `by` makes `action` on it in status `status` (already
/// [`RequestStatus::as_of`] now): the payer pays or declines, the payee cancels, and only a
/// pending request.
pub fn request_move(
    status: RequestStatus,
    action: RequestAction,
    by: Side,
) -> Result<RequestStatus, Refusal> {
    let (allowed_side, to) = match action {
        RequestAction::Pay => (Side::Payer, RequestStatus::Settling),
        RequestAction::Decline => (Side::Payer, RequestStatus::Declined),
        RequestAction::Cancel => (Side::Payee, RequestStatus::Cancelled),
    };
    if by != allowed_side {
        return Err(Refusal::Forbidden(match action {
            RequestAction::Cancel => "only the payee's participant cancels a request",
            _ => "only the payer's participant pays or declines a request",
        }));
    }
    match status {
        RequestStatus::Pending => Ok(to),
        RequestStatus::Settling => Err(Refusal::State("the request is being paid")),
        RequestStatus::Paid => Err(Refusal::State("the request is already paid")),
        RequestStatus::Declined => Err(Refusal::State("the request was declined")),
        RequestStatus::Cancelled => Err(Refusal::State("the request was cancelled")),
        RequestStatus::Expired => Err(Refusal::State("the request has expired")),
    }
}

// ---------------------------------------------------------------------------------------------
// eDDA mandates

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MandateKind {
    /// Set up by the payer's (debtor's) bank, which holds the payer's authorisation: active at
    /// once.
    Standard,
    /// Set up by the payee's (creditor's) bank: pending until the payer's bank confirms the
    /// payer's consent.
    Simplified,
}

impl MandateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MandateKind::Standard => "standard",
            MandateKind::Simplified => "simplified",
        }
    }

    pub fn parse(text: &str) -> Option<MandateKind> {
        [MandateKind::Standard, MandateKind::Simplified]
            .into_iter()
            .find(|k| k.as_str() == text)
    }

    /// Which bank sets it up.
    pub fn set_up_by(self) -> Side {
        match self {
            MandateKind::Standard => Side::Payer,
            MandateKind::Simplified => Side::Payee,
        }
    }

    pub fn initial_status(self) -> MandateStatus {
        match self {
            MandateKind::Standard => MandateStatus::Active,
            MandateKind::Simplified => MandateStatus::Pending,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MandateStatus {
    Pending,
    Active,
    Suspended,
    Cancelled,
    Rejected,
}

impl MandateStatus {
    pub const ALL: [MandateStatus; 5] = [
        MandateStatus::Pending,
        MandateStatus::Active,
        MandateStatus::Suspended,
        MandateStatus::Cancelled,
        MandateStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MandateStatus::Pending => "pending",
            MandateStatus::Active => "active",
            MandateStatus::Suspended => "suspended",
            MandateStatus::Cancelled => "cancelled",
            MandateStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<MandateStatus> {
        MandateStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Cancelled and rejected mandates never change again.
    pub fn is_final(self) -> bool {
        matches!(self, MandateStatus::Cancelled | MandateStatus::Rejected)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MandateAction {
    Confirm,
    Reject,
    Suspend,
    Resume,
    Cancel,
}

impl MandateAction {
    pub const ALL: [MandateAction; 5] = [
        MandateAction::Confirm,
        MandateAction::Reject,
        MandateAction::Suspend,
        MandateAction::Resume,
        MandateAction::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MandateAction::Confirm => "confirm",
            MandateAction::Reject => "reject",
            MandateAction::Suspend => "suspend",
            MandateAction::Resume => "resume",
            MandateAction::Cancel => "cancel",
        }
    }

    /// The event a participant hears of when this move is made.
    pub fn event(self) -> &'static str {
        match self {
            MandateAction::Confirm => "mandate.activated",
            MandateAction::Reject => "mandate.rejected",
            MandateAction::Suspend => "mandate.suspended",
            MandateAction::Resume => "mandate.resumed",
            MandateAction::Cancel => "mandate.cancelled",
        }
    }
}

/// A mandate's one-way moves: the debtor's bank confirms or rejects a pending (simplified)
/// mandate, suspends an active one and resumes a suspended one; either bank cancels one that is
/// not final. Cancelled and rejected are final.
pub fn mandate_move(
    status: MandateStatus,
    action: MandateAction,
    by: Side,
) -> Result<MandateStatus, Refusal> {
    use MandateAction as A;
    use MandateStatus as S;
    if action != A::Cancel && by != Side::Payer {
        return Err(Refusal::Forbidden(
            "only the debtor's participant confirms, rejects, suspends or resumes a mandate",
        ));
    }
    match (action, status) {
        (A::Confirm, S::Pending) => Ok(S::Active),
        (A::Reject, S::Pending) => Ok(S::Rejected),
        (A::Suspend, S::Active) => Ok(S::Suspended),
        (A::Resume, S::Suspended) => Ok(S::Active),
        (A::Cancel, S::Pending | S::Active | S::Suspended) => Ok(S::Cancelled),
        (_, S::Cancelled) => Err(Refusal::State("the mandate is cancelled")),
        (_, S::Rejected) => Err(Refusal::State("the mandate was rejected")),
        (A::Confirm | A::Reject, _) => Err(Refusal::State(
            "only a pending mandate is confirmed or rejected",
        )),
        (A::Suspend, _) => Err(Refusal::State("only an active mandate is suspended")),
        (A::Resume, _) => Err(Refusal::State("only a suspended mandate is resumed")),
    }
}

/// The calendar period a mandate's limit counts in (Hong Kong dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    /// Monday to Sunday.
    Week,
    Month,
    Year,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// The first day of the period that holds `date`.
    pub fn start(self, date: Date) -> Date {
        match self {
            Period::Day => date,
            Period::Week => date
                .checked_sub(Duration::days(i64::from(
                    date.weekday().number_days_from_monday(),
                )))
                .unwrap_or(date),
            Period::Month => date.replace_day(1).unwrap_or(date),
            Period::Year => date.replace_ordinal(1).unwrap_or(date),
        }
    }
}

/// What a mandate allows: its currency, limits and validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MandateTerms {
    pub status: MandateStatus,
    /// The most one debit may take (its currency is the mandate's).
    pub per_debit: Money,
    pub period: Period,
    /// The most all debits in one period may take together.
    pub period_limit: i64,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
}

impl MandateTerms {
    /// Checks the limits and dates a mandate is set up with: the field at fault and why.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        if self.per_debit.minor <= 0 {
            return Err(("/per_debit_limit", "must be more than zero"));
        }
        if self.period_limit < self.per_debit.minor {
            return Err(("/period_limit", "must be at least the per-debit limit"));
        }
        if self
            .valid_until
            .is_some_and(|until| until < self.valid_from)
        {
            return Err(("/valid_until", "must not be before valid_from"));
        }
        Ok(())
    }
}

/// Why a direct debit is refused before any money moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebitFault {
    /// The mandate is not active (its status).
    NotActive(MandateStatus),
    /// A field of the debit, and why.
    Field(&'static str, &'static str),
    /// More than the mandate allows for one debit.
    ExceedsPerDebit,
}

/// Checks a debit of `amount` collected on `collection` (Hong Kong date; `today` is Hong Kong's
/// date now) against a mandate; returns the first day of the period it counts in. The period
/// limit is checked where the usage is reserved ([`period_allows`]), in the same transaction.
pub fn check_debit(
    terms: &MandateTerms,
    amount: Money,
    collection: Date,
    today: Date,
) -> Result<Date, DebitFault> {
    if terms.status != MandateStatus::Active {
        return Err(DebitFault::NotActive(terms.status));
    }
    if amount.currency != terms.per_debit.currency {
        return Err(DebitFault::Field(
            "/currency",
            "must be the mandate's currency",
        ));
    }
    if amount.minor <= 0 {
        return Err(DebitFault::Field("/amount", "must be more than zero"));
    }
    if collection > today {
        return Err(DebitFault::Field(
            "/collection_date",
            "must not be in the future: present the debit on its collection date",
        ));
    }
    if (today - collection).whole_days() > DEBIT_BACKDATE_DAYS_MAX {
        return Err(DebitFault::Field(
            "/collection_date",
            "must be at most 30 days ago",
        ));
    }
    let within =
        collection >= terms.valid_from && terms.valid_until.is_none_or(|until| collection <= until);
    if !within {
        return Err(DebitFault::Field(
            "/collection_date",
            "must be within the mandate's validity",
        ));
    }
    if amount.minor > terms.per_debit.minor {
        return Err(DebitFault::ExceedsPerDebit);
    }
    Ok(terms.period.start(collection))
}

/// Whether `amount` more fits a period in which `used` is already collected or reserved.
pub fn period_allows(used: i64, amount: i64, limit: i64) -> bool {
    used.checked_add(amount).is_some_and(|total| total <= limit)
}

// ---------------------------------------------------------------------------------------------
// Returns and refunds

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnKind {
    /// The creditor's bank sends the money back (closed account, wrong amount, a debit the
    /// customer disputes): ISO 20022 pacs.004, with a reason code.
    Return,
    /// A merchant refunds its customer.
    Refund,
}

impl ReturnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnKind::Return => "return",
            ReturnKind::Refund => "refund",
        }
    }

    pub fn parse(text: &str) -> Option<ReturnKind> {
        [ReturnKind::Return, ReturnKind::Refund]
            .into_iter()
            .find(|k| k.as_str() == text)
    }

    pub fn purpose(self) -> Purpose {
        match self {
            ReturnKind::Return => Purpose::Return,
            ReturnKind::Refund => Purpose::Refund,
        }
    }
}

/// The ISO 20022 return reasons (ExternalReturnReason1Code) a return may give.
pub const RETURN_REASONS: [(&str, &str); 10] = [
    ("AC01", "incorrect account number"),
    ("AC03", "invalid creditor account number"),
    ("AC04", "closed account number"),
    ("AC06", "blocked account"),
    ("AG01", "transaction forbidden on this account"),
    ("AM05", "duplication"),
    ("AM09", "wrong amount"),
    ("BE04", "missing creditor address"),
    ("FOCR", "following a cancellation request"),
    ("MD06", "refund request by end customer (direct debits)"),
];

/// The reason of a return (required, one of [`RETURN_REASONS`]) or of a refund (optional, the
/// same codes or `CUST`, the customer's request).
pub fn check_reason(kind: ReturnKind, reason: Option<&str>) -> Result<(), &'static str> {
    let known = |code: &str| RETURN_REASONS.iter().any(|(c, _)| *c == code);
    match (kind, reason) {
        (ReturnKind::Return, None) => Err("is required: an ISO 20022 return reason such as AC04"),
        (_, Some(code)) if known(code) => Ok(()),
        (ReturnKind::Refund, Some("CUST")) | (ReturnKind::Refund, None) => Ok(()),
        (_, Some(_)) => Err("must be an ISO 20022 return reason such as AC04, AM09 or MD06"),
    }
}

/// Whether a recorded transfer may be returned or refunded: accepted and settled (single or a
/// posted two-phase transfer, not a reservation or a void), and a payment between participants
/// (not settlement funding, and not itself a return or refund).
pub fn returnable(accepted: bool, kind: Kind, purpose: Purpose) -> Result<(), &'static str> {
    if !accepted {
        return Err("the original transfer was refused: there is nothing to return");
    }
    if !matches!(kind, Kind::Single | Kind::Post { .. }) {
        return Err("the original is not a settled transfer (a pending reservation or a void)");
    }
    match purpose {
        Purpose::Return | Purpose::Refund => {
            Err("a return or refund is not itself returned or refunded")
        }
        Purpose::SettlementFunding | Purpose::SettlementDefunding => {
            Err("settlement funding is not returned or refunded")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use bauhinia_core::Currency;
    use proptest::prelude::*;
    use time::macros::date;

    fn terms(status: MandateStatus) -> MandateTerms {
        MandateTerms {
            status,
            per_debit: Money::from_minor(50_000, Currency::Hkd),
            period: Period::Month,
            period_limit: 100_000,
            valid_from: date!(2026 - 01 - 01),
            valid_until: Some(date!(2026 - 12 - 31)),
        }
    }

    #[test]
    fn request_moves() {
        use RequestAction as A;
        use RequestStatus as S;
        assert_eq!(
            request_move(S::Pending, A::Pay, Side::Payer),
            Ok(S::Settling)
        );
        assert_eq!(
            request_move(S::Pending, A::Decline, Side::Payer),
            Ok(S::Declined)
        );
        assert_eq!(
            request_move(S::Pending, A::Cancel, Side::Payee),
            Ok(S::Cancelled)
        );
        assert!(matches!(
            request_move(S::Pending, A::Cancel, Side::Payer),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            request_move(S::Pending, A::Pay, Side::Payee),
            Err(Refusal::Forbidden(_))
        ));
        for s in [S::Settling, S::Paid, S::Declined, S::Cancelled, S::Expired] {
            assert!(matches!(
                request_move(s, A::Pay, Side::Payer),
                Err(Refusal::State(_))
            ));
        }
        assert_eq!(S::Pending.as_of(100, 99), S::Pending);
        assert_eq!(S::Pending.as_of(100, 100), S::Expired);
        assert_eq!(S::Paid.as_of(100, 200), S::Paid);
    }

    #[test]
    fn request_expiries() {
        assert_eq!(request_expiry(1000, None), Ok(1000 + 86_400));
        assert_eq!(request_expiry(1000, Some(2000)), Ok(2000));
        assert!(request_expiry(1000, Some(1000)).is_err());
        assert!(request_expiry(1000, Some(1000 + REQUEST_LIFETIME_MAX_S)).is_ok());
        assert!(request_expiry(1000, Some(1001 + REQUEST_LIFETIME_MAX_S)).is_err());
    }

    #[test]
    fn periods_in_the_hong_kong_calendar() {
        let d = date!(2026 - 03 - 19); // a Thursday
        assert_eq!(Period::Day.start(d), d);
        assert_eq!(Period::Week.start(d), date!(2026 - 03 - 16));
        assert_eq!(
            Period::Week.start(date!(2026 - 03 - 16)),
            date!(2026 - 03 - 16)
        );
        assert_eq!(
            Period::Week.start(date!(2026 - 03 - 22)),
            date!(2026 - 03 - 16)
        );
        assert_eq!(Period::Month.start(d), date!(2026 - 03 - 01));
        assert_eq!(Period::Year.start(d), date!(2026 - 01 - 01));
    }

    #[test]
    fn debit_checks() {
        let t = terms(MandateStatus::Active);
        let today = date!(2026 - 03 - 19);
        let hkd = |minor| Money::from_minor(minor, Currency::Hkd);
        assert_eq!(
            check_debit(&t, hkd(50_000), today, today),
            Ok(date!(2026 - 03 - 01))
        );
        assert_eq!(
            check_debit(&t, hkd(50_001), today, today),
            Err(DebitFault::ExceedsPerDebit)
        );
        assert_eq!(
            check_debit(&terms(MandateStatus::Suspended), hkd(1), today, today),
            Err(DebitFault::NotActive(MandateStatus::Suspended))
        );
        let cny = Money::from_minor(1, Currency::Cny);
        assert!(matches!(
            check_debit(&t, cny, today, today),
            Err(DebitFault::Field("/currency", _))
        ));
        for day in [date!(2026 - 03 - 20), date!(2026 - 02 - 01)] {
            assert!(matches!(
                check_debit(&t, hkd(1), day, today),
                Err(DebitFault::Field("/collection_date", _))
            ));
        }
        let early = MandateTerms {
            valid_from: date!(2026 - 03 - 20),
            ..t
        };
        assert!(matches!(
            check_debit(&early, hkd(1), today, today),
            Err(DebitFault::Field("/collection_date", _))
        ));
        assert!(period_allows(50_000, 50_000, 100_000));
        assert!(!period_allows(50_001, 50_000, 100_000));
        assert!(!period_allows(i64::MAX, 1, i64::MAX));
    }

    #[test]
    fn mandate_terms() {
        assert!(terms(MandateStatus::Active).check().is_ok());
        let low = MandateTerms {
            period_limit: 49_999,
            ..terms(MandateStatus::Active)
        };
        assert_eq!(low.check().map_err(|e| e.0), Err("/period_limit"));
        let backwards = MandateTerms {
            valid_until: Some(date!(2025 - 12 - 31)),
            ..terms(MandateStatus::Active)
        };
        assert_eq!(backwards.check().map_err(|e| e.0), Err("/valid_until"));
    }

    #[test]
    fn returns_and_reasons() {
        assert!(check_reason(ReturnKind::Return, Some("AC04")).is_ok());
        assert!(check_reason(ReturnKind::Return, None).is_err());
        assert!(check_reason(ReturnKind::Return, Some("CUST")).is_err());
        assert!(check_reason(ReturnKind::Refund, None).is_ok());
        assert!(check_reason(ReturnKind::Refund, Some("CUST")).is_ok());
        assert!(check_reason(ReturnKind::Refund, Some("XXXX")).is_err());
        assert!(returnable(true, Kind::Single, Purpose::P2p).is_ok());
        assert!(returnable(true, Kind::Post { pending_id: 1 }, Purpose::P2m).is_ok());
        assert!(returnable(false, Kind::Single, Purpose::P2p).is_err());
        assert!(returnable(true, Kind::Pending { timeout_s: 5 }, Purpose::P2p).is_err());
        assert!(returnable(true, Kind::Single, Purpose::Refund).is_err());
        assert!(returnable(true, Kind::Single, Purpose::SettlementFunding).is_err());
    }

    fn action() -> impl Strategy<Value = (MandateAction, Side)> {
        (0usize..5, any::<bool>()).prop_map(|(a, payer)| {
            (
                MandateAction::ALL[a],
                if payer { Side::Payer } else { Side::Payee },
            )
        })
    }

    proptest! {
        /// Whatever the moves, a final status never changes, the creditor's bank only ever
        /// cancels, active is reached only from pending (confirm) or suspended (resume), and
        /// pending is never re-entered.
        #[test]
        fn mandate_moves_are_one_way(
            standard in any::<bool>(),
            moves in proptest::collection::vec(action(), 0..40),
        ) {
            let kind = if standard { MandateKind::Standard } else { MandateKind::Simplified };
            let mut status = kind.initial_status();
            for (action, by) in moves {
                match mandate_move(status, action, by) {
                    Ok(next) => {
                        prop_assert!(!status.is_final());
                        prop_assert!(by == Side::Payer || action == MandateAction::Cancel);
                        prop_assert!(next != MandateStatus::Pending);
                        if next == MandateStatus::Active {
                            prop_assert!(matches!(
                                status,
                                MandateStatus::Pending | MandateStatus::Suspended
                            ));
                        }
                        status = next;
                    }
                    Err(Refusal::State(_)) => prop_assert!(by == Side::Payer || action == MandateAction::Cancel),
                    Err(Refusal::Forbidden(_)) => prop_assert!(by == Side::Payee),
                }
            }
        }

        /// Reserving debits one by one with `period_allows` never collects more than the limit
        /// in a period, and refuses a debit only when it would go over.
        #[test]
        fn period_limit_holds(
            limit in 1i64..1_000_000,
            amounts in proptest::collection::vec(1i64..400_000, 0..30),
        ) {
            let mut used = 0i64;
            for amount in amounts {
                if period_allows(used, amount, limit) {
                    used += amount;
                } else {
                    prop_assert!(used + amount > limit);
                }
                prop_assert!(used <= limit);
            }
        }

        /// A period's start is in the same period, not after the date, and less than a period
        /// before it; every date of a period has the same start.
        #[test]
        fn period_starts(days in 0i64..20_000, p in 0usize..4) {
            let period = Period::ALL[p];
            let d = date!(2000 - 01 - 01) + Duration::days(days);
            let start = period.start(d);
            prop_assert!(start <= d);
            prop_assert_eq!(period.start(start), start);
            let span = match period {
                Period::Day => 1,
                Period::Week => 7,
                Period::Month => 31,
                Period::Year => 366,
            };
            prop_assert!((d - start).whole_days() < span);
            if let Some(next) = d.next_day() {
                if period.start(next) != start {
                    prop_assert_eq!(period.start(next), next);
                }
            }
        }
    }
}
