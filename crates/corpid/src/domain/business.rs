//! A business as the register knows it: its legal form (a company under the Companies
//! Ordinance, Cap. 622, or a business registered under the Business Registration Ordinance,
//! Cap. 310), its status, names, registered address, the date it was incorporated or
//! commenced, and its directors. [`BusinessDraft::validate`] turns plain strings into a
//! [`NewBusiness`] and names every field at fault at once.

use time::Date;

use super::brn::Brn;
use super::{parse_date, FieldFault};

pub const NAME_EN_LEN_MAX: usize = 160;
pub const NAME_ZH_LEN_MAX: usize = 80;
pub const ADDRESS_LINES_MAX: usize = 5;
pub const ADDRESS_LINE_LEN_MAX: usize = 100;
pub const DIRECTORS_MAX: usize = 50;
pub const PERSON_NAME_LEN_MAX: usize = 80;

/// Which ordinance a business is registered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Cap. 622.
    Company,
    /// Cap. 310, not a company.
    RegisteredBusiness,
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Company => "company",
            Kind::RegisteredBusiness => "registered_business",
        }
    }
}

/// The legal form; each belongs to exactly one [`Kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    PrivateLimitedByShares,
    PublicLimitedByShares,
    LimitedByGuarantee,
    /// A registered non-Hong Kong company (Part 16 of Cap. 622).
    RegisteredNonHongKong,
    SoleProprietorship,
    Partnership,
}

impl Form {
    pub const ALL: [Form; 6] = [
        Form::PrivateLimitedByShares,
        Form::PublicLimitedByShares,
        Form::LimitedByGuarantee,
        Form::RegisteredNonHongKong,
        Form::SoleProprietorship,
        Form::Partnership,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Form::PrivateLimitedByShares => "private_limited_by_shares",
            Form::PublicLimitedByShares => "public_limited_by_shares",
            Form::LimitedByGuarantee => "limited_by_guarantee",
            Form::RegisteredNonHongKong => "registered_non_hong_kong",
            Form::SoleProprietorship => "sole_proprietorship",
            Form::Partnership => "partnership",
        }
    }

    pub fn parse(text: &str) -> Option<Form> {
        Form::ALL.into_iter().find(|f| f.as_str() == text)
    }

    pub const fn kind(self) -> Kind {
        match self {
            Form::PrivateLimitedByShares
            | Form::PublicLimitedByShares
            | Form::LimitedByGuarantee
            | Form::RegisteredNonHongKong => Kind::Company,
            Form::SoleProprietorship | Form::Partnership => Kind::RegisteredBusiness,
        }
    }
}

/// Whether the business may be represented. Only the operator moves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Suspended,
    /// Final: a dissolved business is never reactivated.
    Dissolved,
}

/// What the operator asks of a business's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Suspend,
    Reactivate,
    Dissolve,
}

impl StatusChange {
    pub const fn action(self) -> &'static str {
        match self {
            StatusChange::Suspend => "corpid.business.suspend",
            StatusChange::Reactivate => "corpid.business.reactivate",
            StatusChange::Dissolve => "corpid.business.dissolve",
        }
    }
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Dissolved => "dissolved",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Status::Active, Status::Suspended, Status::Dissolved]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// The one table of status moves: suspend an active business, reactivate a suspended one,
    /// dissolve either. `None` when the move is not allowed from here.
    pub fn after(self, change: StatusChange) -> Option<Status> {
        match (self, change) {
            (Status::Active, StatusChange::Suspend) => Some(Status::Suspended),
            (Status::Suspended, StatusChange::Reactivate) => Some(Status::Active),
            (Status::Active | Status::Suspended, StatusChange::Dissolve) => Some(Status::Dissolved),
            _ => None,
        }
    }
}

/// A director as filed: names, the date of appointment, and — when the director is a
/// resident of this installation — their opaque resident id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Director {
    pub name_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    /// `YYYY-MM-DD`.
    pub appointed_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<String>,
}

/// A business as submitted: every value a plain string, checked by [`BusinessDraft::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BusinessDraft {
    pub brn: String,
    pub form: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub address: Vec<String>,
    /// `YYYY-MM-DD`: incorporation (company) or commencement (registered business).
    pub registered_on: String,
    pub directors: Vec<DirectorDraft>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectorDraft {
    pub name_en: String,
    pub name_zh: Option<String>,
    pub appointed_on: String,
    pub resident_id: Option<String>,
}

/// A validated business, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBusiness {
    pub brn: Brn,
    pub form: Form,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub address: Vec<String>,
    pub registered_on: Date,
    pub directors: Vec<Director>,
}

/// `Harbour Lights Trading Limited`: printable ASCII letters, digits, spaces and the
/// punctuation company names use; at least one letter. Inner runs of spaces are folded.
pub fn english_name(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    let ok = !text.is_empty()
        && text.chars().count() <= max
        && text.chars().any(|c| c.is_ascii_alphabetic())
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    ' ' | ',' | '.' | '\'' | '-' | '&' | '(' | ')' | '/' | '@' | '+'
                )
        });
    ok.then(|| text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// `港灣燈火貿易有限公司`, `太平洋軟件（香港）有限公司`: at least one Chinese character;
/// otherwise Chinese characters, CJK and full-width punctuation, the middle dot, ASCII
/// letters, digits and spaces (names such as `ABC 科技有限公司`).
pub fn chinese_name(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    let ok = !text.is_empty()
        && text.chars().count() <= max
        && text.chars().any(is_han)
        && text.chars().all(|c| {
            is_han(c)
                || matches!(c as u32, 0x3000..=0x303F | 0xFF01..=0xFF5E)
                || c == '·'
                || c.is_ascii_alphanumeric()
                || matches!(c, ' ' | '&' | '(' | ')' | '.' | '-')
        });
    ok.then(|| text.to_owned())
}

fn optional_chinese(
    value: Option<&str>,
    field: String,
    max: usize,
    faults: &mut Vec<FieldFault>,
) -> Option<String> {
    let text = value.map(str::trim).filter(|t| !t.is_empty())?;
    let parsed = chinese_name(text, max);
    if parsed.is_none() {
        faults.push(FieldFault::new(
            field,
            format!("Chinese characters, with at most {max} characters in all"),
        ));
    }
    parsed
}

/// Address lines, trimmed; empty lines dropped.
pub fn address(lines: &[String], field: &str, faults: &mut Vec<FieldFault>) -> Vec<String> {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() || lines.len() > ADDRESS_LINES_MAX {
        faults.push(FieldFault::new(
            field,
            format!("give one to {ADDRESS_LINES_MAX} lines"),
        ));
    } else if lines
        .iter()
        .any(|l| l.chars().count() > ADDRESS_LINE_LEN_MAX || l.chars().any(char::is_control))
    {
        faults.push(FieldFault::new(
            field,
            format!("each line at most {ADDRESS_LINE_LEN_MAX} characters, no control characters"),
        ));
    }
    lines
}

impl BusinessDraft {
    /// The business, or every fault with its field (`/brn`, `/directors/2/appointed_on`).
    /// `today` bounds the dates: nothing is registered or appointed in the future.
    pub fn validate(&self, today: Date) -> Result<NewBusiness, Vec<FieldFault>> {
        let mut faults = Vec::new();
        let brn = Brn::parse(&self.brn)
            .map_err(|e| faults.push(FieldFault::new("/brn", e.to_string())))
            .ok();
        let form = Form::parse(&self.form);
        if form.is_none() {
            let names: Vec<&str> = Form::ALL.iter().map(|f| f.as_str()).collect();
            faults.push(FieldFault::new(
                "/form",
                format!("one of {}", names.join(", ")),
            ));
        }
        let name_en = english_name(&self.name_en, NAME_EN_LEN_MAX);
        if name_en.is_none() {
            faults.push(FieldFault::new(
                "/name_en",
                format!("required: letters, digits, spaces and ,.'-&()/@+, at most {NAME_EN_LEN_MAX} characters"),
            ));
        }
        let name_zh = optional_chinese(
            self.name_zh.as_deref(),
            "/name_zh".into(),
            NAME_ZH_LEN_MAX,
            &mut faults,
        );
        let address = address(&self.address, "/address", &mut faults);
        let registered_on =
            date_not_after("/registered_on", &self.registered_on, today, &mut faults);
        if self.directors.len() > DIRECTORS_MAX {
            faults.push(FieldFault::new(
                "/directors",
                format!("at most {DIRECTORS_MAX} directors"),
            ));
        }
        let directors: Vec<Director> = self
            .directors
            .iter()
            .take(DIRECTORS_MAX)
            .enumerate()
            .filter_map(|(i, d)| d.validate(i, today, &mut faults))
            .collect();
        match (brn, form, name_en, registered_on) {
            (Some(brn), Some(form), Some(name_en), Some(registered_on)) if faults.is_empty() => {
                Ok(NewBusiness {
                    brn,
                    form,
                    name_en,
                    name_zh,
                    address,
                    registered_on,
                    directors,
                })
            }
            _ => Err(faults),
        }
    }
}

fn date_not_after(
    field: &str,
    text: &str,
    today: Date,
    faults: &mut Vec<FieldFault>,
) -> Option<Date> {
    match parse_date(text) {
        Some(date) if date <= today => Some(date),
        Some(_) => {
            faults.push(FieldFault::new(field, "must not be in the future"));
            None
        }
        None => {
            faults.push(FieldFault::new(field, "a date, YYYY-MM-DD"));
            None
        }
    }
}

impl DirectorDraft {
    fn validate(&self, i: usize, today: Date, faults: &mut Vec<FieldFault>) -> Option<Director> {
        let before = faults.len();
        let name_en = english_name(&self.name_en, PERSON_NAME_LEN_MAX);
        if name_en.is_none() {
            faults.push(FieldFault::new(
                format!("/directors/{i}/name_en"),
                format!(
                    "required: letters, spaces and ,.'-, at most {PERSON_NAME_LEN_MAX} characters"
                ),
            ));
        }
        let name_zh = optional_chinese(
            self.name_zh.as_deref(),
            format!("/directors/{i}/name_zh"),
            PERSON_NAME_LEN_MAX,
            faults,
        );
        let appointed = date_not_after(
            &format!("/directors/{i}/appointed_on"),
            &self.appointed_on,
            today,
            faults,
        );
        let resident_id = self
            .resident_id
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if resident_id.is_some_and(|r| !super::is_opaque_id(r)) {
            faults.push(FieldFault::new(
                format!("/directors/{i}/resident_id"),
                "a resident id (letters, digits and -, at most 64)",
            ));
        }
        if faults.len() != before {
            return None;
        }
        Some(Director {
            name_en: name_en?,
            name_zh,
            appointed_on: appointed?.to_string(),
            resident_id: resident_id.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        Date::from_calendar_date(2026, time::Month::November, 24).expect("date")
    }

    fn draft() -> BusinessDraft {
        BusinessDraft {
            brn: "91234567".into(),
            form: "private_limited_by_shares".into(),
            name_en: " Harbour  Lights Trading Limited ".into(),
            name_zh: Some("港灣燈火貿易有限公司".into()),
            address: vec![
                "Unit 1203, 12/F, Harbour Centre".into(),
                " ".into(),
                "25 Harbour Road, Wan Chai".into(),
            ],
            registered_on: "2015-03-02".into(),
            directors: vec![DirectorDraft {
                name_en: "CHAN, Tai Man".into(),
                name_zh: Some("陳大文".into()),
                appointed_on: "2015-03-02".into(),
                resident_id: None,
            }],
        }
    }

    #[test]
    fn a_good_draft_validates_and_normalises() {
        let business = draft().validate(today()).expect("valid");
        assert_eq!(business.brn.as_str(), "91234567");
        assert_eq!(business.form.kind(), Kind::Company);
        assert_eq!(business.name_en, "Harbour Lights Trading Limited");
        assert_eq!(business.address.len(), 2);
        assert_eq!(
            business.directors.first().map(|d| d.appointed_on.as_str()),
            Some("2015-03-02")
        );
        assert_eq!(Form::Partnership.kind(), Kind::RegisteredBusiness);
        assert!(chinese_name("太平洋軟件（香港）有限公司", 80).is_some());
        assert!(chinese_name("ABC 科技有限公司", 80).is_some());
        assert!(chinese_name("ABC Limited", 80).is_none());
    }

    #[test]
    fn every_fault_is_named() {
        let bad = BusinessDraft {
            brn: "1234".into(),
            form: "llc".into(),
            name_en: "港灣".into(),
            name_zh: Some("Harbour".into()),
            address: vec![],
            registered_on: "2030-01-01".into(),
            directors: vec![DirectorDraft {
                name_en: "".into(),
                name_zh: None,
                appointed_on: "yesterday".into(),
                resident_id: Some("not/an id".into()),
            }],
        };
        let faults = bad.validate(today()).expect_err("invalid");
        let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "/brn",
                "/form",
                "/name_en",
                "/name_zh",
                "/address",
                "/registered_on",
                "/directors/0/name_en",
                "/directors/0/appointed_on",
                "/directors/0/resident_id"
            ]
        );
    }

    #[test]
    fn status_moves_follow_the_table() {
        use Status::*;
        use StatusChange::*;
        assert_eq!(Active.after(Suspend), Some(Suspended));
        assert_eq!(Suspended.after(Reactivate), Some(Active));
        assert_eq!(Suspended.after(Dissolve), Some(Dissolved));
        assert_eq!(Active.after(Reactivate), None);
        assert_eq!(Suspended.after(Suspend), None);
        assert_eq!(Dissolved.after(Reactivate), None);
        assert_eq!(Dissolved.after(Dissolve), None);
    }

    proptest! {
        #[test]
        fn validation_never_panics(
            brn in "\\PC{0,12}", form in "\\PC{0,30}", en in "\\PC{0,200}", zh in "\\PC{0,90}",
            lines in proptest::collection::vec("\\PC{0,120}", 0..7), date in "\\PC{0,12}",
        ) {
            let draft = BusinessDraft {
                brn, form, name_en: en, name_zh: Some(zh), address: lines, registered_on: date.clone(),
                directors: vec![DirectorDraft { name_en: "LEE, Ka Chun".into(), name_zh: None, appointed_on: date, resident_id: None }],
            };
            if let Ok(business) = draft.validate(today()) {
                prop_assert!(business.name_en.chars().count() <= NAME_EN_LEN_MAX);
                prop_assert!(!business.address.is_empty());
            }
        }
    }
}
