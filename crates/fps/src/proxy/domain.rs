//! The rules of FPS addressing, pure: no I/O, no SQL, no HTTP, no JSON.
//!
//! Every proxy kind parses outside input into a type that holds only a valid, normalised value:
//!
//! - Mobile: a Hong Kong mobile number, written `+852-XXXXXXXX`. Accepted forms: `91234567`,
//!   `9123 4567`, `9123-4567`, `+852 9123 4567`, `+85291234567`, `(852) 9123 4567`,
//!   `852 9123 4567` (11 digits), `00852 9123 4567` and `+852-91234567` — spaces, hyphens,
//!   dots and brackets between digits are ignored. Eight digits must remain, and the first must
//!   be 4, 5, 6, 7, 8 or 9: the number blocks Hong Kong's numbering plan gives mobile services
//!   (fixed lines begin 2 or 3, so a fixed-line number is refused). Finer allocation within
//!   those blocks changes over time and is not checked.
//! - Email: trimmed; one `@`; the domain lower-cased (domains are case-insensitive), the local
//!   part kept as written (RFC 5321 lets it be case-sensitive). ASCII only (an internationalised
//!   domain is given in its `xn--` form); at most 254 characters in all, 64 before the `@`; no
//!   quoted local parts or IP literals.
//! - FPS ID: 7 or 9 digits. FPS IDs are issued by the system, never chosen by a client: this
//!   installation issues 9 digits — 8 random digits (the first not 0) and a Luhn check digit,
//!   so a mistyped ID is refused before any lookup and IDs reveal neither order nor count.
//!   Uniqueness is the store's (a unique index; on a clash another random ID is drawn). A
//!   7-digit ID (the original issue's format) parses, to be found if imported.
//! - HKID: `bauhinia_core::hkid::Hkid` (letters, six digits, check character).

use std::fmt;

use bauhinia_core::hkid::{Hkid, HkidError};

use crate::switch::ParticipantCode;

/// The longest input a key parser looks at: longer text is refused before any work.
pub const KEY_INPUT_CHARS_MAX: usize = 320;
pub const EMAIL_CHARS_MAX: usize = 254;
pub const EMAIL_LOCAL_CHARS_MAX: usize = 64;
pub const ACCOUNT_REFERENCE_CHARS_MAX: usize = 34;
pub const DISPLAY_NAME_CHARS_MAX: usize = 140;
pub const CONSENT_VERSION_CHARS_MAX: usize = 32;
/// A consent may be dated at most this far ahead of the switch's clock (clock skew).
pub const CONSENT_SKEW_S: i64 = 300;
/// 2018-09-17 00:00 Hong Kong time, when FPS opened: no consent to it can be older.
pub const FPS_LAUNCH_S: i64 = 1_537_113_600;

/// A key's fault, said so a person can fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub &'static str);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProxyKind {
    Mobile,
    Email,
    FpsId,
    Hkid,
}

impl ProxyKind {
    pub const ALL: [ProxyKind; 4] = [
        ProxyKind::Mobile,
        ProxyKind::Email,
        ProxyKind::FpsId,
        ProxyKind::Hkid,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ProxyKind::Mobile => "mobile",
            ProxyKind::Email => "email",
            ProxyKind::FpsId => "fps_id",
            ProxyKind::Hkid => "hkid",
        }
    }

    pub fn parse(text: &str) -> Option<ProxyKind> {
        ProxyKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A Hong Kong mobile number: 8 digits, the first 4 to 9.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

impl MobileNumber {
    pub fn parse(text: &str) -> Result<MobileNumber, KeyError> {
        const SHAPE: KeyError =
            KeyError("a Hong Kong mobile number is 8 digits, optionally after +852");
        if text.chars().count() > KEY_INPUT_CHARS_MAX {
            return Err(SHAPE);
        }
        let compact: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = if let Some(rest) = compact.strip_prefix("+852") {
            rest
        } else if let Some(rest) = compact.strip_prefix("00852") {
            rest
        } else if compact.len() == 11 {
            compact.strip_prefix("852").ok_or(SHAPE)?
        } else {
            &compact
        };
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SHAPE);
        }
        if !digits.starts_with(['4', '5', '6', '7', '8', '9']) {
            return Err(KeyError(
                "Hong Kong mobile numbers begin with 4, 5, 6, 7, 8 or 9 (2 and 3 are fixed lines)",
            ));
        }
        Ok(MobileNumber(digits.to_owned()))
    }

    /// `+852-91234567`.
    pub fn canonical(&self) -> String {
        format!("+852-{}", self.0)
    }

    /// `+852-****4567`.
    pub fn masked(&self) -> String {
        format!("+852-****{}", self.0.get(4..).unwrap_or(""))
    }
}

/// An email address, its domain lower-cased.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<EmailAddress, KeyError> {
        let text = text.trim();
        if text.chars().count() > EMAIL_CHARS_MAX {
            return Err(KeyError("an email address has at most 254 characters"));
        }
        if !text.is_ascii() {
            return Err(KeyError(
                "an email address must be ASCII (give an internationalised domain in its xn-- form)",
            ));
        }
        let Some((local, domain)) = text.split_once('@') else {
            return Err(KeyError("an email address has an '@'"));
        };
        let local_ok = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c);
        if local.is_empty() || local.len() > EMAIL_LOCAL_CHARS_MAX || !local.chars().all(local_ok) {
            return Err(KeyError(
                "the part before '@' must be 1 to 64 letters, digits or !#$%&'*+/=?^_`{|}~.-",
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(KeyError("the part before '@' has a misplaced '.'"));
        }
        let domain = domain.to_ascii_lowercase();
        let label_ok = |label: &str| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let labels: Vec<&str> = domain.split('.').collect();
        let top_ok = labels
            .last()
            .is_some_and(|top| !top.bytes().all(|b| b.is_ascii_digit()));
        if labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) || !top_ok {
            return Err(KeyError(
                "the part after '@' must be a domain name such as example.hk",
            ));
        }
        Ok(EmailAddress(format!("{local}@{domain}")))
    }

    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// `c***@example.hk`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or(("", ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

/// An FPS ID: 7 digits (original issue) or 9 digits with a Luhn check digit (issued here).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FpsId(String);

/// The Luhn check digit of `digits` (ASCII digits).
fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    // `sum % 10` is below 10, so the digit is too.
    b'0' + u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

impl FpsId {
    pub fn parse(text: &str) -> Result<FpsId, KeyError> {
        if text.chars().count() > KEY_INPUT_CHARS_MAX {
            return Err(KeyError("an FPS ID is 7 or 9 digits"));
        }
        let compact: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if !compact.bytes().all(|b| b.is_ascii_digit()) {
            return Err(KeyError("an FPS ID is 7 or 9 digits"));
        }
        match compact.as_bytes() {
            [_, _, _, _, _, _, _] => Ok(FpsId(compact)),
            [body @ .., check] if body.len() == 8 => {
                if luhn_check_digit(body) == *check {
                    Ok(FpsId(compact))
                } else {
                    Err(KeyError("the FPS ID's check digit does not match"))
                }
            }
            _ => Err(KeyError("an FPS ID is 7 or 9 digits")),
        }
    }

    /// A new 9-digit FPS ID from a random number: 8 digits, the first not 0, and a Luhn check
    /// digit. The caller draws again if the store already holds it.
    pub fn issue(random: u64) -> FpsId {
        let body = (10_000_000 + random % 90_000_000).to_string();
        let check = luhn_check_digit(body.as_bytes());
        FpsId(format!("{body}{}", char::from(check)))
    }

    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// `12*****89`.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        let head = self.0.get(..2).unwrap_or("");
        let tail = self.0.get(n.saturating_sub(2)..).unwrap_or("");
        format!("{head}{}{tail}", "*".repeat(n.saturating_sub(4)))
    }
}

/// A proxy: what a payer types to find a payee.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ProxyKey {
    Mobile(MobileNumber),
    Email(EmailAddress),
    FpsId(FpsId),
    Hkid(Hkid),
}

fn hkid_error(e: HkidError) -> KeyError {
    match e {
        HkidError::Format => KeyError(
            "an HKID is one or two letters, six digits and a check character, e.g. A123456(3)",
        ),
        HkidError::CheckCharacter => KeyError("the HKID's check character does not match"),
    }
}

impl ProxyKey {
    pub fn parse(kind: ProxyKind, text: &str) -> Result<ProxyKey, KeyError> {
        if text.chars().count() > KEY_INPUT_CHARS_MAX {
            return Err(KeyError("the proxy is too long"));
        }
        match kind {
            ProxyKind::Mobile => MobileNumber::parse(text).map(ProxyKey::Mobile),
            ProxyKind::Email => EmailAddress::parse(text).map(ProxyKey::Email),
            ProxyKind::FpsId => FpsId::parse(text).map(ProxyKey::FpsId),
            ProxyKind::Hkid => Hkid::parse(text).map(ProxyKey::Hkid).map_err(hkid_error),
        }
    }

    pub fn kind(&self) -> ProxyKind {
        match self {
            ProxyKey::Mobile(_) => ProxyKind::Mobile,
            ProxyKey::Email(_) => ProxyKind::Email,
            ProxyKey::FpsId(_) => ProxyKind::FpsId,
            ProxyKey::Hkid(_) => ProxyKind::Hkid,
        }
    }

    /// The normalised text: `+852-91234567`, `chan@example.hk`, `123456782`, `A123456(3)`.
    /// Personal data: only for hashing, and for answering the participant that registered it.
    pub fn canonical(&self) -> String {
        match self {
            ProxyKey::Mobile(m) => m.canonical(),
            ProxyKey::Email(e) => e.canonical().to_owned(),
            ProxyKey::FpsId(id) => id.canonical().to_owned(),
            ProxyKey::Hkid(h) => h.expose(),
        }
    }

    /// What the keyed lookup hash is taken over: the kind and the canonical text, so two kinds
    /// never share a hash.
    pub fn hash_input(&self) -> String {
        format!("{}:{}", self.kind().as_str(), self.canonical())
    }

    /// A mask safe for logs, audit details and other participants.
    pub fn masked(&self) -> String {
        match self {
            ProxyKey::Mobile(m) => m.masked(),
            ProxyKey::Email(e) => e.masked(),
            ProxyKey::FpsId(id) => id.masked(),
            ProxyKey::Hkid(h) => h.masked(),
        }
    }
}

impl fmt::Debug for ProxyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyKey({}, {})", self.kind().as_str(), self.masked())
    }
}

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobileNumber({})", self.masked())
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

impl fmt::Debug for FpsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FpsId({})", self.masked())
    }
}

/// The participant's own reference to the customer's account (an account number, an IBAN-like
/// string): opaque to the switch, 1 to 34 printable ASCII characters. Sealed at rest.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountReference(String);

impl AccountReference {
    pub fn parse(text: &str) -> Result<AccountReference, &'static str> {
        let text = text.trim();
        let ok = !text.is_empty()
            && text.len() <= ACCOUNT_REFERENCE_CHARS_MAX
            && text.bytes().all(|b| (0x20..=0x7E).contains(&b));
        if ok {
            Ok(AccountReference(text.to_owned()))
        } else {
            Err("must be 1 to 34 printable ASCII characters")
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccountReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccountReference(***)")
    }
}

fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// The owner's name as a lookup shows it. Only this mask is stored, never the name.
///
/// - A name with Chinese characters: its characters without spaces; the first (the surname)
///   and, from three characters, the last are shown, every other one is `*`: 陳大明 → 陳*明,
///   陳明 → 陳*, 歐陽小明 → 歐**明.
/// - Otherwise (English, in the HKID's order, surname first): words split at spaces and commas,
///   upper-cased; the first word is shown whole, every later word as its first letter and
///   `**` whatever its length: `CHAN, Tai Man` → `CHAN T** M**`.
pub fn mask_name(display_name: &str) -> Result<String, &'static str> {
    const RULE: &str =
        "must be 1 to 140 letters (or Chinese characters), digits, spaces and ,.-'&()/";
    let name = display_name.trim();
    let allowed = |c: char| c.is_alphanumeric() || " ,.-'&()/·".contains(c);
    if name.is_empty()
        || name.chars().count() > DISPLAY_NAME_CHARS_MAX
        || !name.chars().all(allowed)
    {
        return Err(RULE);
    }
    if name.chars().any(is_han) {
        let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
        let masked: String = match chars.as_slice() {
            [] => return Err(RULE),
            [only] => only.to_string(),
            [first, _] => format!("{first}*"),
            [first, middle @ .., last] => {
                format!("{first}{}{last}", "*".repeat(middle.len()))
            }
        };
        return Ok(masked);
    }
    let mut words = name
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty());
    let Some(surname) = words.next() else {
        return Err(RULE);
    };
    let mut masked = surname.to_uppercase();
    for word in words {
        masked.push(' ');
        masked.extend(word.chars().take(1).flat_map(char::to_uppercase));
        masked.push_str("**");
    }
    Ok(masked)
}

/// Where the customer was given the notice and consented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentChannel {
    Branch,
    Online,
    MobileApp,
    Phone,
}

impl ConsentChannel {
    pub const ALL: [ConsentChannel; 4] = [
        ConsentChannel::Branch,
        ConsentChannel::Online,
        ConsentChannel::MobileApp,
        ConsentChannel::Phone,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ConsentChannel::Branch => "branch",
            ConsentChannel::Online => "online",
            ConsentChannel::MobileApp => "mobile_app",
            ConsentChannel::Phone => "phone",
        }
    }

    pub fn parse(text: &str) -> Option<ConsentChannel> {
        ConsentChannel::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// The owner's consent to the registration: when, to which version of the notice, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub at_s: i64,
    pub version: String,
    pub channel: ConsentChannel,
}

impl Consent {
    /// Checks the consent against the switch's clock `now_s`. On failure, the field at fault
    /// (`at`, `version`) and why.
    pub fn new(
        at_s: i64,
        version: &str,
        channel: ConsentChannel,
        now_s: i64,
    ) -> Result<Consent, (&'static str, &'static str)> {
        if at_s < FPS_LAUNCH_S || at_s > now_s.saturating_add(CONSENT_SKEW_S) {
            return Err((
                "at",
                "must be a time between FPS's launch (2018-09-17) and now",
            ));
        }
        let version = version.trim();
        let ok = !version.is_empty()
            && version.len() <= CONSENT_VERSION_CHARS_MAX
            && version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !ok {
            return Err(("version", "must be 1 to 32 letters, digits or ._-"));
        }
        Ok(Consent {
            at_s,
            version: version.to_owned(),
            channel,
        })
    }
}

/// A registration's state. `Removed` is kept only for FPS IDs (so they are never reissued).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyStatus {
    Active,
    Suspended,
    Removed,
}

impl ProxyStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ProxyStatus::Active => "active",
            ProxyStatus::Suspended => "suspended",
            ProxyStatus::Removed => "removed",
        }
    }

    pub fn parse(text: &str) -> Option<ProxyStatus> {
        [
            ProxyStatus::Active,
            ProxyStatus::Suspended,
            ProxyStatus::Removed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Why the payer looks a payee up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupPurpose {
    /// Person to person.
    P2p,
    /// Paying a merchant.
    Merchant,
    /// An institution paying individuals: salaries, pensions, refunds.
    Payroll,
}

/// One key at a time, or a bulk file of up to [`BULK_LOOKUP_MAX`] keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupMode {
    Single,
    Bulk,
}

pub const BULK_LOOKUP_MAX: usize = 1_000;

/// Whether a lookup of `kind` is allowed. An HKID addresses an individual only for institutions
/// paying people: in a bulk lookup whose purpose is payroll, never person to person.
pub fn lookup_allowed(
    kind: ProxyKind,
    purpose: LookupPurpose,
    mode: LookupMode,
) -> Result<(), &'static str> {
    match (kind, purpose, mode) {
        (ProxyKind::Hkid, LookupPurpose::Payroll, LookupMode::Bulk) => Ok(()),
        (ProxyKind::Hkid, _, _) => Err(
            "an HKID proxy may be looked up only by an institution paying individuals: in a bulk \
             lookup with purpose payroll, never person to person",
        ),
        _ => Ok(()),
    }
}

/// Whether a new registration becomes its key's default, and whose default it replaces.
///
/// A key (mobile, email, HKID) may be registered at several participants, one registration
/// per participant, and at most one of them is the default a lookup answers. The first
/// registration of a key becomes its default. A later one, at another participant, takes the
/// default over only when the customer asks for it (`set_default`); otherwise it is registered
/// without being the default. An FPS ID is issued per account: always its key's only, default,
/// registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultDecision {
    pub is_default: bool,
    pub replaces: Option<ParticipantCode>,
}

pub fn default_on_register(
    current_default: Option<ParticipantCode>,
    set_default: bool,
) -> DefaultDecision {
    match current_default {
        None => DefaultDecision {
            is_default: true,
            replaces: None,
        },
        Some(other) if set_default => DefaultDecision {
            is_default: true,
            replaces: Some(other),
        },
        Some(_) => DefaultDecision {
            is_default: false,
            replaces: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mobile(text: &str) -> Result<String, KeyError> {
        MobileNumber::parse(text).map(|m| m.canonical())
    }

    #[test]
    fn mobile_numbers_normalise() {
        for text in [
            "91234567",
            "9123 4567",
            "9123-4567",
            "+852 9123 4567",
            "+85291234567",
            "+852-91234567",
            "(852) 9123 4567",
            "852 9123 4567",
            "00852 9123 4567",
            " +852-9123-4567 ",
        ] {
            assert_eq!(mobile(text), Ok("+852-91234567".to_owned()), "{text}");
        }
        for first in ['4', '5', '6', '7', '8', '9'] {
            assert!(mobile(&format!("{first}1234567")).is_ok(), "{first}");
        }
        for bad in [
            "",
            "21234567",
            "31234567",
            "01234567",
            "1234567",
            "912345678",
            "+86 13812345678",
            "+852 2123 4567",
            "9123456a",
            "９１２３４５６７",
            "852912345",
        ] {
            assert!(mobile(bad).is_err(), "{bad}");
        }
        let m = MobileNumber::parse("91234567").map(|m| m.masked());
        assert_eq!(m, Ok("+852-****4567".to_owned()));
    }

    #[test]
    fn email_addresses_normalise() {
        let ok = [
            ("Chan.Tai-Man@Example.HK", "Chan.Tai-Man@example.hk"),
            ("  a@b.hk ", "a@b.hk"),
            ("x+tag@mail.xn--j6w193g", "x+tag@mail.xn--j6w193g"),
        ];
        for (text, canonical) in ok {
            let e = EmailAddress::parse(text).map(|e| e.canonical().to_owned());
            assert_eq!(e, Ok(canonical.to_owned()), "{text}");
        }
        let long_local = format!("{}@example.hk", "a".repeat(65));
        let long = format!("a@{}.hk", "b".repeat(260));
        for bad in [
            "",
            "chan",
            "chan@",
            "@example.hk",
            "chan@example",
            "chan@@example.hk",
            "chan@exa mple.hk",
            ".chan@example.hk",
            "ch..an@example.hk",
            "chan@-example.hk",
            "chan@1.2.3.4",
            "陳@example.hk",
            long_local.as_str(),
            long.as_str(),
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        let masked = EmailAddress::parse("chan@example.hk").map(|e| e.masked());
        assert_eq!(masked, Ok("c***@example.hk".to_owned()));
    }

    #[test]
    fn fps_ids_are_issued_with_a_check_digit() {
        // 12345678 → Luhn check digit 2 (worked by hand: 8·2=16→7, 7, 6·2=12→3, 5, 4·2=8, 3,
        // 2·2=4, 1: sum 38, so 2).
        assert_eq!(luhn_check_digit(b"12345678"), b'2');
        assert!(FpsId::parse("123456782").is_ok());
        assert_eq!(
            FpsId::parse("123456781"),
            Err(KeyError("the FPS ID's check digit does not match"))
        );
        assert!(
            FpsId::parse("1234567").is_ok(),
            "7 digits: the original issue"
        );
        for bad in ["", "12345678", "1234567890", "12345a7", "123 456 78"] {
            assert!(FpsId::parse(bad).is_err(), "{bad}");
        }
        for r in [0, 1, 89_999_999, u64::MAX] {
            let id = FpsId::issue(r);
            assert_eq!(id.canonical().len(), 9);
            assert!(!id.canonical().starts_with('0'));
            assert_eq!(FpsId::parse(id.canonical()), Ok(id.clone()));
        }
        let masked = FpsId::parse("123456782").map(|id| id.masked());
        assert_eq!(masked, Ok("12*****82".to_owned()));
    }

    #[test]
    fn keys_never_show_in_debug() -> Result<(), KeyError> {
        let keys = [
            ProxyKey::parse(ProxyKind::Mobile, "91234567")?,
            ProxyKey::parse(ProxyKind::Email, "chan.tai.man@example.hk")?,
            ProxyKey::parse(ProxyKind::Hkid, "A123456(3)")?,
            ProxyKey::parse(ProxyKind::FpsId, "123456782")?,
        ];
        for key in keys {
            let debug = format!("{key:?}");
            assert!(!debug.contains(&key.canonical()), "{debug}");
        }
        assert_eq!(
            ProxyKey::parse(ProxyKind::Hkid, "A123456(3)")?.hash_input(),
            "hkid:A123456(3)"
        );
        Ok(())
    }

    #[test]
    fn names_are_masked() {
        let cases = [
            ("CHAN Tai Man", "CHAN T** M**"),
            ("Chan, Tai-man", "CHAN T**"),
            ("  wong  siu   ming ", "WONG S** M**"),
            ("LEE", "LEE"),
            ("陳大明", "陳*明"),
            ("陳明", "陳*"),
            ("歐陽小明", "歐**明"),
            ("陳", "陳"),
            ("陳 大 明", "陳*明"),
        ];
        for (name, masked) in cases {
            assert_eq!(mask_name(name), Ok(masked.to_owned()), "{name}");
        }
        for bad in ["", "   ", "CHAN\u{0}", "a<b>", &"A".repeat(141)] {
            assert!(mask_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn account_references_and_consent() {
        assert!(AccountReference::parse("004-123-456789-001").is_ok());
        assert!(AccountReference::parse(&"1".repeat(34)).is_ok());
        for bad in ["", "  ", &"1".repeat(35), "帳戶", "a\tb"] {
            assert!(AccountReference::parse(bad).is_err(), "{bad:?}");
        }
        let now = 1_780_000_000;
        assert!(Consent::new(now, "v2.1", ConsentChannel::Online, now).is_ok());
        assert!(Consent::new(now + 301, "v1", ConsentChannel::Online, now).is_err());
        assert!(Consent::new(FPS_LAUNCH_S - 1, "v1", ConsentChannel::Branch, now).is_err());
        assert!(Consent::new(now, "", ConsentChannel::Phone, now).is_err());
        assert!(Consent::new(now, "v 1", ConsentChannel::Phone, now).is_err());
    }

    #[test]
    fn hkid_lookups_only_for_payroll_in_bulk() {
        use LookupMode::*;
        use LookupPurpose::*;
        assert!(lookup_allowed(ProxyKind::Hkid, Payroll, Bulk).is_ok());
        for (purpose, mode) in [
            (Payroll, Single),
            (P2p, Bulk),
            (Merchant, Bulk),
            (P2p, Single),
        ] {
            assert!(lookup_allowed(ProxyKind::Hkid, purpose, mode).is_err());
        }
        for kind in [ProxyKind::Mobile, ProxyKind::Email, ProxyKind::FpsId] {
            assert!(lookup_allowed(kind, P2p, Single).is_ok());
        }
    }

    #[test]
    fn the_default_moves_only_when_asked() {
        let a = ParticipantCode::parse("004");
        assert_eq!(
            default_on_register(None, false),
            DefaultDecision {
                is_default: true,
                replaces: None
            }
        );
        assert_eq!(
            default_on_register(a, false),
            DefaultDecision {
                is_default: false,
                replaces: None
            }
        );
        assert_eq!(
            default_on_register(a, true),
            DefaultDecision {
                is_default: true,
                replaces: a
            }
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in "\\PC{0,400}") {
            for kind in ProxyKind::ALL {
                let _ = ProxyKey::parse(kind, &text);
            }
            let _ = mask_name(&text);
            let _ = AccountReference::parse(&text);
        }

        #[test]
        fn mobile_forms_round_trip(first in 4u8..10, rest in "[0-9]{7}", form in 0usize..5) {
            let digits = format!("{first}{rest}");
            let (a, b) = digits.split_at(4);
            let text = match form {
                0 => digits.clone(),
                1 => format!("+852 {a} {b}"),
                2 => format!("852{digits}"),
                3 => format!("(852) {a}-{b}"),
                _ => format!("+852-{digits}"),
            };
            let parsed = MobileNumber::parse(&text).map_err(|e| TestCaseError::fail(e.0))?;
            prop_assert_eq!(parsed.canonical(), format!("+852-{digits}"));
            // The canonical form parses to itself.
            let again = MobileNumber::parse(&parsed.canonical()).map_err(|e| TestCaseError::fail(e.0))?;
            prop_assert_eq!(again, parsed);
        }

        #[test]
        fn emails_round_trip(local in "[a-zA-Z0-9_+-]{1,20}", domain in "[a-zA-Z0-9]{1,20}\\.[a-zA-Z]{2,6}") {
            let parsed = EmailAddress::parse(&format!(" {local}@{domain} ")).map_err(|e| TestCaseError::fail(e.0))?;
            prop_assert_eq!(parsed.canonical(), format!("{local}@{}", domain.to_ascii_lowercase()));
            let again = EmailAddress::parse(parsed.canonical()).map_err(|e| TestCaseError::fail(e.0))?;
            prop_assert_eq!(again, parsed);
        }

        #[test]
        fn issued_fps_ids_parse_and_one_wrong_digit_is_caught(random in any::<u64>(), at in 0usize..9, bump in 1u8..10) {
            let id = FpsId::issue(random);
            prop_assert_eq!(FpsId::parse(id.canonical()), Ok(id.clone()));
            let mut bytes = id.canonical().as_bytes().to_vec();
            if let Some(b) = bytes.get_mut(at) {
                *b = b'0' + (*b - b'0' + bump) % 10;
            }
            let typo = String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(FpsId::parse(&typo).is_err(), "{} → {}", id.canonical(), typo);
        }

        #[test]
        fn masks_never_contain_the_given_names(surname in "[A-Z]{2,8}", given in "[a-z]{3,8}") {
            let masked = mask_name(&format!("{surname} {given}")).map_err(TestCaseError::fail)?;
            let initial = given.chars().next().map(|c| c.to_ascii_uppercase()).unwrap_or('?');
            prop_assert_eq!(masked, format!("{surname} {initial}**"));
        }
    }
}
