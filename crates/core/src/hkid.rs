//! The Hong Kong Identity Card number: one or two letters, six digits, and a check character,
//! written `A123456(3)`. [`Hkid::parse`] accepts it with or without brackets, in either case,
//! and checks the check character.
//!
//! An HKID is personal data: it has no `Display`, and `Debug` shows only a mask, so it cannot
//! reach a log by accident. [`Hkid::expose`] gives the full number, for sealing and release.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HkidError {
    #[error("an HKID is one or two letters, six digits and a check character, e.g. A123456(3)")]
    Format,
    #[error("the check character does not match the HKID")]
    CheckCharacter,
}

/// A valid HKID, normalised to capitals.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Hkid {
    /// One or two ASCII capitals.
    prefix: String,
    digits: [u8; 6],
    check: char,
}

fn letter_value(c: u8) -> u32 {
    u32::from(c - b'A') + 10
}

/// The check character of `prefix` + `digits` (the published algorithm: a single-letter prefix
/// is padded with a space worth 36; weights 9..2; remainder mod 11; 0 → '0', 1 → 'A', else 11 − r).
pub fn check_character(prefix: &[u8], digits: &[u8; 6]) -> char {
    let mut values: Vec<u32> = Vec::with_capacity(8);
    if prefix.len() == 1 {
        values.push(36);
    }
    values.extend(prefix.iter().map(|c| letter_value(*c)));
    values.extend(digits.iter().map(|d| u32::from(*d)));
    let sum: u32 = values.iter().zip((2..=9).rev()).map(|(v, w)| v * w).sum();
    match sum % 11 {
        0 => '0',
        1 => 'A',
        r => char::from_digit(11 - r, 10).unwrap_or('0'),
    }
}

impl Hkid {
    pub fn parse(text: &str) -> Result<Hkid, HkidError> {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, '(' | ')' | ' '))
            .collect();
        let cleaned = cleaned.to_ascii_uppercase();
        let bytes = cleaned.as_bytes();
        if !(8..=9).contains(&bytes.len()) || !cleaned.is_ascii() {
            return Err(HkidError::Format);
        }
        let prefix_len = bytes.len() - 7;
        let (prefix, rest) = bytes.split_at(prefix_len);
        let (digits, check) = rest.split_at(6);
        if !prefix.iter().all(u8::is_ascii_uppercase) || !digits.iter().all(u8::is_ascii_digit) {
            return Err(HkidError::Format);
        }
        let check = match check {
            [c] if c.is_ascii_digit() || *c == b'A' => char::from(*c),
            _ => return Err(HkidError::Format),
        };
        let mut six = [0u8; 6];
        for (slot, d) in six.iter_mut().zip(digits) {
            *slot = d - b'0';
        }
        if check_character(prefix, &six) != check {
            return Err(HkidError::CheckCharacter);
        }
        Ok(Hkid {
            prefix: String::from_utf8_lossy(prefix).into_owned(),
            digits: six,
            check,
        })
    }

    /// A valid HKID from its parts, with the check character computed (demo data, tests).
    pub fn from_parts(prefix: &str, digits: [u8; 6]) -> Result<Hkid, HkidError> {
        let ok = (1..=2).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_uppercase())
            && digits.iter().all(|d| *d < 10);
        if !ok {
            return Err(HkidError::Format);
        }
        let check = check_character(prefix.as_bytes(), &digits);
        Ok(Hkid {
            prefix: prefix.to_owned(),
            digits,
            check,
        })
    }

    /// The full number, `A123456(3)`. Only for sealing and for a release the resident approved.
    pub fn expose(&self) -> String {
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        format!("{}{}({})", self.prefix, digits, self.check)
    }

    /// A mask safe to show: `A123***(*)`.
    pub fn masked(&self) -> String {
        let shown: String = self
            .digits
            .iter()
            .take(3)
            .map(|d| char::from(b'0' + d))
            .collect();
        format!("{}{shown}***(*)", self.prefix)
    }
}

impl fmt::Debug for Hkid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hkid({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_checks() {
        let ok = [
            ("A123456(3)", "A123456(3)"),
            ("a1234563", "A123456(3)"),
            (" C668668(E) ", "C668668(E)"),
        ];
        for (text, canonical) in ok {
            match Hkid::parse(text) {
                Ok(hkid) => assert_eq!(hkid.expose(), canonical),
                Err(e) if canonical.contains("(E)") => {
                    assert_eq!(e, HkidError::Format, "E is never a check character")
                }
                Err(e) => panic!("{text}: {e}"),
            }
        }
        assert_eq!(Hkid::parse("A123456(4)"), Err(HkidError::CheckCharacter));
        for bad in [
            "",
            "123456(3)",
            "ABC123456(3)",
            "A12345(3)",
            "A1234567(3)",
            "A12345X(3)",
            "甲123456(3)",
            "A123456(B)",
        ] {
            assert!(Hkid::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn two_letter_prefixes() {
        let hkid = Hkid::from_parts("XA", [1, 2, 3, 4, 5, 6]).expect("valid");
        assert_eq!(Hkid::parse(&hkid.expose()), Ok(hkid.clone()));
        assert_eq!(format!("{hkid:?}"), "Hkid(XA123***(*))");
    }

    #[test]
    fn known_check_characters() {
        // Worked by hand from the published algorithm.
        // A123456: 36·9 + 10·8 + 1·7 + 2·6 + 3·5 + 4·4 + 5·3 + 6·2 = 481; 481 mod 11 = 8; 11 − 8 = 3.
        assert_eq!(check_character(b"A", &[1, 2, 3, 4, 5, 6]), '3');
        // remainder 1 → 'A'; remainder 0 → '0'.
        let mut seen_a = false;
        let mut seen_zero = false;
        for n in 0..2000u32 {
            let digits = [
                0,
                0,
                (n / 100 % 10) as u8,
                (n / 10 % 10) as u8,
                (n % 10) as u8,
                0,
            ];
            match check_character(b"Z", &digits) {
                'A' => seen_a = true,
                '0' => seen_zero = true,
                _ => {}
            }
        }
        assert!(seen_a && seen_zero);
    }

    proptest! {
        #[test]
        fn every_generated_hkid_round_trips(prefix in "[A-Z]{1,2}", digits in proptest::array::uniform6(0u8..10)) {
            let hkid = Hkid::from_parts(&prefix, digits).expect("valid parts");
            prop_assert_eq!(Hkid::parse(&hkid.expose()), Ok(hkid.clone()));
            // Any other check character is refused.
            for other in ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A'] {
                let text = hkid.expose();
                let wrong = format!("{}{other})", &text[..text.len() - 2]);
                if other != text.chars().rev().nth(1).unwrap_or(' ') {
                    prop_assert_eq!(Hkid::parse(&wrong), Err(HkidError::CheckCharacter));
                }
            }
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,20}") {
            let _ = Hkid::parse(&text);
        }
    }
}
