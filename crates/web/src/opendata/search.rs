//! `GET /opendata`: the catalogue searched, in the visitor's language. The form is a plain GET
//! form, so every search and every filter has an address that can be bookmarked and shared.
//! The words typed are searched as words — each one quoted — never as query syntax, so no
//! input can make the search fail; the filters are the facets' own values.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bauhinia_core::{Lang, Localized, Problem};
use bauhinia_opendata::search::{FacetField, PackageSearchArgs, Viewer};
use serde_json::Value;

use super::{page, OpenDataPortalState, OpenDataTexts};
use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::render;

/// Results on one page.
pub const PAGE_ROWS: u32 = 20;
/// The characters of a description shown under a result.
const EXCERPT_CHARS: usize = 220;
/// A query longer than this is cut.
const QUERY_CHARS_MAX: usize = 200;
/// The facets shown, in this order, with at most this many values each.
const FACETS: [FacetField; 4] = [
    FacetField::Groups,
    FacetField::Organization,
    FacetField::ResFormat,
    FacetField::Tags,
];
const FACET_VALUES_MAX: u32 = 12;

/// What the visitor asked: the words and the chosen facet values.
#[derive(Debug, Default)]
struct Asked {
    q: String,
    filters: Vec<(FacetField, String)>,
    page: u32,
}

impl Asked {
    fn parse(query: &str) -> Asked {
        let mut asked = Asked {
            page: 1,
            ..Asked::default()
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()).take(64) {
            match key.as_ref() {
                "q" => asked.q = value.chars().take(QUERY_CHARS_MAX).collect(),
                "page" => asked.page = value.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                name => {
                    if let Some(field) = FacetField::parse(name) {
                        if !value.is_empty() && asked.filters.len() < 16 {
                            asked.filters.push((field, value.into_owned()));
                        }
                    }
                }
            }
        }
        asked
    }

    /// The address of this search with `change` applied to its filters, from page 1.
    fn link(&self, change: impl FnOnce(&mut Vec<(FacetField, String)>)) -> String {
        let mut filters = self.filters.clone();
        change(&mut filters);
        let mut query = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        for (field, value) in &filters {
            query.append_pair(field.name(), value);
        }
        let query = query.finish();
        if query.is_empty() {
            "/opendata".to_owned()
        } else {
            format!("/opendata?{query}")
        }
    }

    fn page_link(&self, page: u32) -> String {
        let base = self.link(|_| {});
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}page={page}")
    }
}

/// Each word of `q` as a quoted phrase: searched as text, never parsed as syntax.
fn words(q: &str) -> String {
    q.split_whitespace()
        .map(|w| {
            let escaped: String = w.chars().filter(|c| !matches!(c, '"' | '\\')).collect();
            format!("\"{escaped}\"")
        })
        .filter(|w| w.len() > 2)
        .collect::<Vec<_>>()
        .join(" ")
}

fn fq(field: FacetField, value: &str) -> String {
    let escaped: String = value.chars().filter(|c| !matches!(c, '"' | '\\')).collect();
    format!("{}:\"{escaped}\"", field.name())
}

#[derive(Debug)]
pub struct FacetValueView {
    pub label: String,
    pub count: u64,
    pub href: String,
    pub chosen: bool,
}

#[derive(Debug)]
pub struct FacetView {
    pub key: &'static str,
    pub title: &'static str,
    pub values: Vec<FacetValueView>,
}

#[derive(Debug)]
pub struct ResultView {
    pub name: String,
    pub title: String,
    pub provider: String,
    pub excerpt: String,
    pub formats: Vec<String>,
}

#[derive(Debug)]
pub struct ChosenView {
    pub label: String,
    pub remove: String,
}

#[derive(Template)]
#[template(path = "opendata_search.html")]
struct SearchTemplate {
    page: Page,
    o: &'static OpenDataTexts,
    q: String,
    count_text: String,
    results: Vec<ResultView>,
    facets: Vec<FacetView>,
    chosen: Vec<ChosenView>,
    previous: Option<String>,
    next: Option<String>,
}

/// A text of a CKAN dictionary in the visitor's language: English in the standard field, the
/// Chinese texts in `extras` (`title_tc`, `notes_sc`, …) or at the top level.
fn text(dict: &Value, key: &str, lang: Lang) -> String {
    let localized = match lang {
        Lang::ZhHant => format!("{key}_tc"),
        Lang::ZhHans => format!("{key}_sc"),
        Lang::En => key.to_owned(),
    };
    let extra = dict
        .get("extras")
        .and_then(Value::as_array)
        .and_then(|extras| {
            extras
                .iter()
                .find(|e| e.get("key").and_then(Value::as_str) == Some(localized.as_str()))
        })
        .and_then(|e| e.get("value"));
    dict.get(&localized)
        .or(extra)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| dict.get(key).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

fn excerpt(notes: &str) -> String {
    let first = notes.split("\n\n").next().unwrap_or_default();
    let mut out: String = first.chars().take(EXCERPT_CHARS).collect();
    if first.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

fn facet_title(o: &OpenDataTexts, field: FacetField) -> &'static str {
    match field {
        FacetField::Organization => o.facet_organization,
        FacetField::Groups => o.facet_groups,
        FacetField::ResFormat => o.facet_res_format,
        FacetField::Tags => o.facet_tags,
        FacetField::LicenseId => o.facet_license,
    }
}

pub(super) async fn search(
    State(state): State<OpenDataPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = prefs.lang;
    let o = OpenDataTexts::get(lang);
    let asked = Asked::parse(query.as_deref().unwrap_or_default());
    let args = PackageSearchArgs {
        q: words(&asked.q),
        fq: asked.filters.iter().map(|(f, v)| fq(*f, v)).collect(),
        rows: PAGE_ROWS,
        start: (asked.page - 1).saturating_mul(PAGE_ROWS),
        facet: true,
        facet_fields: FACETS.to_vec(),
        facet_limit: Some(FACET_VALUES_MAX),
        ..PackageSearchArgs::default()
    };
    let found = match state.open.search(&args, &Viewer::Anonymous) {
        Ok(found) => found,
        Err(e) => return Problem::internal(&e).into_response(),
    };
    // Providers' and categories' names in the visitor's language.
    let mut names: BTreeMap<(FacetField, String), Localized> = BTreeMap::new();
    if let Ok(orgs) = state.open.organizations().await {
        for org in orgs {
            names.insert(
                (FacetField::Organization, org.item.name.as_str().to_owned()),
                org.item.title,
            );
        }
    }
    if let Ok(groups) = state.open.groups().await {
        for group in groups {
            names.insert(
                (FacetField::Groups, group.item.name.as_str().to_owned()),
                group.item.title,
            );
        }
    }
    let label = |field: FacetField, value: &str, fallback: &str| {
        names
            .get(&(field, value.to_owned()))
            .map(|t| t.get(lang).to_owned())
            .unwrap_or_else(|| fallback.to_owned())
    };
    let facets = found
        .facets
        .iter()
        .map(|(field, items)| FacetView {
            key: field.name(),
            title: facet_title(o, *field),
            values: items
                .iter()
                .map(|item| {
                    let chosen = asked
                        .filters
                        .iter()
                        .any(|(f, v)| f == field && *v == item.name);
                    let href = if chosen {
                        asked.link(|fs| fs.retain(|(f, v)| !(f == field && *v == item.name)))
                    } else {
                        asked.link(|fs| fs.push((*field, item.name.clone())))
                    };
                    FacetValueView {
                        label: label(*field, &item.name, &item.display_name),
                        count: item.count,
                        href,
                        chosen,
                    }
                })
                .collect(),
        })
        .collect();
    let chosen = asked
        .filters
        .iter()
        .map(|(field, value)| ChosenView {
            label: format!(
                "{}: {}",
                facet_title(o, *field),
                label(*field, value, value)
            ),
            remove: asked.link(|fs| fs.retain(|(f, v)| !(f == field && v == value))),
        })
        .collect();
    let results = found
        .results
        .iter()
        .map(|dict| {
            let mut formats: Vec<String> = dict
                .get("resources")
                .and_then(Value::as_array)
                .map(|rs| {
                    rs.iter()
                        .filter_map(|r| r.get("format").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            formats.sort();
            formats.dedup();
            ResultView {
                name: dict
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                title: text(dict, "title", lang),
                provider: dict
                    .get("organization")
                    .and_then(|org| org.get("name"))
                    .and_then(Value::as_str)
                    .map(|name| label(FacetField::Organization, name, name))
                    .unwrap_or_default(),
                excerpt: excerpt(&text(dict, "notes", lang)),
                formats,
            }
        })
        .collect();
    let shown_to = u64::from(asked.page).saturating_mul(u64::from(PAGE_ROWS));
    let title = if asked.q.is_empty() {
        o.title.to_owned()
    } else {
        format!("{} · {}", asked.q, o.title)
    };
    let template = SearchTemplate {
        page: page(prefs, &title, &uri),
        o,
        q: asked.q.clone(),
        count_text: o.count(found.count, lang),
        results,
        facets,
        chosen,
        previous: (asked.page > 1).then(|| asked.page_link(asked.page - 1)),
        next: (shown_to < found.count as u64).then(|| asked.page_link(asked.page + 1)),
    };
    render(&template, StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_are_quoted_never_syntax() {
        assert_eq!(words("交通  空氣"), "\"交通\" \"空氣\"");
        assert_eq!(words("title:( OR \"x"), "\"title:(\" \"OR\" \"x\"");
        assert_eq!(words("\"\" \\"), "");
        assert_eq!(
            fq(FacetField::Groups, "trans\"port"),
            "groups:\"transport\""
        );
    }

    #[test]
    fn links_keep_the_words_and_change_the_filters() {
        let asked = Asked::parse("q=%E4%BA%A4%E9%80%9A&groups=transport&page=3&nonsense=1");
        assert_eq!(asked.page, 3);
        assert_eq!(
            asked.link(|fs| fs.clear()),
            "/opendata?q=%E4%BA%A4%E9%80%9A"
        );
        assert_eq!(
            asked.page_link(2),
            "/opendata?q=%E4%BA%A4%E9%80%9A&groups=transport&page=2"
        );
        assert_eq!(Asked::parse("page=0").page, 1);
    }
}
