//! An applicant's profile: who they are, what they want money for, how big the project is.
//! [`Profile::validate`] is the only way to get a [`Profile`]; every limit is checked there, so
//! the matcher never sees a negative headcount or an absurd project cost.

use std::collections::BTreeMap;

use bauhinia_core::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::scheme::{ApplicantType, Purpose, SchemeId, Sector};

/// The largest employee count accepted (the largest Hong Kong employers have about 10^5).
pub const EMPLOYEES_MAX: i64 = 1_000_000;
pub const YEARS_OPERATING_MAX: i64 = 200;
/// HK$1 trillion: more than Hong Kong's annual government budget; anything larger is a typo.
pub const PROJECT_COST_HKD_MAX: i64 = 1_000_000_000_000;
pub const SECTORS_MAX: usize = 16;
pub const PURPOSES_MAX: usize = 20;
pub const LOCATIONS_MAX: usize = 4;
pub const CURRENT_GRANTS_MAX: usize = 64;
pub const PROJECTS_PER_GRANT_MAX: i64 = 100;

vocabulary! {
    /// Where the applicant operates.
    Location {
        HongKong = "hong_kong",
        GreaterBayArea = "greater_bay_area",
        Mainland = "mainland",
        Overseas = "overseas",
    }
}

vocabulary! {
    /// The applicant's university affiliation. The first eight are the UGC-funded universities.
    University {
        None = "none",
        Hku = "hku",
        Cuhk = "cuhk",
        Hkust = "hkust",
        Polyu = "polyu",
        Cityu = "cityu",
        Hkbu = "hkbu",
        Lingnan = "lingnan",
        Eduhk = "eduhk",
        Other = "other",
    }
}

impl University {
    pub const fn is_ugc_funded(self) -> bool {
        !matches!(self, University::None | University::Other)
    }
}

/// The profile as submitted, before any limit is checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileDraft {
    pub applicant_type: Option<ApplicantType>,
    pub sectors: Vec<Sector>,
    pub employees: Option<i64>,
    pub years_operating: Option<i64>,
    pub locations: Vec<Location>,
    pub university: Option<University>,
    pub purposes: Vec<Purpose>,
    pub project_cost_hkd: Option<String>,
    pub operates_production_line_in_hk: bool,
    pub current_grants: Vec<(String, i64)>,
}

/// A validated applicant profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub applicant_type: ApplicantType,
    pub sectors: Vec<Sector>,
    pub employees: Option<u32>,
    pub years_operating: Option<u32>,
    pub locations: Vec<Location>,
    pub university: University,
    pub purposes: Vec<Purpose>,
    pub project_cost: Option<Money>,
    pub operates_production_line_in_hk: bool,
    /// Projects per scheme; a scheme appears at most once.
    pub current_grants: BTreeMap<SchemeId, u32>,
}

/// One field of a draft that failed validation. `field` is the JSON name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> ProfileError {
    ProfileError {
        field: field.into(),
        message: message.into(),
    }
}

fn bounded(
    field: &str,
    value: Option<i64>,
    max: i64,
    errors: &mut Vec<ProfileError>,
) -> Option<u32> {
    let value = value?;
    if value < 0 {
        errors.push(error(field, "must not be negative"));
        return None;
    }
    if value > max {
        errors.push(error(field, format!("must be at most {max}")));
        return None;
    }
    u32::try_from(value).ok()
}

/// Sorts and removes duplicates, or reports a list longer than `max`.
fn distinct<T: Ord + Copy>(
    field: &str,
    items: &[T],
    max: usize,
    errors: &mut Vec<ProfileError>,
) -> Vec<T> {
    if items.len() > max {
        errors.push(error(field, format!("at most {max} items")));
        return Vec::new();
    }
    let mut out = items.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

impl Profile {
    /// Checks every field, collecting all errors rather than stopping at the first.
    pub fn validate(draft: &ProfileDraft) -> Result<Profile, Vec<ProfileError>> {
        let mut errors = Vec::new();
        let applicant_type = draft.applicant_type;
        if applicant_type.is_none() {
            errors.push(error("applicant_type", "is required"));
        }
        let sectors = distinct("sectors", &draft.sectors, SECTORS_MAX, &mut errors);
        let locations = distinct("locations", &draft.locations, LOCATIONS_MAX, &mut errors);
        let purposes = distinct("purposes", &draft.purposes, PURPOSES_MAX, &mut errors);
        if draft.purposes.is_empty() {
            errors.push(error(
                "purposes",
                "choose at least one purpose for the funding",
            ));
        }
        let employees = bounded("employees", draft.employees, EMPLOYEES_MAX, &mut errors);
        let years_operating = bounded(
            "years_operating",
            draft.years_operating,
            YEARS_OPERATING_MAX,
            &mut errors,
        );
        let project_cost = parse_project_cost(draft.project_cost_hkd.as_deref(), &mut errors);
        let current_grants = parse_current_grants(&draft.current_grants, &mut errors);
        match (applicant_type, errors.is_empty()) {
            (Some(applicant_type), true) => Ok(Profile {
                applicant_type,
                sectors,
                employees,
                years_operating,
                locations,
                university: draft.university.unwrap_or(University::None),
                purposes,
                project_cost,
                operates_production_line_in_hk: draft.operates_production_line_in_hk,
                current_grants,
            }),
            _ => Err(errors),
        }
    }

    /// Manufacturing for Hong Kong's SME definition: a manufacturer, a manufacturing sector, or
    /// a production line in Hong Kong.
    pub fn is_manufacturing(&self) -> bool {
        self.applicant_type == ApplicantType::Manufacturer
            || self.operates_production_line_in_hk
            || self.sectors.iter().any(|s| s.is_manufacturing())
    }

    /// Hong Kong's SME definition: fewer than 100 employees in manufacturing, fewer than 50
    /// otherwise. `None` when the headcount is not given.
    pub fn is_sme(&self) -> Option<bool> {
        let limit = self.sme_employee_limit();
        self.employees.map(|e| e < limit)
    }

    pub fn sme_employee_limit(&self) -> u32 {
        if self.is_manufacturing() {
            100
        } else {
            50
        }
    }

    pub fn operates_in(&self, location: Location) -> bool {
        self.locations.contains(&location)
    }
}

fn parse_project_cost(text: Option<&str>, errors: &mut Vec<ProfileError>) -> Option<Money> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    match Money::parse_decimal(text, Currency::Hkd) {
        Ok(money) if money.minor > PROJECT_COST_HKD_MAX * 100 => {
            errors.push(error(
                "project_cost_hkd",
                format!("must be at most HK${PROJECT_COST_HKD_MAX}"),
            ));
            None
        }
        Ok(money) => Some(money),
        Err(e) => {
            errors.push(error("project_cost_hkd", e.to_string()));
            None
        }
    }
}

fn parse_current_grants(
    drafts: &[(String, i64)],
    errors: &mut Vec<ProfileError>,
) -> BTreeMap<SchemeId, u32> {
    let mut grants = BTreeMap::new();
    if drafts.len() > CURRENT_GRANTS_MAX {
        errors.push(error(
            "current_grants",
            format!("at most {CURRENT_GRANTS_MAX} items"),
        ));
        return grants;
    }
    for (i, (scheme, projects)) in drafts.iter().enumerate() {
        let Some(id) = SchemeId::parse(scheme) else {
            errors.push(error(
                format!("current_grants/{i}/scheme_id"),
                "is not a scheme id",
            ));
            continue;
        };
        let Some(projects) = bounded(
            &format!("current_grants/{i}/projects"),
            Some(*projects),
            PROJECTS_PER_GRANT_MAX,
            errors,
        ) else {
            continue;
        };
        if grants.insert(id, projects).is_some() {
            errors.push(error(
                format!("current_grants/{i}/scheme_id"),
                "appears more than once",
            ));
        }
    }
    grants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ProfileDraft {
        ProfileDraft {
            applicant_type: Some(ApplicantType::Company),
            purposes: vec![Purpose::DigitalAdoption],
            ..ProfileDraft::default()
        }
    }

    fn fields(result: Result<Profile, Vec<ProfileError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn rejects_each_bad_field() {
        let cases: Vec<(ProfileDraft, &[&str])> = vec![
            (
                ProfileDraft {
                    employees: Some(-1),
                    ..draft()
                },
                &["employees"],
            ),
            (
                ProfileDraft {
                    employees: Some(EMPLOYEES_MAX + 1),
                    ..draft()
                },
                &["employees"],
            ),
            (
                ProfileDraft {
                    years_operating: Some(-3),
                    ..draft()
                },
                &["years_operating"],
            ),
            (
                ProfileDraft {
                    project_cost_hkd: Some("-5".into()),
                    ..draft()
                },
                &["project_cost_hkd"],
            ),
            (
                ProfileDraft {
                    project_cost_hkd: Some("1e9".into()),
                    ..draft()
                },
                &["project_cost_hkd"],
            ),
            (
                ProfileDraft {
                    project_cost_hkd: Some("1000000000001".into()),
                    ..draft()
                },
                &["project_cost_hkd"],
            ),
            (
                ProfileDraft {
                    purposes: vec![],
                    ..draft()
                },
                &["purposes"],
            ),
            (
                ProfileDraft {
                    applicant_type: None,
                    ..draft()
                },
                &["applicant_type"],
            ),
            (
                ProfileDraft {
                    current_grants: vec![("x y".into(), 1)],
                    ..draft()
                },
                &["current_grants/0/scheme_id"],
            ),
            (
                ProfileDraft {
                    current_grants: vec![("a".into(), 1), ("a".into(), 2)],
                    ..draft()
                },
                &["current_grants/1/scheme_id"],
            ),
            (
                ProfileDraft {
                    employees: Some(-1),
                    years_operating: Some(999),
                    ..draft()
                },
                &["employees", "years_operating"],
            ),
        ];
        for (draft, expected) in cases {
            assert_eq!(fields(Profile::validate(&draft)), expected, "{draft:?}");
        }
    }

    #[test]
    fn sme_definition() {
        let check = |employees: u32, manufacturing: bool, expected: bool| {
            let sectors = if manufacturing {
                vec![Sector::Manufacturing]
            } else {
                vec![Sector::Retail]
            };
            let profile = Profile::validate(&ProfileDraft {
                employees: Some(employees.into()),
                sectors,
                ..draft()
            })
            .expect("valid");
            assert_eq!(
                profile.is_sme(),
                Some(expected),
                "{employees} manufacturing={manufacturing}"
            );
        };
        check(99, true, true);
        check(100, true, false);
        check(49, false, true);
        check(50, false, false);
        check(60, true, true);
    }
}
