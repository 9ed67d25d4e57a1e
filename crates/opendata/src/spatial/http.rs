//! OGC API – Features, Part 1 (Core, GeoJSON) at `/ogc`: the landing page, conformance, the
//! API definition (OpenAPI 3.0), collections, items and single features. Thin: parameters are
//! read by `query`, answers come from the in-memory `index`, and a page of items is written by
//! joining the stored GeoJSON of its features — the hot path parses no feature.
//!
//! Errors use OGC's exception shape (`{"code": …, "description": …}`, as pygeoapi answers)
//! with 400 for a bad parameter, 404 for an unknown collection or feature and 406 for a
//! format not served.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bauhinia_core::FieldError;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::crs::CRS84;
use super::index::{write_features, CollectionMeta, Layer};
use super::query::{self, ItemsQuery};
use crate::service::OpenData;

pub const GEOJSON: &str = "application/geo+json";
pub const JSON: &str = "application/json";
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The conformance classes implemented, and only those.
pub const CONFORMANCE: [&str; 3] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

pub fn router(open: Arc<OpenData>) -> Router {
    Router::new()
        .route("/ogc", get(landing))
        .route("/ogc/", get(landing))
        .route("/ogc/conformance", get(conformance))
        .route("/ogc/api", get(api))
        .route("/ogc/collections", get(collections))
        .route("/ogc/collections/{id}", get(collection))
        .route("/ogc/collections/{id}/items", get(items))
        .route("/ogc/collections/{id}/items/{feature}", get(feature))
        .with_state(open)
}

fn base(open: &OpenData) -> String {
    format!("{}/ogc", open.site_url())
}

fn body(status: StatusCode, media: &'static str, bytes: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        bytes,
    )
        .into_response()
}

fn json_body(value: &Value) -> Response {
    body(
        StatusCode::OK,
        JSON,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

/// OGC's exception document.
pub fn exception(status: StatusCode, code: &str, description: &str) -> Response {
    let value = json!({ "code": code, "type": code, "description": description });
    body(status, JSON, serde_json::to_vec(&value).unwrap_or_default())
}

/// Why a request is refused.
#[derive(Debug)]
enum Refusal {
    Invalid(Vec<FieldError>),
    NotFound(String),
    NotAcceptable,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Invalid(faults) => invalid(&faults),
            Refusal::NotFound(what) => not_found(&what),
            Refusal::NotAcceptable => not_acceptable(),
        }
    }
}

fn invalid(faults: &[FieldError]) -> Response {
    let description = faults
        .iter()
        .map(|f| format!("{}: {}", f.pointer.trim_start_matches('/'), f.detail))
        .collect::<Vec<_>>()
        .join("; ");
    exception(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        &description,
    )
}

fn not_found(what: &str) -> Response {
    exception(StatusCode::NOT_FOUND, "NotFound", what)
}

/// Whether the caller takes JSON: `f` decides (checked by the parsers); without it, an
/// `Accept` header that names neither JSON nor `*/*` is refused.
fn accepts_json(headers: &HeaderMap, format_given: bool) -> bool {
    if format_given {
        return true;
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    accept.trim().is_empty()
        || accept.contains("json")
        || accept.contains("*/*")
        || accept.contains("application/*")
}

/// The checks every request shares: only `f` as a parameter, and a JSON answer accepted.
fn plain(headers: &HeaderMap, query: Option<&str>) -> Result<(), Refusal> {
    let query = query.unwrap_or_default();
    let format = query::parse_plain(query).map_err(Refusal::Invalid)?;
    if accepts_json(headers, format.is_some()) {
        Ok(())
    } else {
        Err(Refusal::NotAcceptable)
    }
}

fn not_acceptable() -> Response {
    exception(
        StatusCode::NOT_ACCEPTABLE,
        "NotAcceptable",
        "the formats served are application/json and application/geo+json",
    )
}

fn link(href: String, rel: &str, media: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": media, "title": title })
}

async fn landing(
    State(open): State<Arc<OpenData>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = plain(&headers, q.as_deref()) {
        return r.into_response();
    }
    let base = base(&open);
    json_body(&json!({
        "title": "Bauhinia spatial data (CSDI): OGC API – Features",
        "description": "The open data catalogue's GeoJSON resources as OGC API – Features collections, in WGS84 (CRS84).",
        "links": [
            link(base.clone(), "self", JSON, "This document"),
            link(format!("{base}/api"), "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(format!("{base}/conformance"), "conformance", JSON, "Conformance classes implemented"),
            link(format!("{base}/collections"), "data", JSON, "The collections"),
        ],
    }))
}

async fn conformance(headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    if let Err(r) = plain(&headers, q.as_deref()) {
        return r.into_response();
    }
    json_body(&json!({ "conformsTo": CONFORMANCE }))
}

async fn api(
    State(open): State<Arc<OpenData>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = plain(&headers, q.as_deref()) {
        return r.into_response();
    }
    let doc = super::openapi::document(&base(&open));
    body(
        StatusCode::OK,
        OPENAPI,
        serde_json::to_vec(&doc).unwrap_or_default(),
    )
}

fn time_text(s: i64) -> Value {
    OffsetDateTime::from_unix_timestamp(s)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

/// A collection's description, as `/collections` and `/collections/{id}` give it.
pub fn collection_doc(base: &str, meta: &CollectionMeta) -> Value {
    let here = format!("{base}/collections/{}", meta.id);
    let mut extent = serde_json::Map::new();
    if let Some(b) = meta.extent {
        extent.insert(
            "spatial".into(),
            json!({ "bbox": [b.as_array()], "crs": CRS84 }),
        );
    }
    if let Some((from, to)) = meta.interval {
        extent.insert(
            "temporal".into(),
            json!({
                "interval": [[time_text(from), time_text(to)]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }),
        );
    }
    json!({
        "id": meta.id,
        "title": meta.title.en,
        "description": meta.description.en,
        "links": [
            link(here.clone(), "self", JSON, "This collection"),
            link(format!("{here}/items"), "items", GEOJSON, "Its features (GeoJSON)"),
        ],
        "extent": extent,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "queryables": meta.queryables,
    })
}

async fn collections(
    State(open): State<Arc<OpenData>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = plain(&headers, q.as_deref()) {
        return r.into_response();
    }
    let base = base(&open);
    let docs: Vec<Value> = open
        .spatial()
        .all()
        .iter()
        .filter(|l| l.is_public())
        .map(|l| collection_doc(&base, &l.meta))
        .collect();
    json_body(&json!({
        "links": [link(format!("{base}/collections"), "self", JSON, "The collections")],
        "collections": docs,
    }))
}

fn layer(open: &OpenData, id: &str) -> Result<Arc<Layer>, Refusal> {
    open.spatial()
        .get_public(id)
        .ok_or_else(|| Refusal::NotFound(format!("no collection {id}")))
}

async fn collection(
    State(open): State<Arc<OpenData>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = plain(&headers, q.as_deref()) {
        return r.into_response();
    }
    match layer(&open, &id) {
        Ok(l) => json_body(&collection_doc(&base(&open), &l.meta)),
        Err(r) => r.into_response(),
    }
}

async fn items(
    State(open): State<Arc<OpenData>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let raw = q.unwrap_or_default();
    let layer = match layer(&open, &id) {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let parsed = match query::parse_items(&raw, &layer.meta.queryables) {
        Ok(p) => p,
        Err(faults) => return invalid(&faults),
    };
    if !accepts_json(&headers, parsed.kept.iter().any(|(k, _)| k == "f")) {
        return not_acceptable();
    }
    let page = layer.items(&parsed);
    let here = format!("{}/collections/{}", base(&open), layer.meta.id);
    let mut out =
        String::with_capacity(page.features.iter().map(|f| f.len() + 1).sum::<usize>() + 1_024);
    write_features(&mut out, &page.features);
    let returned = page.features.len();
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let _ = write!(
        out,
        ",\"numberMatched\":{},\"numberReturned\":{returned},\"timeStamp\":\"{now}\",\"links\":",
        page.matched
    );
    let links = items_links(&here, &parsed, page.matched, returned);
    out.push_str(&serde_json::to_string(&links).unwrap_or_else(|_| "[]".into()));
    out.push('}');
    body(StatusCode::OK, GEOJSON, out.into_bytes())
}

fn items_links(here: &str, q: &ItemsQuery, matched: usize, returned: usize) -> Vec<Value> {
    let href = |offset: Option<u32>| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &q.kept {
            s.append_pair(k, v);
        }
        if let Some(o) = offset {
            s.append_pair("offset", &o.to_string());
        }
        let query = s.finish();
        if query.is_empty() {
            format!("{here}/items")
        } else {
            format!("{here}/items?{query}")
        }
    };
    let offset = q.offset;
    let mut links = vec![
        link(
            href((offset > 0).then_some(offset)),
            "self",
            GEOJSON,
            "This page",
        ),
        link(here.to_owned(), "collection", JSON, "The collection"),
    ];
    let next = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .saturating_add(returned);
    if next < matched {
        if let Ok(next) = u32::try_from(next) {
            links.push(link(href(Some(next)), "next", GEOJSON, "Next page"));
        }
    }
    if offset > 0 {
        let prev = offset.saturating_sub(q.limit);
        links.push(link(href(Some(prev)), "prev", GEOJSON, "Previous page"));
    }
    links
}

async fn feature(
    State(open): State<Arc<OpenData>>,
    Path((id, feature_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = plain(&headers, q.as_deref()) {
        return r.into_response();
    }
    let layer = match layer(&open, &id) {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let Some(stored) = layer.feature(&feature_id) else {
        return not_found(&format!("no feature {feature_id} in collection {id}"));
    };
    let mut value: Value = match serde_json::from_str(stored) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(collection = %id, error = %e, "stored feature is not JSON");
            return exception(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServerError",
                "stored feature unreadable",
            );
        }
    };
    let here = format!("{}/collections/{}", base(&open), layer.meta.id);
    let encoded: String = form_urlencoded::byte_serialize(feature_id.as_bytes()).collect();
    if let Value::Object(map) = &mut value {
        map.insert(
            "links".into(),
            json!([
                link(
                    format!("{here}/items/{}", encoded.replace('+', "%20")),
                    "self",
                    GEOJSON,
                    "This feature"
                ),
                link(here, "collection", JSON, "The collection"),
            ]),
        );
    }
    body(
        StatusCode::OK,
        GEOJSON,
        serde_json::to_vec(&value).unwrap_or_default(),
    )
}
