//! The banks' rules, pure: account numbers, where each account lives on the banks' ledger, the
//! ids every step of a payment uses, and the states a payment passes through.

use bauhinia_core::Currency;
use bauhinia_fps::ledger::Id;
use bauhinia_fps::proxy::domain::{EmailAddress, FpsId, MobileNumber, ProxyKey};
use bauhinia_fps::switch::ParticipantCode;
use sha2::{Digest, Sha256};

/// The banks' ledger: one writer for the books of every hosted bank. No transfer on it crosses
/// banks (that is the switch's job, on ledger 1): both accounts of each transfer belong to one
/// bank, which [`book_account`] ids make checkable.
pub const BANKS_LEDGER: i64 = 2;

/// The ledger code of a customer's account.
pub const CUSTOMER: u16 = 10;
/// The bank's own accounts: cash in its vault, and its position at FPS.
pub const VAULT_CASH: u16 = 20;
pub const FPS_POSITION: u16 = 21;

/// How long a payment's hold on the payer's funds lasts if the bank stops before it is
/// settled or released.
pub const HOLD_TIMEOUT_S: u32 = 300;
/// The most payments a history page shows.
pub const HISTORY_MAX: i64 = 200;
/// Remittance information, as FPS carries it.
pub const REFERENCE_MAX: usize = 140;

/// A customer's account number: the bank's participant code and nine digits (`004-100000001`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNumber {
    bank: ParticipantCode,
    serial: u64,
}

/// Serials start here, so every number has nine digits.
const SERIAL_BASE: u64 = 100_000_000;
const SERIAL_MAX: u64 = 999_999_999;

impl AccountNumber {
    /// The account numbered `seq` (the store's row number, from 1) at `bank`.
    pub fn from_seq(bank: ParticipantCode, seq: i64) -> Option<AccountNumber> {
        let serial = SERIAL_BASE.checked_add(u64::try_from(seq).ok()?)?;
        (serial <= SERIAL_MAX).then_some(AccountNumber { bank, serial })
    }

    /// Reads `004-100000001` (spaces and a missing hyphen are allowed).
    pub fn parse(text: &str) -> Option<AccountNumber> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (code, serial) = digits.split_at(3);
        let serial: u64 = serial.parse().ok()?;
        (SERIAL_BASE..=SERIAL_MAX).contains(&serial).then_some(())?;
        Some(AccountNumber {
            bank: ParticipantCode::parse(code)?,
            serial,
        })
    }

    pub fn bank(&self) -> ParticipantCode {
        self.bank
    }

    /// The account's id on the banks' ledger.
    pub fn ledger_id(&self) -> Id {
        book_account(self.bank, CUSTOMER, self.serial)
    }

    /// `004-1000…01` → `004-******001`: what a payee's bank may show of a payer's account.
    pub fn masked(&self) -> String {
        format!("{}-******{:03}", self.bank.as_str(), self.serial % 1000)
    }
}

impl std::fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:09}", self.bank.as_str(), self.serial)
    }
}

/// An account of `bank`'s book: `3 ‖ bank ‖ code ‖ serial` — the bank and the account's kind
/// are readable from the id, so a transfer that would cross banks is caught before it is made.
pub fn book_account(bank: ParticipantCode, code: u16, serial: u64) -> Id {
    (3u128 << 120)
        | (u128::from(bank.number()) << 96)
        | (u128::from(code) << 80)
        | u128::from(serial)
}

/// The bank's own account of `code` (vault cash, FPS position) in `currency`.
pub fn own_account(bank: ParticipantCode, code: u16, currency: Currency) -> Id {
    book_account(bank, code, currency_serial(currency))
}

fn currency_serial(currency: Currency) -> u64 {
    match currency {
        Currency::Hkd => 1,
        Currency::Cny => 2,
    }
}

/// The bank a book account belongs to.
pub fn bank_of(id: Id) -> Option<ParticipantCode> {
    if id >> 120 != 3 {
        return None;
    }
    let number = u16::try_from((id >> 96) & 0xFFFF).ok()?;
    ParticipantCode::parse(&format!("{number:03}"))
}

/// The steps of a payment, each with an id derived from the payment's, so that running a step
/// again (a retry, or the recovery after a crash) finds the answer already given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The payer's bank holds the amount on the payer's account (pending transfer).
    Hold,
    /// The switch moves settlement funds from the payer's bank to the payee's.
    Switch,
    /// The payer's bank posts the hold.
    Post,
    /// The payer's bank releases the hold (the switch refused).
    Release,
    /// The payee's bank credits its customer.
    Credit,
    /// The payer is debited directly: the hold timed out after the switch had settled.
    Debit,
}

impl Step {
    fn label(self) -> &'static str {
        match self {
            Step::Hold => "hold",
            Step::Switch => "switch",
            Step::Post => "post",
            Step::Release => "release",
            Step::Credit => "credit",
            Step::Debit => "debit",
        }
    }
}

/// The id of `step` of the payment `payment` made at `bank`: SHA-256 of the three, cut to 128
/// bits, shaped as a UUID (version 8, "custom").
pub fn step_id(bank: ParticipantCode, payment: uuid::Uuid, step: Step) -> Id {
    derived(&[
        b"bauhinia-bank/1\0",
        bank.as_str().as_bytes(),
        payment.as_bytes(),
        step.label().as_bytes(),
    ])
    .as_u128()
}

/// The id of the payment with which `from` pays the request `request`: the same request paid
/// from the same account twice (a double click, a resubmitted form) is one payment.
pub fn request_payment_id(request: &str, from: &AccountNumber) -> uuid::Uuid {
    derived(&[
        b"bauhinia-bank/request-payment/1\0",
        request.as_bytes(),
        b"\0",
        from.to_string().as_bytes(),
    ])
}

/// SHA-256 of `parts`, cut to 128 bits, shaped as a UUID (version 8, "custom").
fn derived(parts: &[&[u8]]) -> uuid::Uuid {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part);
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// What a payment out settles: a transfer to a payee, a request to pay (the switch's
/// request-to-pay flow, which credits the account the request names), or a direct debit under
/// a mandate (presented by the creditor's bank, crediting the mandate's creditor account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Payee(Payee),
    /// The request's id at the switch.
    Request(String),
    /// The mandate's id at the switch.
    Debit(String),
}

impl Destination {
    /// What is sealed to the payment, so recovery can finish it: the payee's address, or
    /// `request:<id>`, or `mandate:<id>`.
    pub fn to_sealable(&self) -> String {
        match self {
            Destination::Payee(payee) => payee.to_sealable(),
            Destination::Request(id) => format!("request:{id}"),
            Destination::Debit(id) => format!("mandate:{id}"),
        }
    }

    /// The inverse of [`Destination::to_sealable`].
    pub fn from_sealable(text: &str) -> Option<Destination> {
        let uuid = |id: &str| uuid::Uuid::try_parse(id).ok().map(|_| id.to_owned());
        if let Some(id) = text.strip_prefix("request:") {
            uuid(id).map(Destination::Request)
        } else if let Some(id) = text.strip_prefix("mandate:") {
            uuid(id).map(Destination::Debit)
        } else {
            Payee::from_sealable(text).map(Destination::Payee)
        }
    }
}

/// Where a customer sends money: a proxy at whichever bank it names, or an account number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payee {
    Proxy(ProxyKey),
    Account(AccountNumber),
}

impl Payee {
    /// What the payee field holds, read by its kind: `mobile`, `email`, `fps_id`, `account`.
    pub fn parse(kind: &str, text: &str) -> Result<Payee, &'static str> {
        let text = text.trim();
        Ok(match kind {
            "mobile" => Payee::Proxy(ProxyKey::Mobile(
                MobileNumber::parse(text).map_err(|e| e.0)?,
            )),
            "email" => Payee::Proxy(ProxyKey::Email(EmailAddress::parse(text).map_err(|e| e.0)?)),
            "fps_id" => Payee::Proxy(ProxyKey::FpsId(FpsId::parse(text).map_err(|e| e.0)?)),
            "account" => Payee::Account(AccountNumber::parse(text).ok_or("account_number")?),
            _ => return Err("payee_kind"),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Payee::Proxy(key) => key.kind().as_str(),
            Payee::Account(_) => "account",
        }
    }

    /// The payee's address in full, for sealing (`kind:canonical`).
    pub fn to_sealable(&self) -> String {
        match self {
            Payee::Proxy(key) => format!("{}:{}", key.kind().as_str(), key.canonical()),
            Payee::Account(number) => format!("account:{number}"),
        }
    }

    /// The inverse of [`Payee::to_sealable`].
    pub fn from_sealable(text: &str) -> Option<Payee> {
        let (kind, value) = text.split_once(':')?;
        Payee::parse(kind, value).ok()
    }

    /// What a history may show of the address.
    pub fn masked(&self) -> String {
        match self {
            Payee::Proxy(key) => key.masked(),
            Payee::Account(number) => number.masked(),
        }
    }
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    /// Ordered; not yet known to be settled or refused (finished by recovery after a crash).
    Initiated,
    Settled,
    Failed,
}

impl PaymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Initiated => "initiated",
            PaymentState::Settled => "settled",
            PaymentState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentState> {
        match text {
            "initiated" => Some(PaymentState::Initiated),
            "settled" => Some(PaymentState::Settled),
            "failed" => Some(PaymentState::Failed),
            _ => None,
        }
    }

    /// Only an initiated payment moves, and only to an end.
    pub fn may_become(self, next: PaymentState) -> bool {
        self == PaymentState::Initiated && next != PaymentState::Initiated
    }
}

/// What kind of account a customer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Savings,
    /// A stored-value facility's wallet.
    Wallet,
    /// An e-CNY wallet, topped up in CNY through FPS.
    EcnyWallet,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Savings => "savings",
            AccountKind::Wallet => "wallet",
            AccountKind::EcnyWallet => "ecny_wallet",
        }
    }

    pub fn parse(text: &str) -> Option<AccountKind> {
        match text {
            "savings" => Some(AccountKind::Savings),
            "wallet" => Some(AccountKind::Wallet),
            "ecny_wallet" => Some(AccountKind::EcnyWallet),
            _ => None,
        }
    }
}

/// The remittance information, checked: at most 140 characters, no control characters.
pub fn reference(text: &str) -> Result<String, &'static str> {
    let text = text.trim();
    if text.chars().count() > REFERENCE_MAX {
        return Err("reference_too_long");
    }
    if text.chars().any(char::is_control) {
        return Err("reference_control_character");
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> ParticipantCode {
        ParticipantCode::parse(s).unwrap_or_else(|| unreachable!("valid code"))
    }

    #[test]
    fn account_numbers_round_trip_and_name_their_bank() {
        let n = AccountNumber::from_seq(code("024"), 7).unwrap_or_else(|| unreachable!());
        assert_eq!(n.to_string(), "024-100000007");
        assert_eq!(AccountNumber::parse("024 100000007"), Some(n.clone()));
        assert_eq!(AccountNumber::parse("024-100000007"), Some(n.clone()));
        assert_eq!(bank_of(n.ledger_id()), Some(code("024")));
        assert_eq!(n.masked(), "024-******007");
        assert_eq!(AccountNumber::parse("024-00000007"), None);
        assert_eq!(AccountNumber::parse("024-0000000071"), None);
        assert_eq!(AccountNumber::parse("02a-100000007"), None);
    }

    #[test]
    fn own_accounts_differ_by_bank_kind_and_currency() {
        let a = own_account(code("004"), VAULT_CASH, Currency::Hkd);
        let b = own_account(code("004"), FPS_POSITION, Currency::Hkd);
        let c = own_account(code("004"), VAULT_CASH, Currency::Cny);
        let d = own_account(code("012"), VAULT_CASH, Currency::Hkd);
        assert_eq!(
            4,
            [a, b, c, d]
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len()
        );
        assert_eq!(bank_of(d), Some(code("012")));
    }

    #[test]
    fn step_ids_are_stable_and_distinct() {
        let p = uuid::Uuid::from_u128(42);
        let ids = [
            Step::Hold,
            Step::Switch,
            Step::Post,
            Step::Release,
            Step::Credit,
            Step::Debit,
        ]
        .map(|s| step_id(code("004"), p, s));
        assert_eq!(
            ids.iter().collect::<std::collections::HashSet<_>>().len(),
            6
        );
        assert_eq!(step_id(code("004"), p, Step::Switch), ids[1]);
        assert_ne!(step_id(code("024"), p, Step::Switch), ids[1]);
    }

    #[test]
    fn payees_parse_by_kind_and_round_trip_sealed() {
        let p = Payee::parse("mobile", "+852 6123 4567").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(Payee::from_sealable(&p.to_sealable()), Some(p.clone()));
        assert!(Payee::parse("mobile", "+852 1234").is_err());
        assert!(Payee::parse("fax", "1").is_err());
        let a = Payee::parse("account", "012-100000001").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(Payee::from_sealable(&a.to_sealable()), Some(a));
    }

    #[test]
    fn destinations_round_trip_sealed_and_request_payments_are_per_account() {
        let id = uuid::Uuid::from_u128(7).to_string();
        let request = Destination::Request(id.clone());
        assert_eq!(
            Destination::from_sealable(&request.to_sealable()),
            Some(request)
        );
        let debit = Destination::Debit(id.clone());
        assert_eq!(
            Destination::from_sealable(&debit.to_sealable()),
            Some(debit)
        );
        let payee = Destination::Payee(Payee::Account(
            AccountNumber::parse("012-100000001").unwrap_or_else(|| unreachable!()),
        ));
        assert_eq!(
            Destination::from_sealable(&payee.to_sealable()),
            Some(payee)
        );
        assert_eq!(Destination::from_sealable("request:not-a-uuid"), None);
        let a = AccountNumber::parse("004-100000001").unwrap_or_else(|| unreachable!());
        let b = AccountNumber::parse("004-100000002").unwrap_or_else(|| unreachable!());
        assert_eq!(request_payment_id(&id, &a), request_payment_id(&id, &a));
        assert_ne!(request_payment_id(&id, &a), request_payment_id(&id, &b));
    }

    #[test]
    fn a_payment_moves_once_and_only_to_an_end() {
        use PaymentState::*;
        assert!(Initiated.may_become(Settled) && Initiated.may_become(Failed));
        assert!(!Settled.may_become(Failed) && !Failed.may_become(Settled));
        assert!(!Initiated.may_become(Initiated));
    }

    proptest! {
        #[test]
        fn account_number_parser_never_panics_and_round_trips(text in "\\PC{0,20}") {
            if let Some(n) = AccountNumber::parse(&text) {
                prop_assert_eq!(AccountNumber::parse(&n.to_string()), Some(n));
            }
        }

        #[test]
        fn payee_parser_never_panics(kind in "(mobile|email|fps_id|account|x)", text in "\\PC{0,40}") {
            if let Ok(p) = Payee::parse(&kind, &text) {
                prop_assert_eq!(Payee::from_sealable(&p.to_sealable()), Some(p));
            }
        }

        #[test]
        fn references_are_bounded(text in "\\PC{0,200}") {
            if let Ok(r) = reference(&text) {
                prop_assert!(r.chars().count() <= REFERENCE_MAX);
            }
        }
    }
}
