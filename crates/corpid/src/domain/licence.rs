//! Licences and permits a business keeps on its record (a restaurant licence from the Food
//! and Environmental Hygiene Department, a trust or company service provider licence from the
//! Companies Registry, …): type, number, issuer, validity and status, and whether the business
//! shares it with the services it logs in to.

use time::Date;

use super::{parse_date, FieldFault};

pub const LICENCE_TYPE_LEN_MAX: usize = 100;
pub const LICENCE_NUMBER_LEN_MAX: usize = 40;
pub const ISSUER_LEN_MAX: usize = 120;
/// Licences one business may keep.
pub const LICENCES_PER_BUSINESS_MAX: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceStatus {
    Valid,
    Suspended,
    Revoked,
    Expired,
}

impl LicenceStatus {
    pub const ALL: [LicenceStatus; 4] = [
        LicenceStatus::Valid,
        LicenceStatus::Suspended,
        LicenceStatus::Revoked,
        LicenceStatus::Expired,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            LicenceStatus::Valid => "valid",
            LicenceStatus::Suspended => "suspended",
            LicenceStatus::Revoked => "revoked",
            LicenceStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<LicenceStatus> {
        LicenceStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A licence as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LicenceDraft {
    pub licence_type: String,
    pub number: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub status: String,
    pub shared: bool,
}

/// A validated licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLicence {
    pub licence_type: String,
    pub number: String,
    pub issuer: String,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub status: LicenceStatus,
    pub shared: bool,
}

/// Trimmed printable text of 1 to `max` characters, inner white space folded.
fn text(value: &str, max: usize) -> Option<String> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    (!value.is_empty() && value.chars().count() <= max && !value.chars().any(char::is_control))
        .then_some(value)
}

impl LicenceDraft {
    pub fn validate(&self) -> Result<NewLicence, Vec<FieldFault>> {
        let mut faults = Vec::new();
        let licence_type = text(&self.licence_type, LICENCE_TYPE_LEN_MAX);
        if licence_type.is_none() {
            faults.push(FieldFault::new(
                "/licence_type",
                format!("required, at most {LICENCE_TYPE_LEN_MAX} characters"),
            ));
        }
        let number = self.number.trim();
        let number_ok = !number.is_empty()
            && number.len() <= LICENCE_NUMBER_LEN_MAX
            && number
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'.' | b' '));
        if !number_ok {
            faults.push(FieldFault::new(
                "/number",
                format!("required: letters, digits and -/. , at most {LICENCE_NUMBER_LEN_MAX} characters"),
            ));
        }
        let issuer = text(&self.issuer, ISSUER_LEN_MAX);
        if issuer.is_none() {
            faults.push(FieldFault::new(
                "/issuer",
                format!("required, at most {ISSUER_LEN_MAX} characters"),
            ));
        }
        let valid_from = parse_date(&self.valid_from);
        if valid_from.is_none() {
            faults.push(FieldFault::new("/valid_from", "a date, YYYY-MM-DD"));
        }
        let valid_until = match self
            .valid_until
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(t) => match (parse_date(t), valid_from) {
                (Some(until), Some(from)) if until < from => {
                    faults.push(FieldFault::new(
                        "/valid_until",
                        "must not be before valid_from",
                    ));
                    None
                }
                (Some(until), _) => Some(until),
                (None, _) => {
                    faults.push(FieldFault::new(
                        "/valid_until",
                        "a date, YYYY-MM-DD, or absent",
                    ));
                    None
                }
            },
        };
        let status = LicenceStatus::parse(self.status.trim());
        if status.is_none() {
            faults.push(FieldFault::new(
                "/status",
                "one of valid, suspended, revoked, expired",
            ));
        }
        match (licence_type, issuer, valid_from, status) {
            (Some(licence_type), Some(issuer), Some(valid_from), Some(status))
                if faults.is_empty() =>
            {
                Ok(NewLicence {
                    licence_type,
                    number: number.to_owned(),
                    issuer,
                    valid_from,
                    valid_until,
                    status,
                    shared: self.shared,
                })
            }
            _ => Err(faults),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft() -> LicenceDraft {
        LicenceDraft {
            licence_type: "General Restaurant Licence".into(),
            number: "2123456789".into(),
            issuer: "Food and Environmental Hygiene Department".into(),
            valid_from: "2025-04-01".into(),
            valid_until: Some("2026-03-31".into()),
            status: "valid".into(),
            shared: true,
        }
    }

    #[test]
    fn validates_and_names_faults() {
        let licence = draft().validate().expect("valid");
        assert_eq!(licence.status, LicenceStatus::Valid);
        let bad = LicenceDraft {
            licence_type: " ".into(),
            number: "12;DROP".into(),
            issuer: "x".repeat(121),
            valid_from: "2025-04-01".into(),
            valid_until: Some("2024-01-01".into()),
            status: "active".into(),
            shared: false,
        };
        let fields: Vec<String> = bad
            .validate()
            .expect_err("bad")
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(
            fields,
            [
                "/licence_type",
                "/number",
                "/issuer",
                "/valid_until",
                "/status"
            ]
        );
    }

    proptest! {
        #[test]
        fn never_panics(t in "\\PC{0,120}", n in "\\PC{0,50}", i in "\\PC{0,130}", f in "\\PC{0,12}", u in "\\PC{0,12}", s in "\\PC{0,10}") {
            let draft = LicenceDraft { licence_type: t, number: n, issuer: i, valid_from: f, valid_until: Some(u), status: s, shared: false };
            if let Ok(l) = draft.validate() {
                prop_assert!(l.valid_until.is_none_or(|u| u >= l.valid_from));
            }
        }
    }
}
