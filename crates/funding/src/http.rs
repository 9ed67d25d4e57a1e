//! Funding Easy's HTTP API under `/api/v1/funding`. Handlers extract, call the service or the
//! matcher, and map the result; every route is registered through `utoipa-axum`, so a route
//! cannot exist without its OpenAPI description.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::extract::{ApiJson, ApiLang};
use bauhinia_core::{Problem, ProblemDocument};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalogue::SchemeRecord;
use crate::domain::match_profile;
use crate::service::{FundingError, FundingService};
use crate::wire::{MatchResponse, ProfileRequest, SchemeList, SchemeVersions};

pub type FundingState = Arc<FundingService>;

pub const TAG: &str = "funding";

/// The routes of this crate, with their OpenAPI paths.
pub fn router(service: FundingState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_schemes))
        .routes(routes!(schemes_json))
        .routes(routes!(schemes_csv))
        .routes(routes!(get_scheme))
        .routes(routes!(scheme_versions))
        .routes(routes!(match_schemes))
        .with_state(service)
}

/// Every funding scheme in the catalogue, current versions.
#[utoipa::path(get, path = "/api/v1/funding/schemes", tag = TAG,
    responses((status = 200, description = "The catalogue", body = SchemeList)))]
async fn list_schemes(State(service): State<FundingState>) -> Json<SchemeList> {
    Json(SchemeList::from_catalogue(&service.catalogue()))
}

/// The catalogue as a JSON download (the same document as the list, as an attachment).
#[utoipa::path(get, path = "/api/v1/funding/schemes.json", tag = TAG,
    responses((status = 200, description = "JSON download", body = SchemeList, content_type = "application/json")))]
async fn schemes_json(State(service): State<FundingState>) -> Response {
    let body = Json(SchemeList::from_catalogue(&service.catalogue()));
    (
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"funding-schemes.json\"",
        )],
        body,
    )
        .into_response()
}

/// The catalogue as a CSV download, one row per scheme.
#[utoipa::path(get, path = "/api/v1/funding/schemes.csv", tag = TAG,
    responses((status = 200, description = "CSV download (RFC 4180, UTF-8, header row)", body = String, content_type = "text/csv")))]
async fn schemes_csv(State(service): State<FundingState>) -> Result<Response, Problem> {
    let csv = crate::export::to_csv(&service.catalogue()).map_err(|e| Problem::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"funding-schemes.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// One funding scheme, current version.
#[utoipa::path(get, path = "/api/v1/funding/schemes/{id}", tag = TAG,
    params(("id" = String, Path, description = "Scheme id, e.g. new-industrialisation-funding")),
    responses(
        (status = 200, description = "The scheme", body = SchemeRecord),
        (status = 404, description = "No such scheme", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_scheme(
    State(service): State<FundingState>,
    Path(id): Path<String>,
) -> Result<Json<SchemeRecord>, Problem> {
    let catalogue = service.catalogue();
    let entry = catalogue.get(&id).ok_or(FundingError::SchemeNotFound(id))?;
    Ok(Json(entry.record.clone()))
}

/// Every published version of one scheme, oldest first.
#[utoipa::path(get, path = "/api/v1/funding/schemes/{id}/versions", tag = TAG,
    params(("id" = String, Path, description = "Scheme id")),
    responses(
        (status = 200, description = "The versions", body = SchemeVersions),
        (status = 404, description = "No such scheme", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn scheme_versions(
    State(service): State<FundingState>,
    Path(id): Path<String>,
) -> Result<Json<SchemeVersions>, Problem> {
    let versions = service.versions(&id).await?;
    Ok(Json(SchemeVersions { id, versions }))
}

/// Matches an applicant profile against every scheme: the eligible ones ranked with their
/// maximum grant, the ineligible ones with the rules that excluded them. Names and reasons are
/// in the language of `?lang=` or `Accept-Language` (English by default).
#[utoipa::path(post, path = "/api/v1/funding/match", tag = TAG,
    params(("lang" = Option<bauhinia_core::Lang>, Query, description = "Language of names and reasons")),
    request_body = ProfileRequest,
    responses(
        (status = 200, description = "The match", body = MatchResponse),
        (status = 400, description = "Malformed JSON or bad query", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid profile; `errors` names each field", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn match_schemes(
    State(service): State<FundingState>,
    ApiLang(lang): ApiLang,
    ApiJson(request): ApiJson<ProfileRequest>,
) -> Result<Json<MatchResponse>, Problem> {
    let profile = request.into_profile()?;
    let catalogue = service.catalogue();
    let outcome = match_profile(catalogue.schemes(), &profile);
    Ok(Json(MatchResponse::from_outcome(
        &catalogue, &outcome, lang,
    )))
}
