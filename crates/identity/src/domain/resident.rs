//! A resident as registered with 智方便: names, HKID, date of birth, gender, contact details and
//! addresses. [`ResidentDraft::validate`] is the only way to a [`NewResident`]; every field is
//! checked and every failure reported by field name.

use time::Date;

use super::hkid::Hkid;

pub const ENGLISH_NAME_LEN_MAX: usize = 80;
pub const CHINESE_NAME_LEN_MAX: usize = 12;
pub const ADDRESS_LINES_MAX: usize = 5;
pub const ADDRESS_LINE_LEN_MAX: usize = 100;
pub const EMAIL_LEN_MAX: usize = 254;
/// No one registering is older than this.
pub const AGE_YEARS_MAX: i32 = 130;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
}

impl Gender {
    /// As printed on the identity card: `F` or `M`.
    pub fn parse(text: &str) -> Option<Gender> {
        match text {
            "F" => Some(Gender::Female),
            "M" => Some(Gender::Male),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "F",
            Gender::Male => "M",
        }
    }
}

/// A Hong Kong mobile number, stored in E.164: `+852` and eight digits starting 4–9.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileNumber(String);

impl MobileNumber {
    pub fn parse(text: &str) -> Option<MobileNumber> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let local = digits
            .strip_prefix("+852")
            .or_else(|| digits.strip_prefix("852"))
            .unwrap_or(&digits);
        let ok = local.len() == 8
            && local.bytes().all(|b| b.is_ascii_digit())
            && matches!(local.as_bytes().first(), Some(b'4'..=b'9'));
        ok.then(|| MobileNumber(format!("+852{local}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, checked for shape (one `@`, a dotted domain of letters, digits and hyphens);
/// the domain is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Option<EmailAddress> {
        let text = text.trim();
        let (local, domain) = text.split_once('@')?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local.chars().all(|c| {
                c.is_ascii_graphic()
                    && !matches!(
                        c,
                        '@' | '(' | ')' | '<' | '>' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
                    )
            });
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        (local_ok && domain_ok && text.len() <= EMAIL_LEN_MAX)
            .then(|| EmailAddress(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An address as the resident writes it: one to five lines.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub lines: Vec<String>,
}

/// Registration input, unchecked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResidentDraft {
    pub english_name: String,
    pub chinese_name: Option<String>,
    pub hkid: String,
    pub date_of_birth: String,
    pub gender: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub residential_address: Vec<String>,
    pub postal_address: Option<Vec<String>>,
}

/// A validated registration.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResident {
    pub english_name: String,
    pub chinese_name: Option<String>,
    pub hkid: Hkid,
    pub date_of_birth: Date,
    pub gender: Gender,
    pub mobile: Option<MobileNumber>,
    pub email: Option<EmailAddress>,
    pub residential_address: Address,
    /// `None`: the same as the residential address.
    pub postal_address: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentError {
    pub field: &'static str,
    pub message: String,
}

fn error(field: &'static str, message: impl Into<String>) -> ResidentError {
    ResidentError {
        field,
        message: message.into(),
    }
}

/// `CHAN, Tai Man`: Latin letters, spaces and `,.'-`.
fn english_name(text: &str) -> Option<String> {
    let text = text.trim();
    let ok = !text.is_empty()
        && text.chars().count() <= ENGLISH_NAME_LEN_MAX
        && text.chars().any(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, ' ' | ',' | '.' | '\'' | '-'));
    ok.then(|| text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Chinese characters (CJK Unified Ideographs and extensions, compatibility ideographs) and the
/// middle dot of transliterated names.
fn chinese_name(text: &str) -> Option<String> {
    let text = text.trim();
    let is_han = |c: char| {
        matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
            || c == '·'
    };
    let ok = !text.is_empty()
        && text.chars().count() <= CHINESE_NAME_LEN_MAX
        && text.chars().all(is_han);
    ok.then(|| text.to_owned())
}

fn address(
    lines: &[String],
    field: &'static str,
    errors: &mut Vec<ResidentError>,
) -> Option<Address> {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() || lines.len() > ADDRESS_LINES_MAX {
        errors.push(error(
            field,
            format!("give one to {ADDRESS_LINES_MAX} lines"),
        ));
        return None;
    }
    if lines
        .iter()
        .any(|l| l.chars().count() > ADDRESS_LINE_LEN_MAX || l.chars().any(char::is_control))
    {
        errors.push(error(
            field,
            format!("each line at most {ADDRESS_LINE_LEN_MAX} characters, no control characters"),
        ));
        return None;
    }
    Some(Address { lines })
}

fn date_of_birth(text: &str, today: Date, errors: &mut Vec<ResidentError>) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let Ok(date) = Date::parse(text.trim(), &format) else {
        errors.push(error("date_of_birth", "must be a date written YYYY-MM-DD"));
        return None;
    };
    if date > today {
        errors.push(error("date_of_birth", "must not be in the future"));
        return None;
    }
    if today.year() - date.year() > AGE_YEARS_MAX {
        errors.push(error(
            "date_of_birth",
            format!("must be within the last {AGE_YEARS_MAX} years"),
        ));
        return None;
    }
    Some(date)
}

impl ResidentDraft {
    /// Checks every field against `today` (for the date of birth), collecting all errors.
    pub fn validate(&self, today: Date) -> Result<NewResident, Vec<ResidentError>> {
        let mut errors = Vec::new();
        let english = english_name(&self.english_name);
        if english.is_none() {
            errors.push(error(
                "english_name",
                "Latin letters, spaces and , . ' - only, at most 80 characters",
            ));
        }
        let chinese = match self
            .chinese_name
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(text) => {
                let parsed = chinese_name(text);
                if parsed.is_none() {
                    errors.push(error("chinese_name", "Chinese characters only, at most 12"));
                }
                parsed
            }
        };
        let hkid = Hkid::parse(&self.hkid)
            .map_err(|e| errors.push(error("hkid", e.to_string())))
            .ok();
        let date_of_birth = date_of_birth(&self.date_of_birth, today, &mut errors);
        let gender = Gender::parse(self.gender.trim());
        if gender.is_none() {
            errors.push(error("gender", "F or M, as on the identity card"));
        }
        let mobile = optional(
            &self.mobile,
            "mobile",
            MobileNumber::parse,
            "a Hong Kong mobile number: 8 digits starting 4–9, optionally +852",
            &mut errors,
        );
        let email = optional(
            &self.email,
            "email",
            EmailAddress::parse,
            "an email address such as name@example.hk",
            &mut errors,
        );
        let residential = address(
            &self.residential_address,
            "residential_address",
            &mut errors,
        );
        let postal = match &self.postal_address {
            Some(lines) if !lines.iter().all(|l| l.trim().is_empty()) => {
                address(lines, "postal_address", &mut errors)
            }
            _ => None,
        };
        match (english, hkid, date_of_birth, gender, residential) {
            (
                Some(english_name),
                Some(hkid),
                Some(date_of_birth),
                Some(gender),
                Some(residential_address),
            ) if errors.is_empty() => Ok(NewResident {
                english_name,
                chinese_name: chinese,
                hkid,
                date_of_birth,
                gender,
                mobile,
                email,
                residential_address,
                postal_address: postal,
            }),
            _ => Err(errors),
        }
    }
}

fn optional<T>(
    value: &Option<String>,
    field: &'static str,
    parse: impl Fn(&str) -> Option<T>,
    message: &str,
    errors: &mut Vec<ResidentError>,
) -> Option<T> {
    let text = value.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    let parsed = parse(text);
    if parsed.is_none() {
        errors.push(error(field, message));
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        Date::from_calendar_date(2026, time::Month::November, 23).expect("valid date")
    }

    fn draft() -> ResidentDraft {
        ResidentDraft {
            english_name: "CHAN, Tai Man".into(),
            chinese_name: Some("陳大文".into()),
            hkid: "A123456(3)".into(),
            date_of_birth: "1980-02-29".into(),
            gender: "M".into(),
            mobile: Some("9123 4567".into()),
            email: Some("Tai.Man@Example.HK".into()),
            residential_address: vec![
                "Flat A, 10/F".into(),
                "1 Queen's Road Central".into(),
                "Central, Hong Kong".into(),
            ],
            postal_address: None,
        }
    }

    #[test]
    fn a_complete_registration() {
        let resident = draft().validate(today()).expect("valid");
        assert_eq!(
            resident.mobile.as_ref().map(MobileNumber::as_str),
            Some("+85291234567")
        );
        assert_eq!(
            resident.email.as_ref().map(EmailAddress::as_str),
            Some("Tai.Man@example.hk")
        );
        assert_eq!(resident.hkid.expose(), "A123456(3)");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(ResidentDraft, &[&str])> = vec![
            (
                ResidentDraft {
                    english_name: "陳大文".into(),
                    ..draft()
                },
                &["english_name"],
            ),
            (
                ResidentDraft {
                    english_name: " ".into(),
                    ..draft()
                },
                &["english_name"],
            ),
            (
                ResidentDraft {
                    chinese_name: Some("Chan".into()),
                    ..draft()
                },
                &["chinese_name"],
            ),
            (
                ResidentDraft {
                    hkid: "A123456(4)".into(),
                    ..draft()
                },
                &["hkid"],
            ),
            (
                ResidentDraft {
                    date_of_birth: "2027-01-01".into(),
                    ..draft()
                },
                &["date_of_birth"],
            ),
            (
                ResidentDraft {
                    date_of_birth: "1890-01-01".into(),
                    ..draft()
                },
                &["date_of_birth"],
            ),
            (
                ResidentDraft {
                    date_of_birth: "1981-02-29".into(),
                    ..draft()
                },
                &["date_of_birth"],
            ),
            (
                ResidentDraft {
                    gender: "Q".into(),
                    ..draft()
                },
                &["gender"],
            ),
            (
                ResidentDraft {
                    mobile: Some("2123 4567".into()),
                    ..draft()
                },
                &["mobile"],
            ),
            (
                ResidentDraft {
                    email: Some("nobody@localhost".into()),
                    ..draft()
                },
                &["email"],
            ),
            (
                ResidentDraft {
                    residential_address: vec![],
                    ..draft()
                },
                &["residential_address"],
            ),
            (
                ResidentDraft {
                    postal_address: Some(vec!["x".repeat(101)]),
                    ..draft()
                },
                &["postal_address"],
            ),
            (
                ResidentDraft {
                    hkid: "nope".into(),
                    gender: "".into(),
                    ..draft()
                },
                &["hkid", "gender"],
            ),
        ];
        for (draft, expected) in cases {
            let fields: Vec<&str> = draft
                .validate(today())
                .err()
                .unwrap_or_default()
                .iter()
                .map(|e| e.field)
                .collect();
            assert_eq!(fields, expected, "{draft:?}");
        }
    }

    proptest! {
        #[test]
        fn validation_never_panics(
            name in "\\PC{0,90}", chinese in "\\PC{0,14}", hkid in "\\PC{0,12}", dob in "\\PC{0,12}",
            mobile in "\\PC{0,16}", email in "\\PC{0,40}", line in "\\PC{0,120}",
        ) {
            let draft = ResidentDraft {
                english_name: name, chinese_name: Some(chinese), hkid, date_of_birth: dob, gender: "F".into(),
                mobile: Some(mobile), email: Some(email), residential_address: vec![line], postal_address: None,
            };
            let _ = draft.validate(today());
        }
    }
}
