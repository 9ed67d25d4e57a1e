//! The CKAN Action API's read side at `/api/3/action/{name}` and `/api/action/{name}`, GET
//! with query parameters or POST with a JSON object, answered in CKAN's envelopes. Thin: each
//! action parses its arguments (`action`), asks `OpenData`, and shapes the answer (`ckan`).
//!
//! Not described in the OpenAPI document: this is CKAN's protocol, documented by CKAN, with
//! CKAN's error shapes rather than problem+json.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use crate::action::{self, Action, GroupListArgs, PackageListArgs, Params, ShowArgs, TagListArgs};
use crate::ckan;
use crate::error::OpendataError;
use crate::service::OpenData;

const JSON: &str = "application/json;charset=utf-8";

pub fn router(open: Arc<OpenData>) -> Router {
    Router::new()
        .route("/api/3/action/{name}", get(by_get).post(by_post))
        .route("/api/action/{name}", get(by_get).post(by_post))
        .with_state(open)
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
) -> Response {
    let Some(action) = Action::parse(&name) else {
        return bad_request(&format!("Action name not known: {name}"));
    };
    let params = Params::from_query(query.as_deref().unwrap_or_default());
    respond(&open, action, &params).await
}

async fn by_post(
    State(open): State<Arc<OpenData>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let Some(action) = Action::parse(&name) else {
        return bad_request(&format!("Action name not known: {name}"));
    };
    match Params::from_json(&body) {
        Ok(params) => respond(&open, action, &params).await,
        Err(detail) => bad_request(&format!("JSON Error: {detail}")),
    }
}

async fn respond(open: &OpenData, action: Action, params: &Params) -> Response {
    let help = ckan::help_url(open.site_url(), action.name());
    match run(open, action, params).await {
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

async fn run(open: &OpenData, action: Action, params: &Params) -> Result<Value, OpendataError> {
    match action {
        Action::PackageList => {
            let args = PackageListArgs::parse(params).map_err(OpendataError::Invalid)?;
            Ok(serde_json::json!(
                open.package_names(args.limit, args.offset).await?
            ))
        }
        Action::PackageShow => {
            let args = ShowArgs::parse(params).map_err(OpendataError::Invalid)?;
            Ok(ckan::package(&open.package(&args.id).await?))
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
        Action::HelpShow => {
            let name = action::help_name(params).map_err(OpendataError::Invalid)?;
            let asked = Action::parse(&name)
                .ok_or_else(|| OpendataError::NotFound("Action function not found".into()))?;
            Ok(Value::from(asked.help()))
        }
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
