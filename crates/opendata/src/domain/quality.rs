//! A dataset's quality score, in the spirit of udata's: a handful of checks anyone can verify
//! from the record itself — is it described, in every language; are its resources in open,
//! machine-readable formats and documented; does it state its licence, its period and area;
//! and is it updated as often as it says. The score is the share of the checks that apply
//! and pass. Pure: the time is given.

use super::{Dataset, Format, Frequency};

/// A description shorter than this (in characters) does not describe much.
pub const DESCRIPTION_LENGTH_MIN: usize = 100;

/// One check and its result. `passed` is `None` where it does not apply (an irregular
/// dataset has no update to be late for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub criterion: Criterion,
    pub passed: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// A description of at least 100 characters in English, and one in each Chinese script.
    Description,
    /// At least one tag.
    Tags,
    /// At least one resource.
    HasResources,
    /// At least one resource in an open, machine-readable format (CSV, JSON, GeoJSON, XML).
    OpenFormat,
    /// Every resource has a description.
    ResourcesDocumented,
    /// An open licence is stated.
    Licence,
    /// The period the data covers is stated.
    TemporalCoverage,
    /// The area the data covers is stated.
    SpatialCoverage,
    /// The last update is within the stated frequency (with a day's grace).
    UpdatedOnTime,
}

impl Criterion {
    /// udata's names where it has one, for the DCAT export and the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Criterion::Description => "dataset_description_quality",
            Criterion::Tags => "has_tags",
            Criterion::HasResources => "has_resources",
            Criterion::OpenFormat => "has_open_format",
            Criterion::ResourcesDocumented => "all_resources_documented",
            Criterion::Licence => "license",
            Criterion::TemporalCoverage => "temporal_coverage",
            Criterion::SpatialCoverage => "spatial",
            Criterion::UpdatedOnTime => "update_fulfilled_in_time",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    pub checks: Vec<Check>,
}

impl Quality {
    /// The share of applicable checks passed, 0.0 to 1.0.
    pub fn score(&self) -> f64 {
        let applicable = self.checks.iter().filter(|c| c.passed.is_some()).count();
        let passed = self
            .checks
            .iter()
            .filter(|c| c.passed == Some(true))
            .count();
        if applicable == 0 {
            0.0
        } else {
            passed as f64 / applicable as f64
        }
    }

    /// The score as a whole percentage.
    pub fn percent(&self) -> u8 {
        // Between 0 and 100 by construction.
        (self.score() * 100.0).round().clamp(0.0, 100.0) as u8
    }
}

/// The longest a dataset of this frequency may go without an update, in seconds, with a day's
/// grace; `None` where nothing is promised.
pub fn allowed_age_s(frequency: Frequency) -> Option<i64> {
    const DAY: i64 = 86_400;
    let days = match frequency {
        Frequency::Realtime | Frequency::Hourly | Frequency::Daily => 1,
        Frequency::Weekly => 7,
        Frequency::Monthly => 31,
        Frequency::Quarterly => 92,
        Frequency::HalfYearly => 183,
        Frequency::Yearly => 366,
        Frequency::Irregular | Frequency::NotUpdated => return None,
    };
    Some((days + 1) * DAY)
}

pub fn assess(dataset: &Dataset, now_s: i64) -> Quality {
    let notes = &dataset.notes;
    let described = notes.en.trim().chars().count() >= DESCRIPTION_LENGTH_MIN
        && !notes.zh_hant.trim().is_empty()
        && !notes.zh_hans.trim().is_empty();
    let open_format = dataset.resources.iter().any(|r| {
        matches!(
            r.format,
            Format::Csv | Format::Json | Format::GeoJson | Format::Xml
        )
    });
    let documented = !dataset.resources.is_empty()
        && dataset
            .resources
            .iter()
            .all(|r| !r.description.en.trim().is_empty());
    let on_time = allowed_age_s(dataset.frequency)
        .map(|allowed| now_s.saturating_sub(dataset.modified_s) <= allowed);
    let check = |criterion, passed| Check { criterion, passed };
    Quality {
        checks: vec![
            check(Criterion::Description, Some(described)),
            check(Criterion::Tags, Some(!dataset.tags.is_empty())),
            check(Criterion::HasResources, Some(!dataset.resources.is_empty())),
            check(Criterion::OpenFormat, Some(open_format)),
            check(Criterion::ResourcesDocumented, Some(documented)),
            // Every licence the catalogue accepts is open (`Licence` is a closed list).
            check(Criterion::Licence, Some(true)),
            check(
                Criterion::TemporalCoverage,
                Some(dataset.temporal.is_some()),
            ),
            check(
                Criterion::SpatialCoverage,
                Some(!dataset.spatial.trim().is_empty()),
            ),
            check(Criterion::UpdatedOnTime, on_time),
        ],
    }
}
