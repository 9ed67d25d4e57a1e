//! The typed code: every value parsed into a type that can only hold a valid one, so a typed
//! [`FpsQr`] always encodes to a payload that decodes back to it.

use bauhinia_core::{Currency, Money};

use super::error::{AmountProblem, ValueProblem};
use super::tlv::FieldId;

/// Field 01: whether the code is shown for one payment (dynamic, amount fixed) or many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Initiation {
    /// `11`: the same code for many payments.
    Static,
    /// `12`: a code for one payment; it carries the amount.
    Dynamic,
}

impl Initiation {
    pub fn parse(text: &str) -> Result<Initiation, ValueProblem> {
        match text {
            "11" => Ok(Initiation::Static),
            "12" => Ok(Initiation::Dynamic),
            _ => Err(ValueProblem::Initiation),
        }
    }

    pub const fn code(self) -> &'static str {
        match self {
            Initiation::Static => "11",
            Initiation::Dynamic => "12",
        }
    }
}

/// Field 53 as a currency: `344` HKD, `156` CNY (ISO 4217 numeric codes).
pub fn parse_currency(text: &str) -> Result<Currency, ValueProblem> {
    match text {
        "344" => Ok(Currency::Hkd),
        "156" => Ok(Currency::Cny),
        _ => Err(ValueProblem::Currency),
    }
}

/// The ISO 4217 numeric code field 53 carries.
pub const fn currency_numeric(currency: Currency) -> &'static str {
    match currency {
        Currency::Hkd => "344",
        Currency::Cny => "156",
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

macro_rules! digits_type {
    ($(#[$doc:meta])* $name:ident, $problem:expr, |$len:ident| $ok:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<$name, ValueProblem> {
                let $len = text.len();
                if all_digits(text) && $ok {
                    Ok($name(text.to_owned()))
                } else {
                    Err($problem)
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

digits_type!(
    /// Sub-field 26.01: an FPS participant's 3-digit code, e.g. `004` (HSBC).
    ParticipantCode,
    ValueProblem::ParticipantCode,
    |len| len == 3
);

digits_type!(
    /// Sub-field 26.02: an FPS ID, 7 or 9 digits, issued by the system.
    FpsId,
    ValueProblem::FpsId,
    |len| len == 7 || len == 9
);

digits_type!(
    /// Field 52: the merchant category code (ISO 18245), `0000` when there is none.
    MerchantCategoryCode,
    ValueProblem::MerchantCategoryCode,
    |len| len == 4
);

impl MerchantCategoryCode {
    /// `0000`: no category.
    pub fn none() -> MerchantCategoryCode {
        MerchantCategoryCode("0000".to_owned())
    }
}

/// Sub-field 26.03: a Hong Kong mobile number, always written `+852-XXXXXXXX` in the payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// The payload's form exactly: `+852-` and 8 digits.
    pub fn parse(text: &str) -> Result<MobileNumber, ValueProblem> {
        match text.strip_prefix("+852-") {
            Some(digits) if digits.len() == 8 && all_digits(digits) => {
                Ok(MobileNumber(text.to_owned()))
            }
            _ => Err(ValueProblem::Mobile),
        }
    }

    /// What people type: `91234567`, `9123 4567`, `+852 9123 4567`, `85291234567`,
    /// `+852-91234567`. Spaces and hyphens between digits are ignored.
    pub fn parse_loose(text: &str) -> Result<MobileNumber, ValueProblem> {
        let trimmed = text.trim();
        let compact: String = trimmed.chars().filter(|c| *c != ' ' && *c != '-').collect();
        let digits = compact
            .strip_prefix("+852")
            .or_else(|| {
                (compact.len() == 11)
                    .then(|| compact.strip_prefix("852"))
                    .flatten()
            })
            .unwrap_or(&compact);
        if digits.len() == 8 && all_digits(digits) {
            Ok(MobileNumber(format!("+852-{digits}")))
        } else {
            Err(ValueProblem::Mobile)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest email address sub-field 26.04 can hold: the template holds 99 characters, of
/// which the FPS identifier takes 16, a participant code 7 and the email's own id and length 4.
pub const EMAIL_CHARS_MAX: usize = 72;

/// Sub-field 26.04: an email address (a plain `local@domain`; no quoted local parts, no IP
/// literals, ASCII only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<EmailAddress, ValueProblem> {
        let problem = |why| Err(ValueProblem::Email(why));
        if text.chars().count() > EMAIL_CHARS_MAX {
            return problem("at most 72 characters");
        }
        let Some((local, domain)) = text.split_once('@') else {
            return problem("it has no '@'");
        };
        let local_ok = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c);
        if local.is_empty() || !local.chars().all(local_ok) {
            return problem("the part before '@' is empty or has a character not allowed there");
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return problem("the part before '@' has a misplaced '.'");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |label: &&str| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return problem(
                "the part after '@' must be a domain name such as example.hk (letters, digits and \
                 '-' in dot-separated labels)",
            );
        }
        Ok(EmailAddress(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who is paid: exactly one of the FPS proxies the template names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Proxy {
    FpsId(FpsId),
    Mobile(MobileNumber),
    Email(EmailAddress),
}

impl Proxy {
    /// The sub-field of field 26 that carries it.
    pub const fn field_id(&self) -> FieldId {
        match self {
            Proxy::FpsId(_) => FieldId::FPS_ID,
            Proxy::Mobile(_) => FieldId::MOBILE,
            Proxy::Email(_) => FieldId::EMAIL,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Proxy::FpsId(id) => id.as_str(),
            Proxy::Mobile(mobile) => mobile.as_str(),
            Proxy::Email(email) => email.as_str(),
        }
    }

    /// `fps_id`, `mobile` or `email`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Proxy::FpsId(_) => "fps_id",
            Proxy::Mobile(_) => "mobile",
            Proxy::Email(_) => "email",
        }
    }
}

/// The longest amount field 54 may hold.
pub const AMOUNT_CHARS_MAX: usize = 13;

/// Field 54: a positive amount with at most 2 decimal places (HKD and CNY both have cents),
/// held as integer minor units — and as the text it was written in, so that a decoded payload
/// encodes back to the same characters (`12.3` stays `12.3`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Amount {
    text: String,
    minor: i64,
}

impl Amount {
    /// EMVCo's form: digits, optionally `.` and 1 or 2 digits; at most 13 characters; more
    /// than zero. No sign, no spaces, no thousands separators, no exponent.
    pub fn parse(text: &str) -> Result<Amount, ValueProblem> {
        let problem = |p| Err(ValueProblem::Amount(p));
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return problem(AmountProblem::NotDecimal);
        }
        if fraction.is_some_and(|f| f.len() > 2) {
            return problem(AmountProblem::TooManyDecimals);
        }
        if text.len() > AMOUNT_CHARS_MAX {
            return problem(AmountProblem::TooLong);
        }
        // 13 characters of digits fit in i64 with room to spare; the format was checked above,
        // so the only failure left is none at all.
        let money = Money::parse_decimal(text, Currency::Hkd)
            .map_err(|_| ValueProblem::Amount(AmountProblem::NotDecimal))?;
        if money.minor == 0 {
            return problem(AmountProblem::Zero);
        }
        Ok(Amount {
            text: text.to_owned(),
            minor: money.minor,
        })
    }

    /// An amount in minor units, written with 2 decimal places (`1230` → `12.30`).
    pub fn from_minor(minor: i64) -> Result<Amount, ValueProblem> {
        if minor <= 0 {
            return Err(ValueProblem::Amount(AmountProblem::Zero));
        }
        Amount::parse(&Money::hkd_cents(minor).to_decimal_string())
    }

    /// The same amount written with 2 decimal places, as Bauhinia writes amounts.
    pub fn canonical(&self) -> Amount {
        Amount {
            text: Money::hkd_cents(self.minor).to_decimal_string(),
            minor: self.minor,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub const fn minor(&self) -> i64 {
        self.minor
    }

    pub const fn money(&self, currency: Currency) -> Money {
        Money::from_minor(self.minor, currency)
    }
}

/// Text of 1 to `MAX` characters: merchant name (25), city (15), reference label (25), and
/// the alternate-language name (25) and city (15).
///
/// Bauhinia writes only EMVCo's common character set (printable ASCII) in fields 59, 60 and 62
/// ([`Text::parse_common`]), and puts other scripts in field 64, as EMVCo intends. It reads any
/// text without control characters in them ([`Text::parse_any`]), since some wallets write a
/// Chinese merchant name in field 59; lengths then count characters, as everywhere in the codec.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse_common(text: &str) -> Result<Text<MAX>, ValueProblem> {
        let count = text.chars().count();
        if (1..=MAX).contains(&count) && text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            Ok(Text(text.to_owned()))
        } else {
            Err(ValueProblem::CommonText { max_chars: MAX })
        }
    }

    pub fn parse_any(text: &str) -> Result<Text<MAX>, ValueProblem> {
        let count = text.chars().count();
        if (1..=MAX).contains(&count) && !text.chars().any(char::is_control) {
            Ok(Text(text.to_owned()))
        } else {
            Err(ValueProblem::AnyText { max_chars: MAX })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub type MerchantName = Text<25>;
pub type MerchantCity = Text<15>;
pub type ReferenceLabel = Text<25>;

/// Sub-field 64.00: the language of the alternate name, ISO 639-1 (two letters, e.g. `ZH`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(text: &str) -> Result<LanguageCode, ValueProblem> {
        if text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(LanguageCode(text.to_owned()))
        } else {
            Err(ValueProblem::Language)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A field Bauhinia does not type, kept verbatim and in order so that re-encoding a decoded
/// payload loses nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    pub id: FieldId,
    pub value: String,
}

/// Field 26: the FPS merchant account information.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FpsAccount {
    /// 26.01, when the code names the payee's participant.
    pub participant: Option<ParticipantCode>,
    /// Exactly one of 26.02, 26.03, 26.04.
    pub proxy: Proxy,
    /// Sub-fields 05–99, kept verbatim.
    pub other: Vec<Field>,
}

/// Field 62: additional data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AdditionalData {
    /// 62.05: the reference the payer's bank passes on to the payee.
    pub reference_label: Option<ReferenceLabel>,
    /// Every other sub-field (bill number, store label, terminal label, …), kept verbatim.
    pub other: Vec<Field>,
}

impl AdditionalData {
    fn is_empty(&self) -> bool {
        self.reference_label.is_none() && self.other.is_empty()
    }
}

/// Field 64: the merchant's name (and city) in another language, in any script.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlternateLanguage {
    pub language: LanguageCode,
    pub merchant_name: Text<25>,
    pub merchant_city: Option<Text<15>>,
    /// Sub-fields 03–99, kept verbatim.
    pub other: Vec<Field>,
}

/// A Hong Kong common QR code for FPS (EMVCo merchant-presented mode), typed.
/// Field 00 is always `01`, field 58 always `HK`, and field 63 is computed when encoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FpsQr {
    /// Field 01; EMVCo makes it optional, Bauhinia always writes it.
    pub initiation: Option<Initiation>,
    pub account: FpsAccount,
    pub merchant_category_code: MerchantCategoryCode,
    pub currency: Currency,
    pub amount: Option<Amount>,
    pub merchant_name: MerchantName,
    pub merchant_city: MerchantCity,
    pub additional_data: Option<AdditionalData>,
    pub alternate_language: Option<AlternateLanguage>,
    /// Every other top-level field (other payment schemes' accounts in 02–25 and 27–51, tip
    /// fields 55–57, postal code 61, 65–99), kept verbatim, in order.
    pub other: Vec<Field>,
}

impl FpsQr {
    /// A static code paying `proxy` in HKD, with no amount, merchant name `NA` and city `HK`.
    pub fn new(proxy: Proxy) -> FpsQr {
        FpsQr {
            initiation: Some(Initiation::Static),
            account: FpsAccount {
                participant: None,
                proxy,
                other: Vec::new(),
            },
            merchant_category_code: MerchantCategoryCode::none(),
            currency: Currency::Hkd,
            amount: None,
            merchant_name: Text("NA".to_owned()),
            merchant_city: Text("HK".to_owned()),
            additional_data: None,
            alternate_language: None,
            other: Vec::new(),
        }
    }

    /// The amount in its currency, when the code fixes one.
    pub fn money(&self) -> Option<Money> {
        self.amount.as_ref().map(|a| a.money(self.currency))
    }

    pub fn reference_label(&self) -> Option<&ReferenceLabel> {
        self.additional_data
            .as_ref()
            .and_then(|a| a.reference_label.as_ref())
    }

    /// Sets (or with `None` removes) the reference label, keeping the rest of field 62.
    pub fn set_reference_label(&mut self, label: Option<ReferenceLabel>) {
        let mut data = self.additional_data.take().unwrap_or_default();
        data.reference_label = label;
        self.additional_data = (!data.is_empty()).then_some(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        let ok = [
            ("12.30", 1230),
            ("12.3", 1230),
            ("12", 1200),
            ("0.01", 1),
            ("007", 700),
            ("9999999999.99", 999_999_999_999),
        ];
        for (text, minor) in ok {
            let amount = Amount::parse(text).unwrap();
            assert_eq!((amount.as_str(), amount.minor()), (text, minor));
        }
        let bad = [
            ("", AmountProblem::NotDecimal),
            ("12.", AmountProblem::NotDecimal),
            (".5", AmountProblem::NotDecimal),
            ("+5", AmountProblem::NotDecimal),
            ("-5", AmountProblem::NotDecimal),
            (" 5", AmountProblem::NotDecimal),
            ("1,000", AmountProblem::NotDecimal),
            ("1e3", AmountProblem::NotDecimal),
            ("1.2.3", AmountProblem::NotDecimal),
            ("1.234", AmountProblem::TooManyDecimals),
            ("0", AmountProblem::Zero),
            ("0.00", AmountProblem::Zero),
            ("12345678901234", AmountProblem::TooLong),
            ("99999999999.99", AmountProblem::TooLong),
        ];
        for (text, problem) in bad {
            assert_eq!(
                Amount::parse(text),
                Err(ValueProblem::Amount(problem)),
                "{text}"
            );
        }
        assert_eq!(Amount::from_minor(1230).unwrap().as_str(), "12.30");
        assert_eq!(Amount::parse("12.3").unwrap().canonical().as_str(), "12.30");
        assert!(Amount::from_minor(0).is_err());
        assert!(Amount::from_minor(i64::MAX).is_err());
    }

    #[test]
    fn mobiles() {
        assert_eq!(
            MobileNumber::parse("+852-91234567").unwrap().as_str(),
            "+852-91234567"
        );
        for bad in [
            "91234567",
            "+85291234567",
            "+852-9123456",
            "+852-9123456a",
            "+86-13812345678",
        ] {
            assert_eq!(MobileNumber::parse(bad), Err(ValueProblem::Mobile), "{bad}");
        }
        for loose in [
            "91234567",
            "9123 4567",
            "+852 9123 4567",
            "85291234567",
            "+852-91234567",
        ] {
            assert_eq!(
                MobileNumber::parse_loose(loose).unwrap().as_str(),
                "+852-91234567",
                "{loose}"
            );
        }
        for bad in ["1234567", "+86 13812345678", "852912345678", "phone"] {
            assert!(MobileNumber::parse_loose(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.hk",
            "shop.owner+fps@example.com.hk",
            "x_y@mail-1.example",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "plain",
            "@example.hk",
            "a@",
            "a@hk",
            "a@@b.hk",
            "a b@c.hk",
            ".a@b.hk",
            "a..b@c.hk",
            "a@-b.hk",
            "a@b..hk",
            "用户@例子.hk",
        ] {
            assert!(
                matches!(EmailAddress::parse(bad), Err(ValueProblem::Email(_))),
                "{bad}"
            );
        }
        let long = format!("{}@example.hk", "a".repeat(61));
        assert_eq!(long.len(), 72);
        assert!(EmailAddress::parse(&long).is_ok());
        assert!(EmailAddress::parse(&format!("a{long}")).is_err());
    }

    #[test]
    fn digits_and_texts() {
        assert!(ParticipantCode::parse("004").is_ok());
        assert!(ParticipantCode::parse("04").is_err());
        assert!(ParticipantCode::parse("٠٠٤").is_err());
        assert!(FpsId::parse("1234567").is_ok());
        assert!(FpsId::parse("123456789").is_ok());
        assert!(FpsId::parse("12345678").is_err());
        assert!(MerchantCategoryCode::parse("5812").is_ok());
        assert!(MerchantCategoryCode::parse("581").is_err());
        assert!(MerchantName::parse_common("Lucky Tea House").is_ok());
        assert!(MerchantName::parse_common("茶餐廳").is_err());
        assert!(MerchantName::parse_any("茶餐廳").is_ok());
        assert!(MerchantName::parse_any("a\nb").is_err());
        assert!(MerchantName::parse_common("").is_err());
        assert!(MerchantCity::parse_common("Sai Kung").is_ok());
        assert!(MerchantCity::parse_common("Sai Kung Town Ctr").is_err());
        assert!(LanguageCode::parse("ZH").is_ok());
        assert!(LanguageCode::parse("Z1").is_err());
    }
}
