//! The CKAN Action API's read side at `/api/3/action/{name}` and `/api/action/{name}`, GET
//! with query parameters or POST with a JSON object, answered in CKAN's envelopes. Thin: each
//! action parses its arguments (`action`), asks `OpenData`, and shapes the answer (`ckan`).
//!
//! Not described in the OpenAPI document: this is CKAN's protocol, documented by CKAN, with
//! CKAN's error shapes rather than problem+json.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use crate::action::{self, Action, GroupListArgs, PackageListArgs, Params, ShowArgs, TagListArgs};
use crate::ckan;
use crate::datastore::query::SearchArgs;
use crate::datastore::store::DUMP_PAGE_ROWS;
use crate::datastore::table::Cell;
use crate::datastore::{self, DumpFormat};
use crate::error::OpendataError;
use crate::feeds;
use crate::http_write::{self, Caller, Refusal};
use crate::publish::Upload;
use crate::service::OpenData;
use crate::token::Publisher;
use bauhinia_core::{ErrorCode, Problem};

const JSON: &str = "application/json;charset=utf-8";

pub fn router(open: Arc<OpenData>) -> Router {
    // Uploads may be larger than the server's default body limit; JSON bodies are read
    // within the catalogue's own limit (`http_write::read_post`).
    let upload_limit = usize::try_from(open.limits().upload_max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    Router::new()
        .route("/api/3/action/{name}", get(by_get).post(by_post))
        .route("/api/action/{name}", get(by_get).post(by_post))
        .route("/datastore/dump/{resource_id}", get(dump))
        .route("/catalog.jsonld", get(dcat_catalog))
        .route("/feeds/dataset.atom", get(atom_feed))
        .layer(DefaultBodyLimit::max(upload_limit))
        .with_state(Arc::clone(&open))
        .merge(http_write::router(Arc::clone(&open)))
        .merge(crate::archive::router(Arc::clone(&open)))
        .merge(crate::spatial::http::router(open))
}

fn answer(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, JSON)], bytes).into_response()
}

/// CKAN's 400: a bare JSON string, not an envelope.
fn bad_request(detail: &str) -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        &Value::String(format!("Bad request - {detail}")),
    )
}

async fn by_get(
    State(open): State<Arc<OpenData>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(action) = Action::parse(&name) else {
        return bad_request(&format!("Action name not known: {name}"));
    };
    if action.is_write() {
        return bad_request("JSON Error: Invalid request. Please use POST method for your request");
    }
    let params = Params::from_query(query.as_deref().unwrap_or_default());
    respond(&open, action, &params, &headers, None).await
}

async fn by_post(
    State(open): State<Arc<OpenData>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let Some(action) = Action::parse(&name) else {
        return bad_request(&format!("Action name not known: {name}"));
    };
    let headers = request.headers().clone();
    match http_write::read_post(&open, request).await {
        Ok((params, upload)) => respond(&open, action, &params, &headers, upload).await,
        Err(Refusal::BadRequest(detail)) => bad_request(&detail),
        Err(Refusal::Error(status, error)) => {
            let help = ckan::help_url(open.site_url(), action.name());
            answer(status, &ckan::failure(&help, error))
        }
    }
}

async fn respond(
    open: &OpenData,
    action: Action,
    params: &Params,
    headers: &HeaderMap,
    upload: Option<Upload>,
) -> Response {
    let help = ckan::help_url(open.site_url(), action.name());
    let presented = crate::token::presented(headers);
    let outcome = match open
        .authenticate(presented.as_deref(), http_write::now_s())
        .await
    {
        Ok(publisher) => {
            let mut caller = Caller { publisher, upload };
            match http_write::run_write(open, action, params, caller.clone_publisher()).await {
                Some(result) => result,
                None => run(open, action, params, caller.publisher.as_ref()).await,
            }
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(result) => answer(StatusCode::OK, &ckan::success(&help, result)),
        Err(e) => {
            if matches!(e, OpendataError::Store(_) | OpendataError::Io(_)) {
                tracing::error!(action = action.name(), error = %e, "open data action failed");
            }
            let (status, error) = ckan::error(&e);
            answer(status, &ckan::failure(&help, error))
        }
    }
}

async fn run(
    open: &OpenData,
    action: Action,
    params: &Params,
    publisher: Option<&Publisher>,
) -> Result<Value, OpendataError> {
    match action {
        Action::PackageList => {
            let args = PackageListArgs::parse(params).map_err(OpendataError::Invalid)?;
            Ok(serde_json::json!(
                open.package_names(args.limit, args.offset).await?
            ))
        }
        Action::PackageShow => {
            let args = ShowArgs::parse(params).map_err(OpendataError::Invalid)?;
            Ok(ckan::package(&open.package_for(&args.id, publisher).await?))
        }
        Action::OrganizationList => {
            let args = GroupListArgs::parse(params).map_err(OpendataError::Invalid)?;
            let orgs = args.page(open.organizations().await?, |o| {
                (
                    o.item.name.as_str(),
                    o.item.title.en.as_str(),
                    o.package_count,
                )
            });
            Ok(list(
                &args,
                &orgs,
                |o| o.item.name.as_str(),
                ckan::organization,
            ))
        }
        Action::OrganizationShow => {
            let args = ShowArgs::parse(params).map_err(OpendataError::Invalid)?;
            let (org, packages) = open.organization(&args.id, args.include_datasets).await?;
            Ok(with_packages(ckan::organization(&org), &args, &packages))
        }
        Action::GroupList => {
            let args = GroupListArgs::parse(params).map_err(OpendataError::Invalid)?;
            let groups = args.page(open.groups().await?, |g| {
                (
                    g.item.name.as_str(),
                    g.item.title.en.as_str(),
                    g.package_count,
                )
            });
            Ok(list(&args, &groups, |g| g.item.name.as_str(), ckan::group))
        }
        Action::GroupShow => {
            let args = ShowArgs::parse(params).map_err(OpendataError::Invalid)?;
            let (group, packages) = open.group(&args.id, args.include_datasets).await?;
            Ok(with_packages(ckan::group(&group), &args, &packages))
        }
        Action::TagList => {
            let args = TagListArgs::parse(params).map_err(OpendataError::Invalid)?;
            let tags = open.tags(args.query.as_deref()).await?;
            Ok(if args.all_fields {
                Value::Array(tags.iter().map(ckan::tag).collect())
            } else {
                Value::Array(tags.iter().map(|t| Value::from(t.name.as_str())).collect())
            })
        }
        Action::PackageSearch => {
            let args = crate::search::PackageSearchArgs::parse(params)?;
            let found = open.search(&args, &crate::search::Viewer::Anonymous)?;
            Ok(ckan::search_result(&found, &args.sort_text))
        }
        Action::StatusShow => Ok(ckan::status(open.site_url())),
        Action::DatastoreSearch => {
            let args = SearchArgs::parse(params).map_err(OpendataError::Invalid)?;
            open.datastore()
                .search(&args, "/api/3/action/datastore_search")
                .await
        }
        Action::DatastoreInfo => {
            let args = ShowArgs::parse(params).map_err(OpendataError::Invalid)?;
            open.datastore().info(&args.id).await
        }
        Action::HelpShow => {
            let name = action::help_name(params).map_err(OpendataError::Invalid)?;
            let asked = Action::parse(&name)
                .ok_or_else(|| OpendataError::NotFound("Action function not found".into()))?;
            Ok(Value::from(asked.help()))
        }
        // The write actions and resource_show: answered by `http_write::run_write`.
        _ => Err(OpendataError::NotFound(String::new())),
    }
}

/// Names, or whole dictionaries with `all_fields`.
fn list<T>(
    args: &GroupListArgs,
    items: &[T],
    name: impl Fn(&T) -> &str,
    dict: impl Fn(&T) -> Value,
) -> Value {
    if args.all_fields {
        Value::Array(items.iter().map(dict).collect())
    } else {
        Value::Array(items.iter().map(|i| Value::from(name(i))).collect())
    }
}

fn with_packages(mut dict: Value, args: &ShowArgs, packages: &[crate::service::Package]) -> Value {
    if let (Value::Object(map), true) = (&mut dict, args.include_datasets) {
        map.insert(
            "packages".into(),
            Value::Array(packages.iter().map(ckan::package).collect()),
        );
    }
    dict
}

/// `/datastore/dump/{resource_id}?format=csv|json`: every row of a resource, `_id` first, as
/// CKAN's dump writes it, streamed a page at a time so a large table is never held whole.
async fn dump(
    State(open): State<Arc<OpenData>>,
    Path(resource_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let format = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "format")
        .map(|(_, value)| value.into_owned());
    let Some(format) = DumpFormat::parse(format.as_deref()) else {
        return Problem::new(ErrorCode::OpendataDumpFormat)
            .detail("format must be csv or json")
            .into_response();
    };
    let info = match open.datastore().readable(&resource_id).await {
        Ok(info) => info,
        Err(OpendataError::NotFound(_)) => {
            return Problem::new(ErrorCode::OpendataDatastoreNotFound).into_response()
        }
        Err(OpendataError::Forbidden(_)) => {
            return Problem::new(ErrorCode::OpendataDatastoreForbidden).into_response()
        }
        Err(e) => return Problem::internal(&e).into_response(),
    };
    let (content_type, extension, opening) = match format {
        DumpFormat::Csv => (
            "text/csv; charset=utf-8",
            "csv",
            datastore::csv_header(&info),
        ),
        DumpFormat::Json => ("application/json", "json", datastore::json_opening(&info)),
    };
    let store = open.datastore().store().clone();
    let first = futures_util::stream::once(async move {
        Ok::<_, OpendataError>(axum::body::Bytes::from(opening))
    });
    // State: the last `_id` sent, whether any row was sent, and whether the table is done.
    let pages = futures_util::stream::unfold(
        (info, 0_i64, false, false),
        move |(info, after, sent, done)| {
            let store = store.clone();
            async move {
                if done {
                    return None;
                }
                let rows = match store.page(&info, after, DUMP_PAGE_ROWS).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::error!(error = %e, "datastore dump failed");
                        return Some((Err(OpendataError::Store(e)), (info, after, sent, true)));
                    }
                };
                let last = rows.last().and_then(|r| match r.first() {
                    Some(Cell::Int(id)) => Some(*id),
                    _ => None,
                });
                let finished = u32::try_from(rows.len()).unwrap_or(u32::MAX) < DUMP_PAGE_ROWS;
                let mut bytes = match format {
                    DumpFormat::Csv => datastore::csv_rows(&rows),
                    DumpFormat::Json => datastore::json_rows(&info, &rows, !sent),
                };
                if finished && format == DumpFormat::Json {
                    bytes.extend_from_slice(b"]}");
                }
                let sent = sent || !rows.is_empty();
                Some((
                    Ok(axum::body::Bytes::from(bytes)),
                    (info, last.unwrap_or(after), sent, finished),
                ))
            }
        },
    );
    let body = axum::body::Body::from_stream(futures_util::StreamExt::chain(first, pages));
    let disposition = format!("attachment; filename=\"{resource_id}.{extension}\"");
    let mut response =
        (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `/catalog.jsonld?page=N`: the DCAT catalogue, 100 datasets a page.
async fn dcat_catalog(State(open): State<Arc<OpenData>>, RawQuery(query): RawQuery) -> Response {
    let page = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "page")
        .map(|(_, value)| value.parse::<u32>().ok().filter(|n| *n >= 1));
    let page = match page {
        None => 1,
        Some(Some(page)) => page,
        Some(None) => {
            return Problem::new(ErrorCode::OpendataCatalogPage)
                .detail("page must be a whole number from 1")
                .into_response()
        }
    };
    let offset = (page - 1).saturating_mul(feeds::CATALOG_PAGE_SIZE);
    let (datasets, total) = match open
        .public_page(false, feeds::CATALOG_PAGE_SIZE, offset)
        .await
    {
        Ok(found) => found,
        Err(e) => return Problem::internal(&e).into_response(),
    };
    let entries = feeds::entries(&datasets);
    let body = feeds::catalog(open.site_url(), &entries, page, total, now_s());
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/ld+json")],
        bytes,
    )
        .into_response()
}

/// `/feeds/dataset.atom`: the 50 most recently changed datasets.
async fn atom_feed(State(open): State<Arc<OpenData>>) -> Response {
    let (datasets, _) = match open.public_page(true, feeds::FEED_ENTRIES, 0).await {
        Ok(found) => found,
        Err(e) => return Problem::internal(&e).into_response(),
    };
    let entries = feeds::entries(&datasets);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        feeds::atom(open.site_url(), &entries),
    )
        .into_response()
}
