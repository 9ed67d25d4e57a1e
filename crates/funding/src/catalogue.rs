//! The scheme catalogue: the published record format ([`SchemeRecord`], the shape of
//! `data/schemes.toml`, of the stored documents and of the API and downloads) and its loading
//! into validated domain [`Scheme`]s.
//!
//! The catalogue that ships with the binary is compiled in from `data/schemes.toml`, taken from
//! the fact sheet of February 2026. A record is validated as a whole catalogue: ids unique, and
//! every scheme another one requires exists.

use std::collections::BTreeSet;

use bauhinia_core::{Currency, Localized, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::*;

/// The marker the data uses for a value the fact sheet does not state.
pub const NOT_STATED: &str = "not stated";

const EMBEDDED: &str = include_str!("../data/schemes.toml");

/// A text that is either a value or `"not stated"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LocalizedOrNotStated {
    Localized(Localized),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SectorsRecord {
    List(Vec<Sector>),
    /// `"any"`
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatioRecord {
    pub government: u32,
    pub applicant: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MatchingRecord {
    Ratio(RatioRecord),
    /// `"not stated"` or `"none"`
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CountRecord {
    Count(u32),
    /// `"not stated"`
    Text(String),
}

/// One version of one scheme, as published. Values the fact sheet does not state are the
/// string `"not stated"`; amounts are decimal strings of whole Hong Kong dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemeRecord {
    /// Stable kebab-case id.
    pub id: String,
    /// 1 as first launched; higher for each enhancement the fact sheet describes.
    pub version: u32,
    /// `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `"not stated"`.
    pub effective_from: String,
    pub section: Section,
    pub kind: SchemeKind,
    pub name: Localized,
    /// The administering body, or `"not stated"`.
    pub body: LocalizedOrNotStated,
    pub summary: Localized,
    pub applicant_types: Vec<ApplicantType>,
    /// `"any"` or a list of sectors.
    pub sectors: SectorsRecord,
    /// `"any"` or `"sme"`.
    pub size: String,
    /// `"hong_kong"`, `"any"` or `"not stated"`.
    pub location: String,
    pub needs_production_line_in_hk: bool,
    /// `"any"` or `"ugc_funded"`.
    pub university: String,
    pub purposes: Vec<Purpose>,
    /// The id of a scheme the applicant must already be funded by, or `"not stated"`.
    #[serde(default = "not_stated")]
    pub requires_scheme: String,
    pub min_project_cost_hkd: String,
    pub cap_per_project_hkd: String,
    pub cap_per_applicant_hkd: String,
    /// `{government, applicant}`, `"not stated"` or `"none"`.
    pub matching: MatchingRecord,
    pub max_concurrent_projects: CountRecord,
    pub other_limits: Vec<Localized>,
    pub total_budget_hkd: String,
    pub status: Status,
    pub opens: String,
    pub closes: String,
    #[serde(default)]
    pub figures: Vec<Localized>,
    /// The exact sentence(s) of the fact sheet every value above comes from.
    pub source: String,
}

fn not_stated() -> String {
    NOT_STATED.to_owned()
}

/// The file: a catalogue version and its schemes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    catalogue_version: String,
    scheme: Vec<SchemeRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("the catalogue file is not valid: {0}")]
    Syntax(String),
    #[error("scheme {scheme:?}, field {field}: {message}")]
    Field {
        scheme: String,
        field: &'static str,
        message: String,
    },
}

/// A loaded scheme: the published record and its validated domain form.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueEntry {
    pub record: SchemeRecord,
    pub scheme: Scheme,
}

/// Every scheme's current version, sorted by id, and every published version (the history).
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub version: String,
    entries: Vec<CatalogueEntry>,
    /// Every version of every scheme, sorted by (id, version); the entries are the last of each id.
    history: Vec<SchemeRecord>,
}

impl Catalogue {
    /// The catalogue compiled into this binary.
    pub fn embedded() -> Result<Catalogue, CatalogueError> {
        Catalogue::from_toml(EMBEDDED)
    }

    pub fn from_toml(text: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile =
            toml::from_str(text).map_err(|e| CatalogueError::Syntax(e.to_string()))?;
        Catalogue::from_records(file.catalogue_version, file.scheme)
    }

    /// Validates records as one catalogue. An id may appear with several versions (its history);
    /// the highest version is the current one. Every version must validate on its own.
    pub fn from_records(
        version: String,
        records: Vec<SchemeRecord>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut validated = Vec::with_capacity(records.len());
        for record in records {
            validated.push((record.to_scheme()?, record));
        }
        validated.sort_by(|(a, _), (b, _)| (&a.id, a.version).cmp(&(&b.id, b.version)));
        if let Some(pair) = validated
            .windows(2)
            .find(|w| matches!(w, [(a, _), (b, _)] if a.id == b.id && a.version == b.version))
        {
            let scheme = pair.first().map(|(_, r)| r.id.clone()).unwrap_or_default();
            return Err(CatalogueError::Field {
                scheme,
                field: "version",
                message: "appears more than once for this id".into(),
            });
        }
        let history: Vec<SchemeRecord> = validated.iter().map(|(_, r)| r.clone()).collect();
        // The current version of each id is the last of its run.
        let mut entries: Vec<CatalogueEntry> = Vec::new();
        for (scheme, record) in validated {
            match entries.last_mut() {
                Some(last) if last.scheme.id == scheme.id => {
                    *last = CatalogueEntry { scheme, record }
                }
                _ => entries.push(CatalogueEntry { scheme, record }),
            }
        }
        let ids: BTreeSet<&SchemeId> = entries.iter().map(|e| &e.scheme.id).collect();
        for entry in &entries {
            if let Some(required) = &entry.scheme.requires_scheme {
                if !ids.contains(required) {
                    return Err(field_error(
                        &entry.record,
                        "requires_scheme",
                        format!("no scheme has id {required}"),
                    ));
                }
            }
        }
        Ok(Catalogue {
            version,
            entries,
            history,
        })
    }

    /// Every version of every scheme, sorted by (id, version).
    pub fn history(&self) -> &[SchemeRecord] {
        &self.history
    }

    pub fn entries(&self) -> &[CatalogueEntry] {
        &self.entries
    }

    pub fn schemes(&self) -> impl Iterator<Item = &Scheme> {
        self.entries.iter().map(|e| &e.scheme)
    }

    pub fn get(&self, id: &str) -> Option<&CatalogueEntry> {
        self.entries
            .binary_search_by(|e| e.scheme.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn field_error(
    record: &SchemeRecord,
    field: &'static str,
    message: impl Into<String>,
) -> CatalogueError {
    CatalogueError::Field {
        scheme: record.id.clone(),
        field,
        message: message.into(),
    }
}

impl SchemeRecord {
    /// Validates the record into a domain scheme.
    pub fn to_scheme(&self) -> Result<Scheme, CatalogueError> {
        let err = |field: &'static str, message: &str| field_error(self, field, message);
        let id = SchemeId::parse(&self.id)
            .ok_or_else(|| err("id", "must be kebab-case ASCII, 1–64 characters"))?;
        if self.version == 0 {
            return Err(err("version", "must be at least 1"));
        }
        let date =
            |field: &'static str, text: &str| -> Result<Stated<PartialDate>, CatalogueError> {
                if text == NOT_STATED {
                    return Ok(Stated::NotStated);
                }
                PartialDate::parse(text).map(Stated::Stated).ok_or_else(|| {
                    err(field, "must be YYYY, YYYY-MM, YYYY-MM-DD or \"not stated\"")
                })
            };
        let money = |field: &'static str, text: &str| -> Result<Stated<Money>, CatalogueError> {
            if text == NOT_STATED {
                return Ok(Stated::NotStated);
            }
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(
                    field,
                    "must be whole Hong Kong dollars as digits, or \"not stated\"",
                ));
            }
            Money::parse_decimal(text, Currency::Hkd)
                .map(Stated::Stated)
                .map_err(|e| err(field, &e.to_string()))
        };
        if self.applicant_types.is_empty() {
            return Err(err(
                "applicant_types",
                "must name at least one applicant type",
            ));
        }
        if self.purposes.is_empty() {
            return Err(err("purposes", "must name at least one purpose"));
        }
        if self.source.trim().is_empty() {
            return Err(err("source", "must quote the fact sheet"));
        }
        Ok(Scheme {
            id,
            version: self.version,
            effective_from: date("effective_from", &self.effective_from)?,
            section: self.section,
            kind: self.kind,
            name: self.name.clone(),
            body: match &self.body {
                LocalizedOrNotStated::Localized(l) => Stated::Stated(l.clone()),
                LocalizedOrNotStated::Text(t) if t == NOT_STATED => Stated::NotStated,
                LocalizedOrNotStated::Text(_) => {
                    return Err(err("body", "must be three-language text or \"not stated\""))
                }
            },
            summary: self.summary.clone(),
            applicant_types: self.applicant_types.clone(),
            sectors: match &self.sectors {
                SectorsRecord::List(list) if !list.is_empty() => Some(list.clone()),
                SectorsRecord::Text(t) if t == "any" => None,
                _ => return Err(err("sectors", "must be \"any\" or a non-empty list")),
            },
            size: match self.size.as_str() {
                "any" => SizeRule::Any,
                "sme" => SizeRule::Sme,
                _ => return Err(err("size", "must be \"any\" or \"sme\"")),
            },
            location: match self.location.as_str() {
                "any" => Stated::Stated(LocationRule::Any),
                "hong_kong" => Stated::Stated(LocationRule::HongKong),
                NOT_STATED => Stated::NotStated,
                _ => {
                    return Err(err(
                        "location",
                        "must be \"hong_kong\", \"any\" or \"not stated\"",
                    ))
                }
            },
            needs_production_line_in_hk: self.needs_production_line_in_hk,
            university: match self.university.as_str() {
                "any" => UniversityRule::Any,
                "ugc_funded" => UniversityRule::UgcFunded,
                _ => return Err(err("university", "must be \"any\" or \"ugc_funded\"")),
            },
            purposes: self.purposes.clone(),
            requires_scheme: match self.requires_scheme.as_str() {
                NOT_STATED => None,
                other => Some(
                    SchemeId::parse(other)
                        .ok_or_else(|| err("requires_scheme", "is not a scheme id"))?,
                ),
            },
            min_project_cost: money("min_project_cost_hkd", &self.min_project_cost_hkd)?,
            cap_per_project: money("cap_per_project_hkd", &self.cap_per_project_hkd)?,
            cap_per_applicant: money("cap_per_applicant_hkd", &self.cap_per_applicant_hkd)?,
            matching: match &self.matching {
                MatchingRecord::Ratio(r) if r.government > 0 && r.applicant > 0 => {
                    Matching::Ratio(MatchingRatio {
                        government: r.government,
                        applicant: r.applicant,
                    })
                }
                MatchingRecord::Text(t) if t == NOT_STATED => Matching::NotStated,
                MatchingRecord::Text(t) if t == "none" => Matching::None,
                _ => {
                    return Err(err(
                        "matching",
                        "must be {government, applicant} (both ≥ 1), \"not stated\" or \"none\"",
                    ))
                }
            },
            max_concurrent_projects: match &self.max_concurrent_projects {
                CountRecord::Count(n) if *n > 0 => Stated::Stated(*n),
                CountRecord::Text(t) if t == NOT_STATED => Stated::NotStated,
                _ => {
                    return Err(err(
                        "max_concurrent_projects",
                        "must be a positive integer or \"not stated\"",
                    ))
                }
            },
            other_limits: self.other_limits.clone(),
            total_budget: money("total_budget_hkd", &self.total_budget_hkd)?,
            status: self.status,
            opens: date("opens", &self.opens)?,
            closes: date("closes", &self.closes)?,
            figures: self.figures.clone(),
            source: self.source.clone(),
        })
    }
}
