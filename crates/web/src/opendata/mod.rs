//! 開放數據 Open data in the portal: search with facets, and a page per dataset with its
//! resources, a preview of the first rows of a table (from the datastore), and the links to use
//! it through the APIs. Every page reads the catalogue through `OpenData`, as an anonymous
//! caller: what the portal shows is exactly what the public API gives.

mod texts;

use std::sync::Arc;

use askama::Template;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bauhinia_core::{Lang, Problem};
use bauhinia_opendata::datastore::table::Cell;
use bauhinia_opendata::domain::{quality, Format};
use bauhinia_opendata::service::Package;
use bauhinia_opendata::{OpenData, OpendataError};

pub use self::texts::OpenDataTexts;
use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::{path_and_query, render};

mod search;
use self::search::search;

/// Rows of a table shown on a dataset's page.
pub const PREVIEW_ROWS: u32 = 20;
/// Columns of a table shown on a dataset's page; the rest are in the downloads.
pub const PREVIEW_COLUMNS: usize = 12;

#[derive(Debug, Clone)]
pub struct OpenDataPortalState {
    pub open: Arc<OpenData>,
}

pub fn router(state: OpenDataPortalState) -> Router {
    Router::new()
        .route("/opendata", get(search))
        .route("/opendata/dataset/{name}", get(dataset))
        .with_state(state)
}

fn page(prefs: Prefs, title: &str, uri: &axum::http::Uri) -> Page {
    Page::new(prefs, title, Section::OpenData, path_and_query(uri))
}

/// A link shown under a heading: its text and where it goes.
#[derive(Debug)]
pub struct LinkView {
    pub text: String,
    pub href: String,
}

/// A table's first rows, as text.
#[derive(Debug)]
pub struct PreviewView {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub note: String,
}

#[derive(Debug)]
pub struct ResourceView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub format: &'static str,
    pub url: String,
    pub size: Option<String>,
    pub apis: Vec<LinkView>,
    pub preview: Option<PreviewView>,
}

#[derive(Debug)]
pub struct DatasetView {
    pub name: String,
    pub title: String,
    pub notes: String,
    pub provider: LinkView,
    pub categories: Vec<LinkView>,
    pub tags: Vec<LinkView>,
    pub licence: &'static str,
    pub frequency: &'static str,
    pub temporal: Option<String>,
    pub spatial: String,
    pub modified: String,
    pub resources: Vec<ResourceView>,
    pub package_api: String,
    pub quality_percent: u8,
    /// Each applicable check: what it asks, and whether the dataset passes.
    pub quality: Vec<(&'static str, bool)>,
}

#[derive(Template)]
#[template(path = "opendata_dataset.html")]
struct DatasetTemplate {
    page: Page,
    o: &'static OpenDataTexts,
    d: DatasetView,
}

#[derive(Template)]
#[template(path = "opendata_message.html")]
struct MessageTemplate {
    page: Page,
    o: &'static OpenDataTexts,
    title: &'static str,
    body: &'static str,
}

fn search_link(key: &str, value: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair(key, value);
    format!("/opendata?{}", query.finish())
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn shown_date(at_s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at_s)
        .map(|at| at.to_offset(time::macros::offset!(+8)).date().to_string())
        .unwrap_or_default()
}

fn shown_size(bytes: i64) -> String {
    match bytes {
        b if b < 1_024 => format!("{b} B"),
        b if b < 1_024 * 1_024 => format!("{:.1} KB", b as f64 / 1_024.0),
        b => format!("{:.1} MB", b as f64 / (1_024.0 * 1_024.0)),
    }
}

/// The first rows of a resource's table, when the datastore has them and anyone may read them.
async fn preview(
    open: &OpenData,
    resource_id: &str,
    o: &OpenDataTexts,
    lang: Lang,
) -> Option<PreviewView> {
    let (info, rows) = match open.datastore().first_rows(resource_id, PREVIEW_ROWS).await {
        Ok(found) => found,
        Err(OpendataError::NotFound(_) | OpendataError::Forbidden(_)) => return None,
        Err(e) => {
            tracing::warn!(error = %e, resource_id, "no preview of a resource");
            return None;
        }
    };
    let columns: Vec<String> = info
        .fields
        .iter()
        .take(PREVIEW_COLUMNS)
        .map(|f| f.id.clone())
        .collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .take(PREVIEW_COLUMNS)
                .map(Cell::to_text)
                .collect()
        })
        .collect();
    Some(PreviewView {
        note: o.rows_shown(rows.len(), info.rows, lang),
        columns,
        rows,
    })
}

/// The first features of a GeoJSON resource's public OGC collection, as a table: id,
/// longitude and latitude (of a point; blank otherwise), then the first feature's properties.
/// Also the collection's id, for the API link.
fn feature_preview(
    open: &OpenData,
    resource_id: &str,
    o: &OpenDataTexts,
    lang: Lang,
) -> Option<(PreviewView, String)> {
    let layer = open
        .spatial()
        .all()
        .into_iter()
        .find(|l| l.meta.resource_id == resource_id && l.is_public())?;
    let features: Vec<serde_json::Value> = layer
        .first(usize::try_from(PREVIEW_ROWS).unwrap_or(20))
        .into_iter()
        .filter_map(|text| serde_json::from_str(text).ok())
        .collect();
    let keys: Vec<String> = features
        .first()
        .and_then(|f| f.get("properties"))
        .and_then(serde_json::Value::as_object)
        .map(|p| {
            p.keys()
                .take(PREVIEW_COLUMNS.saturating_sub(3))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let text = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let rows = features
        .iter()
        .map(|f| {
            let point = f
                .pointer("/geometry/coordinates")
                .and_then(serde_json::Value::as_array)
                .filter(|c| c.len() >= 2 && c.iter().all(serde_json::Value::is_number));
            let coordinate = |i: usize| {
                point
                    .and_then(|c| c.get(i))
                    .and_then(serde_json::Value::as_f64)
                    .map(|x| format!("{x:.6}"))
                    .unwrap_or_default()
            };
            let mut row = vec![text(f.get("id")), coordinate(0), coordinate(1)];
            let properties = f.get("properties");
            row.extend(keys.iter().map(|k| text(properties.and_then(|p| p.get(k)))));
            row
        })
        .collect::<Vec<_>>();
    let mut columns = vec![
        "id".to_owned(),
        "longitude".to_owned(),
        "latitude".to_owned(),
    ];
    columns.extend(keys);
    Some((
        PreviewView {
            note: o.features_shown(rows.len(), layer.len(), lang),
            columns,
            rows,
        },
        layer.meta.id.clone(),
    ))
}

async fn view(open: &OpenData, package: Package, lang: Lang) -> DatasetView {
    let o = OpenDataTexts::get(lang);
    let d = &package.dataset;
    let mut resources = Vec::with_capacity(d.resources.len());
    for r in &d.resources {
        let tabular = matches!(r.format, Format::Csv | Format::Json);
        let mut apis = Vec::new();
        let preview = if tabular {
            preview(open, &r.id, o, lang).await
        } else if r.format == Format::GeoJson {
            feature_preview(open, &r.id, o, lang).map(|(preview, collection)| {
                apis.push(LinkView {
                    text: format!("OGC API – {}", o.features),
                    href: format!("/ogc/collections/{collection}/items?f=json"),
                });
                preview
            })
        } else {
            None
        };
        if tabular && preview.is_some() {
            apis.push(LinkView {
                text: o.data_api.to_owned(),
                href: format!("/api/3/action/datastore_search?resource_id={}", r.id),
            });
            apis.push(LinkView {
                text: o.dump_csv.to_owned(),
                href: format!("/datastore/dump/{}?format=csv", r.id),
            });
            apis.push(LinkView {
                text: o.dump_json.to_owned(),
                href: format!("/datastore/dump/{}?format=json", r.id),
            });
        }
        resources.push(ResourceView {
            id: r.id.clone(),
            name: r.name.get(lang).to_owned(),
            description: r.description.get(lang).to_owned(),
            format: r.format.as_str(),
            url: r.url.clone(),
            size: r.size_bytes.map(shown_size),
            apis,
            preview,
        });
    }
    let quality = quality::assess(d, now_s());
    DatasetView {
        quality_percent: quality.percent(),
        quality: quality
            .checks
            .iter()
            .filter_map(|c| c.passed.map(|p| (texts::criterion(c.criterion, lang), p)))
            .collect(),
        name: d.name.as_str().to_owned(),
        title: d.title.get(lang).to_owned(),
        notes: d.notes.get(lang).to_owned(),
        provider: LinkView {
            text: package.organization.title.get(lang).to_owned(),
            href: search_link("organization", package.organization.name.as_str()),
        },
        categories: package
            .groups
            .iter()
            .map(|g| LinkView {
                text: g.title.get(lang).to_owned(),
                href: search_link("groups", g.name.as_str()),
            })
            .collect(),
        tags: package
            .tags
            .iter()
            .map(|t| LinkView {
                text: t.name.as_str().to_owned(),
                href: search_link("tags", t.name.as_str()),
            })
            .collect(),
        licence: texts::licence(d.licence, lang),
        frequency: texts::frequency(d.frequency, lang),
        temporal: d.temporal.map(|t| match t.to {
            Some(to) => format!("{} – {to}", t.from),
            None => format!("{} – {}", t.from, o.to_date),
        }),
        spatial: d.spatial.clone(),
        modified: shown_date(d.modified_s),
        resources,
        package_api: format!("/api/3/action/package_show?id={}", d.name.as_str()),
    }
}

/// `GET /opendata/dataset/{name}`: a dataset, its resources and their previews.
async fn dataset(
    State(state): State<OpenDataPortalState>,
    Path(name): Path<String>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let o = OpenDataTexts::get(prefs.lang);
    match state.open.package(&name).await {
        Ok(package) => {
            let d = view(&state.open, package, prefs.lang).await;
            render(
                &DatasetTemplate {
                    page: page(prefs, &d.title, &uri),
                    o,
                    d,
                },
                StatusCode::OK,
            )
        }
        Err(OpendataError::NotFound(_) | OpendataError::Forbidden(_)) => render(
            &MessageTemplate {
                page: page(prefs, o.not_found_title, &uri),
                o,
                title: o.not_found_title,
                body: o.not_found_body,
            },
            StatusCode::NOT_FOUND,
        ),
        Err(e) => Problem::internal(&e).into_response(),
    }
}
