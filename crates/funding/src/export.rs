//! The catalogue as a CSV download: one row per scheme, lists joined with `;`, values the fact
//! sheet does not state written `not stated` exactly as in the records.

use crate::catalogue::{
    Catalogue, CountRecord, LocalizedOrNotStated, MatchingRecord, SectorsRecord,
};

pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "version",
    "effective_from",
    "section",
    "kind",
    "status",
    "name_zh_hant",
    "name_zh_hans",
    "name_en",
    "body_en",
    "summary_en",
    "applicant_types",
    "sectors",
    "size",
    "location",
    "needs_production_line_in_hk",
    "university",
    "purposes",
    "requires_scheme",
    "min_project_cost_hkd",
    "cap_per_project_hkd",
    "cap_per_applicant_hkd",
    "matching_government_to_applicant",
    "max_concurrent_projects",
    "total_budget_hkd",
    "opens",
    "closes",
    "source",
];

fn join<T: serde::Serialize>(items: &[T]) -> String {
    items
        .iter()
        .filter_map(|i| serde_json::to_value(i).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join(";")
}

/// Renders the catalogue as RFC 4180 CSV with a header row.
pub fn to_csv(catalogue: &Catalogue) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_COLUMNS)?;
    for entry in catalogue.entries() {
        let r = &entry.record;
        let row = [
            r.id.clone(),
            r.version.to_string(),
            r.effective_from.clone(),
            r.section.as_str().to_owned(),
            r.kind.as_str().to_owned(),
            r.status.as_str().to_owned(),
            r.name.zh_hant.clone(),
            r.name.zh_hans.clone(),
            r.name.en.clone(),
            match &r.body {
                LocalizedOrNotStated::Localized(l) => l.en.clone(),
                LocalizedOrNotStated::Text(t) => t.clone(),
            },
            r.summary.en.clone(),
            join(&r.applicant_types),
            match &r.sectors {
                SectorsRecord::List(list) => join(list),
                SectorsRecord::Text(t) => t.clone(),
            },
            r.size.clone(),
            r.location.clone(),
            r.needs_production_line_in_hk.to_string(),
            r.university.clone(),
            join(&r.purposes),
            r.requires_scheme.clone(),
            r.min_project_cost_hkd.clone(),
            r.cap_per_project_hkd.clone(),
            r.cap_per_applicant_hkd.clone(),
            match &r.matching {
                MatchingRecord::Ratio(ratio) => format!("{}:{}", ratio.government, ratio.applicant),
                MatchingRecord::Text(t) => t.clone(),
            },
            match &r.max_concurrent_projects {
                CountRecord::Count(n) => n.to_string(),
                CountRecord::Text(t) => t.clone(),
            },
            r.total_budget_hkd.clone(),
            r.opens.clone(),
            r.closes.clone(),
            r.source.clone(),
        ];
        writer.write_record(&row)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}
