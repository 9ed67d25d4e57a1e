//! JSON shapes of the Funding Easy API and CLI, and their explicit conversion to and from the
//! domain. Only this module and `http` know JSON field names.

use bauhinia_core::{ErrorCode, FieldError, Lang, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::{Catalogue, SchemeRecord};
use crate::domain::{
    ApplicantType, Eligible, Ineligible, Location, MatchOutcome, Profile, ProfileDraft, Purpose,
    Sector, Status, University,
};

/// An amount of Hong Kong dollars: a decimal string (`"20000000"`, `"1234.50"`) or a JSON
/// number. At most two decimal places; never negative.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AmountInput {
    Text(String),
    #[schema(value_type = f64)]
    Number(serde_json::Number),
}

impl AmountInput {
    fn into_text(self) -> String {
        match self {
            AmountInput::Text(text) => text,
            AmountInput::Number(number) => number.to_string(),
        }
    }
}

/// Projects the applicant already runs under a scheme.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CurrentGrantInput {
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub scheme_id: String,
    #[schema(minimum = 0, maximum = 100)]
    pub projects: i64,
}

/// An applicant profile. Unknown fields are rejected.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// Who is applying. `sme` and `manufacturer` are companies with that property.
    pub applicant_type: ApplicantType,
    /// The applicant's sectors (up to 16).
    #[serde(default)]
    #[schema(max_items = 16)]
    pub sectors: Vec<Sector>,
    /// Number of employees (0 – 1,000,000).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub employees: Option<i64>,
    /// Years in operation (0 – 200).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 200)]
    pub years_operating: Option<i64>,
    /// Where the applicant operates.
    #[serde(default)]
    #[schema(max_items = 4)]
    pub locations: Vec<Location>,
    /// University affiliation, if any.
    #[serde(default)]
    pub university: Option<University>,
    /// What the funding is for (at least one).
    #[schema(min_items = 1, max_items = 20)]
    pub purposes: Vec<Purpose>,
    /// Total project cost in HKD (up to HK$1 trillion), e.g. `"20000000"` or `"1234.50"`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^\+?[0-9]{1,12}(\.[0-9]{1,2})?$")]
    pub project_cost_hkd: Option<AmountInput>,
    /// Whether the applicant runs a production line in Hong Kong.
    #[serde(default)]
    pub operates_production_line_in_hk: bool,
    /// Schemes the applicant is already funded by, with how many projects.
    #[serde(default)]
    #[schema(max_items = 64)]
    pub current_grants: Vec<CurrentGrantInput>,
}

impl ProfileRequest {
    pub fn into_draft(self) -> ProfileDraft {
        ProfileDraft {
            applicant_type: Some(self.applicant_type),
            sectors: self.sectors,
            employees: self.employees,
            years_operating: self.years_operating,
            locations: self.locations,
            university: self.university,
            purposes: self.purposes,
            project_cost_hkd: self.project_cost_hkd.map(AmountInput::into_text),
            operates_production_line_in_hk: self.operates_production_line_in_hk,
            current_grants: self
                .current_grants
                .into_iter()
                .map(|g| (g.scheme_id, g.projects))
                .collect(),
        }
    }

    /// Validates into a domain profile, or a 422 problem naming every bad field.
    pub fn into_profile(self) -> Result<Profile, Problem> {
        Profile::validate(&self.into_draft()).map_err(|errors| {
            let errors: Vec<FieldError> = errors
                .into_iter()
                .map(|e| FieldError::new(format!("/{}", e.field), e.message))
                .collect();
            let detail = errors
                .iter()
                .map(|e| format!("{}: {}", e.pointer, e.detail))
                .collect::<Vec<_>>()
                .join("; ");
            Problem::new(ErrorCode::FundingProfileInvalid)
                .detail(detail)
                .errors(errors)
        })
    }
}

/// A scheme the profile is eligible for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EligibleResult {
    pub id: String,
    pub name: String,
    /// 1 = best fit.
    pub rank: usize,
    pub status: Status,
    /// The maximum grant in HKD as a decimal string with two places, or `null` when the fact
    /// sheet states nothing to compute it from.
    pub max_grant_hkd: Option<String>,
    /// The same amount in HK cents.
    pub max_grant_hk_cents: Option<i64>,
    pub reasons: Vec<String>,
    pub reason_codes: Vec<&'static str>,
}

/// A scheme the profile is not eligible for, with every rule that excluded it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IneligibleResult {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub reasons: Vec<String>,
    pub reason_codes: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchResponse {
    pub catalogue_version: String,
    /// The language of names and reasons.
    pub lang: Lang,
    pub eligible: Vec<EligibleResult>,
    pub ineligible: Vec<IneligibleResult>,
}

impl MatchResponse {
    pub fn from_outcome(catalogue: &Catalogue, outcome: &MatchOutcome<'_>, lang: Lang) -> Self {
        let eligible = outcome
            .eligible
            .iter()
            .enumerate()
            .map(|(i, e)| eligible_result(e, i + 1, lang))
            .collect();
        let ineligible = outcome
            .ineligible
            .iter()
            .map(|i| ineligible_result(i, lang))
            .collect();
        MatchResponse {
            catalogue_version: catalogue.version.clone(),
            lang,
            eligible,
            ineligible,
        }
    }
}

fn eligible_result(e: &Eligible<'_>, rank: usize, lang: Lang) -> EligibleResult {
    EligibleResult {
        id: e.scheme.id.to_string(),
        name: e.scheme.name.get(lang).to_owned(),
        rank,
        status: e.scheme.status,
        max_grant_hkd: e.max_grant.map(|m| m.to_decimal_string()),
        max_grant_hk_cents: e.max_grant.map(|m| m.minor),
        reasons: e.reasons.iter().map(|r| r.text(lang)).collect(),
        reason_codes: e.reasons.iter().map(|r| r.code()).collect(),
    }
}

fn ineligible_result(i: &Ineligible<'_>, lang: Lang) -> IneligibleResult {
    IneligibleResult {
        id: i.scheme.id.to_string(),
        name: i.scheme.name.get(lang).to_owned(),
        status: i.scheme.status,
        reasons: i.reasons.iter().map(|r| r.text(lang)).collect(),
        reason_codes: i.reasons.iter().map(|r| r.code()).collect(),
    }
}

/// The catalogue as published: its version and every scheme's current record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SchemeList {
    pub catalogue_version: String,
    pub schemes: Vec<SchemeRecord>,
}

impl SchemeList {
    pub fn from_catalogue(catalogue: &Catalogue) -> Self {
        SchemeList {
            catalogue_version: catalogue.version.clone(),
            schemes: catalogue
                .entries()
                .iter()
                .map(|e| e.record.clone())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SchemeVersions {
    pub id: String,
    /// Oldest first.
    pub versions: Vec<SchemeRecord>,
}
