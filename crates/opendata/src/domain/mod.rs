//! The catalogue's rules: what a provider, a category, a dataset and a resource are, and what
//! makes one valid. Pure: no I/O, no SQL, no HTTP, no JSON shapes of any API (those are in
//! `ckan.rs`).
//!
//! A dataset arrives as a [`DatasetDraft`] of plain strings (from demo data now, from
//! `package_create` later) and becomes a [`Dataset`] only through [`DatasetDraft::validate`],
//! which names every bad field at once.

pub mod category;
pub mod quality;
mod vocab;

use bauhinia_core::{FieldError, Localized};
use time::Date;

pub use vocab::{Format, Frequency, Licence, OrgKind, State};

/// Limits on what one dataset may hold.
pub const NAME_LENGTH_MIN: usize = 2;
pub const NAME_LENGTH_MAX: usize = 100;
pub const TITLE_LENGTH_MAX: usize = 500;
pub const NOTES_LENGTH_MAX: usize = 20_000;
pub const SPATIAL_LENGTH_MAX: usize = 500;
pub const TAG_LENGTH_MIN: usize = 2;
pub const TAG_LENGTH_MAX: usize = 100;
pub const TAGS_MAX: usize = 50;
pub const GROUPS_MAX: usize = category::CATEGORIES.len();
pub const RESOURCES_MAX: usize = 100;
pub const URL_LENGTH_MAX: usize = 2_048;
pub const HASH_LENGTH_MAX: usize = 200;

/// A CKAN name (of a dataset, organisation or group): 2–100 characters of lower-case ASCII
/// letters, digits, `-` and `_`, as CKAN requires. DATA.GOV.HK's look like `hk-td` and
/// `hk-td-tis-traffic-speed`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    pub fn parse(text: &str) -> Result<Name, String> {
        let length = text.chars().count();
        if !(NAME_LENGTH_MIN..=NAME_LENGTH_MAX).contains(&length) {
            return Err(format!(
                "Must be {NAME_LENGTH_MIN} to {NAME_LENGTH_MAX} characters long"
            ));
        }
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !text.chars().all(allowed) {
            return Err(
                "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_"
                    .into(),
            );
        }
        Ok(Name(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free tag: 2–100 characters of letters or digits (any script), spaces, `-`, `_` and `.`,
/// CKAN's rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagName(String);

impl TagName {
    pub fn parse(text: &str) -> Result<TagName, String> {
        let length = text.chars().count();
        if !(TAG_LENGTH_MIN..=TAG_LENGTH_MAX).contains(&length) {
            return Err(format!(
                "Tag \"{text}\" length must be {TAG_LENGTH_MIN} to {TAG_LENGTH_MAX} characters"
            ));
        }
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.');
        if !text.chars().all(allowed) {
            return Err(format!(
                "Tag \"{text}\" must be alphanumeric characters or symbols: -_."
            ));
        }
        Ok(TagName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A provider: a bureau, a department or another organisation (CKAN's organisation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// A UUID, fixed at creation.
    pub id: String,
    pub name: Name,
    pub kind: OrgKind,
    pub title: Localized,
    pub description: Localized,
    /// The provider's own site.
    pub url: Option<String>,
    pub created_s: i64,
}

/// One of DATA.GOV.HK's 19 categories (CKAN's group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: Name,
    pub title: Localized,
    pub description: Localized,
    pub created_s: i64,
}

/// A tag as stored: CKAN gives every tag an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: String,
    pub name: TagName,
}

/// The period a dataset's data covers; an open end means "to date".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemporalCoverage {
    pub from: Date,
    pub to: Option<Date>,
}

/// A file or API of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub id: String,
    pub name: Localized,
    pub description: Localized,
    pub format: Format,
    /// Where it is fetched: http or https.
    pub url: String,
    pub size_bytes: Option<i64>,
    /// As published, e.g. `sha256:…`; empty when unknown.
    pub hash: String,
    pub created_s: i64,
    pub modified_s: i64,
}

/// A dataset (CKAN's package), valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub id: String,
    pub name: Name,
    pub title: Localized,
    pub notes: Localized,
    /// The provider's name.
    pub organization: Name,
    /// Category names, without repeats, in the order given.
    pub groups: Vec<Name>,
    pub tags: Vec<TagName>,
    pub licence: Licence,
    pub frequency: Frequency,
    pub temporal: Option<TemporalCoverage>,
    pub spatial: String,
    pub private: bool,
    pub state: State,
    pub resources: Vec<Resource>,
    pub created_s: i64,
    pub modified_s: i64,
}

impl Dataset {
    /// Whether an anonymous caller may see it: active and public.
    pub fn is_public(&self) -> bool {
        !self.private && self.state == State::Active
    }
}

/// Text in three languages as given, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextDraft {
    pub en: String,
    pub zh_hant: String,
    pub zh_hans: String,
}

impl TextDraft {
    pub fn new(en: &str, zh_hant: &str, zh_hans: &str) -> TextDraft {
        TextDraft {
            en: en.to_owned(),
            zh_hant: zh_hant.to_owned(),
            zh_hans: zh_hans.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceDraft {
    pub name: TextDraft,
    pub description: TextDraft,
    pub format: String,
    pub url: String,
    pub size_bytes: Option<i64>,
    pub hash: String,
}

/// A dataset as given: every field text, checked by [`DatasetDraft::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetDraft {
    pub name: String,
    pub title: TextDraft,
    pub notes: TextDraft,
    pub organization: String,
    pub groups: Vec<String>,
    pub tags: Vec<String>,
    pub licence: String,
    pub frequency: String,
    /// `YYYY-MM-DD`, or empty.
    pub coverage_from: String,
    /// `YYYY-MM-DD`, or empty for "to date".
    pub coverage_to: String,
    pub spatial: String,
    pub private: bool,
}

/// Collects every field's fault, so one answer names them all.
#[derive(Debug, Default)]
struct Faults(Vec<FieldError>);

impl Faults {
    fn check<T>(&mut self, pointer: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(detail) => {
                self.0.push(FieldError::new(pointer, detail));
                None
            }
        }
    }
}

fn text(value: &str, max: usize, required: bool) -> Result<String, String> {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        return Err("Missing value".into());
    }
    if trimmed.chars().count() > max {
        return Err(format!("Must be at most {max} characters long"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("Must not contain control characters".into());
    }
    Ok(trimmed.to_owned())
}

fn localized(faults: &mut Faults, pointer: &str, draft: &TextDraft, max: usize) -> Localized {
    let mut one = |lang: &str, value: &str| {
        faults
            .check(&format!("{pointer}_{lang}"), text(value, max, true))
            .unwrap_or_default()
    };
    Localized {
        en: one("en", &draft.en),
        zh_hant: one("tc", &draft.zh_hant),
        zh_hans: one("sc", &draft.zh_hans),
    }
}

/// A date as `YYYY-MM-DD`; empty is none.
pub fn date(text: &str) -> Result<Option<Date>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, format)
        .map(Some)
        .map_err(|_| "Must be a date as YYYY-MM-DD".into())
}

/// http or https, at most 2,048 bytes, no credentials.
pub fn resource_url(text: &str) -> Result<String, String> {
    if text.len() > URL_LENGTH_MAX {
        return Err(format!("Must be at most {URL_LENGTH_MAX} bytes long"));
    }
    let url = url::Url::parse(text).map_err(|_| "Please provide a valid URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("Must be an http or https URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Must not carry credentials".into());
    }
    Ok(url.into())
}

fn coverage(faults: &mut Faults, draft: &DatasetDraft) -> Option<TemporalCoverage> {
    let from = faults.check("/temporal_coverage_from", date(&draft.coverage_from));
    let to = faults.check("/temporal_coverage_to", date(&draft.coverage_to));
    match (from.flatten(), to.flatten()) {
        (Some(from), to) if to.is_some_and(|to| to < from) => {
            faults.0.push(FieldError::new(
                "/temporal_coverage_to",
                "Must not be before temporal_coverage_from",
            ));
            None
        }
        (Some(from), to) => Some(TemporalCoverage { from, to }),
        (None, Some(_)) => {
            faults.0.push(FieldError::new(
                "/temporal_coverage_from",
                "Missing value: an end needs a start",
            ));
            None
        }
        (None, None) => None,
    }
}

fn list<T>(
    faults: &mut Faults,
    pointer: &str,
    items: &[String],
    max: usize,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T>
where
    T: PartialEq,
{
    if items.len() > max {
        faults
            .0
            .push(FieldError::new(pointer, format!("At most {max} allowed")));
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(value) = faults.check(&format!("{pointer}/{i}"), parse(item)) {
            if !out.contains(&value) {
                out.push(value);
            }
        }
    }
    out
}

impl ResourceDraft {
    fn validate(&self, faults: &mut Faults, pointer: &str, id: String, now_s: i64) -> Resource {
        let name = localized(
            faults,
            &format!("{pointer}/name"),
            &self.name,
            TITLE_LENGTH_MAX,
        );
        let description = localized(
            faults,
            &format!("{pointer}/description"),
            &self.description,
            NOTES_LENGTH_MAX,
        );
        let format = faults.check(&format!("{pointer}/format"), Format::parse(&self.format));
        let url = faults.check(&format!("{pointer}/url"), resource_url(&self.url));
        let size_bytes = match self.size_bytes {
            Some(size) if size < 0 => {
                faults.0.push(FieldError::new(
                    format!("{pointer}/size"),
                    "Must be a natural number",
                ));
                None
            }
            size => size,
        };
        let hash = faults
            .check(
                &format!("{pointer}/hash"),
                text(&self.hash, HASH_LENGTH_MAX, false),
            )
            .unwrap_or_default();
        Resource {
            id,
            name,
            description,
            format: format.unwrap_or(Format::Csv),
            url: url.unwrap_or_default(),
            size_bytes,
            hash,
            created_s: now_s,
            modified_s: now_s,
        }
    }
}

impl DatasetDraft {
    /// The dataset, with `ids` giving the dataset's id and then one per resource; or every
    /// fault, each named by a JSON Pointer into CKAN's package dictionary (`/name`,
    /// `/title_tc`, `/resources/0/url`).
    pub fn validate(
        &self,
        resources: &[ResourceDraft],
        mut ids: impl FnMut() -> String,
        now_s: i64,
    ) -> Result<Dataset, Vec<FieldError>> {
        let mut faults = Faults::default();
        let name = faults.check("/name", Name::parse(&self.name));
        let title = localized(&mut faults, "/title", &self.title, TITLE_LENGTH_MAX);
        let notes = localized(&mut faults, "/notes", &self.notes, NOTES_LENGTH_MAX);
        let organization = faults.check("/owner_org", Name::parse(&self.organization));
        let groups = list(&mut faults, "/groups", &self.groups, GROUPS_MAX, |g| {
            category::find(g)
                .map(|c| Name(c.name.to_owned()))
                .ok_or_else(|| format!("Group \"{g}\" is not one of the 19 categories"))
        });
        let tags = list(&mut faults, "/tags", &self.tags, TAGS_MAX, TagName::parse);
        let licence = faults.check("/license_id", Licence::parse(&self.licence));
        let frequency = faults.check("/update_frequency", Frequency::parse(&self.frequency));
        let temporal = coverage(&mut faults, self);
        let spatial = faults
            .check(
                "/spatial_coverage",
                text(&self.spatial, SPATIAL_LENGTH_MAX, false),
            )
            .unwrap_or_default();
        if resources.len() > RESOURCES_MAX {
            faults.0.push(FieldError::new(
                "/resources",
                format!("At most {RESOURCES_MAX} allowed"),
            ));
        }
        let id = ids();
        let resources: Vec<Resource> = resources
            .iter()
            .take(RESOURCES_MAX)
            .enumerate()
            .map(|(i, r)| r.validate(&mut faults, &format!("/resources/{i}"), ids(), now_s))
            .collect();
        match (name, organization, licence, frequency) {
            (Some(name), Some(organization), Some(licence), Some(frequency))
                if faults.0.is_empty() =>
            {
                Ok(Dataset {
                    id,
                    name,
                    title,
                    notes,
                    organization,
                    groups,
                    tags,
                    licence,
                    frequency,
                    temporal,
                    spatial,
                    private: self.private,
                    state: State::Active,
                    resources,
                    created_s: now_s,
                    modified_s: now_s,
                })
            }
            _ => Err(faults.0),
        }
    }
}

/// A stored name read back (the store wrote only valid ones).
pub fn stored_name(text: &str) -> Option<Name> {
    Name::parse(text).ok()
}

/// A stored tag read back.
pub fn stored_tag(text: &str) -> Option<TagName> {
    TagName::parse(text).ok()
}
