//! CKAN's wire shapes, built from the catalogue's types: the package, resource, organisation,
//! group and tag dictionaries, `status_show`'s answer, the `{help, success, result}` envelope
//! and the error dictionaries with their `__type`s and HTTP statuses. Only this module knows
//! CKAN's JSON.
//!
//! The portal's three languages: a dictionary's standard fields (`title`, `notes`,
//! `description`) are in English, as DATA.GOV.HK's `/en-data` API; the Chinese texts are extras
//! of packages, organisations and groups (`title_tc`, `title_sc`, `notes_tc`, …) and extra keys
//! of resources (where CKAN keeps unknown keys on the resource itself).

use axum::http::StatusCode;
use bauhinia_core::{FieldError, Localized};
use serde_json::{json, Map, Value};

use crate::domain::{Group, Organization, Resource, Tag};
use crate::error::OpendataError;
use crate::service::Package;
use crate::store::Counted;

/// The CKAN API level this server answers as, for clients that check `status_show`.
pub const CKAN_VERSION: &str = "2.10.0";

/// CKAN's timestamps: ISO 8601 in UTC without an offset, with microseconds.
pub fn timestamp(unix_s: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000000");
    time::OffsetDateTime::from_unix_timestamp(unix_s)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

fn extras(pairs: Vec<(&str, String)>) -> Value {
    let mut pairs = pairs;
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    Value::Array(
        pairs
            .into_iter()
            .map(|(key, value)| json!({ "key": key, "value": value }))
            .collect(),
    )
}

fn translations(field: &str, text: &Localized) -> [(String, String); 2] {
    [
        (format!("{field}_tc"), text.zh_hant.clone()),
        (format!("{field}_sc"), text.zh_hans.clone()),
    ]
}

/// An organisation as a package embeds it.
fn organization_brief(org: &Organization) -> Value {
    json!({
        "id": org.id,
        "name": org.name.as_str(),
        "title": org.title.en,
        "type": "organization",
        "description": org.description.en,
        "image_url": "",
        "created": timestamp(org.created_s),
        "is_organization": true,
        "approval_status": "approved",
        "state": "active",
    })
}

/// A group as a package embeds it.
fn group_brief(group: &Group) -> Value {
    json!({
        "id": group.id,
        "name": group.name.as_str(),
        "title": group.title.en,
        "display_name": group.title.en,
        "description": group.description.en,
        "image_display_url": "",
    })
}

fn resource(r: &Resource, package_id: &str, position: usize) -> Value {
    let mut dict = json!({
        "id": r.id,
        "package_id": package_id,
        "position": position,
        "name": r.name.en,
        "description": r.description.en,
        "format": r.format.as_str(),
        "url": r.url,
        "url_type": if is_upload(r, package_id) { json!("upload") } else { Value::Null },
        "size": r.size_bytes,
        "hash": r.hash,
        "mimetype": r.format.mimetype(),
        "mimetype_inner": Value::Null,
        "resource_type": if r.format == crate::domain::Format::Api { json!("api") } else { Value::Null },
        "created": timestamp(r.created_s),
        "last_modified": timestamp(r.modified_s),
        "metadata_modified": timestamp(r.modified_s),
        "cache_url": Value::Null,
        "cache_last_updated": Value::Null,
        "datastore_active": false,
        "state": "active",
    });
    if let Value::Object(map) = &mut dict {
        for (key, value) in translations("name", &r.name)
            .into_iter()
            .chain(translations("description", &r.description))
        {
            map.insert(key, Value::String(value));
        }
    }
    dict
}

/// Whether the resource's file is kept here: its URL is this server's download route for it
/// (`…/dataset/{id}/resource/{rid}/download/{file}`), which only an upload is given.
fn is_upload(r: &Resource, package_id: &str) -> bool {
    let route = format!("/dataset/{package_id}/resource/{}/download/", r.id);
    url::Url::parse(&r.url).is_ok_and(|u| {
        u.path()
            .strip_prefix(route.as_str())
            .is_some_and(|file| !file.is_empty() && !file.contains('/'))
    })
}

/// A tag as a package embeds it.
pub fn tag(t: &Tag) -> Value {
    json!({
        "id": t.id,
        "name": t.name.as_str(),
        "display_name": t.name.as_str(),
        "state": "active",
        "vocabulary_id": Value::Null,
    })
}

/// CKAN's package dictionary (`package_show`).
pub fn package(p: &Package) -> Value {
    let d = &p.dataset;
    let mut extra: Vec<(String, String)> = Vec::new();
    extra.extend(translations("title", &d.title));
    extra.extend(translations("notes", &d.notes));
    extra.push(("update_frequency".into(), d.frequency.as_str().into()));
    extra.push(("spatial_coverage".into(), d.spatial.clone()));
    if let Some(t) = d.temporal {
        extra.push(("temporal_coverage_from".into(), t.from.to_string()));
        extra.push((
            "temporal_coverage_to".into(),
            t.to.map(|to| to.to_string()).unwrap_or_default(),
        ));
    }
    let tag_dicts: Vec<Value> = p.tags.iter().map(tag).collect();
    json!({
        "id": d.id,
        "name": d.name.as_str(),
        "title": d.title.en,
        "notes": d.notes.en,
        "type": "dataset",
        "state": d.state.as_str(),
        "private": d.private,
        "owner_org": p.organization.id,
        "organization": organization_brief(&p.organization),
        "groups": p.groups.iter().map(group_brief).collect::<Vec<_>>(),
        "tags": tag_dicts,
        "num_tags": d.tags.len(),
        "resources": d.resources.iter().enumerate().map(|(i, r)| resource(r, &d.id, i)).collect::<Vec<_>>(),
        "num_resources": d.resources.len(),
        "license_id": d.licence.as_str(),
        "license_title": d.licence.title(),
        "license_url": d.licence.url(),
        "isopen": true,
        "metadata_created": timestamp(d.created_s),
        "metadata_modified": timestamp(d.modified_s),
        "author": Value::Null,
        "author_email": Value::Null,
        "maintainer": Value::Null,
        "maintainer_email": Value::Null,
        "url": "",
        "version": Value::Null,
        "creator_user_id": Value::Null,
        "extras": extras(extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect()),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    })
}

/// What organisations and groups share: CKAN keeps both in one table.
struct GroupLike<'a> {
    id: &'a str,
    name: &'a str,
    title: &'a Localized,
    description: &'a Localized,
    created_s: i64,
    is_organization: bool,
    package_count: i64,
}

fn group_like(g: GroupLike<'_>, more: Vec<(&str, String)>) -> Value {
    let mut extra: Vec<(String, String)> = translations("title", g.title).into();
    extra.extend(translations("description", g.description));
    let mut pairs: Vec<(&str, String)> =
        extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    pairs.extend(more);
    json!({
        "id": g.id,
        "name": g.name,
        "title": g.title.en,
        "display_name": g.title.en,
        "description": g.description.en,
        "image_url": "",
        "image_display_url": "",
        "created": timestamp(g.created_s),
        "is_organization": g.is_organization,
        "approval_status": "approved",
        "state": "active",
        "type": if g.is_organization { "organization" } else { "group" },
        "package_count": g.package_count,
        "num_followers": 0,
        "extras": extras(pairs),
    })
}

/// An organisation's dictionary (`organization_list` with `all_fields`, `organization_show`).
pub fn organization(c: &Counted<Organization>) -> Value {
    let o = &c.item;
    let mut more = vec![("kind", o.kind.as_str().to_owned())];
    if let Some(url) = &o.url {
        more.push(("url", url.clone()));
    }
    let g = GroupLike {
        id: &o.id,
        name: o.name.as_str(),
        title: &o.title,
        description: &o.description,
        created_s: o.created_s,
        is_organization: true,
        package_count: c.package_count,
    };
    group_like(g, more)
}

/// A group's dictionary (`group_list` with `all_fields`, `group_show`).
pub fn group(c: &Counted<Group>) -> Value {
    let g = &c.item;
    let like = GroupLike {
        id: &g.id,
        name: g.name.as_str(),
        title: &g.title,
        description: &g.description,
        created_s: g.created_s,
        is_organization: false,
        package_count: c.package_count,
    };
    group_like(like, Vec::new())
}

/// `status_show`'s answer.
pub fn status(site_url: &str) -> Value {
    json!({
        "site_title": "Bauhinia Open Data 開放數據",
        "site_description": "A DATA.GOV.HK-class open data catalogue",
        "site_url": site_url,
        "ckan_version": CKAN_VERSION,
        "error_emails_to": Value::Null,
        "locale_default": "en",
        "extensions": [],
    })
}

/// `package_search`'s answer: the count, the page of package dictionaries, the facets in
/// CKAN's two shapes (`facets`, deprecated, and `search_facets`), and the sort used.
pub fn search_result(found: &crate::search::SearchResult, sort: &str) -> Value {
    let mut facets = Map::new();
    let mut search_facets = Map::new();
    for (field, items) in &found.facets {
        let counts: Map<String, Value> = items
            .iter()
            .map(|i| (i.name.clone(), Value::from(i.count)))
            .collect();
        facets.insert(field.name().to_owned(), Value::Object(counts));
        let items: Vec<Value> = items
            .iter()
            .map(|i| json!({ "name": i.name, "display_name": i.display_name, "count": i.count }))
            .collect();
        search_facets.insert(
            field.name().to_owned(),
            json!({ "title": field.name(), "items": items }),
        );
    }
    json!({
        "count": found.count,
        "results": found.results,
        "facets": facets,
        "search_facets": search_facets,
        "sort": sort,
    })
}

/// The URL of an action's documentation, CKAN's `help`.
pub fn help_url(site_url: &str, action: &str) -> String {
    format!("{site_url}/api/3/action/help_show?name={action}")
}

pub fn success(help: &str, result: Value) -> Value {
    json!({ "help": help, "success": true, "result": result })
}

/// CKAN's validation error dictionary: `{field: [messages]}`, a resource's faults in a list of
/// dictionaries at its position (`resources: [{}, {"url": [...]}]`).
pub fn validation_dict(faults: &[FieldError]) -> Map<String, Value> {
    let mut out = Map::new();
    for fault in faults {
        let mut path = fault.pointer.trim_start_matches('/').split('/');
        let key = path.next().unwrap_or_default().to_owned();
        let index = path.next().and_then(|i| i.parse::<usize>().ok());
        let field = path.next();
        match (index, field) {
            (Some(i), Some(field)) => {
                let slot = out.entry(key).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = slot {
                    while items.len() <= i {
                        items.push(Value::Object(Map::new()));
                    }
                    if let Some(Value::Object(item)) = items.get_mut(i) {
                        push_message(item, field, &fault.detail);
                    }
                }
            }
            _ => push_message(&mut out, &key, &fault.detail),
        }
    }
    out
}

fn push_message(map: &mut Map<String, Value>, key: &str, message: &str) {
    let slot = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = slot {
        items.push(Value::String(message.to_owned()));
    }
}

/// The HTTP status and `error` dictionary CKAN answers an error with.
pub fn error(e: &OpendataError) -> (StatusCode, Value) {
    match e {
        OpendataError::NotFound(detail) if detail.is_empty() => (
            StatusCode::NOT_FOUND,
            json!({ "__type": "Not Found Error", "message": "Not found" }),
        ),
        OpendataError::NotFound(detail) => (
            StatusCode::NOT_FOUND,
            json!({ "__type": "Not Found Error", "message": format!("Not found: {detail}") }),
        ),
        OpendataError::Forbidden(detail) => (
            StatusCode::FORBIDDEN,
            json!({ "__type": "Authorization Error", "message": format!("Access denied: {detail}") }),
        ),
        OpendataError::Invalid(faults) => {
            let mut dict = validation_dict(faults);
            dict.insert("__type".into(), json!("Validation Error"));
            (StatusCode::CONFLICT, Value::Object(dict))
        }
        OpendataError::Exists(_) => (
            StatusCode::CONFLICT,
            json!({ "__type": "Validation Error", "name": ["That URL is already in use."] }),
        ),
        OpendataError::SearchQuery(detail) => (
            StatusCode::BAD_REQUEST,
            json!({ "__type": "Search Query Error",
                    "message": format!("Search Query is invalid: ({},)", python_repr(detail)) }),
        ),
        OpendataError::Search(detail) => (
            StatusCode::CONFLICT,
            json!({ "__type": "Search Error",
                    "message": format!("Search error: ({},)", python_repr(detail)) }),
        ),
        OpendataError::Store(_) | OpendataError::Io(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "__type": "Internal Server Error", "message": "Internal Server Error" }),
        ),
    }
}

/// A text as Python's `repr` writes it: CKAN's search errors show their arguments so.
fn python_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

pub fn failure(help: &str, error: Value) -> Value {
    json!({ "help": help, "success": false, "error": error })
}
