//! CKAN's package and resource dictionaries as the write actions receive them
//! (`package_create`, `package_update`, `resource_create`, …), read into the domain's drafts.
//! Reads back everything `package_show` writes, so a dumped dataset loads unchanged: the
//! Chinese texts from top-level keys (`title_tc`) or, failing that, from `extras`.
//!
//! Leniencies, for CKAN's clients that send less than DATA.GOV.HK publishes: a Chinese text not
//! given is the English one; a resource's description not given is its name; no licence is
//! DATA.GOV.HK's terms; no update frequency is `irregular`; a resource without a name is named by
//! its URL's last segment; a format is matched without regard
//! to case. Everything else is the domain's rule (`DatasetDraft::validate`).

use bauhinia_core::{FieldError, Localized};
use serde_json::{Map, Value};

use crate::domain::{
    DatasetDraft, Format, Licence, Name, OrgKind, Organization, ResourceDraft, TextDraft,
    TITLE_LENGTH_MAX,
};

/// A resource as given: its id if the client chose one, and its draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceInput {
    pub id: Option<String>,
    pub draft: ResourceDraft,
}

/// A package as given. `draft.organization` is the `owner_org` as given (an id or a name) and
/// `groups` the groups' names or ids: the service resolves both against the catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageInput {
    pub id: Option<String>,
    pub draft: DatasetDraft,
    pub resources: Vec<ResourceInput>,
}

#[derive(Debug, Default)]
struct Faults(Vec<FieldError>);

impl Faults {
    fn text(&mut self, dict: &Map<String, Value>, pointer: &str, key: &str) -> Option<String> {
        match dict.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                self.0.push(FieldError::new(
                    format!("{pointer}/{key}"),
                    "Must be a string",
                ));
                None
            }
        }
    }
}

/// A value of `extras` (`[{key, value}]`), if there.
fn extra(dict: &Map<String, Value>, key: &str) -> Option<String> {
    dict.get("extras")?.as_array()?.iter().find_map(|e| {
        (e.get("key")?.as_str()? == key)
            .then(|| e.get("value")?.as_str().map(str::to_owned))
            .flatten()
    })
}

/// A top-level text, or the same key in `extras`.
fn text_or_extra(
    faults: &mut Faults,
    dict: &Map<String, Value>,
    pointer: &str,
    key: &str,
) -> Option<String> {
    faults.text(dict, pointer, key).or_else(|| extra(dict, key))
}

/// English from `field`, Chinese from `field_tc` and `field_sc` (or the English).
fn three(
    faults: &mut Faults,
    dict: &Map<String, Value>,
    pointer: &str,
    field: &str,
    fallback: Option<&str>,
) -> TextDraft {
    let en = faults
        .text(dict, pointer, field)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| fallback.map(str::to_owned))
        .unwrap_or_default();
    let tc = text_or_extra(faults, dict, pointer, &format!("{field}_tc"))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| en.clone());
    let sc = text_or_extra(faults, dict, pointer, &format!("{field}_sc"))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| en.clone());
    TextDraft {
        en,
        zh_hant: tc,
        zh_hans: sc,
    }
}

/// A list of names: strings, or dictionaries with `name` (or else `id`).
fn names(faults: &mut Faults, dict: &Map<String, Value>, key: &str) -> Vec<String> {
    let items = match dict.get(key) {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            faults
                .0
                .push(FieldError::new(format!("/{key}"), "Must be a list"));
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let name = match item {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => ["name", "id"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_owned)),
            _ => None,
        };
        match name {
            Some(name) => out.push(name),
            None => faults.0.push(FieldError::new(
                format!("/{key}/{i}"),
                "Must be a name or a dictionary with a name",
            )),
        }
    }
    out
}

/// CKAN's `private`: a boolean or its text; absent is public.
fn private(faults: &mut Faults, dict: &Map<String, Value>) -> bool {
    crate::action::boolean(dict.get("private"))
        .map_err(|e| faults.0.push(FieldError::new("/private", e)))
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// A format, matched without regard to case; empty if not given.
pub fn format_text(text: &str) -> String {
    Format::ALL
        .iter()
        .find(|f| f.as_str().eq_ignore_ascii_case(text.trim()))
        .map_or_else(|| text.trim().to_owned(), |f| f.as_str().to_owned())
}

/// A resource dictionary; `pointer` is where it sits (`/resources/0`, or empty for a
/// resource action's own dictionary).
pub fn resource(
    dict: &Map<String, Value>,
    pointer: &str,
) -> Result<ResourceInput, Vec<FieldError>> {
    let mut faults = Faults::default();
    let id = faults.text(dict, pointer, "id").filter(|s| !s.is_empty());
    // CKAN lets a resource go unnamed; its URL's last segment names it here.
    let url_name = dict
        .get("url")
        .and_then(Value::as_str)
        .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
        .filter(|s| !s.is_empty() && !s.contains(':'))
        .map(str::to_owned);
    let name = three(&mut faults, dict, pointer, "name", url_name.as_deref());
    let description = three(&mut faults, dict, pointer, "description", Some(&name.en));
    let description = TextDraft {
        zh_hant: if description.zh_hant == description.en {
            name.zh_hant.clone()
        } else {
            description.zh_hant
        },
        zh_hans: if description.zh_hans == description.en {
            name.zh_hans.clone()
        } else {
            description.zh_hans
        },
        en: description.en,
    };
    let format = format_text(&faults.text(dict, pointer, "format").unwrap_or_default());
    let url = faults.text(dict, pointer, "url").unwrap_or_default();
    let size_bytes = match crate::action::natural(dict.get("size")) {
        Ok(size) => size.map(i64::from),
        Err(e) => {
            faults.0.push(FieldError::new(format!("{pointer}/size"), e));
            None
        }
    };
    let hash = faults.text(dict, pointer, "hash").unwrap_or_default();
    if faults.0.is_empty() {
        Ok(ResourceInput {
            id,
            draft: ResourceDraft {
                name,
                description,
                format,
                url,
                size_bytes,
                hash,
            },
        })
    } else {
        Err(faults.0)
    }
}

/// A package dictionary.
pub fn package(dict: &Map<String, Value>) -> Result<PackageInput, Vec<FieldError>> {
    let mut faults = Faults::default();
    let id = faults.text(dict, "", "id").filter(|s| !s.is_empty());
    let title = three(&mut faults, dict, "", "title", None);
    let notes = three(&mut faults, dict, "", "notes", None);
    let mut tags = names(&mut faults, dict, "tags");
    if let Some(tag_string) = faults.text(dict, "", "tag_string") {
        tags.extend(
            tag_string
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        );
    }
    let draft = DatasetDraft {
        name: faults.text(dict, "", "name").unwrap_or_default(),
        title,
        notes,
        organization: faults.text(dict, "", "owner_org").unwrap_or_default(),
        groups: names(&mut faults, dict, "groups"),
        tags,
        licence: faults
            .text(dict, "", "license_id")
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| Licence::DataGovHkTerms.as_str().to_owned()),
        frequency: text_or_extra(&mut faults, dict, "", "update_frequency")
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| "irregular".to_owned()),
        coverage_from: text_or_extra(&mut faults, dict, "", "temporal_coverage_from")
            .unwrap_or_default(),
        coverage_to: text_or_extra(&mut faults, dict, "", "temporal_coverage_to")
            .unwrap_or_default(),
        spatial: text_or_extra(&mut faults, dict, "", "spatial_coverage").unwrap_or_default(),
        private: private(&mut faults, dict),
    };
    let mut resources = Vec::new();
    match dict.get("resources") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let pointer = format!("/resources/{i}");
                match item {
                    Value::Object(r) => match resource(r, &pointer) {
                        Ok(r) => resources.push(r),
                        Err(mut e) => faults.0.append(&mut e),
                    },
                    _ => faults
                        .0
                        .push(FieldError::new(pointer, "Must be a dictionary")),
                }
            }
        }
        Some(_) => faults
            .0
            .push(FieldError::new("/resources", "Must be a list")),
    }
    if faults.0.is_empty() {
        Ok(PackageInput {
            id,
            draft,
            resources,
        })
    } else {
        Err(faults.0)
    }
}

/// An id a client chose: a UUID, kept as CKAN keeps a sysadmin's.
pub fn chosen_id(id: &str, pointer: &str) -> Result<String, FieldError> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| FieldError::new(pointer, "Must be a UUID"))
}

/// The format a file's name implies, if any.
pub fn format_of_file(file_name: &str) -> Option<Format> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "csv" => Some(Format::Csv),
        "json" => Some(Format::Json),
        "geojson" => Some(Format::GeoJson),
        "xml" => Some(Format::Xml),
        _ => None,
    }
}

/// An organisation dictionary (`organization_create`), as `organization_show` writes it: the
/// Chinese texts at the top level or in `extras`, with `kind` and `url` in `extras`.
pub fn organization(
    dict: &Map<String, Value>,
    now_s: i64,
) -> Result<Organization, Vec<FieldError>> {
    let mut faults = Faults::default();
    let id = match faults.text(dict, "", "id").filter(|s| !s.is_empty()) {
        Some(id) => chosen_id(&id, "/id").map_err(|f| faults.0.push(f)).ok(),
        None => Some(uuid::Uuid::new_v4().to_string()),
    };
    let name = Name::parse(&faults.text(dict, "", "name").unwrap_or_default())
        .map_err(|e| faults.0.push(FieldError::new("/name", e)))
        .ok();
    let title = three(&mut faults, dict, "", "title", None);
    let description = three(&mut faults, dict, "", "description", Some(&title.en));
    let kind = OrgKind::parse(
        &text_or_extra(&mut faults, dict, "", "kind").unwrap_or_else(|| "other".to_owned()),
    )
    .map_err(|e| faults.0.push(FieldError::new("/kind", e)))
    .ok();
    let url = text_or_extra(&mut faults, dict, "", "url").filter(|u| !u.is_empty());
    let url = match url.map(|u| crate::domain::resource_url(&u)) {
        Some(Ok(u)) => Some(u),
        Some(Err(e)) => {
            faults.0.push(FieldError::new("/url", e));
            None
        }
        None => None,
    };
    for (pointer, text) in [
        ("/title", &title.en),
        ("/title_tc", &title.zh_hant),
        ("/title_sc", &title.zh_hans),
    ] {
        if text.trim().is_empty() || text.chars().count() > TITLE_LENGTH_MAX {
            faults.0.push(FieldError::new(
                pointer,
                format!("Must be 1 to {TITLE_LENGTH_MAX} characters long"),
            ));
        }
    }
    match (id, name, kind) {
        (Some(id), Some(name), Some(kind)) if faults.0.is_empty() => Ok(Organization {
            id,
            name,
            kind,
            title: to_localized(title),
            description: to_localized(description),
            url,
            created_s: now_s,
        }),
        _ => Err(faults.0),
    }
}

fn to_localized(t: TextDraft) -> Localized {
    Localized {
        en: t.en.trim().to_owned(),
        zh_hant: t.zh_hant.trim().to_owned(),
        zh_hans: t.zh_hans.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use serde_json::json;

    fn dict(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn extras_and_fallbacks() {
        let input = package(&dict(json!({
            "name": "hk-td-speed",
            "title": "Speed",
            "notes": "Notes",
            "owner_org": "hk-td",
            "extras": [{"key": "title_tc", "value": "車速"}, {"key": "update_frequency", "value": "daily"}],
            "notes_sc": "说明",
            "groups": [{"name": "transport"}, "housing", {"id": "g-1"}],
            "tags": [{"name": "traffic"}],
            "tag_string": "roads, speed",
            "private": "true",
            "resources": [{"name": "CSV", "format": "csv", "url": "https://x.test/a.csv", "size": "12"}],
        })))
        .unwrap();
        assert_eq!(input.draft.title.zh_hant, "車速");
        assert_eq!(input.draft.title.zh_hans, "Speed");
        assert_eq!(input.draft.notes.zh_hans, "说明");
        assert_eq!(input.draft.frequency, "daily");
        assert_eq!(input.draft.licence, "data-gov-hk-terms");
        assert_eq!(input.draft.groups, ["transport", "housing", "g-1"]);
        assert_eq!(input.draft.tags, ["traffic", "roads", "speed"]);
        assert!(input.draft.private);
        let r = &input.resources[0].draft;
        assert_eq!(r.format, "CSV");
        assert_eq!(r.size_bytes, Some(12));
        assert_eq!(r.description.en, "CSV");
    }

    #[test]
    fn wrong_types_are_named() {
        let faults = package(&dict(json!({
            "title": 5,
            "notes": ["x"],
            "groups": "transport",
            "private": "perhaps",
            "resources": [{"url": {}}, 3],
        })))
        .unwrap_err();
        let pointers: Vec<&str> = faults.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/notes",
                "/groups",
                "/private",
                "/resources/0/url",
                "/resources/1"
            ]
        );
    }

    #[test]
    fn file_formats() {
        assert_eq!(format_of_file("a.CSV"), Some(Format::Csv));
        assert_eq!(format_of_file("x.geojson"), Some(Format::GeoJson));
        assert_eq!(format_of_file("noext"), None);
        assert!(chosen_id("not-a-uuid", "/id").is_err());
    }
}
