//! A funding scheme as the matcher sees it: typed, validated, every value either stated by the
//! fact sheet or explicitly [`Stated::NotStated`].

use bauhinia_core::{Localized, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A value the fact sheet either states or does not. The matcher never guesses the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stated<T> {
    Stated(T),
    NotStated,
}

impl<T> Stated<T> {
    pub fn as_option(&self) -> Option<&T> {
        match self {
            Stated::Stated(v) => Some(v),
            Stated::NotStated => None,
        }
    }
}

/// The stable slug of a scheme, e.g. `new-industrialisation-funding`: lowercase ASCII letters,
/// digits and single hyphens, 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SchemeId(String);

impl SchemeId {
    pub const LEN_MAX: usize = 64;

    pub fn parse(text: &str) -> Option<SchemeId> {
        let ok = !text.is_empty()
            && text.len() <= Self::LEN_MAX
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-')
            && !text.contains("--");
        ok.then(|| SchemeId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SchemeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A date written as precisely as the fact sheet writes it: a year, a month, or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<PartialDate> {
        let mut parts = text.split('-');
        let year_text = parts.next()?;
        if year_text.len() != 4 {
            return None;
        }
        let year: u16 = year_text.parse().ok()?;
        let month = match parts.next() {
            Some(m) if m.len() == 2 => Some(m.parse::<u8>().ok().filter(|m| (1..=12).contains(m))?),
            Some(_) => return None,
            None => None,
        };
        let day = match parts.next() {
            Some(d) if d.len() == 2 => Some(d.parse::<u8>().ok().filter(|d| (1..=31).contains(d))?),
            Some(_) => return None,
            None => None,
        };
        if parts.next().is_some() || !(1900..=2200).contains(&year) {
            return None;
        }
        Some(PartialDate { year, month, day })
    }
}

impl std::fmt::Display for PartialDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

vocabulary! {
    /// The fact sheet's section the scheme is listed under.
    Section {
        NewIndustrialisation = "new_industrialisation",
        Talent = "talent",
        Startups = "startups",
        Research = "research",
        DigitalPolicy = "digital_policy",
        SmartCity = "smart_city",
        Infrastructure = "infrastructure",
    }
}

vocabulary! {
    /// What kind of support a scheme gives.
    SchemeKind {
        Grant = "grant",
        MatchingGrant = "matching_grant",
        Investment = "investment",
        Subsidy = "subsidy",
        Training = "training",
        Incubation = "incubation",
        Admission = "admission",
        Allowance = "allowance",
    }
}

impl SchemeKind {
    /// Whether the support is money given to the applicant, so a maximum grant is meaningful.
    /// Investment is equity, incubation is services, admission is a visa route.
    pub const fn pays_grant(self) -> bool {
        matches!(
            self,
            SchemeKind::Grant
                | SchemeKind::MatchingGrant
                | SchemeKind::Subsidy
                | SchemeKind::Training
                | SchemeKind::Allowance
        )
    }
}

vocabulary! {
    /// Who applies to a scheme, and who a profile says it is.
    ApplicantType {
        Company = "company",
        Sme = "sme",
        Manufacturer = "manufacturer",
        Startup = "startup",
        UniversityTeam = "university_team",
        University = "university",
        ResearchInstitution = "research_institution",
        School = "school",
        Student = "student",
        Scholar = "scholar",
        VentureCapitalFund = "venture_capital_fund",
        StartupServiceProvider = "startup_service_provider",
        Organisation = "organisation",
        Talent = "talent",
    }
}

impl ApplicantType {
    /// Whether an applicant of type `self` is an applicant of `required` type. SMEs,
    /// manufacturers and startups are companies; everything else is only itself.
    pub fn satisfies(self, required: ApplicantType) -> bool {
        use ApplicantType::*;
        self == required || (required == Company && matches!(self, Sme | Manufacturer | Startup))
    }
}

vocabulary! {
    /// Industry sectors, as the fact sheet's schemes name them.
    Sector {
        Manufacturing = "manufacturing",
        LifeHealthTechnology = "life_health_technology",
        AiDataScience = "ai_data_science",
        AdvancedManufacturing = "advanced_manufacturing",
        NewEnergy = "new_energy",
        Semiconductors = "semiconductors",
        Retail = "retail",
        FoodBeverage = "food_beverage",
        Tourism = "tourism",
        PersonalServices = "personal_services",
        Transport = "transport",
        Logistics = "logistics",
        FinancialServices = "financial_services",
        Ict = "ict",
        Aerospace = "aerospace",
        Education = "education",
        Other = "other",
    }
}

impl Sector {
    /// Sectors counted as manufacturing for Hong Kong's SME definition.
    pub const fn is_manufacturing(self) -> bool {
        matches!(
            self,
            Sector::Manufacturing | Sector::AdvancedManufacturing | Sector::Semiconductors
        )
    }
}

vocabulary! {
    /// What the money is for.
    Purpose {
        SmartProductionLine = "smart_production_line",
        ProductionLineUpgrade = "production_line_upgrade",
        DigitalAdoption = "digital_adoption",
        ResearchDevelopment = "research_development",
        Commercialisation = "commercialisation",
        HireResearchTalent = "hire_research_talent",
        StaffTraining = "staff_training",
        StartupInvestment = "startup_investment",
        Incubation = "incubation",
        Acceleration = "acceleration",
        AiComputing = "ai_computing",
        TransportInnovation = "transport_innovation",
        FrontierResearch = "frontier_research",
        TechnologyTrial = "technology_trial",
        Internship = "internship",
        Scholarship = "scholarship",
        TalentAdmission = "talent_admission",
        ItActivities = "it_activities",
        MainlandCollaboration = "mainland_collaboration",
        TechnologyTransfer = "technology_transfer",
    }
}

vocabulary! {
    /// Whether a scheme takes applications now (today's date is the catalogue's concern).
    Status {
        Open = "open",
        Closed = "closed",
        Planned = "planned",
        Ongoing = "ongoing",
        NotStated = "not stated",
    }
}

/// Which applicants' size a scheme accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeRule {
    Any,
    /// Hong Kong's SME definition: manufacturing < 100 employees, otherwise < 50.
    Sme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationRule {
    Any,
    HongKong,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniversityRule {
    Any,
    /// The eight universities funded by the University Grants Committee.
    UgcFunded,
}

/// Government : applicant matching, e.g. 1 : 2 — the government pays one part for every two
/// the applicant pays, a third of the cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchingRatio {
    pub government: u32,
    pub applicant: u32,
}

impl MatchingRatio {
    /// The government's share of the cost as a fraction `(numerator, denominator)`.
    pub fn government_share(self) -> (u32, u32) {
        (
            self.government,
            self.government.saturating_add(self.applicant),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    Ratio(MatchingRatio),
    /// The sheet says the scheme matches funds but gives no ratio.
    NotStated,
    /// Plainly not a matching scheme.
    None,
}

/// A scheme, validated. Built only by the catalogue loader.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheme {
    pub id: SchemeId,
    pub version: u32,
    pub effective_from: Stated<PartialDate>,
    pub section: Section,
    pub kind: SchemeKind,
    pub name: Localized,
    pub body: Stated<Localized>,
    pub summary: Localized,
    pub applicant_types: Vec<ApplicantType>,
    /// `None` means any sector.
    pub sectors: Option<Vec<Sector>>,
    pub size: SizeRule,
    pub location: Stated<LocationRule>,
    pub needs_production_line_in_hk: bool,
    pub university: UniversityRule,
    pub purposes: Vec<Purpose>,
    pub requires_scheme: Option<SchemeId>,
    pub min_project_cost: Stated<Money>,
    pub cap_per_project: Stated<Money>,
    pub cap_per_applicant: Stated<Money>,
    pub matching: Matching,
    pub max_concurrent_projects: Stated<u32>,
    pub other_limits: Vec<Localized>,
    pub total_budget: Stated<Money>,
    pub status: Status,
    pub opens: Stated<PartialDate>,
    pub closes: Stated<PartialDate>,
    pub figures: Vec<Localized>,
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_ids() {
        for ok in ["a", "new-industrialisation-funding", "x1-2"] {
            assert!(SchemeId::parse(ok).is_some(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "a_b", &"a".repeat(65)] {
            assert!(SchemeId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn partial_dates() {
        assert_eq!(
            PartialDate::parse("2024-01")
                .map(|d| d.to_string())
                .as_deref(),
            Some("2024-01")
        );
        assert_eq!(
            PartialDate::parse("2025-11-30")
                .map(|d| d.to_string())
                .as_deref(),
            Some("2025-11-30")
        );
        for bad in [
            "24",
            "2024-1",
            "2024-13",
            "2024-01-32",
            "2024-01-01-01",
            "x",
            "0001",
        ] {
            assert_eq!(PartialDate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn applicant_types_nest() {
        assert!(ApplicantType::Sme.satisfies(ApplicantType::Company));
        assert!(ApplicantType::Startup.satisfies(ApplicantType::Company));
        assert!(!ApplicantType::Company.satisfies(ApplicantType::Startup));
        assert!(!ApplicantType::UniversityTeam.satisfies(ApplicantType::University));
    }
}
