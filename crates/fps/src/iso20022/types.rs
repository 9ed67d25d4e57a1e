//! The ISO 20022 data types the FPS messages share: bounded texts, amounts in minor units,
//! dates and date-times, codes, participants (agents), parties and accounts. Each type is
//! valid once constructed, and each reads and writes itself as one element.

use bauhinia_core::money::{Currency, Money};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use super::error::Iso20022Error;
use super::xml::{
    choice, collapsed, leaf_text, one, opt, seq, simple_content, Field, Node, Writer, Xml,
};

type Result<T> = std::result::Result<T, Iso20022Error>;

// ---------------------------------------------------------------------------------------------
// Texts

/// ISO 20022's `MaxNText`: 1 to `N` characters. Control characters are refused as well (the
/// schema allows tab and line breaks, but XML parsers rewrite them, so a value could not survive
/// a round trip; no FPS field needs them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<const N: usize>(String);

pub type Max4Text = Text<4>;
pub type Max34Text = Text<34>;
pub type Max35Text = Text<35>;
pub type Max70Text = Text<70>;
pub type Max105Text = Text<105>;
pub type Max140Text = Text<140>;
pub type Max500Text = Text<500>;
pub type Max2048Text = Text<2048>;

impl<const N: usize> Text<N> {
    pub fn new(value: impl Into<String>) -> std::result::Result<Self, String> {
        let value = value.into();
        let chars = value.chars().count();
        if chars == 0 {
            return Err("must not be empty".to_owned());
        }
        if chars > N {
            return Err(format!("has {chars} characters; Max{N}Text allows {N}"));
        }
        if value.chars().any(char::is_control) {
            return Err("contains a control character".to_owned());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const N: usize> Xml for Text<N> {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let text = leaf_text(node, path)?;
        Text::new(text).map_err(|reason| Iso20022Error::invalid(path, text, reason))
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.text(name, &self.0);
    }
}

/// Parses the collapsed text of a leaf with `parse`, naming the element on failure.
pub(crate) fn read_value<T>(
    node: &Node,
    path: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, String>,
) -> Result<T> {
    let text = leaf_text(node, path)?;
    parse(collapsed(text)).map_err(|reason| Iso20022Error::invalid(path, text, reason))
}

/// `Max15NumericText`: 1 to 15 digits, as a count (`NbOfTxs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count(pub u64);

impl Xml for Count {
    fn read(node: &Node, path: &str) -> Result<Self> {
        read_value(node, path, |text| {
            if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err("must be 1 to 15 digits".to_owned());
            }
            text.parse()
                .map(Count)
                .map_err(|_| "must be 1 to 15 digits".to_owned())
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.text(name, &self.0.to_string());
    }
}

impl Xml for bool {
    fn read(node: &Node, path: &str) -> Result<Self> {
        read_value(node, path, |text| match text {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err("must be true, false, 1 or 0".to_owned()),
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.text(name, if *self { "true" } else { "false" });
    }
}

/// A list with at least one element (the XSD's `minOccurs="1" maxOccurs="unbounded"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMore<T>(Vec<T>);

impl<T> OneOrMore<T> {
    /// `None` when `items` is empty.
    pub fn new(items: Vec<T>) -> Option<Self> {
        if items.is_empty() {
            None
        } else {
            Some(Self(items))
        }
    }

    pub fn one(item: T) -> Self {
        Self(vec![item])
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false; present because clippy pairs it with `len`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Builds a [`OneOrMore`] from read elements; `seq` has already checked the minimum.
pub(crate) fn one_or_more<T>(items: Vec<T>, path: String) -> Result<OneOrMore<T>> {
    OneOrMore::new(items).ok_or(Iso20022Error::MissingElement { path })
}

// ---------------------------------------------------------------------------------------------
// Amounts

/// An amount with its currency (`ActiveCurrencyAndAmount`): HKD or CNY, in minor units, never
/// negative, at most 18 digits, written as ISO decimal text with two places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount(Money);

impl Amount {
    /// The largest amount with 18 digits: 9,999,999,999,999,999.99.
    pub const MINOR_MAX: i64 = 999_999_999_999_999_999;

    /// `None` when negative or longer than 18 digits.
    pub fn new(money: Money) -> Option<Self> {
        (0..=Self::MINOR_MAX)
            .contains(&money.minor)
            .then_some(Self(money))
    }

    pub fn money(self) -> Money {
        self.0
    }

    pub fn currency(self) -> Currency {
        self.0.currency
    }

    pub fn minor(self) -> i64 {
        self.0.minor
    }

    /// `1234.50`: exactly two decimals.
    pub fn to_decimal_text(self) -> String {
        format!("{}.{:02}", self.0.minor / 100, self.0.minor % 100)
    }
}

/// Parses ISO decimal text (`xs:decimal`, at most 18 digits) into minor units of a
/// two-decimal currency. Trailing zeros beyond the second decimal are the same value and are
/// accepted; a third significant decimal is refused. No float is involved.
pub fn parse_decimal_minor(text: &str) -> std::result::Result<i64, String> {
    if text.starts_with('-') {
        return Err("an amount must not be negative".to_owned());
    }
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err("not a decimal number".to_owned());
    }
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return Err("HKD and CNY amounts have at most 2 decimal places".to_owned());
    }
    let too_large = || "an amount is at most 9999999999999999.99".to_owned();
    if whole.len() > 16 {
        return Err(too_large());
    }
    let mut minor: i64 = 0;
    let digits = whole.bytes().chain(fraction.bytes()).chain("00".bytes());
    for digit in digits.take(whole.len() + 2) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit - b'0')))
            .ok_or_else(too_large)?;
    }
    Ok(minor)
}

/// Parses a currency code: the ISO pattern first, then the currencies FPS settles.
pub fn parse_currency(code: &str) -> std::result::Result<Currency, String> {
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("a currency code is three capital letters (ISO 4217)".to_owned());
    }
    match code {
        "HKD" => Ok(Currency::Hkd),
        "CNY" => Ok(Currency::Cny),
        _ => Err("FPS settles HKD and CNY only".to_owned()),
    }
}

impl Xml for Amount {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let text = simple_content(node, path)?;
        let mut currency = None;
        for (name, value) in &node.attributes {
            if name != "Ccy" {
                return Err(Iso20022Error::UnexpectedAttribute {
                    path: path.to_owned(),
                    name: name.clone(),
                });
            }
            currency = Some(value);
        }
        let Some(code) = currency else {
            return Err(Iso20022Error::MissingAttribute {
                path: path.to_owned(),
                name: "Ccy".to_owned(),
            });
        };
        let currency = parse_currency(code)
            .map_err(|reason| Iso20022Error::invalid(&format!("{path}/@Ccy"), code, reason))?;
        let minor = parse_decimal_minor(collapsed(text))
            .map_err(|reason| Iso20022Error::invalid(path, text, reason))?;
        Ok(Amount(Money::from_minor(minor, currency)))
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.text_with_attribute(
            name,
            ("Ccy", self.0.currency.code()),
            &self.to_decimal_text(),
        );
    }
}

impl Xml for Currency {
    fn read(node: &Node, path: &str) -> Result<Self> {
        read_value(node, path, parse_currency)
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.text(name, self.code());
    }
}

// ---------------------------------------------------------------------------------------------
// Dates and times

/// `ISODate` (`xs:date`) without a time zone: `2026-03-01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoDate(pub Date);

/// `ISODateTime` (`xs:dateTime`): a local date and time to the nanosecond, with the UTC offset
/// when the sender gave one. `Z` and `+00:00` are the same value and are written `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IsoDateTime {
    pub local: PrimitiveDateTime,
    pub offset: Option<UtcOffset>,
}

fn digits_value(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `YYYY-MM-DD` with a four-digit year from 0001.
fn parse_date(text: &str) -> std::result::Result<Date, String> {
    let bad = || "a date is written YYYY-MM-DD".to_owned();
    let mut parts = text.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (Some(y), Some(m), Some(d)) = (digits_value(y), digits_value(m), digits_value(d)) else {
        return Err(bad());
    };
    let month = u8::try_from(m).ok().and_then(|m| Month::try_from(m).ok());
    let (Some(month), Ok(year), Ok(day)) = (month, i32::try_from(y), u8::try_from(d)) else {
        return Err("no such date".to_owned());
    };
    if year == 0 {
        return Err("there is no year 0000".to_owned());
    }
    Date::from_calendar_date(year, month, day).map_err(|_| "no such date".to_owned())
}

/// `hh:mm:ss` with an optional fraction of up to 9 digits.
fn parse_time(text: &str) -> std::result::Result<Time, String> {
    let bad = || "a time is written hh:mm:ss with an optional fraction".to_owned();
    let (hms, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut parts = hms.splitn(3, ':');
    let (Some(h), Some(m), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if h.len() != 2 || m.len() != 2 || s.len() != 2 || text.ends_with('.') {
        return Err(bad());
    }
    let (Some(h), Some(m), Some(s)) = (digits_value(h), digits_value(m), digits_value(s)) else {
        return Err(bad());
    };
    let nanos = if fraction.is_empty() {
        0
    } else {
        if fraction.len() > 9 {
            return Err("at most 9 digits of a second".to_owned());
        }
        let value = digits_value(fraction).ok_or_else(bad)?;
        value * 10_u32.pow(9 - u32::try_from(fraction.len()).unwrap_or(9))
    };
    let (Ok(h), Ok(m), Ok(s)) = (u8::try_from(h), u8::try_from(m), u8::try_from(s)) else {
        return Err(bad());
    };
    Time::from_hms_nano(h, m, s, nanos).map_err(|_| "no such time of day".to_owned())
}

/// `Z`, `+hh:mm` or `-hh:mm`, at most 14 hours.
fn parse_offset(text: &str) -> std::result::Result<UtcOffset, String> {
    if text == "Z" {
        return Ok(UtcOffset::UTC);
    }
    let bad = || "a time zone is written Z, +hh:mm or -hh:mm".to_owned();
    let (sign, rest) = match text.split_at_checked(1) {
        Some(("+", rest)) => (1_i8, rest),
        Some(("-", rest)) => (-1_i8, rest),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (Some(h), Some(m)) = (digits_value(h), digits_value(m)) else {
        return Err(bad());
    };
    if h > 14 || m > 59 || (h == 14 && m > 0) {
        return Err("a time zone is at most 14 hours from UTC".to_owned());
    }
    let (Ok(h), Ok(m)) = (i8::try_from(h), i8::try_from(m)) else {
        return Err(bad());
    };
    UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad())
}

impl IsoDateTime {
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let (date, rest) = text
            .split_once('T')
            .ok_or_else(|| "a date-time is written YYYY-MM-DDThh:mm:ss".to_owned())?;
        let date = parse_date(date)?;
        let zone_at = rest.find(['Z', '+', '-']);
        let (time, offset) = match zone_at {
            Some(at) => (
                rest.get(..at).unwrap_or(rest),
                rest.get(at..).map(parse_offset),
            ),
            None => (rest, None),
        };
        let offset = offset.transpose()?;
        let time = parse_time(time)?;
        Ok(Self {
            local: PrimitiveDateTime::new(date, time),
            offset,
        })
    }

    /// `2026-03-01T10:15:30.25+08:00`: fraction digits only as needed.
    pub fn to_iso_text(&self) -> String {
        let (d, t) = (self.local.date(), self.local.time());
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            d.year(),
            u8::from(d.month()),
            d.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        if t.nanosecond() != 0 {
            let fraction = format!("{:09}", t.nanosecond());
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        match self.offset {
            None => {}
            Some(offset) if offset.is_utc() => out.push('Z'),
            Some(offset) => {
                let (h, m, _) = offset.as_hms();
                let sign = if offset.is_negative() { '-' } else { '+' };
                out.push_str(&format!(
                    "{sign}{:02}:{:02}",
                    h.unsigned_abs(),
                    m.unsigned_abs()
                ));
            }
        }
        out
    }
}

impl IsoDate {
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        parse_date(text).map(IsoDate)
    }

    pub fn to_iso_text(self) -> String {
        let d = self.0;
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    }
}

impl Xml for IsoDate {
    fn read(node: &Node, path: &str) -> Result<Self> {
        read_value(node, path, IsoDate::parse)
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.text(name, &self.to_iso_text());
    }
}

impl Xml for IsoDateTime {
    fn read(node: &Node, path: &str) -> Result<Self> {
        read_value(node, path, IsoDateTime::parse)
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.text(name, &self.to_iso_text());
    }
}

/// `DateAndDateTime2Choice`: a date or a date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrDateTime {
    Date(IsoDate),
    DateTime(IsoDateTime),
}

impl Xml for DateOrDateTime {
    fn read(node: &Node, path: &str) -> Result<Self> {
        match choice(node, path, &["Dt", "DtTm"])? {
            ("Dt", child, path) => IsoDate::read(child, &path).map(Self::Date),
            (_, child, path) => IsoDateTime::read(child, &path).map(Self::DateTime),
        }
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| match self {
            Self::Date(d) => w.el("Dt", d),
            Self::DateTime(t) => w.el("DtTm", t),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Codes

/// A closed ISO code list (an XSD enumeration, or the subset of an external list FPS uses).
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl Xml for $name {
            fn read(node: &Node, path: &str) -> Result<Self> {
                read_value(node, path, |text| {
                    $name::from_code(text).ok_or_else(|| {
                        let codes: Vec<&str> = $name::ALL.iter().map(|c| c.code()).collect();
                        format!("{} is one of {}", $what, codes.join(", "))
                    })
                })
            }

            fn write(&self, w: &mut Writer, name: &str) {
                w.text(name, self.code());
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// `ChargeBearerType1Code`. FPS transfers are `SLEV` (following the service level).
    ChargeBearer, "a charge bearer" { Debtor = "DEBT", Creditor = "CRED", Shared = "SHAR", FollowingServiceLevel = "SLEV" }
);

code_enum!(
    /// `CreditDebitCode`.
    CreditDebit, "a credit/debit indicator" { Credit = "CRDT", Debit = "DBIT" }
);

/// A code from an ISO external code list (`Cd`, up to 4 characters) or a proprietary value
/// (`Prtry`, up to 35): reason codes, balance types, entry statuses, proxy types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CodeOrProprietary {
    Code(Max4Text),
    Proprietary(Max35Text),
}

impl CodeOrProprietary {
    /// A `Cd` from a literal external code such as `"AM04"`; `None` if it is not 1–4 characters.
    pub fn code(code: &str) -> Option<Self> {
        Text::new(code).ok().map(Self::Code)
    }

    pub fn is_code(&self, code: &str) -> bool {
        matches!(self, Self::Code(c) if c.as_str() == code)
    }

    /// The code or the proprietary value, whichever it is.
    pub fn value(&self) -> &str {
        match self {
            Self::Code(c) => c.as_str(),
            Self::Proprietary(p) => p.as_str(),
        }
    }
}

impl Xml for CodeOrProprietary {
    fn read(node: &Node, path: &str) -> Result<Self> {
        match choice(node, path, &["Cd", "Prtry"])? {
            ("Cd", child, path) => Text::read(child, &path).map(Self::Code),
            (_, child, path) => Text::read(child, &path).map(Self::Proprietary),
        }
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| match self {
            Self::Code(c) => w.el("Cd", c),
            Self::Proprietary(p) => w.el("Prtry", p),
        });
    }
}

/// ISO external status and reason codes that FPS participants see most.
pub mod reason {
    /// Insufficient funds.
    pub const AM04: &str = "AM04";
    /// Incorrect account number.
    pub const AC01: &str = "AC01";
    /// Closed account.
    pub const AC04: &str = "AC04";
    /// Blocked account.
    pub const AC06: &str = "AC06";
    /// Amount exceeds the agreed maximum.
    pub const AM02: &str = "AM02";
    /// Duplicate payment.
    pub const DUPL: &str = "DUPL";
    /// Not specified reason, agent generated.
    pub const NARR: &str = "NARR";
    /// Requested by the customer.
    pub const CUST: &str = "CUST";
    /// No mandate, or the mandate is invalid.
    pub const MD01: &str = "MD01";
    /// Timeout at the receiving participant.
    pub const AB05: &str = "AB05";

    /// The meaning of a code this module knows, for logs and screens.
    pub fn meaning(code: &str) -> Option<&'static str> {
        Some(match code {
            AM04 => "insufficient funds",
            AC01 => "incorrect account number",
            AC04 => "closed account",
            AC06 => "blocked account",
            AM02 => "amount exceeds the agreed maximum",
            DUPL => "duplicate payment",
            NARR => "see the narrative",
            CUST => "requested by the customer",
            MD01 => "no mandate",
            AB05 => "timeout at the creditor agent",
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Participants, parties and accounts

/// An FPS participant's 3-digit code (e.g. `004` HSBC, `012` BOCHK, SVFs in the 9xx range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantCode([u8; 3]);

impl ParticipantCode {
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        match text.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => Ok(Self([a, b, c])),
            _ => Err("an FPS participant code is 3 digits".to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The clearing system code ISO assigns Hong Kong's interbank clearing (`ClrSysId/Cd`).
pub const HK_CLEARING_SYSTEM: &str = "HKNCC";

/// A participant as an agent (`BranchAndFinancialInstitutionIdentification6`), identified by
/// `FinInstnId/ClrSysMmbId/MmbId`, written with `ClrSysId/Cd` `HKNCC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Agent {
    pub participant: ParticipantCode,
}

const AGENT: &[Field] = &[one("FinInstnId")];
const FIN_INSTN_ID: &[Field] = &[one("ClrSysMmbId")];
const CLR_SYS_MMB_ID: &[Field] = &[opt("ClrSysId"), one("MmbId")];

impl Xml for Agent {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let (fin, fin_path) = seq(node, path, AGENT)?.child("FinInstnId")?;
        let (member, member_path) = seq(fin, &fin_path, FIN_INSTN_ID)?.child("ClrSysMmbId")?;
        let member = seq(member, &member_path, CLR_SYS_MMB_ID)?;
        if let Some((system, system_path)) = member.opt_child("ClrSysId") {
            // `ClearingSystemIdentification2Choice`: `Cd` is up to 5 characters here.
            let (name, code, code_path) = choice(system, &system_path, &["Cd", "Prtry"])?;
            let code: Max35Text = Text::read(code, &code_path)?;
            if name != "Cd" || code.as_str() != HK_CLEARING_SYSTEM {
                return Err(Iso20022Error::invalid(
                    &code_path,
                    code.as_str(),
                    format!("FPS participants are members of Cd {HK_CLEARING_SYSTEM}"),
                ));
            }
        }
        let id: Max35Text = member.req("MmbId")?;
        let participant = ParticipantCode::parse(id.as_str()).map_err(|reason| {
            Iso20022Error::invalid(&member.path_of("MmbId"), id.as_str(), reason)
        })?;
        Ok(Agent { participant })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.group("FinInstnId", |w| {
                w.group("ClrSysMmbId", |w| {
                    w.group("ClrSysId", |w| w.text("Cd", HK_CLEARING_SYSTEM));
                    w.text("MmbId", self.participant.as_str());
                });
            });
        });
    }
}

/// A party (`PartyIdentification135`); FPS carries its name only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Party {
    pub name: Option<Max140Text>,
}

const PARTY: &[Field] = &[opt("Nm")];

impl Xml for Party {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let party = seq(node, path, PARTY)?;
        Ok(Party {
            name: party.opt("Nm")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| w.opt("Nm", &self.name));
    }
}

/// `AccountIdentification4Choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountId {
    /// An IBAN (`[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}`); Hong Kong accounts have none, but
    /// cross-border statements may.
    Iban(String),
    /// `Othr/Id`: the participant's own account number.
    Other(Max34Text),
}

impl AccountId {
    pub fn iban(text: &str) -> std::result::Result<Self, String> {
        let b = text.as_bytes();
        let shape = (5..=34).contains(&b.len())
            && b.iter().take(2).all(u8::is_ascii_uppercase)
            && b.iter().skip(2).take(2).all(u8::is_ascii_digit)
            && b.iter().skip(4).all(u8::is_ascii_alphanumeric);
        if shape {
            Ok(Self::Iban(text.to_owned()))
        } else {
            Err("an IBAN is 2 capital letters, 2 digits and 1 to 30 letters or digits".to_owned())
        }
    }
}

const OTHER_ACCOUNT: &[Field] = &[one("Id")];

impl Xml for AccountId {
    fn read(node: &Node, path: &str) -> Result<Self> {
        match choice(node, path, &["IBAN", "Othr"])? {
            ("IBAN", child, path) => read_value(child, &path, AccountId::iban),
            (_, child, path) => seq(child, &path, OTHER_ACCOUNT)?.req("Id").map(Self::Other),
        }
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| match self {
            Self::Iban(iban) => w.text("IBAN", iban),
            Self::Other(id) => w.group("Othr", |w| w.el("Id", id)),
        });
    }
}

/// The FPS addressing proxies (`Prxy/Tp`): mobile number, email address, HKID (institutions
/// paying people only) and FPS ID, which has no ISO code and is written `Prtry` `FPSID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyType {
    Mobile,
    Email,
    Hkid,
    FpsId,
}

impl ProxyType {
    fn to_choice(self) -> CodeOrProprietary {
        let (code, proprietary) = match self {
            Self::Mobile => ("MBNO", false),
            Self::Email => ("EMAL", false),
            Self::Hkid => ("NIDN", false),
            Self::FpsId => ("FPSID", true),
        };
        if proprietary {
            CodeOrProprietary::Proprietary(Text(code.to_owned()))
        } else {
            CodeOrProprietary::Code(Text(code.to_owned()))
        }
    }

    fn from_choice(choice: &CodeOrProprietary) -> Option<Self> {
        [Self::Mobile, Self::Email, Self::Hkid, Self::FpsId]
            .into_iter()
            .find(|t| t.to_choice() == *choice)
    }
}

/// `ProxyAccountIdentification1`: the proxy a payer addressed the payee by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub kind: ProxyType,
    pub id: Max2048Text,
}

/// FPS requires the proxy type, which the schema leaves optional.
const PROXY: &[Field] = &[one("Tp"), one("Id")];

impl Xml for Proxy {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let proxy = seq(node, path, PROXY)?;
        let kind: CodeOrProprietary = proxy.req("Tp")?;
        let Some(kind) = ProxyType::from_choice(&kind) else {
            return Err(Iso20022Error::invalid(
                &proxy.path_of("Tp"),
                kind.value(),
                "an FPS proxy type is Cd MBNO, EMAL or NIDN, or Prtry FPSID",
            ));
        };
        Ok(Proxy {
            kind,
            id: proxy.req("Id")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("Tp", &self.kind.to_choice());
            w.el("Id", &self.id);
        });
    }
}

/// An account (`CashAccount38`, and the same leading elements of `CashAccount39` in
/// statements): its identification, currency, name and the proxy it was addressed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub currency: Option<Currency>,
    pub name: Option<Max70Text>,
    pub proxy: Option<Proxy>,
}

const ACCOUNT: &[Field] = &[one("Id"), opt("Ccy"), opt("Nm"), opt("Prxy")];

impl Xml for Account {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let account = seq(node, path, ACCOUNT)?;
        Ok(Account {
            id: account.req("Id")?,
            currency: account.opt("Ccy")?,
            name: account.opt("Nm")?,
            proxy: account.opt("Prxy")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("Id", &self.id);
            w.opt("Ccy", &self.currency);
            w.opt("Nm", &self.name);
            w.opt("Prxy", &self.proxy);
        });
    }
}

/// Remittance information (`RemittanceInformation16`): unstructured lines only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Remittance {
    pub unstructured: Vec<Max140Text>,
}

const REMITTANCE: &[Field] = &[super::xml::many("Ustrd")];

impl Xml for Remittance {
    fn read(node: &Node, path: &str) -> Result<Self> {
        Ok(Remittance {
            unstructured: seq(node, path, REMITTANCE)?.all("Ustrd")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| w.all("Ustrd", &self.unstructured));
    }
}

/// `OriginalGroupInformation29` / `OriginalMessageInformation1`: which message a report is
/// about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalMessage {
    pub message_id: Max35Text,
    /// The original's message name, e.g. `pacs.008.001.08`.
    pub message_name: Max35Text,
    pub created: Option<IsoDateTime>,
}

pub(crate) const ORIGINAL_GROUP: &[Field] =
    &[one("OrgnlMsgId"), one("OrgnlMsgNmId"), opt("OrgnlCreDtTm")];
pub(crate) const ORIGINAL_MESSAGE: &[Field] = &[one("MsgId"), one("MsgNmId"), opt("CreDtTm")];

/// `OrgnlGrpInf` in pacs (`Orgnl…` names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalGroup(pub OriginalMessage);

impl Xml for OriginalGroup {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, ORIGINAL_GROUP)?;
        Ok(OriginalGroup(OriginalMessage {
            message_id: s.req("OrgnlMsgId")?,
            message_name: s.req("OrgnlMsgNmId")?,
            created: s.opt("OrgnlCreDtTm")?,
        }))
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("OrgnlMsgId", &self.0.message_id);
            w.el("OrgnlMsgNmId", &self.0.message_name);
            w.opt("OrgnlCreDtTm", &self.0.created);
        });
    }
}

/// `OrgnlMsgInf` in pain (plain names).
impl Xml for OriginalMessage {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, ORIGINAL_MESSAGE)?;
        Ok(OriginalMessage {
            message_id: s.req("MsgId")?,
            message_name: s.req("MsgNmId")?,
            created: s.opt("CreDtTm")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("MsgId", &self.message_id);
            w.el("MsgNmId", &self.message_name);
            w.opt("CreDtTm", &self.created);
        });
    }
}

/// A reason with optional free text: `StatusReasonInformation12`, `PaymentReturnReason6` and
/// the mandate reasons share this shape (`Rsn` choice, `AddtlInf` lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonInfo {
    pub reason: Option<CodeOrProprietary>,
    pub additional_info: Vec<Max105Text>,
}

impl ReasonInfo {
    pub fn code(code: &str) -> Option<Self> {
        Some(ReasonInfo {
            reason: Some(CodeOrProprietary::code(code)?),
            additional_info: Vec::new(),
        })
    }
}

const REASON_INFO: &[Field] = &[opt("Rsn"), super::xml::many("AddtlInf")];

impl Xml for ReasonInfo {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, REASON_INFO)?;
        Ok(ReasonInfo {
            reason: s.opt("Rsn")?,
            additional_info: s.all("AddtlInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("Rsn", &self.reason);
            w.all("AddtlInf", &self.additional_info);
        });
    }
}
