//! The Business Registration number: exactly eight ASCII digits, now the Companies Registry's
//! and the Business Registration Office's common identifier. Surrounding white space is the
//! only leniency (it comes from copying); dashes, spaces inside or a branch suffix are refused,
//! so one business has exactly one spelling.

use std::fmt;

/// How many digits a BRN has.
pub const BRN_DIGITS: usize = 8;

/// Why a text is not a BRN. The messages never repeat the text itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BrnError {
    #[error("a Business Registration number is required (8 digits)")]
    Empty,
    #[error("a Business Registration number has 8 digits, not {0} characters")]
    Length(usize),
    #[error("a Business Registration number is digits only: character {0} is not 0-9")]
    NotDigit(usize),
}

/// A valid BRN.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Brn([u8; BRN_DIGITS]);

impl Brn {
    pub fn parse(text: &str) -> Result<Brn, BrnError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(BrnError::Empty);
        }
        let count = text.chars().count();
        if count != BRN_DIGITS {
            return Err(BrnError::Length(count));
        }
        let mut digits = [0u8; BRN_DIGITS];
        for (i, (slot, c)) in digits.iter_mut().zip(text.chars()).enumerate() {
            if !c.is_ascii_digit() {
                return Err(BrnError::NotDigit(i + 1));
            }
            *slot = c as u8;
        }
        Ok(Brn(digits))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for Brn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Brn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Brn({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_names_the_fault() {
        assert_eq!(
            Brn::parse("12345678").map(|b| b.to_string()),
            Ok("12345678".into())
        );
        assert_eq!(
            Brn::parse(" 01234567\n").map(|b| b.to_string()),
            Ok("01234567".into())
        );
        for (text, error) in [
            ("", BrnError::Empty),
            ("   ", BrnError::Empty),
            ("1234567", BrnError::Length(7)),
            ("123456789", BrnError::Length(9)),
            ("1234-5678", BrnError::Length(9)),
            ("1234 678", BrnError::NotDigit(5)),
            ("1234567a", BrnError::NotDigit(8)),
            ("１２３４５６７８", BrnError::NotDigit(1)),
            ("12345678-000-01-26-5", BrnError::Length(20)),
        ] {
            assert_eq!(Brn::parse(text), Err(error), "{text:?}");
        }
        assert!(!BrnError::NotDigit(3).to_string().contains("1234"));
    }

    proptest! {
        #[test]
        fn every_eight_digit_string_round_trips(text in "[0-9]{8}", pad in "[ \t\n]{0,3}") {
            let brn = Brn::parse(&format!("{pad}{text}{pad}")).expect("eight digits");
            prop_assert_eq!(brn.as_str(), text.as_str());
            prop_assert_eq!(Brn::parse(brn.as_str()), Ok(brn));
        }

        #[test]
        fn everything_else_is_refused_without_panicking(text in "\\PC{0,24}") {
            let trimmed = text.trim();
            let valid = trimmed.len() == 8 && trimmed.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(Brn::parse(&text).is_ok(), valid);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = Brn::parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
