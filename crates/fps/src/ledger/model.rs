//! The ledger's vocabulary: accounts, transfers and the reasons a transfer is refused.
//!
//! Double entry: every transfer debits one account and credits another by the same amount in
//! the same currency, so per currency the sum of (credits − debits) over all accounts is always
//! zero. Amounts are integer minor units in `1..=i64::MAX`; totals are checked, never wrapped.

use bauhinia_core::Currency;

/// A 128-bit identifier (accounts and transfers), chosen by the client for transfers.
pub type Id = u128;

/// An account as the writer holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Id,
    pub currency: Currency,
    /// What the account is for (the FPS switch: 1 settlement, 2 the RTGS side).
    pub code: u16,
    /// How far below zero `credits − debits` (pending debits included) may go; `None`: no
    /// limit (the central bank's side of the settlement accounts).
    pub debit_cap: Option<i64>,
    pub totals: Totals,
    pub created_at_ns: i64,
}

/// The four running totals of an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

impl Totals {
    /// Posted balance, credit-normal: what the account holds.
    pub fn balance(&self) -> i128 {
        i128::from(self.credits_posted) - i128::from(self.debits_posted)
    }

    /// What may still be debited before the cap counts: posted balance less pending debits.
    pub fn available(&self) -> i128 {
        self.balance() - i128::from(self.debits_pending)
    }
}

impl Account {
    pub fn new(id: Id, currency: Currency, code: u16, debit_cap: Option<i64>) -> Account {
        Account {
            id,
            currency,
            code,
            debit_cap,
            totals: Totals::default(),
            created_at_ns: 0,
        }
    }
}

/// What a transfer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Moves the amount at once.
    Single,
    /// Reserves the amount (pending debit and credit) until posted, voided or timed out.
    Pending { timeout_s: u32 },
    /// Posts a pending transfer, for its whole amount or less (the rest is released).
    Post { pending_id: Id },
    /// Releases a pending transfer.
    Void { pending_id: Id },
}

impl Kind {
    pub fn number(self) -> i64 {
        match self {
            Kind::Single => 0,
            Kind::Pending { .. } => 1,
            Kind::Post { .. } => 2,
            Kind::Void { .. } => 3,
        }
    }

    pub fn pending_id(self) -> Option<Id> {
        match self {
            Kind::Post { pending_id } | Kind::Void { pending_id } => Some(pending_id),
            Kind::Single | Kind::Pending { .. } => None,
        }
    }

    pub fn timeout_s(self) -> u32 {
        match self {
            Kind::Pending { timeout_s } => timeout_s,
            _ => 0,
        }
    }

    /// The inverse of [`Kind::number`] with the stored columns.
    pub fn from_parts(number: i64, pending_id: Option<Id>, timeout_s: u32) -> Option<Kind> {
        match (number, pending_id) {
            (0, None) => Some(Kind::Single),
            (1, None) => Some(Kind::Pending { timeout_s }),
            (2, Some(pending_id)) => Some(Kind::Post { pending_id }),
            (3, Some(pending_id)) => Some(Kind::Void { pending_id }),
            _ => None,
        }
    }
}

/// A transfer as the client asks for it. For `Post` and `Void`, a zero account or amount
/// means "as the pending transfer has it".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transfer {
    pub id: Id,
    pub debit_account: Id,
    pub credit_account: Id,
    pub amount: i64,
    pub currency: Currency,
    pub kind: Kind,
    /// Linked to the next transfer of the batch: the chain succeeds or fails as one.
    pub linked: bool,
    /// What the transfer is for (the switch's payment kinds).
    pub code: u16,
    /// The client's own reference (e.g. the original of a return), or 0.
    pub user_data: u128,
    /// Remittance information, at most [`REFERENCE_MAX`] characters.
    pub reference: String,
}

pub const REFERENCE_MAX: usize = 140;
/// At most this many transfers in one request (TigerBeetle's batch size).
pub const BATCH_MAX: usize = 8_189;
/// The longest a pending transfer may wait: one day.
pub const TIMEOUT_MAX_S: u32 = 86_400;

impl Transfer {
    /// Whether `self` (a retry) asks for the same thing as `stored` (the resolved original):
    /// every field the client gave must match; zero accounts and amounts of a post or void
    /// match what the original resolved them to.
    pub fn same_request_as(&self, stored: &Transfer) -> bool {
        let resolvable = matches!(self.kind, Kind::Post { .. } | Kind::Void { .. });
        let account_ok = |mine: Id, theirs: Id| mine == theirs || (resolvable && mine == 0);
        self.id == stored.id
            && account_ok(self.debit_account, stored.debit_account)
            && account_ok(self.credit_account, stored.credit_account)
            && (self.amount == stored.amount || (resolvable && self.amount == 0))
            && self.currency == stored.currency
            && self.kind == stored.kind
            && self.linked == stored.linked
            && self.code == stored.code
            && self.user_data == stored.user_data
            && self.reference == stored.reference
    }
}

macro_rules! refusals {
    ($( $variant:ident = $n:literal, $code:literal, $text:literal; )*) => {
        /// Why the writer refused a transfer. The number is stored with the transfer; the code
        /// is public API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Refusal { $( $variant, )* }

        impl Refusal {
            pub const ALL: &'static [Refusal] = &[ $( Refusal::$variant, )* ];

            pub const fn number(self) -> i64 {
                match self { $( Refusal::$variant => $n, )* }
            }

            pub fn from_number(n: i64) -> Option<Refusal> {
                match n { $( $n => Some(Refusal::$variant), )* _ => None }
            }

            /// The stable machine code, e.g. `exceeds_debit_cap`.
            pub const fn code(self) -> &'static str {
                match self { $( Refusal::$variant => $code, )* }
            }

            /// One English sentence.
            pub const fn text(self) -> &'static str {
                match self { $( Refusal::$variant => $text, )* }
            }
        }
    };
}

refusals! {
    LinkedEventFailed = 1, "linked_event_failed", "Another transfer of the same linked chain was refused, so this one was not made.";
    LinkedChainOpen = 2, "linked_chain_open", "The last transfer of the batch is marked linked: the chain never ends.";
    IdMustNotBeZero = 3, "id_must_not_be_zero", "A transfer id must not be zero.";
    AccountsMustBeDifferent = 4, "accounts_must_be_different", "The debit and credit accounts must be different.";
    DebitAccountNotFound = 5, "debit_account_not_found", "The debit account does not exist.";
    CreditAccountNotFound = 6, "credit_account_not_found", "The credit account does not exist.";
    CurrencyMismatch = 7, "currency_mismatch", "The transfer's currency is not the currency of both accounts.";
    AmountMustBePositive = 8, "amount_must_be_positive", "The amount must be more than zero.";
    ExceedsDebitCap = 9, "exceeds_debit_cap", "The debit account's available balance (less pending debits) would fall below its debit cap.";
    Overflow = 10, "overflow", "An account total would exceed the largest amount the ledger holds.";
    PendingTransferNotFound = 11, "pending_transfer_not_found", "No accepted pending transfer has this pending id.";
    PendingTransferAlreadyPosted = 12, "pending_transfer_already_posted", "The pending transfer has already been posted.";
    PendingTransferAlreadyVoided = 13, "pending_transfer_already_voided", "The pending transfer has already been voided.";
    PendingTransferExpired = 14, "pending_transfer_expired", "The pending transfer timed out before it was posted.";
    PendingTransferDiffers = 15, "pending_transfer_differs", "The accounts or currency differ from the pending transfer's.";
    ExceedsPendingAmount = 16, "exceeds_pending_amount", "The amount to post is more than the pending amount.";
    TimeoutOutOfRange = 17, "timeout_out_of_range", "A pending transfer's timeout must be 1 second to 1 day.";
    ReferenceTooLong = 18, "reference_too_long", "The reference is longer than 140 characters.";
}

/// The writer's answer to one transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted now, at this time.
    Created { timestamp_ns: i64 },
    /// Refused now; nothing changed, and the id now stands for this refusal.
    Refused(Refusal),
    /// The id was used before for the same request: the original answer.
    Exists(Result<i64, Refusal>),
    /// The id was used before for a different request: nothing changed.
    IdConflict,
}

impl Outcome {
    /// The answer as the original would have been: accepted (with its time) or refused.
    pub fn result(self) -> Result<i64, Option<Refusal>> {
        match self {
            Outcome::Created { timestamp_ns } | Outcome::Exists(Ok(timestamp_ns)) => {
                Ok(timestamp_ns)
            }
            Outcome::Refused(r) | Outcome::Exists(Err(r)) => Err(Some(r)),
            Outcome::IdConflict => Err(None),
        }
    }
}

/// A transfer as it was answered (what the log stores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Resolved: a post or void carries the pending transfer's accounts and effective amount.
    pub transfer: Transfer,
    pub result: Result<(), Refusal>,
    pub timestamp_ns: i64,
    /// Who asked (e.g. `participant:004`, `operator`).
    pub actor: String,
}
