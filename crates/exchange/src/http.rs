//! The exchange's public reference API under `/api/v1/exchange`: the participants directory
//! (the trust list, with each participant's published keys), the data products with their
//! JSON Schemas, and the gateway's own keys (which sign consent artefacts and audit
//! checkpoints). Everything here is public: it is what a participant needs to verify the
//! others.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::{ErrorCode, Localized, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::directory::{now_s, Licence, Participant, ParticipantFilter, Role, Status};
use crate::products::{ListedProduct, ProductId};
use crate::Exchange;

const TAG: &str = "exchange";

pub fn router(exchange: Arc<Exchange>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_exchange_participants))
        .routes(routes!(get_exchange_participant))
        .routes(routes!(list_exchange_products))
        .routes(routes!(exchange_product_schema))
        .routes(routes!(exchange_jwks))
        .with_state(exchange)
}

/// A participant as the directory publishes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantDoc {
    pub id: String,
    pub name: Localized,
    /// `provider`, `consumer` or `both`.
    pub roles: String,
    /// `bank`, `digital_bank`, `stored_value_facility`, `virtual_insurer`,
    /// `virtual_asset_platform`, `government_department` or `commercial_data_provider`.
    pub licence: String,
    /// Its FPS participant code, if it is one.
    pub fps_code: Option<String>,
    /// `active` or `suspended`.
    pub status: String,
    /// The data products it provides.
    pub provides: Vec<String>,
    /// Its published keys (JWKS): current ones and replaced ones still verifying.
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
}

impl ParticipantDoc {
    pub(crate) fn from_participant(p: &Participant, now_s: i64) -> ParticipantDoc {
        ParticipantDoc {
            id: p.id.as_str().to_owned(),
            name: p.name.clone(),
            roles: p.roles.as_str().to_owned(),
            licence: p.licence.as_str().to_owned(),
            fps_code: p.fps_code.clone(),
            status: p.status.as_str().to_owned(),
            provides: p.provides.iter().map(|id| id.as_str().to_owned()).collect(),
            jwks: serde_json::to_value(p.jwks(now_s)).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ParticipantsQuery {
    /// `provider` or `consumer`: participants that may act so.
    pub role: Option<String>,
    /// A licence type, e.g. `bank`.
    pub licence: Option<String>,
    /// `active` or `suspended`.
    pub status: Option<String>,
}

fn invalid(detail: String) -> Problem {
    Problem::new(ErrorCode::InvalidQuery).detail(detail)
}

impl ParticipantsQuery {
    fn filter(&self) -> Result<ParticipantFilter, Problem> {
        fn parsed<T>(
            name: &str,
            value: Option<&str>,
            parse: impl Fn(&str) -> Option<T>,
        ) -> Result<Option<T>, Problem> {
            value
                .map(|v| parse(v).ok_or_else(|| invalid(format!("{name}: unknown value {v:?}"))))
                .transpose()
        }
        Ok(ParticipantFilter {
            role: parsed("role", self.role.as_deref(), Role::parse)?,
            licence: parsed("licence", self.licence.as_deref(), Licence::parse)?,
            status: parsed("status", self.status.as_deref(), Status::parse)?,
        })
    }
}

/// The participants directory: who may provide or consume data, with their keys.
#[utoipa::path(get, path = "/api/v1/exchange/participants", tag = TAG, params(ParticipantsQuery),
    responses((status = 200, body = Vec<ParticipantDoc>),
        (status = 400, description = "An unknown filter value (`request.invalid_query`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn list_exchange_participants(
    State(exchange): State<Arc<Exchange>>,
    q: Result<Query<ParticipantsQuery>, QueryRejection>,
) -> Result<Json<Vec<ParticipantDoc>>, Problem> {
    let Query(q) = q.map_err(|e| invalid(e.body_text()))?;
    let now = now_s();
    let listed = exchange.directory().list(&q.filter()?).await?;
    Ok(Json(
        listed
            .iter()
            .map(|p| ParticipantDoc::from_participant(p, now))
            .collect(),
    ))
}

/// One participant of the directory.
#[utoipa::path(get, path = "/api/v1/exchange/participants/{participant}", tag = TAG,
    params(("participant" = String, Path, description = "The participant's id, e.g. `bank-004`.")),
    responses((status = 200, body = ParticipantDoc),
        (status = 404, description = "No such participant (`exchange.participant_not_found`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn get_exchange_participant(
    State(exchange): State<Arc<Exchange>>,
    Path(id): Path<String>,
) -> Result<Json<ParticipantDoc>, Problem> {
    let participant = exchange.directory().get(&id).await?;
    Ok(Json(ParticipantDoc::from_participant(
        &participant,
        now_s(),
    )))
}

/// A data product and who provides it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDoc {
    /// E.g. `iads.balance`.
    pub id: String,
    /// `CDEG`, `CDI` or `IADS`.
    pub system: String,
    pub name: Localized,
    /// The active participants that provide it.
    pub providers: Vec<String>,
    /// Where its JSON Schema is.
    pub schema: String,
}

impl ProductDoc {
    fn from_listed(p: &ListedProduct) -> ProductDoc {
        let id = p.product.id.as_str();
        ProductDoc {
            id: id.to_owned(),
            system: p.product.system.as_str().to_owned(),
            name: p.product.name.clone(),
            providers: p.providers.clone(),
            schema: format!("/api/v1/exchange/products/{id}/schema"),
        }
    }
}

/// The data products of CDEG, CDI and IADS.
#[utoipa::path(get, path = "/api/v1/exchange/products", tag = TAG,
    responses((status = 200, body = Vec<ProductDoc>)))]
async fn list_exchange_products(
    State(exchange): State<Arc<Exchange>>,
) -> Result<Json<Vec<ProductDoc>>, Problem> {
    let products = exchange.directory().products().await?;
    Ok(Json(products.iter().map(ProductDoc::from_listed).collect()))
}

/// A data product's JSON Schema (draft 2020-12): what its provider returns, once decrypted.
#[utoipa::path(get, path = "/api/v1/exchange/products/{product}/schema", tag = TAG,
    params(("product" = String, Path, description = "The product's id, e.g. `iads.balance`.")),
    responses((status = 200, description = "The JSON Schema.", body = Object,
         content_type = "application/schema+json"),
        (status = 404, description = "No such product (`exchange.product_not_found`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_product_schema(Path(id): Path<String>) -> Result<Response, Problem> {
    let product = ProductId::parse(&id).ok_or_else(|| {
        Problem::new(ErrorCode::ExchangeProductNotFound).detail(format!("no product {id:?}"))
    })?;
    let mut response = product.schema().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/schema+json"),
    );
    Ok(response)
}

/// The gateway's public keys (JWKS): they sign consent artefacts (`typ` `consent+jwt`) and
/// the audit chain's checkpoints. A retired key stays here while what it signed may be checked.
#[utoipa::path(get, path = "/api/v1/exchange/jwks", tag = TAG,
    responses((status = 200, description = "A JWK Set.", body = Object,
         content_type = "application/jwk-set+json")))]
async fn exchange_jwks(State(exchange): State<Arc<Exchange>>) -> Response {
    let body = serde_json::to_string(&exchange.keys().jwks()).unwrap_or_else(|_| "{}".into());
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    response
}
