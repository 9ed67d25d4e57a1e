//! Money as integer minor units. Never floats: a value is parsed from its decimal text exactly,
//! and arithmetic is checked. HKD and CNY both have two minor digits.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Currencies Bauhinia moves or reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Hkd,
    Cny,
}

impl Currency {
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Hkd => "HKD",
            Currency::Cny => "CNY",
        }
    }

    /// The inverse of [`Currency::code`].
    pub fn parse(code: &str) -> Option<Currency> {
        match code {
            "HKD" => Some(Currency::Hkd),
            "CNY" => Some(Currency::Cny),
            _ => None,
        }
    }

    /// Minor units per major unit (both have cents / fen).
    pub const fn minor_per_major(self) -> i64 {
        100
    }
}

/// An amount in a currency's minor units (HK cents for HKD).
/// Amounts of different currencies are never compared or added, so there is no `Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyParseError {
    #[error("an amount must be a decimal number such as 20000000 or 1234.56")]
    NotDecimal,
    #[error("an amount has at most two decimal places")]
    TooManyDecimals,
    #[error("an amount must not be negative")]
    Negative,
    #[error("the amount is too large")]
    TooLarge,
}

impl Money {
    pub const fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub const fn hkd_cents(minor: i64) -> Self {
        Self {
            minor,
            currency: Currency::Hkd,
        }
    }

    /// Whole dollars (e.g. caps written as 1,500 万元 = 15,000,000).
    pub fn hkd_dollars(dollars: i64) -> Option<Self> {
        dollars.checked_mul(100).map(Self::hkd_cents)
    }

    /// Parses a non-negative decimal such as `20000000`, `1,234.5` is rejected (no separators),
    /// `1234.50` and `0.07` are accepted. Exact: no floating point is involved.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, MoneyParseError> {
        let text = text.trim();
        if text.starts_with('-') {
            return Err(MoneyParseError::Negative);
        }
        let text = text.strip_prefix('+').unwrap_or(text);
        let (whole, fraction) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !all_digits(whole)
            || !all_digits(fraction)
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(MoneyParseError::NotDecimal);
        }
        if fraction.len() > 2 {
            return Err(MoneyParseError::TooManyDecimals);
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyParseError::TooLarge)?;
        let mut cents: i64 = 0;
        for (i, digit) in fraction.bytes().enumerate() {
            let scale = if i == 0 { 10 } else { 1 };
            cents += i64::from(digit - b'0') * scale;
        }
        let minor = whole
            .checked_mul(currency.minor_per_major())
            .and_then(|m| m.checked_add(cents))
            .ok_or(MoneyParseError::TooLarge)?;
        Ok(Self { minor, currency })
    }

    /// `numerator / denominator` of this amount, rounded down to the minor unit. `None` when the
    /// denominator is zero or the result does not fit.
    pub fn share_floor(self, numerator: u32, denominator: u32) -> Option<Self> {
        if denominator == 0 {
            return None;
        }
        let product = i128::from(self.minor) * i128::from(numerator);
        let minor = i64::try_from(product.div_euclid(i128::from(denominator))).ok()?;
        Some(Self {
            minor,
            currency: self.currency,
        })
    }

    pub fn min(self, other: Self) -> Self {
        debug_assert_eq!(
            self.currency, other.currency,
            "comparing amounts of different currencies"
        );
        if other.minor < self.minor {
            other
        } else {
            self
        }
    }

    /// Plain decimal text with two places: `20000000.00`.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Whole units with thousands separators, cents only when present: `HK$15,000,000`.
    pub fn display_grouped(self) -> String {
        let abs = self.minor.unsigned_abs();
        let whole = (abs / 100).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let symbol = match self.currency {
            Currency::Hkd => "HK$",
            Currency::Cny => "¥",
        };
        let sign = if self.minor < 0 { "-" } else { "" };
        match abs % 100 {
            0 => format!("{sign}{symbol}{grouped}"),
            cents => format!("{sign}{symbol}{grouped}.{cents:02}"),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code(), self.to_decimal_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_exactly() {
        let ok = [
            ("0", 0),
            ("20000000", 2_000_000_000),
            ("1234.5", 123_450),
            ("1234.56", 123_456),
            ("0.07", 7),
            ("+5", 500),
        ];
        for (text, minor) in ok {
            assert_eq!(
                Money::parse_decimal(text, Currency::Hkd).map(|m| m.minor),
                Ok(minor),
                "{text}"
            );
        }
        let bad = [
            ("-1", MoneyParseError::Negative),
            ("1.234", MoneyParseError::TooManyDecimals),
            ("1,000", MoneyParseError::NotDecimal),
            ("", MoneyParseError::NotDecimal),
            ("1.", MoneyParseError::NotDecimal),
            (".5", MoneyParseError::NotDecimal),
            ("1e6", MoneyParseError::NotDecimal),
            ("NaN", MoneyParseError::NotDecimal),
            ("99999999999999999999", MoneyParseError::TooLarge),
        ];
        for (text, error) in bad {
            assert_eq!(
                Money::parse_decimal(text, Currency::Hkd),
                Err(error),
                "{text}"
            );
        }
    }

    #[test]
    fn shares_round_down() {
        let cost = Money::hkd_dollars(400_000_000).expect("fits");
        assert_eq!(
            cost.share_floor(1, 3).map(|m| m.minor),
            Some(13_333_333_333)
        );
        assert_eq!(Money::hkd_cents(100).share_floor(1, 0), None);
    }

    #[test]
    fn displays() {
        assert_eq!(
            Money::hkd_cents(1_500_000_000).display_grouped(),
            "HK$15,000,000"
        );
        assert_eq!(
            Money::hkd_cents(13_333_333_333).display_grouped(),
            "HK$133,333,333.33"
        );
        assert_eq!(
            Money::hkd_cents(13_333_333_333).to_decimal_string(),
            "133333333.33"
        );
        assert_eq!(Money::hkd_cents(5).to_decimal_string(), "0.05");
    }

    proptest! {
        #[test]
        fn decimal_round_trips(minor in 0i64..=i64::MAX / 100) {
            let money = Money::hkd_cents(minor);
            prop_assert_eq!(Money::parse_decimal(&money.to_decimal_string(), Currency::Hkd), Ok(money));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = Money::parse_decimal(&text, Currency::Hkd);
        }

        #[test]
        fn share_never_exceeds_whole(minor in 0i64..1_000_000_000_000_000, n in 0u32..10, d in 1u32..10) {
            prop_assume!(n <= d);
            let share = Money::hkd_cents(minor).share_floor(n, d).expect("fits");
            prop_assert!(share.minor <= minor);
            prop_assert!(i128::from(share.minor) * i128::from(d) <= i128::from(minor) * i128::from(n));
        }
    }
}
